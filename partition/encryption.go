package partition

import (
	"crypto/sha256"
	"fmt"
	"strings"
)

// Encryption is the LUKS2 setup of a layout's encrypted partitions (root).
// The passphrase travels with it in memory only: it is not a JSON field,
// so plans, their hashes, events and receipts never hold it.
type Encryption struct {
	// Type is "luks2".
	Type string `json:"type"`
	// UUID is the LUKS UUID the volume is created with. It is chosen when
	// planning because the target's kernel arguments name it.
	UUID string `json:"uuid"`
	// TPM2 also enrols the machine's TPM2 (systemd-cryptenroll), so boot
	// needs no typing; the passphrase stays as the recovery passphrase.
	TPM2 bool `json:"tpm2"`
	// PassphraseSet records that a passphrase was given, never its value.
	PassphraseSet bool `json:"passphrase_set"`

	// secret is a pointer so that printing an Encryption (or a plan that
	// holds one) with %v shows an address, never the passphrase.
	secret *secret
}

type secret struct{ v []byte }

// NewEncryption describes a LUKS2 volume with the given UUID, unlocked by
// passphrase and, with tpm2, also by the TPM2.
func NewEncryption(uuid string, tpm2 bool, passphrase string) *Encryption {
	e := &Encryption{Type: "luks2", UUID: strings.ToLower(uuid), TPM2: tpm2, PassphraseSet: passphrase != ""}
	if passphrase != "" {
		e.secret = &secret{v: []byte(passphrase)}
	}
	return e
}

// Passphrase returns the passphrase, and false when this value has none
// (for example a plan read back from JSON).
func (e *Encryption) Passphrase() ([]byte, bool) {
	if e == nil || e.secret == nil {
		return nil, false
	}
	return e.secret.v, true
}

// MapperName is the device-mapper name of the opened volume: the one
// systemd gives it at boot (luks-<uuid>), so the install sees the same.
func (e *Encryption) MapperName() string { return "luks-" + e.UUID }

// Kargs are the kernel arguments the installed system needs to unlock
// the layout's encrypted volume in the initramfs.
func (l Layout) Kargs() []string {
	e := l.Encryption
	if e == nil {
		return nil
	}
	k := []string{"rd.luks.uuid=" + e.UUID}
	if e.TPM2 {
		k = append(k, "rd.luks.options="+e.UUID+"=tpm2-device=auto")
	}
	return k
}

// DeriveUUID makes a UUID from seed strings: the same seeds always give
// the same UUID, so a plan stays a pure, hashable value. It sets the
// RFC 9562 version 8 ("custom") bits, which is what such a UUID is.
func DeriveUUID(seed ...string) string {
	h := sha256.Sum256([]byte(strings.Join(seed, "\x00")))
	b := h[:16]
	b[6] = b[6]&0x0f | 0x80
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func (e *Encryption) validate() error {
	if e == nil {
		return nil
	}
	if e.Type != "luks2" {
		return fmt.Errorf("encryption type %q is not supported; use luks2", e.Type)
	}
	if !isGUID(e.UUID) {
		return fmt.Errorf("encryption UUID %q is not a UUID", e.UUID)
	}
	if !e.PassphraseSet {
		return fmt.Errorf("encryption needs a passphrase (with TPM2 it is the recovery passphrase); set one")
	}
	return nil
}
