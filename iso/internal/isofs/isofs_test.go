package isofs

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/diskfs/go-diskfs/backend/file"
	"github.com/diskfs/go-diskfs/filesystem/iso9660"
)

// memFile is an in-memory io.ReaderAt and io.WriterAt.
type memFile struct{ b []byte }

func (m *memFile) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(m.b)) {
		return 0, io.EOF
	}
	n := copy(p, m.b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (m *memFile) WriteAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > int64(len(m.b)) {
		return 0, errors.New("write past the end")
	}
	return copy(m.b[off:], p), nil
}

// diskfsISO writes a small ISO with go-diskfs as uai's build does: Rock
// Ridge, Joliet and an El Torito entry, with nothing repaired yet.
func diskfsISO(t testing.TB) []byte {
	t.Helper()
	ws := t.TempDir()
	files := map[string]string{"boot/x.img": "boot image", "a/b/c.txt": "deep file", "a/long-file-name.conf": "x", "README": "hi"}
	for p, c := range files {
		if err := os.MkdirAll(filepath.Join(ws, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(ws, p), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(t.TempDir(), "x.iso")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const size = 2 << 20
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	fs, err := iso9660.Create(file.New(f, false), size, 0, BlockSize, ws)
	if err != nil {
		t.Fatal(err)
	}
	err = fs.Finalize(iso9660.FinalizeOptions{RockRidge: true, Joliet: true, VolumeIdentifier: "FUZZ",
		ElTorito: &iso9660.ElTorito{BootCatalog: "boot/boot.cat", HideBootCatalog: true, Entries: []*iso9660.ElToritoEntry{{Platform: iso9660.EFI, Emulation: iso9660.NoEmulation, BootFile: "boot/x.img"}}}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// Only the volume: the fuzzer mutates (and minimizes) every byte.
	v, err := Open(&memFile{b: b})
	if err != nil {
		t.Fatal(err)
	}
	return b[:int(v.Blocks)*BlockSize]
}

// The two repairs of go-diskfs output: the boot record moves to block 17,
// and Joliet subdirectories point at their own (Joliet) directories.
func TestRepairs(t *testing.T) {
	m := &memFile{b: diskfsISO(t)}
	if m.b[17*BlockSize] == 0 {
		t.Log("go-diskfs already puts the boot record at block 17")
	}
	if err := BootRecordFirst(m); err != nil {
		t.Fatal(err)
	}
	if m.b[17*BlockSize] != 0 {
		t.Fatalf("block 17 is descriptor type %d, want the boot record (0)", m.b[17*BlockSize])
	}
	if err := FixJoliet(m); err != nil {
		t.Fatal(err)
	}
	v, err := Open(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Check(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"a/b/c.txt", "a/long-file-name.conf", "README"} {
		j, err := v.LookupJoliet(p)
		if err != nil {
			t.Fatalf("Joliet %s: %v", p, err)
		}
		r, err := v.Lookup(p)
		if err != nil || r.Extent != j.Extent || r.Size != j.Size {
			t.Fatalf("%s: Rock Ridge %+v (%v), Joliet %+v", p, r, err, j)
		}
	}
	if got, err := v.ReadFile("a/b/c.txt"); err != nil || string(got) != "deep file" {
		t.Fatalf("read a/b/c.txt: %q %v", got, err)
	}
	// FixJoliet on a fixed volume changes nothing.
	before := bytes.Clone(m.b)
	if err := FixJoliet(m); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, m.b) {
		t.Fatal("a second FixJoliet changed the volume")
	}
}

func TestNormalizeIsIdempotentAndComplete(t *testing.T) {
	m := &memFile{b: diskfsISO(t)}
	if err := BootRecordFirst(m); err != nil {
		t.Fatal(err)
	}
	if err := FixJoliet(m); err != nil {
		t.Fatal(err)
	}
	when := time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)
	if err := Normalize(m, when); err != nil {
		t.Fatal(err)
	}
	once := bytes.Clone(m.b)
	if err := Normalize(m, when); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(once, m.b) {
		t.Fatal("Normalize is not idempotent")
	}
	// Every recording date in both trees is the given time.
	v, _ := Open(m)
	want := isoDate7(when)
	var walk func(extent, size uint32, joliet bool)
	walk = func(extent, size uint32, joliet bool) {
		recs, err := v.readDir(extent, size)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range recs {
			if !bytes.Equal(r.raw[18:25], want) {
				t.Fatalf("record at byte %d has date %v, want %v", r.offset, r.raw[18:25], want)
			}
			if i >= 2 && r.dir {
				walk(r.extent, r.size, joliet)
			}
		}
	}
	root, _ := v.rootRecord(v.PVD, v.PVDOffset)
	walk(root.extent, root.size, false)
	if string(v.PVD[813:827]) != "20300506070809" {
		t.Errorf("PVD creation date %q", v.PVD[813:830])
	}
}

func TestOpenRefusesNonISO(t *testing.T) {
	if _, err := Open(&memFile{b: make([]byte, 64<<10)}); !errors.Is(err, ErrNotISO9660) {
		t.Fatalf("zeros: %v", err)
	}
	if _, err := Open(&memFile{b: make([]byte, 100)}); !errors.Is(err, ErrNotISO9660) {
		t.Fatalf("a short file: %v", err)
	}
}

// Arbitrary bytes from block 16 on never make the reader or the patchers
// panic or loop.
func FuzzVolume(f *testing.F) {
	f.Add(diskfsISO(f)[16*BlockSize:])
	f.Add([]byte("\x01CD001\x01"))
	f.Fuzz(func(t *testing.T, tail []byte) {
		if len(tail) > 4<<20 {
			return
		}
		m := &memFile{b: append(make([]byte, 16*BlockSize), tail...)}
		v, err := Open(m)
		if err != nil {
			return
		}
		_ = v.Check()
		_, _ = v.Lookup("a/b/c.txt")
		_, _ = v.LookupJoliet("a/b/c.txt")
		_, _ = v.ReadDir("/")
		_ = BootRecordFirst(m)
		_ = FixJoliet(m)
		_ = Normalize(m, time.Unix(0, 0))
	})
}
