package installer

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/universal-atomic-installer/uai/catalog"
	"github.com/universal-atomic-installer/uai/installer/bootc"
	"github.com/universal-atomic-installer/uai/partition"
)

// DefaultTargetDir is where the new root is mounted during an install.
const DefaultTargetDir = "/run/uai/target"

// Resolve decides the whole plan from the request, the disks this machine
// has and the catalog. It is pure: it reads nothing and writes nothing.
// It knows no facts about the live system, so bootc runs under podman;
// ResolveWith takes those facts.
func Resolve(req Request, disks []partition.Disk, cat *catalog.Catalog) (*Plan, error) {
	return ResolveWith(req, disks, cat, ResolveOptions{})
}

// ResolveWith is Resolve with the live system's facts (RAM, images on the
// medium, bootc; GatherRunnerFacts) that choose the runner, and the
// optional copies to the target. It is as pure as Resolve.
func ResolveWith(req Request, disks []partition.Disk, cat *catalog.Catalog, opts ResolveOptions) (*Plan, error) {
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
	// After an interrupted install the disk holds a half-written table;
	// its journal says what was there before, and the plan is made
	// against that, so the re-run makes the same plan and can finish.
	before := disk.Before()
	if err := checkDisk(req, disk, before, ed); err != nil {
		return nil, err
	}
	fs := req.Filesystem
	if fs == "" {
		fs = ed.DefaultFilesystem
	}
	if fs == "" {
		fs = "xfs"
	}
	toDisk := req.Storage.Layout == LayoutImage
	var layout partition.Layout
	block := ""
	if toDisk {
		layout, block, err = imageLayout(req, disk, ed.Name)
	} else {
		layout, err = planLayout(req, before, arch, fs, ed)
	}
	if err != nil {
		return nil, err
	}
	userKargs, dropped, err := FilterKargs(req.Kargs)
	if err != nil {
		return nil, err
	}
	kargs := append(append(append([]string(nil), ed.Kargs...), layout.Kargs()...), userKargs...)
	cfg, err := resolveConfig(req, dropped)
	if err != nil {
		return nil, err
	}
	finish, err := resolveFinish(req.Post.Action)
	if err != nil {
		return nil, err
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
	spec := bootc.InstallSpec{
		Method:       bootc.MethodToFilesystem,
		Target:       targetDir,
		TargetImgref: targetRef,
		Kargs:        kargs,
		Stateroot:    req.Stateroot,
	}
	binds := []string{targetDir + ":" + targetDir}
	method := bootc.MethodToFilesystem
	if toDisk {
		method = bootc.MethodToDisk
		td := toDiskSpec(req, disk, fs, block)
		td.TargetImgref, td.Kargs, td.Stateroot = spec.TargetImgref, spec.Kargs, spec.Stateroot
		spec = td
		// /dev is bound already; an image file's directory is not.
		binds = nil
		if disk.ImageFile {
			binds = []string{bootc.SameBind(filepath.Dir(disk.Path))}
		}
	}
	digest := ed.Digest
	if digest == "" && !fromPath(req.Transport) {
		digest = pinnedDigest(runImage)
	}
	pinnedBy := ""
	if req.Digest != "" {
		pinnedBy = "the user chose the registry's build"
	}
	choice, err := chooseRunner(opts.Runner, runnerWant{runner: req.Runner, transport: req.Transport,
		image: ed.Image, runImage: runImage, digest: digest, pinnedBy: pinnedBy, demo: req.Demo})
	if err != nil {
		return nil, err
	}
	spec.SourceImgref = choice.source
	var medium *PlanMedium
	if m := choice.medium; m != nil {
		medium = &PlanMedium{Ref: m.Ref, Digest: m.Digest, Layout: m.Layout}
	}
	if cfg != nil && len(cfg.Root.SSHAuthorizedKeys) > 0 {
		// The same path inside and outside the container.
		keys := rootKeysFile(targetDir)
		spec.RootSSHAuthorizedKeys = keys
		binds = append(binds, bootc.SameBind(filepath.Dir(keys)))
	}
	bootcArgs, err := bootc.InstallArgs(spec)
	if err != nil {
		return nil, Errorf(ClassInvalidInput, "", "build the bootc command: %w", err)
	}
	var cmd []string
	if choice.runner == RunnerHost {
		cmd = append([]string{"bootc"}, bootcArgs...)
	} else {
		cmd = append([]string{"podman"}, bootc.PodmanRunArgs(bootc.PodmanRun{Image: runImage, Binds: binds}, bootcArgs)...)
	}
	p := &Plan{
		Version:   PlanVersion,
		Edition:   PlanEdition{ID: ed.ID, Name: ed.Name, Image: ed.Image, Digest: ed.Digest},
		TargetRef: targetRef,
		Disk: PlanDisk{
			Path: disk.Path, ByID: firstOr(disk.ByID), Serial: disk.Serial, Model: disk.Model,
			SizeBytes: disk.SizeBytes, SectorSize: disk.LogicalSectorSize, ImageFile: disk.ImageFile,
			AllowBootMedium: req.Selector.AllowBootMedium,
		},
		Wipe:            (layout.Kind == partition.KindWhole || toDisk) && !before.Empty(),
		PreserveOnError: req.PreserveOnError,
		Filesystem:      fs,
		Layout:          layout,
		Method:          method,
		Runner:          choice.runner,
		RunnerReason:    choice.reason,
		Medium:          medium,
		CopyNetwork:     opts.CopyNetwork,
		CopyUAI:         opts.CopyUAI,
		TargetDir:       targetDir,
		Kargs:           kargs,
		Command:         cmd,
		Configure:       cfg,
		Finish:          finish,
		Simulated:       req.Demo,
	}
	if req.Demo && choice.runner == RunnerHost {
		p.RunnerReason += " (demo: the built-in simulator plays the live system's bootc)"
	}
	return p, nil
}

func resolveEdition(req Request, cat *catalog.Catalog) (catalog.Edition, error) {
	switch {
	case req.EditionID != "" && req.Image != "":
		return catalog.Edition{}, Errorf(ClassInvalidInput, "keep one", "both an edition (%s) and an image (%s) were given", req.EditionID, req.Image)
	case req.Digest != "" && req.EditionID == "":
		return catalog.Edition{}, Errorf(ClassInvalidInput, "pin a custom image in its ref (repo@sha256:...)", "a digest (%s) was given without an edition", req.Digest)
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
		if req.Digest != "" {
			// The registry's build instead of the catalog's pin (or the
			// tag's build on the medium); the tag stays what updates follow.
			if err := bootc.ValidateImageRef(stripTag(ed.Image) + "@" + req.Digest); err != nil {
				return catalog.Edition{}, Errorf(ClassInvalidInput, "", "edition %s pinned to %s: %w", ed.ID, req.Digest, err)
			}
			ed.Digest = req.Digest
		}
		return ed, nil
	case req.Image != "" && fromPath(req.Transport):
		// An OCI layout or archive: a path, not a ref; target_ref names
		// what the installed system follows.
		if !filepath.IsAbs(req.Image) {
			return catalog.Edition{}, Errorf(ClassInvalidInput, "give the absolute path of the OCI layout or archive", "image %q (transport %s) is not an absolute path", req.Image, req.Transport)
		}
		if req.TargetRef == "" {
			return catalog.Edition{}, Errorf(ClassInvalidInput, "set source.target_ref to the registry ref the system should follow",
				"an image from %s has no registry ref to update from", req.Transport)
		}
		return catalog.Edition{Name: req.Image, Image: req.Image, DefaultFilesystem: "xfs", MinDiskGiB: 10}, nil
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
		rules := req.Selector
		rules.AllowBootMedium = false
		if rules.IsZero() {
			return partition.Disk{}, Errorf(ClassInvalidInput, "name the target disk, or give [disk] rules such as serial or model (uai disks lists the disks)", "no target disk given")
		}
		d, _, err := partition.Select(disks, req.Selector)
		var se *partition.SelectError
		switch {
		case errors.As(err, &se):
			return partition.Disk{}, Errorf(ClassDiskRefused, fmt.Sprintf("change the [disk] rules; `uai disks --explain '%s'` shows the same report", req.Selector.String()), "%w", err)
		case err != nil:
			return partition.Disk{}, Errorf(ClassInvalidInput, "", "%w", err)
		}
		return d, nil
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

// checkDisk refuses a disk that is unsafe or unfit. d is the disk as it is
// now (refusals), before as it was before an interrupted install (its
// contents decide whether a wipe is needed).
func checkDisk(req Request, d, before partition.Disk, ed catalog.Edition) error {
	if req.Demo && !d.ImageFile {
		return Errorf(ClassDiskRefused, "give a disk image file as the target, or leave --demo off", "demo mode never writes a real disk, and %s is a block device", d.Path)
	}
	refusals := d.Refusals
	if req.Selector.AllowBootMedium {
		refusals = d.RefusalsExceptBootMedium()
	}
	if len(refusals) > 0 {
		return Errorf(ClassDiskRefused, "pick another disk", "disk %s cannot be installed to: %s", d.Path, strings.Join(refusals, "; "))
	}
	free := req.Storage.Layout == partition.KindFree
	if min := ed.MinDiskBytes(); min > 0 && d.SizeBytes < min {
		return Errorf(ClassDiskRefused, "pick a larger disk", "disk %s is too small for %s: it has %s, the edition needs %s",
			d.Path, ed.Name, HumanBytes(d.SizeBytes), HumanBytes(min))
	}
	if !free && !before.Empty() && !req.Wipe {
		what := fmt.Sprintf("%s table, %d partitions", orDash(before.Table), len(before.Partitions))
		if before.GPT != nil {
			what = "a damaged GPT: " + before.GPT.Explanation
		}
		if len(before.Systems) > 0 {
			what += "; it holds " + strings.Join(before.Systems, "; ")
		}
		return Errorf(ClassDiskRefused, "set wipe = true in [disk] (or pass --wipe) if its data may be erased, or layout = \"free\" in [storage] to install beside it",
			"disk %s is not empty (%s) and wiping was not allowed", d.Path, what)
	}
	return nil
}

// planLayout chooses and plans the layout the request asks for.
func planLayout(req Request, d partition.Disk, arch, fs string, ed catalog.Edition) (partition.Layout, error) {
	st := req.Storage
	var enc *partition.Encryption
	switch {
	case st.Encryption.Enabled && st.Encryption.Passphrase == "":
		return partition.Layout{}, Errorf(ClassInvalidInput, "set [storage.encryption] passphrase; with tpm2 it is the recovery passphrase",
			"encryption is enabled without a passphrase")
	case st.Encryption.Enabled:
		// The LUKS UUID goes into the kernel arguments, so the plan fixes
		// it; derived from the disk, it keeps the plan pure and hashable,
		// and never from the passphrase, so the hash does not depend on it.
		uuid := partition.DeriveUUID("uai luks2 root", d.Path, d.Serial, d.WWN, d.Model, strconv.FormatUint(d.SizeBytes, 10), orDefault(st.Layout, partition.KindWhole))
		enc = partition.NewEncryption(uuid, st.Encryption.TPM2, st.Encryption.Passphrase)
	case st.Encryption.TPM2:
		return partition.Layout{}, Errorf(ClassInvalidInput, "set [storage.encryption] enabled = true with a passphrase, or drop tpm2",
			"tpm2 enrolment was asked for without encryption")
	}
	separate := st.SeparateBoot || enc != nil
	var layout partition.Layout
	var err error
	switch orDefault(st.Layout, partition.KindWhole) {
	case partition.KindWhole:
		layout, err = partition.PlanWholeDisk(d, partition.WholeDiskOptions{Arch: arch, RootFilesystem: fs,
			RootSizeBytes: st.RootSizeBytes, SeparateBoot: separate, Encryption: enc})
	case partition.KindFree:
		layout, err = partition.PlanFreeSpace(d, partition.FreeSpaceOptions{Arch: arch, RootFilesystem: fs,
			RootSizeBytes: st.RootSizeBytes, SeparateBoot: separate, Encryption: enc, MinBytes: ed.MinDiskBytes()})
	default:
		return partition.Layout{}, Errorf(ClassInvalidInput, "use whole or free", "storage layout %q is not known", st.Layout)
	}
	if err != nil {
		return partition.Layout{}, Errorf(ClassDiskRefused, "", "plan the layout of %s: %w", d.Path, err)
	}
	if enc != nil && !st.SeparateBoot {
		layout.Notes = append(layout.Notes, "adds a separate /boot because root is encrypted")
	}
	return layout, nil
}

// fromPath reports a source transport whose image is a path (an OCI
// layout or archive), not a ref.
func fromPath(transport string) bool {
	return transport == bootc.TransportOCI || transport == bootc.TransportOCIArchive
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
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
