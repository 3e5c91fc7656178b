// Package switchui is the terminal interface of uai switch: Bubble Tea screens for the booted images, the targets, confirmation, progress and the reboot offer, driving the switch engine only through the Backend interface.
package switchui

import (
	"context"
	"errors"
	"fmt"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/installer/rebase"
	"github.com/universal-atomic-installer/uai/ui/common"
	"github.com/universal-atomic-installer/uai/ui/keymap"
	"github.com/universal-atomic-installer/uai/ui/styles"
)

// Backend is what the screens need from the switch engine; a
// *rebase.Engine is one. It is called only from commands, never from
// Update, so the screen never waits for bootc.
type Backend interface {
	Overview(ctx context.Context) (*rebase.Overview, error)
	Plan(ctx context.Context, ov *rebase.Overview, want string) (*rebase.Plan, error)
	Run(ctx context.Context, p *rebase.Plan, apply bool, sink rebase.Sink) (rebase.Result, error)
	Reboot(ctx context.Context) (string, error)
}

// Options change how the screens present themselves.
type Options struct {
	// Demo and Simulated put badges in the header, as in the installer.
	Demo      bool
	Simulated bool
}

// Screen names one screen.
type Screen int

// The screens, in the order the user meets them.
const (
	ScreenLoading Screen = iota
	ScreenCurrent
	ScreenTargets
	ScreenChecking
	ScreenConfirm
	ScreenProgress
	ScreenDone
	ScreenError
)

var screenNames = [...]string{"loading", "current", "targets", "checking", "confirm", "progress", "done", "error"}

func (s Screen) String() string {
	if int(s) < len(screenNames) {
		return screenNames[s]
	}
	return fmt.Sprintf("screen(%d)", int(s))
}

// The smallest terminal the screens are laid out for.
const (
	minWidth  = 40
	minHeight = 12
)

// logCap is how many log lines the progress screen keeps.
const logCap = 200

// Messages from commands. Each carries what it answers, so a late answer
// to a question no longer asked is ignored.
type (
	overviewMsg struct {
		ov  *rebase.Overview
		err error
	}
	planMsg struct {
		want string
		p    *rebase.Plan
		err  error
	}
	rebootMsg struct {
		how string
		err error
	}
	tickMsg struct{}
)

// Model is the whole switch TUI. Its methods take a pointer: Bubble Tea
// only ever uses the newest model, and the run's feed is shared state.
type Model struct {
	ctx     context.Context
	b       Backend
	opts    Options
	st      *styles.Styles
	keys    *keymap.KeyMap
	now     func() time.Time
	animate bool
	help    help.Model

	w, h     int
	screen   Screen
	showHelp bool

	ov      *rebase.Overview
	loadErr error

	cursor    int
	listStart int

	target  rebase.Target
	plan    *rebase.Plan
	planErr error
	scroll  common.Scroll

	run      *runState
	stopping bool // the stop dialog is open

	rebooting bool
	rebooted  string
	rebootErr error

	result   rebase.Result
	finished bool // result holds a switch's outcome
}

// Extra bindings of these screens; the shared ones come from ui/keymap.
var (
	keyReboot  = key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "reboot now"))
	keyConfirm = key.NewBinding(key.WithKeys("y", "Y"), key.WithHelp("y", "switch"))
	keyStop    = key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "stop"))
)

// New returns the TUI, which starts by reading bootc status.
func New(ctx context.Context, b Backend, o Options) *Model {
	return newModel(ctx, b, o, time.Now, true)
}

func newModel(ctx context.Context, b Backend, o Options, now func() time.Time, animate bool) *Model {
	h := help.New()
	st := styles.Default()
	h.Styles = st.Help
	h.ShortSeparator = " · "
	h.FullSeparator = "    "
	h.Ellipsis = "..."
	return &Model{ctx: ctx, b: b, opts: o, st: st, keys: keymap.Default(), now: now, animate: animate, help: h, w: 80, h: 24}
}

// Run shows the TUI until the user leaves and returns the outcome: the
// switch's result, or an exit-0 result saying nothing was switched.
func Run(ctx context.Context, b Backend, o Options) (rebase.Result, error) {
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	m := New(runCtx, b, o)
	p := tea.NewProgram(m, tea.WithContext(runCtx))
	_, err := p.Run()
	// A switch still running is stopped and waited for, so bootc is not
	// left behind when the program goes.
	cancel()
	m.wait()
	res := m.Result()
	if err != nil && !errors.Is(err, tea.ErrInterrupted) && ctx.Err() == nil {
		return res, fmt.Errorf("run the switch screens: %w", err)
	}
	return res, nil
}

// Screen is the screen shown.
func (m *Model) Screen() Screen { return m.screen }

// Result is the outcome so far.
func (m *Model) Result() rebase.Result {
	if m.finished {
		return m.result
	}
	if m.loadErr != nil {
		return rebase.Result{ExitCode: installer.ExitCode(m.loadErr), Class: installer.ClassOf(m.loadErr).String(), Error: m.loadErr.Error(), Simulated: m.opts.Simulated}
	}
	return rebase.Result{Stopped: "left without switching", Simulated: m.opts.Simulated}
}

// Init implements tea.Model.
func (m *Model) Init() tea.Cmd { return m.load() }

func (m *Model) load() tea.Cmd {
	m.screen = ScreenLoading
	b, ctx := m.b, m.ctx
	return func() tea.Msg {
		ov, err := b.Overview(ctx)
		return overviewMsg{ov: ov, err: err}
	}
}

// Update implements tea.Model.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.w, m.h = msg.Width, msg.Height
		return m, nil
	case tea.KeyPressMsg:
		return m, m.key(msg)
	case overviewMsg:
		if m.screen != ScreenLoading {
			return m, nil
		}
		m.ov, m.loadErr = msg.ov, msg.err
		m.cursor, m.listStart = 0, 0
		m.screen = ScreenCurrent
		return m, nil
	case planMsg:
		if m.screen != ScreenChecking || msg.want != m.want() {
			return m, nil
		}
		m.plan, m.planErr = msg.p, msg.err
		m.scroll = common.Scroll{}
		m.screen = ScreenConfirm
		return m, nil
	case batchMsg:
		if m.run == nil || msg.from != m.run.feed {
			return m, nil
		}
		for _, e := range msg.events {
			m.run.apply(e, m.now)
		}
		if msg.finished {
			return m, m.finish(msg.res, msg.err)
		}
		return m, m.run.feed.next(m.ctx)
	case tickMsg:
		if m.screen == ScreenProgress && m.animate {
			return m, tick()
		}
		return m, nil
	case rebootMsg:
		m.rebooting = false
		m.rebooted, m.rebootErr = msg.how, msg.err
		return m, nil
	}
	return m, nil
}

func tick() tea.Cmd {
	return tea.Tick(time.Second, func(time.Time) tea.Msg { return tickMsg{} })
}

// want is the edition (or ref) of the chosen target.
func (m *Model) want() string {
	if m.target.Edition != "" {
		return m.target.Edition
	}
	return m.target.Image
}

func (m *Model) key(k tea.KeyPressMsg) tea.Cmd {
	keys := m.keys
	if m.stopping {
		switch {
		case key.Matches(k, keys.Yes):
			m.stopping = false
			if m.run != nil && !m.run.done {
				m.run.cancel()
				m.run.stopped = true
			}
		case key.Matches(k, keys.No):
			m.stopping = false
		}
		return nil
	}
	if key.Matches(k, keys.Interrupt) {
		if m.screen == ScreenProgress && m.run != nil && !m.run.done {
			m.stopping = true
			return nil
		}
		return tea.Quit
	}
	if key.Matches(k, keys.Help) {
		m.showHelp = !m.showHelp
		return nil
	}
	switch m.screen {
	case ScreenLoading, ScreenChecking:
		if key.Matches(k, keys.Quit) {
			return tea.Quit
		}
	case ScreenCurrent:
		switch {
		case key.Matches(k, keys.Quit):
			return tea.Quit
		case key.Matches(k, keys.Select) && m.ov != nil && len(m.ov.Targets) > 0:
			m.screen = ScreenTargets
		}
	case ScreenTargets:
		return m.targetsKey(k)
	case ScreenConfirm:
		return m.confirmKey(k)
	case ScreenProgress:
		if key.Matches(k, keys.ToggleLog) {
			m.run.showLog = !m.run.showLog
		}
	case ScreenDone:
		switch {
		case key.Matches(k, keyReboot) && m.result.Staged && !m.result.Rebooting && m.rebooted == "" && !m.rebooting:
			m.rebooting, m.rebootErr = true, nil
			b, ctx := m.b, m.ctx
			return func() tea.Msg {
				how, err := b.Reboot(ctx)
				return rebootMsg{how: how, err: err}
			}
		case key.Matches(k, keys.Exit):
			return tea.Quit
		}
	case ScreenError:
		switch {
		case key.Matches(k, keys.Back):
			// The failed switch may have changed what bootc reports.
			return m.load()
		case key.Matches(k, keys.Quit):
			return tea.Quit
		case key.Matches(k, keys.ToggleLog):
			m.run.showLog = !m.run.showLog
		}
	}
	return nil
}

func (m *Model) targetsKey(k tea.KeyPressMsg) tea.Cmd {
	keys := m.keys
	n := len(m.ov.Targets)
	switch {
	case key.Matches(k, keys.Up):
		m.cursor = max(m.cursor-1, 0)
	case key.Matches(k, keys.Down):
		m.cursor = min(m.cursor+1, n-1)
	case key.Matches(k, keys.PageUp):
		m.cursor = max(m.cursor-m.listHeight(), 0)
	case key.Matches(k, keys.PageDown):
		m.cursor = min(m.cursor+m.listHeight(), n-1)
	case key.Matches(k, keys.Back):
		m.screen = ScreenCurrent
	case key.Matches(k, keys.Quit):
		return tea.Quit
	case key.Matches(k, keys.Select):
		t := m.ov.Targets[m.cursor]
		if !t.Available {
			return nil
		}
		m.target, m.plan, m.planErr = t, nil, nil
		m.screen = ScreenChecking
		b, ctx, ov, want := m.b, m.ctx, m.ov, m.want()
		return func() tea.Msg {
			p, err := b.Plan(ctx, ov, want)
			return planMsg{want: want, p: p, err: err}
		}
	}
	return nil
}

func (m *Model) confirmKey(k tea.KeyPressMsg) tea.Cmd {
	keys := m.keys
	switch {
	case key.Matches(k, keys.PageUp):
		m.scroll.By(-m.bodyHeight()/2, m.bodyHeight(), len(m.confirmLines()))
	case key.Matches(k, keys.PageDown):
		m.scroll.By(m.bodyHeight()/2, m.bodyHeight(), len(m.confirmLines()))
	case key.Matches(k, keys.Back), key.Matches(k, keys.No):
		m.screen = ScreenTargets
	case key.Matches(k, keys.Quit):
		return tea.Quit
	case key.Matches(k, keyConfirm) && m.plan != nil:
		return m.start()
	}
	return nil
}

// start runs the confirmed plan.
func (m *Model) start() tea.Cmd {
	ctx, cancel := context.WithCancel(m.ctx)
	rs := newRunState(m.plan, cancel, m.now())
	m.run = rs
	m.screen = ScreenProgress
	b, p, f := m.b, m.plan, rs.feed
	run := func() tea.Msg {
		if !rs.launch.CompareAndSwap(notStarted, launched) {
			return nil
		}
		defer func() {
			// A crash in the engine must still end on the error screen.
			if r := recover(); r != nil {
				f.close(rebase.Result{}, fmt.Errorf("the switch engine crashed: %v", r))
			}
		}()
		res, err := b.Run(ctx, p, false, f)
		f.close(res, err)
		return nil
	}
	cmds := []tea.Cmd{run, f.next(m.ctx)}
	if m.animate {
		cmds = append(cmds, tick())
	}
	return tea.Batch(cmds...)
}

// finish closes the run: the done screen, or the error screen.
func (m *Model) finish(res rebase.Result, err error) tea.Cmd {
	rs := m.run
	rs.done = true
	rs.elapsed = m.now().Sub(rs.started)
	rs.cancel()
	if res.ExitCode == 0 && err != nil {
		res.ExitCode = installer.ExitCode(err)
		res.Class = installer.ClassOf(err).String()
		res.Error = err.Error()
	}
	for _, s := range rs.steps {
		switch s.state {
		case pending:
			s.state = notRun
		case running:
			// The engine returned without closing the step: it is where
			// the run stopped.
			s.state = failed
			if err == nil {
				s.state = ok
			}
		}
	}
	m.result, m.finished = res, true
	m.stopping = false
	if res.ExitCode != 0 {
		if rs.stopped {
			return tea.Quit
		}
		m.screen = ScreenError
		return nil
	}
	m.screen = ScreenDone
	return nil
}

// wait returns once no switch started here is running.
func (m *Model) wait() {
	if m.run == nil {
		return
	}
	<-m.run.closed()
}
