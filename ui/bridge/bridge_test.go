package bridge

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/universal-atomic-installer/uai/installer"
)

func started(s installer.StepID) installer.Event {
	return installer.Event{Type: installer.EventStepStarted, Step: s}
}

func finished(s installer.StepID) installer.Event {
	return installer.Event{Type: installer.EventStepFinished, Step: s, Status: installer.StatusOK}
}

func prog(s installer.StepID, done int64) installer.Event {
	return installer.Event{Type: installer.EventStepProgress, Step: s, Done: done, Total: 100}
}

func logLine(s installer.StepID, n int) installer.Event {
	return installer.Event{Type: installer.EventStepLog, Step: s, Line: fmt.Sprintf("line %d", n)}
}

// next runs the bridge's command once, failing the test if it blocks.
func next(t *testing.T, b *Bridge) Batch {
	t.Helper()
	done := make(chan Batch, 1)
	go func() {
		m, _ := b.Next(t.Context())().(Batch)
		done <- m
	}()
	select {
	case m := <-done:
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("Next blocked with events queued")
		return Batch{}
	}
}

func describe(evs []installer.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		switch e.Type {
		case installer.EventStepProgress:
			out[i] = fmt.Sprintf("progress %s %d", e.Step, e.Done)
		case installer.EventStepLog:
			out[i] = fmt.Sprintf("log %s", e.Line)
		default:
			out[i] = fmt.Sprintf("%s %s", e.Type, e.Step)
		}
	}
	return out
}

func TestCoalescing(t *testing.T) {
	const a, c = installer.StepPartition, installer.StepBootc
	cases := []struct {
		name string
		in   []installer.Event
		want []string
	}{
		{
			name: "latest progress per step replaces the pending one in place",
			in:   []installer.Event{started(a), prog(a, 1), started(c), prog(c, 5), prog(a, 2), prog(a, 3), prog(c, 6)},
			want: []string{"step_started partition", "progress partition 3", "step_started bootc", "progress bootc 6"},
		},
		{
			name: "progress after a step's next event is not moved before it",
			in:   []installer.Event{started(a), prog(a, 1), finished(a), prog(a, 100)},
			want: []string{"step_started partition", "progress partition 1", "step_finished partition", "progress partition 100"},
		},
		{
			name: "log lines and step events keep their order",
			in:   []installer.Event{started(a), logLine(a, 1), finished(a), started(c), logLine(c, 2)},
			want: []string{"step_started partition", "log line 1", "step_finished partition", "step_started bootc", "log line 2"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := New(10)
			for _, e := range tc.in {
				b.Emit(e)
			}
			got := describe(next(t, b).Events)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("batch = %q\nwant    %q", got, tc.want)
			}
		})
	}
}

func TestLogsBeyondTheCapAreDroppedOldestFirst(t *testing.T) {
	b := New(10)
	b.Emit(started(installer.StepBootc))
	for i := range 95 {
		b.Emit(logLine(installer.StepBootc, i))
	}
	b.Emit(finished(installer.StepBootc))
	m := next(t, b)
	var lines []string
	for _, e := range m.Events {
		if e.Type == installer.EventStepLog {
			lines = append(lines, e.Line)
		}
	}
	if len(lines) < 10 || len(lines) > 20 {
		t.Fatalf("kept %d log lines, want between the cap (10) and twice it", len(lines))
	}
	if lines[len(lines)-1] != "line 94" || m.DroppedLogs+len(lines) != 95 {
		t.Errorf("kept %q with %d dropped; want the newest lines and a count of the rest", lines, m.DroppedLogs)
	}
	if got := describe(m.Events); got[0] != "step_started bootc" || got[len(got)-1] != "step_finished bootc" {
		t.Errorf("step events lost or moved: %q", got)
	}
}

func TestCloseEndsTheStream(t *testing.T) {
	b := New(10)
	b.Emit(started(installer.StepPreflight))
	boom := errors.New("boom")
	b.Close(boom)
	b.Emit(finished(installer.StepPreflight)) // after Close: dropped
	b.Close(nil)                              // a second Close changes nothing

	select {
	case <-b.Done():
	default:
		t.Error("Done not closed after Close")
	}
	m := next(t, b)
	if !m.Finished || !errors.Is(m.Err, boom) || len(m.Events) != 1 || m.From != b {
		t.Errorf("final batch = %+v, want the one queued event, Finished and the error", m)
	}
	if msg := b.Next(t.Context())(); msg != nil {
		t.Errorf("Next after the final batch = %#v, want nil", msg)
	}
}

func TestNextWaitsForEventsAndStopsWithContext(t *testing.T) {
	b := New(10)
	got := make(chan Batch, 1)
	go func() {
		m, _ := b.Next(t.Context())().(Batch)
		got <- m
	}()
	select {
	case <-got:
		t.Fatal("Next returned with nothing queued")
	case <-time.After(20 * time.Millisecond):
	}
	b.Emit(started(installer.StepPreflight))
	select {
	case m := <-got:
		if len(m.Events) != 1 {
			t.Errorf("batch = %+v", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Next did not wake up for an event")
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if msg := b.Next(ctx)(); msg != nil {
		t.Errorf("Next with a cancelled context = %#v, want nil", msg)
	}
}

// TestFloodDoesNotBlockTheSender emits 10,000 events with nobody draining:
// the engine must never wait for the screen.
func TestFloodDoesNotBlockTheSender(t *testing.T) {
	b := New(200)
	const n = 10_000
	var slowest time.Duration
	start := time.Now()
	for i := range n {
		e := logLine(installer.StepBootc, i)
		switch i % 4 {
		case 0:
			e = prog(installer.StepBootc, int64(i))
		case 1:
			if i%1000 == 1 {
				e = started(installer.StepID(fmt.Sprintf("s%d", i/1000)))
			}
		}
		t0 := time.Now()
		b.Emit(e)
		slowest = max(slowest, time.Since(t0))
	}
	total := time.Since(start)
	if total > 2*time.Second || slowest > 100*time.Millisecond {
		t.Errorf("emitting %d events took %s (slowest %s): the sender was held up", n, total, slowest)
	}
	m := next(t, b)
	var starts, progress, logs int
	var lastProgress int64
	for _, e := range m.Events {
		switch e.Type {
		case installer.EventStepStarted:
			starts++
		case installer.EventStepProgress:
			progress++
			lastProgress = e.Done
		case installer.EventStepLog:
			logs++
		}
	}
	if starts != 10 {
		t.Errorf("delivered %d step_started events, want all 10", starts)
	}
	if progress > 11 || lastProgress != n-4 {
		t.Errorf("delivered %d progress events ending at %d, want at most one per step run ending at %d", progress, lastProgress, n-4)
	}
	if logs+m.DroppedLogs != n-n/4-10 || logs > 400 {
		t.Errorf("delivered %d log lines and dropped %d of %d", logs, m.DroppedLogs, n-n/4-10)
	}
}
