package partition

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// dualBootImage makes a 64 GiB image the way Windows and a Linux leave a
// disk, with tools other than uai: sfdisk writes the GPT, mkfs.fat and
// mtools the ESP (with EFI/Microsoft/Boot/bootmgfw.efi and a distribution's
// shim), mkfs.ext4 -d a Linux root holding os-release and an ostree
// deployment, and NTFS boot sectors mark C: and the recovery partition.
// Partition 5 (Linux) sits after a free gap of about 20 GiB.
func dualBootImage(t testing.TB) string {
	t.Helper()
	requireTools(t, "sfdisk", "sgdisk", "mkfs.fat", "mmd", "mcopy", "mkfs.ext4")
	img := sparseImage(t, 64<<30)
	// sfdisk rather than sgdisk: sgdisk sleeps a second after writing
	script := "label: gpt\nfirst-lba: 34\n" +
		img + "1 : start=2048, size=204800, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=\"EFI system partition\", attrs=\"GUID:63\"\n" +
		img + "2 : start=206848, size=32768, type=E3C9E316-0B5C-4DB8-817D-F92DF00215AE, name=\"Microsoft reserved partition\", attrs=\"GUID:63\"\n" +
		img + "3 : start=239616, size=41943040, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name=\"Basic data partition\"\n" +
		img + "5 : start=84125696, size=4194304, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=\"fedora\"\n" +
		img + "4 : start=132679680, size=1536000, type=DE94BBA4-06D1-4D40-A16A-BFD50179D6AC, attrs=\"RequiredPartition GUID:63\"\n"
	runStdin(t, script, "sfdisk", "-q", "--no-reread", "--no-tell-kernel", img)
	run(t, "mkfs.fat", "-F", "32", "-s", "1", "-n", "SYSTEM", "--offset", "2048", img, "102400")
	dir := t.TempDir()
	boot := filepath.Join(dir, "bootmgfw.efi")
	if err := os.WriteFile(boot, []byte("MZ windows boot manager"), 0o644); err != nil {
		t.Fatal(err)
	}
	esp := img + "@@1M"
	run(t, "mmd", "-i", esp, "::/EFI", "::/EFI/Microsoft", "::/EFI/Microsoft/Boot", "::/EFI/Boot", "::/EFI/fedora")
	run(t, "mcopy", "-i", esp, boot, "::/EFI/Microsoft/Boot/bootmgfw.efi")
	run(t, "mcopy", "-i", esp, boot, "::/EFI/Boot/bootx64.efi")
	run(t, "mcopy", "-i", esp, boot, "::/EFI/fedora/shimx64.efi")

	ntfs := make([]byte, 512)
	copy(ntfs[3:], "NTFS    ")
	ntfs[510], ntfs[511] = 0x55, 0xAA
	parts := sgdiskParts(t, img)
	writeAt(t, img, ntfs, parts[3][0]*512)
	writeAt(t, img, ntfs, parts[4][0]*512)

	tree := filepath.Join(dir, "tree")
	for _, f := range []struct{ path, content string }{
		{"usr/lib/os-release", "NAME=\"Fedora Linux\"\nPRETTY_NAME=\"Fedora Linux 42 (Adams)\"\n"},
		{"ostree/repo/config", "[core]\nrepo_version=1\n"},
		{"ostree/deploy/default/deploy/0123abcd.0.origin", "[origin]\ncontainer-image-reference=ostree-unverified-registry:quay.io/fedora/fedora-bootc:42\n"},
		{"ostree/deploy/default/deploy/4567ef01.0.origin", "[origin]\ncontainer-image-reference=ostree-unverified-registry:quay.io/fedora/fedora-bootc:41\n"},
		{"loader/entries/ostree-1.conf", "title Fedora\n"},
	} {
		p := filepath.Join(tree, f.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f.content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ext := filepath.Join(dir, "root.ext4")
	run(t, "mkfs.ext4", "-q", "-F", "-L", "fedora", "-d", tree, ext, "256M")
	copySparse(t, ext, img, parts[5][0]*512)
	return img
}

// copySparse writes the data extents of src into dst at off, leaving the
// holes alone, so a mostly empty filesystem image costs what it holds.
func copySparse(t testing.TB, src, dst string, off uint64) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		t.Fatal(err)
	}
	const seekData, seekHole = 3, 4
	for pos := int64(0); pos < st.Size(); {
		data, err := in.Seek(pos, seekData)
		if err != nil {
			break // no data after pos
		}
		hole, err := in.Seek(data, seekHole)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, hole-data)
		if _, err := in.ReadAt(buf, data); err != nil {
			t.Fatal(err)
		}
		writeAt(t, dst, buf, off+uint64(data))
		pos = hole
	}
}

// runStdin runs a program with stdin.
func runStdin(t testing.TB, stdin, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// sgdiskParts reads start and end sectors with sgdisk, independently of
// the code under test.
func sgdiskParts(t testing.TB, img string) map[int][2]uint64 {
	t.Helper()
	out := run(t, "sgdisk", "-p", img)
	re := regexp.MustCompile(`(?m)^\s+(\d+)\s+(\d+)\s+(\d+)\s`)
	parts := map[int][2]uint64{}
	for _, m := range re.FindAllStringSubmatch(out, -1) {
		i, _ := strconv.Atoi(m[1])
		s, _ := strconv.ParseUint(m[2], 10, 64)
		e, _ := strconv.ParseUint(m[3], 10, 64)
		parts[i] = [2]uint64{s, e}
	}
	return parts
}

// What is on each partition, read with go-diskfs from real FAT32 and ext4
// filesystems made by the standard tools.
func TestDescribeInventory(t *testing.T) {
	img := dualBootImage(t)
	d, err := Describe(img)
	if err != nil {
		t.Fatal(err)
	}
	if d.Table != "gpt" || len(d.Partitions) != 5 || !isGUID(d.DiskGUID) || d.GPT != nil {
		t.Fatalf("described %+v", d)
	}
	byIndex := map[int]Existing{}
	for _, p := range d.Partitions {
		byIndex[p.Index] = p
	}
	esp := byIndex[1]
	if esp.Filesystem != "vfat" || esp.Label != "SYSTEM" || esp.Content == nil || !esp.Content.Inspected || !esp.Content.Windows {
		t.Fatalf("ESP %+v content %+v", esp, esp.Content)
	}
	wantLoaders := []string{"GRUB for fedora (EFI/fedora/shimx64.efi)", "Windows Boot Manager (EFI/Microsoft/Boot/bootmgfw.efi)", "fallback boot loader (EFI/Boot/bootx64.efi)"}
	if strings.Join(esp.Content.BootLoaders, "|") != strings.Join(wantLoaders, "|") {
		t.Errorf("boot loaders %q, want %q", esp.Content.BootLoaders, wantLoaders)
	}
	// the free space counted in the FAT agrees with mtools
	out := run(t, "mdir", "-i", img+"@@1M", "::/")
	m := regexp.MustCompile(`([\d ]+) bytes free`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("mdir printed no free space:\n%s", out)
	}
	free, _ := strconv.ParseUint(strings.ReplaceAll(strings.TrimSpace(m[1]), " ", ""), 10, 64)
	if esp.Content.FreeBytes != free {
		t.Errorf("ESP free %d bytes, mdir says %d", esp.Content.FreeBytes, free)
	}
	if p := byIndex[2]; p.Attributes != 1<<63 || p.Name != "Microsoft reserved partition" || p.Content != nil {
		t.Errorf("MSR %+v", p)
	}
	if p := byIndex[3]; p.Filesystem != "ntfs" || p.Content == nil || p.Content.Inspected || !strings.Contains(p.Content.Note, "not inspected") {
		t.Errorf("NTFS %+v %+v", p, p.Content)
	}
	if p := byIndex[4]; p.Attributes != 1<<63|1 {
		t.Errorf("recovery attributes %#x", p.Attributes)
	}
	linux := byIndex[5]
	c := linux.Content
	if linux.Filesystem != "ext4" || c == nil || !c.Inspected || c.OS != "Fedora Linux 42 (Adams)" || c.BootEntries != 1 || c.Ostree == nil {
		t.Fatalf("linux %+v content %+v", linux, c)
	}
	if o := c.Ostree; strings.Join(o.Stateroots, ",") != "default" || o.Deployments != 2 ||
		strings.Join(o.Images, ",") != "quay.io/fedora/fedora-bootc:41,quay.io/fedora/fedora-bootc:42" {
		t.Errorf("ostree %+v", o)
	}
	sys := strings.Join(d.Systems, "\n")
	for _, w := range []string{"Windows Boot Manager (EFI/Microsoft/Boot/bootmgfw.efi) on partition 1", "ntfs filesystem on partition 3 (not inspected)",
		"Fedora Linux 42 (Adams), bootc/ostree system following quay.io/fedora/fedora-bootc:41, quay.io/fedora/fedora-bootc:42 on partition 5"} {
		if !strings.Contains(sys, w) {
			t.Errorf("systems lack %q:\n%s", w, sys)
		}
	}
}

// Corrupt filesystems never make inventory fail: they become notes.
func TestInspectSurvivesGarbage(t *testing.T) {
	img := sparseImage(t, 64<<20)
	// a FAT32 boot sector whose FAT is absurdly large, an ext4 superblock
	// magic with nothing behind it
	fat := make([]byte, 512)
	copy(fat[82:], "FAT32   ")
	fat[11], fat[12], fat[13] = 0, 2, 1 // 512 bytes per sector, 1 per cluster
	fat[16] = 2
	fat[510], fat[511] = 0x55, 0xAA
	writeAt(t, img, fat, 0)
	for _, c := range []struct {
		fs   string
		note string
	}{{"vfat", "vfat: could not be read"}, {"ext4", "ext4: could not be read"}, {"xfs", "not inspected"}, {"btrfs", "not inspected"}, {"crypto_LUKS", "encrypted"}, {"ext3", "uai reads ext4, not ext3"}} {
		f, err := os.Open(img)
		if err != nil {
			t.Fatal(err)
		}
		e := Existing{Filesystem: c.fs, StartBytes: 0, SizeBytes: 64 << 20}
		got := inspect(f, &e)
		f.Close()
		if got == nil || got.Inspected || !strings.Contains(got.Note, c.note) {
			t.Errorf("%s: %+v, want a note with %q", c.fs, got, c.note)
		}
	}
}

func TestParseOrigin(t *testing.T) {
	for in, want := range map[string][2]string{
		"[origin]\ncontainer-image-reference=ostree-unverified-registry:quay.io/fedora/fedora-bootc:42\n":             {"quay.io/fedora/fedora-bootc:42", ""},
		"[origin]\ncontainer-image-reference=ostree-image-signed:docker://ghcr.io/ublue-os/bazzite:stable\n":          {"ghcr.io/ublue-os/bazzite:stable", ""},
		"[origin]\ncontainer-image-reference=ostree-remote-image:fedora:docker://quay.io/fedora/fedora-silverblue:41": {"quay.io/fedora/fedora-silverblue:41", ""},
		"[origin]\nrefspec=fedora:fedora/41/x86_64/silverblue\n":                                                      {"", "fedora:fedora/41/x86_64/silverblue"},
	} {
		img, ref := parseOrigin([]byte(in))
		if img != want[0] || ref != want[1] {
			t.Errorf("parseOrigin(%q) = %q, %q; want %q", in, img, ref, want)
		}
	}
	if osReleaseName([]byte("NAME=Debian\nID=debian\n")) != "Debian" || osReleaseName([]byte("ID=x\n")) != "" {
		t.Error("os-release fallback to NAME")
	}
}

// Inventory of one disk with its contents read: table, FAT directories
// and free space, ext4 files.
func BenchmarkDescribeDualBoot(b *testing.B) {
	img := dualBootImage(b)
	for b.Loop() {
		d, err := Describe(img)
		if err != nil || len(d.Systems) == 0 {
			b.Fatalf("%v %+v", err, d.Systems)
		}
	}
}
