package partition

import (
	"bytes"
	"encoding/binary"
	"io"
	"strings"
)

// probeBytes covers every signature probe looks at: the btrfs superblock
// at 64 KiB is the farthest.
const probeBytes = 65536 + 4096

// probe names the filesystem (or LUKS / swap) whose signature is at off,
// and its label, reading at most size bytes. Names follow blkid: vfat,
// xfs, ext4, ext3, ext2, btrfs, ntfs, swap, crypto_LUKS, iso9660. Types
// that own sector 0 are checked first, so a leftover superblock deeper in
// does not win over a newer filesystem.
func probe(r io.ReaderAt, off, size int64) (fstype, label string) {
	n := int64(probeBytes)
	if size > 0 && size < n {
		n = size
	}
	b := make([]byte, n)
	got, _ := r.ReadAt(b, off)
	return probeBuffer(b[:max(got, 0)])
}

func probeBuffer(b []byte) (fstype, label string) {
	has := func(at int, sig string) bool {
		return len(b) >= at+len(sig) && string(b[at:at+len(sig)]) == sig
	}
	switch {
	case has(0, "LUKS\xba\xbe"):
		// LUKS2 keeps a label in its binary header; LUKS1 has none
		if len(b) >= 72 && binary.BigEndian.Uint16(b[6:8]) == 2 {
			label = cString(b[24:72])
		}
		return "crypto_LUKS", label
	case has(0, "XFSB"):
		if len(b) >= 120 {
			label = cString(b[108:120])
		}
		return "xfs", label
	case has(82, "FAT32   ") && fatBootSector(b):
		return "vfat", fatLabel(b[71:82])
	case (has(54, "FAT12   ") || has(54, "FAT16   ") || has(54, "FAT     ")) && fatBootSector(b):
		return "vfat", fatLabel(b[43:54])
	case has(3, "NTFS    "):
		// the NTFS label lives in the $Volume file, not the boot sector
		return "ntfs", ""
	case len(b) >= 1160 && binary.LittleEndian.Uint16(b[1080:1082]) == 0xEF53:
		return extVersion(b[1024:]), cString(b[1144:1160])
	case has(65600, "_BHRfS_M"):
		if len(b) >= 65536+0x12B+256 {
			label = cString(b[65536+0x12B : 65536+0x12B+256])
		}
		return "btrfs", label
	}
	for _, page := range []int{4096, 8192, 16384, 65536} {
		if has(page-10, "SWAPSPACE2") {
			if len(b) >= 1068 {
				label = cString(b[1052:1068])
			}
			return "swap", label
		}
		if has(page-10, "SWAP-SPACE") {
			return "swap", ""
		}
	}
	if len(b) > 32768 && b[32768] == 1 && has(32769, "CD001") {
		if len(b) >= 32840 {
			label = strings.TrimRight(string(b[32808:32840]), " \x00")
		}
		return "iso9660", label
	}
	return "", ""
}

// fatBootSector checks what every FAT boot sector has, so "FAT32" text in
// other data is not mistaken for one.
func fatBootSector(b []byte) bool {
	if len(b) < 512 || b[510] != 0x55 || b[511] != 0xAA {
		return false
	}
	switch binary.LittleEndian.Uint16(b[11:13]) {
	case 512, 1024, 2048, 4096:
		return true
	}
	return false
}

func fatLabel(b []byte) string {
	l := strings.TrimRight(string(b), " \x00")
	if l == "NO NAME" {
		return ""
	}
	return l
}

// extVersion tells ext4 from ext3 and ext2 by the superblock's features,
// as blkid does.
func extVersion(sb []byte) string {
	compat := binary.LittleEndian.Uint32(sb[0x5C:])
	incompat := binary.LittleEndian.Uint32(sb[0x60:])
	const (
		compatJournal    = 0x4
		incompatExtents  = 0x40
		incompat64bit    = 0x80
		incompatFlexBG   = 0x200
		incompatJournDev = 0x8
	)
	switch {
	case incompat&incompatJournDev != 0:
		return "jbd"
	case incompat&(incompatExtents|incompat64bit|incompatFlexBG) != 0:
		return "ext4"
	case compat&compatJournal != 0:
		return "ext3"
	}
	return "ext2"
}

func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return strings.TrimSpace(string(b))
}
