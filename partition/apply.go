package partition

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	diskfs "github.com/diskfs/go-diskfs"
	"github.com/diskfs/go-diskfs/backend"
	"github.com/diskfs/go-diskfs/backend/file"
	"github.com/diskfs/go-diskfs/disk"
	"github.com/diskfs/go-diskfs/partition/gpt"
)

// Applied is what Apply made.
type Applied struct {
	// PartitionPaths maps partition index to its device node
	// (/dev/loop0p2); empty for image files, which have no nodes.
	PartitionPaths map[int]string `json:"partition_paths"`
}

// target is a resolved disk path: by-id links become /dev/sdX so that
// partition nodes and sysfs names follow the kernel's name.
type target struct {
	given, path string
	block       bool
}

func resolveTarget(path string) (target, error) {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return target{}, err
	}
	fi, err := os.Stat(real)
	if err != nil {
		return target{}, err
	}
	switch {
	case isBlockDevice(fi):
		return target{given: path, path: real, block: true}, nil
	case fi.Mode().IsRegular():
		return target{given: path, path: real}, nil
	default:
		return target{}, fmt.Errorf("%s is neither a block device nor a regular file", real)
	}
}

// Checkpoints ApplyOptions.Checkpoint sees, in order: after each durable
// write of the table (go-diskfs writes the backup copy before the primary,
// so until the last write readers still find a consistent copy).
const (
	CheckpointProtectiveMBR  = "gpt-protective-mbr"
	CheckpointBackupEntries  = "gpt-backup-entries"
	CheckpointBackupHeader   = "gpt-backup-header"
	CheckpointPrimaryEntries = "gpt-primary-entries"
	CheckpointPrimaryHeader  = "gpt-primary-header"
)

var writeCheckpoints = []string{CheckpointProtectiveMBR, CheckpointBackupEntries, CheckpointBackupHeader, CheckpointPrimaryEntries, CheckpointPrimaryHeader}

// ApplyOptions are the optional parts of ApplyWith.
type ApplyOptions struct {
	// Checkpoint, when set, is called after each durable write of the
	// table with its name (CheckpointBackupEntries...). The engine passes
	// its own checkpoint hook; tests kill the process there to prove a
	// re-run recovers. Production leaves it nil.
	Checkpoint func(point string)
	// Original is the table the disk held before the install (from a
	// journal). The kept partitions of a free-space layout are checked
	// against it rather than against the disk, which an interrupted run
	// may have changed.
	Original *SavedTable
}

// Apply writes l as a new GPT (protective MBR, primary and backup) to the
// image file or whole-disk block device at path, replacing any table. For
// a block device it also makes the kernel register exactly the planned
// partitions and waits for their nodes. The disk is closed on return so
// mkfs can open the partitions.
func Apply(path string, l Layout) (Applied, error) { return ApplyWith(path, l, ApplyOptions{}) }

// ApplyWith is Apply with options. For a free-space layout it first
// checks that every kept partition is exactly as planned (position, type,
// GUID, attributes, name) in the original table, and writes those entries
// back unchanged along with the disk GUID.
func ApplyWith(path string, l Layout, o ApplyOptions) (Applied, error) {
	applied := Applied{PartitionPaths: map[int]string{}}
	if _, err := l.validate(); err != nil {
		return applied, fmt.Errorf("apply layout to %s: %w", path, err)
	}
	t, err := resolveTarget(path)
	if err != nil {
		return applied, fmt.Errorf("apply layout to %s: open: %w", path, err)
	}
	var sysDir string
	if t.block {
		if sysDir, err = blockSysDir(t.path); err != nil {
			return applied, fmt.Errorf("apply layout to %s: open: %w", path, err)
		}
	}
	// file.OpenFromPath records the path, which go-diskfs's BLKPG fallback
	// needs; diskfs.Open does not.
	b, err := file.OpenFromPath(t.path, false)
	if err != nil {
		return applied, fmt.Errorf("apply layout to %s: open: %w; check that nothing has the disk open", path, err)
	}
	d, err := diskfs.OpenBackend(b, diskfs.WithOpenMode(diskfs.ReadWriteExclusive), diskfs.WithSectorSize(diskfs.SectorSize(l.SectorSize)))
	if err != nil {
		b.Close()
		return applied, fmt.Errorf("apply layout to %s: open: %w", path, err)
	}
	closed := false
	defer func() {
		if !closed {
			d.Close()
		}
	}()
	if int(d.LogicalBlocksize) != l.SectorSize || uint64(d.Size) != l.DiskSizeBytes {
		return applied, fmt.Errorf("apply layout to %s: the disk has %d bytes in %d-byte sectors but the layout was planned for %d bytes in %d-byte sectors; describe the disk again and plan for it",
			path, d.Size, d.LogicalBlocksize, l.DiskSizeBytes, l.SectorSize)
	}

	if l.Kind == KindFree {
		if err := checkKept(d.Backend, l, o.Original); err != nil {
			return applied, fmt.Errorf("apply layout to %s: %w", path, err)
		}
	}

	table := &gpt.Table{
		LogicalSectorSize:  l.SectorSize,
		PhysicalSectorSize: int(d.PhysicalBlocksize),
		ProtectiveMBR:      true, // go-diskfs leaves sector 0 blank otherwise
		GUID:               l.DiskGUID,
	}
	want := map[int][2]uint64{}
	var indexes []int
	for _, p := range l.Partitions {
		table.Partitions = append(table.Partitions, &gpt.Partition{
			Index: p.Index, Start: p.StartSector, End: p.EndSector,
			Type: gpt.Type(strings.ToUpper(p.TypeGUID)), Name: p.Name,
			GUID: p.GUID, Attributes: p.Attributes,
		})
		want[p.Index] = [2]uint64{p.StartBytes(l.SectorSize), p.SizeBytes(l.SectorSize)}
		indexes = append(indexes, p.Index)
	}
	raw, err := d.Backend.Writable()
	if err != nil {
		return applied, fmt.Errorf("apply layout to %s: write table: %w", path, err)
	}
	w := &checkpointWriter{WritableFile: raw, hook: o.Checkpoint}
	// Table.Write rather than Disk.Partition: the partitions built here do
	// not know the sector size (a private field), so go-diskfs's BLKPG
	// fallback would place them at 512-byte offsets on a 4K disk. The
	// re-read below uses the table read back from disk, which knows it.
	if err := table.Write(w, d.Size); err != nil {
		return applied, fmt.Errorf("apply layout to %s: write table: %w", path, err)
	}
	if err := fixProtectiveMBR(w, l); err != nil {
		return applied, fmt.Errorf("apply layout to %s: write table: %w", path, err)
	}
	if err := syncFile(w); err != nil {
		return applied, fmt.Errorf("apply layout to %s: write table: %w", path, err)
	}
	if !t.block {
		closed = true
		if err := d.Close(); err != nil {
			return applied, fmt.Errorf("apply layout to %s: close: %w", path, err)
		}
		return applied, nil
	}

	back, err := gpt.Read(d.Backend, l.SectorSize, int(d.PhysicalBlocksize))
	if err != nil {
		return applied, fmt.Errorf("apply layout to %s: re-read: the table just written does not read back: %w", path, err)
	}
	d.Table = back
	rrErr := d.ReReadPartitionTable()
	if errors.Is(rrErr, disk.ErrReReadDeferred) {
		return applied, fmt.Errorf("apply layout to %s: re-read: %w; unmount its partitions and stop what holds them, then apply again", path, rrErr)
	}
	osFile, err := d.Backend.Sys()
	if err != nil {
		return applied, fmt.Errorf("apply layout to %s: re-read: %w", path, err)
	}
	if err := syncKernelPartitions(osFile, sysDir, want); err != nil {
		if rrErr != nil {
			err = fmt.Errorf("%w (the kernel re-read failed too: %v)", err, rrErr)
		}
		return applied, fmt.Errorf("apply layout to %s: re-read: %w", path, err)
	}
	closed = true
	if err := d.Close(); err != nil {
		return applied, fmt.Errorf("apply layout to %s: close: %w", path, err)
	}
	paths, err := waitForNodes(t.path, sysDir, indexes)
	if err != nil {
		return applied, fmt.Errorf("apply layout to %s: %w", path, err)
	}
	applied.PartitionPaths = paths
	return applied, nil
}

// protectiveMBRSize is the size field of the protective MBR's 0xEE entry:
// the disk minus sector 0, capped at 0xFFFFFFFF as UEFI requires for
// disks past 2 TiB (at 512-byte sectors).
func protectiveMBRSize(l Layout) uint32 {
	n := l.DiskSizeBytes/uint64(l.SectorSize) - 1
	if n > 0xFFFFFFFF {
		return 0xFFFFFFFF
	}
	return uint32(n)
}

// fixProtectiveMBR rewrites the 0xEE entry's size when go-diskfs's
// uint32 conversion wrapped it (disks of 2 TiB and more at 512 bytes).
func fixProtectiveMBR(w interface {
	WriteAt([]byte, int64) (int, error)
}, l Layout) error {
	if l.DiskSizeBytes/uint64(l.SectorSize)-1 <= 0xFFFFFFFF {
		return nil
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], protectiveMBRSize(l))
	if _, err := w.WriteAt(b[:], 446+12); err != nil {
		return fmt.Errorf("write protective MBR size: %w", err)
	}
	return nil
}

// checkpointWriter names each durable write go-diskfs makes of the table
// (a write followed by a sync) and reports it to the hook.
type checkpointWriter struct {
	backend.WritableFile
	hook   func(string)
	writes int
	// reported counts the writes already reported: Apply syncs once more
	// after its own protective MBR fix.
	reported int
}

func (c *checkpointWriter) Sync() error {
	if err := syncFile(c.WritableFile); err != nil {
		return err
	}
	if c.writes > c.reported && c.writes <= len(writeCheckpoints) {
		c.reported = c.writes
		point := writeCheckpoints[c.writes-1]
		if c.hook != nil {
			c.hook(point)
		}
		Checkpoint(point)
	}
	return nil
}

func (c *checkpointWriter) WriteAt(b []byte, off int64) (int, error) {
	c.writes++
	return c.WritableFile.WriteAt(b, off)
}

// checkKept checks a free-space layout's kept partitions against the
// original table (or, without one, the table on the disk, which must then
// be intact in both copies).
func checkKept(r interface {
	ReadAt([]byte, int64) (int, error)
}, l Layout, original *SavedTable) error {
	var parts []Existing
	guid := ""
	if original != nil {
		parts, guid = original.Partitions, original.DiskGUID
	} else {
		h := checkGPT(r, l.DiskSizeBytes, l.SectorSize)
		if h.Problem() && !(h.Primary == CopyMissing && h.Backup == CopyMissing) {
			return fmt.Errorf("the disk's partition table is damaged (%s); uai will not write beside partitions it cannot be sure of; repair the table first", h.Explanation)
		}
		if h.Primary == CopyValid {
			parts = entriesToExisting(h.primaryEntries, l.SectorSize)
			guid = guidString(h.primaryGUID[:])
		}
	}
	idx := map[int]Existing{}
	for _, p := range parts {
		idx[p.Index] = p
	}
	var diffs []string
	kept := 0
	for _, p := range l.Partitions {
		if !p.Keep {
			if e, ok := idx[p.Index]; ok {
				diffs = append(diffs, fmt.Sprintf("partition %d (%s) exists but the layout would replace it", e.Index, e.Name))
			}
			continue
		}
		kept++
		e, ok := idx[p.Index]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("kept partition %d (%s) is not on the disk", p.Index, p.Name))
			continue
		}
		if e.StartBytes != p.StartBytes(l.SectorSize) || e.SizeBytes != p.SizeBytes(l.SectorSize) || !strings.EqualFold(e.TypeGUID, p.TypeGUID) ||
			!strings.EqualFold(e.GUID, p.GUID) || e.Attributes != p.Attributes || e.Name != p.Name {
			diffs = append(diffs, fmt.Sprintf("kept partition %d (%s) differs on the disk", p.Index, p.Name))
		}
	}
	if kept != len(parts) {
		diffs = append(diffs, fmt.Sprintf("the disk has %d partitions but the layout keeps %d", len(parts), kept))
	}
	if l.DiskGUID != "" && !strings.EqualFold(guid, l.DiskGUID) {
		diffs = append(diffs, fmt.Sprintf("the disk GUID is %s, the layout keeps %s", guid, l.DiskGUID))
	}
	if len(diffs) > 0 {
		return fmt.Errorf("the disk changed since the plan: %s; describe the disk and plan again", strings.Join(diffs, "; "))
	}
	return nil
}

func syncFile(w any) error {
	if s, ok := w.(interface{ Sync() error }); ok {
		return s.Sync()
	}
	return nil
}

// Verify reads the table on the disk at path back with go-diskfs and
// compares it with l: every partition's start, end, type and name, the
// protective MBR, and the backup GPT against the primary. The error lists
// every difference.
func Verify(path string, l Layout) error {
	if _, err := l.validate(); err != nil {
		return fmt.Errorf("verify %s: %w", path, err)
	}
	t, err := resolveTarget(path)
	if err != nil {
		return fmt.Errorf("verify %s: open: %w", path, err)
	}
	b, err := file.OpenFromPath(t.path, true)
	if err != nil {
		return fmt.Errorf("verify %s: open: %w", path, err)
	}
	d, err := diskfs.OpenBackend(b, diskfs.WithOpenMode(diskfs.ReadOnly), diskfs.WithSectorSize(diskfs.SectorSize(l.SectorSize)))
	if err != nil {
		b.Close()
		return fmt.Errorf("verify %s: open: %w", path, err)
	}
	defer d.Close()
	if int(d.LogicalBlocksize) != l.SectorSize || uint64(d.Size) != l.DiskSizeBytes {
		return fmt.Errorf("verify %s: the disk has %d bytes in %d-byte sectors but the layout is for %d bytes in %d-byte sectors; verify against the layout planned for this disk",
			path, d.Size, d.LogicalBlocksize, l.DiskSizeBytes, l.SectorSize)
	}
	if f, err := d.Backend.Sys(); err == nil && t.block {
		flushBuffers(f)
	}
	table, err := gpt.Read(d.Backend, l.SectorSize, int(d.PhysicalBlocksize))
	if err != nil {
		return fmt.Errorf("verify %s: read table: no valid GPT: %w; apply the layout again", path, err)
	}
	var diffs []string
	if table.RecoveredFromBackup {
		diffs = append(diffs, "the primary GPT is damaged (the table was read from the backup)")
	}
	diffs = append(diffs, checkProtectiveMBR(d.Backend, l)...)
	if err := table.Verify(d.Backend, l.DiskSizeBytes); err != nil {
		diffs = append(diffs, "backup GPT: "+err.Error())
	}
	diffs = append(diffs, compareBackup(d.Backend, l.DiskSizeBytes, l.SectorSize)...)

	if l.DiskGUID != "" && !strings.EqualFold(table.GUID, l.DiskGUID) {
		diffs = append(diffs, fmt.Sprintf("the disk GUID is %s, planned %s", table.GUID, strings.ToUpper(l.DiskGUID)))
	}
	found := map[int]*gpt.Partition{}
	for _, p := range table.Partitions {
		found[p.Index] = p
	}
	for _, p := range l.Partitions {
		f, ok := found[p.Index]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("partition %d (%s) is missing", p.Index, p.Name))
			continue
		}
		delete(found, p.Index)
		if f.Start != p.StartSector {
			diffs = append(diffs, fmt.Sprintf("partition %d starts at sector %d, planned %d", p.Index, f.Start, p.StartSector))
		}
		if f.End != p.EndSector {
			diffs = append(diffs, fmt.Sprintf("partition %d ends at sector %d, planned %d", p.Index, f.End, p.EndSector))
		}
		if !strings.EqualFold(string(f.Type), p.TypeGUID) {
			diffs = append(diffs, fmt.Sprintf("partition %d has type %s, planned %s", p.Index, f.Type, strings.ToUpper(p.TypeGUID)))
		}
		if f.Name != p.Name {
			diffs = append(diffs, fmt.Sprintf("partition %d is named %q, planned %q", p.Index, f.Name, p.Name))
		}
		if p.GUID != "" && !strings.EqualFold(f.GUID, p.GUID) {
			diffs = append(diffs, fmt.Sprintf("partition %d has GUID %s, planned %s", p.Index, f.GUID, strings.ToUpper(p.GUID)))
		}
		if p.GUID != "" && f.Attributes != p.Attributes {
			diffs = append(diffs, fmt.Sprintf("partition %d has attributes %#x, planned %#x", p.Index, f.Attributes, p.Attributes))
		}
	}
	for _, i := range sortedKeys(found) {
		diffs = append(diffs, fmt.Sprintf("partition %d (%s, sectors %d-%d) is not in the layout", i, found[i].Name, found[i].Start, found[i].End))
	}
	if len(diffs) > 0 {
		return fmt.Errorf("verify %s: the disk does not match the layout: %s; apply the layout again", path, strings.Join(diffs, "; "))
	}
	return nil
}

func checkProtectiveMBR(r interface {
	ReadAt([]byte, int64) (int, error)
}, l Layout) []string {
	b := make([]byte, 512)
	if _, err := r.ReadAt(b, 0); err != nil {
		return []string{"protective MBR: " + err.Error()}
	}
	var diffs []string
	e := b[446:462]
	if b[510] != 0x55 || b[511] != 0xAA {
		diffs = append(diffs, "protective MBR has no 55AA signature")
	}
	if e[4] != 0xEE || binary.LittleEndian.Uint32(e[8:12]) != 1 || binary.LittleEndian.Uint32(e[12:16]) != protectiveMBRSize(l) {
		diffs = append(diffs, fmt.Sprintf("protective MBR entry is type %#02x from sector %d for %d sectors, want 0xee from 1 for %d",
			e[4], binary.LittleEndian.Uint32(e[8:12]), binary.LittleEndian.Uint32(e[12:16]), protectiveMBRSize(l)))
	}
	for i := 1; i < 4; i++ {
		for _, c := range b[446+16*i : 446+16*(i+1)] {
			if c != 0 {
				diffs = append(diffs, fmt.Sprintf("protective MBR entry %d is not empty", i+1))
				break
			}
		}
	}
	return diffs
}

// Regions Wipe zeroes on an image file, whose sector size it cannot know:
// the larger of the 512-byte and 4096-byte GPTs (MBR+header+entries is
// 34*512 or 6*4096 bytes at the start; entries+header 33*512 or 5*4096
// at the end).
const (
	wipeHeadBytes = 6 * 4096
	wipeTailBytes = 5 * 4096
)

// Wipe makes the disk at path blank again: it zeroes the MBR sector, the
// primary GPT and the backup GPT, and for a block device removes the
// kernel's partitions. Used to undo a half-done install so it never boots.
// Partition contents stay, but nothing points at them.
func Wipe(path string) error {
	t, err := resolveTarget(path)
	if err != nil {
		return fmt.Errorf("wipe %s: open: %w", path, err)
	}
	// O_EXCL on a block device fails while a partition is mounted or held,
	// which is exactly when wiping would pull a filesystem from under its
	// users.
	f, err := os.OpenFile(t.path, os.O_RDWR|os.O_EXCL, 0)
	if err != nil {
		return fmt.Errorf("wipe %s: open: %w; unmount its partitions and stop what holds them", path, err)
	}
	defer f.Close()
	var size uint64
	head, tail := uint64(wipeHeadBytes), uint64(wipeTailBytes)
	sysDir := ""
	if t.block {
		ls, _, sz, err := blockSectorSizes(f)
		if err != nil {
			return fmt.Errorf("wipe %s: %w", path, err)
		}
		if sysDir, err = blockSysDir(t.path); err != nil {
			return fmt.Errorf("wipe %s: %w", path, err)
		}
		size = sz
		entries := uint64(gptEntriesBytes) / uint64(ls)
		head, tail = (2+entries)*uint64(ls), (1+entries)*uint64(ls)
	} else {
		fi, err := f.Stat()
		if err != nil {
			return fmt.Errorf("wipe %s: %w", path, err)
		}
		size = uint64(fi.Size())
	}
	// the backup GPT ends at the last whole sector; for an image of an odd
	// size that is before the end of the file
	tailStart := uint64(0)
	if end := size / 4096 * 4096; end > tail {
		tailStart = end - tail
	}
	if t.block {
		tailStart = size - min(size, tail)
	}
	if err := zeroRange(f, 0, min(head, size)); err != nil {
		return fmt.Errorf("wipe %s: zero primary GPT: %w", path, err)
	}
	if err := zeroRange(f, tailStart, size); err != nil {
		return fmt.Errorf("wipe %s: zero backup GPT: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("wipe %s: sync: %w", path, err)
	}
	if t.block {
		if err := removeKernelPartitions(f, sysDir); err != nil {
			return fmt.Errorf("wipe %s: remove partition nodes: %w", path, err)
		}
	}
	return nil
}

func zeroRange(f *os.File, from, to uint64) error {
	if to <= from {
		return nil
	}
	zero := make([]byte, to-from)
	_, err := f.WriteAt(zero, int64(from))
	return err
}
