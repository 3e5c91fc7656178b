package test

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// swTmux drives the real binary in a real terminal on a private tmux server.
type swTmux struct {
	t      *testing.T
	socket string
}

func swNewTmux(t *testing.T, env []string, command string) *swTmux {
	t.Helper()
	swRequire(t, "tmux", "tmux")
	s := &swTmux{t: t, socket: fmt.Sprintf("uai-switch-%d", time.Now().UnixNano())}
	// The environment goes on the command line: the shell tmux starts may
	// reset PATH from the system profile.
	var quoted []string
	for _, kv := range env {
		quoted = append(quoted, "'"+strings.ReplaceAll(kv, "'", `'\''`)+"'")
	}
	s.tmux("new-session", "-d", "-s", "t", "-x", "80", "-y", "24", "env "+strings.Join(quoted, " ")+" "+command)
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", s.socket, "kill-server").Run() })
	return s
}

func (s *swTmux) tmux(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", s.socket}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (s *swTmux) keys(keys ...string) {
	s.t.Helper()
	s.tmux(append([]string{"send-keys", "-t", "t"}, keys...)...)
}

func (s *swTmux) waitFor(text string) string {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var scr string
	for time.Now().Before(deadline) {
		scr = s.tmux("capture-pane", "-p", "-t", "t")
		if strings.Contains(scr, text) {
			return scr
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("the screen never showed %q; last screen:\n%s", text, scr)
	return ""
}

// One switch through the TUI of the real binary: the booted image, the
// targets, confirm, live progress, done, exit, and the fake bootc's
// machine has the target staged.
func TestSwitchTUIInTmux(t *testing.T) {
	h := swBooted(t, swFrom)
	var env []string
	for _, kv := range h.env {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "UAI_SIM_") || k == "PATH" || k == "NO_COLOR" {
			env = append(env, kv)
		}
	}
	// Slow enough to watch the progress screen, fast enough for a test.
	env = append(env, "UAI_SIM_DELAY=60ms", "TERM=xterm-256color", "HOME="+t.TempDir())
	s := swNewTmux(t, env, fmt.Sprintf("%s switch --image-facts %s; echo UAI-EXIT=$?; sleep 60", uaiBin, h.facts))
	scr := s.waitFor("Press enter to choose one.")
	if !strings.Contains(scr, "Booted    Fedora bootc 43") || !strings.Contains(scr, swFrom) {
		t.Fatalf("current screen:\n%s", scr)
	}
	s.keys("Enter")
	scr = s.waitFor("Switch from Fedora bootc 43 to...")
	if !strings.Contains(scr, "> Fedora bootc 44") {
		t.Fatalf("targets:\n%s", scr)
	}
	s.keys("Enter")
	scr = s.waitFor("Switch to Fedora bootc 44?")
	if !strings.Contains(scr, "This moves to another major release, 43 to 44") || !strings.Contains(scr, "bootc switch "+swTo) {
		t.Fatalf("confirm:\n%s", scr)
	}
	s.keys("y")
	s.waitFor("Switching to Fedora bootc 44")
	scr = s.waitFor("is staged for the next boot")
	if !strings.Contains(scr, "run `bootc rollback` and reboot: Fedora bootc 43") || !strings.Contains(scr, "r reboot now") {
		t.Fatalf("done:\n%s", scr)
	}
	s.keys("q")
	s.waitFor("UAI-EXIT=0")
	if st := h.status(); st.Status.Staged.Ref() != swTo {
		t.Errorf("staged %q", st.Status.Staged.Ref())
	}
}
