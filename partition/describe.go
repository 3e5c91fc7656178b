package partition

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/diskfs/go-diskfs/backend"
	"github.com/diskfs/go-diskfs/partition/gpt"
	"github.com/diskfs/go-diskfs/partition/mbr"
	"golang.org/x/sys/unix"
)

// Describe describes the image file or whole-disk block device at path:
// size, sector sizes, the partition table and the filesystems on it. A
// block device is described as Scan would (sysfs fields, refusals); an
// image file is taken to have 512-byte sectors.
func Describe(path string) (Disk, error) {
	return DescribeWithSectorSize(path, 0)
}

// DescribeWithSectorSize is Describe for an image file meant to become a
// disk with sectorSize-byte sectors (512 or 4096; 0 means 512). For a
// block device the device's own sector size counts; a different non-zero
// sectorSize is an error.
func DescribeWithSectorSize(path string, sectorSize int) (Disk, error) {
	t, err := resolveTarget(path)
	if err != nil {
		return Disk{}, fmt.Errorf("describe %s: %w", path, err)
	}
	if t.block {
		sysDir, err := blockSysDir(t.path)
		if err != nil {
			return Disk{}, fmt.Errorf("describe %s: %w", path, err)
		}
		s, err := newScanner(ScanOptions{})
		if err != nil {
			return Disk{}, fmt.Errorf("describe %s: %w", path, err)
		}
		s.flush = true
		d, ok := s.disk(filepath.Base(sysDir))
		if !ok {
			return Disk{}, fmt.Errorf("describe %s: %s is not a disk the installer can use (a RAM, device-mapper, RAID or unattached loop device)", path, filepath.Base(sysDir))
		}
		if sectorSize != 0 && sectorSize != d.LogicalSectorSize {
			return Disk{}, fmt.Errorf("describe %s: the device has %d-byte sectors, not %d; leave the sector size out for block devices", path, d.LogicalSectorSize, sectorSize)
		}
		return d, nil
	}

	if sectorSize == 0 {
		sectorSize = 512
	}
	if sectorSize != 512 && sectorSize != 4096 {
		return Disk{}, fmt.Errorf("describe %s: sector size %d is not supported; use 512 or 4096", path, sectorSize)
	}
	f, err := os.Open(t.path)
	if err != nil {
		return Disk{}, fmt.Errorf("describe %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Disk{}, fmt.Errorf("describe %s: %w", path, err)
	}
	d := Disk{
		Path:               path,
		Name:               filepath.Base(path),
		ImageFile:          true,
		Transport:          "file",
		SizeBytes:          uint64(fi.Size()),
		LogicalSectorSize:  sectorSize,
		PhysicalSectorSize: sectorSize,
	}
	if unix.Access(t.path, unix.W_OK) != nil {
		d.ReadOnly = true
		d.Refusals = append(d.Refusals, "read-only: the image file is not writable")
	}
	readContents(f, &d)
	attachJournal(&d, f)
	return d, nil
}

// readContents fills in d's table, partitions and filesystems from the
// disk's bytes. Unreadable or unknown contents leave the fields empty:
// inventory must not fail because a disk holds something odd.
func readContents(f backend.File, d *Disk) {
	ss := d.LogicalSectorSize
	if ss != 512 && ss != 4096 || d.SizeBytes < uint64(4*ss) {
		return
	}
	defer summarize(d)
	if t, err := gpt.Read(f, ss, d.PhysicalSectorSize); err == nil {
		d.Table = "gpt"
		d.DiskGUID = strings.ToUpper(t.GUID)
		for _, p := range t.Partitions {
			e := Existing{
				Index:      p.Index,
				StartBytes: p.Start * uint64(ss),
				SizeBytes:  (p.End - p.Start + 1) * uint64(ss),
				TypeGUID:   strings.ToUpper(string(p.Type)),
				Name:       p.Name,
				GUID:       strings.ToUpper(p.GUID),
				Attributes: p.Attributes,
			}
			e.Filesystem, e.Label = probe(f, int64(e.StartBytes), int64(e.SizeBytes))
			e.Content = inspect(f, &e)
			d.Partitions = append(d.Partitions, e)
		}
		if h := checkGPT(f, d.SizeBytes, ss); h.Problem() {
			d.GPT = &h
		}
		wholeDiskISO(f, d)
		return
	}
	if h := checkGPT(f, d.SizeBytes, ss); h.Problem() {
		// neither copy reads, but there are signs of a GPT: say so rather
		// than calling the disk empty
		d.GPT = &h
	}
	// A FAT or NTFS volume written straight to the disk ends its boot
	// sector with 55AA like an MBR, and its boot code can pass as empty
	// MBR entries: a filesystem at sector 0 wins over an MBR.
	if fs, label := probe(f, 0, int64(d.SizeBytes)); fs != "" && fs != "iso9660" {
		d.Filesystem, d.Label = fs, label
		return
	}
	if t, err := mbr.Read(f, ss, d.PhysicalSectorSize); err == nil && !protectiveOnly(t) {
		d.Table = "mbr"
		for _, p := range t.Partitions {
			if p.Type == mbr.Empty || p.Size == 0 {
				continue
			}
			e := Existing{
				Index:      p.Index,
				StartBytes: uint64(p.Start) * uint64(ss),
				SizeBytes:  uint64(p.Size) * uint64(ss),
				MBRType:    fmt.Sprintf("0x%02x", byte(p.Type)),
			}
			e.Filesystem, e.Label = probe(f, int64(e.StartBytes), int64(e.SizeBytes))
			e.Content = inspect(f, &e)
			d.Partitions = append(d.Partitions, e)
		}
	}
	wholeDiskISO(f, d)
}

// wholeDiskISO notes an ISO 9660 image written to the disk (a live USB
// stick), which carries a partition table as well.
func wholeDiskISO(f backend.File, d *Disk) {
	if d.Filesystem != "" {
		return
	}
	if fs, label := probe(f, 0, int64(d.SizeBytes)); fs == "iso9660" {
		d.Filesystem, d.Label = fs, label
	}
}

// protectiveOnly reports an MBR that only protects a GPT (type 0xEE): when
// the GPT itself is unreadable, that is a damaged GPT, not an MBR disk.
func protectiveOnly(t *mbr.Table) bool {
	for _, p := range t.Partitions {
		if p.Type == mbr.GPTProtective {
			return true
		}
	}
	return false
}
