package discover

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/diskfs/go-diskfs/backend"
	"github.com/diskfs/go-diskfs/backend/file"
	"github.com/diskfs/go-diskfs/filesystem"
	"github.com/diskfs/go-diskfs/filesystem/ext4"
	"github.com/diskfs/go-diskfs/filesystem/fat12"
	"github.com/diskfs/go-diskfs/filesystem/fat16"
	"github.com/diskfs/go-diskfs/filesystem/fat32"
	"github.com/diskfs/go-diskfs/filesystem/iso9660"

	"github.com/universal-atomic-installer/uai/installer/answers"
	"github.com/universal-atomic-installer/uai/partition"
)

// Files are read straight from the volume's bytes with go-diskfs, never
// by mounting: mounting needs root and the filesystem's kernel module
// (some kernels have no vfat), and a mount of an unknown stick is a write
// waiting to happen.

// Volume is one filesystem on a disk: a partition, or a filesystem
// written over the whole disk (a "superfloppy" stick, an ISO).
type Volume struct {
	// Device is the disk's path (a block device or an image file).
	Device string
	// Name says which part of Device, for logs: "sdb1", "sdb".
	Name       string
	Offset     int64
	Size       int64
	Filesystem string
	Label      string
}

// Volumes lists the filesystems on d that uai can read files from.
func Volumes(d partition.Disk) []Volume {
	var out []Volume
	if d.Filesystem != "" {
		out = append(out, Volume{Device: d.Path, Name: d.Name, Size: int64(d.SizeBytes), Filesystem: d.Filesystem, Label: d.Label})
	}
	for _, p := range d.Partitions {
		if p.Filesystem == "" {
			continue
		}
		out = append(out, Volume{
			Device: d.Path, Name: fmt.Sprintf("%s%s%d", d.Name, partSep(d.Name), p.Index),
			Offset: int64(p.StartBytes), Size: int64(p.SizeBytes), Filesystem: p.Filesystem, Label: p.Label,
		})
	}
	return out
}

// partSep is the kernel's partition-name separator: nvme0n1p1, sda1.
func partSep(name string) string {
	if name != "" && name[len(name)-1] >= '0' && name[len(name)-1] <= '9' {
		return "p"
	}
	return ""
}

func (v Volume) String() string {
	s := v.Name
	if v.Label != "" {
		s += " (" + v.Filesystem + " labelled " + v.Label + ")"
	} else {
		s += " (" + v.Filesystem + ")"
	}
	return s
}

// errNoFile marks a volume that is readable but lacks the file.
var errNoFile = errors.New("no such file on the volume")

// ReadFile reads name (an absolute path on the volume) from v, at most
// answers.MaxSizeBytes.
func (v Volume) ReadFile(name string) ([]byte, error) {
	st, err := file.OpenFromPath(v.Device, true)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", v.Device, err)
	}
	defer st.Close()
	size := v.Size
	if size <= 0 {
		size, err = storageSize(st)
		if err != nil {
			return nil, fmt.Errorf("size of %s: %w", v.Device, err)
		}
	}
	fsys, err := openFS(st, v.Filesystem, v.Offset, size)
	if err != nil {
		return nil, fmt.Errorf("read the %s filesystem on %s: %w", v.Filesystem, v.Name, err)
	}
	rel, err := resolve(fsys, name, v.Filesystem != "ext2" && v.Filesystem != "ext3" && v.Filesystem != "ext4")
	if err != nil {
		return nil, fmt.Errorf("%s on %s: %w", name, v, err)
	}
	f, err := fsys.Open(rel)
	if err != nil {
		return nil, fmt.Errorf("open %s on %s: %w", name, v, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, answers.MaxSizeBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s on %s: %w", name, v, err)
	}
	if len(data) > answers.MaxSizeBytes {
		return nil, fmt.Errorf("%s on %s is larger than %d bytes; it is not an answer file", name, v, answers.MaxSizeBytes)
	}
	return data, nil
}

func storageSize(st backend.Storage) (int64, error) {
	if f, err := st.Sys(); err == nil && f != nil {
		// A block device's Stat size is 0; seeking to the end tells.
		if n, err := f.Seek(0, io.SeekEnd); err == nil && n > 0 {
			return n, nil
		}
	}
	fi, err := st.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// openFS opens the filesystem of type fstype (as blkid names it) at off.
func openFS(st backend.Storage, fstype string, off, size int64) (filesystem.FileSystem, error) {
	switch fstype {
	case "vfat":
		boot := make([]byte, 512)
		if _, err := st.ReadAt(boot, off); err != nil {
			return nil, err
		}
		switch {
		case string(boot[82:90]) == "FAT32   ":
			return fat32.Read(st, size, off, 512)
		case string(boot[54:62]) == "FAT12   ":
			return fat12.Read(st, size, off, 512)
		default:
			return fat16.Read(st, size, off, 512)
		}
	case "ext2", "ext3", "ext4":
		return ext4.Read(st, size, off, 512)
	case "iso9660":
		return iso9660.Read(st, size, off, 2048)
	}
	return nil, fmt.Errorf("uai cannot read files from %s; use a FAT, ext4 or ISO 9660 volume", fstype)
}

// probeDevice names the filesystem written at the start of a device or
// image file, for hd:DEVICE and cdrom: locations that name no table.
func probeDevice(path string) (fstype, label string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	b := make([]byte, 34816)
	n, _ := f.ReadAt(b, 0)
	b = b[:n]
	switch {
	case len(b) >= 32840 && b[32768] == 1 && string(b[32769:32774]) == "CD001":
		return "iso9660", strings.TrimRight(string(b[32808:32840]), " \x00"), nil
	case len(b) >= 512 && b[510] == 0x55 && b[511] == 0xAA && string(b[82:87]) == "FAT32":
		return "vfat", strings.TrimRight(string(b[71:82]), " "), nil
	case len(b) >= 512 && b[510] == 0x55 && b[511] == 0xAA && string(b[54:57]) == "FAT":
		return "vfat", strings.TrimRight(string(b[43:54]), " "), nil
	case len(b) >= 1160 && binary.LittleEndian.Uint16(b[1080:1082]) == 0xEF53:
		return "ext4", strings.TrimRight(string(b[1144:1160]), "\x00"), nil
	}
	return "", "", fmt.Errorf("%s holds no FAT, ext4 or ISO 9660 filesystem at its start", path)
}

// resolve finds name on fsys by listing each directory on the way, so a
// missing file is told apart from an unreadable one the same way on every
// filesystem type; FAT and ISO 9660 compare names without case, as their
// drivers do.
func resolve(fsys filesystem.FileSystem, name string, foldCase bool) (string, error) {
	dir := "."
	for _, part := range strings.Split(strings.Trim(name, "/"), "/") {
		if part == "" || part == "." || part == ".." {
			return "", fmt.Errorf("%q is not a plain path: %w", name, errNoFile)
		}
		entries, err := fsys.ReadDir(dir)
		if err != nil {
			return "", fmt.Errorf("list %s: %w", dir, err)
		}
		found := ""
		for _, e := range entries {
			if e.Name() == part || foldCase && strings.EqualFold(e.Name(), part) {
				found = e.Name()
				break
			}
		}
		if found == "" {
			return "", errNoFile
		}
		if dir == "." {
			dir = found
		} else {
			dir = dir + "/" + found
		}
	}
	return dir, nil
}
