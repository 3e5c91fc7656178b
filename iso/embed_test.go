package iso

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/universal-atomic-installer/uai/iso/internal/isofs"
)

// window reads /uai/answers.toml as an ISO9660 reader sees it.
func window(t *testing.T, p string) []byte {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	vol, err := isofs.Open(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := vol.ReadFile(PathAnswers)
	if err != nil {
		t.Fatal(err)
	}
	j, err := vol.LookupJoliet(PathAnswers)
	if err != nil || int(j.Size) != len(b) {
		t.Fatalf("the Joliet record of %s says %d bytes, Rock Ridge %d (%v)", PathAnswers, j.Size, len(b), err)
	}
	return b
}

func TestEmbedRoundTrip(t *testing.T) {
	p := build(t, makeInputs(t).options())
	im := openRW(t, p)
	if _, err := im.Answers(); !errors.Is(err, ErrNoAnswers) {
		t.Fatalf("a fresh ISO: got %v, want ErrNoAnswers", err)
	}
	if got := window(t, p); len(got) != 0 {
		t.Fatalf("a fresh ISO shows %d bytes in %s", len(got), PathAnswers)
	}
	long := []byte("version = 1\nconfirm = true\n# " + strings.Repeat("x", 5000) + "\n")
	short := []byte("version = 1\n")
	for _, data := range [][]byte{long, short} {
		if err := im.SetAnswers(data); err != nil {
			t.Fatal(err)
		}
		// Read back through a fresh open, as another process would.
		again, err := Open(p, false)
		if err != nil {
			t.Fatal(err)
		}
		got, err := again.Answers()
		again.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("round trip: got %q, %v", got, err)
		}
		if w := window(t, p); !bytes.Equal(w, data) {
			t.Fatalf("%s shows %q, want %q", PathAnswers, w, data)
		}
		byFile, err := ReadAnswersFromAreaFile(extract(t, p, PathArea))
		if err != nil || !bytes.Equal(byFile, data) {
			t.Fatalf("ReadAnswersFromAreaFile: %q, %v", byFile, err)
		}
	}
	// Nothing of the longer file stays behind the shorter one.
	rest := make([]byte, len(long)-len(short))
	f, _ := os.Open(p)
	defer f.Close()
	if _, err := f.ReadAt(rest, im.AreaOffset+areaHeaderSize+int64(len(short))); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(rest, make([]byte, len(rest))) {
		t.Error("bytes of the previous, longer answer file are still in the area")
	}
	if err := im.RemoveAnswers(); err != nil {
		t.Fatal(err)
	}
	if _, err := im.Answers(); !errors.Is(err, ErrNoAnswers) {
		t.Fatalf("after remove: %v", err)
	}
	if w := window(t, p); len(w) != 0 {
		t.Fatalf("after remove %s shows %q", PathAnswers, w)
	}
}

func extract(t *testing.T, iso, path string) string {
	t.Helper()
	f, err := os.Open(iso)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	vol, err := isofs.Open(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := vol.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), filepath.Base(path))
	writeTestFile(t, out, b)
	return out
}

// Embedding changes only the area (header and payload) and the length
// fields of the two directory records of /uai/answers.toml: every other
// byte of the ISO stays as it was.
func TestEmbedTouchesOnlyTheArea(t *testing.T) {
	p := build(t, makeInputs(t).options())
	before, _ := os.ReadFile(p)
	im := openRW(t, p)
	if err := im.SetAnswers([]byte("version = 1\nconfirm = true\n")); err != nil {
		t.Fatal(err)
	}
	if err := im.SetKargs([]string{"console=ttyS0,115200", "uai.debug=1"}); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(p)
	if len(before) != len(after) {
		t.Fatalf("the ISO changed size: %d -> %d", len(before), len(after))
	}
	allowed := func(off int64) bool {
		if off >= im.AreaOffset && off < im.AreaOffset+im.AreaSize {
			return true
		}
		for _, rec := range im.records {
			if off >= rec+2 && off < rec+18 {
				return true
			}
		}
		for _, r := range im.Regions() {
			if off >= r.Offset && off < r.Offset+int64(r.Length) {
				return true
			}
		}
		return false
	}
	changed := 0
	for i := range before {
		if before[i] != after[i] {
			changed++
			if !allowed(int64(i)) {
				t.Fatalf("byte %d (block %d) outside the embed area, the answer records and the kargs regions changed", i, i/2048)
			}
		}
	}
	if changed == 0 {
		t.Fatal("nothing changed: the test would pass whatever embed did")
	}
}

func TestEmbedTooLarge(t *testing.T) {
	o := makeInputs(t).options()
	o.AreaSize = 16384
	im := openRW(t, build(t, o))
	err := im.SetAnswers(make([]byte, 12289))
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "12289 bytes") || !strings.Contains(err.Error(), "at most 12288 bytes") {
		t.Fatalf("got %v, want ErrTooLarge naming both sizes", err)
	}
	if err := im.SetAnswers(make([]byte, 12288)); err != nil {
		t.Fatalf("a file of exactly the capacity: %v", err)
	}
}

func TestEmbedCorruptArea(t *testing.T) {
	p := build(t, makeInputs(t).options())
	im := openRW(t, p)
	if err := im.SetAnswers([]byte("version = 1\n")); err != nil {
		t.Fatal(err)
	}
	areaOff := im.AreaOffset
	im.Close()
	flip := func(off int64) {
		f, err := os.OpenFile(p, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		b := make([]byte, 1)
		f.ReadAt(b, off)
		b[0] ^= 0x40
		f.WriteAt(b, off)
		f.Close()
	}
	// A damaged answer file: detected, and remove repairs the area.
	flip(areaOff + areaHeaderSize + 3)
	im2 := openRW(t, p)
	if _, err := im2.Answers(); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "sha256") {
		t.Fatalf("damaged answers: got %v", err)
	}
	if err := im2.RemoveAnswers(); err != nil {
		t.Fatal(err)
	}
	if _, err := im2.Answers(); !errors.Is(err, ErrNoAnswers) {
		t.Fatalf("after remove: %v", err)
	}
	im2.Close()
	// A damaged header: the ISO is refused with the checksum named.
	flip(areaOff + 40)
	if _, err := Open(p, false); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "checksum") {
		t.Fatalf("damaged header: got %v", err)
	}
	// A header without the magic.
	flip(areaOff + 40)
	flip(areaOff)
	if _, err := Open(p, false); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "magic") {
		t.Fatalf("no magic: got %v", err)
	}
}

// ISOs uai did not build, and files that are no ISO at all, are refused
// with a message that says so.
func TestOpenRefusesOtherImages(t *testing.T) {
	needTool(t, "xorriso")
	dir := t.TempDir()
	writeTestFile(t, filepath.Join(dir, "tree", "README"), []byte("hello\n"))
	plain := filepath.Join(dir, "plain.iso")
	if out, err := exec.Command("xorriso", "-as", "mkisofs", "-quiet", "-R", "-J", "-V", "PLAIN", "-o", plain, filepath.Join(dir, "tree")).CombinedOutput(); err != nil {
		t.Fatalf("xorriso: %v\n%s", err, out)
	}
	_, err := Open(plain, false)
	if !errors.Is(err, ErrNotUAI) || !strings.Contains(err.Error(), `volume "PLAIN"`) || !strings.Contains(err.Error(), "not built by uai") {
		t.Fatalf("plain xorriso ISO: got %v", err)
	}
	text := filepath.Join(dir, "answers.toml")
	writeTestFile(t, text, []byte("version = 1\n"))
	if _, err := Open(text, false); !errors.Is(err, ErrNotUAI) || !strings.Contains(err.Error(), "not an ISO9660 image") {
		t.Fatalf("a text file: got %v", err)
	}
	if _, err := Open(filepath.Join(dir, "missing.iso"), false); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a missing file: got %v", err)
	}
}

func TestKargs(t *testing.T) {
	p := build(t, makeInputs(t).options())
	im := openRW(t, p)
	got, err := im.Kargs()
	if err != nil || strings.Join(got, " ") != "console=ttyS0,115200 quiet" {
		t.Fatalf("default kargs %q, %v", got, err)
	}
	next, err := EditKargs(got, []string{"uai.answers=http://10.0.2.2:8080/a.toml#sha256=00ff", "loglevel=7"}, []string{"quiet"})
	if err != nil {
		t.Fatal(err)
	}
	if err := im.SetKargs(next); err != nil {
		t.Fatal(err)
	}
	want := "console=ttyS0,115200 uai.answers=http://10.0.2.2:8080/a.toml#sha256=00ff loglevel=7"
	if got, _ := im.Kargs(); strings.Join(got, " ") != want {
		t.Fatalf("kargs %q", got)
	}
	// Both boot loaders read the same arguments from their configs.
	f, _ := os.Open(p)
	defer f.Close()
	vol, _ := isofs.Open(f)
	for _, cfg := range []string{PathGrubCfg, PathIsolinuxCfg} {
		b, _ := vol.ReadFile(cfg)
		if !strings.Contains(string(b), "uai.live.label=UAI_TEST "+want+" ") {
			t.Errorf("%s does not carry the new kernel arguments:\n%s", cfg, b)
		}
	}
	if _, err := EditKargs(got, nil, []string{"nope"}); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), `"nope" is not set`) {
		t.Errorf("deleting a missing karg: %v", err)
	}
	del, _ := EditKargs([]string{"a=1", "b", "a=2", "c=3"}, nil, []string{"a", "c=3"})
	if strings.Join(del, " ") != "b" {
		t.Errorf("delete by key and by whole argument: %q", del)
	}
	long := []string{strings.Repeat("x", 1025)}
	if err := im.SetKargs(long); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "1025 bytes") || !strings.Contains(err.Error(), "at most 1024") {
		t.Errorf("too long: %v", err)
	}
	for _, bad := range []string{"a b", `x="y"`, "$x", "#x", "a;b", "ü"} {
		if err := im.SetKargs([]string{bad}); !errors.Is(err, ErrInvalid) {
			t.Errorf("karg %q: got %v, want a refusal", bad, err)
		}
	}
	if err := im.SetKargs(im.DefaultKargs()); err != nil {
		t.Fatal(err)
	}
	if got, _ := im.Kargs(); strings.Join(got, " ") != "console=ttyS0,115200 quiet" {
		t.Errorf("after reset: %q", got)
	}
	// A region edited behind uai's back no longer matches the checksum.
	r := im.Regions()[1]
	if _, err := f.ReadAt(make([]byte, 1), r.Offset); err != nil {
		t.Fatal(err)
	}
	w, _ := os.OpenFile(p, os.O_RDWR, 0)
	w.WriteAt([]byte("Q"), r.Offset)
	w.Close()
	if _, err := im.Kargs(); !errors.Is(err, ErrCorrupt) {
		t.Errorf("tampered region: got %v", err)
	}
}

func TestValidateLabel(t *testing.T) {
	for _, l := range []string{"UAI_LIVE", "A", strings.Repeat("X", 32), "FEDORA_44"} {
		if err := ValidateLabel(l); err != nil {
			t.Errorf("%q: %v", l, err)
		}
	}
	for _, l := range []string{"", "uai", "UAI LIVE", "UAI-LIVE", strings.Repeat("X", 33)} {
		if err := ValidateLabel(l); err == nil {
			t.Errorf("%q was accepted", l)
		}
	}
}

func FuzzParseHeader(f *testing.F) {
	h := &header{areaSize: 1 << 20, areaOffset: 4096, kargsCap: 1024, defaultKargs: "quiet", regions: []Region{{Offset: 1, Length: 1024, Kind: 1}}}
	f.Add(h.marshal())
	f.Add([]byte("UAIEMBED"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := parseHeader(b, "fuzz")
		if err != nil {
			return
		}
		// Whatever passes the checks stays within the limits the editing
		// code relies on.
		if len(h.regions) > maxRegions || h.kargsCap > MaxKargsSize || h.kargsLen > h.kargsCap ||
			h.answersLen < 0 || h.answersLen > h.areaSize-areaHeaderSize {
			t.Fatalf("parsed an impossible header: %+v", h)
		}
		if again, err := parseHeader(h.marshal(), "again"); err != nil || again.answersLen != h.answersLen || again.defaultKargs != h.defaultKargs {
			t.Fatalf("header does not survive marshal and parse: %v", err)
		}
	})
}
