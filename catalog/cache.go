package catalog

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// DefaultCacheDir is where remote catalogs are cached: $XDG_CACHE_HOME/uai
// when XDG_CACHE_HOME is set, /var/cache/uai for root, ~/.cache/uai for
// anyone else, and "" (no cache) when none of these can be told.
func DefaultCacheDir() string {
	if d := os.Getenv("XDG_CACHE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "uai")
	}
	if os.Geteuid() == 0 {
		return "/var/cache/uai"
	}
	if home, err := os.UserHomeDir(); err == nil && filepath.IsAbs(home) {
		return filepath.Join(home, ".cache", "uai")
	}
	return ""
}

// cacheEntry is the last good copy of one remote catalog: bytes that were
// verified and parsed when they were stored. The cache is not trusted: an
// entry is verified and parsed again every time it is used, with the keys
// of that run.
type cacheEntry struct {
	Location string `json:"location"`
	// FetchedAt is when the server last confirmed this content (a 200, a
	// 304 Not Modified, or the same OCI manifest digest).
	FetchedAt time.Time `json:"fetched_at"`
	// ETag is the HTTP entity tag of the catalog (https sources).
	ETag string `json:"etag,omitempty"`
	// ManifestDigest is the OCI manifest digest (oci sources).
	ManifestDigest string `json:"manifest_digest,omitempty"`
	Catalog        []byte `json:"catalog"`
	Signature      []byte `json:"signature,omitempty"`
}

// cache stores one JSON file per location, so an entry is replaced in one
// rename and can never pair a new catalog with an old signature.
type cache struct{ dir string }

func (c cache) path(location string) string {
	sum := sha256.Sum256([]byte(location))
	return filepath.Join(c.dir, "catalogs", hex.EncodeToString(sum[:16])+".json")
}

// load returns the entry for location, or nil when there is none or it
// cannot be read (a damaged entry is as good as none).
func (c cache) load(location string) *cacheEntry {
	if c.dir == "" {
		return nil
	}
	f, err := os.Open(c.path(location))
	if err != nil {
		return nil
	}
	defer f.Close()
	var e cacheEntry
	// An entry holds one catalog (base64 makes it 4/3 larger) and its
	// signature.
	data, err := io.ReadAll(io.LimitReader(f, 2*MaxSizeBytes))
	if err != nil || json.Unmarshal(data, &e) != nil || e.Location != location || len(e.Catalog) == 0 {
		return nil
	}
	return &e
}

// store writes the entry atomically.
func (c cache) store(e *cacheEntry) error {
	if c.dir == "" {
		return nil
	}
	p := c.path(e.Location)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("catalog cache: %w; set XDG_CACHE_HOME to a writable directory", err)
	}
	data, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("catalog cache: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".entry-*")
	if err != nil {
		return fmt.Errorf("catalog cache: %w; set XDG_CACHE_HOME to a writable directory", err)
	}
	defer os.Remove(tmp.Name()) // gone after the rename; cleans up after a failure
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("catalog cache %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("catalog cache %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return fmt.Errorf("catalog cache: %w", err)
	}
	return nil
}
