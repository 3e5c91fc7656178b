package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/universal-atomic-installer/uai/installer"
)

// checkLayout asserts what every frame must satisfy: exactly the
// terminal's height, no line wider than the terminal.
func checkLayout(t *testing.T, h *harness, w, ht int) {
	t.Helper()
	lines := strings.Split(h.m.render(), "\n")
	if len(lines) != ht {
		t.Errorf("frame has %d lines, terminal has %d", len(lines), ht)
	}
	for i, l := range lines {
		if lw := ansi.StringWidth(l); lw > w {
			t.Errorf("line %d is %d cells wide, terminal is %d: %q", i+1, lw, w, ansi.Strip(l))
		}
	}
}

func TestGoldenViews(t *testing.T) {
	demo := Options{Demo: true, Simulated: true}
	cases := []struct {
		name string
		w, h int
		opts Options
		fake func(*fakeBackend)
		// drive brings the model to the state to render.
		drive func(h *harness)
	}{
		{name: "edition", drive: func(h *harness) {}},
		{name: "edition_down", drive: func(h *harness) { h.press("down") }},
		{name: "edition_filter", drive: func(h *harness) {
			h.press("/")
			h.typeText("blue")
		}},
		{name: "edition_filter_nomatch", drive: func(h *harness) {
			h.press("/")
			h.typeText("arch")
			h.press("enter")
		}},
		{name: "edition_help", drive: func(h *harness) { h.press("?") }},
		{name: "disk_loading", fake: func(f *fakeBackend) { f.disksGate = make(chan struct{}) }, drive: func(h *harness) {
			h.press("enter")
			h.until("the disk screen", func() bool { return h.m.Screen() == ScreenDisk })
		}},
		{name: "disk", drive: func(h *harness) { h.toDisk() }},
		{name: "disk_refused_selected", drive: func(h *harness) {
			h.toDisk()
			h.press("down", "down", "enter")
			h.idle()
		}},
		{name: "disk_too_small_selected", drive: func(h *harness) {
			h.toDisk()
			h.press("down", "down", "down", "enter")
			h.idle()
		}},
		{name: "disk_error", fake: func(f *fakeBackend) {
			f.disksErr = errors.New("read /sys/block: permission denied")
		}, drive: func(h *harness) { h.toDisk() }},
		{name: "disk_help", drive: func(h *harness) {
			h.toDisk()
			h.press("?")
		}},
		{name: "summary_empty_disk", drive: func(h *harness) { h.toSummary("demo-disk.img") }},
		{name: "summary_confirm_partial", drive: func(h *harness) {
			h.toSummary("sdb")
			h.typeText("sd")
		}},
		{name: "summary_confirm_complete", drive: func(h *harness) {
			h.toSummary("sdb")
			h.typeText("sdb")
		}},
		{name: "summary_confirm_wrong_enter", drive: func(h *harness) {
			h.toSummary("sdb")
			h.typeText("sda")
			h.press("enter")
			h.idle()
		}},
		{name: "summary_scrolled", drive: func(h *harness) {
			h.toSummary("demo-disk.img")
			h.press("pgdown")
		}},
		{name: "summary_plan_error", fake: func(f *fakeBackend) {
			f.planErr = installer.Errorf(installer.ClassDiskRefused, "pick another disk", "disk /dev/sdb cannot be installed to: it is the live boot medium")
		}, drive: func(h *harness) { h.toSummary("sdb") }},
		{name: "summary_quit_dialog", drive: func(h *harness) {
			h.toSummary("demo-disk.img")
			h.press("q")
		}},
		{name: "progress_log_open", opts: demo, fake: func(f *fakeBackend) {
			f.install = holdAfter(upToBootc, make(chan struct{}), nil)
		}, drive: func(h *harness) {
			h.toProgress()
			h.until("bootc at 45%", func() bool { return h.stepState(installer.StepBootc) == "running" && strings.Contains(h.view(), "45%") })
			h.clock.Set(t0.Add(83 * time.Second))
			h.press("l")
		}},
		{name: "progress_log_closed", opts: demo, fake: func(f *fakeBackend) {
			f.install = holdAfter(upToBootc, make(chan struct{}), nil)
		}, drive: func(h *harness) {
			h.toProgress()
			h.until("bootc at 45%", func() bool { return strings.Contains(h.view(), "45%") })
			h.clock.Set(t0.Add(83 * time.Second))
		}},
		{name: "progress_cancel_dialog", fake: func(f *fakeBackend) {
			f.install = holdAfter(func(s *script) {
				s.step(installer.StepPreflight, "Check the machine, the disk and the programs", false)
			}, make(chan struct{}), nil)
		}, drive: func(h *harness) {
			h.toProgress()
			h.until("preflight running", func() bool { return h.stepState(installer.StepPreflight) == "running" })
			h.press("ctrl+c")
		}},
		{name: "progress_too_late_dialog", fake: func(f *fakeBackend) {
			f.install = holdAfter(upToBootc, make(chan struct{}), nil)
		}, drive: func(h *harness) {
			h.toProgress()
			h.until("bootc running", func() bool { return h.stepState(installer.StepBootc) == "running" })
			h.press("ctrl+c")
		}},
		{name: "done", opts: demo, drive: func(h *harness) {
			h.toProgress()
			h.until("the done screen", func() bool { return h.m.Screen() == ScreenDone })
		}},
		{name: "done_stopped", fake: func(f *fakeBackend) {
			f.install = func(_ context.Context, p *installer.Plan, sink installer.Sink) error {
				s := &script{sink: sink, at: t0}
				upToBootc(s)
				finishRun(s, p, "stopped after partitioning: run as root to go further")
				return nil
			}
		}, drive: func(h *harness) {
			h.toProgress()
			h.until("the done screen", func() bool { return h.m.Screen() == ScreenDone })
		}},
		{name: "done_help", drive: func(h *harness) {
			h.toProgress()
			h.until("the done screen", func() bool { return h.m.Screen() == ScreenDone })
			h.press("?")
		}},
		{name: "error", fake: func(f *fakeBackend) { f.install = failingInstall }, drive: func(h *harness) {
			h.toProgress()
			h.until("the error screen", func() bool { return h.m.Screen() == ScreenError })
		}},
		{name: "too_small_terminal", w: 30, h: 10, drive: func(h *harness) {}},

		{name: "edition_120x40", w: 120, h: 40, drive: func(h *harness) {}},
		{name: "edition_filter_120x40", w: 120, h: 40, drive: func(h *harness) {
			h.press("/")
			h.typeText("gnome")
		}},
		{name: "summary_confirm_partial_120x40", w: 120, h: 40, drive: func(h *harness) {
			h.toSummary("sdb")
			h.typeText("sd")
		}},
		{name: "summary_empty_disk_120x40", w: 120, h: 40, opts: demo, drive: func(h *harness) {
			h.press("down")
			h.toSummary("demo-disk.img")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w, ht := tc.w, tc.h
			if w == 0 {
				w, ht = 80, 24
			}
			f := newFake()
			if tc.fake != nil {
				tc.fake(f)
			}
			h := newHarness(t, f, tc.opts, w, ht)
			tc.drive(h)
			checkLayout(t, h, w, ht)
			name := tc.name
			if !strings.HasSuffix(name, "x40") && w != 80 {
				name = fmt.Sprintf("%s_%dx%d", name, w, ht)
			}
			golden(t, name, h.view())
		})
	}
}
