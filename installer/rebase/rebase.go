// Package rebase switches an installed bootc or rpm-ostree system to another edition: it reads bootc status, matches it to the catalog, checks the target and runs bootc switch with typed progress events.
package rebase

import (
	"context"
	"runtime"
	"time"

	"github.com/universal-atomic-installer/uai/catalog"
	"github.com/universal-atomic-installer/uai/installer/host"
)

// RpmOstree is rpm-ostree's CLI, the fallback when bootc refuses to switch
// an rpm-ostree system. It belongs with the other tool names in
// installer/host/tools.go.
const RpmOstree host.Tool = "rpm-ostree"

// Method is the program that moves the system to the new image.
type Method string

// Methods. Auto is bootc switch, falling back to rpm-ostree rebase when
// bootc refuses an rpm-ostree system before pulling anything.
const (
	MethodAuto      Method = "auto"
	MethodBootc     Method = "bootc"
	MethodRpmOstree Method = "rpm-ostree"
)

// ImageFacts is what a look-up says about a target image before any byte
// of it is pulled.
type ImageFacts struct {
	Ref string `json:"ref"`
	// Digest is the manifest digest for this machine's architecture.
	Digest string `json:"digest,omitempty"`
	// Arch is the image's OCI architecture (amd64, arm64).
	Arch string `json:"arch,omitempty"`
	// SizeBytes is the compressed download size; 0 when unknown.
	SizeBytes int64 `json:"size_bytes,omitempty"`
	// Bootable is true when the labels mark a bootc image
	// (containers.bootc=1 or ostree.bootable=true).
	Bootable bool `json:"bootable"`
	// Version is the image's version label, when it has one.
	Version string            `json:"version,omitempty"`
	Labels  map[string]string `json:"labels,omitempty"`
	// Notes are the look-up's own remarks (a stale image, a tag that
	// moved); the plan shows them as warnings.
	Notes []string `json:"notes,omitempty"`
}

// Checker looks up a target image for the given OCI architecture: in a
// registry, an offline table or the simulator. It is declared here, by
// its consumer, so the registry client stays out of the engine.
type Checker func(ctx context.Context, ref, arch string) (ImageFacts, error)

// Rebooter restarts the machine and says how it asked.
type Rebooter interface {
	Reboot(ctx context.Context) (string, error)
}

// Engine switches this machine's edition. The zero values of the
// optional fields are usable.
type Engine struct {
	// Runner runs bootc (and rpm-ostree); in demo mode it maps bootc to
	// the built-in simulator.
	Runner  host.Runner
	Catalog *catalog.Catalog
	// Check looks up a target before switching; nil skips the look-up and
	// says so in a warning (bootc then finds out while pulling).
	Check Checker
	// Power reboots after staging (--apply, or the TUI's offer).
	Power Rebooter
	// Arch is the machine's OCI architecture; empty means runtime.GOARCH.
	Arch string
	// PolicyPath is the containers signature policy; empty means
	// /etc/containers/policy.json.
	PolicyPath string
	// Env is added to every command's environment (the simulator's knobs).
	Env []string
	// Simulated marks a run against the built-in simulator: events say
	// so, and a reboot only moves the simulator's deployments.
	Simulated bool
	// Method forces a method; empty is MethodAuto.
	Method Method
	// Now is the clock of events (default time.Now).
	Now func() time.Time
}

// DefaultPolicyPath is where containers/image reads its signature policy.
const DefaultPolicyPath = "/etc/containers/policy.json"

func (e *Engine) arch() string {
	if e.Arch != "" {
		return e.Arch
	}
	return runtime.GOARCH
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Engine) method() Method {
	if e.Method == "" {
		return MethodAuto
	}
	return e.Method
}

func (e *Engine) policyPath() string {
	if e.PolicyPath != "" {
		return e.PolicyPath
	}
	return DefaultPolicyPath
}

func (e *Engine) command(c host.Command) host.Command {
	c.Env = append(append([]string(nil), c.Env...), e.Env...)
	return c
}
