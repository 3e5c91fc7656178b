package partition

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// blkidProbe asks blkid (low-level probe, no cache) what is at offset.
func blkidProbe(t *testing.T, path string, offset uint64) (fstype, label string) {
	t.Helper()
	out, _ := exec.Command("blkid", "-p", "-o", "export", "-O", strconv.FormatUint(offset, 10), path).Output()
	for _, line := range strings.Split(string(out), "\n") {
		k, v, _ := strings.Cut(line, "=")
		switch k {
		case "TYPE":
			fstype = v
		case "LABEL":
			label = v
		}
	}
	return fstype, label
}

// Real filesystems made by their own mkfs, compared with blkid.
func TestProbeRealFilesystems(t *testing.T) {
	cases := []struct {
		name, tool string
		size       int64
		args       []string
		fs, label  string
	}{
		{"fat32", "mkfs.fat", 64 << 20, []string{"-F", "32", "-n", "EFI-SYSTEM"}, "vfat", "EFI-SYSTEM"},
		{"fat16", "mkfs.fat", 32 << 20, []string{"-F", "16", "-n", "SMALL"}, "vfat", "SMALL"},
		{"fat no label", "mkfs.fat", 32 << 20, []string{"-F", "32"}, "vfat", ""},
		{"xfs", "mkfs.xfs", 320 << 20, []string{"-q", "-L", "root"}, "xfs", "root"},
		{"ext4", "mkfs.ext4", 64 << 20, []string{"-q", "-L", "data"}, "ext4", "data"},
		{"ext3", "mkfs.ext3", 64 << 20, []string{"-q", "-L", "old"}, "ext3", "old"},
		{"ext2", "mkfs.ext2", 64 << 20, []string{"-q"}, "ext2", ""},
		{"btrfs", "mkfs.btrfs", 256 << 20, []string{"-q", "-L", "pool"}, "btrfs", "pool"},
		{"swap", "mkswap", 64 << 20, []string{"-L", "swappy"}, "swap", "swappy"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			requireTools(t, c.tool, "blkid")
			img := sparseImage(t, c.size)
			run(t, c.tool, append(c.args, img)...)
			f, err := os.Open(img)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			fs, label := probe(f, 0, c.size)
			if fs != c.fs || label != c.label {
				t.Errorf("probe = %q %q, want %q %q", fs, label, c.fs, c.label)
			}
			bfs, blabel := blkidProbe(t, img, 0)
			if bfs != fs || blabel != label {
				t.Errorf("blkid says %q %q, probe %q %q", bfs, blabel, fs, label)
			}
		})
	}
}

// Signatures for what no tool here can make, built from the on-disk
// formats (LUKS, NTFS, ISO 9660, old swap).
func TestProbeSynthetic(t *testing.T) {
	buf := func(f func(b []byte)) []byte {
		b := make([]byte, probeBytes)
		f(b)
		return b
	}
	cases := []struct {
		name      string
		b         []byte
		fs, label string
	}{
		{"luks2", buf(func(b []byte) {
			copy(b, "LUKS\xba\xbe")
			binary.BigEndian.PutUint16(b[6:], 2)
			copy(b[24:], "cryptroot")
		}), "crypto_LUKS", "cryptroot"},
		{"luks1", buf(func(b []byte) {
			copy(b, "LUKS\xba\xbe")
			binary.BigEndian.PutUint16(b[6:], 1)
			copy(b[24:], "aes")
		}), "crypto_LUKS", ""},
		{"ntfs", buf(func(b []byte) { copy(b[3:], "NTFS    "); b[510], b[511] = 0x55, 0xAA }), "ntfs", ""},
		{"iso9660", buf(func(b []byte) {
			b[32768] = 1
			copy(b[32769:], "CD001")
			copy(b[32808:], "Fedora-WS-Live-42                ")
		}), "iso9660", "Fedora-WS-Live-42"},
		{"old swap", buf(func(b []byte) { copy(b[4096-10:], "SWAP-SPACE") }), "swap", ""},
		{"swap 64k pages", buf(func(b []byte) { copy(b[65536-10:], "SWAPSPACE2"); copy(b[1052:], "big") }), "swap", "big"},
		{"FAT32 text without a boot sector", buf(func(b []byte) { copy(b[82:], "FAT32   ") }), "", ""},
		{"zeros", make([]byte, probeBytes), "", ""},
		{"short read", []byte("XFS"), "", ""},
	}
	for _, c := range cases {
		fs, label := probe(bytes.NewReader(c.b), 0, int64(len(c.b)))
		if fs != c.fs || label != c.label {
			t.Errorf("%s: probe = %q %q, want %q %q", c.name, fs, label, c.fs, c.label)
		}
	}
}

// Describe on an image: filesystems inside partitions and on the whole
// disk, MBR tables, and a FAT superfloppy that must not pass as an MBR.
func TestDescribeImageContents(t *testing.T) {
	requireTools(t, "mkfs.fat", "mkfs.xfs", "blkid", "sfdisk")
	// make the filesystems in scratch files and copy them into the
	// partitions: no loop device needed. All of the FAT volume, because
	// blkid reads its label from the root directory; the xfs superblock
	// is enough for both.
	scratch := func(keep int, tool string, size int64, args ...string) []byte {
		img := sparseImage(t, size)
		run(t, tool, append(args, img)...)
		b, err := os.ReadFile(img)
		if err != nil {
			t.Fatal(err)
		}
		return b[:keep]
	}
	fat := scratch(64<<20, "mkfs.fat", 64<<20, "-F", "32", "-n", "EFI-SYSTEM")
	xfs := scratch(probeBytes, "mkfs.xfs", 320<<20, "-q", "-L", "root")

	img := sparseImage(t, 8<<30)
	l := planFor(t, img, 512, WholeDiskOptions{Arch: "amd64", RootFilesystem: "xfs"})
	if _, err := Apply(img, l); err != nil {
		t.Fatal(err)
	}
	esp, _ := l.Find(RoleESP)
	root, _ := l.Find(RoleRoot)
	writeAt(t, img, fat, esp.StartBytes(512))
	writeAt(t, img, xfs, root.StartBytes(512))
	d, err := Describe(img)
	if err != nil {
		t.Fatal(err)
	}
	got := map[int][2]string{}
	for _, p := range d.Partitions {
		got[p.Index] = [2]string{p.Filesystem, p.Label}
	}
	want := map[int][2]string{1: {"", ""}, 2: {"vfat", "EFI-SYSTEM"}, 3: {"xfs", "root"}}
	for i, w := range want {
		if got[i] != w {
			t.Errorf("partition %d: %v, want %v", i, got[i], w)
		}
		p := l.Partitions[i-1]
		if fs, label := blkidProbe(t, img, p.StartBytes(512)); [2]string{fs, label} != w {
			t.Errorf("blkid at partition %d says %q %q, want %v", i, fs, label, w)
		}
	}
	if d.Filesystem != "" || d.Empty() {
		t.Errorf("disk filesystem %q, empty %v", d.Filesystem, d.Empty())
	}

	t.Run("superfloppy", func(t *testing.T) {
		img := sparseImage(t, 64<<20)
		run(t, "mkfs.fat", "-F", "32", "-n", "STICK", img)
		d, err := Describe(img)
		if err != nil {
			t.Fatal(err)
		}
		if d.Table != "" || len(d.Partitions) != 0 || d.Filesystem != "vfat" || d.Label != "STICK" || d.Empty() {
			t.Errorf("FAT superfloppy described as table %q parts %v fs %q label %q empty %v", d.Table, d.Partitions, d.Filesystem, d.Label, d.Empty())
		}
	})
	t.Run("mbr", func(t *testing.T) {
		img := sparseImage(t, 1<<30)
		cmd := exec.Command("sfdisk", "--no-reread", "--no-tell-kernel", img)
		cmd.Stdin = strings.NewReader("label: dos\nstart=2048, size=204800, type=c\nstart=206848, type=83\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("sfdisk: %v: %s", err, out)
		}
		writeAt(t, img, fat, 2048*512)
		d, err := Describe(img)
		if err != nil {
			t.Fatal(err)
		}
		if d.Table != "mbr" || len(d.Partitions) != 2 {
			t.Fatalf("MBR disk described as table %q partitions %+v", d.Table, d.Partitions)
		}
		p1, p2 := d.Partitions[0], d.Partitions[1]
		if p1.Index != 1 || p1.StartBytes != 2048*512 || p1.SizeBytes != 204800*512 || p1.MBRType != "0x0c" || p1.Filesystem != "vfat" || p1.Label != "EFI-SYSTEM" {
			t.Errorf("partition 1 = %+v", p1)
		}
		if p2.Index != 2 || p2.StartBytes != 206848*512 || p2.SizeBytes != (1<<30)-206848*512 || p2.MBRType != "0x83" || p2.Filesystem != "" {
			t.Errorf("partition 2 = %+v", p2)
		}
	})
	t.Run("errors", func(t *testing.T) {
		if _, err := DescribeWithSectorSize(img, 2048); err == nil || !strings.Contains(err.Error(), "sector size 2048 is not supported; use 512 or 4096") {
			t.Errorf("sector size 2048: %v", err)
		}
		if _, err := Describe(img + ".missing"); err == nil || !strings.Contains(err.Error(), "describe") {
			t.Errorf("missing file: %v", err)
		}
	})
}

func writeAt(t testing.TB, path string, b []byte, off uint64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, int64(off)); err != nil {
		t.Fatal(err)
	}
}
