package test

import (
	"bufio"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/godbus/dbus/v5"
)

// swLogin is a fake org.freedesktop.login1.Manager that records calls.
type swLogin struct {
	mu    sync.Mutex
	calls []string
}

func (l *swLogin) Reboot(interactive bool) *dbus.Error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if interactive {
		l.calls = append(l.calls, "Reboot(true)")
	} else {
		l.calls = append(l.calls, "Reboot(false)")
	}
	return nil
}

func (l *swLogin) got() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.calls, ",")
}

// swSystemBus starts a private dbus-daemon with a fake logind on it and
// returns the address, which the binary reaches as its system bus.
func swSystemBus(t *testing.T) (string, *swLogin) {
	t.Helper()
	swRequire(t, "dbus-daemon", "dbus-daemon")
	cmd := exec.Command("dbus-daemon", "--session", "--nofork", "--nopidfile", "--print-address=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("read the bus address: %v", err)
	}
	addr = strings.TrimSpace(addr)
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	l := &swLogin{}
	if err := conn.Export(l, "/org/freedesktop/login1", "org.freedesktop.login1.Manager"); err != nil {
		t.Fatal(err)
	}
	if reply, err := conn.RequestName("org.freedesktop.login1", dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("own org.freedesktop.login1: %v %v", reply, err)
	}
	return addr, l
}

// --apply: once the new deployment is staged and checked, uai asks logind
// over the system bus to reboot, and says so before it goes.
func TestSwitchApplyRebootsThroughLogind(t *testing.T) {
	addr, login := swSystemBus(t)
	h := swBooted(t, swFrom)
	r := h.uai([]string{"DBUS_SYSTEM_BUS_ADDRESS=" + addr}, "switch", "fedora-bootc-44", "--yes", "--apply", "--progress=json", "--image-facts", h.facts)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	evs, res := swEvents(t, r.stdout)
	if login.got() != "Reboot(false)" {
		t.Fatalf("logind got %q", login.got())
	}
	steps := swSteps(evs)
	if steps[len(steps)-1] != "ok reboot" || !res.Rebooting || !res.Staged {
		t.Errorf("steps %q result %+v", steps, res)
	}
	if !strings.Contains(swLog(evs), "reboot info: asked logind to reboot (org.freedesktop.login1.Manager.Reboot over D-Bus)") {
		t.Errorf("log:\n%s", swLog(evs))
	}
	// A failed switch never reboots.
	r = h.uai([]string{"DBUS_SYSTEM_BUS_ADDRESS=" + addr, "UAI_SIM_FAIL=pull"}, "switch", "fedora-bootc-43", "--yes", "--apply", "--image-facts", h.facts)
	if r.code == 0 || login.got() != "Reboot(false)" {
		t.Errorf("exit %d, logind got %q", r.code, login.got())
	}
}
