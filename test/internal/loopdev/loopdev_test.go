package loopdev

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func TestNewSparseImage(t *testing.T) {
	img := NewSparseImage(t, 1<<40)
	fi, err := os.Stat(img)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != 1<<40 {
		t.Errorf("size %d, want 1 TiB", fi.Size())
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Blocks*512 > 1<<20 {
		t.Errorf("image uses %d bytes of disk; it should be sparse", st.Blocks*512)
	}
	if !strings.HasPrefix(img, os.TempDir()) {
		t.Errorf("image %s is not in the temp directory", img)
	}
}

// recorder stands in for a test to see whether a helper skips or fails.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper()                      {}
func (r *recorder) Skipf(f string, args ...any)  { r.skipped = fmt.Sprintf(f, args...) }
func (r *recorder) Fatalf(f string, args ...any) { r.failed = fmt.Sprintf(f, args...) }

func TestRequireTools(t *testing.T) {
	t.Setenv("CI", "")
	r := &recorder{TB: t}
	RequireTools(r, "sh")
	if r.skipped != "" || r.failed != "" {
		t.Errorf("present tool: skipped %q failed %q", r.skipped, r.failed)
	}
	RequireTools(r, "sh", "no-such-tool-for-uai-tests")
	if !strings.Contains(r.skipped, "SKIPPED: needs no-such-tool-for-uai-tests on PATH") || r.failed != "" {
		t.Errorf("missing tool outside CI: skipped %q failed %q", r.skipped, r.failed)
	}
	t.Setenv("CI", "true")
	r = &recorder{TB: t}
	RequireTools(r, "no-such-tool-for-uai-tests")
	if !strings.Contains(r.failed, "needs no-such-tool-for-uai-tests on PATH") || r.skipped != "" {
		t.Errorf("missing tool in CI: skipped %q failed %q", r.skipped, r.failed)
	}
}

func TestRequireRoot(t *testing.T) {
	t.Setenv("CI", "true")
	r := &recorder{TB: t}
	RequireRoot(r)
	if root := os.Geteuid() == 0; root != (r.failed == "") || r.skipped != "" {
		t.Errorf("root %v: skipped %q failed %q", root, r.skipped, r.failed)
	}
	if r.failed != "" && !strings.Contains(r.failed, "needs root for loop devices") {
		t.Errorf("failure %q does not say why", r.failed)
	}
}

// Attach, then let the cleanup run at the end of a subtest and check that
// it removed the BLKPG partitions and detached the device.
func TestAttachAndCleanup(t *testing.T) {
	RequireRoot(t)
	RequireTools(t, "losetup", "partx", "sgdisk")
	for _, ss := range []int{512, 4096} {
		img := NewSparseImage(t, 64<<20)
		var dev string
		t.Run("attach", func(t *testing.T) {
			dev = Attach(t, img, ss)
			if out, err := os.ReadFile(filepath.Join("/sys/block", filepath.Base(dev), "queue", "logical_block_size")); err != nil || strings.TrimSpace(string(out)) != strconv.Itoa(ss) {
				t.Errorf("%s sector size %q, %v; want %d", dev, out, err, ss)
			}
			if out, err := exec.Command("sgdisk", "-n1:0:+8M", "-n2:0:0", dev).CombinedOutput(); err != nil {
				t.Fatalf("sgdisk: %v: %s", err, out)
			}
			if out, err := exec.Command("partx", "-a", dev).CombinedOutput(); err != nil {
				t.Fatalf("partx -a: %v: %s", err, out)
			}
			if got := Partitions(dev); len(got) != 2 {
				t.Fatalf("partitions %v, want 2", got)
			}
		})
		if dev == "" {
			t.Fatal("no device attached")
		}
		if got := Partitions(dev); len(got) != 0 {
			t.Errorf("cleanup left partitions %v", got)
		}
		b, err := os.ReadFile(filepath.Join("/sys/block", filepath.Base(dev), "loop", "backing_file"))
		if err == nil && strings.TrimSpace(string(b)) == img {
			t.Errorf("cleanup left %s attached to %s", dev, img)
		}
	}
}
