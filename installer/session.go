package installer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/universal-atomic-installer/uai/catalog"
	"github.com/universal-atomic-installer/uai/installer/host"
	"github.com/universal-atomic-installer/uai/partition"
)

// Session ties the catalog, the disks and the engine together for one
// front-end (CLI or TUI).
type Session struct {
	Catalog *catalog.Catalog
	// Targets, when set, are the only disks offered (image files or block
	// devices); otherwise the machine's disks are scanned.
	Targets []string
	Demo    bool
	// TargetDir overrides DefaultTargetDir.
	TargetDir string
	Engine    *Engine
	// CopyUAI asks the engine to copy the uai binary to the target. The
	// live system's NetworkManager profiles are copied unless the request
	// says network.copy_to_target = false (never in demo mode).
	CopyUAI bool
	// MediumImagesDir is where the install medium's OCI layouts are
	// (DefaultMediumImagesDir when empty; in demo mode only an explicit
	// one is read). Graphroot is the containers-storage to look the image
	// up in (DefaultGraphroot when empty; never read in demo mode).
	MediumImagesDir string
	Graphroot       string
	// Runner, when set, overrides the request's runner (the --runner
	// flag; the TUI builds its requests itself).
	Runner string
	// EditionCatalog, when set, names the catalog an edition id was taken
	// from, for Plan.Edition.Catalog; it returns "" for the embedded one.
	EditionCatalog func(id string) string
}

// SelfExe is the path of the running uai binary; the demo runs its built-in
// simulator through it so the simulated bootc is a real child process
// with real output, exactly like the real one.
func SelfExe() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find the uai binary for the simulator: %w", err)
	}
	return exe, nil
}

// NewSession builds a session with the real runner. In demo mode podman and
// bootc are the built-in simulator.
func NewSession(cat *catalog.Catalog, targets []string, demo bool, targetDir string, fuseESP bool) (*Session, error) {
	ex := &host.Exec{}
	if demo {
		exe, err := SelfExe()
		if err != nil {
			return nil, err
		}
		ex.Paths = map[host.Tool][]string{
			host.Podman: {exe, "simulate", "podman"},
			host.Bootc:  {exe, "simulate", "bootc"},
		}
	}
	return &Session{
		Catalog: cat, Targets: targets, Demo: demo, TargetDir: targetDir,
		Engine: &Engine{Runner: ex, Locate: ex, IsRoot: os.Geteuid() == 0, FuseESP: fuseESP},
	}, nil
}

// Disks returns the disks this session may install to. A named image file
// is described directly; a named block device always comes from the full
// scan, so the in-use checks (mounted, swap, holders, boot medium) apply.
func (s *Session) Disks(ctx context.Context) ([]partition.Disk, error) {
	var scanned []partition.Disk
	scan := func() error {
		if scanned != nil {
			return nil
		}
		disks, err := partition.Scan(partition.ScanOptions{})
		if err != nil {
			return Errorf(ClassEnvironment, "", "list the disks: %w", err)
		}
		scanned = append([]partition.Disk{}, disks...)
		return nil
	}
	if len(s.Targets) == 0 {
		if err := scan(); err != nil {
			return nil, err
		}
		return scanned, nil
	}
	var out []partition.Disk
	for _, t := range s.Targets {
		st, err := os.Stat(t)
		if errors.Is(err, os.ErrNotExist) {
			return nil, Errorf(ClassDiskRefused, "check the path, or create an image file (truncate -s 64G FILE)", "target %s does not exist", t)
		}
		if err != nil {
			return nil, Errorf(ClassDiskRefused, "", "target %s: %w", t, err)
		}
		if st.Mode().IsRegular() {
			d, err := partition.Describe(t)
			if err != nil {
				return nil, Errorf(ClassDiskRefused, "", "target %s: %w", t, err)
			}
			out = append(out, d)
			continue
		}
		if err := scan(); err != nil {
			return nil, err
		}
		d, ok := findDisk(scanned, t)
		if !ok {
			return nil, Errorf(ClassDiskRefused, "name a whole disk (uai disks lists them), not a partition", "target %s is not a disk this machine lists", t)
		}
		out = append(out, d)
	}
	return out, nil
}

// findDisk matches a path, a by-id/by-path link, or anything that resolves
// to the disk's device node.
func findDisk(disks []partition.Disk, path string) (partition.Disk, bool) {
	real, _ := filepath.EvalSymlinks(path)
	for _, d := range disks {
		if d.Path == path || d.Path == real || contains(d.ByID, path) || contains(d.ByPath, path) {
			return d, true
		}
	}
	return partition.Disk{}, false
}

// Plan resolves a request against this session's disks and catalog.
func (s *Session) Plan(ctx context.Context, req Request) (*Plan, error) {
	if req.DiskPath == "" && len(s.Targets) == 1 {
		req.DiskPath = s.Targets[0]
	}
	req.Demo = s.Demo
	if s.Runner != "" {
		req.Runner = s.Runner
	}
	if req.TargetDir == "" {
		req.TargetDir = s.TargetDir
	}
	disks, err := s.Disks(ctx)
	if err != nil {
		return nil, err
	}
	p, err := ResolveWith(req, disks, s.Catalog, ResolveOptions{
		Runner:      s.RunnerFacts(req),
		CopyNetwork: !req.Network.NoCopyToTarget && !req.Demo,
		CopyUAI:     s.CopyUAI,
	})
	if err == nil && p.Edition.ID != "" && s.EditionCatalog != nil {
		p.Edition.Catalog = s.EditionCatalog(p.Edition.ID)
	}
	return p, err
}

// RunnerFacts gathers what the runner choice depends on. A demo plan must
// be the same on any machine: it reads neither this machine's RAM nor its
// containers-storage, and the medium's images only from an explicit
// MediumImagesDir.
func (s *Session) RunnerFacts(req Request) RunnerFacts {
	var locate Locator
	if s.Engine != nil {
		locate = s.Engine.Locate
	}
	medium, graphroot := s.MediumImagesDir, s.Graphroot
	if !req.Demo {
		medium, graphroot = orDefault(medium, DefaultMediumImagesDir), orDefault(graphroot, DefaultGraphroot)
	}
	f := GatherRunnerFacts(medium, req.ImageSizeBytes, locate, graphroot)
	if req.Demo {
		f.MemTotalBytes = 0
		f.StoredImages, f.Graphroot = nil, ""
	}
	return f
}

// Install runs the plan with this session's engine.
func (s *Session) Install(ctx context.Context, p *Plan, sink Sink) (Result, error) {
	return s.Engine.Run(ctx, p, sink)
}

// KernelHasVFAT reports whether this kernel can mount FAT: built in, or as
// a module it can load. Kernels without it need a FUSE mount of the ESP.
func KernelHasVFAT() bool {
	if b, err := os.ReadFile("/proc/filesystems"); err == nil && strings.Contains(string(b), "\tvfat\n") {
		return true
	}
	rel, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return true // cannot tell; the kernel mount will say
	}
	base := "/lib/modules/" + strings.TrimSpace(string(rel)) + "/kernel/fs/fat/"
	for _, n := range []string{"vfat.ko", "vfat.ko.xz", "vfat.ko.zst", "vfat.ko.gz"} {
		if _, err := os.Stat(base + n); err == nil {
			return true
		}
	}
	return false
}
