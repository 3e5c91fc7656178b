package system

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/universal-atomic-installer/uai/installer/host"
)

// privateBus starts a dbus-daemon of its own and returns its address. It
// stands in for the system bus: production code reaches it through
// DBUS_SYSTEM_BUS_ADDRESS like any system bus.
func privateBus(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("dbus-daemon"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("dbus-daemon is missing; install the Debian package dbus-daemon")
		}
		t.Skip("SKIPPED LOUDLY: dbus-daemon is missing (Debian package dbus-daemon); CI runs this test")
	}
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
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("read the bus address: %v", err)
	}
	return strings.TrimSpace(line)
}

// fakeLogin is org.freedesktop.login1.Manager's Reboot and PowerOff.
type fakeLogin struct {
	mu     sync.Mutex
	calls  []string
	refuse bool
}

func (l *fakeLogin) record(call string) *dbus.Error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, call)
	if l.refuse {
		return dbus.NewError("org.freedesktop.DBus.Error.AccessDenied", []any{"Access denied"})
	}
	return nil
}

func (l *fakeLogin) Reboot(interactive bool) *dbus.Error {
	if interactive {
		return l.record("Reboot(true)")
	}
	return l.record("Reboot(false)")
}

func (l *fakeLogin) PowerOff(interactive bool) *dbus.Error {
	if interactive {
		return l.record("PowerOff(true)")
	}
	return l.record("PowerOff(false)")
}

func (l *fakeLogin) got() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.calls, ",")
}

// exportLogin puts a fake logind on the bus at addr.
func exportLogin(t *testing.T, addr string, l *fakeLogin) {
	t.Helper()
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.Export(l, Login1Path, Login1Manager); err != nil {
		t.Fatal(err)
	}
	reply, err := conn.RequestName(Login1Name, dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("own %s: %v %v", Login1Name, reply, err)
	}
}

func TestRebootAsksLogindOverTheSystemBus(t *testing.T) {
	addr := privateBus(t)
	l := &fakeLogin{}
	exportLogin(t, addr, l)
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", addr)
	rec := &host.Recorder{}
	p := &Power{Runner: rec}
	how, err := p.Reboot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if l.got() != "Reboot(false)" || !strings.Contains(how, "asked logind to reboot") || len(rec.Lines()) != 0 {
		t.Fatalf("calls %q, how %q, fallback ran %q", l.got(), how, rec.Lines())
	}
	p.Interactive = true
	if _, err := p.PowerOff(context.Background()); err != nil || l.got() != "Reboot(false),PowerOff(true)" {
		t.Fatalf("power off: %v, calls %q", err, l.got())
	}
}

// logind saying no is an answer, not a missing service: no systemctl
// behind its back.
func TestLogindRefusalIsReportedNotWorkedAround(t *testing.T) {
	addr := privateBus(t)
	l := &fakeLogin{refuse: true}
	exportLogin(t, addr, l)
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", addr)
	rec := &host.Recorder{}
	_, err := (&Power{Runner: rec}).Reboot(context.Background())
	if err == nil || !strings.Contains(err.Error(), "ask logind to reboot") || !strings.Contains(err.Error(), "Access denied") || len(rec.Lines()) != 0 {
		t.Fatalf("err %v, fallback %q", err, rec.Lines())
	}
}

func TestFallsBackToSystemctl(t *testing.T) {
	addr := privateBus(t)
	// A bus without logind on it.
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", addr)
	rec := &host.Recorder{}
	how, err := (&Power{Runner: rec}).Reboot(context.Background())
	if err != nil || strings.Join(rec.Lines(), "|") != "systemctl reboot" || !strings.Contains(how, "logind is not on the system bus") {
		t.Fatalf("how %q, err %v, ran %q", how, err, rec.Lines())
	}
	// No bus at all.
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path="+t.TempDir()+"/no-bus")
	rec = &host.Recorder{}
	how, err = (&Power{Runner: rec}).PowerOff(context.Background())
	if err != nil || strings.Join(rec.Lines(), "|") != "systemctl poweroff" || !strings.Contains(how, "no system bus") {
		t.Fatalf("how %q, err %v, ran %q", how, err, rec.Lines())
	}
	rec = &host.Recorder{Respond: func(host.Command, host.LineFunc) error { return errors.New("Failed to connect to bus") }}
	if _, err := (&Power{Runner: rec}).Reboot(context.Background()); err == nil || !strings.Contains(err.Error(), "systemctl reboot failed") {
		t.Fatalf("failed fallback: %v", err)
	}
	if _, err := (&Power{}).Reboot(context.Background()); err == nil || !strings.Contains(err.Error(), "no fallback") {
		t.Fatalf("no runner: %v", err)
	}
}

func TestCancelledContextStopsTheCall(t *testing.T) {
	addr := privateBus(t)
	exportLogin(t, addr, &fakeLogin{})
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", addr)
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	time.Sleep(time.Millisecond)
	rec := &host.Recorder{}
	if _, err := (&Power{Runner: rec}).Reboot(ctx); !errors.Is(err, context.DeadlineExceeded) || len(rec.Lines()) != 0 {
		t.Fatalf("a cancelled reboot request: %v, fallback ran %q", err, rec.Lines())
	}
}

// PrivateBus is privateBus for the package's external tests.
var PrivateBus = privateBus
