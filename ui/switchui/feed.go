package switchui

import (
	"context"
	"sync"

	tea "charm.land/bubbletea/v2"

	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/installer/rebase"
)

// feed carries a switch's events from the engine's goroutine into the
// program without ever making the engine wait: Emit only appends under a
// mutex, and a newer progress event of a step replaces a pending one.
type feed struct {
	mu       sync.Mutex
	queue    []rebase.Event
	progress map[installer.StepID]int
	closed   bool
	sent     bool
	res      rebase.Result
	err      error
	notify   chan struct{}
	// done is closed when the engine has returned.
	done chan struct{}
}

func newFeed() *feed {
	return &feed{progress: map[installer.StepID]int{}, notify: make(chan struct{}, 1), done: make(chan struct{})}
}

// batchMsg is a drained queue.
type batchMsg struct {
	from     *feed
	events   []rebase.Event
	finished bool
	res      rebase.Result
	err      error
}

// Emit implements rebase.Sink.
func (f *feed) Emit(e rebase.Event) {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return
	}
	if e.Type == installer.EventStepProgress {
		if i, ok := f.progress[e.Step]; ok {
			f.queue[i] = e
			f.mu.Unlock()
			return
		}
		f.progress[e.Step] = len(f.queue)
	} else {
		delete(f.progress, e.Step)
	}
	f.queue = append(f.queue, e)
	f.mu.Unlock()
	f.wake()
}

// close records the engine's return.
func (f *feed) close(res rebase.Result, err error) {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return
	}
	f.closed, f.res, f.err = true, res, err
	f.mu.Unlock()
	close(f.done)
	f.wake()
}

func (f *feed) wake() {
	select {
	case f.notify <- struct{}{}:
	default:
	}
}

// next waits for the next batch; nil once the last was handed out or ctx
// ended, so a stopped program leaves no goroutine behind.
func (f *feed) next(ctx context.Context) tea.Cmd {
	return func() tea.Msg {
		for {
			f.mu.Lock()
			if len(f.queue) > 0 || (f.closed && !f.sent) {
				m := batchMsg{from: f, events: f.queue}
				f.queue = nil
				clear(f.progress)
				if f.closed {
					m.finished, m.res, m.err = true, f.res, f.err
					f.sent = true
				}
				f.mu.Unlock()
				return m
			}
			sent := f.sent
			f.mu.Unlock()
			if sent {
				return nil
			}
			select {
			case <-f.notify:
			case <-ctx.Done():
				return nil
			}
		}
	}
}
