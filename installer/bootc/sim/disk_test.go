package sim

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// diskImage makes a sparse file; with mbrParts > 0 it carries an MBR with
// that many partition entries.
func diskImage(t *testing.T, size int64, mbrParts int, gpt bool) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "disk.raw")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	sector := make([]byte, 1024)
	for i := 0; i < mbrParts; i++ {
		sector[446+16*i+4] = 0x83
	}
	if mbrParts > 0 || gpt {
		sector[510], sector[511] = 0x55, 0xAA
	}
	if gpt {
		sector[446+4] = 0xEE
		copy(sector[512:], "EFI PART")
	}
	if _, err := f.WriteAt(sector, 0); err != nil {
		t.Fatal(err)
	}
	return p
}

// fileState fingerprints a (large, sparse) image cheaply: size, mtime and
// the first 4 MiB, where a partition table or filesystem would land.
func fileState(t *testing.T, p string) string {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	head := make([]byte, 4<<20)
	n, _ := f.ReadAt(head, 0)
	return fmt.Sprintf("%d %s %x", fi.Size(), fi.ModTime(), sha256.Sum256(head[:n]))
}

func TestToDiskViaLoopback(t *testing.T) {
	img := diskImage(t, 20<<30, 0, false)
	before := fileState(t, img)
	env := fakeEnv(t, nil)
	env.InContainer, env.Image = true, testImage
	r := runSim("bootc", env, "install", "to-disk", "--via-loopback", "--filesystem", "xfs", "--root-size", "10G", img)
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
	golden(t, "to-disk.stdout", r.stdout)
	if !strings.HasPrefix(r.stderr, "Automatically enabling --generic-image when installing via loopback\nDeploying container image...done (") {
		t.Errorf("stderr: %q", r.stderr)
	}
	if fileState(t, img) != before {
		t.Error("the simulator wrote to the disk image")
	}
	if entries := treeFiles(t, filepath.Dir(img)); len(entries) != 1 {
		t.Errorf("the simulator created files next to the image: %q", entries)
	}
}

func TestToDiskRules(t *testing.T) {
	blank := func(t *testing.T) string { return diskImage(t, 8<<30, 0, false) }
	for _, tc := range []struct {
		name    string
		version string
		cfg     *InstallConfig
		dev     func(t *testing.T) string
		args    []string
		code    int
		want    string
	}{
		{name: "no filesystem", dev: blank, args: []string{"--via-loopback"}, code: 1,
			want: "error: Installing to disk: No root filesystem specified\n"},
		{name: "no filesystem, old bootc", version: "1.13.0", dev: blank, args: []string{"--via-loopback"}, code: 1,
			want: "error: Installing to disk: Creating rootfs: No root filesystem specified\n"},
		{name: "filesystem from the image config", cfg: &InstallConfig{RootFSType: "btrfs"}, dev: blank, args: []string{"--via-loopback"}, code: 0,
			want: "Creating root filesystem (btrfs) on device /dev/loop0p3"},
		{name: "existing MBR partitions", dev: func(t *testing.T) string { return diskImage(t, 8<<30, 2, false) }, args: []string{"--via-loopback", "--filesystem=ext4"}, code: 1,
			want: "error: Installing to disk: Creating rootfs: Detected existing partitions on /dev/loop0; use e.g. `wipefs` or --wipe if you intend to overwrite\n"},
		{name: "existing GPT", dev: func(t *testing.T) string { return diskImage(t, 8<<30, 0, true) }, args: []string{"--via-loopback", "--filesystem=ext4"}, code: 1,
			want: "Detected existing partitions on /dev/loop0"},
		{name: "existing partitions with wipe", dev: func(t *testing.T) string { return diskImage(t, 8<<30, 2, false) }, args: []string{"--via-loopback", "--wipe", "--filesystem=ext4"}, code: 0,
			want: "Wiping /dev/loop0p1\nWiping device /dev/loop0p1\nWiping /dev/loop0p2\nWiping device /dev/loop0p2\nWiping /dev/loop0\nWiping device /dev/loop0\nBlock setup: direct"},
		{name: "regular file without loopback", dev: blank, args: []string{"--filesystem=xfs"}, code: 1,
			want: "error: Installing to disk: Not a block device: DEV\n"},
		{name: "missing file", dev: func(t *testing.T) string { return filepath.Join(t.TempDir(), "nope") }, args: []string{"--via-loopback", "--filesystem=xfs"}, code: 1,
			want: "error: Installing to disk: Querying DEV: No such file or directory (os error 2)\n"},
		{name: "directory via loopback", dev: func(t *testing.T) string { return t.TempDir() }, args: []string{"--via-loopback", "--filesystem=xfs"}, code: 1,
			want: "error: Installing to disk: Not a regular file (to be used via loopback): DEV\n"},
		{name: "tpm2-luks not in the image config", cfg: &InstallConfig{RootFSType: "xfs"}, dev: blank, args: []string{"--via-loopback", "--block-setup=tpm2-luks"}, code: 1,
			want: "error: Installing to disk: Creating rootfs: Block setup Tpm2Luks is not enabled in installation config\n"},
		{name: "tpm2-luks allowed", cfg: &InstallConfig{RootFSType: "xfs", Block: []string{"direct", "tpm2-luks"}}, dev: blank, args: []string{"--via-loopback", "--block-setup=tpm2-luks"}, code: 0,
			want: "Block setup: tpm2-luks"},
		{name: "tpm2-luks without config", dev: blank, args: []string{"--via-loopback", "--filesystem=xfs", "--block-setup=tpm2-luks"}, code: 0,
			want: "Opening root LUKS device\nCreating root filesystem (xfs) on device /dev/mapper/root"},
		{name: "root size unit", dev: blank, args: []string{"--via-loopback", "--filesystem=xfs", "--root-size=20GB"}, code: 1,
			want: "error: Installing to disk: Creating rootfs: Parsing root size: Trailing text after size: B\n"},
		{name: "root size digits", dev: blank, args: []string{"--via-loopback", "--filesystem=xfs", "--root-size=ten"}, code: 1,
			want: "Parsing root size: invalid digit found in string"},
		{name: "discoverable partitions with systemd-boot", dev: blank, args: []string{"--via-loopback", "--filesystem=xfs", "--bootloader=systemd"}, code: 0,
			want: " Partitions: Discoverable\n"},
		{name: "host runner", dev: blank, args: []string{"--via-loopback", "--filesystem=xfs", "--source-imgref=registry:" + testImage}, code: 0,
			want: "Installing image: docker://quay.io/fedora/fedora-bootc:42\nBlock setup: direct"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := fakeEnv(t, nil)
			env.InContainer, env.Image = true, testImage
			env.ImageConfig = tc.cfg
			if tc.version != "" {
				env.Version = tc.version
			}
			dev := tc.dev(t)
			args := append(append([]string{"install", "to-disk"}, tc.args...), dev)
			r := runSim("bootc", env, args...)
			r.stderr = strings.ReplaceAll(r.stderr, dev, "DEV")
			expect(t, r, tc.code, tc.want)
		})
	}
}

type fakeInfo struct{ mode fs.FileMode }

func (f fakeInfo) Name() string       { return "vda" }
func (f fakeInfo) Size() int64        { return 0 }
func (f fakeInfo) Mode() fs.FileMode  { return f.mode }
func (f fakeInfo) ModTime() time.Time { return time.Time{} }
func (f fakeInfo) IsDir() bool        { return false }
func (f fakeInfo) Sys() any           { return nil }

// TestToDiskNeverTouchesABlockDevice presents a block device (through the
// stat hook, so no real device is involved) and expects a refusal before
// anything is printed.
func TestToDiskNeverTouchesABlockDevice(t *testing.T) {
	orig := statDevice
	defer func() { statDevice = orig }()
	statDevice = func(string) (fs.FileInfo, error) { return fakeInfo{mode: fs.ModeDevice | 0o660}, nil }
	env := fakeEnv(t, nil)
	env.InContainer, env.Image = true, testImage
	r := runSim("bootc", env, "install", "to-disk", "--wipe", "--filesystem=xfs", "/dev/vda")
	expect(t, r, 1, "error: Installing to disk: simulator never writes block devices: /dev/vda is one; simulate with a regular file and --via-loopback\n")
	if r.stdout != "" {
		t.Errorf("printed before refusing: %q", r.stdout)
	}
	// With --via-loopback a block device is bootc's own error.
	r = runSim("bootc", env, "install", "to-disk", "--via-loopback", "--filesystem=xfs", "/dev/vda")
	expect(t, r, 1, "Not a regular file (to be used via loopback): /dev/vda")
	// A character device is not a block device.
	statDevice = func(string) (fs.FileInfo, error) {
		return fakeInfo{mode: fs.ModeDevice | fs.ModeCharDevice | 0o666}, nil
	}
	expect(t, runSim("bootc", env, "install", "to-disk", "--filesystem=xfs", "/dev/null"), 1, "Not a block device: /dev/null")
}

func TestParseSizeMiB(t *testing.T) {
	for in, want := range map[string]uint64{"512": 512, "512M": 512, "512MiB": 512, "20G": 20480, "2GiB": 2048, "1T": 1 << 20, "3TiB": 3 << 20} {
		if got, err := parseSizeMiB(in); err != nil || got != want {
			t.Errorf("parseSizeMiB(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for in, want := range map[string]string{"20GB": "Trailing text after size: B", "G": "cannot parse integer from empty string", "x": "invalid digit found in string", "99999999999999999999": "number too large"} {
		if _, err := parseSizeMiB(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseSizeMiB(%q) = %v, want %q", in, err, want)
		}
	}
	if formatSize(536870912) != "536.9 MB" || formatSize(1) != "1 byte" || formatSize(999) != "999 bytes" || formatSize(20<<30) != "21.5 GB" {
		t.Error("formatSize")
	}
}
