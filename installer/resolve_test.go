package installer

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/universal-atomic-installer/uai/catalog"
	"github.com/universal-atomic-installer/uai/partition"
)

var update = flag.Bool("update", false, "rewrite golden files")

func testCatalog() *catalog.Catalog {
	return &catalog.Catalog{APIVersion: catalog.APIVersion, Editions: []catalog.Edition{
		{ID: "fedora-bootc-44", Name: "Fedora bootc 44", Category: "server", Image: "quay.io/fedora/fedora-bootc:44",
			Arches: []string{"amd64"}, Firmware: []string{"uefi", "bios"}, MinDiskGiB: 10, MinRAMMiB: 2048, DefaultFilesystem: "xfs"},
		{ID: "pinned", Name: "Pinned", Category: "desktop", Image: "ghcr.io/example/os:stable",
			Digest: "sha256:" + strings.Repeat("ab", 32), Kargs: []string{"quiet"},
			Arches: []string{"amd64"}, Firmware: []string{"uefi"}, MinDiskGiB: 32, MinRAMMiB: 4096, DefaultFilesystem: "btrfs"},
	}}
}

func testDisks() []partition.Disk {
	return []partition.Disk{
		{Path: "/dev/nvme0n1", Name: "nvme0n1", SizeBytes: 512 << 30, LogicalSectorSize: 512, PhysicalSectorSize: 512,
			Model: "Example SSD", Serial: "S123", Transport: "nvme", ByID: []string{"/dev/disk/by-id/nvme-Example_SSD_S123"}},
		{Path: "/dev/sda", Name: "sda", SizeBytes: 256 << 30, LogicalSectorSize: 512, PhysicalSectorSize: 4096, Model: "Data",
			Transport: "sata", Table: "gpt", Partitions: []partition.Existing{{Index: 1, SizeBytes: 100 << 30, Filesystem: "ntfs"}}},
		{Path: "/dev/sdb", Name: "sdb", SizeBytes: 32 << 30, LogicalSectorSize: 512, Transport: "usb", Removable: true,
			Refusals: []string{"the live system booted from it"}},
		{Path: "/dev/sdc", Name: "sdc", SizeBytes: 8 << 30, LogicalSectorSize: 512, Transport: "sata"},
		{Path: "/var/tmp/disk.img", Name: "disk.img", ImageFile: true, SizeBytes: 64 << 30, LogicalSectorSize: 512, Transport: "file"},
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != string(got) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestResolveGolden(t *testing.T) {
	cases := []struct {
		name string
		req  Request
	}{
		{"plan-by-id", Request{EditionID: "fedora-bootc-44", DiskPath: "/dev/disk/by-id/nvme-Example_SSD_S123", Arch: "amd64"}},
		{"plan-pinned-wipe", Request{EditionID: "pinned", DiskPath: "/dev/sda", Wipe: true, Arch: "amd64", TargetDir: "/mnt/t"}},
		{"plan-demo-image", Request{EditionID: "fedora-bootc-44", DiskPath: "/var/tmp/disk.img", Demo: true, Filesystem: "ext4", Arch: "amd64"}},
		{"plan-custom-image", Request{Image: "registry.example.org:5000/me/os@sha256:" + strings.Repeat("0", 64), DiskPath: "/dev/nvme0n1", Arch: "arm64"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Resolve(c.req, testDisks(), testCatalog())
			if err != nil {
				t.Fatal(err)
			}
			golden(t, c.name+".json", p.JSON())
			golden(t, c.name+".txt", []byte(p.Text()))
			again, _ := Resolve(c.req, testDisks(), testCatalog())
			if again.SHA256() != p.SHA256() {
				t.Fatalf("the same request made two plans with different hashes")
			}
		})
	}
}

func TestResolvePinnedDigestRunsExactImage(t *testing.T) {
	p, err := Resolve(Request{EditionID: "pinned", DiskPath: "/dev/sda", Wipe: true, Arch: "amd64"}, testDisks(), testCatalog())
	if err != nil {
		t.Fatal(err)
	}
	cmd := strings.Join(p.Command, " ")
	if !strings.Contains(cmd, " ghcr.io/example/os@sha256:abab") || !strings.Contains(cmd, "--target-imgref=ghcr.io/example/os:stable") {
		t.Fatalf("pinned edition must run the digest and keep the tag as target ref: %s", cmd)
	}
	if !strings.Contains(cmd, "--karg=quiet") {
		t.Fatalf("edition kargs missing: %s", cmd)
	}
}

func TestResolveRefusals(t *testing.T) {
	cases := []struct {
		name  string
		req   Request
		class Class
		want  []string
	}{
		{"unknown edition", Request{EditionID: "nope", DiskPath: "/dev/nvme0n1"}, ClassInvalidInput, []string{`edition "nope"`, "fedora-bootc-44, pinned"}},
		{"edition and image", Request{EditionID: "pinned", Image: "quay.io/a/b:1", DiskPath: "/dev/nvme0n1"}, ClassInvalidInput, []string{"both"}},
		{"nothing", Request{DiskPath: "/dev/nvme0n1"}, ClassInvalidInput, []string{"nothing to install"}},
		{"metacharacters", Request{Image: "quay.io/a/b:1$(reboot)", DiskPath: "/dev/nvme0n1"}, ClassInvalidInput, []string{"$"}},
		{"transport prefix", Request{Image: "docker://quay.io/a/b:1", DiskPath: "/dev/nvme0n1"}, ClassInvalidInput, []string{"docker://"}},
		{"no disk", Request{EditionID: "pinned"}, ClassInvalidInput, []string{"no target disk"}},
		{"unknown disk", Request{EditionID: "pinned", DiskPath: "/dev/sdz"}, ClassDiskRefused, []string{"/dev/sdz was not found", "/dev/nvme0n1 (512 GiB, Example SSD)", "/dev/sdc (8 GiB, -)"}},
		{"boot medium", Request{EditionID: "fedora-bootc-44", DiskPath: "/dev/sdb"}, ClassDiskRefused, []string{"live system booted from it"}},
		{"too small", Request{EditionID: "fedora-bootc-44", DiskPath: "/dev/sdc"}, ClassDiskRefused, []string{"too small", "has 8 GiB", "needs 10 GiB"}},
		{"data without wipe", Request{EditionID: "fedora-bootc-44", DiskPath: "/dev/sda"}, ClassDiskRefused, []string{"not empty", "gpt table, 1 partitions", "wipe = true"}},
		{"demo on a block device", Request{EditionID: "fedora-bootc-44", DiskPath: "/dev/nvme0n1", Demo: true}, ClassDiskRefused, []string{"demo mode never writes a real disk"}},
		{"relative target dir", Request{EditionID: "fedora-bootc-44", DiskPath: "/dev/nvme0n1", TargetDir: "mnt"}, ClassInvalidInput, []string{"not absolute"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Resolve(c.req, testDisks(), testCatalog())
			if err == nil {
				t.Fatal("resolved; want a refusal")
			}
			if got := ClassOf(err); got != c.class {
				t.Fatalf("class %s, want %s: %v", got, c.class, err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message lacks %q: %v", w, err)
				}
			}
		})
	}
}

// Only an explicit allow_boot_medium lifts the boot-medium refusal, and the
// plan carries the permission so the engine's preflight honours it too.
func TestResolveAllowBootMedium(t *testing.T) {
	stick := partition.Disk{Path: "/dev/sdk", Name: "sdk", SizeBytes: 64 << 30, LogicalSectorSize: 512, Transport: "usb",
		Refusals: []string{"boot medium: the live system booted from it"}}
	mounted := stick
	mounted.Refusals = append(append([]string{}, stick.Refusals...), "mounted: sdk1 is mounted at /run/initramfs/live")
	req := Request{EditionID: "fedora-bootc-44", DiskPath: "/dev/sdk", Arch: "amd64"}
	if _, err := Resolve(req, []partition.Disk{stick}, testCatalog()); ClassOf(err) != ClassDiskRefused {
		t.Fatalf("boot medium accepted without permission: %v", err)
	}
	req.Selector.AllowBootMedium = true
	p, err := Resolve(req, []partition.Disk{stick}, testCatalog())
	if err != nil || !p.Disk.AllowBootMedium {
		t.Fatalf("allowed boot medium: plan %+v, err %v", p, err)
	}
	if _, err := Resolve(req, []partition.Disk{mounted}, testCatalog()); ClassOf(err) != ClassDiskRefused || !strings.Contains(err.Error(), "mounted") {
		t.Fatalf("a mounted boot medium must stay refused: %v", err)
	}
}
