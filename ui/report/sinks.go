package report

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"syscall"
	"time"

	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/installer/answers"
)

// The reporting targets of an unattended run besides stdout: a JSON-lines
// file, a serial console and a webhook. None of them may fail or stall an
// install: the file is local, and the console and the webhook run behind
// Async, which never blocks the engine and gives up at Close.

// File appends the events as JSON lines to a file.
type File struct {
	*JSON
	f    *os.File
	Path string
}

// OpenFile opens (creating it and its directory) a JSON-lines log.
func OpenFile(path string) (*File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create the directory of the event log %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open the event log %s: %w; choose another [reporting] file or --log", path, err)
	}
	return &File{JSON: NewJSON(f), f: f, Path: path}, nil
}

// Close flushes and closes the file.
func (f *File) Close() error {
	if err := f.f.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		f.f.Close()
		return fmt.Errorf("sync the event log %s: %w", f.Path, err)
	}
	return f.f.Close()
}

// Async hands events to a sink on its own goroutine through a bounded
// queue, so a slow target never holds the engine up. When the queue is
// full, events are dropped (and counted), except the result record, which
// waits a little for room: it is the one event a harness cannot miss.
type Async struct {
	sink    installer.Sink
	ch      chan installer.Event
	done    chan struct{}
	mu      sync.Mutex
	closed  bool
	dropped int
}

// NewAsync starts the goroutine; queue is the number of events it holds.
func NewAsync(s installer.Sink, queue int) *Async {
	a := &Async{sink: s, ch: make(chan installer.Event, queue), done: make(chan struct{})}
	go func() {
		defer close(a.done)
		for e := range a.ch {
			a.sink.Emit(e)
		}
	}()
	return a
}

// Emit implements installer.Sink; it never blocks for long.
func (a *Async) Emit(e installer.Event) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return
	}
	select {
	case a.ch <- e:
		return
	default:
	}
	if e.Type == installer.EventResult {
		select {
		case a.ch <- e:
			return
		case <-time.After(time.Second):
		}
	}
	a.dropped++
}

// Close stops taking events and waits up to timeout for the queue to
// drain. It reports how many events never reached the sink's goroutine
// and whether the drain finished in time.
func (a *Async) Close(timeout time.Duration) (dropped int, drained bool) {
	a.mu.Lock()
	if !a.closed {
		a.closed = true
		close(a.ch)
	}
	dropped = a.dropped
	a.mu.Unlock()
	select {
	case <-a.done:
		return dropped, true
	case <-time.After(timeout):
		return dropped, false
	}
}

// Serial writes JSON lines to a serial console device. A console nobody
// listens to fills up: writes that would block are retried briefly and
// then the line is dropped.
type Serial struct {
	f       *os.File
	Device  string
	OnError func(error)
	failed  bool
}

// OpenSerial opens a serial console (or any device or file) for writing.
// It opens without waiting for a carrier and without becoming the
// controlling terminal.
func OpenSerial(dev string) (*Serial, error) {
	f, err := os.OpenFile(dev, os.O_WRONLY|os.O_APPEND|syscall.O_NOCTTY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("open the serial console %s: %w; check [reporting] serial or --serial", dev, err)
	}
	return &Serial{f: f, Device: dev}, nil
}

// Emit implements installer.Sink. Run it behind Async.
func (s *Serial) Emit(e installer.Event) {
	if s.failed {
		return
	}
	line, err := json.Marshal(e)
	if err != nil {
		return
	}
	line = append(line, '\n')
	for tries := 0; len(line) > 0; {
		n, err := s.write(line)
		line = line[max(n, 0):]
		if err == nil {
			continue
		}
		if errors.Is(err, syscall.EAGAIN) && tries < 50 {
			tries++
			time.Sleep(20 * time.Millisecond)
			continue
		}
		s.failed = true
		if s.OnError != nil {
			s.OnError(fmt.Errorf("serial console %s: %w; no more events are written to it", s.Device, err))
		}
		return
	}
}

// write makes one write(2) that returns EAGAIN when the device is full:
// os.File.Write would park in the poller until a reader drains it, which
// for a console nobody reads is forever.
func (s *Serial) write(b []byte) (int, error) {
	rc, err := s.f.SyscallConn()
	if err != nil {
		return 0, err
	}
	var n int
	var werr error
	if err := rc.Write(func(fd uintptr) bool {
		n, werr = syscall.Write(int(fd), b)
		return true
	}); err != nil {
		return 0, err
	}
	return n, werr
}

// Close closes the device.
func (s *Serial) Close() error { return s.f.Close() }

// WebhookOptions configure a webhook.
type WebhookOptions struct {
	URL     string
	Headers map[string]string
	// Retries is how often a failed POST is retried.
	Retries int
	// Timeout bounds each POST.
	Timeout time.Duration
	// Backoff is the wait before the first retry; it doubles, up to 2s.
	// 0 means 250ms.
	Backoff time.Duration
	// Client posts; nil means a client with the system's roots.
	Client *http.Client
	// OnError is told, once, when the webhook is given up.
	OnError func(error)
}

// Webhook POSTs every event, in order, as one JSON object
// (Content-Type: application/json). A POST that fails (no answer in time,
// or not 2xx) is retried; an event that fails every retry marks the
// webhook dead, after which only the result record is tried, once. So a
// dead webhook costs a bounded time and never fails the install.
type Webhook struct {
	o    WebhookOptions
	dead bool
	// Posted counts the events the server accepted.
	Posted int
}

// NewWebhook makes a webhook sink. Run it behind Async.
func NewWebhook(o WebhookOptions) *Webhook {
	if o.Timeout <= 0 {
		o.Timeout = installer.DefaultWebhookTimeout
	}
	if o.Backoff <= 0 {
		o.Backoff = 250 * time.Millisecond
	}
	if o.Client == nil {
		o.Client = &http.Client{}
	}
	return &Webhook{o: o}
}

// Emit implements installer.Sink.
func (w *Webhook) Emit(e installer.Event) {
	body, err := json.Marshal(e)
	if err != nil {
		return
	}
	tries := w.o.Retries + 1
	if w.dead {
		if e.Type != installer.EventResult {
			return
		}
		tries = 1
	}
	wait := w.o.Backoff
	var last error
	for i := 0; i < tries; i++ {
		if i > 0 {
			time.Sleep(wait)
			wait = min(wait*2, 2*time.Second)
		}
		if last = w.post(body); last == nil {
			w.Posted++
			return
		}
	}
	if !w.dead {
		w.dead = true
		if w.o.OnError != nil {
			w.o.OnError(fmt.Errorf("webhook %s failed %d times (%v); no more events are posted to it, except the result", answers.RedactURL(w.o.URL), tries, last))
		}
	}
}

func (w *Webhook) post(body []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), w.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.o.URL, bytes.NewReader(body))
	if err != nil {
		return errors.New("the URL is not valid")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "uai")
	for k, v := range w.o.Headers {
		req.Header.Set(k, v)
	}
	resp, err := w.o.Client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("no answer within %s", w.o.Timeout)
		}
		// url.Error quotes the URL, and the URL may hold a token.
		var ue interface{ Unwrap() error }
		if errors.As(err, &ue) && ue.Unwrap() != nil {
			err = ue.Unwrap()
		}
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("the server answered %s", resp.Status)
	}
	return nil
}

// Redact returns a sink that replaces every secret in an event's text
// (step titles, log lines, errors, the result) before passing it on, so
// a password that a program echoes never reaches a log or a webhook.
func Redact(s installer.Sink, secrets []string) installer.Sink {
	if len(secrets) == 0 {
		return s
	}
	return installer.SinkFunc(func(e installer.Event) {
		if e.Result != nil {
			r := *e.Result
			redactStrings(reflect.ValueOf(&r).Elem(), secrets)
			e.Result = &r
		}
		redactStrings(reflect.ValueOf(&e).Elem(), secrets)
		s.Emit(e)
	})
}

var stringType = reflect.TypeOf("")

// redactStrings rewrites every free-text field of a struct: plain strings
// and string slices. Typed strings (event type, step, status) are fixed
// vocabulary and are left alone.
func redactStrings(v reflect.Value, secrets []string) {
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		if !f.CanSet() {
			continue
		}
		switch {
		case f.Type() == stringType:
			f.SetString(answers.RedactText(f.String(), secrets))
		case f.Kind() == reflect.Slice:
			if f.Type().Elem() == stringType {
				c := reflect.MakeSlice(f.Type(), f.Len(), f.Len())
				for j := 0; j < f.Len(); j++ {
					c.Index(j).SetString(answers.RedactText(f.Index(j).String(), secrets))
				}
				f.Set(c)
			}
		}
	}
}

// WithLogPath returns a sink that names the run's log in the result
// record.
func WithLogPath(s installer.Sink, path string) installer.Sink {
	if path == "" {
		return s
	}
	return installer.SinkFunc(func(e installer.Event) {
		if e.Result != nil {
			r := *e.Result
			r.LogPath = path
			e.Result = &r
		}
		s.Emit(e)
	})
}
