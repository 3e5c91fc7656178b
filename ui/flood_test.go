package ui

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/ui/screens/progress"
)

// flood is an engine that sends 10,000 events as fast as it can: six
// steps, each with progress updates and log lines, then the result. It
// records how long the slowest Emit held it up.
type flood struct {
	mu      sync.Mutex
	slowest time.Duration
	total   time.Duration
	lines   int
	failAt  installer.StepID
}

var floodSteps = []installer.StepID{installer.StepPreflight, installer.StepPartition, installer.StepFormat, installer.StepMount,
	installer.StepBootc, installer.StepVerify, installer.StepConfigure, installer.StepReceipt}

const floodEvents = 10_000

func (f *flood) install(_ context.Context, p *installer.Plan, sink installer.Sink) error {
	var slowest time.Duration
	emit := func(e installer.Event) {
		t := time.Now()
		sink.Emit(e)
		slowest = max(slowest, time.Since(t))
	}
	start := time.Now()
	per := floodEvents/len(floodSteps) - 3 // started, finished and the result take the rest
	lines := 0
	var err error
	var completed []installer.StepID
	for _, s := range floodSteps {
		emit(installer.Event{Type: installer.EventStepStarted, Step: s, Title: "step " + string(s)})
		for i := range per {
			if i%2 == 0 {
				emit(installer.Event{Type: installer.EventStepProgress, Step: s, Done: int64(i + 1), Total: int64(per), Unit: "steps"})
				continue
			}
			emit(installer.Event{Type: installer.EventStepLog, Step: s, Stream: "stdout", Line: fmt.Sprintf("line %d", lines)})
			lines++
		}
		emit(installer.Event{Type: installer.EventStepProgress, Step: s, Done: int64(per), Total: int64(per), Unit: "steps"})
		if s == f.failAt {
			err = installer.Errorf(installer.ClassInstallFailed, "", "step %s broke", s)
			emit(installer.Event{Type: installer.EventStepFinished, Step: s, Status: installer.StatusFailed, Error: err.Error()})
			break
		}
		emit(installer.Event{Type: installer.EventStepFinished, Step: s, Status: installer.StatusOK})
		completed = append(completed, s)
	}
	res := installer.Result{ExitCode: installer.ExitCode(err), Edition: p.Edition.ID, Disk: p.Disk.Path, Completed: completed}
	if err != nil {
		res.Class, res.Error = installer.ClassOf(err).String(), err.Error()
	}
	emit(installer.Event{Type: installer.EventResult, Result: &res})
	f.mu.Lock()
	f.slowest, f.total, f.lines = slowest, time.Since(start), lines
	f.mu.Unlock()
	return err
}

func TestFloodOfEvents(t *testing.T) {
	for _, failAt := range []installer.StepID{"", installer.StepVerify} {
		name := "succeeds"
		if failAt != "" {
			name = "fails at " + string(failAt)
		}
		t.Run(name, func(t *testing.T) {
			fl := &flood{failAt: failAt}
			f := newFake()
			f.install = fl.install
			h := newHarness(t, f, Options{}, 80, 24)
			h.toProgress()
			h.Until("the end of the install", func() bool { return h.m.Screen() == ScreenDone || h.m.Screen() == ScreenError })

			fl.mu.Lock()
			slowest, total, lines := fl.slowest, fl.total, fl.lines
			fl.mu.Unlock()
			// The harness drains while the engine sends, on two shared
			// cores; the bounds are far above an Emit that only queues.
			if slowest > 100*time.Millisecond || total > 3*time.Second {
				t.Errorf("the engine was held up: slowest Emit %s, all %d events %s", slowest, floodEvents, total)
			}

			steps := h.m.progress.Steps()
			past := false // after the failed step, nothing runs
			for _, s := range steps {
				want := progress.OK
				switch {
				case past:
					want = progress.NotRun
				case s.ID == failAt:
					want = progress.Failed
					past = true
				}
				if s.State != want || (want != progress.NotRun && (s.Done != s.Total || s.Total == 0)) {
					t.Errorf("step %s: %s at %d/%d, want %s", s.ID, s.State, s.Done, s.Total, want)
				}
			}
			logs := h.m.progress.Logs()
			want := make([]string, 0, progress.LogCap)
			for i := lines - progress.LogCap; i < lines; i++ {
				want = append(want, fmt.Sprintf("line %d", i))
			}
			if !slices.Equal(logs, want) {
				t.Errorf("kept log lines %d..: %q, want the last %d lines ending at line %d", len(logs), logs[:min(3, len(logs))], progress.LogCap, lines-1)
			}

			r := h.m.Result()
			if failAt == "" {
				h.wantScreen(ScreenDone)
				if r.ExitCode != 0 || len(r.Completed) != len(floodSteps) {
					t.Errorf("result = %+v", r)
				}
				return
			}
			h.wantScreen(ScreenError)
			h.WantView("Install failed", "step verify broke", fmt.Sprintf("line %d", lines-1))
			if r.ExitCode != installer.ClassInstallFailed.ExitCode() {
				t.Errorf("exit code = %d, want %d", r.ExitCode, installer.ClassInstallFailed.ExitCode())
			}
		})
	}
}
