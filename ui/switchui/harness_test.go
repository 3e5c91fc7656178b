package switchui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/universal-atomic-installer/uai/catalog"
	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/installer/host"
	"github.com/universal-atomic-installer/uai/installer/rebase"
	"github.com/universal-atomic-installer/uai/ui/internal/uitest"
)

// t0 is the fixed time of the fake clock and the scripted engine.
var t0 = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

// statusJSON is bootc status of a Fedora Silverblue 44 install (the
// simulator's shape, with fixed values).
const statusJSON = `{"apiVersion":"org.containers.bootc/v1","kind":"BootcHost","metadata":{"name":"host"},"spec":{"bootOrder":"default","image":{"image":"quay.io/fedora/fedora-silverblue:44","transport":"registry"}},"status":{"booted":{"cachedUpdate":null,"composefs":null,"downloadOnly":false,"image":{"architecture":"amd64","image":{"image":"quay.io/fedora/fedora-silverblue:44","transport":"registry"},"imageDigest":"sha256:9a8b7c6d5e4f30211f0e1d2c3b4a59687766554433221100ffeeddccbbaa9988","timestamp":"2026-08-20T21:38:00Z","version":"44.20260820.0"},"incompatible":false,"ostree":{"checksum":"27bf7851f995af1f9d55fa4e6454cca17055243d6527038cf883a8f1d07129e8","deploySerial":0,"stateroot":"default"},"pinned":false,"softRebootCapable":false,"store":"ostreeContainer"},"readOnly":false,"rollback":null,"rollbackQueued":false,"staged":null,"type":"bootcHost","usrOverlay":null}}`

// fakeBackend answers Overview and Plan with the real engine on a canned
// bootc status, and scripts Run and Reboot.
type fakeBackend struct {
	e *rebase.Engine
	// planGate, when set, holds Plan until closed.
	planGate  chan struct{}
	run       func(ctx context.Context, p *rebase.Plan, sink rebase.Sink) (rebase.Result, error)
	rebootErr error

	mu      sync.Mutex
	runs    int
	reboots int
}

func newFake(status string) *fakeBackend {
	rec := &host.Recorder{Respond: func(c host.Command, on host.LineFunc) error {
		if c.Tool == host.Bootc && c.Args[0] == "status" {
			on(host.Stdout, status)
			return nil
		}
		return fmt.Errorf("unexpected %s", c)
	}}
	check := func(_ context.Context, ref, arch string) (rebase.ImageFacts, error) {
		if strings.Contains(ref, "busybox") || strings.Contains(ref, "fedora-iot") {
			return rebase.ImageFacts{Ref: ref, Arch: arch, Bootable: false}, nil
		}
		return rebase.ImageFacts{Ref: ref, Arch: arch, Bootable: true, SizeBytes: 1288490188,
			Digest: "sha256:4f9a1c2b3d4e5f60718293a4b5c6d7e8f90123456789abcdef0123456789abcd"}, nil
	}
	return &fakeBackend{e: &rebase.Engine{Runner: rec, Catalog: catalog.Embedded(), Arch: "amd64", Check: check, PolicyPath: "/nonexistent/policy.json"}}
}

func (f *fakeBackend) Overview(ctx context.Context) (*rebase.Overview, error) {
	return f.e.Overview(ctx)
}

func (f *fakeBackend) Plan(ctx context.Context, ov *rebase.Overview, want string) (*rebase.Plan, error) {
	if f.planGate != nil {
		select {
		case <-f.planGate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return f.e.Plan(ctx, ov, want)
}

func (f *fakeBackend) Run(ctx context.Context, p *rebase.Plan, apply bool, sink rebase.Sink) (rebase.Result, error) {
	f.mu.Lock()
	f.runs++
	run := f.run
	f.mu.Unlock()
	if apply {
		return rebase.Result{}, errors.New("the TUI must not apply: it offers the reboot itself")
	}
	if run == nil {
		run = happySwitch
	}
	return run(ctx, p, sink)
}

func (f *fakeBackend) Reboot(context.Context) (string, error) {
	f.mu.Lock()
	f.reboots++
	f.mu.Unlock()
	if f.rebootErr != nil {
		return "", f.rebootErr
	}
	return "asked logind to reboot (org.freedesktop.login1.Manager.Reboot over D-Bus)", nil
}

// script emits events one second apart, as a steady bootc would.
type script struct {
	sink rebase.Sink
	at   time.Time
}

func (s *script) emit(e rebase.Event) {
	s.at = s.at.Add(time.Second)
	e.V, e.Time = installer.EventVersion, s.at
	s.sink.Emit(e)
}

func (s *script) step(id installer.StepID, title string) {
	s.emit(rebase.Event{Type: installer.EventStepStarted, Step: id, Title: title})
}

func (s *script) ok(id installer.StepID) {
	s.emit(rebase.Event{Type: installer.EventStepFinished, Step: id, Status: installer.StatusOK})
}

func (s *script) log(id installer.StepID, stream, line string) {
	s.emit(rebase.Event{Type: installer.EventStepLog, Step: id, Stream: stream, Line: line})
}

const mb = 1000 * 1000

func layer(name string, done, total int64) rebase.Subtask {
	return rebase.Subtask{Name: name, Done: done == total, Bytes: done, BytesTotal: total}
}

// midPull is a switch 45% through its pull.
func midPull(s *script, p *rebase.Plan) {
	s.step(rebase.StepPull, "Pull "+p.Ref)
	s.log(rebase.StepPull, "cmd", "$ bootc switch --progress-fd 3 "+p.Ref)
	s.log(rebase.StepPull, "stdout", "layers already present: 0; layers needed: 3 (559.6 MB)")
	s.emit(rebase.Event{Type: installer.EventStepProgress, Step: rebase.StepPull, Unit: "bytes", Done: 252 * mb, Total: 560 * mb, Steps: 1, StepsTotal: 3,
		Subtasks: []rebase.Subtask{layer("ostree chunk", 230*mb, 230*mb), layer("ostree chunk", 22*mb, 260*mb)}})
}

// toStaging carries on to the middle of staging.
func toStaging(s *script, p *rebase.Plan) {
	s.emit(rebase.Event{Type: installer.EventStepProgress, Step: rebase.StepPull, Unit: "bytes", Done: 560 * mb, Total: 560 * mb, Steps: 3, StepsTotal: 3})
	s.ok(rebase.StepPull)
	s.log(rebase.StepPull, "stdout", "Fetched layers: 533.68 MiB in 4 seconds (133.42 MiB/s)")
	s.step(rebase.StepImport, "Import the image into the ostree repository")
	s.ok(rebase.StepImport)
	s.step(rebase.StepStage, "Stage the new deployment for the next boot")
	s.emit(rebase.Event{Type: installer.EventStepProgress, Step: rebase.StepStage, Unit: "steps", Done: 1, Total: 3, Subtasks: []rebase.Subtask{
		{Name: "merging", Done: true}, {Name: "deploying"}}})
}

func finishSwitch(s *script, p *rebase.Plan) rebase.Result {
	s.log(rebase.StepStage, "stdout", "Queued for next boot: "+p.Ref)
	s.ok(rebase.StepStage)
	s.step(rebase.StepVerify, "Check the new deployment")
	s.log(rebase.StepVerify, "info", "staged deployment: "+p.Ref+", digest sha256:4f9a1c2b3d4e")
	s.ok(rebase.StepVerify)
	res := rebase.Result{Edition: p.Target.Edition, Image: p.Ref, TargetRef: p.Ref, ImageDigest: "sha256:4f9a1c2b3d4e5f60718293a4b5c6d7e8f90123456789abcdef0123456789abcd",
		From: p.From.Image, FromEdition: p.From.Edition, Method: rebase.MethodBootc, Staged: true, DurationMS: 12000,
		Completed: []installer.StepID{rebase.StepPull, rebase.StepImport, rebase.StepStage, rebase.StepVerify}}
	s.emit(rebase.Event{Type: installer.EventResult, Result: &res})
	return res
}

func happySwitch(_ context.Context, p *rebase.Plan, sink rebase.Sink) (rebase.Result, error) {
	s := &script{sink: sink, at: t0}
	midPull(s, p)
	toStaging(s, p)
	return finishSwitch(s, p), nil
}

// hold runs prefix and waits for release (or ctx) before then.
func hold(prefix func(*script, *rebase.Plan), release <-chan struct{}, then func(*script, *rebase.Plan) (rebase.Result, error)) func(context.Context, *rebase.Plan, rebase.Sink) (rebase.Result, error) {
	return func(ctx context.Context, p *rebase.Plan, sink rebase.Sink) (rebase.Result, error) {
		s := &script{sink: sink, at: t0}
		prefix(s, p)
		select {
		case <-release:
		case <-ctx.Done():
			err := installer.Errorf(installer.ClassAborted, "", "switch to %s cancelled: %w", p.Ref, ctx.Err())
			s.emit(rebase.Event{Type: installer.EventStepFinished, Step: rebase.StepPull, Status: installer.StatusFailed, Error: err.Error()})
			res := rebase.Result{ExitCode: 7, Class: "aborted", Error: err.Error()}
			s.emit(rebase.Event{Type: installer.EventResult, Result: &res})
			return res, err
		}
		return then(s, p)
	}
}

func failingPull(_ context.Context, p *rebase.Plan, sink rebase.Sink) (rebase.Result, error) {
	s := &script{sink: sink, at: t0}
	midPull(s, p)
	s.log(rebase.StepPull, "stderr", "error: Switching: Switching (ostree): Pulling: connection reset by peer")
	err := installer.Errorf(installer.ClassDependency, "check the network and that the image exists, then retry; nothing was staged and the booted system is unchanged",
		"bootc switch to %s failed while pulling: bootc exited with status 1: error: Switching: Switching (ostree): Pulling: connection reset by peer", p.Ref)
	s.emit(rebase.Event{Type: installer.EventStepFinished, Step: rebase.StepPull, Status: installer.StatusFailed, Error: err.Error()})
	res := rebase.Result{ExitCode: 5, Class: "dependency", Error: err.Error(), Edition: p.Target.Edition, Image: p.Ref}
	s.emit(rebase.Event{Type: installer.EventResult, Result: &res})
	return res, err
}

// harness drives the model without a terminal (see uitest.Loop).
type harness struct {
	*uitest.Loop
	t     *testing.T
	fake  *fakeBackend
	clock *uitest.Clock
	m     *Model
}

func newHarness(t *testing.T, f *fakeBackend, o Options, w, h int) *harness {
	t.Helper()
	clock := uitest.NewClock(t0)
	m := newModel(t.Context(), f, o, clock.Now, false)
	hs := &harness{t: t, fake: f, clock: clock, m: m}
	hs.Loop = uitest.NewLoop(t, uitest.Model{
		Update: func(msg tea.Msg) tea.Cmd {
			_, cmd := m.Update(msg)
			return cmd
		},
		Render: m.render,
		Screen: func() string { return m.Screen().String() },
		// On the progress screen a command always waits for the engine.
		Streaming: func() bool { return m.Screen() == ScreenProgress },
	})
	hs.Send(tea.WindowSizeMsg{Width: w, Height: h})
	hs.Run(m.Init())
	hs.Idle()
	return hs
}

func (h *harness) wantScreen(s Screen) {
	h.t.Helper()
	if got := h.m.Screen(); got != s {
		h.t.Fatalf("screen = %s, want %s:\n%s", got, s, h.View())
	}
}

// toTargets opens the target list with the cursor on edition id.
func (h *harness) toTargets(id string) {
	h.t.Helper()
	h.Press("enter")
	h.wantScreen(ScreenTargets)
	for i, t := range h.m.ov.Targets {
		if t.Edition == id {
			for range i {
				h.Press("down")
			}
			return
		}
	}
	h.t.Fatalf("no target %s", id)
}

func (h *harness) toConfirm(id string) {
	h.t.Helper()
	h.toTargets(id)
	h.PressIdle("enter")
	h.wantScreen(ScreenConfirm)
}

func (h *harness) toProgress(id string) {
	h.t.Helper()
	h.toConfirm(id)
	h.Press("y")
	h.Until("the progress screen", func() bool { return h.m.Screen() == ScreenProgress })
}
