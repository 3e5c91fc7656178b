package iso

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/universal-atomic-installer/uai/iso/internal/isofs"
)

// Two builds of the same inputs are byte-identical, whatever the build
// machine's clock, the inputs' time stamps and modes, and whether the
// inputs could be hard-linked; another SOURCE_DATE_EPOCH gives other bytes.
func TestBuildIsReproducible(t *testing.T) {
	in := makeInputs(t)
	a, err := os.ReadFile(build(t, in.options()))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // a second later, for anything taken from the clock
	in2 := makeInputs(t)
	if err := os.Chmod(in2.kernel, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(in2.initrd, time.Unix(1, 0), time.Unix(1, 0)); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(build(t, in2.options()))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		for i := range a {
			if i >= len(b) || a[i] != b[i] {
				t.Fatalf("two builds differ first at byte %d (block %d); lengths %d and %d", i, i/2048, len(a), len(b))
			}
		}
		t.Fatalf("two builds differ in length: %d and %d", len(a), len(b))
	}
	o := in.options()
	o.SourceDate = testDate.Add(time.Hour)
	c, err := os.ReadFile(build(t, o))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, c) {
		t.Fatal("another SOURCE_DATE_EPOCH gave the same bytes: the date is not in the image")
	}
}

// The layout the boot paths rely on: the El Torito boot record at block
// 17, the hybrid MBR pointing at isolinux and the EFI image, the files at
// their documented paths, the Joliet tree in its own directories.
func TestBuildLayout(t *testing.T) {
	in := makeInputs(t)
	p := build(t, in.options())
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	if st.Size()%(1<<20) != 0 {
		t.Errorf("size %d is not a whole number of MiB", st.Size())
	}
	vol, err := isofs.Open(f)
	if err != nil {
		t.Fatal(err)
	}
	if vol.VolumeID() != "UAI_TEST" {
		t.Errorf("volume id %q", vol.VolumeID())
	}
	if err := vol.Check(); err != nil {
		t.Fatal(err)
	}
	br := make([]byte, 32)
	if _, err := f.ReadAt(br, 17*2048); err != nil {
		t.Fatal(err)
	}
	if br[0] != 0 || string(br[7:30]) != "EL TORITO SPECIFICATION" {
		t.Errorf("block 17 is not the El Torito boot record: %q", br)
	}
	for _, path := range []string{PathKernel, PathInitrd, PathGrubCfg, PathEFIImage, PathIsolinux, "isolinux/ldlinux.c32", PathIsolinuxCfg, PathArea, PathAnswers, PathInfo, PathGrubStub} {
		if _, err := vol.Lookup(path); err != nil {
			t.Errorf("%s: %v", path, err)
		}
		if _, err := vol.LookupJoliet(path); err != nil {
			t.Errorf("Joliet %s: %v", path, err)
		}
	}
	kernel, err := vol.ReadFile(PathKernel)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(in.kernel)
	if !bytes.Equal(kernel, want) {
		t.Error("the kernel in the ISO differs from the input")
	}
	mbr := make([]byte, 512)
	if _, err := f.ReadAt(mbr, 0); err != nil {
		t.Fatal(err)
	}
	code, _ := os.ReadFile(filepath.Join(in.bios, "isohdpfx.bin"))
	if !bytes.Equal(mbr[:432], code) || mbr[510] != 0x55 || mbr[511] != 0xAA {
		t.Error("the MBR does not carry isohdpfx.bin and the boot signature")
	}
	bin, _ := vol.Lookup(PathIsolinux)
	if got := binary.LittleEndian.Uint32(mbr[432:]); got != bin.Extent*4 {
		t.Errorf("the MBR points isohdpfx at 512-byte sector %d, isolinux.bin is at %d", got, bin.Extent*4)
	}
	efi, _ := vol.Lookup(PathEFIImage)
	p2 := mbr[446+16 : 446+32]
	if p2[4] != 0xEF || binary.LittleEndian.Uint32(p2[8:]) != efi.Extent*4 || binary.LittleEndian.Uint32(p2[12:]) != (efi.Size+511)/512 {
		t.Errorf("MBR partition 2 is %x, want type EF over the EFI image at sector %d", p2, efi.Extent*4)
	}
	if mbr[446] != 0x80 || binary.LittleEndian.Uint32(mbr[446+12:]) != uint32(st.Size()/512) {
		t.Errorf("MBR partition 1 must be active and cover the image: %x", mbr[446:462])
	}
	cfg, _ := vol.ReadFile(PathGrubCfg)
	if !strings.Contains(string(cfg), "linux /boot/vmlinuz uai.live.label=UAI_TEST console=ttyS0,115200 quiet ") {
		t.Errorf("grub.cfg has no linux line with the label and the default kernel arguments:\n%s", cfg)
	}
}

// The EFI image passes fsck.fat and holds the boot chain, readable by
// mtools at the offset the MBR partition gives.
func TestBuildEFIImage(t *testing.T) {
	needTool(t, "fsck.fat", "mtype")
	in := makeInputs(t)
	p := build(t, in.options())
	im, err := Open(p, false)
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	e, err := im.vol.Lookup(PathEFIImage)
	if err != nil {
		t.Fatal(err)
	}
	img, _ := im.vol.ReadFile(PathEFIImage)
	fi := filepath.Join(t.TempDir(), "efi.img")
	writeTestFile(t, fi, img)
	if out, err := exec.Command("fsck.fat", "-n", fi).CombinedOutput(); err != nil {
		t.Fatalf("fsck.fat -n: %v\n%s", err, out)
	}
	got, err := exec.Command("mtype", "-i", p+"@@"+itoa(e.Offset()), "::/EFI/BOOT/BOOTX64.EFI").Output()
	if err != nil {
		t.Fatalf("mtype at the EFI partition: %v", err)
	}
	want, _ := os.ReadFile(filepath.Join(in.efi, "BOOTX64.EFI"))
	if !bytes.Equal(got, want) {
		t.Error("BOOTX64.EFI in the EFI image differs from the input")
	}
	stub, _ := exec.Command("mtype", "-i", p+"@@"+itoa(e.Offset()), "::/EFI/BOOT/grub.cfg").Output()
	if !strings.Contains(string(stub), "--label UAI_TEST") {
		t.Errorf("the GRUB stub does not search for the label:\n%s", stub)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestBuildRefusesBadInputs(t *testing.T) {
	in := makeInputs(t)
	noBoot := filepath.Join(in.dir, "empty")
	if err := os.Mkdir(noBoot, 0o755); err != nil {
		t.Fatal(err)
	}
	badIsolinux := filepath.Join(in.dir, "badbios")
	for _, f := range []string{"ldlinux.c32", "isohdpfx.bin"} {
		b, _ := os.ReadFile(filepath.Join(in.bios, f))
		writeTestFile(t, filepath.Join(badIsolinux, f), b)
	}
	writeTestFile(t, filepath.Join(badIsolinux, "isolinux.bin"), make([]byte, 4096))
	for _, tc := range []struct {
		name string
		edit func(o *BuildOptions)
		want string
		is   error
	}{
		{"no kernel", func(o *BuildOptions) { o.Kernel = "" }, "--kernel and --initrd", ErrInvalid},
		{"missing kernel", func(o *BuildOptions) { o.Kernel = filepath.Join(in.dir, "nope") }, "kernel", ErrInvalid},
		{"no boot loader", func(o *BuildOptions) { o.EFIDir, o.BIOSDir = "", "" }, "cannot boot", ErrInvalid},
		{"lower-case label", func(o *BuildOptions) { o.Label = "uai" }, "A-Z, 0-9 and _", ErrInvalid},
		{"answers too large", func(o *BuildOptions) { o.AreaSize = 8192; o.Answers = make([]byte, 5000) }, "5000 bytes", ErrTooLarge},
		{"no shim", func(o *BuildOptions) { o.EFIDir = noBoot }, "no BOOTX64.EFI", ErrInvalid},
		{"no isolinux", func(o *BuildOptions) { o.BIOSDir = noBoot }, "has no isolinux.bin", ErrInvalid},
		{"not isohybrid", func(o *BuildOptions) { o.BIOSDir = badIsolinux }, "isohybrid", ErrInvalid},
		{"bad karg", func(o *BuildOptions) { o.Kargs = []string{"a;b"} }, "GRUB or isolinux", ErrInvalid},
		{"odd embed size", func(o *BuildOptions) { o.AreaSize = 10000 }, "multiple of 2048", ErrInvalid},
		{"unqualified image", func(o *BuildOptions) { o.Images = []string{"fedora-bootc:44"} }, "names no registry", ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := in.options()
			tc.edit(&o)
			out := filepath.Join(t.TempDir(), "x.iso")
			_, err := Build(context.Background(), out, o)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, tc.is) {
				t.Fatalf("got %v, want %v containing %q", err, tc.is, tc.want)
			}
			if _, serr := os.Stat(out); serr == nil {
				t.Error("a failed build left the output file")
			}
			left, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".uai-iso-*"))
			if len(left) > 0 {
				t.Errorf("a failed build left %v", left)
			}
		})
	}
}

func TestExtractPXE(t *testing.T) {
	in := makeInputs(t)
	o := in.options()
	rootfs := filepath.Join(in.dir, "rootfs.img")
	writeTestFile(t, rootfs, pseudoRandom(9, 123457))
	o.Rootfs = rootfs
	o.Answers = []byte("version = 1\n")
	im := openRW(t, build(t, o))
	if err := im.SetKargs([]string{"console=ttyS0,115200", "uai.debug"}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "pxe")
	p, err := im.ExtractPXE(dir)
	if err != nil {
		t.Fatal(err)
	}
	for src, dst := range map[string]string{in.kernel: p.Kernel, in.initrd: p.Initrd, rootfs: p.Rootfs} {
		a, _ := os.ReadFile(src)
		b, err := os.ReadFile(dst)
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("%s: extracted copy differs from %s (%v)", dst, src, err)
		}
	}
	if k, _ := os.ReadFile(p.KargsFile); string(k) != "console=ttyS0,115200 uai.debug\n" {
		t.Errorf("kargs file %q", k)
	}
	if a, _ := os.ReadFile(p.Answers); string(a) != "version = 1\n" {
		t.Errorf("answers %q", a)
	}
}
