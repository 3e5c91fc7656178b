package bootc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/universal-atomic-installer/uai/installer/host"
)

// The types below are bootc's Host (crates/lib/src/spec.rs,
// docs/src/host-v1.schema.json) as `bootc status --format=json
// --format-version=1` prints it. Unknown fields are ignored because bootc
// adds fields without bumping the format version; every field uai reads
// is listed here.

// StatusAPIVersion is the apiVersion of the only status format read here.
const StatusAPIVersion = "org.containers.bootc/v1"

// StatusKind is the kind of bootc's status document.
const StatusKind = "BootcHost"

// Host is the whole status document.
type Host struct {
	APIVersion string     `json:"apiVersion"`
	Kind       string     `json:"kind"`
	Metadata   Metadata   `json:"metadata"`
	Spec       HostSpec   `json:"spec"`
	Status     HostStatus `json:"status"`
}

// Metadata is the document's metadata; bootc always names it "host".
type Metadata struct {
	Name string `json:"name"`
}

// HostSpec is what the host should boot: the image updates come from.
type HostSpec struct {
	// Image is nil when the booted deployment tracks no container image
	// (an ostree refspec, as pre-container Silverblue did).
	Image *ImageReference `json:"image"`
	// BootOrder is "default" or "rollback" (a queued rollback).
	BootOrder string `json:"bootOrder"`
}

// HostStatus is what the host has: its deployments.
type HostStatus struct {
	Staged   *BootEntry `json:"staged"`
	Booted   *BootEntry `json:"booted"`
	Rollback *BootEntry `json:"rollback"`
	// OtherDeployments are pinned or extra deployments (omitted when none).
	OtherDeployments []BootEntry `json:"otherDeployments,omitempty"`
	RollbackQueued   bool        `json:"rollbackQueued"`
	// Type is "bootcHost", or empty (JSON null) when the host is not
	// managed by bootc (not booted via ostree, or an rpm-ostree origin).
	Type       string      `json:"type"`
	UsrOverlay *UsrOverlay `json:"usrOverlay"`
	// ReadOnly is true when the physical root is read-only media (a live ISO).
	ReadOnly bool `json:"readOnly"`
}

// UsrOverlay is a transient or persistent writable /usr (bootc usr-overlay).
type UsrOverlay struct {
	AccessMode  string `json:"accessMode"`
	Persistence string `json:"persistence"`
}

// BootEntry is one deployment.
type BootEntry struct {
	// Image is nil for a deployment that does not come from a container
	// image (an rpm-ostree/ostree origin).
	Image *ImageStatus `json:"image"`
	// CachedUpdate is an update already fetched by `bootc upgrade --check`.
	CachedUpdate *ImageStatus `json:"cachedUpdate"`
	// Incompatible means the deployment carries rpm-ostree local state
	// (layered packages, overrides): rpm-ostree must be used to change it.
	Incompatible      bool             `json:"incompatible"`
	Pinned            bool             `json:"pinned"`
	SoftRebootCapable bool             `json:"softRebootCapable"`
	DownloadOnly      bool             `json:"downloadOnly"`
	Store             string           `json:"store"`
	Ostree            *OstreeStatus    `json:"ostree"`
	Composefs         *ComposefsStatus `json:"composefs"`
}

// ImageStatus is the image a deployment was made from.
type ImageStatus struct {
	Image ImageReference `json:"image"`
	// Version is the image's version label; empty when bootc printed null.
	Version string `json:"version"`
	// Timestamp is the image's creation time; nil when unknown.
	Timestamp *time.Time `json:"timestamp"`
	// ImageDigest is the manifest digest ("sha256:..."); on the composefs
	// backend it is currently the image ID (bootc-dev/bink#90).
	ImageDigest string `json:"imageDigest"`
	// Architecture uses OCI names (amd64, arm64), not uname -m.
	Architecture string `json:"architecture"`
}

// ImageReference names an image with its transport and signature mode.
type ImageReference struct {
	Image     string `json:"image"`
	Transport string `json:"transport"`
	// Signature is nil for the default mode (unverified but honouring the
	// containers policy).
	Signature *ImageSignature `json:"signature,omitempty"`
}

// Signature kinds of ImageSignature.
const (
	SignatureInsecure        = "insecure"
	SignatureContainerPolicy = "containerPolicy"
	SignatureOstreeRemote    = "ostreeRemote"
)

// ImageSignature is how updates are verified. bootc writes it as a string
// ("insecure", "containerPolicy") or as {"ostreeRemote": "NAME"}.
type ImageSignature struct {
	Kind string
	// OstreeRemote names the ostree remote whose keyring verifies the
	// image (Kind SignatureOstreeRemote), e.g. "fedora".
	OstreeRemote string
}

// UnmarshalJSON reads both spellings of a signature.
func (s *ImageSignature) UnmarshalJSON(b []byte) error {
	var name string
	if err := json.Unmarshal(b, &name); err == nil {
		if name != SignatureInsecure && name != SignatureContainerPolicy {
			return fmt.Errorf("signature %q is not %q, %q or {%q: REMOTE}", name, SignatureInsecure, SignatureContainerPolicy, SignatureOstreeRemote)
		}
		*s = ImageSignature{Kind: name}
		return nil
	}
	var remote struct {
		OstreeRemote *string `json:"ostreeRemote"`
	}
	if err := json.Unmarshal(b, &remote); err != nil || remote.OstreeRemote == nil {
		return fmt.Errorf("signature %s is neither a string nor {%q: REMOTE}", b, SignatureOstreeRemote)
	}
	*s = ImageSignature{Kind: SignatureOstreeRemote, OstreeRemote: *remote.OstreeRemote}
	return nil
}

// MarshalJSON writes the signature the way bootc does.
func (s ImageSignature) MarshalJSON() ([]byte, error) {
	if s.Kind == SignatureOstreeRemote {
		return json.Marshal(map[string]string{SignatureOstreeRemote: s.OstreeRemote})
	}
	return json.Marshal(s.Kind)
}

// String is "insecure", "containerPolicy" or "ostreeRemote:NAME".
func (s *ImageSignature) String() string {
	if s == nil {
		return ""
	}
	if s.Kind == SignatureOstreeRemote {
		return s.Kind + ":" + s.OstreeRemote
	}
	return s.Kind
}

// OstreeStatus places a deployment in the ostree repository.
type OstreeStatus struct {
	Stateroot    string `json:"stateroot"`
	Checksum     string `json:"checksum"`
	DeploySerial int    `json:"deploySerial"`
}

// ComposefsStatus describes a deployment on the composefs backend.
type ComposefsStatus struct {
	Verity               string `json:"verity"`
	BootType             string `json:"bootType"`
	Bootloader           string `json:"bootloader"`
	BootDigest           string `json:"bootDigest"`
	MissingVerityAllowed bool   `json:"missingVerityAllowed"`
}

// String renders a reference as bootc's human status does: the bare name
// for the registry transport, TRANSPORT:NAME otherwise.
func (r ImageReference) String() string {
	if r.Transport == "" || r.Transport == TransportRegistry {
		return r.Image
	}
	return r.Transport + ":" + r.Image
}

// Ref is the entry's image reference, or "" for a deployment that does
// not come from a container image.
func (e *BootEntry) Ref() string {
	if e == nil || e.Image == nil {
		return ""
	}
	return e.Image.Image.String()
}

// OstreeOrigin reports a deployment that tracks an ostree ref rather than
// a container image (rpm-ostree's classic origin).
func (e *BootEntry) OstreeOrigin() bool { return e != nil && e.Image == nil }

// IsBootc reports whether the host is booted through ostree/bootc at all:
// bootc's own test is status.booted != null.
func (h *Host) IsBootc() bool { return h != nil && h.Status.Booted != nil }

// RpmOstree reports signs that the host is an rpm-ostree system in a state
// bootc cannot fully manage: the booted deployment carries local rpm-ostree
// changes (incompatible), or tracks an ostree ref instead of an image.
// bootc itself says there is no sure test for "is rpm-ostree"; these are
// the two it exposes.
func (h *Host) RpmOstree() bool {
	if !h.IsBootc() {
		return false
	}
	b := h.Status.Booted
	return b.Incompatible || b.OstreeOrigin()
}

// StatusArgs is the argv that prints the status this file parses. The
// format is always asked for: without --format bootc prints YAML to a pipe.
func StatusArgs() []string {
	return []string{"status", "--format=json", "--format-version=1"}
}

// StatusCommand runs StatusArgs on the host.
func StatusCommand() host.Command {
	return host.Command{Tool: host.Bootc, Args: StatusArgs()}
}

// ErrNotStatus matches (errors.Is) every ParseStatus error about the
// document's shape, as opposed to JSON syntax.
var ErrNotStatus = errors.New("not a bootc status document")

// ParseStatus reads the output of StatusArgs. It refuses another
// apiVersion or kind rather than misread them.
func ParseStatus(data []byte) (*Host, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, fmt.Errorf("bootc status printed nothing: %w; run `bootc status --format=json --format-version=1` by hand to see why", ErrNotStatus)
	}
	if data[0] != '{' {
		first, _, _ := strings.Cut(string(data), "\n")
		return nil, fmt.Errorf("bootc status printed %q where JSON was expected: %w; this bootc may be too old for --format=json (it needs 0.1.13 or newer)", shorten(first), ErrNotStatus)
	}
	var h Host
	if err := json.Unmarshal(data, &h); err != nil {
		return nil, fmt.Errorf("parse bootc status JSON: %w", err)
	}
	if h.APIVersion != StatusAPIVersion {
		return nil, fmt.Errorf("bootc status has apiVersion %q, want %q: %w; this uai reads format version 1 only", h.APIVersion, StatusAPIVersion, ErrNotStatus)
	}
	if h.Kind != StatusKind {
		return nil, fmt.Errorf("bootc status has kind %q, want %q: %w", h.Kind, StatusKind, ErrNotStatus)
	}
	for _, s := range []struct {
		name string
		e    *BootEntry
	}{{"staged", h.Status.Staged}, {"booted", h.Status.Booted}, {"rollback", h.Status.Rollback}} {
		if s.e != nil && s.e.Image != nil && s.e.Image.Image.Image == "" {
			return nil, fmt.Errorf("bootc status: the %s deployment's image names no image: %w", s.name, ErrNotStatus)
		}
	}
	return &h, nil
}
