// Package loopdev gives tests sparse disk images and loop devices that are always detached.
package loopdev

import (
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

// inCI reports whether missing prerequisites must fail the test: in CI a
// skipped disk test would silently hide a broken runner.
func inCI() bool { return os.Getenv("CI") == "true" }

// unavailable fails the test in CI and skips it loudly elsewhere.
func unavailable(t testing.TB, reason string) {
	t.Helper()
	if inCI() {
		t.Fatalf("%s (CI=true, so this is a failure, not a skip)", reason)
		return
	}
	t.Skipf("SKIPPED: %s; this test did not run", reason)
}

// RequireRoot stops the test unless it runs as root (loop devices,
// BLKPG and mkfs on devices need it).
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		unavailable(t, "needs root for loop devices (run the tests as root, e.g. in the CI container)")
	}
}

// RequireTools stops the test when one of the named programs is not on
// PATH: a failure in CI, a loud skip elsewhere.
func RequireTools(t testing.TB, names ...string) {
	t.Helper()
	var missing []string
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		unavailable(t, fmt.Sprintf("needs %s on PATH (install util-linux, gdisk, dosfstools, xfsprogs, mtools)", strings.Join(missing, ", ")))
	}
}

// NewSparseImage creates a sparse file of size bytes in the test's temp
// directory; it uses disk space only where something is written.
func NewSparseImage(t testing.TB, size int64) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "disk.img")
	f, err := os.Create(path)
	if err != nil {
		t.Fatalf("create image: %v", err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatalf("make %s %d bytes: %v", path, size, err)
	}
	return path
}

// Attach attaches image to a free loop device with the given logical
// sector size and returns the device path. Cleanup removes its partitions
// (partx -d: BLKPG partitions outlive the detach) and detaches it, and
// fails the test if either did not work.
func Attach(t testing.TB, image string, sectorSize int) string {
	t.Helper()
	RequireRoot(t)
	RequireTools(t, "losetup", "partx")
	out, err := exec.Command("losetup", "--find", "--show", "--sector-size", strconv.Itoa(sectorSize), image).CombinedOutput()
	if err != nil {
		t.Fatalf("losetup --find --show --sector-size %d %s: %v: %s", sectorSize, image, err, out)
	}
	dev := strings.TrimSpace(string(out))
	if !strings.HasPrefix(dev, "/dev/loop") {
		t.Fatalf("losetup printed %q, not a loop device", dev)
	}
	t.Cleanup(func() { detach(t, dev, image) })
	return dev
}

func detach(t testing.TB, dev, image string) {
	t.Helper()
	name := filepath.Base(dev)
	if parts := Partitions(dev); len(parts) > 0 {
		if out, err := exec.Command("partx", "-d", dev).CombinedOutput(); err != nil {
			t.Errorf("cleanup: partx -d %s: %v: %s", dev, err, out)
		}
	}
	if parts := Partitions(dev); len(parts) > 0 {
		t.Errorf("cleanup: %s still has partitions %v after partx -d", dev, parts)
	}
	if out, err := exec.Command("losetup", "-d", dev).CombinedOutput(); err != nil {
		t.Errorf("cleanup: losetup -d %s: %v: %s", dev, err, out)
	}
	// losetup -d only marks a busy device for auto-clear; wait for it
	backing := filepath.Join("/sys/block", name, "loop", "backing_file")
	deadline := time.Now().Add(3 * time.Second)
	for {
		b, err := os.ReadFile(backing)
		if errors.Is(err, os.ErrNotExist) || (err == nil && strings.TrimSpace(string(b)) != image) {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("cleanup: %s is still attached to %s; something keeps it open", dev, image)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Partitions lists the partitions the kernel has for dev ("loop0p1", ...).
func Partitions(dev string) []string {
	name := filepath.Base(dev)
	entries, err := os.ReadDir(filepath.Join("/sys/block", name))
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), name) {
			if _, err := os.Stat(filepath.Join("/sys/block", name, e.Name(), "partition")); err == nil {
				out = append(out, e.Name())
			}
		}
	}
	return out
}
