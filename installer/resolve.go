package installer

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/universal-atomic-installer/uai/catalog"
	"github.com/universal-atomic-installer/uai/installer/bootc"
	"github.com/universal-atomic-installer/uai/partition"
)

// DefaultTargetDir is where the new root is mounted during an install.
const DefaultTargetDir = "/run/uai/target"

// Resolve decides the whole plan from the request, the disks this machine
// has and the catalog. It is pure: it reads nothing and writes nothing.
func Resolve(req Request, disks []partition.Disk, cat *catalog.Catalog) (*Plan, error) {
	arch := req.Arch
	if arch == "" {
		arch = runtime.GOARCH
	}
	ed, err := resolveEdition(req, cat)
	if err != nil {
		return nil, err
	}
	disk, err := pickDisk(req, disks)
	if err != nil {
		return nil, err
	}
	if err := checkDisk(req, disk, ed); err != nil {
		return nil, err
	}
	fs := req.Filesystem
	if fs == "" {
		fs = ed.DefaultFilesystem
	}
	if fs == "" {
		fs = "xfs"
	}
	layout, err := partition.PlanWholeDisk(disk, partition.WholeDiskOptions{Arch: arch, RootFilesystem: fs})
	if err != nil {
		return nil, Errorf(ClassDiskRefused, "", "plan the layout of %s: %w", disk.Path, err)
	}
	targetRef := req.TargetRef
	if targetRef == "" {
		targetRef = ed.Image
	}
	if err := bootc.ValidateImageRef(targetRef); err != nil {
		return nil, Errorf(ClassInvalidInput, "", "target ref: %w", err)
	}
	targetDir := req.TargetDir
	if targetDir == "" {
		targetDir = DefaultTargetDir
	}
	if !filepath.IsAbs(targetDir) {
		return nil, Errorf(ClassInvalidInput, "give an absolute path", "target directory %q is not absolute", targetDir)
	}
	runImage := ed.Image
	if ed.Digest != "" {
		// Run exactly the pinned image; the target ref keeps the tag so
		// updates follow the edition.
		runImage = stripTag(ed.Image) + "@" + ed.Digest
	}
	bootcArgs, err := bootc.InstallArgs(bootc.InstallSpec{
		Method:       bootc.MethodToFilesystem,
		Target:       targetDir,
		TargetImgref: targetRef,
		Kargs:        ed.Kargs,
	})
	if err != nil {
		return nil, Errorf(ClassInvalidInput, "", "build the bootc command: %w", err)
	}
	cmd := append([]string{"podman"}, bootc.PodmanRunArgs(bootc.PodmanRun{Image: runImage, Binds: []string{targetDir + ":" + targetDir}}, bootcArgs)...)
	p := &Plan{
		Version:   PlanVersion,
		Edition:   PlanEdition{ID: ed.ID, Name: ed.Name, Image: ed.Image, Digest: ed.Digest},
		TargetRef: targetRef,
		Disk: PlanDisk{
			Path: disk.Path, ByID: firstOr(disk.ByID), Serial: disk.Serial, Model: disk.Model,
			SizeBytes: disk.SizeBytes, SectorSize: disk.LogicalSectorSize, ImageFile: disk.ImageFile,
		},
		Wipe:            !disk.Empty(),
		PreserveOnError: req.PreserveOnError,
		Filesystem:      fs,
		Layout:          layout,
		Method:          "to-filesystem",
		Runner:          "podman",
		RunnerReason:    "the image's own bootc installs itself, so its install config, SELinux policy and bootloader come from the image",
		TargetDir:       targetDir,
		Kargs:           ed.Kargs,
		Command:         cmd,
		Simulated:       req.Demo,
	}
	if req.Demo {
		p.RunnerReason = "demo: the built-in simulator stands in for podman and bootc (simulated bootc)"
	}
	return p, nil
}

func resolveEdition(req Request, cat *catalog.Catalog) (catalog.Edition, error) {
	switch {
	case req.EditionID != "" && req.Image != "":
		return catalog.Edition{}, Errorf(ClassInvalidInput, "keep one", "both an edition (%s) and an image (%s) were given", req.EditionID, req.Image)
	case req.EditionID != "":
		ed, ok := cat.Lookup(req.EditionID)
		if !ok {
			ids := make([]string, 0, len(cat.Editions))
			for _, e := range cat.Editions {
				ids = append(ids, e.ID)
			}
			return catalog.Edition{}, Errorf(ClassInvalidInput, "pick one of: "+strings.Join(ids, ", "),
				"edition %q is not in the catalog", req.EditionID)
		}
		return ed, nil
	case req.Image != "":
		if err := bootc.ValidateImageRef(req.Image); err != nil {
			return catalog.Edition{}, Errorf(ClassInvalidInput, "", "image %w", err)
		}
		// A custom image gets conservative defaults: bootc's base images
		// ship no root filesystem default, so one must be chosen.
		return catalog.Edition{Name: req.Image, Image: req.Image, DefaultFilesystem: "xfs", MinDiskGiB: 10}, nil
	}
	return catalog.Edition{}, Errorf(ClassInvalidInput, "set an edition id (uai catalog list) or an image ref", "nothing to install")
}

func pickDisk(req Request, disks []partition.Disk) (partition.Disk, error) {
	if req.DiskPath == "" {
		return partition.Disk{}, Errorf(ClassInvalidInput, "name the target disk (uai disks lists them)", "no target disk given")
	}
	var matches []partition.Disk
	for _, d := range disks {
		if d.Path == req.DiskPath || contains(d.ByID, req.DiskPath) || contains(d.ByPath, req.DiskPath) {
			matches = append(matches, d)
		}
	}
	if len(matches) == 1 {
		return matches[0], nil
	}
	var b strings.Builder
	for _, d := range disks {
		fmt.Fprintf(&b, "\n  %s (%s, %s)", d.Path, HumanBytes(d.SizeBytes), orDash(d.Model))
	}
	if len(disks) == 0 {
		b.WriteString(" none")
	}
	if len(matches) == 0 {
		return partition.Disk{}, Errorf(ClassDiskRefused, "pick one of the disks listed", "disk %s was not found; disks seen:%s", req.DiskPath, b.String())
	}
	return partition.Disk{}, Errorf(ClassDiskRefused, "name the disk by its /dev/disk/by-id link", "%s matches %d disks:%s", req.DiskPath, len(matches), b.String())
}

func checkDisk(req Request, d partition.Disk, ed catalog.Edition) error {
	if req.Demo && !d.ImageFile {
		return Errorf(ClassDiskRefused, "give a disk image file as the target, or leave --demo off", "demo mode never writes a real disk, and %s is a block device", d.Path)
	}
	if len(d.Refusals) > 0 {
		return Errorf(ClassDiskRefused, "pick another disk", "disk %s cannot be installed to: %s", d.Path, strings.Join(d.Refusals, "; "))
	}
	if min := ed.MinDiskBytes(); min > 0 && d.SizeBytes < min {
		return Errorf(ClassDiskRefused, "pick a larger disk", "disk %s is too small for %s: it has %s, the edition needs %s",
			d.Path, ed.Name, HumanBytes(d.SizeBytes), HumanBytes(min))
	}
	if !d.Empty() && !req.Wipe {
		return Errorf(ClassDiskRefused, "set wipe = true in [disk] (or pass --wipe) if its data may be erased",
			"disk %s is not empty (%s table, %d partitions) and wiping was not allowed", d.Path, orDash(d.Table), len(d.Partitions))
	}
	return nil
}

func stripTag(ref string) string {
	if i := strings.LastIndex(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	slash := strings.LastIndex(ref, "/")
	if i := strings.LastIndex(ref, ":"); i > slash {
		return ref[:i]
	}
	return ref
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func firstOr(xs []string) string {
	if len(xs) > 0 {
		return xs[0]
	}
	return ""
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// HumanBytes renders a size in binary units, e.g. "64 GiB", "512 MiB".
func HumanBytes(n uint64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	f := float64(n)
	i := 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	if f == float64(int64(f)) {
		return fmt.Sprintf("%d %s", int64(f), units[i])
	}
	return fmt.Sprintf("%.1f %s", f, units[i])
}
