package partition

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

func planFor(t *testing.T, path string, ss int, o WholeDiskOptions) Layout {
	t.Helper()
	d, err := DescribeWithSectorSize(path, ss)
	if err != nil {
		t.Fatalf("describe: %v", err)
	}
	l, err := PlanWholeDisk(d, o)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	return l
}

func TestApplyImageFile(t *testing.T) {
	requireTools(t, "sfdisk", "sgdisk", "fdisk")
	for _, ss := range []int{512, 4096} {
		t.Run(strconv.Itoa(ss), func(t *testing.T) {
			img := sparseImage(t, 64<<30)
			before, err := DescribeWithSectorSize(img, ss)
			if err != nil {
				t.Fatal(err)
			}
			if !before.Empty() || !before.ImageFile || before.Transport != "file" || before.SizeBytes != 64<<30 || before.LogicalSectorSize != ss {
				t.Fatalf("blank image described as %+v", before)
			}
			l := planFor(t, img, ss, WholeDiskOptions{Arch: "amd64", RootFilesystem: "xfs", SeparateBoot: true})
			applied, err := Apply(img, l)
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if len(applied.PartitionPaths) != 0 {
				t.Errorf("image file got partition paths %v", applied.PartitionPaths)
			}
			checkWithFdisk(t, img, l)
			if ss == 512 {
				// sfdisk and sgdisk read image files as 512-byte disks
				// only; the 4K case is checked on a loop device too
				checkWithSfdisk(t, img, l)
				checkWithSgdisk(t, img)
			}
			if err := Verify(img, l); err != nil {
				t.Errorf("Verify: %v", err)
			}
			after, err := DescribeWithSectorSize(img, ss)
			if err != nil {
				t.Fatal(err)
			}
			if after.Table != "gpt" || len(after.Partitions) != len(l.Partitions) {
				t.Fatalf("after Apply: table %q partitions %+v", after.Table, after.Partitions)
			}
			for i, p := range l.Partitions {
				e := after.Partitions[i]
				if e.Index != p.Index || e.StartBytes != p.StartBytes(ss) || e.SizeBytes != p.SizeBytes(ss) || e.TypeGUID != p.TypeGUID || e.Name != p.Name || e.Filesystem != "" {
					t.Errorf("described %+v, planned %+v", e, p)
				}
			}

			if err := Wipe(img); err != nil {
				t.Fatalf("Wipe: %v", err)
			}
			if ss == 512 {
				if tab, err := sfdiskJSON(t, img); err == nil {
					t.Errorf("sfdisk still finds a table after Wipe: %+v", tab)
				}
			}
			if fdiskFindsTable(t, img, ss) {
				t.Error("fdisk still finds a table after Wipe")
			}
			wiped, err := DescribeWithSectorSize(img, ss)
			if err != nil {
				t.Fatal(err)
			}
			if wiped.Table != "" || !wiped.Empty() {
				t.Errorf("after Wipe: table %q partitions %+v", wiped.Table, wiped.Partitions)
			}
			if err := Verify(img, l); err == nil || !strings.Contains(err.Error(), "no valid GPT") {
				t.Errorf("Verify after Wipe: %v", err)
			}
		})
	}
}

// sfdisk must accept Dump() as a script and write the same table, and
// Verify must accept a table written by a tool other than go-diskfs.
// (sfdisk treats image files as 512-byte disks; the loop test covers 4K.)
func TestDumpIsAnSfdiskScript(t *testing.T) {
	requireTools(t, "sfdisk")
	img := sparseImage(t, 8<<30)
	l := planFor(t, img, 512, WholeDiskOptions{Arch: "amd64", RootFilesystem: "ext4", SeparateBoot: true, RootSizeBytes: 3 * GiB})
	sfdiskScript(t, img, l)
	checkWithSfdisk(t, img, l)
	if err := Verify(img, l); err != nil {
		t.Errorf("Verify of the sfdisk-written table: %v", err)
	}
}

func sfdiskScript(t *testing.T, path string, l Layout) {
	t.Helper()
	cmd := exec.Command("sfdisk", "--no-reread", "--no-tell-kernel", path)
	cmd.Stdin = strings.NewReader(l.Dump())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sfdisk rejected Dump():\n%s\n%v: %s", l.Dump(), err, out)
	}
}

func TestVerifyListsEveryDifference(t *testing.T) {
	img := sparseImage(t, 8<<30)
	l := planFor(t, img, 512, WholeDiskOptions{Arch: "amd64", RootFilesystem: "xfs"})
	if _, err := Apply(img, l); err != nil {
		t.Fatal(err)
	}
	other := l
	other.Partitions = append([]Planned(nil), l.Partitions...)
	other.Partitions[1].Name = "ESP"
	other.Partitions[2].EndSector -= 2048
	other.Partitions[2].TypeGUID = TypeRootARM64
	other.Partitions = append(other.Partitions, Planned{Index: 9, Name: "extra", TypeGUID: TypeLinuxFS, StartSector: 34, EndSector: 2047})
	err := Verify(img, other)
	if err == nil {
		t.Fatal("Verify accepted a different layout")
	}
	for _, want := range []string{
		`partition 2 is named "EFI-SYSTEM", planned "ESP"`,
		"partition 3 ends at sector 16775167, planned 16773119",
		"partition 3 has type 4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, planned B921B045-1DF0-41C3-AF44-4C6F280D3FAE",
		"partition 9 (extra) is missing",
		"apply the layout again",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q\nlacks %q", err, want)
		}
	}
	fewer := l
	fewer.Partitions = l.Partitions[1:]
	if err := Verify(img, fewer); err == nil || !strings.Contains(err.Error(), "partition 1 (BIOS-BOOT, sectors 2048-4095) is not in the layout") {
		t.Errorf("Verify with a partition too many on disk: %v", err)
	}
}

func TestVerifyFindsDamage(t *testing.T) {
	cases := []struct {
		name string
		off  func(size int64) int64
		data []byte
		want []string
	}{
		{"backup header", func(size int64) int64 { return size - 512 + 60 }, []byte{1, 2, 3}, []string{"backup GPT header at sector 16777215 has a bad CRC"}},
		{"backup entries", func(size int64) int64 { return size - 33*512 + 200 }, []byte{1, 2, 3}, []string{"backup GPT entries at sector 16777183 have a bad CRC"}},
		{"protective MBR", func(int64) int64 { return 446 + 4 }, []byte{0x83}, []string{"protective MBR entry is type 0x83"}},
		{"MBR signature", func(int64) int64 { return 510 }, []byte{0, 0}, []string{"protective MBR has no 55AA signature"}},
		{"primary header", func(int64) int64 { return 512 + 60 }, []byte{1, 2, 3}, []string{"the primary GPT is damaged (the table was read from the backup)", "primary GPT header at sector 1 has a bad CRC"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			img := sparseImage(t, 8<<30)
			l := planFor(t, img, 512, WholeDiskOptions{Arch: "amd64", RootFilesystem: "xfs"})
			if _, err := Apply(img, l); err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(img, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteAt(c.data, c.off(8<<30)); err != nil {
				t.Fatal(err)
			}
			f.Close()
			err = Verify(img, l)
			if err == nil {
				t.Fatal("Verify accepted a damaged table")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nlacks %q", err, w)
				}
			}
		})
	}
}

func TestApplyReplacesAnotherTable(t *testing.T) {
	requireTools(t, "sgdisk", "sfdisk")
	img := sparseImage(t, 8<<30)
	// a foreign table with more partitions and an MBR boot code area
	run(t, "sgdisk", "-n1:0:+100M", "-n2:0:+100M", "-n3:0:+100M", "-n4:0:+100M", "-n5:0:+100M", "-t5:8200", img)
	d, err := Describe(img)
	if err != nil {
		t.Fatal(err)
	}
	if d.Table != "gpt" || len(d.Partitions) != 5 || d.Empty() || d.Partitions[4].TypeGUID != TypeLinuxSwap {
		t.Fatalf("sgdisk table described as %+v", d)
	}
	l, err := PlanWholeDisk(d, WholeDiskOptions{Arch: "arm64", RootFilesystem: "btrfs"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Apply(img, l); err != nil {
		t.Fatal(err)
	}
	checkWithSfdisk(t, img, l)
	checkWithSgdisk(t, img)
	if err := Verify(img, l); err != nil {
		t.Error(err)
	}
}

func TestApplyRefuses(t *testing.T) {
	img := sparseImage(t, 64<<30)
	small := planFor(t, sparseImage(t, 8<<30), 512, WholeDiskOptions{Arch: "amd64", RootFilesystem: "xfs"})
	if _, err := Apply(img, small); err == nil || !strings.Contains(err.Error(), "the disk has 68719476736 bytes in 512-byte sectors but the layout was planned for 8589934592 bytes in 512-byte sectors") {
		t.Errorf("Apply of a layout for another disk size: %v", err)
	}
	broken := planFor(t, img, 512, WholeDiskOptions{Arch: "amd64", RootFilesystem: "xfs"})
	broken.Partitions[2].EndSector = 64 << 30 / 512
	if _, err := Apply(img, broken); err == nil || !strings.Contains(err.Error(), "layout is invalid: partition 3") {
		t.Errorf("Apply of a layout past the end of the disk: %v", err)
	}
	if _, err := Apply(img+".missing", small); err == nil || !strings.Contains(err.Error(), "open") {
		t.Errorf("Apply to a missing file: %v", err)
	}
	if err := Verify(img, small); err == nil || !strings.Contains(err.Error(), "verify against the layout planned for this disk") {
		t.Errorf("Verify of another disk size: %v", err)
	}
	if err := Wipe(img + ".missing"); err == nil || !strings.Contains(err.Error(), "wipe") {
		t.Errorf("Wipe of a missing file: %v", err)
	}
	if _, err := Apply(t.TempDir(), small); err == nil || !strings.Contains(err.Error(), "neither a block device nor a regular file") {
		t.Errorf("Apply to a directory: %v", err)
	}
	// the image must be untouched by the refused Applies
	if d, err := Describe(img); err != nil || !d.Empty() {
		t.Errorf("refused Apply changed the image: %+v %v", d, err)
	}
}

// Past 2 TiB the protective MBR cannot count the disk; UEFI says to
// write 0xFFFFFFFF, while go-diskfs alone would wrap the number.
func TestApplyLargeDiskProtectiveMBR(t *testing.T) {
	requireTools(t, "sgdisk")
	const size = 3 << 40
	img := sparseImage(t, size)
	l := planFor(t, img, 512, WholeDiskOptions{Arch: "amd64", RootFilesystem: "xfs"})
	if _, err := Apply(img, l); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 512)
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.ReadAt(b, 0); err != nil {
		t.Fatal(err)
	}
	if got := binary.LittleEndian.Uint32(b[446+12:]); got != 0xFFFFFFFF {
		t.Errorf("protective MBR size %#x, want 0xffffffff", got)
	}
	checkWithSgdisk(t, img)
	if err := Verify(img, l); err != nil {
		t.Error(err)
	}
}

// Wipe on an image does not know the sector size, so it must clear both
// geometries, also when the size is not a multiple of 4096.
func TestWipeBothGeometries(t *testing.T) {
	requireTools(t, "fdisk")
	for _, c := range []struct {
		ss   int
		size int64
	}{{512, 8<<30 + 3*512}, {4096, 8 << 30}, {512, 8 << 30}} {
		t.Run(fmt.Sprintf("%d-%d", c.ss, c.size), func(t *testing.T) {
			img := sparseImage(t, c.size)
			l := planFor(t, img, c.ss, WholeDiskOptions{Arch: "amd64", RootFilesystem: "xfs"})
			if _, err := Apply(img, l); err != nil {
				t.Fatal(err)
			}
			if !fdiskFindsTable(t, img, c.ss) {
				t.Fatal("fdisk finds no table after Apply")
			}
			if err := Wipe(img); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(img)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			total := c.size / int64(c.ss)
			for _, lba := range []int64{0, 1, total - 1} {
				b := make([]byte, c.ss)
				if _, err := f.ReadAt(b, lba*int64(c.ss)); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(b, make([]byte, c.ss)) {
					t.Errorf("sector %d is not zero after Wipe", lba)
				}
			}
			if fdiskFindsTable(t, img, c.ss) {
				t.Error("fdisk finds a table after Wipe")
			}
		})
	}
}
