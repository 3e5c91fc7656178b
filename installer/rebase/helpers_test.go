package rebase

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/universal-atomic-installer/uai/catalog"
	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/installer/bootc/sim"
	"github.com/universal-atomic-installer/uai/installer/host"
)

// t0 is the fixed time of the tests' clocks.
var t0 = time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)

// simRunner runs bootc as the strict simulator, in this process: the
// same code the demo and the fake bootc binary run, with the progress
// pipe handed over exactly as a child process gets it (ExtraFiles[0] is
// fd 3). Other tools are answered by other, when set.
type simRunner struct {
	mu    sync.Mutex
	knobs map[string]string
	state string
	// version is the bootc release to simulate ("" = the default).
	version string
	other   func(c host.Command, on host.LineFunc) error
	ran     []string
}

func (s *simRunner) Run(ctx context.Context, c host.Command, on host.LineFunc) error {
	s.mu.Lock()
	s.ran = append(s.ran, c.String())
	s.mu.Unlock()
	if c.Tool != host.Bootc {
		if s.other != nil {
			return s.other(c, on)
		}
		return &host.NotFoundError{Tool: c.Tool, Path: "PATH"}
	}
	env := map[string]string{}
	for k, v := range s.knobs {
		env[k] = v
	}
	for _, kv := range c.Env {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	out := &lineWriter{stream: host.Stdout, on: on}
	errw := &lineWriter{stream: host.Stderr, on: on}
	code := sim.Main("bootc", c.Args, sim.Env{
		Stdout: out, Stderr: errw,
		Getuid:   func() int { return 0 },
		Version:  s.version,
		Now:      func() time.Time { return t0 },
		Getenv:   func(k string) string { return env[k] },
		StateDir: s.state,
		Done:     ctx.Done(),
		OpenFD: func(fd int) (io.WriteCloser, error) {
			if i := fd - 3; i >= 0 && i < len(c.ExtraFiles) {
				return c.ExtraFiles[i], nil
			}
			return nil, errors.New("Bad file descriptor (os error 9)")
		},
	})
	out.flush()
	errw.flush()
	if code != 0 {
		return &host.ExitError{Command: "bootc", Code: code, Stderr: errw.all.String()}
	}
	return nil
}

func (s *simRunner) commands() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.ran...)
}

// lineWriter turns writes into LineFunc calls, as host.Exec does.
type lineWriter struct {
	stream host.Stream
	on     host.LineFunc
	buf    bytes.Buffer
	all    bytes.Buffer
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.all.Write(p)
	w.buf.Write(p)
	for {
		line, err := w.buf.ReadString('\n')
		if err != nil {
			w.buf.WriteString(line)
			return len(p), nil
		}
		if w.on != nil {
			w.on(w.stream, strings.TrimSuffix(line, "\n"))
		}
	}
}

func (w *lineWriter) flush() {
	if w.buf.Len() > 0 && w.on != nil {
		w.on(w.stream, w.buf.String())
	}
	w.buf.Reset()
}

// seeded is a simulated host booted from image, and an engine on it.
func seeded(t *testing.T, image string) (*Engine, *simRunner) {
	t.Helper()
	r := &simRunner{state: t.TempDir(), knobs: map[string]string{}}
	if err := sim.SeedBootedHost(r.state, image); err != nil {
		t.Fatal(err)
	}
	clock := t0
	var mu sync.Mutex
	e := &Engine{
		Runner:     r,
		Catalog:    catalog.Embedded(),
		Arch:       "amd64",
		PolicyPath: filepath.Join(t.TempDir(), "no-policy.json"),
		Check:      simCheck,
		Now: func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			clock = clock.Add(10 * time.Millisecond)
			return clock
		},
	}
	return e, r
}

// simCheck answers like a registry for every image the simulator knows:
// bootable, built for the machine, the simulator's digest.
func simCheck(_ context.Context, ref, arch string) (ImageFacts, error) {
	return ImageFacts{Ref: ref, Digest: sim.ImageDigest(ref), Arch: arch, SizeBytes: 700 << 20, Bootable: true}, nil
}

// statusRunner answers bootc status with a fixture and records the rest.
func statusRunner(t *testing.T, fixture string) *host.Recorder {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "bootc", "testdata", "status", fixture+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return &host.Recorder{Respond: func(c host.Command, on host.LineFunc) error {
		if c.Tool == host.Bootc && len(c.Args) > 0 && c.Args[0] == "status" {
			on(host.Stdout, string(data))
			return nil
		}
		return fmt.Errorf("unexpected command %s", c)
	}}
}

// stepLine renders a step event compactly: "started pull", "ok pull".
func stepLines(evs []Event) []string {
	var out []string
	for _, e := range evs {
		switch e.Type {
		case installer.EventStepStarted:
			out = append(out, "started "+string(e.Step))
		case installer.EventStepFinished:
			out = append(out, string(e.Status)+" "+string(e.Step))
		case EventHost, EventTarget, installer.EventResult:
			out = append(out, string(e.Type))
		}
	}
	return out
}

func lastResult(t *testing.T, evs []Event) Result {
	t.Helper()
	if len(evs) == 0 || evs[len(evs)-1].Type != installer.EventResult {
		t.Fatalf("the events do not end with a result: %v", stepLines(evs))
	}
	for _, e := range evs[:len(evs)-1] {
		if e.Type == installer.EventResult {
			t.Fatal("more than one result record")
		}
	}
	return *evs[len(evs)-1].Result
}

func logs(evs []Event, step installer.StepID) string {
	var b strings.Builder
	for _, e := range evs {
		if e.Type == installer.EventStepLog && e.Step == step {
			b.WriteString(e.Stream + ": " + e.Line + "\n")
		}
	}
	return b.String()
}

func warningCodes(ws []Warning) string {
	var out []string
	for _, w := range ws {
		out = append(out, w.Code)
	}
	return strings.Join(out, ",")
}
