package partition

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"unicode/utf16"
)

// gptHeader is the part of a GPT header Verify compares. go-diskfs keeps
// these fields private and its Table.Verify checks only the usable range,
// so the backup copy is checked here byte for byte.
type gptHeader struct {
	myLBA, alternateLBA     uint64
	firstUsable, lastUsable uint64
	diskGUID                [16]byte
	entriesLBA              uint64
	entryCount, entrySize   uint32
	entriesCRC              uint32
}

// readGPTHeader reads and checks the header at lba: signature, revision,
// size, CRC, then its entry array's CRC. entries is the raw array.
func readGPTHeader(r io.ReaderAt, lba uint64, sectorSize int) (h gptHeader, entries []byte, err error) {
	b := make([]byte, sectorSize)
	if _, err := r.ReadAt(b, int64(lba)*int64(sectorSize)); err != nil {
		return h, nil, fmt.Errorf("read GPT header at sector %d: %w", lba, err)
	}
	if !bytes.Equal(b[0:8], []byte("EFI PART")) {
		return h, nil, fmt.Errorf("no GPT header signature at sector %d", lba)
	}
	size := binary.LittleEndian.Uint32(b[12:16])
	if size < 92 || int(size) > sectorSize {
		return h, nil, fmt.Errorf("GPT header at sector %d has size %d", lba, size)
	}
	want := binary.LittleEndian.Uint32(b[16:20])
	hdr := append([]byte(nil), b[:size]...)
	copy(hdr[16:20], []byte{0, 0, 0, 0})
	if got := crc32.ChecksumIEEE(hdr); got != want {
		return h, nil, fmt.Errorf("GPT header at sector %d has a bad CRC (stored %08x, computed %08x)", lba, want, got)
	}
	h = gptHeader{
		myLBA:        binary.LittleEndian.Uint64(b[24:32]),
		alternateLBA: binary.LittleEndian.Uint64(b[32:40]),
		firstUsable:  binary.LittleEndian.Uint64(b[40:48]),
		lastUsable:   binary.LittleEndian.Uint64(b[48:56]),
		entriesLBA:   binary.LittleEndian.Uint64(b[72:80]),
		entryCount:   binary.LittleEndian.Uint32(b[80:84]),
		entrySize:    binary.LittleEndian.Uint32(b[84:88]),
		entriesCRC:   binary.LittleEndian.Uint32(b[88:92]),
	}
	copy(h.diskGUID[:], b[56:72])
	n := int(h.entryCount) * int(h.entrySize)
	if n <= 0 || n > 1<<20 {
		return h, nil, fmt.Errorf("GPT header at sector %d has %d entries of %d bytes", lba, h.entryCount, h.entrySize)
	}
	entries = make([]byte, n)
	if _, err := r.ReadAt(entries, int64(h.entriesLBA)*int64(sectorSize)); err != nil {
		return h, nil, fmt.Errorf("read GPT entries at sector %d: %w", h.entriesLBA, err)
	}
	if got := crc32.ChecksumIEEE(entries); got != h.entriesCRC {
		return h, nil, fmt.Errorf("GPT entries at sector %d have a bad CRC (stored %08x, computed %08x)", h.entriesLBA, h.entriesCRC, got)
	}
	return h, entries, nil
}

// compareBackup lists every way the backup GPT at the end of the disk
// differs from what the primary promises.
func compareBackup(r io.ReaderAt, sizeBytes uint64, sectorSize int) []string {
	total := sizeBytes / uint64(sectorSize)
	primary, pEntries, err := readGPTHeader(r, 1, sectorSize)
	if err != nil {
		return []string{"primary " + err.Error()}
	}
	var diffs []string
	if primary.myLBA != 1 {
		diffs = append(diffs, fmt.Sprintf("primary GPT header says it is at sector %d, not 1", primary.myLBA))
	}
	if primary.alternateLBA != total-1 {
		diffs = append(diffs, fmt.Sprintf("primary GPT header puts the backup at sector %d, but the disk's last sector is %d", primary.alternateLBA, total-1))
	}
	backup, bEntries, err := readGPTHeader(r, total-1, sectorSize)
	if err != nil {
		return append(diffs, "backup "+err.Error())
	}
	if backup.myLBA != total-1 || backup.alternateLBA != 1 {
		diffs = append(diffs, fmt.Sprintf("backup GPT header says it is at sector %d with the primary at %d; want %d and 1", backup.myLBA, backup.alternateLBA, total-1))
	}
	if backup.firstUsable != primary.firstUsable || backup.lastUsable != primary.lastUsable {
		diffs = append(diffs, fmt.Sprintf("backup GPT usable sectors %d-%d differ from the primary's %d-%d", backup.firstUsable, backup.lastUsable, primary.firstUsable, primary.lastUsable))
	}
	if backup.diskGUID != primary.diskGUID {
		diffs = append(diffs, "backup GPT disk GUID differs from the primary's")
	}
	if n := uint64(len(bEntries)) / uint64(sectorSize); backup.entriesLBA+n != total-1 {
		diffs = append(diffs, fmt.Sprintf("backup GPT entries start at sector %d, not right before the backup header (%d)", backup.entriesLBA, total-1-n))
	}
	if !bytes.Equal(pEntries, bEntries) {
		diffs = append(diffs, "backup GPT partition entries differ from the primary's")
	}
	return diffs
}

func le64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }

// guidString formats a GUID stored in GPT's mixed-endian layout (the
// first three fields little-endian) as upper-case text.
func guidString(b []byte) string {
	return fmt.Sprintf("%08X-%04X-%04X-%X-%X", binary.LittleEndian.Uint32(b[0:4]), binary.LittleEndian.Uint16(b[4:6]),
		binary.LittleEndian.Uint16(b[6:8]), b[8:10], b[10:16])
}

// utf16Name decodes a GPT partition name (UTF-16LE, NUL-terminated).
func utf16Name(b []byte) string {
	var u []uint16
	for i := 0; i+1 < len(b); i += 2 {
		c := binary.LittleEndian.Uint16(b[i:])
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	return string(utf16.Decode(u))
}
