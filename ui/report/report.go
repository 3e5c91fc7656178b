// Package report writes the engine's events for non-TTY front-ends: plain
// text lines for people and logs, JSON lines for programs.
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/universal-atomic-installer/uai/installer"
)

// Lines writes each event of any stream (install or switch) as one JSON
// object per line. Writes are serialised so lines never interleave.
type Lines[E any] struct {
	mu  sync.Mutex
	enc *json.Encoder
}

// NewLines returns a JSON-lines sink of events of type E writing to w.
func NewLines[E any](w io.Writer) *Lines[E] { return &Lines[E]{enc: json.NewEncoder(w)} }

// Emit writes one event.
func (j *Lines[E]) Emit(e E) {
	j.mu.Lock()
	defer j.mu.Unlock()
	_ = j.enc.Encode(e) // a closed stdout must not stop an install
}

// JSON is the installer's JSON-lines sink.
type JSON = Lines[installer.Event]

// NewJSON returns a JSON-lines sink of installer events writing to w.
func NewJSON(w io.Writer) *JSON { return NewLines[installer.Event](w) }

// Text writes one readable line per event.
type Text struct {
	mu      sync.Mutex
	w       io.Writer
	started StepTimes
	// Verbose also prints every log line of every step; otherwise only
	// commands and the bootc step's output are printed.
	Verbose bool
}

// StepTimes remembers when each step started, so the line that closes a
// step can say how long it took. Both text reports (install and switch)
// close steps with it.
type StepTimes map[installer.StepID]time.Time

// Finished is the line that closes a step: ok or FAILED with the time
// since the step started (when it did), or skipped with the reason.
func (st StepTimes) Finished(step installer.StepID, at time.Time, status installer.StepStatus, reason, errText string) string {
	d := ""
	if s, ok := st[step]; ok {
		d = fmt.Sprintf(" (%s)", at.Sub(s).Round(time.Millisecond))
	}
	switch status {
	case installer.StatusOK:
		return fmt.Sprintf("    ok %s%s\n", step, d)
	case installer.StatusSkipped:
		return fmt.Sprintf("    skipped %s: %s\n", step, reason)
	default:
		return fmt.Sprintf("    FAILED %s%s: %s\n", step, d, errText)
	}
}

// NewText returns a plain-text sink writing to w.
func NewText(w io.Writer) *Text {
	return &Text{w: w, started: StepTimes{}}
}

// Emit implements installer.Sink.
func (t *Text) Emit(e installer.Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	sim := ""
	if e.Simulated {
		sim = " [simulated bootc]"
	}
	switch e.Type {
	case installer.EventPlan:
		fmt.Fprintf(t.w, "plan %s%s\n", e.PlanSHA256, sim)
	case installer.EventStepStarted:
		t.started[e.Step] = e.Time
		fmt.Fprintf(t.w, "==> %s: %s\n", e.Step, e.Title)
	case installer.EventStepLog:
		// Other programs' chatter is noise here; their errors reach the
		// step's error message with the tail of their stderr.
		if t.Verbose || e.Stream == "cmd" || e.Stream == "info" || e.Step == installer.StepBootc {
			fmt.Fprintf(t.w, "    %s\n", e.Line)
		}
	case installer.EventStepProgress:
		if e.Total > 0 {
			fmt.Fprintf(t.w, "    %s: %d/%d %s\n", e.Step, e.Done, e.Total, e.Unit)
		}
	case installer.EventStepFinished:
		io.WriteString(t.w, t.started.Finished(e.Step, e.Time, e.Status, e.Reason, e.Error))
	case installer.EventResult:
		r := e.Result
		if r == nil {
			return
		}
		var b strings.Builder
		switch {
		case r.ExitCode != 0:
			fmt.Fprintf(&b, "install failed (%s, exit %d): %s\n", r.Class, r.ExitCode, r.Error)
		case r.Stopped != "":
			fmt.Fprintf(&b, "%s\n", r.Stopped)
		default:
			what := r.Edition
			if what == "" {
				what = r.Image
			}
			fmt.Fprintf(&b, "installed %s on %s in %s; it will update from %s\n", what, r.Disk, (time.Duration(r.DurationMS) * time.Millisecond).String(), r.TargetRef)
		}
		if r.Simulated {
			b.WriteString("(bootc was simulated: this demo wrote a real partition table and filesystems, but no real operating system)\n")
		}
		io.WriteString(t.w, b.String())
	}
}
