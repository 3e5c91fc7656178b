package test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/universal-atomic-installer/uai/catalog"
	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/installer/host"
	"github.com/universal-atomic-installer/uai/partition"
	"github.com/universal-atomic-installer/uai/test/internal/loopdev"
)

// Dual boot beside Windows, as root, all the way: the table gets a new
// root in the free gap and reuses the Windows ESP, Windows stays byte for
// byte, and independent tools agree on the result.
func TestDiskDualBootWindows(t *testing.T) {
	needRoot(t)
	loopdev.RequireTools(t, "sfdisk", "sgdisk", "blkid", "xfs_repair", "losetup", "partx", "fusefat", "mkfs.xfs")
	dir := t.TempDir()
	w := newWindowsDisk(t, dir, 24<<30, 8<<30)
	before := w.state(t)
	a := answersFile(t, dir, w.path, "", "layout = \"free\"\n")
	target := filepath.Join(dir, "target")
	env := []string{"UAI_STATE_DIR=" + filepath.Join(dir, "state")}
	t.Cleanup(func() { releaseLeftovers(t, dir, w.path) })

	r := runBin(t, uaiBin, nil, env, "install", "--demo", "--answers", a, "--progress=json", "--target-dir", target)
	evs, res := events(t, r.stdout)
	if r.code != 0 || res.ExitCode != 0 {
		t.Fatalf("exit %d %+v\n%s", r.code, res, r.stderr)
	}
	var logs []string
	for _, e := range evs {
		if e.Type == installer.EventStepLog {
			logs = append(logs, e.Line)
		}
	}
	all := strings.Join(logs, "\n")
	for _, want := range []string{"(4 kept unchanged, 1 new)", "the ESP on partition 1 is reused as it is: not formatted"} {
		if !strings.Contains(all, want) {
			t.Errorf("the log lacks %q", want)
		}
	}
	w.unchanged(t, before)

	tab := sfdisk(t, w.path)
	if len(tab.PartitionTable.Partitions) != 5 {
		t.Fatalf("sfdisk sees %d partitions", len(tab.PartitionTable.Partitions))
	}
	root := tab.PartitionTable.Partitions[4]
	if !strings.HasSuffix(root.Node, "5") || !strings.EqualFold(root.Type, partition.TypeRootAMD64) || root.Name != "root" ||
		root.Start != (w.parts[2].start+w.parts[2].count+2047)/2048*2048 || root.Start+root.Size > w.parts[3].start {
		t.Errorf("root partition %+v is not in the gap after C:", root)
	}
	if out := runOK(t, "sgdisk", "-v", w.path); !strings.Contains(out, "No problems found") {
		t.Errorf("sgdisk -v:\n%s", out)
	}
	// the new root, checked on a loop device of our own
	dev := loopdev.Attach(t, w.path, 512)
	runOK(t, "partx", "-a", dev)
	node := dev + "p5"
	if out := runOK(t, "blkid", "-p", "-o", "export", node); !strings.Contains(out, "TYPE=xfs") || !strings.Contains(out, "LABEL=root") {
		t.Errorf("blkid %s:\n%s", node, out)
	}
	runOK(t, "xfs_repair", "-n", node)
	if out := runOK(t, "blkid", "-p", "-o", "export", dev+"p3"); !strings.Contains(out, "TYPE=ntfs") || !strings.Contains(out, "LABEL=Windows") {
		t.Errorf("C: is no longer NTFS:\n%s", out)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "state", "journal", "*.json")); len(m) > 0 {
		t.Errorf("journals left: %v", m)
	}
}

// A failure after the table was written puts the original table back,
// byte for byte, both copies; with preserve_on_error the new table stays.
func TestDiskDualBootRestoresOnFailure(t *testing.T) {
	needRoot(t)
	loopdev.RequireTools(t, "sfdisk", "sgdisk", "losetup", "mkfs.xfs", "fusefat")
	for _, preserve := range []bool{false, true} {
		name := "restore"
		if preserve {
			name = "preserve_on_error"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			w := newWindowsDisk(t, dir, 16<<30, 4<<30)
			before := w.state(t)
			table := tableBytes(t, w.path)
			disk := ""
			if preserve {
				disk = "preserve_on_error = true\n"
			}
			a := answersFile(t, dir, w.path, disk, "layout = \"free\"\nseparate_boot = true\n")
			env := []string{"UAI_STATE_DIR=" + filepath.Join(dir, "state"), "UAI_SIM_FAIL=bootloader"}
			t.Cleanup(func() { releaseLeftovers(t, dir, w.path) })
			r := runBin(t, uaiBin, nil, env, "install", "--demo", "--answers", a, "--progress=json", "--target-dir", filepath.Join(dir, "target"))
			_, res := events(t, r.stdout)
			if r.code != 6 || res.Class != "install-failed" {
				t.Fatalf("exit %d %+v", r.code, res)
			}
			w.unchanged(t, before)
			restored := bytes.Equal(tableBytes(t, w.path), table)
			if restored == preserve {
				t.Errorf("original table back: %v, preserve_on_error %v", restored, preserve)
			}
			if n := len(sfdisk(t, w.path).PartitionTable.Partitions); (preserve && n != 6) || (!preserve && n != 4) {
				t.Errorf("%d partitions after the failure", n)
			}
			if m, _ := filepath.Glob(filepath.Join(dir, "state", "journal", "*.json")); len(m) > 0 {
				t.Errorf("journals left: %v", m)
			}
		})
	}
}

// Too little free space: the plan is refused with the sizes, nothing is
// written, and the error says what to do.
func TestDiskDualBootTooSmall(t *testing.T) {
	dir := t.TempDir()
	w := newWindowsDisk(t, dir, 16<<30, 12<<30) // about 3 GiB free
	table := tableBytes(t, w.path)
	a := answersFile(t, dir, w.path, "", "layout = \"free\"\n")
	r := runBin(t, uaiBin, nil, nil, "install", "--demo", "--answers", a, "--progress=json")
	_, res := events(t, r.stdout)
	if r.code != 3 || res.Class != "disk-refused" {
		t.Fatalf("exit %d %+v", r.code, res)
	}
	for _, want := range []string{"too little free space", "the install needs 10 GiB", "root 10 GiB", "the largest free region is 3.", "Shrink Volume"} {
		if !strings.Contains(res.Error, want) {
			t.Errorf("error lacks %q: %s", want, res.Error)
		}
	}
	if !bytes.Equal(tableBytes(t, w.path), table) {
		t.Error("the table changed although the plan was refused")
	}
}

// Free space on a 4Kn disk (a loop device with 4096-byte sectors), with an
// ESP too small to share: uai makes its own ESP. Run in process against the
// built-in simulator; checked by sfdisk, sgdisk, blkid, fsck.fat and
// xfs_repair on the device.
func TestDiskFreeSpace4Kn(t *testing.T) {
	needRoot(t)
	loopdev.RequireTools(t, "sfdisk", "sgdisk", "blkid", "fsck.fat", "xfs_repair", "mkfs.fat", "mkfs.xfs", "mkntfs", "partx", "fusefat")
	dir := t.TempDir()
	img := filepath.Join(dir, "4kn.img")
	if err := os.WriteFile(img, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 32<<30); err != nil {
		t.Fatal(err)
	}
	dev := loopdev.Attach(t, img, 4096)
	// an old, small ESP (24 MiB, FAT16): too little room to share
	sfdiskScript(t, "label: gpt\n"+
		"start=256, size=6144, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=\"EFI system partition\"\n"+
		"start=6400, size=4096, type=E3C9E316-0B5C-4DB8-817D-F92DF00215AE, name=\"Microsoft reserved partition\"\n"+
		"start=10496, size=2621440, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name=\"Basic data partition\"\n", dev)
	runOK(t, "partx", "-a", dev)
	runOK(t, "mkfs.fat", "-n", "SYSTEM", dev+"p1")
	runOK(t, "mkntfs", "-Q", "-F", "-q", "-L", "Windows", dev+"p3")
	c := rangeSum(t, img, 10496*4096, 2621440*4096)
	runOK(t, "partx", "-d", dev)

	d, err := partition.Describe(dev)
	if err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dir, "target")
	t.Setenv("UAI_STATE_DIR", filepath.Join(dir, "state"))
	t.Setenv("UAI_SIM_DELAY", "0")
	p, err := installer.Resolve(installer.Request{EditionID: "fedora-bootc-44", Arch: "amd64", DiskPath: dev, TargetDir: target,
		Storage: installer.StorageRequest{Layout: "free", RootSizeBytes: 20 << 30}}, []partition.Disk{d}, installerCatalog(t))
	if err != nil {
		t.Fatal(err)
	}
	if esp, _ := p.Layout.Find(partition.RoleESP); esp.Keep || !strings.Contains(strings.Join(p.Layout.Notes, " "), "does not reuse the ESP on partition 1: only") {
		t.Fatalf("ESP %+v notes %v", esp, p.Layout.Notes)
	}
	t.Cleanup(func() { unmountUnder(t, dir) })
	ex := simulatorExec()
	sink := &installer.Collector{}
	res, err := (&installer.Engine{Runner: ex, Locate: ex, IsRoot: true, FuseESP: !installer.KernelHasVFAT()}).Run(t.Context(), p, sink)
	if err != nil {
		b, _ := json.MarshalIndent(sink.Snapshot(), "", " ")
		t.Fatalf("install: %v %+v\n%s", err, res, b)
	}
	tab := sfdisk(t, dev)
	if tab.PartitionTable.SectorSize != 4096 || len(tab.PartitionTable.Partitions) != 5 {
		t.Fatalf("sfdisk: %+v", tab.PartitionTable)
	}
	for _, pt := range tab.PartitionTable.Partitions {
		if pt.Start%256 != 0 {
			t.Errorf("partition %s starts at %d, not 1 MiB aligned", pt.Node, pt.Start)
		}
	}
	if out := runOK(t, "sgdisk", "-v", dev); !strings.Contains(out, "No problems found") {
		t.Errorf("sgdisk -v:\n%s", out)
	}
	// the engine registered the new table's partitions (BLKPG)
	runOK(t, "fsck.fat", "-n", dev+"p4")
	if out := runOK(t, "blkid", "-p", "-o", "export", dev+"p4"); !strings.Contains(out, "LABEL=EFI-SYSTEM") {
		t.Errorf("new ESP: %s", out)
	}
	runOK(t, "xfs_repair", "-n", dev+"p5")
	if rangeSum(t, img, 10496*4096, 2621440*4096) != c {
		t.Error("C: changed")
	}
	runOK(t, "fsck.fat", "-n", dev+"p1")
}

// simulatorExec runs podman and bootc as the built-in simulator of the
// uai binary under test.
func simulatorExec() *host.Exec {
	return &host.Exec{Paths: map[host.Tool][]string{
		host.Podman: {uaiBin, "simulate", "podman"},
		host.Bootc:  {uaiBin, "simulate", "bootc"},
	}}
}

func installerCatalog(t *testing.T) *catalog.Catalog {
	t.Helper()
	return catalog.Embedded()
}
