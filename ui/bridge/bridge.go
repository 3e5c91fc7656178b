// Package bridge carries installer events from the engine's goroutine into a Bubble Tea program without ever making the engine wait for the screen.
package bridge

import (
	"context"
	"sync"

	tea "charm.land/bubbletea/v2"

	"github.com/universal-atomic-installer/uai/installer"
)

// Bridge is an installer.Sink. Emit only appends to a queue under a mutex,
// so the engine never waits for a frame. The screen drains the queue in
// batches with the command from Next, re-armed after each batch (the
// channel-to-Cmd pattern), so a flood of events costs one message per
// frame instead of one per event.
//
// Coalescing keeps what the screen would show anyway: a pending progress
// event is replaced by a newer one for the same step, and when more than
// 2*LogCap log lines wait, the oldest are dropped (counted in
// Batch.DroppedLogs), because a screen that keeps the last LogCap lines
// would have pushed them out. Every other event (step started, finished,
// result) is always delivered, in order.
type Bridge struct {
	logCap int

	mu       sync.Mutex
	queue    []installer.Event
	progress map[installer.StepID]int // queue index of each step's pending progress
	logs     int                      // log events in queue
	dropped  int
	closed   bool
	sent     bool // the final batch has been handed out
	err      error

	notify chan struct{}
	done   chan struct{}
}

// New returns a bridge whose screen keeps the last logCap log lines.
func New(logCap int) *Bridge {
	return &Bridge{
		logCap:   max(logCap, 1),
		progress: map[installer.StepID]int{},
		notify:   make(chan struct{}, 1),
		done:     make(chan struct{}),
	}
}

// Batch is the tea.Msg a drained queue becomes.
type Batch struct {
	// From identifies the bridge, so a screen ignores batches of a run
	// that is not its own.
	From   *Bridge
	Events []installer.Event
	// DroppedLogs counts log lines coalesced away before this batch.
	DroppedLogs int
	// Finished is set on the last batch: Install has returned with Err.
	Finished bool
	Err      error
}

// Emit implements installer.Sink.
func (b *Bridge) Emit(e installer.Event) {
	b.mu.Lock()
	if b.closed {
		// Install has returned; a late event from a stray goroutine has no
		// screen to go to.
		b.mu.Unlock()
		return
	}
	switch e.Type {
	case installer.EventStepProgress:
		if i, ok := b.progress[e.Step]; ok {
			b.queue[i] = e
			b.mu.Unlock()
			return
		}
		b.progress[e.Step] = len(b.queue)
	case installer.EventStepLog:
		b.logs++
		if b.logs > 2*b.logCap {
			b.compact()
		}
	default:
		// Later progress for this step must come after this event.
		delete(b.progress, e.Step)
	}
	b.queue = append(b.queue, e)
	b.mu.Unlock()
	b.wake()
}

// compact drops the oldest pending log lines so that logCap remain. It
// runs once per logCap lines, so Emit stays O(1) amortised. b.mu is held.
func (b *Bridge) compact() {
	drop := b.logs - b.logCap
	kept := b.queue[:0]
	for _, e := range b.queue {
		if e.Type == installer.EventStepLog && drop > 0 {
			drop--
			b.dropped++
			b.logs--
			continue
		}
		kept = append(kept, e)
	}
	clear(b.queue[len(kept):])
	b.queue = kept
	clear(b.progress)
	for i, e := range b.queue {
		if e.Type == installer.EventStepProgress {
			b.progress[e.Step] = i
		}
	}
}

// Close records that Install returned with err. Events emitted after Close
// are ignored; the batch that drains the queue carries Finished.
func (b *Bridge) Close(err error) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.closed = true
	b.err = err
	b.mu.Unlock()
	close(b.done)
	b.wake()
}

// Done is closed when Install has returned.
func (b *Bridge) Done() <-chan struct{} { return b.done }

func (b *Bridge) wake() {
	select {
	case b.notify <- struct{}{}:
	default: // a wake-up is already pending; it will see this event too
	}
}

// Next returns a command that waits for the next batch. It returns nil
// once the final batch was handed out or ctx ends, so a stopped program
// leaves no goroutine behind.
func (b *Bridge) Next(ctx context.Context) tea.Cmd {
	return func() tea.Msg {
		for {
			if m, ok := b.take(); ok {
				return m
			}
			b.mu.Lock()
			sent := b.sent
			b.mu.Unlock()
			if sent {
				return nil
			}
			select {
			case <-b.notify:
			case <-ctx.Done():
				return nil
			}
		}
	}
}

func (b *Bridge) take() (Batch, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.queue) == 0 && (!b.closed || b.sent) {
		return Batch{}, false
	}
	m := Batch{From: b, Events: b.queue, DroppedLogs: b.dropped}
	b.queue = nil
	b.dropped = 0
	b.logs = 0
	clear(b.progress)
	if b.closed {
		m.Finished = true
		m.Err = b.err
		b.sent = true
	}
	return m, true
}
