package installer

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"github.com/universal-atomic-installer/uai/partition"
)

// PlanVersion is the version of the plan JSON.
const PlanVersion = 1

// Plan is everything a run will do, decided before any disk is touched.
// It is a pure value: printable, comparable and hashable. Nothing random
// or time-dependent belongs in it.
type Plan struct {
	Version int         `json:"version"`
	Edition PlanEdition `json:"edition"`
	// TargetRef is what the installed system updates from (bootc
	// --target-imgref, no transport).
	TargetRef string   `json:"target_ref"`
	Disk      PlanDisk `json:"disk"`
	// Wipe is true when the disk holds data and the user agreed to lose it.
	Wipe       bool             `json:"wipe"`
	Filesystem string           `json:"filesystem"`
	Layout     partition.Layout `json:"layout"`
	// Method is the bootc install method ("to-filesystem").
	Method string `json:"method"`
	// Runner is how bootc runs ("podman"), and why.
	Runner       string `json:"runner"`
	RunnerReason string `json:"runner_reason"`
	// TargetDir is where the new root is mounted during the install.
	TargetDir string   `json:"target_dir"`
	Kargs     []string `json:"kargs,omitempty"`
	// Command is the exact handoff command (program and arguments).
	Command []string `json:"command"`
	// Simulated is true when the built-in bootc simulator stands in for
	// bootc and podman (demo mode).
	Simulated bool `json:"simulated"`
}

// PlanEdition is the chosen edition or custom image.
type PlanEdition struct {
	ID     string `json:"id,omitempty"` // empty for a custom image ref
	Name   string `json:"name"`
	Image  string `json:"image"`
	Digest string `json:"digest,omitempty"`
}

// PlanDisk identifies the target disk as stably as the system allows.
type PlanDisk struct {
	Path       string `json:"path"`
	ByID       string `json:"by_id,omitempty"`
	Serial     string `json:"serial,omitempty"`
	Model      string `json:"model,omitempty"`
	SizeBytes  uint64 `json:"size_bytes"`
	SectorSize int    `json:"sector_size"`
	ImageFile  bool   `json:"image_file,omitempty"`
}

// JSON is the canonical plan encoding; its sha256 is the plan hash.
func (p *Plan) JSON() []byte {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		// Plan holds only plain data; failing here is a bug.
		panic(err)
	}
	return append(b, '\n')
}

// SHA256 is the hex sha256 of JSON(); answers can pin it.
func (p *Plan) SHA256() string {
	s := sha256.Sum256(p.JSON())
	return hex.EncodeToString(s[:])
}
