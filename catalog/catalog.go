// Package catalog reads, validates and serves the catalog of installable bootc editions (apiVersion uai.catalog/v1).
package catalog

import "slices"

// APIVersion is the only catalog format this build reads.
const APIVersion = "uai.catalog/v1"

// Catalog is a parsed, validated catalog.
type Catalog struct {
	APIVersion string    `json:"apiVersion"`
	Editions   []Edition `json:"editions"`
}

// Edition is one installable image.
type Edition struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Category    string `json:"category"`
	Description string `json:"description"`
	// Image is a fully qualified reference with a tag, no transport:
	// "quay.io/fedora/fedora-bootc:44". It is also the --target-imgref.
	Image string `json:"image"`
	// Aliases are other references known to publish the same edition (an
	// older namespace, a mirror), in the same form as Image. They exist so
	// that a booted system whose origin is an alias is recognised as this
	// edition; they are never installed instead of Image.
	Aliases []string `json:"aliases,omitempty"`
	// Digest optionally pins the image ("sha256:<64 hex>").
	Digest string `json:"digest,omitempty"`
	// Arches are OCI architecture names ("amd64", "arm64").
	Arches []string `json:"arches"`
	// Firmware lists "uefi" and/or "bios".
	Firmware []string `json:"firmware"`
	// MinDiskGiB and MinRAMMiB are the edition's minimums.
	MinDiskGiB int `json:"minDiskGiB"`
	MinRAMMiB  int `json:"minRAMMiB"`
	// DefaultFilesystem is xfs, ext4 or btrfs.
	DefaultFilesystem string   `json:"defaultFilesystem"`
	Kargs             []string `json:"kargs,omitempty"`
	// Signature policy: "none" or "sigstore" with a public key.
	Signature  Signature `json:"signature"`
	Homepage   string    `json:"homepage,omitempty"`
	Docs       string    `json:"docs,omitempty"`
	Maintainer string    `json:"maintainer,omitempty"`
	// Maturity is sandbox, incubating or graduated.
	Maturity     string `json:"maturity"`
	MaturityNote string `json:"maturityNote,omitempty"`
	// Source cites where the image ref was confirmed.
	Source string `json:"source,omitempty"`
}

// Signature is an edition's signature policy.
type Signature struct {
	Policy    string `json:"policy"` // "none" or "sigstore"
	PublicKey string `json:"publicKey,omitempty"`
}

// Values of Signature.Policy.
const (
	PolicyNone     = "none"
	PolicySigstore = "sigstore"
)

// Values of Edition.Firmware and Machine.Firmware.
const (
	FirmwareUEFI = "uefi"
	FirmwareBIOS = "bios"
)

// MinDiskBytes is the minimum disk size in bytes.
func (e Edition) MinDiskBytes() uint64 { return uint64(e.MinDiskGiB) << 30 }

// MinRAMBytes is the minimum RAM in bytes.
func (e Edition) MinRAMBytes() uint64 { return uint64(e.MinRAMMiB) << 20 }

// Lookup finds an edition by id.
func (c *Catalog) Lookup(id string) (Edition, bool) {
	for _, e := range c.Editions {
		if e.ID == id {
			return e, true
		}
	}
	return Edition{}, false
}

// Clone returns a deep copy, so that a caller may change its catalog without
// changing anyone else's (Embedded hands out clones of one parsed value).
func (c *Catalog) Clone() *Catalog {
	if c == nil {
		return nil
	}
	out := &Catalog{APIVersion: c.APIVersion, Editions: make([]Edition, len(c.Editions))}
	for i, e := range c.Editions {
		e.Aliases = slices.Clone(e.Aliases)
		e.Arches = slices.Clone(e.Arches)
		e.Firmware = slices.Clone(e.Firmware)
		e.Kargs = slices.Clone(e.Kargs)
		out.Editions[i] = e
	}
	return out
}
