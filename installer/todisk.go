package installer

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/universal-atomic-installer/uai/installer/bootc"
	"github.com/universal-atomic-installer/uai/installer/host"
	"github.com/universal-atomic-installer/uai/partition"
)

// LayoutImage is Request.Storage.Layout for "let the image decide the
// layout": bootc install to-disk partitions and formats the whole disk.
const LayoutImage = "image"

// imageLayout is the plan's layout for to-disk: no partitions of ours,
// the kind says whose they are. Encryption is bootc's tpm2-luks block
// setup (TPM only: bootc keeps no passphrase, bootc.md §1.1).
func imageLayout(req Request, d partition.Disk, ed string) (partition.Layout, string, error) {
	st := req.Storage
	l := partition.Layout{Kind: LayoutImage, SectorSize: d.LogicalSectorSize, DiskSizeBytes: d.SizeBytes,
		Notes: []string{"the image's bootc decides the partitions (bootc install to-disk): BIOS boot, ESP and root, all of the disk"}}
	block := ""
	switch {
	case st.Encryption.Enabled && !st.Encryption.TPM2:
		return l, "", Errorf(ClassInvalidInput, "use layout whole (uai's own LUKS2 keeps the passphrase), or tpm2 = true",
			"layout image encrypts only with bootc's tpm2-luks, which keeps no passphrase")
	case st.Encryption.TPM2 && !st.Encryption.Enabled:
		return l, "", Errorf(ClassInvalidInput, "set [storage.encryption] enabled = true, or drop tpm2", "tpm2 enrolment was asked for without encryption")
	case st.Encryption.Enabled:
		block = "tpm2-luks"
		l.Notes = append(l.Notes, "root is LUKS2 bound to this machine's TPM2 only (bootc tpm2-luks): no passphrase or recovery key remains")
	}
	if st.SeparateBoot {
		return l, "", Errorf(ClassInvalidInput, "drop separate_boot, or use layout whole", "layout image lets %s's bootc decide /boot", ed)
	}
	return l, block, nil
}

// toDiskSpec is the to-disk handoff for the plan.
func toDiskSpec(req Request, d partition.Disk, fs, block string) bootc.InstallSpec {
	s := bootc.InstallSpec{Method: bootc.MethodToDisk, Target: d.Path, Wipe: true, Filesystem: fs, BlockSetup: block,
		ViaLoopback: d.ImageFile}
	if n := req.Storage.RootSizeBytes; n > 0 {
		s.RootSize = fmt.Sprintf("%dM", n>>20)
	}
	return s
}

// toDiskSkipReason is why the storage steps of to-disk do not run.
const toDiskSkipReason = "the image's bootc partitions, formats and mounts the disk itself (bootc install to-disk)"

// doToDisk runs the steps after preflight for the to-disk method: bootc
// does the storage, then the installed root is mounted for verify,
// configure and the receipt.
func (r *run) doToDisk(ctx context.Context) error {
	p := r.p
	for _, s := range []StepID{StepAttach, StepPartition, StepFormat} {
		r.skip(s, toDiskSkipReason)
	}
	if !r.e.IsRoot {
		r.stopped = "stopped before bootc: bootc install to-disk needs root (run again as root, e.g. sudo make run)"
		for _, s := range []StepID{StepMount, StepBootc, StepVerify, StepConfigure, StepReceipt} {
			r.skip(s, "needs root")
		}
		return nil
	}
	r.device = p.Disk.Path
	// bootc wipes the disk before anything else: from here a failure
	// leaves a changed disk, which cleanup wipes (partition.Wipe).
	r.written = true
	title := "Install the image with bootc, which partitions the disk"
	if p.Simulated {
		title += " (simulated bootc)"
	}
	if err := r.step(ctx, StepBootc, title, func() error { return r.bootc(ctx) }); err != nil {
		return Classify(ClassInstallFailed, err)
	}
	if p.Simulated {
		// The simulator reads the disk and never writes it (bootc.md; the
		// simulator's to-disk), so there is no installed root to open.
		r.stopped = "demo: the simulated bootc install to-disk writes nothing to the disk, so there is no installed system to check or configure"
		for _, s := range []StepID{StepMount, StepVerify, StepConfigure, StepReceipt} {
			r.skip(s, "simulated to-disk writes no installed system")
		}
		return nil
	}
	if slices.Contains(r.command, "--block-setup=tpm2-luks") {
		// bootc's tpm2-luks keeps no passphrase: only the TPM opens root,
		// at the installed system's boot.
		r.stopped = "installed with bootc's tpm2-luks: root opens only with this machine's TPM2 at boot, so uai could not check the origin or configure the system"
		for _, s := range []StepID{StepMount, StepVerify, StepConfigure, StepReceipt} {
			r.skip(s, "the root is locked to the TPM2")
		}
		return nil
	}
	if err := r.step(ctx, StepMount, "Mount the installed root", func() error { return r.mountInstalled(ctx) }); err != nil {
		return Classify(ClassInstallFailed, err)
	}
	if err := r.step(ctx, StepVerify, "Check the installed system's update origin", func() error { return r.verify() }); err != nil {
		return Classify(ClassInstallFailed, err)
	}
	if err := r.step(ctx, StepConfigure, "Configure the installed system", r.configureAll); err != nil {
		return Classify(ClassInstallFailed, err)
	}
	if err := r.step(ctx, StepReceipt, "Write the receipt and the install log to the installed system", func() error { return r.writeReceipt() }); err != nil {
		return Classify(ClassInstallFailed, err)
	}
	return nil
}

// mountInstalled finds the root partition bootc made (label "root", bootc.md
// §1.1) and mounts it at the target directory. An image file gets a loop
// device with partition nodes first.
func (r *run) mountInstalled(ctx context.Context) error {
	p := r.p
	if p.Disk.ImageFile {
		if err := r.attach(ctx); err != nil {
			return err
		}
		if err := r.runTool(ctx, StepMount, host.Command{Tool: host.Partx, Args: []string{"-a", r.device}}); err != nil {
			return fmt.Errorf("add the partitions of %s: %w", r.device, err)
		}
	}
	d, err := partition.DescribeWithSectorSize(p.Disk.Path, p.Disk.SectorSize)
	if err != nil {
		return fmt.Errorf("read the table bootc wrote on %s: %w", p.Disk.Path, err)
	}
	idx := 0
	for _, pt := range d.Partitions {
		if pt.Name == "root" {
			idx = pt.Index
		}
	}
	if idx == 0 {
		var names []string
		for _, pt := range d.Partitions {
			names = append(names, fmt.Sprintf("%d:%s", pt.Index, orDash(pt.Name)))
		}
		return fmt.Errorf("bootc left no partition named root on %s (partitions %s)", p.Disk.Path, orDash(strings.Join(names, ", ")))
	}
	dev := partition.PartitionPath(r.device, idx)
	if err := os.MkdirAll(p.TargetDir, 0o755); err != nil {
		return fmt.Errorf("create the target directory: %w", err)
	}
	if ents, err := os.ReadDir(p.TargetDir); err != nil || len(ents) > 0 {
		return Errorf(ClassEnvironment, "unmount or empty it first", "target directory %s is not empty", p.TargetDir)
	}
	if err := r.runTool(ctx, StepMount, host.Command{Tool: host.Mount, Args: []string{dev, p.TargetDir}}); err != nil {
		return fmt.Errorf("mount the installed root %s at %s: %w (an encrypted root cannot be opened by uai)", dev, p.TargetDir, err)
	}
	r.mounts = append(r.mounts, mount{dir: p.TargetDir})
	return nil
}
