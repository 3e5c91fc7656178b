package installer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/universal-atomic-installer/uai/installer/host"
	"github.com/universal-atomic-installer/uai/partition"
)

// The engine's disk checkpoints (partition.Checkpoint): after each step
// that leaves the disk in a new state. Test builds kill the process there
// to prove that the next run finishes or restores (docs/disks.md).
const (
	CheckpointJournalSaved  = "journal-saved"
	CheckpointPartitioned   = "partitioned"
	CheckpointLUKSFormatted = "luks-formatted"
	CheckpointFormatted     = "formatted"
	CheckpointMounted       = "mounted"
)

// journalDisk is the plan's disk as the journal names it; Describe finds
// the journal under the same key.
func (r *run) journalDisk() partition.Disk {
	d := r.p.Disk
	var byID []string
	if d.ByID != "" {
		byID = []string{d.ByID}
	}
	return partition.Disk{Path: d.Path, ImageFile: d.ImageFile, Serial: d.Serial, Model: d.Model, SizeBytes: d.SizeBytes, ByID: byID}
}

// checkStorage is the preflight of the disk's contents: what an
// interrupted run left, a damaged table, and for a free-space layout that
// every partition to keep is still exactly as planned.
func (r *run) checkStorage(d partition.Disk) error {
	p := r.p
	if in := d.Interrupted; in != nil {
		r.log(StepPreflight, "info", in.Explanation)
	}
	if d.GPT != nil {
		r.log(StepPreflight, "info", "the partition table is damaged: "+d.GPT.Explanation)
	}
	before := d.Before()
	if p.Layout.Kind != partition.KindFree {
		if !p.Wipe && !before.Empty() {
			return Errorf(ClassDiskRefused, "make the plan again and allow wiping if its data may go", "disk %s was empty when planned but now holds a %s table", p.Disk.Path, orDash(before.Table))
		}
		return nil
	}
	if d.GPT != nil && (d.Interrupted == nil || !d.Interrupted.Explained) {
		return Errorf(ClassDiskRefused, "repair the table (gdisk, or the other system's tools), then plan again",
			"disk %s has a damaged partition table and no journal explains it (%s); uai will not write beside partitions it cannot be sure of", p.Disk.Path, d.GPT.Explanation)
	}
	have := map[int]partition.Existing{}
	for _, e := range before.Partitions {
		have[e.Index] = e
	}
	var diffs []string
	kept := 0
	for _, pl := range p.Layout.Partitions {
		if !pl.Keep {
			continue
		}
		kept++
		e, ok := have[pl.Index]
		ss := p.Layout.SectorSize
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("partition %d (%s) is gone", pl.Index, pl.Name))
		case e.StartBytes != pl.StartBytes(ss) || e.SizeBytes != pl.SizeBytes(ss) || !strings.EqualFold(e.GUID, pl.GUID) || !strings.EqualFold(e.TypeGUID, pl.TypeGUID):
			diffs = append(diffs, fmt.Sprintf("partition %d (%s) moved or changed", pl.Index, pl.Name))
		}
	}
	if kept != len(before.Partitions) {
		diffs = append(diffs, fmt.Sprintf("the disk has %d partitions, the plan keeps %d", len(before.Partitions), kept))
	}
	if len(diffs) > 0 {
		return Errorf(ClassDiskRefused, "make the plan again", "disk %s changed since the plan: %s", p.Disk.Path, strings.Join(diffs, "; "))
	}
	return nil
}

// partition saves the original table in a journal, writes the planned
// table and reads it back.
func (r *run) partition() error {
	l := r.p.Layout
	original, err := partition.SaveTable(r.device, l.SectorSize)
	if err != nil {
		return fmt.Errorf("save the table of %s before writing: %w", r.device, err)
	}
	j, err := partition.NewJournal(r.journalDisk(), r.device, l, original)
	if err != nil {
		return err
	}
	if err := j.Save(CheckpointJournalSaved); err != nil {
		return Classify(ClassEnvironment, err)
	}
	r.journal = j
	r.original = &j.Original
	r.log(StepPartition, "info", fmt.Sprintf("saved the original table of %s (%s, %d partitions) in %s", r.device, orDash(j.Original.Table), len(j.Original.Partitions), j.Path()))
	partition.Checkpoint(CheckpointJournalSaved)

	opts := partition.ApplyOptions{Checkpoint: func(point string) {
		// from the first write on, a failure leaves a changed table
		r.written = true
		r.log(StepPartition, "info", "durable: "+point)
	}}
	if l.Kind == partition.KindFree {
		opts.Original = r.original
	}
	applied, err := partition.ApplyWith(r.device, l, opts)
	if err != nil {
		return fmt.Errorf("write the partition table to %s: %w", r.device, err)
	}
	r.written = true
	r.parts = applied.PartitionPaths
	if err := partition.Verify(r.device, l); err != nil {
		return fmt.Errorf("read back the partition table of %s: %w", r.device, err)
	}
	kept := 0
	for _, p := range l.Partitions {
		if p.Keep {
			kept++
		}
	}
	msg := fmt.Sprintf("wrote and verified a GPT with %d partitions on %s", len(l.Partitions), r.device)
	if kept > 0 {
		msg += fmt.Sprintf(" (%d kept unchanged, %d new)", kept, len(l.Partitions)-kept)
	}
	r.log(StepPartition, "info", msg)
	return r.journalStep(CheckpointPartitioned)
}

// journalStep records a finished step in the journal, then passes the
// checkpoint.
func (r *run) journalStep(step string) error {
	if r.journal != nil {
		if err := r.journal.Save(step); err != nil {
			return Classify(ClassEnvironment, err)
		}
	}
	partition.Checkpoint(step)
	return nil
}

func (r *run) partPath(role partition.Role) (partition.Planned, string, error) {
	pl, ok := r.p.Layout.Find(role)
	if !ok {
		return pl, "", fmt.Errorf("the layout has no %s partition", role)
	}
	path := r.parts[pl.Index]
	if path == "" {
		path = partition.PartitionPath(r.device, pl.Index)
	}
	return pl, path, nil
}

// format makes the new filesystems: the ESP (unless an existing one is
// reused), /boot, and root, inside LUKS2 when the plan encrypts it. Kept
// partitions are never formatted.
func (r *run) format(ctx context.Context) error {
	esp, ok := r.p.Layout.Find(partition.RoleESP)
	if !ok {
		return errors.New("the layout has no ESP")
	}
	ss := r.p.Layout.SectorSize
	if esp.Keep {
		r.log(StepFormat, "info", fmt.Sprintf("the ESP on partition %d is reused as it is: not formatted", esp.Index))
	}
	if !r.e.IsRoot {
		if esp.Keep {
			return r.journalStep(CheckpointFormatted)
		}
		// Without root there is no loop device: format the ESP in place
		// inside the image file.
		kib := esp.SizeBytes(ss) / 1024
		args := []string{"-F", "32", "-n", esp.Label, "-S", strconv.Itoa(ss), "--offset", strconv.FormatUint(esp.StartSector, 10), r.device, strconv.FormatUint(kib, 10)}
		if err := r.runTool(ctx, StepFormat, host.Command{Tool: host.MkfsFat, Args: args}); err != nil {
			return fmt.Errorf("format the ESP inside %s: %w", r.device, err)
		}
		return r.journalStep(CheckpointFormatted)
	}
	if !esp.Keep {
		_, dev, err := r.partPath(partition.RoleESP)
		if err != nil {
			return err
		}
		if err := r.runTool(ctx, StepFormat, host.Command{Tool: host.MkfsFat, Args: []string{"-F", "32", "-n", esp.Label, dev}}); err != nil {
			return fmt.Errorf("format the ESP %s: %w", dev, err)
		}
	}
	for _, role := range []partition.Role{partition.RoleBoot, partition.RoleRoot} {
		pl, ok := r.p.Layout.Find(role)
		if !ok || pl.Keep {
			continue
		}
		_, dev, err := r.partPath(role)
		if err != nil {
			return err
		}
		if pl.Encrypted {
			if dev, err = r.encrypt(ctx, dev); err != nil {
				return err
			}
		}
		tool, ok := host.MkfsFor(pl.Filesystem)
		if !ok {
			return fmt.Errorf("no mkfs for filesystem %q", pl.Filesystem)
		}
		// The partition is new (or was planned on a wiped disk), so any
		// signature still on it is stale: force.
		force := "-f"
		if tool == host.MkfsExt4 {
			force = "-F"
		}
		if err := r.runTool(ctx, StepFormat, host.Command{Tool: tool, Args: []string{force, "-L", pl.Label, dev}}); err != nil {
			return fmt.Errorf("make the %s filesystem on %s: %w", pl.Filesystem, dev, err)
		}
	}
	return r.journalStep(CheckpointFormatted)
}

// LUKS argv builders. The passphrase goes to cryptsetup on stdin
// (--key-file -, read to EOF, so it is exactly what is typed at boot) and
// to systemd-cryptenroll in $PASSWORD; never into argv, which any user
// can read in /proc.

func luksFormatCommand(e *partition.Encryption, dev string, pass []byte) host.Command {
	return host.Command{Tool: host.Cryptsetup, Stdin: pass,
		Args: []string{"luksFormat", "--type", "luks2", "--batch-mode", "--uuid", e.UUID, "--label", "root", "--key-file", "-", dev}}
}

// tpm2EnrollCommand binds a new key slot to the TPM2 and PCR 7 (the
// Secure Boot state), leaving the passphrase slot as the recovery key.
func tpm2EnrollCommand(dev string, pass []byte) host.Command {
	return host.Command{Tool: host.SystemdCryptenroll, Env: []string{"PASSWORD=" + string(pass)},
		Args: []string{"--tpm2-device=auto", "--tpm2-pcrs=7", dev}}
}

func luksOpenCommand(e *partition.Encryption, dev string, pass []byte) host.Command {
	return host.Command{Tool: host.Cryptsetup, Stdin: pass,
		Args: []string{"open", "--type", "luks2", "--key-file", "-", dev, e.MapperName()}}
}

// encrypt makes dev a LUKS2 volume, enrols the TPM2 when planned, opens
// it and returns the opened device.
func (r *run) encrypt(ctx context.Context, dev string) (string, error) {
	e := r.p.Layout.Encryption
	pass, ok := e.Passphrase()
	if !ok || len(pass) == 0 {
		return "", Errorf(ClassInvalidInput, "plan again from the answers (a plan read back from JSON carries no passphrase)",
			"the plan encrypts root but holds no passphrase")
	}
	if err := r.runTool(ctx, StepFormat, luksFormatCommand(e, dev, pass)); err != nil {
		return "", fmt.Errorf("make the LUKS2 volume on %s: %w", dev, err)
	}
	if e.TPM2 {
		if err := r.runTool(ctx, StepFormat, tpm2EnrollCommand(dev, pass)); err != nil {
			return "", fmt.Errorf("enrol the TPM2 in the LUKS2 volume on %s: %w; the machine needs a TPM2 (or drop tpm2 and unlock with the passphrase)", dev, err)
		}
		r.log(StepFormat, "info", "enrolled the TPM2 (PCR 7); the passphrase stays as the recovery passphrase")
	}
	if err := r.journalStep(CheckpointLUKSFormatted); err != nil {
		return "", err
	}
	if err := r.runTool(ctx, StepFormat, luksOpenCommand(e, dev, pass)); err != nil {
		return "", fmt.Errorf("open the LUKS2 volume on %s: %w", dev, err)
	}
	r.luksOpen = e.MapperName()
	return "/dev/mapper/" + e.MapperName(), nil
}

func (r *run) mount(ctx context.Context) error {
	dir := r.p.TargetDir
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create the target directory: %w", err)
	}
	if ents, err := os.ReadDir(dir); err != nil || len(ents) > 0 {
		return Errorf(ClassEnvironment, "unmount or empty it first", "target directory %s is not empty", dir)
	}
	order := []partition.Role{partition.RoleRoot, partition.RoleBoot, partition.RoleESP}
	for _, role := range order {
		pl, ok := r.p.Layout.Find(role)
		if !ok {
			continue
		}
		_, dev, err := r.partPath(role)
		if err != nil {
			return err
		}
		if pl.Encrypted && r.luksOpen != "" {
			dev = "/dev/mapper/" + r.luksOpen
		}
		at := filepath.Join(dir, pl.Mountpoint)
		if err := os.MkdirAll(at, 0o755); err != nil {
			return fmt.Errorf("create mount point %s: %w", at, err)
		}
		var c host.Command
		switch {
		case role == partition.RoleESP && r.e.FuseESP:
			c = host.Command{Tool: host.Fusefat, Args: []string{"-o", "rw+", dev, at}}
		case role == partition.RoleESP:
			c = host.Command{Tool: host.Mount, Args: []string{"-t", "vfat", "-o", "umask=0077", dev, at}}
		default:
			c = host.Command{Tool: host.Mount, Args: []string{dev, at}}
		}
		if err := r.runTool(ctx, StepMount, c); err != nil {
			return fmt.Errorf("mount %s at %s: %w", dev, at, err)
		}
		r.mounts = append(r.mounts, mount{dir: at})
	}
	// bootc requires /boot in the target root; with no separate /boot
	// partition the ESP mount above already made it.
	return r.journalStep(CheckpointMounted)
}

// releaseStorage undoes what the storage steps hold: mounts, the opened
// LUKS volume, and after a failure the new table (whole disk: wiped; free
// space: the original table written back byte for byte), unless the plan
// preserves it. The journal goes once the disk is in a final state.
func (r *run) releaseStorage(ctx context.Context, failed bool) []error {
	var errs []error
	for i := len(r.mounts) - 1; i >= 0; i-- {
		m := r.mounts[i]
		if err := r.runTool(ctx, StepUnmount, host.Command{Tool: host.Umount, Args: []string{m.dir}}); err != nil {
			errs = append(errs, fmt.Errorf("unmount %s: %w", m.dir, err))
		}
	}
	r.mounts = nil
	if r.luksOpen != "" {
		if err := r.runTool(ctx, StepUnmount, host.Command{Tool: host.Cryptsetup, Args: []string{"close", r.luksOpen}}); err != nil {
			errs = append(errs, fmt.Errorf("close the LUKS2 volume %s: %w", r.luksOpen, err))
		} else {
			r.luksOpen = ""
		}
	}
	final := !failed // the disk holds what the plan wanted
	switch {
	case !failed || !r.written:
	case r.p.PreserveOnError:
		final = true
		r.log(StepUnmount, "info", "kept the half-written disk as preserve_on_error asks; it may not boot")
	case r.p.Layout.Kind == partition.KindFree && r.original != nil:
		if err := partition.RestoreTable(r.device, *r.original); err != nil {
			errs = append(errs, fmt.Errorf("restore the original table of %s: %w; the journal %s keeps it for the next run", r.device, err, r.journal.Path()))
		} else {
			final = true
			r.log(StepUnmount, "info", fmt.Sprintf("restored the original partition table of %s byte for byte (%d partitions), so the disk is as it was before (set preserve_on_error to keep the half-install)", r.device, len(r.original.Partitions)))
		}
	default:
		if err := partition.Wipe(r.device); err != nil {
			errs = append(errs, fmt.Errorf("wipe the half-written table on %s: %w", r.device, err))
		} else {
			final = true
			r.log(StepUnmount, "info", "wiped the new partition table so a half-finished install can never boot (set preserve_on_error to keep it)")
		}
	}
	if failed && !r.written {
		final = true // nothing was written
	}
	if r.journal != nil && final && len(errs) == 0 {
		if err := r.journal.Remove(); err != nil {
			errs = append(errs, err)
		}
	}
	if r.loop {
		if err := partition.RemovePartitionNodes(r.device); err != nil {
			errs = append(errs, err)
		}
		if err := r.runTool(ctx, StepUnmount, host.Command{Tool: host.Losetup, Args: []string{"-d", r.device}}); err != nil {
			errs = append(errs, fmt.Errorf("detach %s: %w", r.device, err))
		}
	}
	return errs
}

// storageTools are the programs the plan's storage steps run.
func storageTools(p *Plan, isRoot bool) []host.Tool {
	var tools []host.Tool
	if esp, ok := p.Layout.Find(partition.RoleESP); !ok || !esp.Keep || isRoot {
		tools = append(tools, host.MkfsFat)
	}
	if !isRoot {
		return tools
	}
	if mkfs, ok := host.MkfsFor(p.Filesystem); ok {
		tools = append(tools, mkfs)
	}
	if e := p.Layout.Encryption; e != nil {
		tools = append(tools, host.Cryptsetup)
		if e.TPM2 {
			tools = append(tools, host.SystemdCryptenroll)
		}
	}
	return tools
}
