package catalog

import (
	"embed"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"

	"aead.dev/minisign"
)

// keyFiles holds the project's trusted catalog keys (keys/*.pub). The
// directory also holds a README, so that the embed pattern matches even
// while the key list is empty.
//
//go:embed keys
var keyFiles embed.FS

// Key is a minisign public key that remote catalogs may be signed with.
type Key struct {
	// ID is the key id as minisign prints it: 16 hex digits.
	ID string `json:"id"`
	// Origin says where the key came from: "embedded keys/NAME.pub", a
	// file path, or "--catalog-key".
	Origin string `json:"origin"`

	pub minisign.PublicKey
}

// maxKeyFile bounds a key file read: a minisign public key file is about
// 110 bytes, so anything much larger is not one.
const maxKeyFile = 4 << 10

// EmbeddedKeys returns the keys compiled into uai (catalog/keys/*.pub).
func EmbeddedKeys() []Key {
	keys, err := embeddedKeys(keyFiles)
	if err != nil {
		// The files are part of the source tree and a test parses them, so
		// this only fires for a build that skipped the tests.
		panic("catalog: an embedded key is invalid (a build bug): " + err.Error())
	}
	return keys
}

func embeddedKeys(fsys embed.FS) ([]Key, error) {
	entries, err := fsys.ReadDir("keys")
	if err != nil {
		return nil, err
	}
	var keys []Key
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".pub") {
			continue
		}
		name := path.Join("keys", e.Name())
		data, err := fsys.ReadFile(name)
		if err != nil {
			return nil, err
		}
		k, err := parseKeyText(data, "embedded "+name)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// ParseKey reads one --catalog-key value: the path of a minisign public key
// file, or the key itself (the "RW..." line of such a file). A file of that
// name wins; base64 has "/" in it, so a key can look like a path.
func ParseKey(value string) (Key, error) {
	v := strings.TrimSpace(value)
	if _, err := os.Stat(value); err != nil && strings.HasPrefix(v, "RW") {
		return parseKeyText([]byte(v), "--catalog-key")
	}
	f, err := os.Open(value)
	if err != nil {
		return Key{}, fmt.Errorf("catalog key %q: %w: %w; give the path of a minisign .pub file or the key itself (the line starting with RW)", value, ErrBadKey, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return Key{}, fmt.Errorf("catalog key %s: %w: %w", value, ErrBadKey, err)
	}
	if len(data) > maxKeyFile {
		return Key{}, fmt.Errorf("catalog key %s: %w: the file is larger than %d bytes, so it is not a minisign public key; give the .pub file", value, ErrBadKey, maxKeyFile)
	}
	return parseKeyText(data, value)
}

func parseKeyText(data []byte, origin string) (Key, error) {
	var pub minisign.PublicKey
	if err := pub.UnmarshalText([]byte(strings.TrimSpace(string(data)))); err != nil {
		if strings.Contains(string(data), "secret key") {
			return Key{}, fmt.Errorf("catalog key %s: %w: this is a minisign secret key; give the public key (the .pub file) and keep the secret key private", origin, ErrBadKey)
		}
		return Key{}, fmt.Errorf("catalog key %s: %w (%v); give a minisign public key: the .pub file, or its line starting with RW", origin, ErrBadKey, err)
	}
	return Key{ID: keyID(pub.ID()), Origin: origin, pub: pub}, nil
}

// TrustedKeys returns the embedded keys followed by the keys the values
// name (see ParseKey), without duplicates.
func TrustedKeys(values []string) ([]Key, error) {
	keys := EmbeddedKeys()
	for _, v := range values {
		k, err := ParseKey(v)
		if err != nil {
			return nil, err
		}
		if !slices.ContainsFunc(keys, func(o Key) bool { return o.pub.Equal(k.pub) }) {
			keys = append(keys, k)
		}
	}
	return keys, nil
}

func keyID(id uint64) string { return fmt.Sprintf("%016X", id) }

// signature is the result of a successful check.
type signature struct {
	key     Key
	comment string // the trusted (signed) comment
}

// verify checks a minisign signature of data. The key id in the signature
// only picks the candidate key; the Ed25519 check decides. Messages name
// what to do: refetch, or trust the publisher's key.
func verify(what string, data, sig []byte, keys []Key) (signature, error) {
	if len(sig) == 0 {
		return signature{}, fmt.Errorf("catalog %s is %w: it has no catalog.json.minisig; ask the publisher to sign it, or pass --insecure-catalog to use it unverified", what, ErrUnsigned)
	}
	var s minisign.Signature
	if err := s.UnmarshalText(sig); err != nil {
		return signature{}, fmt.Errorf("catalog %s: %w: its signature file is not a minisign signature (%v); refetch it, or ask the publisher to sign the catalog again", what, ErrBadSignature, err)
	}
	i := slices.IndexFunc(keys, func(k Key) bool { return k.pub.ID() == s.KeyID })
	if i < 0 {
		return signature{}, fmt.Errorf("catalog %s is %w: the signature's key id is %s, and uai trusts %s; pass the publisher's public key with --catalog-key if you trust it", what, ErrUnknownKey, keyID(s.KeyID), describeKeys(keys))
	}
	if !minisign.Verify(keys[i].pub, data, sig) {
		return signature{}, fmt.Errorf("catalog %s: %w with key %s (%s): the catalog or its signature was changed after signing; do not use it, refetch both, or tell the publisher", what, ErrBadSignature, keys[i].ID, keys[i].Origin)
	}
	return signature{key: keys[i], comment: s.TrustedComment}, nil
}

func describeKeys(keys []Key) string {
	if len(keys) == 0 {
		return "no keys (none are built in)"
	}
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.ID
	}
	return "only " + strings.Join(ids, ", ")
}
