package switchui

import (
	"context"
	"slices"
	"sync/atomic"
	"time"

	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/installer/rebase"
)

type stepState int

const (
	pending stepState = iota
	running
	ok
	failed
	skipped
	// notRun marks a step that never started in a run that has ended.
	notRun
)

// step is what the progress screen knows of one engine step.
type step struct {
	id                installer.StepID
	title             string
	state             stepState
	reason            string
	started, finished time.Time
	done, total       int64
	unit              string
	layers, layersAll int64
	subtasks          []rebase.Subtask
	simulated         bool
}

// runState is one switch in progress on the progress screen.
type runState struct {
	plan    *rebase.Plan
	feed    *feed
	cancel  context.CancelFunc
	started time.Time
	elapsed time.Duration
	done    bool
	// stopped is set when the user stopped the switch; the TUI then quits.
	stopped bool
	// launch guards the engine call: wait must not block on a run whose
	// command the program never got to execute.
	launch atomic.Int32

	steps   []*step
	byID    map[installer.StepID]*step
	logs    []string
	seen    int
	showLog bool
}

const (
	notStarted int32 = iota
	launched
	abandoned
)

// The steps shown before the engine names them, so the user sees what is
// still to come. Others (reboot, a fallback rebase) are added when they start.
var plannedSteps = map[rebase.Method][]struct {
	id    installer.StepID
	title string
}{
	rebase.MethodBootc: {
		{rebase.StepPull, "Pull the image"},
		{rebase.StepImport, "Import the image into the ostree repository"},
		{rebase.StepStage, "Stage the new deployment for the next boot"},
		{rebase.StepVerify, "Check the new deployment"},
	},
	rebase.MethodRpmOstree: {
		{rebase.StepRebase, "Rebase with rpm-ostree"},
		{rebase.StepVerify, "Check the new deployment"},
	},
}

// stepOrder places a step the engine names in the list.
var stepOrder = []installer.StepID{rebase.StepPull, rebase.StepImport, rebase.StepStage, rebase.StepRebase, rebase.StepVerify, rebase.StepReboot}

func newRunState(p *rebase.Plan, cancel context.CancelFunc, now time.Time) *runState {
	rs := &runState{plan: p, feed: newFeed(), cancel: cancel, started: now, byID: map[installer.StepID]*step{}, showLog: true}
	for _, s := range plannedSteps[p.Method] {
		rs.step(s.id).title = s.title
	}
	return rs
}

// closed is closed once the engine returned, or at once if it never ran.
func (rs *runState) closed() <-chan struct{} {
	if rs.launch.CompareAndSwap(notStarted, abandoned) {
		c := make(chan struct{})
		close(c)
		return c
	}
	return rs.feed.done
}

func (rs *runState) step(id installer.StepID) *step {
	if s, ok := rs.byID[id]; ok {
		return s
	}
	s := &step{id: id, title: string(id)}
	rs.byID[id] = s
	at := len(rs.steps)
	rank := slices.Index(stepOrder, id)
	for i, o := range rs.steps {
		if r := slices.Index(stepOrder, o.id); rank >= 0 && (r < 0 || r > rank) {
			at = i
			break
		}
	}
	rs.steps = slices.Insert(rs.steps, at, s)
	return s
}

func (rs *runState) apply(e rebase.Event, now func() time.Time) {
	at := e.Time
	if at.IsZero() {
		at = now()
	}
	switch e.Type {
	case installer.EventStepStarted:
		s := rs.step(e.Step)
		s.state, s.started = running, at
		if e.Title != "" {
			s.title = e.Title
		}
		s.simulated = s.simulated || e.Simulated
	case installer.EventStepProgress:
		s := rs.step(e.Step)
		if s.state == pending {
			s.state, s.started = running, at
		}
		s.done, s.total, s.unit = e.Done, e.Total, e.Unit
		s.layers, s.layersAll = e.Steps, e.StepsTotal
		s.subtasks = e.Subtasks
	case installer.EventStepLog:
		rs.seen++
		line := e.Line
		if e.Stream == "stderr" {
			line = "! " + line
		}
		rs.logs = append(rs.logs, line)
		if len(rs.logs) > logCap {
			rs.logs = rs.logs[len(rs.logs)-logCap:]
		}
	case installer.EventStepFinished:
		s := rs.step(e.Step)
		s.finished = at
		if s.started.IsZero() {
			s.started = at
		}
		switch e.Status {
		case installer.StatusOK:
			s.state = ok
		case installer.StatusSkipped:
			s.state, s.reason = skipped, e.Reason
		default:
			s.state, s.reason = failed, e.Error
		}
	}
}
