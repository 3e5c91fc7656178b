package test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// BenchmarkTUIFirstFrame measures process start to the first frame of the
// installer (the welcome screen), on a real pseudo-terminal.
func BenchmarkTUIFirstFrame(b *testing.B) {
	dir := b.TempDir()
	img := filepath.Join(dir, "disk.img")
	if err := os.WriteFile(img, nil, 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.Truncate(img, 64<<30); err != nil {
		b.Fatal(err)
	}
	for range b.N {
		ptm, pts, err := openPTY()
		if err != nil {
			b.Fatal(err)
		}
		_ = unix.IoctlSetWinsize(int(pts.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: 80})
		cmd := exec.Command(uaiBin, "install", "--demo", "--target", img)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = pts, pts, pts
		cmd.Env = append(os.Environ(), "TERM=xterm-256color", "DBUS_SYSTEM_BUS_ADDRESS=unix:path="+dir+"/no-bus")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		pts.Close()
		if err := waitFor(ptm, "Welcome to uai", 10*time.Second); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(time.Since(start).Microseconds())/1000, "ms/first-frame")
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		ptm.Close()
	}
}

// statusKiB reads a "Name:   123 kB" line of /proc/PID/status.
func statusKiB(pid int, field string) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// BenchmarkTUIPeakRSS runs a whole demo install in tmux and reads the
// uai process's peak resident memory (VmHWM) on the done screen: what the
// TUI costs a live system whose root file system is RAM. The simulated
// bootc runs as a child and is not counted.
//
//	go test -run '^$' -bench TUIPeakRSS -benchtime 1x ./test/
func BenchmarkTUIPeakRSS(b *testing.B) {
	for range b.N {
		dir := b.TempDir()
		img := filepath.Join(dir, "disk.img")
		if err := os.WriteFile(img, nil, 0o644); err != nil {
			b.Fatal(err)
		}
		if err := os.Truncate(img, 64<<30); err != nil {
			b.Fatal(err)
		}
		pidFile := filepath.Join(dir, "pid")
		// exec keeps the shell's pid, so the pid written is uai's.
		cmd := fmt.Sprintf("echo $$ > %s; DBUS_SYSTEM_BUS_ADDRESS=unix:path=%s/no-bus TMPDIR=%s NO_COLOR=1 exec %s install --demo --target %s --target-dir %s",
			pidFile, dir, dir, uaiBin, img, filepath.Join(dir, "target"))
		s := &tmuxSession{socket: fmt.Sprintf("uai-bench-%d", time.Now().UnixNano())}
		tmux := func(args ...string) string {
			out, err := exec.Command("tmux", append([]string{"-L", s.socket}, args...)...).CombinedOutput()
			if err != nil {
				b.Fatalf("tmux %v: %v\n%s", args, err, out)
			}
			return string(out)
		}
		tmux("new-session", "-d", "-s", "t", "-x", "80", "-y", "24", "sh -c '"+cmd+"; sleep 60'")
		b.Cleanup(func() { _ = exec.Command("tmux", "-L", s.socket, "kill-server").Run() })
		wait := func(text string, limit time.Duration) {
			deadline := time.Now().Add(limit)
			for time.Now().Before(deadline) {
				if strings.Contains(tmux("capture-pane", "-p", "-t", "t"), text) {
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
			b.Fatalf("never saw %q:\n%s", text, tmux("capture-pane", "-p", "-t", "t"))
		}
		keys := func(k ...string) { tmux(append([]string{"send-keys", "-t", "t"}, k...)...) }
		wait("Welcome to uai", 10*time.Second)
		keys("Enter")
		wait("Continue", 10*time.Second)
		keys("Enter")
		wait("Choose an edition", 10*time.Second)
		keys("Enter")
		wait("disk.img", 10*time.Second)
		keys("Enter")
		wait("How to use the disk", 10*time.Second)
		keys("Enter")
		wait("The installed system", 10*time.Second)
		keys(tuiKey, "Enter", "Enter")
		wait("Press enter to install", 10*time.Second)
		keys("Enter")
		wait("What now?", 120*time.Second)
		raw, err := os.ReadFile(pidFile)
		if err != nil {
			b.Fatal(err)
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(string(raw)))
		hwm, err := statusKiB(pid, "VmHWM")
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(hwm)/1024, "peak-RSS-MiB")
		keys("q")
	}
}
