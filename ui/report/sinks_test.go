package report

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/universal-atomic-installer/uai/installer"
)

func eventSeq(n int) []installer.Event {
	evs := []installer.Event{{V: 1, Type: installer.EventPlan, PlanSHA256: "abc"}}
	for i := 0; i < n; i++ {
		evs = append(evs, installer.Event{V: 1, Type: installer.EventStepLog, Step: installer.StepBootc, Stream: "stdout", Line: "line " + string(rune('a'+i%26))})
	}
	return append(evs, installer.Event{V: 1, Type: installer.EventResult, Result: &installer.Result{ExitCode: 0, Disk: "/dev/vda"}})
}

func TestFileSink(t *testing.T) {
	p := filepath.Join(t.TempDir(), "deep", "dir", "install.jsonl")
	f, err := OpenFile(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range eventSeq(3) {
		f.Emit(e)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 5 || !strings.Contains(lines[4], `"type":"result"`) {
		t.Fatalf("log:\n%s", b)
	}
	if _, err := OpenFile("/proc/version/install.jsonl"); err == nil || !strings.Contains(err.Error(), "event log") {
		t.Fatalf("an unwritable log: %v", err)
	}
}

// blocked is a sink that never returns until released.
type blocked struct {
	release chan struct{}
	mu      sync.Mutex
	got     []installer.Event
}

func (b *blocked) Emit(e installer.Event) {
	<-b.release
	b.mu.Lock()
	b.got = append(b.got, e)
	b.mu.Unlock()
}

// A stuck target never holds the engine up: Emit returns at once, a full
// queue drops (and counts) events, and Close gives up at its timeout.
func TestAsyncNeverBlocks(t *testing.T) {
	b := &blocked{release: make(chan struct{})}
	a := NewAsync(b, 8)
	start := time.Now()
	for _, e := range eventSeq(100)[:101] {
		a.Emit(e)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Fatalf("100 events took %s into a stuck sink", d)
	}
	dropped, drained := a.Close(100 * time.Millisecond)
	if drained || dropped < 80 {
		t.Fatalf("dropped %d drained %v", dropped, drained)
	}
	close(b.release)
	a.Emit(installer.Event{Type: installer.EventStepLog}) // after Close: ignored, no panic
}

// The result waits for room in a full queue: it is the one event a
// harness cannot miss.
func TestAsyncKeepsTheResult(t *testing.T) {
	b := &blocked{release: make(chan struct{})}
	a := NewAsync(b, 2)
	evs := eventSeq(10)
	for _, e := range evs[:len(evs)-1] {
		a.Emit(e)
	}
	go func() {
		time.Sleep(200 * time.Millisecond)
		close(b.release)
	}()
	a.Emit(evs[len(evs)-1])
	if _, drained := a.Close(2 * time.Second); !drained {
		t.Fatal("not drained")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if last := b.got[len(b.got)-1]; last.Type != installer.EventResult {
		t.Fatalf("the result was dropped; last event %s", last.Type)
	}
}

type receiver struct {
	mu      sync.Mutex
	bodies  []string
	headers []http.Header
}

func (r *receiver) handler(status func(n int) int, hang chan struct{}) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies = append(r.bodies, string(b))
		r.headers = append(r.headers, req.Header.Clone())
		n := len(r.bodies)
		r.mu.Unlock()
		if hang != nil {
			select {
			case <-hang:
			case <-req.Context().Done():
			}
			return
		}
		w.WriteHeader(status(n))
	}
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.bodies)
}

func TestWebhookPostsEveryEventInOrder(t *testing.T) {
	rcv := &receiver{}
	// The first POST of the third event fails once: it is retried, and the
	// order still holds.
	srv := httptest.NewServer(rcv.handler(func(n int) int {
		if n == 3 {
			return http.StatusServiceUnavailable
		}
		return http.StatusAccepted
	}, nil))
	defer srv.Close()
	var errs []error
	w := NewWebhook(WebhookOptions{URL: srv.URL + "/e", Headers: map[string]string{"Authorization": "Bearer t"}, Retries: 2, Timeout: time.Second,
		Backoff: 10 * time.Millisecond, OnError: func(err error) { errs = append(errs, err) }})
	evs := eventSeq(5)
	for _, e := range evs {
		w.Emit(e)
	}
	if len(errs) != 0 || w.Posted != len(evs) || rcv.count() != len(evs)+1 {
		t.Fatalf("errors %v posted %d received %d", errs, w.Posted, rcv.count())
	}
	var got []installer.Event
	for i, b := range rcv.bodies {
		if i == 2 {
			continue // the failed first try of the third event
		}
		var e installer.Event
		if err := json.Unmarshal([]byte(b), &e); err != nil {
			t.Fatalf("body %d is not one JSON event: %v\n%s", i, err, b)
		}
		got = append(got, e)
		h := rcv.headers[i]
		if h.Get("Content-Type") != "application/json" || h.Get("Authorization") != "Bearer t" {
			t.Fatalf("headers %v", h)
		}
	}
	for i := range evs {
		if got[i].Type != evs[i].Type || got[i].Line != evs[i].Line {
			t.Fatalf("event %d out of order: %+v", i, got[i])
		}
	}
}

// A webhook that fails every POST is given up after one event's retries;
// then only the result is tried, once. The time it costs is bounded.
func TestDeadWebhook(t *testing.T) {
	for _, c := range []struct {
		name string
		hang bool
	}{{"500", false}, {"hangs", true}} {
		t.Run(c.name, func(t *testing.T) {
			rcv := &receiver{}
			var hang chan struct{}
			if c.hang {
				hang = make(chan struct{})
				defer close(hang)
			}
			srv := httptest.NewServer(rcv.handler(func(int) int { return http.StatusInternalServerError }, hang))
			defer srv.Close()
			var errs []error
			w := NewWebhook(WebhookOptions{URL: srv.URL + "/hook/secret-token", Retries: 2, Timeout: 100 * time.Millisecond,
				Backoff: 10 * time.Millisecond, OnError: func(err error) { errs = append(errs, err) }})
			start := time.Now()
			for _, e := range eventSeq(50) {
				w.Emit(e)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Fatalf("a dead webhook cost %s", d)
			}
			if n := rcv.count(); n != 4 {
				t.Fatalf("%d POSTs; want 3 for the first event and 1 for the result", n)
			}
			if len(errs) != 1 || !strings.Contains(errs[0].Error(), "no more events are posted") || strings.Contains(errs[0].Error(), "secret-token") {
				t.Fatalf("errors: %v", errs)
			}
		})
	}
	// Nothing listening at all.
	w := NewWebhook(WebhookOptions{URL: "http://127.0.0.1:1/x", Retries: 1, Timeout: 100 * time.Millisecond, Backoff: time.Millisecond})
	w.Emit(installer.Event{Type: installer.EventPlan})
	if !w.dead {
		t.Fatal("an unreachable webhook is not given up")
	}
}

func TestRedact(t *testing.T) {
	c := &installer.Collector{}
	s := Redact(c, []string{"hunter2", "tok-123"})
	res := &installer.Result{ExitCode: 6, Error: "bootc: bad password hunter2", Stopped: "x", Completed: []installer.StepID{"hunter2"}}
	s.Emit(installer.Event{Type: installer.EventStepLog, Step: "hunter2", Line: "echo hunter2 | passwd", Title: "https://h/tok-123"})
	s.Emit(installer.Event{Type: installer.EventResult, Error: "tok-123", Result: res})
	evs := c.Snapshot()
	b, _ := json.Marshal(evs)
	if strings.Contains(strings.ReplaceAll(string(b), `"hunter2"`, ""), "hunter2") || strings.Contains(string(b), "tok-123") {
		t.Fatalf("a secret is left in free text: %s", b)
	}
	if evs[0].Line != "echo <redacted> | passwd" || evs[1].Result.Error != "bootc: bad password <redacted>" {
		t.Fatalf("%+v %+v", evs[0], evs[1].Result)
	}
	// Fixed vocabulary is not free text; the caller's result is not changed.
	if evs[0].Step != "hunter2" || evs[1].Result.Completed[0] != "hunter2" || res.Error != "bootc: bad password hunter2" {
		t.Fatal("redaction touched a typed field or the caller's result")
	}
	if Redact(c, nil) != installer.Sink(c) {
		t.Fatal("no secrets should cost nothing")
	}
}

func TestWithLogPath(t *testing.T) {
	c := &installer.Collector{}
	res := &installer.Result{ExitCode: 0}
	WithLogPath(c, "/run/uai/install.jsonl").Emit(installer.Event{Type: installer.EventResult, Result: res})
	if c.Snapshot()[0].Result.LogPath != "/run/uai/install.jsonl" || res.LogPath != "" {
		t.Fatal("log path")
	}
}

// A serial console nobody reads fills up: writes are dropped after a
// short wait, reported once, and never block the install.
func TestSerialNeverBlocks(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "ttyS0")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("SKIPPED LOUDLY: no FIFO here: %v", err)
	}
	if _, err := OpenSerial(fifo); err == nil || !strings.Contains(err.Error(), "serial console") {
		t.Fatalf("a console with no reader opened: %v", err)
	}
	// A reader that never reads.
	r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	s, err := OpenSerial(fifo)
	if err != nil {
		t.Fatal(err)
	}
	var errs []error
	s.OnError = func(err error) { errs = append(errs, err) }
	a := NewAsync(s, 4096)
	start := time.Now()
	for i := 0; i < 2000; i++ {
		a.Emit(installer.Event{Type: installer.EventStepLog, Line: strings.Repeat("x", 200)})
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Fatalf("emitting into a full console took %s", d)
	}
	if _, drained := a.Close(5 * time.Second); !drained {
		t.Fatal("the console writer did not give up")
	}
	if len(errs) != 1 || !errors.Is(errs[0], syscall.EAGAIN) {
		t.Fatalf("errors: %v", errs)
	}
	// What was written is whole JSON lines; with the writer closed the
	// reader ends at the pipe's end.
	s.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	for sc.Scan() {
		var e installer.Event
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			break // the last line may be cut where the pipe filled up
		}
		n++
	}
	if n == 0 {
		t.Fatal("nothing reached the console")
	}
}
