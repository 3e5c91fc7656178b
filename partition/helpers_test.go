package partition

// Test helpers for disks. They mirror test/internal/loopdev, which this
// package cannot import (Go allows test/internal/... only under test/).

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func unavailable(t testing.TB, reason string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (CI=true, so this is a failure, not a skip)", reason)
		return
	}
	t.Skipf("SKIPPED: %s; this test did not run", reason)
}

func requireTools(t testing.TB, names ...string) {
	t.Helper()
	var missing []string
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		unavailable(t, "needs "+strings.Join(missing, ", ")+" on PATH (install util-linux, gdisk, dosfstools, xfsprogs, e2fsprogs, btrfs-progs)")
	}
}

func requireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		unavailable(t, "needs root for loop devices (run the tests as root, e.g. in the CI container)")
	}
}

func sparseImage(t testing.TB, size int64) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "disk.img")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	return path
}

// attachLoop attaches image with the sector size and detaches it (after
// removing BLKPG partitions, which outlive a detach) when the test ends.
// Extra losetup flags (such as --partscan) go in flags.
func attachLoop(t testing.TB, image string, sectorSize int, flags ...string) string {
	t.Helper()
	requireRoot(t)
	requireTools(t, "losetup", "partx")
	args := append([]string{"--find", "--show", "--sector-size", strconv.Itoa(sectorSize)}, flags...)
	out, err := exec.Command("losetup", append(args, image)...).CombinedOutput()
	if err != nil {
		t.Fatalf("losetup --find --show %s: %v: %s", image, err, out)
	}
	dev := strings.TrimSpace(string(out))
	t.Cleanup(func() {
		if len(loopPartitions(dev)) > 0 {
			if out, err := exec.Command("partx", "-d", dev).CombinedOutput(); err != nil {
				t.Errorf("cleanup: partx -d %s: %v: %s", dev, err, out)
			}
		}
		if out, err := exec.Command("losetup", "-d", dev).CombinedOutput(); err != nil {
			t.Errorf("cleanup: losetup -d %s: %v: %s", dev, err, out)
		}
		backing := filepath.Join("/sys/block", filepath.Base(dev), "loop", "backing_file")
		for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			b, err := os.ReadFile(backing)
			if errors.Is(err, os.ErrNotExist) || (err == nil && strings.TrimSpace(string(b)) != image) {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("cleanup: %s is still attached to %s", dev, image)
				return
			}
		}
	})
	return dev
}

func loopPartitions(dev string) []string {
	name := filepath.Base(dev)
	entries, _ := os.ReadDir(filepath.Join("/sys/block", name))
	var out []string
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join("/sys/block", name, e.Name(), "partition")); err == nil {
			out = append(out, e.Name())
		}
	}
	return out
}

func run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// sfdiskTable is what `sfdisk --json` prints.
type sfdiskTable struct {
	PartitionTable struct {
		Label      string `json:"label"`
		SectorSize int    `json:"sectorsize"`
		FirstLBA   uint64 `json:"firstlba"`
		LastLBA    uint64 `json:"lastlba"`
		Partitions []struct {
			Node  string `json:"node"`
			Start uint64 `json:"start"`
			Size  uint64 `json:"size"`
			Type  string `json:"type"`
			Name  string `json:"name"`
		} `json:"partitions"`
	} `json:"partitiontable"`
}

// sfdiskJSON reads the table with sfdisk, which takes image files to
// have 512-byte sectors.
func sfdiskJSON(t testing.TB, path string) (sfdiskTable, error) {
	t.Helper()
	var tab sfdiskTable
	out, err := exec.Command("sfdisk", "--json", path).Output()
	if err != nil {
		return tab, fmt.Errorf("sfdisk --json %s: %w", path, err)
	}
	if err := json.Unmarshal(out, &tab); err != nil {
		return tab, fmt.Errorf("parse sfdisk --json: %w\n%s", err, out)
	}
	return tab, nil
}

// checkWithSfdisk compares sfdisk's view of path with the plan.
func checkWithSfdisk(t *testing.T, path string, l Layout) {
	t.Helper()
	tab, err := sfdiskJSON(t, path)
	if err != nil {
		t.Fatal(err)
	}
	pt := tab.PartitionTable
	if pt.Label != "gpt" {
		t.Errorf("sfdisk: label %q, want gpt", pt.Label)
	}
	if pt.SectorSize != 0 && pt.SectorSize != l.SectorSize {
		t.Errorf("sfdisk: sector size %d, want %d", pt.SectorSize, l.SectorSize)
	}
	if len(pt.Partitions) != len(l.Partitions) {
		t.Fatalf("sfdisk sees %d partitions, plan has %d", len(pt.Partitions), len(l.Partitions))
	}
	for i, p := range l.Partitions {
		s := pt.Partitions[i]
		if !strings.HasSuffix(s.Node, strconv.Itoa(p.Index)) || s.Start != p.StartSector || s.Size != p.EndSector-p.StartSector+1 ||
			!strings.EqualFold(s.Type, p.TypeGUID) || s.Name != p.Name {
			t.Errorf("sfdisk partition %s: start %d size %d type %s name %q; plan: index %d start %d size %d type %s name %q",
				s.Node, s.Start, s.Size, s.Type, s.Name, p.Index, p.StartSector, p.EndSector-p.StartSector+1, p.TypeGUID, p.Name)
		}
	}
}

func checkWithSgdisk(t *testing.T, path string) {
	t.Helper()
	out := run(t, "sgdisk", "-v", path)
	if !strings.Contains(out, "No problems found") {
		t.Errorf("sgdisk -v %s reports problems:\n%s", path, out)
	}
}

// checkWithFdisk compares fdisk's view with the plan; unlike sfdisk and
// sgdisk, fdisk can read an image file as a 4K-sector disk (-b).
func checkWithFdisk(t *testing.T, path string, l Layout) {
	t.Helper()
	out := run(t, "fdisk", "-b", strconv.Itoa(l.SectorSize), "-l", "-o", "Device,Start,End,Type-UUID,Name", path)
	if !strings.Contains(out, "Disklabel type: gpt") {
		t.Fatalf("fdisk sees no GPT:\n%s", out)
	}
	var got []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 5 && strings.HasPrefix(f[0], path) {
			got = append(got, strings.TrimPrefix(strings.Join(f, " "), path))
		}
	}
	var want []string
	for _, p := range l.Partitions {
		want = append(want, fmt.Sprintf("%d %d %d %s %s", p.Index, p.StartSector, p.EndSector, p.TypeGUID, p.Name))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("fdisk -b %d sees\n%s\nplan is\n%s\nfull output:\n%s", l.SectorSize, strings.Join(got, "\n"), strings.Join(want, "\n"), out)
	}
}

// fdiskFindsTable reports whether fdisk sees any partition table.
func fdiskFindsTable(t *testing.T, path string, sectorSize int) bool {
	t.Helper()
	out, _ := exec.Command("fdisk", "-b", strconv.Itoa(sectorSize), "-l", path).CombinedOutput()
	return strings.Contains(string(out), "Disklabel type")
}
