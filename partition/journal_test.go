package partition

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// rawEntries reads n GPT entries of the copy whose header is at lba.
func rawEntries(t testing.TB, img string, lba uint64, n int) []byte {
	t.Helper()
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, entries, err := readGPTHeader(f, lba, 512)
	if err != nil {
		t.Fatalf("GPT header at %d: %v", lba, err)
	}
	return entries[:n*128]
}

func readRange(t testing.TB, img string, off, n int64) []byte {
	t.Helper()
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, n)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	return b
}

// A free-space layout on a disk another tool partitioned: the kept
// entries stay byte for byte (type, GUID, position, attributes, name) in
// both copies, with the disk GUID; sgdisk and sfdisk agree; every write is
// a named checkpoint, backup copy first.
func TestApplyFreeSpaceKeepsEntries(t *testing.T) {
	requireTools(t, "sgdisk", "sfdisk")
	img := dualBootImage(t)
	d, err := Describe(img)
	if err != nil {
		t.Fatal(err)
	}
	last := d.SizeBytes/512 - 1
	beforeP, beforeB := rawEntries(t, img, 1, 5), rawEntries(t, img, last, 5)
	espBefore := readRange(t, img, int64(d.Partitions[0].StartBytes), int64(d.Partitions[0].SizeBytes))
	l, err := PlanFreeSpace(d, FreeSpaceOptions{Arch: "amd64", RootFilesystem: "xfs", SeparateBoot: true})
	if err != nil {
		t.Fatal(err)
	}
	var points []string
	original, err := SaveTable(img, 512)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ApplyWith(img, l, ApplyOptions{Checkpoint: func(p string) { points = append(points, p) }, Original: &original}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(points, " ") != strings.Join(writeCheckpoints, " ") {
		t.Errorf("checkpoints %v, want %v", points, writeCheckpoints)
	}
	if err := Verify(img, l); err != nil {
		t.Fatal(err)
	}
	checkWithSgdisk(t, img)
	checkWithSfdisk(t, img, l)
	if !bytes.Equal(rawEntries(t, img, 1, 5), beforeP) || !bytes.Equal(rawEntries(t, img, last, 5), beforeB) {
		t.Error("the kept partitions' table entries changed")
	}
	if !bytes.Equal(readRange(t, img, int64(d.Partitions[0].StartBytes), int64(d.Partitions[0].SizeBytes)), espBefore) {
		t.Error("the reused ESP's bytes changed while writing the table")
	}
	after, _ := Describe(img)
	if after.DiskGUID != d.DiskGUID || len(after.Partitions) != 7 {
		t.Errorf("after: disk GUID %s (was %s), %d partitions", after.DiskGUID, d.DiskGUID, len(after.Partitions))
	}

	// and back: the original table, byte for byte, at both ends
	if err := RestoreTable(img, original); err != nil {
		t.Fatal(err)
	}
	restored, err := SaveTable(img, 512)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(restored.Head, original.Head) || !bytes.Equal(restored.Tail, original.Tail) {
		t.Error("RestoreTable did not write the original table back byte for byte")
	}
	checkWithSgdisk(t, img)
}

// Apply refuses to write beside partitions that are not what the plan
// kept, and writes nothing then.
func TestApplyFreeSpaceRefusesChangedDisk(t *testing.T) {
	requireTools(t, "sgdisk")
	img := dualBootImage(t)
	d, _ := Describe(img)
	l, err := PlanFreeSpace(d, FreeSpaceOptions{Arch: "amd64", RootFilesystem: "xfs"})
	if err != nil {
		t.Fatal(err)
	}
	// someone grows partition 5 behind the plan's back
	runStdin(t, ", +\n", "sfdisk", "-q", "--no-reread", "--no-tell-kernel", "-N", "5", img)
	before, _ := SaveTable(img, 512)
	_, err = Apply(img, l)
	if err == nil || !strings.Contains(err.Error(), "the disk changed since the plan") || !strings.Contains(err.Error(), "kept partition 5 (fedora) differs") {
		t.Fatalf("Apply: %v", err)
	}
	now, _ := SaveTable(img, 512)
	if !bytes.Equal(now.Head, before.Head) || !bytes.Equal(now.Tail, before.Tail) {
		t.Error("Apply wrote although it refused")
	}
	// a torn table, no journal: refused too
	tail := before.Tail
	tail[len(tail)-512+20] ^= 0xff // corrupt the backup header
	writeAt(t, img, tail, before.SizeBytes-uint64(len(tail)))
	if _, err := Apply(img, l); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("Apply on a damaged table: %v", err)
	}
}

// Every state an interrupted write can leave, as the GPT health check
// and Describe report it.
func TestGPTHealthStates(t *testing.T) {
	img := sparseImage(t, 8<<30)
	a := planFor(t, img, 512, WholeDiskOptions{Arch: "amd64", RootFilesystem: "xfs"})
	if _, err := Apply(img, a); err != nil {
		t.Fatal(err)
	}
	old, _ := SaveTable(img, 512)
	b := planFor(t, img, 512, WholeDiskOptions{Arch: "amd64", RootFilesystem: "xfs", SeparateBoot: true})
	if _, err := Apply(img, b); err != nil {
		t.Fatal(err)
	}
	newer, _ := SaveTable(img, 512)
	end := old.SizeBytes - uint64(len(old.Tail))
	describe := func() Disk {
		d, err := Describe(img)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d := describe(); d.GPT != nil {
		t.Fatalf("healthy table reported: %+v", d.GPT)
	}
	// primary new, backup old: both intact, they disagree
	writeAt(t, img, old.Tail, end)
	d := describe()
	if d.GPT == nil || !d.GPT.Torn() || d.GPT.PrimaryPartitions != 4 || d.GPT.BackupPartitions != 3 || d.Empty() ||
		!strings.Contains(d.GPT.Explanation, "both GPT copies are intact but disagree") {
		t.Errorf("torn: %+v", d.GPT)
	}
	// the primary's entries half written: its CRC fails, the backup is read
	half := append([]byte(nil), newer.Head...)
	copy(half[1024:1024+4096], old.Head[1024:1024+4096])
	writeAt(t, img, half, 0)
	writeAt(t, img, newer.Tail, end)
	d = describe()
	if d.GPT == nil || d.GPT.Torn() || !strings.HasPrefix(d.GPT.Primary, "damaged: ") || d.GPT.Backup != CopyValid ||
		!strings.Contains(d.GPT.Explanation, "a write of the primary was interrupted") || len(d.Partitions) != 4 {
		t.Errorf("damaged primary: %+v, %d partitions", d.GPT, len(d.Partitions))
	}
	// neither copy: still not empty
	writeAt(t, img, half, 0)
	bad := append([]byte(nil), newer.Tail...)
	bad[len(bad)-512+16] ^= 0xff
	writeAt(t, img, bad, end)
	d = describe()
	if d.GPT == nil || d.Table != "" || d.Empty() || !strings.Contains(d.GPT.Explanation, "neither GPT copy is intact") {
		t.Errorf("both damaged: table %q empty %v %+v", d.Table, d.Empty(), d.GPT)
	}
	// wiped: no GPT, no problem, empty
	if err := Wipe(img); err != nil {
		t.Fatal(err)
	}
	if d := describe(); d.GPT != nil || !d.Empty() {
		t.Errorf("wiped: %+v", d.GPT)
	}
}

// A journal left by a killed run: Describe reports it, explains the
// disk's state by it, and Before gives the original for planning. A
// journal the disk's state contradicts is ignored.
func TestJournalExplainsInterruptedWrite(t *testing.T) {
	t.Setenv("UAI_STATE_DIR", t.TempDir())
	requireTools(t, "sgdisk")
	img := dualBootImage(t)
	d, _ := Describe(img)
	l, err := PlanFreeSpace(d, FreeSpaceOptions{Arch: "amd64", RootFilesystem: "xfs"})
	if err != nil {
		t.Fatal(err)
	}
	original, _ := SaveTable(img, 512)
	j, err := NewJournal(d, img, l, original)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Save("journal-saved"); err != nil {
		t.Fatal(err)
	}
	// write only the backup copy of the new table, as a killed run would
	if _, err := Apply(img, l); err != nil {
		t.Fatal(err)
	}
	newer, _ := SaveTable(img, 512)
	writeAt(t, img, original.Head, 0)
	now, _ := Describe(img)
	if now.Interrupted == nil || !now.Interrupted.Explained || now.Interrupted.Step != "journal-saved" || now.GPT == nil || !now.GPT.Torn() {
		t.Fatalf("interrupted %+v gpt %+v", now.Interrupted, now.GPT)
	}
	for _, w := range []string{"the primary GPT is the original table", "the backup GPT is the new table", "plans against the original table"} {
		if !strings.Contains(now.Interrupted.Explanation, w) {
			t.Errorf("explanation lacks %q: %s", w, now.Interrupted.Explanation)
		}
	}
	before := now.Before()
	if before.GPT != nil || !sameTable(before.Partitions, d.Partitions) || before.DiskGUID != d.DiskGUID {
		t.Error("Before is not the original disk")
	}
	again, err := PlanFreeSpace(before, FreeSpaceOptions{Arch: "amd64", RootFilesystem: "xfs"})
	if err != nil || again.Dump() != l.Dump() {
		t.Fatalf("the re-plan differs: %v\n%s\n%s", err, again.Dump(), l.Dump())
	}
	// the primary new too, the backup damaged: still explained
	writeAt(t, img, newer.Head, 0)
	bad := append([]byte(nil), newer.Tail...)
	bad[len(bad)-512+16] ^= 0xff
	writeAt(t, img, bad, newer.SizeBytes-uint64(len(bad)))
	if now, _ := Describe(img); now.Interrupted == nil || !now.Interrupted.Explained {
		t.Errorf("new primary, damaged backup: %+v", now.Interrupted)
	}
	// a second journal for the same disk keeps the first one's original
	j2, err := NewJournal(d, img, l, newer)
	if err != nil || !bytes.Equal(j2.Original.Head, original.Head) {
		t.Errorf("the new journal lost the original table: %v", err)
	}
	// someone else rewrote the disk: the journal no longer explains it
	runStdin(t, "label: gpt\nstart=2048, size=2097152\n", "sfdisk", "-q", "--no-reread", "--no-tell-kernel", img)
	now, _ = Describe(img)
	if now.Interrupted == nil || now.Interrupted.Explained || !strings.Contains(now.Interrupted.Explanation, "neither the original nor the new table") {
		t.Errorf("stale journal: %+v", now.Interrupted)
	}
	if b := now.Before(); len(b.Partitions) != 1 {
		t.Error("Before used a journal that does not explain the disk")
	}
	if err := j.Remove(); err != nil {
		t.Fatal(err)
	}
	if now, _ := Describe(img); now.Interrupted != nil {
		t.Errorf("journal removed but still reported")
	}
	if err := j.Remove(); err != nil {
		t.Errorf("removing twice: %v", err)
	}
}

func TestJournalFileErrors(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("UAI_STATE_DIR", dir)
	d := Disk{Path: "/dev/fake", Serial: "S1", Model: "M", SizeBytes: 1 << 30}
	if err := os.MkdirAll(JournalDir(), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(journalFile(JournalKey(d)), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := FindJournal(d); err == nil || !strings.Contains(err.Error(), "remove it if no install was interrupted") {
		t.Errorf("corrupt journal: %v", err)
	}
	if err := os.WriteFile(journalFile(JournalKey(d)), []byte(`{"version":9}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := FindJournal(d); err == nil || !strings.Contains(err.Error(), "version 9") {
		t.Errorf("future journal: %v", err)
	}
	renamed := d
	renamed.Path = "/dev/other" // the same disk under another name
	if JournalKey(d) != JournalKey(renamed) {
		t.Error("the journal key depends on the /dev name")
	}
}
