package fat

import (
	"bytes"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func need(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is missing (Debian packages dosfstools, mtools); CI must have it", tool)
			}
			t.Skipf("SKIPPED LOUDLY: %s is missing (install dosfstools and mtools)", tool)
		}
	}
}

func sampleFiles(t *testing.T) []File {
	big := make([]byte, 3<<20+17)
	if _, err := rand.Read(big); err != nil {
		t.Fatal(err)
	}
	return []File{
		{Path: "EFI/BOOT/BOOTX64.EFI", Data: big},
		{Path: "EFI/BOOT/grubx64.efi", Data: []byte("grub")},
		{Path: "EFI/BOOT/grub.cfg", Data: []byte("configfile /boot/grub/grub.cfg\n")},
		{Path: "EFI/BOOT/EMPTY", Data: nil},
		{Path: "loader/entries/a.cfg", Data: []byte("title a\n")},
	}
}

func write(t *testing.T, img []byte) string {
	p := filepath.Join(t.TempDir(), "efi.img")
	if err := os.WriteFile(p, img, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// The image must satisfy the independent checkers: fsck.fat finds nothing
// to fix (exit 0), and mtools reads every file back byte for byte.
func TestBuildPassesFsckAndMtools(t *testing.T) {
	need(t, "fsck.fat", "mdir", "mcopy")
	files := sampleFiles(t)
	img, err := Build(files, Options{Label: "UAI_EFI", Serial: 0x1234abcd, Time: time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC), FreeBytes: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	p := write(t, img)
	if out, err := exec.Command("fsck.fat", "-n", "-v", p).CombinedOutput(); err != nil {
		t.Fatalf("fsck.fat -n: %v\n%s", err, out)
	} else if !strings.Contains(string(out), "16 bit entries") {
		t.Errorf("fsck.fat does not see FAT16:\n%s", out)
	}
	out, err := exec.Command("mdir", "-i", p, "-/", "::").CombinedOutput()
	if err != nil {
		t.Fatalf("mdir: %v\n%s", err, out)
	}
	for _, want := range []string{"UAI_EFI", "grubx64  efi", "BOOTX64  EFI", "grub     cfg", "a        cfg"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("mdir listing lacks %q:\n%s", want, out)
		}
	}
	for _, f := range files {
		got, err := exec.Command("mtype", "-i", p, "::/"+f.Path).Output()
		if err != nil {
			t.Fatalf("mtype %s: %v", f.Path, err)
		}
		if !bytes.Equal(got, f.Data) {
			t.Errorf("%s: mtools read %d bytes, wrote %d (or different content)", f.Path, len(got), len(f.Data))
		}
	}
}

func TestBuildIsReproducible(t *testing.T) {
	files := sampleFiles(t)
	opt := Options{Label: "X", Serial: 7, Time: time.Unix(1700000000, 0)}
	a, err := Build(files, opt)
	if err != nil {
		t.Fatal(err)
	}
	// Order of the input must not matter.
	rev := append([]File(nil), files...)
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	b, err := Build(rev, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("two builds of the same files differ")
	}
	opt.Time = opt.Time.Add(2 * time.Second)
	c, _ := Build(files, opt)
	if bytes.Equal(a, c) {
		t.Fatal("the time option changed nothing; the test cannot tell reproducible from constant")
	}
}

func TestBuildRefusesBadNames(t *testing.T) {
	for _, tc := range []struct{ path, want string }{
		{"EFI/BOOT/averylongname.efi", "8.3"},
		{"EFI/BOOT/Mixed.EFI", "mixes upper and lower"},
		{"EFI/BOOT/a+b.efi", "cannot hold"},
		{"EFI/BOOT/x.tar.gz", "8.3"},
	} {
		_, err := Build([]File{{Path: tc.path, Data: []byte("x")}}, Options{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.path, err, tc.want)
		}
	}
	_, err := Build([]File{{Path: "a/b", Data: []byte("x")}, {Path: "A/B", Data: []byte("y")}}, Options{})
	if err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("duplicate names: got %v", err)
	}
}

func TestShortName(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
		flag byte
	}{
		{"BOOTX64.EFI", "BOOTX64 EFI", 0},
		{"grubx64.efi", "GRUBX64 EFI", 0x18},
		{"grub.CFG", "GRUB    CFG", 0x08},
		{"EFI", "EFI        ", 0},
	} {
		got, flag, err := shortName(tc.in)
		if err != nil || string(got[:]) != tc.want || flag != tc.flag {
			t.Errorf("shortName(%q) = %q %#x %v, want %q %#x", tc.in, got, flag, err, tc.want, tc.flag)
		}
	}
}
