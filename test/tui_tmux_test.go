package test

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/universal-atomic-installer/uai/test/internal/loopdev"
)

// tmuxSession drives the real binary in a real terminal: keys in,
// screen text out, on a private tmux server.
type tmuxSession struct {
	t      *testing.T
	socket string
}

func newTmux(t *testing.T, width, height int, command string) *tmuxSession {
	t.Helper()
	loopdev.RequireTools(t, "tmux")
	s := &tmuxSession{t: t, socket: fmt.Sprintf("uai-test-%d", time.Now().UnixNano())}
	s.run("new-session", "-d", "-s", "t", "-x", fmt.Sprint(width), "-y", fmt.Sprint(height), command)
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", s.socket, "kill-server").Run() })
	return s
}

func (s *tmuxSession) run(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", s.socket}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (s *tmuxSession) keys(keys ...string) {
	s.t.Helper()
	s.run(append([]string{"send-keys", "-t", "t"}, keys...)...)
}

func (s *tmuxSession) screen() string { return s.run("capture-pane", "-p", "-t", "t") }

// waitFor polls the screen until it shows text, and fails with the last
// screen when it does not within limit.
func (s *tmuxSession) waitFor(text string, limit time.Duration) string {
	s.t.Helper()
	deadline := time.Now().Add(limit)
	var scr string
	for time.Now().Before(deadline) {
		scr = s.screen()
		if strings.Contains(scr, text) {
			return scr
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("screen never showed %q within %s; last screen:\n%s", text, limit, scr)
	return ""
}

// A person's whole install in the real binary on an 80x24 terminal:
// edition, disk, review, install with live progress, done, exit.
func TestTUIInstallInTmux(t *testing.T) {
	dir := t.TempDir()
	img := sparseImage(t, dir, 64<<30)
	target := filepath.Join(dir, "target")
	cmd := fmt.Sprintf("DBUS_SYSTEM_BUS_ADDRESS=unix:path=%s/no-bus TMPDIR=%s NO_COLOR=1 %s install --demo --target %s --target-dir %s; echo UAI-EXIT=$?; sleep 60", dir, dir, uaiBin, img, target)
	s := newTmux(t, 80, 24, cmd)
	s.waitFor("Welcome to uai", 10*time.Second)
	s.keys("Enter")
	s.waitFor("uai cannot manage the network here", 10*time.Second)
	s.keys("Enter")
	s.waitFor("Choose an edition", 10*time.Second)
	scr := s.screen()
	if !strings.Contains(scr, "> Fedora bootc 44") || !strings.Contains(scr, "[simulated bootc]") {
		t.Fatalf("edition screen:\n%s", scr)
	}
	s.keys("Enter")
	s.waitFor("Choose a disk", 5*time.Second)
	s.keys("Enter")
	s.waitFor("How to use the disk", 5*time.Second)
	s.keys("Enter")
	s.waitFor("The installed system", 10*time.Second)
	s.keys(tuiKey, "Enter", "Enter")
	// The title shows at once; the plan follows when it is worked out.
	scr = s.waitFor("Press enter to install", 10*time.Second)
	for _, w := range []string{"EFI-SYSTEM", "512 MiB", "SIMULATED", "is empty: nothing is lost"} {
		if !strings.Contains(scr, w) {
			t.Errorf("review screen lacks %q:\n%s", w, scr)
		}
	}
	s.keys("Enter")
	if isRoot() {
		scr = s.waitFor("Installed Fedora bootc 44", 60*time.Second)
		if !strings.Contains(scr, "simulated") {
			t.Errorf("done screen does not say bootc was simulated:\n%s", scr)
		}
	} else {
		// An ordinary user's demo stops after partitioning and says why.
		s.waitFor("root", 60*time.Second)
	}
	s.keys("q")
	s.waitFor("UAI-EXIT=0", 10*time.Second)
	if got := len(sfdisk(t, img).PartitionTable.Partitions); got != 3 {
		t.Fatalf("the image holds %d partitions after the TUI install, want 3", got)
	}
	if m := mountedUnder(t, dir); len(m) > 0 {
		t.Fatalf("left mounted: %v", m)
	}
	if l := loopsFor(t, img); l != "" {
		t.Fatalf("loop device left attached: %s", l)
	}
}

// A disk that holds data needs its name typed before anything is written.
func TestTUITypedConfirmationInTmux(t *testing.T) {
	dir := t.TempDir()
	img := sparseImage(t, dir, 64<<30)
	if out, err := exec.Command("sgdisk", "-n", "1:2048:+100M", img).CombinedOutput(); err != nil {
		t.Fatalf("sgdisk: %v %s", err, out)
	}
	before := contentSum(t, img)
	cmd := fmt.Sprintf("DBUS_SYSTEM_BUS_ADDRESS=unix:path=%s/no-bus TMPDIR=%s NO_COLOR=1 %s install --demo --target %s --target-dir %s; echo UAI-EXIT=$?; sleep 60", dir, dir, uaiBin, img, filepath.Join(dir, "target"))
	s := newTmux(t, 80, 24, cmd)
	s.waitFor("Welcome to uai", 10*time.Second)
	s.keys("Enter")
	s.waitFor("Continue", 10*time.Second)
	s.keys("Enter")
	s.waitFor("Choose an edition", 10*time.Second)
	s.keys("Enter")
	s.waitFor("Choose a disk", 5*time.Second)
	s.keys("Enter")
	// The disk holds a partition and has room beside it: keep it off the
	// free space, and erase the whole disk instead.
	s.waitFor("How to use the disk", 5*time.Second)
	s.keys("Up", "Up", "Up", "Up", "Left", "Tab", "Tab", "Tab", "Tab", "Enter")
	s.waitFor("The installed system", 10*time.Second)
	s.keys(tuiKey, "Enter", "Enter")
	s.waitFor("Type disk.img to confirm", 10*time.Second)
	s.keys("Enter") // nothing typed yet: must not install
	time.Sleep(500 * time.Millisecond)
	if scr := s.screen(); !strings.Contains(scr, "Review the plan") {
		t.Fatalf("enter without the typed name left the review screen:\n%s", scr)
	}
	s.keys("x", ".", "i", "m", "g", "Enter") // the wrong name
	time.Sleep(500 * time.Millisecond)
	if scr := s.screen(); !strings.Contains(scr, "Review the plan") {
		t.Fatalf("a wrong name was accepted:\n%s", scr)
	}
	if scr := s.screen(); !strings.Contains(scr, "x.img") {
		t.Fatalf("the typed name is not shown:\n%s", scr)
	}
	s.keys("C-c") // in a text field q is a letter; ctrl+c asks to quit
	scr := s.waitFor("Quit", 5*time.Second)
	t.Logf("quit dialog:\n%s", scr)
	s.keys("y")
	s.waitFor("UAI-EXIT=7", 10*time.Second)
	if contentSum(t, img) != before {
		t.Fatal("the disk changed although the install was never confirmed")
	}
}
