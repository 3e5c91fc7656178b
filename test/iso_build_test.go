package test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The ISO build goldens: test/fixtures/iso/*.golden hold what independent
// tools (xorriso, isoinfo, sfdisk) report about an ISO that `uai iso build`
// makes from fixed, synthetic inputs. `go test ./test/ -run ISO -update`
// rewrites them.
const isoFixtures = "fixtures/iso"

// isoEpoch is the SOURCE_DATE_EPOCH of the test builds (2026-01-01).
const isoEpoch = "1767225600"

func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files")
	}
}

func isoUpdating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

func isoGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join(isoFixtures, name)
	if isoUpdating() {
		if err := os.MkdirAll(isoFixtures, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./test/ -run ISO -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (go test ./test/ -run ISO -update rewrites it; review the diff)\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}

func isoNeed(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("CI must have %s (Debian packages xorriso, genisoimage, fdisk, mtools, dosfstools)", tool)
			}
			t.Skipf("SKIPPED LOUDLY: %s is not installed", tool)
		}
	}
}

// isoInputs writes synthetic build inputs with fixed bytes: the goldens
// must not change when Debian updates shim, GRUB or the kernel (the real
// ones are booted by test/e2e).
func isoInputs(t *testing.T) (dir string, args []string) {
	t.Helper()
	dir = t.TempDir()
	r := rand.New(rand.NewSource(42))
	file := func(rel string, n int, edit func([]byte)) string {
		b := make([]byte, n)
		r.Read(b)
		if edit != nil {
			edit(b)
		}
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	kernel := file("vmlinuz", 900<<10+11, nil)
	initrd := file("initrd.img", 400<<10+3, nil)
	file("bios/isolinux.bin", 38912, func(b []byte) { binary.LittleEndian.PutUint32(b[0x40:], 0x7078c0fb) })
	file("bios/ldlinux.c32", 119524, nil)
	file("bios/isohdpfx.bin", 432, nil)
	file("efi/BOOTX64.EFI", 96<<10, nil)
	file("efi/grubx64.efi", 160<<10, nil)
	file("efi/mmx64.efi", 32<<10, nil)
	args = []string{"iso", "build", "--kernel", kernel, "--initrd", initrd,
		"--efi-dir", filepath.Join(dir, "efi"), "--bios-dir", filepath.Join(dir, "bios"),
		"--label", "UAI_GOLDEN", "--karg", "console=ttyS0,115200", "--timeout", "0"}
	return dir, args
}

// isoBuild builds an ISO with the uai binary and returns its path.
func isoBuild(t *testing.T, args []string, out string) {
	t.Helper()
	cmd := exec.Command(uaiBin, append(args, "-o", out)...)
	cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH="+isoEpoch)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("uai %s: %v\n%s", strings.Join(args, " "), err, b)
	}
}

func isoRun(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

var xorrisoReport = regexp.MustCompile(`^(Boot record|El Torito|System area|ISO image size|Partition offset|MBR|Volume id)`)

// TestISOBuildGoldens: the directory tree (Rock Ridge and Joliet), the El
// Torito catalog, the system area (hybrid MBR) and the partition table of
// a built ISO, as xorriso, isoinfo and sfdisk see them.
func TestISOBuildGoldens(t *testing.T) {
	isoNeed(t, "xorriso", "isoinfo", "sfdisk")
	dir, args := isoInputs(t)
	iso := filepath.Join(dir, "uai.iso")
	isoBuild(t, args, iso)

	var rep []string
	for _, line := range strings.Split(isoRun(t, "xorriso", "-indev", iso, "-report_el_torito", "plain", "-report_system_area", "plain"), "\n") {
		if xorrisoReport.MatchString(line) {
			rep = append(rep, line)
		}
	}
	if len(rep) < 10 {
		t.Fatalf("xorriso reported too little:\n%s", strings.Join(rep, "\n"))
	}
	isoGolden(t, "xorriso-report.golden", strings.Join(rep, "\n")+"\n")

	isoGolden(t, "isoinfo-d.golden", isoRun(t, "isoinfo", "-d", "-i", iso))
	isoGolden(t, "tree-rockridge.golden", isoRun(t, "isoinfo", "-R", "-l", "-i", iso))
	isoGolden(t, "tree-joliet.golden", isoRun(t, "isoinfo", "-J", "-l", "-i", iso))
	isoGolden(t, "sfdisk.golden", strings.ReplaceAll(isoRun(t, "sfdisk", "--json", iso), dir, "$DIR"))

	// The window onto the answer file and the kargs line, read through
	// isoinfo like any ISO reader.
	if got := isoRun(t, "isoinfo", "-R", "-i", iso, "-x", "/boot/grub/grub.cfg"); !strings.Contains(got, "linux /boot/vmlinuz uai.live.label=UAI_GOLDEN console=ttyS0,115200 ") {
		t.Errorf("grub.cfg:\n%s", got)
	}
}

// Two builds from the same inputs and SOURCE_DATE_EPOCH are byte for
// byte the same, even a second apart and with the inputs touched.
func TestISOBuildReproducible(t *testing.T) {
	dir, args := isoInputs(t)
	a, b := filepath.Join(dir, "a.iso"), filepath.Join(dir, "b.iso")
	isoBuild(t, args, a)
	now := []string{filepath.Join(dir, "vmlinuz"), filepath.Join(dir, "efi", "BOOTX64.EFI")}
	for _, p := range now {
		if err := os.Chtimes(p, isoLater(), isoLater()); err != nil {
			t.Fatal(err)
		}
	}
	isoBuild(t, args, b)
	ha, hb := isoSum(t, a), isoSum(t, b)
	if ha != hb {
		t.Fatalf("rebuild differs: %s vs %s", ha, hb)
	}
	t.Logf("two builds: sha256 %s", ha)
}

func isoSum(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// The EFI image inside passes fsck.fat, and mtools reads it at the MBR's
// EFI partition, as firmware booting from a USB stick does.
func TestISOEFIImage(t *testing.T) {
	isoNeed(t, "fsck.fat", "mdir", "isoinfo")
	dir, args := isoInputs(t)
	iso := filepath.Join(dir, "uai.iso")
	isoBuild(t, args, iso)
	img := filepath.Join(dir, "efiboot.img")
	out, err := exec.Command("isoinfo", "-R", "-i", iso, "-x", "/boot/efiboot.img").Output()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(img, out, 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command("fsck.fat", "-n", img).CombinedOutput(); err != nil {
		t.Fatalf("fsck.fat -n: %v\n%s", err, b)
	}
	listing := isoRun(t, "mdir", "-i", img, "-/", "-b", "::")
	for _, want := range []string{"::/EFI/BOOT/BOOTX64.EFI", "::/EFI/BOOT/grubx64.efi", "::/EFI/BOOT/mmx64.efi", "::/EFI/BOOT/grub.cfg"} {
		if !strings.Contains(listing, want) {
			t.Errorf("the EFI image lacks %s:\n%s", want, listing)
		}
	}
	want, _ := os.ReadFile(filepath.Join(dir, "efi", "grubx64.efi"))
	if got := isoRun(t, "mtype", "-i", img, "::/EFI/BOOT/grubx64.efi"); !bytes.Equal([]byte(got), want) {
		t.Error("grubx64.efi in the EFI image differs from the input")
	}
}
