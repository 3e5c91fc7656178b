package partition

import (
	"bytes"
	"fmt"
	"io"
	"strings"
)

// GPT copy states in GPTHealth.
const (
	CopyValid   = "valid"
	CopyMissing = "missing"
)

// GPTHealth is the state of both copies of a disk's GPT, read
// independently: go-diskfs reads one copy and falls back to the other,
// which hides a torn table (an interrupted write leaves two intact copies
// that disagree, or one that fails its checksums).
type GPTHealth struct {
	// Primary and Backup are CopyValid, CopyMissing, or "damaged: why".
	Primary string `json:"primary"`
	Backup  string `json:"backup"`
	// PrimaryPartitions and BackupPartitions count each valid copy's
	// partitions.
	PrimaryPartitions int `json:"primary_partitions,omitempty"`
	BackupPartitions  int `json:"backup_partitions,omitempty"`
	// Differences lists how two valid copies disagree.
	Differences []string `json:"differences,omitempty"`
	// Explanation says, in a sentence or two, what the state means.
	Explanation string `json:"explanation"`

	primaryEntries, backupEntries []byte
	primaryGUID, backupGUID       [16]byte
}

// Problem reports whether the table is damaged or torn. A disk with no
// GPT at all has no problem.
func (h GPTHealth) Problem() bool {
	if h.Primary == CopyMissing && h.Backup == CopyMissing {
		return false
	}
	return h.Primary != CopyValid || h.Backup != CopyValid || len(h.Differences) > 0
}

// Torn reports whether both copies are intact but disagree.
func (h GPTHealth) Torn() bool {
	return h.Primary == CopyValid && h.Backup == CopyValid && len(h.Differences) > 0
}

// checkGPT reads both GPT copies of a disk of sizeBytes with sectorSize
// sectors and compares them.
func checkGPT(r io.ReaderAt, sizeBytes uint64, sectorSize int) GPTHealth {
	var h GPTHealth
	total := sizeBytes / uint64(sectorSize)
	if total < 3 {
		return GPTHealth{Primary: CopyMissing, Backup: CopyMissing}
	}
	ph, pe, perr := readGPTHeader(r, 1, sectorSize)
	h.Primary, h.PrimaryPartitions = copyState(perr, pe)
	backupLBA := total - 1
	if perr == nil && ph.alternateLBA != backupLBA && ph.alternateLBA < total {
		// the primary knows where its backup is (not at the end when the
		// disk grew since); read that one and say so
		h.Differences = append(h.Differences, fmt.Sprintf("the backup GPT is at sector %d, not at the end of the disk (sector %d): was the disk enlarged?", ph.alternateLBA, backupLBA))
		backupLBA = ph.alternateLBA
	}
	bh, be, berr := readGPTHeader(r, backupLBA, sectorSize)
	h.Backup, h.BackupPartitions = copyState(berr, be)
	h.primaryEntries, h.backupEntries = pe, be
	if perr == nil {
		h.primaryGUID = ph.diskGUID
	}
	if berr == nil {
		h.backupGUID = bh.diskGUID
	}
	if perr == nil && berr == nil {
		if ph.diskGUID != bh.diskGUID {
			h.Differences = append(h.Differences, "the disk GUIDs differ")
		}
		if ph.firstUsable != bh.firstUsable || ph.lastUsable != bh.lastUsable {
			h.Differences = append(h.Differences, fmt.Sprintf("the usable sectors differ (%d-%d and %d-%d)", ph.firstUsable, ph.lastUsable, bh.firstUsable, bh.lastUsable))
		}
		if !bytes.Equal(pe, be) {
			h.Differences = append(h.Differences, fmt.Sprintf("the partition entries differ (%d and %d partitions)", h.PrimaryPartitions, h.BackupPartitions))
		}
	}
	h.Explanation = h.explain()
	return h
}

func copyState(err error, entries []byte) (string, int) {
	if err == nil {
		return CopyValid, countEntries128(entries)
	}
	if strings.Contains(err.Error(), "no GPT header signature") {
		return CopyMissing, 0
	}
	return "damaged: " + err.Error(), 0
}

func countEntries128(entries []byte) int {
	n := 0
	for i := 0; i+128 <= len(entries); i += 128 {
		if !allZero(entries[i : i+16]) {
			n++
		}
	}
	return n
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func (h GPTHealth) explain() string {
	pv, bv := h.Primary == CopyValid, h.Backup == CopyValid
	switch {
	case pv && bv && len(h.Differences) == 0:
		return "both GPT copies are intact and agree"
	case pv && bv:
		return fmt.Sprintf("both GPT copies are intact but disagree (%s): a write was interrupted between the two copies, or another tool changed only one",
			strings.Join(h.Differences, "; "))
	case pv:
		return fmt.Sprintf("the primary GPT is intact (%d partitions) but the backup GPT is %s: a write of the backup was interrupted, or the end of the disk was overwritten",
			h.PrimaryPartitions, h.Backup)
	case bv:
		return fmt.Sprintf("the primary GPT is %s but the backup GPT is intact (%d partitions): a write of the primary was interrupted, or the start of the disk was overwritten",
			h.Primary, h.BackupPartitions)
	case h.Primary == CopyMissing && h.Backup == CopyMissing:
		return "there is no GPT"
	}
	return fmt.Sprintf("neither GPT copy is intact (primary %s; backup %s)", h.Primary, h.Backup)
}
