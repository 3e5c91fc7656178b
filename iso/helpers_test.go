package iso

import (
	"context"
	"encoding/binary"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// testDate is the SOURCE_DATE_EPOCH of the test builds.
var testDate = time.Unix(1767225600, 0)

// inputs are synthetic but well-formed build inputs: the same bytes on
// every machine, so layouts (and goldens) do not depend on which Debian
// package versions are installed.
type inputs struct {
	dir, kernel, initrd, efi, bios string
}

func pseudoRandom(seed int64, n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewSource(seed))
	r.Read(b)
	return b
}

func writeTestFile(t testing.TB, p string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func makeInputs(t testing.TB) inputs {
	t.Helper()
	d := t.TempDir()
	in := inputs{dir: d, kernel: filepath.Join(d, "vmlinuz"), initrd: filepath.Join(d, "initrd.img"),
		efi: filepath.Join(d, "efi"), bios: filepath.Join(d, "bios")}
	writeTestFile(t, in.kernel, pseudoRandom(1, 700<<10+123))
	writeTestFile(t, in.initrd, pseudoRandom(2, 300<<10+7))
	isolinux := pseudoRandom(3, 38912)
	binary.LittleEndian.PutUint32(isolinux[0x40:], isohybridMagic)
	writeTestFile(t, filepath.Join(in.bios, "isolinux.bin"), isolinux)
	writeTestFile(t, filepath.Join(in.bios, "ldlinux.c32"), pseudoRandom(4, 119524))
	writeTestFile(t, filepath.Join(in.bios, "isohdpfx.bin"), pseudoRandom(5, 432))
	writeTestFile(t, filepath.Join(in.efi, "BOOTX64.EFI"), pseudoRandom(6, 64<<10))
	writeTestFile(t, filepath.Join(in.efi, "grubx64.efi"), pseudoRandom(7, 128<<10))
	return in
}

func (in inputs) options() BuildOptions {
	return BuildOptions{Kernel: in.kernel, Initrd: in.initrd, EFIDir: in.efi, BIOSDir: in.bios,
		Label: "UAI_TEST", Kargs: []string{"console=ttyS0,115200", "quiet"}, SourceDate: testDate, Timeout: 0}
}

func build(t testing.TB, o BuildOptions) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "uai.iso")
	if _, err := Build(context.Background(), out, o); err != nil {
		t.Fatalf("build: %v", err)
	}
	return out
}

func openRW(t *testing.T, p string) *Image {
	t.Helper()
	im, err := Open(p, true)
	if err != nil {
		t.Fatalf("open %s: %v", p, err)
	}
	t.Cleanup(func() { im.Close() })
	return im
}

// needTool skips loudly outside CI and fails in CI, where make test
// installs every tool.
func needTool(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is missing; CI must have it (Debian packages xorriso, genisoimage, fdisk, mtools, dosfstools)", tool)
			}
			t.Skipf("SKIPPED LOUDLY: %s is not installed", tool)
		}
	}
}
