package test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/universal-atomic-installer/uai/catalog"
	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/installer/host"
	"github.com/universal-atomic-installer/uai/partition"
)

var errHandoff = errors.New("handoff reached")

// handoffRunner runs everything for real but stops at the bootc handoff,
// pausing the benchmark timer there: what is measured is confirm -> handoff.
type handoffRunner struct {
	b    *testing.B
	real *host.Exec
}

func (h handoffRunner) Run(ctx context.Context, c host.Command, on host.LineFunc) error {
	if c.Tool == host.Podman {
		h.b.StopTimer()
		return errHandoff
	}
	return h.real.Run(ctx, c, on)
}

func benchImage(b *testing.B) string {
	b.Helper()
	p := filepath.Join(b.TempDir(), "disk.img")
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	if err := f.Truncate(64 << 30); err != nil {
		b.Fatal(err)
	}
	f.Close()
	return p
}

// BenchmarkHandoff times plan + GPT + ESP format + root mkfs + mounts on a
// 64 GiB sparse image on a loop device: uai's engine against the same
// layout made by sgdisk, mkfs.vfat and mkfs.xfs from a shell script.
// test/bench/handoff.sh turns the samples into a ratio of medians.
func BenchmarkHandoff(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("SKIPPED LOUDLY: needs root for loop devices and mounts")
	}
	fuse := !installer.KernelHasVFAT()
	b.Run("uai", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			img := benchImage(b)
			target := filepath.Join(b.TempDir(), "target")
			b.StartTimer()
			d, err := partition.Describe(img)
			if err != nil {
				b.Fatal(err)
			}
			p, err := installer.Resolve(installer.Request{EditionID: "fedora-bootc-44", DiskPath: img, Demo: true, TargetDir: target},
				[]partition.Disk{d}, catalog.Embedded())
			if err != nil {
				b.Fatal(err)
			}
			ex := &host.Exec{}
			e := &installer.Engine{Runner: handoffRunner{b, ex}, IsRoot: true, FuseESP: fuse}
			_, err = e.Run(context.Background(), p, installer.SinkFunc(func(installer.Event) {}))
			if !errors.Is(err, errHandoff) {
				b.Fatalf("engine did not reach the handoff: %v", err)
			}
		}
	})
	for _, partitioner := range []string{"sgdisk", "sfdisk"} {
		b.Run("shell-"+partitioner, func(b *testing.B) { benchBaseline(b, partitioner, fuse) })
	}
}

func benchBaseline(b *testing.B, partitioner string, fuse bool) {
	{
		script := filepath.Join("bench", "handoff-baseline.sh")
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			img := benchImage(b)
			target := filepath.Join(b.TempDir(), "target")
			espMount := "kernel"
			if fuse {
				espMount = "fuse"
			}
			b.StartTimer()
			out, err := exec.Command("bash", script, img, target, espMount, partitioner).CombinedOutput()
			b.StopTimer()
			if err != nil {
				b.Fatalf("baseline: %v\n%s", err, out)
			}
			dev := strings.TrimSpace(lastLine(string(out)))
			cleanupBaseline(b, target, dev)
		}
	}
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	if i := strings.LastIndex(s, "\n"); i >= 0 {
		return s[i+1:]
	}
	return s
}

func cleanupBaseline(b *testing.B, target, dev string) {
	for _, m := range []string{filepath.Join(target, "boot/efi"), target} {
		if out, err := exec.Command("umount", m).CombinedOutput(); err != nil {
			b.Errorf("umount %s: %v %s", m, err, out)
		}
	}
	_ = exec.Command("partx", "-d", dev).Run()
	if out, err := exec.Command("losetup", "-d", dev).CombinedOutput(); err != nil {
		b.Errorf("losetup -d %s: %v %s", dev, err, out)
	}
}

// BenchmarkColdStartCatalogList is the whole process: exec, list, exit.
func BenchmarkColdStartCatalogList(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if out, err := exec.Command(uaiBin, "catalog", "list").CombinedOutput(); err != nil {
			b.Fatalf("%v %s", err, out)
		}
	}
}

// BenchmarkFirstFrame measures process start to the first TUI frame that
// shows the edition list, on a real pseudo-terminal.
func BenchmarkFirstFrame(b *testing.B) {
	img := benchImage(b)
	for i := 0; i < b.N; i++ {
		ptm, pts, err := openPTY()
		if err != nil {
			b.Fatal(err)
		}
		_ = unix.IoctlSetWinsize(int(pts.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: 80})
		cmd := exec.Command(uaiBin, "install", "--demo", "--target", img)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = pts, pts, pts
		cmd.Env = append(os.Environ(), "TERM=xterm-256color")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		pts.Close()
		if err := waitFor(ptm, "Welcome to uai", 10*time.Second); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(time.Since(start).Microseconds())/1000, "ms/frame")
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		ptm.Close()
	}
}

func waitFor(r *os.File, text string, limit time.Duration) error {
	var seen bytes.Buffer
	buf := make([]byte, 4096)
	deadline := time.Now().Add(limit)
	_ = r.SetReadDeadline(deadline)
	for time.Now().Before(deadline) {
		n, err := r.Read(buf)
		seen.Write(buf[:n])
		if bytes.Contains(seen.Bytes(), []byte(text)) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("waiting for %q: %w (got %q)", text, err, seen.String())
		}
	}
	return fmt.Errorf("no %q within %s", text, limit)
}

// openPTY opens a pseudo-terminal pair with the kernel's ptmx interface.
func openPTY() (*os.File, *os.File, error) {
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	ptm := os.NewFile(uintptr(fd), "/dev/ptmx")
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		ptm.Close()
		return nil, nil, err
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		ptm.Close()
		return nil, nil, err
	}
	pts, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		ptm.Close()
		return nil, nil, err
	}
	return ptm, pts, nil
}
