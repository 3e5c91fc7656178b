package catalog

import (
	"net/http"
	"time"
)

// ImageInfo is what a registry says about an image for this machine.
type ImageInfo struct {
	// Ref is the reference as asked; Digest the manifest digest of the
	// platform-specific image ("sha256:…").
	Ref    string `json:"ref"`
	Digest string `json:"digest"`
	// IndexDigest is the digest of the multi-arch index, when there is one.
	IndexDigest string `json:"index_digest,omitempty"`
	Arch        string `json:"arch"`
	// SizeBytes is the total compressed size (layers + config).
	SizeBytes int64             `json:"size_bytes"`
	Created   time.Time         `json:"created"`
	Labels    map[string]string `json:"labels,omitempty"`
	// Bootable is true when the labels mark a bootc image
	// (containers.bootc=1/true or ostree.bootable=true/1).
	Bootable bool `json:"bootable"`
}

// ResolveOptions tunes image resolution.
type ResolveOptions struct {
	// Arch is the OCI architecture wanted; empty means this machine's.
	Arch string
	// Transport replaces the HTTP transport (tests, proxies).
	Transport http.RoundTripper
	// Timeout bounds the whole resolution; 0 means a default.
	Timeout time.Duration
}
