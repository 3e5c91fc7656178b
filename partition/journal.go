package partition

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// JournalVersion is the version of the journal file format.
const JournalVersion = 1

// SavedTable is a disk's partition table as raw bytes: every sector a GPT
// occupies at both ends of the disk, protective MBR (with any boot code)
// included, so it can be written back exactly.
type SavedTable struct {
	SectorSize int    `json:"sector_size"`
	SizeBytes  uint64 `json:"size_bytes"`
	// Head is the start of the disk up to the first usable sector;
	// Tail is everything after the last usable sector.
	Head []byte `json:"head"`
	Tail []byte `json:"tail"`
	// Table, DiskGUID, Partitions, Filesystem and Label are what the
	// disk held, as Describe read it.
	Table      string     `json:"table,omitempty"`
	DiskGUID   string     `json:"disk_guid,omitempty"`
	Partitions []Existing `json:"partitions,omitempty"`
	Filesystem string     `json:"filesystem,omitempty"`
	Label      string     `json:"label,omitempty"`
}

// maxSavedBytes caps each saved end: a GPT whose first usable sector lies
// further in is not one uai wrote or keeps.
const maxSavedBytes = 2 * MiB

// SaveTable reads the table regions of the disk at path (an image file
// or whole-disk block device with sectorSize-byte sectors), and what they
// describe.
func SaveTable(path string, sectorSize int) (SavedTable, error) {
	d, err := DescribeWithSectorSize(path, sectorForDescribe(path, sectorSize))
	if err != nil {
		return SavedTable{}, fmt.Errorf("save the table of %s: %w", path, err)
	}
	t, err := resolveTarget(path)
	if err != nil {
		return SavedTable{}, fmt.Errorf("save the table of %s: %w", path, err)
	}
	f, err := os.Open(t.path)
	if err != nil {
		return SavedTable{}, fmt.Errorf("save the table of %s: %w", path, err)
	}
	defer f.Close()
	if t.block {
		flushBuffers(f)
	}
	g, err := geometry(path, d.SizeBytes, sectorSize)
	if err != nil {
		return SavedTable{}, fmt.Errorf("save the table of %s: %w", path, err)
	}
	head, tail := g.firstUsable*g.sectorSize, g.backupSectors*g.sectorSize
	// a valid primary may reserve more (first usable sector 2048 is common)
	if h, _, err := readGPTHeader(f, 1, sectorSize); err == nil {
		if b := h.firstUsable * g.sectorSize; b > head && b <= maxSavedBytes {
			head = b
		}
		if h.lastUsable < g.totalSectors {
			if b := (g.totalSectors - 1 - h.lastUsable) * g.sectorSize; b > tail && b <= maxSavedBytes {
				tail = b
			}
		}
	}
	if head+tail > d.SizeBytes {
		return SavedTable{}, fmt.Errorf("save the table of %s: the disk (%d bytes) is too small for a GPT", path, d.SizeBytes)
	}
	s := SavedTable{
		SectorSize: sectorSize, SizeBytes: d.SizeBytes,
		Head: make([]byte, head), Tail: make([]byte, tail),
		Table: d.Table, DiskGUID: d.DiskGUID, Partitions: d.Partitions,
		Filesystem: d.Filesystem, Label: d.Label,
	}
	if _, err := f.ReadAt(s.Head, 0); err != nil {
		return SavedTable{}, fmt.Errorf("save the table of %s: read the start: %w", path, err)
	}
	endSector := d.SizeBytes / g.sectorSize * g.sectorSize
	if _, err := f.ReadAt(s.Tail, int64(endSector-tail)); err != nil {
		return SavedTable{}, fmt.Errorf("save the table of %s: read the end: %w", path, err)
	}
	return s, nil
}

// sectorForDescribe: Describe takes a sector size only for image files.
func sectorForDescribe(path string, sectorSize int) int {
	if t, err := resolveTarget(path); err == nil && t.block {
		return 0
	}
	return sectorSize
}

// CheckpointRestoreTail is the point in RestoreTable where the end of the
// disk is restored and the start is not yet.
const CheckpointRestoreTail = "restore-tail"

// RestoreTable writes a saved table back byte for byte, and for a block
// device makes the kernel's partitions match it again.
func RestoreTable(path string, s SavedTable) error {
	t, err := resolveTarget(path)
	if err != nil {
		return fmt.Errorf("restore the table of %s: %w", path, err)
	}
	f, err := os.OpenFile(t.path, os.O_RDWR|os.O_EXCL, 0)
	if err != nil {
		return fmt.Errorf("restore the table of %s: open: %w; unmount its partitions and stop what holds them", path, err)
	}
	defer f.Close()
	size := s.SizeBytes
	if t.block {
		ls, _, sz, err := blockSectorSizes(f)
		if err != nil {
			return fmt.Errorf("restore the table of %s: %w", path, err)
		}
		if ls != s.SectorSize || sz != s.SizeBytes {
			return fmt.Errorf("restore the table of %s: the disk has %d bytes in %d-byte sectors, the saved table is for %d bytes in %d-byte sectors; it is not the same disk", path, sz, ls, s.SizeBytes, s.SectorSize)
		}
	} else if fi, err := f.Stat(); err != nil || uint64(fi.Size()) != s.SizeBytes {
		return fmt.Errorf("restore the table of %s: the image is not %d bytes any more; it is not the same disk", path, s.SizeBytes)
	}
	endSector := size / uint64(s.SectorSize) * uint64(s.SectorSize)
	// the end first: until the primary is back, readers fall back to it
	if _, err := f.WriteAt(s.Tail, int64(endSector-uint64(len(s.Tail)))); err != nil {
		return fmt.Errorf("restore the table of %s: write the end: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("restore the table of %s: sync: %w", path, err)
	}
	Checkpoint(CheckpointRestoreTail)
	if _, err := f.WriteAt(s.Head, 0); err != nil {
		return fmt.Errorf("restore the table of %s: write the start: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("restore the table of %s: sync: %w", path, err)
	}
	if !t.block {
		return nil
	}
	sysDir, err := blockSysDir(t.path)
	if err != nil {
		return fmt.Errorf("restore the table of %s: %w", path, err)
	}
	want := map[int][2]uint64{}
	for _, p := range s.Partitions {
		want[p.Index] = [2]uint64{p.StartBytes, p.SizeBytes}
	}
	if err := syncKernelPartitions(f, sysDir, want); err != nil {
		return fmt.Errorf("restore the table of %s: %w", path, err)
	}
	return nil
}

// Journal records a disk write in progress: the original table and the
// layout being written. It is saved before the first byte of a table is
// written and removed when the install ends, so a run that was killed
// leaves it behind; the next Describe or Scan finds it and plans against
// the original table, and the next install finishes or restores.
type Journal struct {
	Version int    `json:"version"`
	Key     string `json:"key"`
	// Disk is the disk as planned (image file or /dev path); Device the
	// block device written (a loop device for an image).
	Disk     string     `json:"disk"`
	Device   string     `json:"device,omitempty"`
	Started  time.Time  `json:"started"`
	Step     string     `json:"step"`
	Layout   Layout     `json:"layout"`
	Original SavedTable `json:"original"`

	path string
}

// JournalDir is where journals live: $UAI_STATE_DIR, else /run/uai for
// root (tmpfs on the live system: it outlives a killed process, not a
// reboot), else a per-user directory under the temp directory.
func JournalDir() string {
	if d := os.Getenv("UAI_STATE_DIR"); d != "" {
		return filepath.Join(d, "journal")
	}
	if os.Geteuid() == 0 {
		return "/run/uai/journal"
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("uai-%d", os.Geteuid()), "journal")
}

// JournalKey names a disk stably: an image by its absolute path, a real
// disk by model and serial, else its first by-id link (the /dev name may
// change between boots), always with its size. It uses only what a plan
// records of a disk, so the engine and Describe agree.
func JournalKey(d Disk) string {
	id := "path:" + d.Path
	switch {
	case d.ImageFile:
		if abs, err := filepath.Abs(d.Path); err == nil {
			id = "file:" + abs
		}
	case d.Serial != "":
		id = "serial:" + d.Model + "/" + d.Serial
	case len(d.ByID) > 0:
		id = "by-id:" + d.ByID[0]
	}
	return fmt.Sprintf("%s size:%d", id, d.SizeBytes)
}

func journalFile(key string) string {
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(JournalDir(), hex.EncodeToString(sum[:12])+".json")
}

// NewJournal starts a journal for writing l to disk d. An existing
// journal for the disk keeps its original table: after a killed run the
// disk no longer holds the original, the journal does.
func NewJournal(d Disk, device string, l Layout, original SavedTable) (*Journal, error) {
	key := JournalKey(d)
	j := &Journal{Version: JournalVersion, Key: key, Disk: d.Path, Device: device, Started: time.Now().UTC(),
		Step: "started", Layout: l, Original: original, path: journalFile(key)}
	old, err := loadJournal(j.path)
	if err != nil {
		return nil, err
	}
	if old != nil && old.Key == key && old.Original.SizeBytes == original.SizeBytes && old.Original.SectorSize == original.SectorSize {
		j.Original = old.Original
		j.Started = old.Started
	}
	return j, nil
}

// FindJournal returns the journal left for disk d, or nil.
func FindJournal(d Disk) (*Journal, error) {
	j, err := loadJournal(journalFile(JournalKey(d)))
	if err != nil || j == nil || j.Key != JournalKey(d) {
		return nil, err
	}
	return j, nil
}

func loadJournal(path string) (*Journal, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read journal %s: %w", path, err)
	}
	var j Journal
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, fmt.Errorf("read journal %s: %w; remove it if no install was interrupted", path, err)
	}
	if j.Version != JournalVersion {
		return nil, fmt.Errorf("journal %s has version %d, this uai reads %d; remove it if no install was interrupted", path, j.Version, JournalVersion)
	}
	j.path = path
	return &j, nil
}

// Path is the journal's file.
func (j *Journal) Path() string { return j.path }

// Save writes the journal at step, durably: a temp file, fsync, rename,
// fsync of the directory. Nothing may be written to the disk before the
// journal that can undo it is on stable storage.
func (j *Journal) Save(step string) error {
	j.Step = step
	if err := os.MkdirAll(filepath.Dir(j.path), 0o700); err != nil {
		return fmt.Errorf("save journal: %w; set UAI_STATE_DIR to a writable directory", err)
	}
	dirs := []string{filepath.Dir(j.path)}
	if os.Getenv("UAI_STATE_DIR") == "" {
		dirs = append(dirs, filepath.Dir(dirs[0]))
	}
	for _, d := range dirs {
		if err := ownDir(d); err != nil {
			return fmt.Errorf("save journal: %w; set UAI_STATE_DIR to a directory of your own", err)
		}
	}
	b, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return fmt.Errorf("save journal: %w", err)
	}
	tmp := j.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("save journal: %w; set UAI_STATE_DIR to a writable directory", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("save journal %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("save journal %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("save journal %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, j.path); err != nil {
		return fmt.Errorf("save journal: %w", err)
	}
	if dir, err := os.Open(filepath.Dir(j.path)); err == nil {
		_ = dir.Sync()
		dir.Close()
	}
	return nil
}

// ownDir refuses a journal directory that is a symlink or belongs to
// another user: the default one for non-root users lies in the shared
// temp directory, where anyone could have made it first.
func ownDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("%s belongs to uid %d, not to this user", dir, st.Uid)
	}
	return nil
}

// Remove deletes the journal; a missing one is not an error.
func (j *Journal) Remove() error {
	if err := os.Remove(j.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove journal: %w", err)
	}
	return nil
}

// Interrupted is what Describe and Scan report for a disk with a journal.
type Interrupted struct {
	Journal string    `json:"journal"`
	Started time.Time `json:"started"`
	// Step is the last step the killed run finished.
	Step string `json:"step"`
	// Kind is the layout kind that was being written.
	Kind string `json:"kind"`
	// Original is what the disk held before.
	Original SavedTable `json:"-"`
	// OriginalPartitions counts the partitions of the original table.
	OriginalPartitions int `json:"original_partitions"`
	// Explained is true when every intact GPT copy on the disk is either
	// the original or the planned table: the journal accounts for the
	// disk's state, and planning uses the original table.
	Explained bool `json:"explained"`
	// Explanation says what was found, for people.
	Explanation string `json:"explanation"`
}

// attachJournal sets d.Interrupted when a journal names d.
func attachJournal(d *Disk, r interface {
	ReadAt([]byte, int64) (int, error)
}) {
	j, err := FindJournal(*d)
	if err != nil {
		d.Interrupted = &Interrupted{Explanation: err.Error()}
		return
	}
	if j == nil {
		return
	}
	in := &Interrupted{Journal: j.path, Started: j.Started, Step: j.Step, Kind: j.Layout.Kind,
		Original: j.Original, OriginalPartitions: len(j.Original.Partitions)}
	in.Explained, in.Explanation = explainJournal(d, j, r)
	d.Interrupted = in
}

// explainJournal checks that each intact GPT copy on the disk is the
// journal's original table or its planned layout.
func explainJournal(d *Disk, j *Journal, r interface {
	ReadAt([]byte, int64) (int, error)
}) (bool, string) {
	if j.Original.SizeBytes != d.SizeBytes || j.Original.SectorSize != d.LogicalSectorSize {
		return false, fmt.Sprintf("journal %s is for a %d-byte disk with %d-byte sectors, not this one; remove it if no install was interrupted", j.path, j.Original.SizeBytes, j.Original.SectorSize)
	}
	h := checkGPT(r, d.SizeBytes, d.LogicalSectorSize)
	var states []string
	ok := true
	for _, c := range []struct {
		name    string
		state   string
		entries []byte
	}{{"primary", h.Primary, h.primaryEntries}, {"backup", h.Backup, h.backupEntries}} {
		if c.state != CopyValid {
			states = append(states, "the "+c.name+" GPT is "+c.state)
			continue
		}
		parts := entriesToExisting(c.entries, d.LogicalSectorSize)
		switch {
		case sameTable(parts, j.Original.Partitions):
			states = append(states, "the "+c.name+" GPT is the original table")
		case sameAsLayout(parts, j.Layout):
			states = append(states, "the "+c.name+" GPT is the new table")
		default:
			ok = false
			states = append(states, fmt.Sprintf("the %s GPT (%d partitions) is neither the original nor the new table", c.name, len(parts)))
		}
	}
	what := fmt.Sprintf("an install started %s was interrupted after step %q (journal %s): %s",
		j.Started.Format(time.RFC3339), j.Step, j.path, strings.Join(states, "; "))
	if !ok {
		return false, what + "; the disk changed since, so uai ignores the journal; remove it"
	}
	return true, what + "; uai plans against the original table and can finish or restore it"
}

// Before is the disk as it was before an interrupted install, when a
// journal explains its state; otherwise the disk itself.
func (d Disk) Before() Disk {
	if d.Interrupted == nil || !d.Interrupted.Explained {
		return d
	}
	o := d.Interrupted.Original
	d.Table, d.DiskGUID, d.Partitions = o.Table, o.DiskGUID, o.Partitions
	d.Filesystem, d.Label = o.Filesystem, o.Label
	d.GPT = nil
	summarize(&d)
	return d
}

// entriesToExisting decodes a raw GPT entry array (position, type, GUID,
// name; no filesystems).
func entriesToExisting(entries []byte, sectorSize int) []Existing {
	var out []Existing
	for i := 0; i+128 <= len(entries); i += 128 {
		e := entries[i : i+128]
		if allZero(e[:16]) {
			continue
		}
		start, end := le64(e[32:]), le64(e[40:])
		out = append(out, Existing{
			Index:      i/128 + 1,
			StartBytes: start * uint64(sectorSize),
			SizeBytes:  (end - start + 1) * uint64(sectorSize),
			TypeGUID:   guidString(e[0:16]),
			GUID:       guidString(e[16:32]),
			Attributes: le64(e[48:]),
			Name:       utf16Name(e[56:128]),
		})
	}
	return out
}

// sameTable compares partition tables by what the GPT records.
func sameTable(a, b []Existing) bool {
	if len(a) != len(b) {
		return false
	}
	idx := map[int]Existing{}
	for _, p := range b {
		idx[p.Index] = p
	}
	for _, p := range a {
		q, ok := idx[p.Index]
		if !ok || !sameEntry(p, q) {
			return false
		}
	}
	return true
}

func sameEntry(p, q Existing) bool {
	return p.StartBytes == q.StartBytes && p.SizeBytes == q.SizeBytes && strings.EqualFold(p.TypeGUID, q.TypeGUID) &&
		strings.EqualFold(p.GUID, q.GUID) && p.Attributes == q.Attributes && p.Name == q.Name
}

// sameAsLayout compares a table with a layout; new partitions' GUIDs are
// random, so only kept partitions' GUIDs count.
func sameAsLayout(parts []Existing, l Layout) bool {
	if len(parts) != len(l.Partitions) {
		return false
	}
	idx := map[int]Existing{}
	for _, p := range parts {
		idx[p.Index] = p
	}
	for _, p := range l.Partitions {
		e, ok := idx[p.Index]
		if !ok || e.StartBytes != p.StartBytes(l.SectorSize) || e.SizeBytes != p.SizeBytes(l.SectorSize) ||
			!strings.EqualFold(e.TypeGUID, p.TypeGUID) || e.Name != p.Name {
			return false
		}
		if p.GUID != "" && (!strings.EqualFold(e.GUID, p.GUID) || e.Attributes != p.Attributes) {
			return false
		}
	}
	return true
}
