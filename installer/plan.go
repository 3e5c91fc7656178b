package installer

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/universal-atomic-installer/uai/installer/host"
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
	Wipe bool `json:"wipe"`
	// PreserveOnError keeps a half-written disk instead of wiping the new
	// table after a failure.
	PreserveOnError bool             `json:"preserve_on_error"`
	Filesystem      string           `json:"filesystem"`
	Layout          partition.Layout `json:"layout"`
	// Method is the bootc install method: "to-filesystem" (uai lays the
	// disk out) or "to-disk" (Request.Storage.Layout LayoutImage: the
	// image's bootc does).
	Method string `json:"method"`
	// Runner is how bootc runs (RunnerPodman: the image's bootc in a
	// podman container; RunnerHost: the live system's bootc with
	// --source-imgref), and why.
	Runner       string `json:"runner"`
	RunnerReason string `json:"runner_reason"`
	// Medium is the image on the install medium the host runner installs
	// from (--source-imgref oci:LAYOUT:REF); nil when the image comes from
	// anywhere else. The installed system still updates from TargetRef.
	Medium *PlanMedium `json:"medium,omitempty"`
	// CopyNetwork copies the live system's NetworkManager connection
	// profiles to the target's /etc; CopyUAI copies the uai binary to the
	// target's /var/usrlocal/bin/uai. Both off unless asked.
	CopyNetwork bool `json:"copy_network,omitempty"`
	CopyUAI     bool `json:"copy_uai,omitempty"`
	// TargetDir is where the new root is mounted during the install.
	TargetDir string   `json:"target_dir"`
	Kargs     []string `json:"kargs,omitempty"`
	// Command is the exact handoff command (program and arguments).
	Command []string `json:"command"`
	// Configure is what the configure step writes into the installed
	// system; nil when the request sets nothing.
	Configure *PlanConfig `json:"configure,omitempty"`
	// Finish is what happens after a successful install: "reboot",
	// "poweroff", or "" (stay: the front-end decides, e.g. opens a shell).
	Finish string `json:"finish,omitempty"`
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
	// Catalog is the catalog the edition was taken from (a --catalog
	// value or the answers' source.catalog, as given, any password in a
	// URL masked); empty for the catalog built into uai, so plans from
	// the embedded catalog keep their hash.
	Catalog string `json:"catalog,omitempty"`
}

// PlanMedium is an image on the install medium: its full ref, its
// manifest digest and the OCI layout holding it.
type PlanMedium struct {
	Ref    string `json:"ref"`
	Digest string `json:"digest"`
	Layout string `json:"layout"`
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
	// AllowBootMedium is set when the user explicitly allowed installing to
	// the disk the live system booted from (the only refusal one may lift).
	AllowBootMedium bool `json:"allow_boot_medium,omitempty"`
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

// Text renders the plan for people: what, where, how, and the exact command.
func (p *Plan) Text() string {
	var b strings.Builder
	name := p.Edition.Name
	if p.Edition.ID != "" {
		name += " (" + p.Edition.ID + ")"
	}
	fmt.Fprintf(&b, "Install   %s\n", name)
	fmt.Fprintf(&b, "Image     %s\n", p.Edition.Image)
	if p.Edition.Digest != "" {
		fmt.Fprintf(&b, "Digest    %s\n", p.Edition.Digest)
	}
	if p.Edition.Catalog != "" {
		fmt.Fprintf(&b, "Catalog   %s\n", p.Edition.Catalog)
	}
	fmt.Fprintf(&b, "Updates   from %s\n", p.TargetRef)
	if m := p.Medium; m != nil {
		fmt.Fprintf(&b, "Source    the install medium: %s (%s)\n", m.Ref, m.Digest)
	}
	disk := p.Disk.Path
	if p.Disk.Model != "" {
		disk += ", " + p.Disk.Model
	}
	fmt.Fprintf(&b, "Disk      %s (%s, %d-byte sectors)\n", disk, HumanBytes(p.Disk.SizeBytes), p.Disk.SectorSize)
	if p.Wipe {
		b.WriteString("          ALL DATA ON THIS DISK WILL BE ERASED\n")
	}
	fmt.Fprintf(&b, "Root fs   %s\n", p.Filesystem)
	fmt.Fprintf(&b, "Method    bootc install %s, run by %s: %s\n", p.Method, p.Runner, p.RunnerReason)
	if c := p.Configure; c != nil {
		b.WriteString(c.text())
	}
	var copies []string
	if p.CopyNetwork {
		copies = append(copies, "the live system's NetworkManager profiles")
	}
	if p.CopyUAI {
		copies = append(copies, "uai to /usr/local/bin")
	}
	if len(copies) > 0 {
		fmt.Fprintf(&b, "Copy      %s\n", strings.Join(copies, ", "))
	}
	if p.Simulated && !p.CopyNetwork {
		b.WriteString("Network   demo: this machine's NetworkManager profiles (Wi-Fi keys) are never copied into the disk image\n")
	}
	if p.Finish != "" {
		fmt.Fprintf(&b, "Then      %s\n", p.Finish)
	}
	if p.Layout.Kind == LayoutImage {
		b.WriteString("\nPartition table: the image's (bootc install to-disk wipes the disk and lays it out itself)\n")
		for _, n := range p.Layout.Notes {
			b.WriteString("  " + n + "\n")
		}
	} else {
		b.WriteString("\nPartition table (GPT):\n")
		b.WriteString(p.Layout.Table())
	}
	b.WriteString("\nThe handoff command:\n  ")
	args := make([]string, len(p.Command))
	for i, a := range p.Command {
		args[i] = host.ShellQuote(a)
	}
	b.WriteString(strings.Join(args, " "))
	b.WriteString("\n")
	switch {
	case p.Simulated && p.Layout.Kind == LayoutImage:
		b.WriteString("\n(simulated bootc: the built-in simulator stands in for podman and bootc;\n its to-disk reads the disk image and writes nothing)\n")
	case p.Simulated:
		b.WriteString("\n(simulated bootc: the built-in simulator stands in for podman and bootc;\n the partition table and filesystems are real)\n")
	}
	return b.String()
}
