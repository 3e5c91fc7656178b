package switchui

import (
	"bytes"
	"cmp"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/installer/rebase"
	"github.com/universal-atomic-installer/uai/ui/internal/uitest"
)

func TestGoldenViews(t *testing.T) {
	demo := Options{Demo: true, Simulated: true}
	cases := []struct {
		name   string
		w, h   int
		opts   Options
		status string
		fake   func(*fakeBackend)
		drive  func(h *harness)
	}{
		{name: "current", drive: func(h *harness) {}},
		{name: "current_demo", opts: demo, drive: func(h *harness) {}},
		{name: "current_not_bootc", status: `{"apiVersion":"org.containers.bootc/v1","kind":"BootcHost","metadata":{"name":"host"},"spec":{"image":null,"bootOrder":"default"},"status":{"staged":null,"booted":null,"rollback":null,"rollbackQueued":false,"type":null}}`,
			drive: func(h *harness) {}},
		{name: "targets", drive: func(h *harness) { h.toTargets("fedora-kinoite") }},
		{name: "targets_server", drive: func(h *harness) { h.toTargets("fedora-bootc-44") }},
		{name: "targets_unavailable", fake: func(f *fakeBackend) { f.e.Arch = "arm64" }, drive: func(h *harness) {
			h.toTargets("fedora-kinoite")
			for range len(h.m.ov.Targets) {
				h.Press("down")
			}
		}},
		{name: "checking", fake: func(f *fakeBackend) { f.planGate = make(chan struct{}) }, drive: func(h *harness) {
			h.toTargets("fedora-kinoite")
			h.Press("enter")
			h.wantScreen(ScreenChecking)
		}},
		{name: "confirm", drive: func(h *harness) { h.toConfirm("fedora-bootc-44") }},
		{name: "confirm_scrolled", drive: func(h *harness) {
			h.toConfirm("fedora-bootc-44")
			h.Press("pgdown")
		}},
		{name: "confirm_refused", drive: func(h *harness) { h.toConfirm("fedora-iot") }},
		{name: "progress_pull", opts: demo, fake: func(f *fakeBackend) {
			f.run = hold(midPull, make(chan struct{}), nil)
		}, drive: func(h *harness) {
			h.toProgress("fedora-kinoite")
			h.Until("the pull at 45%", func() bool { return strings.Contains(h.View(), "45%") })
			h.clock.Set(t0.Add(6 * time.Second))
		}},
		{name: "progress_staging", fake: func(f *fakeBackend) {
			f.run = hold(func(s *script, p *rebase.Plan) { midPull(s, p); toStaging(s, p) }, make(chan struct{}), nil)
		}, drive: func(h *harness) {
			h.toProgress("fedora-kinoite")
			h.Until("staging", func() bool { return strings.Contains(h.View(), "[x] merging") })
			h.clock.Set(t0.Add(12 * time.Second))
		}},
		{name: "progress_stop_dialog", fake: func(f *fakeBackend) {
			f.run = hold(midPull, make(chan struct{}), nil)
		}, drive: func(h *harness) {
			h.toProgress("fedora-kinoite")
			h.Until("the pull", func() bool { return strings.Contains(h.View(), "45%") })
			h.Press("ctrl+c")
		}},
		{name: "done", drive: func(h *harness) {
			h.toProgress("fedora-kinoite")
			h.Until("the done screen", func() bool { return h.m.Screen() == ScreenDone })
		}},
		{name: "done_rebooting", drive: func(h *harness) {
			h.toProgress("fedora-kinoite")
			h.Until("the done screen", func() bool { return h.m.Screen() == ScreenDone })
			h.PressIdle("r")
		}},
		{name: "error", fake: func(f *fakeBackend) { f.run = failingPull }, drive: func(h *harness) {
			h.toProgress("fedora-kinoite")
			h.Until("the error screen", func() bool { return h.m.Screen() == ScreenError })
		}},
		{name: "too_small_terminal", w: 30, h: 10, drive: func(h *harness) {}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w, ht := tc.w, tc.h
			if w == 0 {
				w, ht = 80, 24
				// Every screen also fits the smallest terminal it is laid
				// out for, and a large one.
				for _, size := range [][2]int{{minWidth, minHeight}, {120, 40}} {
					f := newFake(cmp.Or(tc.status, statusJSON))
					if tc.fake != nil {
						tc.fake(f)
					}
					h := newHarness(t, f, tc.opts, size[0], size[1])
					tc.drive(h)
					checkLayout(t, h, size[0], size[1])
				}
			}
			f := newFake(cmp.Or(tc.status, statusJSON))
			if tc.fake != nil {
				tc.fake(f)
			}
			h := newHarness(t, f, tc.opts, w, ht)
			tc.drive(h)
			checkLayout(t, h, w, ht)
			uitest.Golden(t, tc.name, h.View())
		})
	}
}

// checkLayout asserts what every frame must satisfy: exactly the
// terminal's height, no line wider than the terminal.
func checkLayout(t *testing.T, h *harness, w, ht int) {
	t.Helper()
	lines := strings.Split(h.m.render(), "\n")
	if len(lines) != ht {
		t.Errorf("%dx%d: frame has %d lines", w, ht, len(lines))
	}
	for i, l := range lines {
		if lw := ansi.StringWidth(l); lw > w {
			t.Errorf("%dx%d: line %d is %d cells wide: %q", w, ht, i+1, lw, ansi.Strip(l))
		}
	}
}

// The whole way through: choose, confirm, watch, reboot. The engine is
// asked exactly once for each, and never to apply by itself.
func TestSwitchFlow(t *testing.T) {
	f := newFake(statusJSON)
	h := newHarness(t, f, Options{}, 80, 24)
	h.wantScreen(ScreenCurrent)
	if !strings.Contains(h.View(), "Fedora Silverblue") || !strings.Contains(h.View(), "fedora-silverblue") {
		t.Fatalf("booted edition not shown:\n%s", h.View())
	}
	h.toTargets("fedora-bootc-44")
	// An edition that cannot run here is not chosen.
	h.Press("esc")
	h.wantScreen(ScreenCurrent)
	h.toConfirm("fedora-bootc-44")
	if !strings.Contains(h.View(), "without a graphical desktop") {
		t.Errorf("the desktop-to-server warning is not on the confirm screen:\n%s", h.View())
	}
	h.Press("esc")
	h.wantScreen(ScreenTargets)
	h.PressIdle("enter")
	h.Press("y")
	h.Until("the done screen", func() bool { return h.m.Screen() == ScreenDone })
	if r := h.m.Result(); !r.Staged || r.ExitCode != 0 || r.Edition != "fedora-bootc-44" {
		t.Errorf("result %+v", r)
	}
	h.PressIdle("r")
	h.Press("r") // once is enough
	h.Idle()
	if f.runs != 1 || f.reboots != 1 || !strings.Contains(h.View(), "Rebooting: asked logind to reboot") {
		t.Errorf("runs %d reboots %d\n%s", f.runs, f.reboots, h.View())
	}
	h.PressIdle("q")
	if !h.Quit {
		t.Error("q did not leave the done screen")
	}
}

func TestUnavailableTargetIsNotChosen(t *testing.T) {
	f := newFake(statusJSON)
	f.e.Arch = "arm64"
	h := newHarness(t, f, Options{}, 80, 24)
	h.toTargets("fedora-kinoite")
	for range len(h.m.ov.Targets) {
		h.Press("down")
	}
	if h.m.ov.Targets[h.m.cursor].Available {
		t.Fatal("the last target is available; the test needs one that is not")
	}
	h.PressIdle("enter")
	h.wantScreen(ScreenTargets)
}

func TestRefusedPlanGoesBack(t *testing.T) {
	f := newFake(statusJSON)
	h := newHarness(t, f, Options{}, 80, 24)
	h.toConfirm("fedora-iot")
	if !strings.Contains(h.View(), "is not a bootable container") {
		t.Fatalf("refusal not shown:\n%s", h.View())
	}
	h.Press("y") // nothing to confirm
	h.Idle()
	h.wantScreen(ScreenConfirm)
	h.Press("esc")
	h.wantScreen(ScreenTargets)
	if f.runs != 0 {
		t.Error("a refused plan ran")
	}
}

func TestStopDuringPullQuitsWithAbortedResult(t *testing.T) {
	f := newFake(statusJSON)
	f.run = hold(midPull, make(chan struct{}), nil)
	h := newHarness(t, f, Options{}, 80, 24)
	h.toProgress("fedora-kinoite")
	h.Until("the pull", func() bool { return strings.Contains(h.View(), "45%") })
	h.Press("ctrl+c")
	h.Press("n")
	if h.m.stopping || h.m.run.done {
		t.Fatal("n did not close the dialog")
	}
	h.Press("ctrl+c", "y")
	h.Until("the quit", func() bool { return h.Quit })
	if r := h.m.Result(); r.ExitCode != installer.ClassAborted.ExitCode() {
		t.Errorf("result %+v", r)
	}
	h.m.wait()
}

func TestErrorScreenGoesBackToAFreshStatus(t *testing.T) {
	f := newFake(statusJSON)
	f.run = failingPull
	h := newHarness(t, f, Options{}, 80, 24)
	h.toProgress("fedora-kinoite")
	h.Until("the error screen", func() bool { return h.m.Screen() == ScreenError })
	if r := h.m.Result(); r.ExitCode != 5 || r.Class != "dependency" {
		t.Errorf("result %+v", r)
	}
	h.PressIdle("esc")
	h.wantScreen(ScreenCurrent)
}

func TestRebootFailureIsShown(t *testing.T) {
	f := newFake(statusJSON)
	f.rebootErr = errors.New("ask logind to reboot: Access denied")
	h := newHarness(t, f, Options{}, 80, 24)
	h.toProgress("fedora-kinoite")
	h.Until("the done screen", func() bool { return h.m.Screen() == ScreenDone })
	h.PressIdle("r")
	if !strings.Contains(h.View(), "The reboot failed: ask logind to reboot: Access denied") {
		t.Errorf("view:\n%s", h.View())
	}
}

func TestResultWithoutASwitch(t *testing.T) {
	f := newFake(statusJSON)
	h := newHarness(t, f, Options{}, 80, 24)
	if r := h.m.Result(); r.ExitCode != 0 || r.Stopped != "left without switching" {
		t.Errorf("%+v", r)
	}
	h.PressIdle("q")
	if !h.Quit {
		t.Error("q did not quit")
	}
	g := newHarness(t, newFake(`{"apiVersion":"org.containers.bootc/v1","kind":"BootcHost","metadata":{"name":"host"},"spec":{"image":null,"bootOrder":"default"},"status":{"staged":null,"booted":null,"rollback":null,"rollbackQueued":false,"type":null}}`), Options{}, 80, 24)
	if r := g.m.Result(); r.ExitCode != installer.ClassEnvironment.ExitCode() || !strings.Contains(r.Error, "not booted via bootc") {
		t.Errorf("%+v", r)
	}
}

// The feed coalesces a flood of progress into one event per step per
// batch, and never loses a step boundary.
func TestFeedCoalescesProgress(t *testing.T) {
	f := newFeed()
	for i := range 1000 {
		f.Emit(rebase.Event{Type: installer.EventStepProgress, Step: rebase.StepPull, Done: int64(i)})
	}
	f.Emit(rebase.Event{Type: installer.EventStepFinished, Step: rebase.StepPull, Status: installer.StatusOK})
	f.Emit(rebase.Event{Type: installer.EventStepProgress, Step: rebase.StepPull, Done: 5000})
	f.close(rebase.Result{Staged: true}, nil)
	f.Emit(rebase.Event{Type: installer.EventStepLog}) // after close: dropped
	msg := f.next(t.Context())().(batchMsg)
	if len(msg.events) != 3 || msg.events[0].Done != 999 || msg.events[2].Done != 5000 || !msg.finished || !msg.res.Staged {
		t.Fatalf("batch %+v", msg)
	}
	if f.next(t.Context())() != nil {
		t.Error("a batch after the last one")
	}
}

func TestTextReport(t *testing.T) {
	var b bytes.Buffer
	tx := NewText(&b)
	s := &script{sink: tx, at: t0}
	f := newFake(statusJSON)
	ov, err := f.Overview(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.e.Plan(t.Context(), ov, "fedora-bootc-44")
	if err != nil {
		t.Fatal(err)
	}
	s.emit(rebase.Event{Type: rebase.EventHost, Host: ov})
	s.emit(rebase.Event{Type: rebase.EventTarget, Plan: p})
	midPull(s, p)
	s.emit(rebase.Event{Type: installer.EventStepProgress, Step: rebase.StepPull, Unit: "bytes", Done: 253 * mb, Total: 560 * mb, Steps: 1, StepsTotal: 3})
	toStaging(s, p)
	finishSwitch(s, p)
	uitest.Golden(t, "report_text", b.String())
	if n := strings.Count(b.String(), "    pull: "); n != 2 {
		t.Errorf("%d pull progress lines; one per finished layer or end", n)
	}
	var j bytes.Buffer
	js := NewJSON(&j)
	js.Emit(rebase.Event{V: 1, Type: installer.EventResult, Time: t0, Result: &rebase.Result{Staged: true}})
	if got := j.String(); got != `{"v":1,"type":"result","time":"2026-03-14T09:26:53Z","result":{"exit_code":0,"staged":true,"duration_ms":0,"simulated":false}}`+"\n" {
		t.Errorf("json %s", got)
	}
	var l bytes.Buffer
	lt := NewText(&l)
	lt.ListTargets = true
	lt.Emit(rebase.Event{Type: rebase.EventHost, Host: ov})
	if !strings.Contains(l.String(), "  ! fedora-bootc-44") || !strings.Contains(l.String(), "editions to switch to:") {
		t.Errorf("list:\n%s", l.String())
	}
	for _, r := range []struct {
		res  rebase.Result
		want string
	}{
		{rebase.Result{ExitCode: 8, Class: "not-confirmed", Error: "x", Stopped: "x"}, "stopped (not-confirmed, exit 8): x"},
		{rebase.Result{ExitCode: 5, Class: "dependency", Error: "y"}, "switch failed (dependency, exit 5): y"},
		{rebase.Result{Unchanged: true, Image: "a/b:1"}, "nothing to do: the system already runs and follows a/b:1"},
		{rebase.Result{Unchanged: true, Staged: true, Edition: "e"}, "already staged"},
		{rebase.Result{Staged: true, Rebooting: true, Edition: "e", Simulated: true}, "rebooting into it"},
	} {
		if got := ResultText(r.res); !strings.Contains(got, r.want) {
			t.Errorf("ResultText(%+v) = %q, want %q", r.res, got, r.want)
		}
	}
}
