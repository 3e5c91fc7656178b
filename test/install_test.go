package test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/test/internal/loopdev"
)

type sfdiskJSON struct {
	PartitionTable struct {
		Label      string `json:"label"`
		SectorSize int    `json:"sectorsize"`
		Partitions []struct {
			Node  string `json:"node"`
			Start uint64 `json:"start"`
			Size  uint64 `json:"size"`
			Type  string `json:"type"`
			Name  string `json:"name"`
		} `json:"partitions"`
	} `json:"partitiontable"`
}

func sfdisk(t *testing.T, path string) sfdiskJSON {
	t.Helper()
	out, err := exec.Command("sfdisk", "--json", path).Output()
	if err != nil {
		t.Fatalf("sfdisk --json %s: %v", path, err)
	}
	var s sfdiskJSON
	if err := json.Unmarshal(out, &s); err != nil {
		t.Fatalf("parse sfdisk output: %v\n%s", err, out)
	}
	return s
}

func mountedUnder(t *testing.T, dir string) []string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) > 4 && strings.HasPrefix(f[4], dir) {
			out = append(out, f[4])
		}
	}
	return out
}

func loopsFor(t *testing.T, img string) string {
	t.Helper()
	out, _ := exec.Command("losetup", "-j", img).Output()
	return strings.TrimSpace(string(out))
}

// The whole walking skeleton as root: answer file -> plan -> GPT + ESP +
// root fs on a loop device -> mounts -> simulated bootc -> origin check ->
// unmount and detach. Then independent tools check what is on the disk.
func TestDemoInstallOnLoopDevice(t *testing.T) {
	needRoot(t)
	loopdev.RequireTools(t, "sfdisk", "sgdisk", "blkid", "fsck.fat", "mkfs.xfs", "losetup", "partx", "fusefat", "xfs_repair")
	dir := t.TempDir()
	img := sparseImage(t, dir, 64<<30)
	target := filepath.Join(dir, "target")
	a := writeFile(t, dir, "answers.toml", `version = 1
confirm = true
[source]
edition = "fedora-bootc-44"
[disk]
path = "`+img+`"
[storage]
filesystem = "xfs"
`)
	r := runUAI(t, "install", "--demo", "--answers", a, "--progress=json", "--target-dir", target)
	evs, res := events(t, r.stdout)
	if r.code != 0 || res.ExitCode != 0 {
		t.Fatalf("install failed: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !res.Simulated || res.TargetRef != "quay.io/fedora/fedora-bootc:44" || res.Stopped != "" {
		t.Fatalf("result %+v", res)
	}
	var sawSimBootc, sawComplete bool
	for _, e := range evs {
		if e.Step == installer.StepBootc && e.Type == installer.EventStepStarted && e.Simulated && strings.Contains(e.Title, "simulated bootc") {
			sawSimBootc = true
		}
		if e.Type == installer.EventStepLog && e.Line == "Installation complete!" {
			sawComplete = true
		}
	}
	if !sawSimBootc || !sawComplete {
		t.Fatalf("bootc step not labelled simulated (%v) or never completed (%v)", sawSimBootc, sawComplete)
	}
	if m := mountedUnder(t, dir); len(m) > 0 {
		t.Fatalf("left mounted: %v", m)
	}
	if l := loopsFor(t, img); l != "" {
		t.Fatalf("loop device left attached: %s", l)
	}

	// Independent checks of the table.
	s := sfdisk(t, img)
	pt := s.PartitionTable
	if pt.Label != "gpt" || len(pt.Partitions) != 3 {
		t.Fatalf("table %+v", pt)
	}
	wantTypes := []string{"21686148-6449-6E6F-744E-656564454649", "C12A7328-F81F-11D2-BA4B-00A0C93EC93B", "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709"}
	for i, p := range pt.Partitions {
		if p.Type != wantTypes[i] {
			t.Errorf("partition %d type %s, want %s", i+1, p.Type, wantTypes[i])
		}
		if p.Start%2048 != 0 {
			t.Errorf("partition %d starts at %d, not 1 MiB aligned", i+1, p.Start)
		}
	}
	if pt.Partitions[1].Size != 512<<20/512 {
		t.Errorf("ESP has %d sectors, want 512 MiB", pt.Partitions[1].Size)
	}
	if out, err := exec.Command("sgdisk", "-v", img).CombinedOutput(); err != nil || !strings.Contains(string(out), "No problems found") {
		t.Fatalf("sgdisk -v: %v\n%s", err, out)
	}

	// Filesystems and the deployment, through a loop device of our own.
	dev := loopdev.Attach(t, img, 512)
	if out, err := exec.Command("partx", "-a", dev).CombinedOutput(); err != nil {
		t.Fatalf("partx -a: %v %s", err, out)
	}
	blk := func(part, tag string) string {
		out, _ := exec.Command("blkid", "-o", "value", "-s", tag, part).Output()
		return strings.TrimSpace(string(out))
	}
	if fs, label := blk(dev+"p2", "TYPE"), blk(dev+"p2", "LABEL"); fs != "vfat" || label != "EFI-SYSTEM" {
		t.Errorf("ESP is %q labelled %q", fs, label)
	}
	if fs, label := blk(dev+"p3", "TYPE"), blk(dev+"p3", "LABEL"); fs != "xfs" || label != "root" {
		t.Errorf("root is %q labelled %q", fs, label)
	}
	if out, err := exec.Command("fsck.fat", "-n", dev+"p2").CombinedOutput(); err != nil {
		t.Errorf("fsck.fat -n: %v\n%s", err, out)
	}
	if out, err := exec.Command("xfs_repair", "-n", dev+"p3").CombinedOutput(); err != nil {
		t.Errorf("xfs_repair -n: %v\n%s", err, out)
	}
	mnt := filepath.Join(dir, "check")
	if err := os.MkdirAll(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-o", "ro", dev+"p3", mnt).CombinedOutput(); err != nil {
		t.Fatalf("mount root: %v %s", err, out)
	}
	t.Cleanup(func() { _ = syscall.Unmount(mnt, 0) })
	origins, _ := filepath.Glob(filepath.Join(mnt, "ostree/deploy/default/deploy/*.origin"))
	if len(origins) != 1 {
		t.Fatalf("want one deployment origin, found %v", origins)
	}
	origin, _ := os.ReadFile(origins[0])
	if !strings.Contains(string(origin), "container-image-reference=ostree-unverified-registry:quay.io/fedora/fedora-bootc:44") {
		t.Fatalf("origin:\n%s", origin)
	}
	entries, _ := filepath.Glob(filepath.Join(mnt, "boot/loader/entries/*.conf"))
	if len(entries) == 0 {
		t.Fatalf("no boot loader entry written")
	}
}

// As an ordinary user the demo partitions the image and formats the ESP,
// then stops and says why; the result is still exit 0 and the table is real.
func TestDemoInstallWithoutRoot(t *testing.T) {
	dir, err := os.MkdirTemp("", "uai-nonroot-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	_ = os.Chmod(dir, 0o777)
	img := sparseImage(t, dir, 64<<30)
	_ = os.Chmod(img, 0o666)
	var cred *syscall.Credential
	if isRoot() {
		cred = &syscall.Credential{Uid: 65534, Gid: 65534} // nobody
	}
	r := runUAIAs(t, cred, "install", "--demo", "--edition", "fedora-bootc-44", "--target", img, "--yes", "--progress=json")
	_, res := events(t, r.stdout)
	if r.code != 0 || res.Stopped == "" || !strings.Contains(res.Stopped, "root") {
		t.Fatalf("exit %d result %+v\n%s", r.code, res, r.stderr)
	}
	if len(sfdisk(t, img).PartitionTable.Partitions) != 3 {
		t.Fatalf("no table written")
	}
	// Extract the ESP and check it with fsck.fat: no loop device needed.
	s := sfdisk(t, img)
	esp := s.PartitionTable.Partitions[1]
	espImg := filepath.Join(dir, "esp.img")
	out, err := exec.Command("dd", "if="+img, "of="+espImg, "bs=512", "skip="+strconv.FormatUint(esp.Start, 10), "count="+strconv.FormatUint(esp.Size, 10), "status=none").CombinedOutput()
	if err != nil {
		t.Fatalf("dd: %v %s", err, out)
	}
	if out, err := exec.Command("fsck.fat", "-n", espImg).CombinedOutput(); err != nil {
		t.Fatalf("fsck.fat -n on the ESP: %v\n%s", err, out)
	}
}
