// Package progress is the screen that runs the install and shows its steps, progress and log as the engine reports them.
package progress

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/progress"
	tea "charm.land/bubbletea/v2"

	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/ui/bridge"
	"github.com/universal-atomic-installer/uai/ui/common"
)

// LogCap is how many log lines the screen keeps (and hands to the error
// screen); older lines are dropped, and the bridge coalesces to match.
const LogCap = 200

// State is the state of one step.
type State int

// Step states.
const (
	Pending State = iota
	Running
	OK
	Failed
	Skipped
	// NotRun marks a step that never started in a run that has ended.
	NotRun
)

// order is the engine's step order, with the titles shown until the engine
// names a step itself. Listing them up front lets the user see what is
// still to come.
//
// Optional steps run only in some situations (attach: an image file as
// root; unmount: when something is mounted or must be undone), so they
// are listed once they start rather than promised up front.
var order = []struct {
	id       installer.StepID
	title    string
	optional bool
}{
	{installer.StepPreflight, "Check the machine and the plan", false},
	{installer.StepAttach, "Attach the disk image", true},
	{installer.StepPartition, "Partition the disk", false},
	{installer.StepFormat, "Create the filesystems", false},
	{installer.StepMount, "Mount the new root", false},
	{installer.StepBootc, "Install the image with bootc", false},
	{installer.StepVerify, "Verify the installed system", false},
	{installer.StepConfigure, "Configure the installed system", false},
	{installer.StepReceipt, "Write the receipt to the installed system", false},
	{installer.StepUnmount, "Unmount and release the disk", true},
	{installer.StepFinish, "Check the boot entry and finish", true},
}

// rank is a step's position in order; after partition starts, the disk is
// being written and cancelling would leave it half-made.
var rank = func() map[installer.StepID]int {
	r := map[installer.StepID]int{}
	for i, s := range order {
		r[s.id] = i
	}
	return r
}()

var stateNames = [...]string{"pending", "running", "ok", "failed", "skipped", "not-run"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("state(%d)", int(s))
}

// Step is what the screen knows about one engine step.
type Step struct {
	ID        installer.StepID
	Title     string
	State     State
	Reason    string // why it was skipped, or the error it failed with
	Simulated bool
	Started   time.Time
	Finished  time.Time
	Done      int64
	Total     int64
	Unit      string
	// firstAt/firstDone and lastAt are the first and the latest progress
	// samples, for the rate and the time left.
	firstAt   time.Time
	firstDone int64
	lastAt    time.Time
}

// Rate is the step's speed in units per second, once it has run for a
// second; 0 when unknown.
func (s Step) Rate() float64 {
	d := s.lastAt.Sub(s.firstAt)
	if d < time.Second || s.Done <= s.firstDone {
		return 0
	}
	return float64(s.Done-s.firstDone) / d.Seconds()
}

// ETA is the time the step still needs at its rate; ok is false when the
// rate or the total is not known.
func (s Step) ETA() (time.Duration, bool) {
	r := s.Rate()
	if r <= 0 || s.Total <= 0 || s.Done >= s.Total {
		return 0, false
	}
	return time.Duration(float64(s.Total-s.Done) / r * float64(time.Second)), true
}

type logLine struct {
	stream string
	line   string
}

// ring keeps the last len(buf) log lines.
type ring struct {
	buf   []logLine
	start int
	n     int
}

func (r *ring) push(l logLine) {
	if r.n < len(r.buf) {
		r.buf[(r.start+r.n)%len(r.buf)] = l
		r.n++
		return
	}
	r.buf[r.start] = l
	r.start = (r.start + 1) % len(r.buf)
}

// last returns up to k of the newest lines, oldest first.
func (r *ring) last(k int) []logLine {
	k = max(0, min(k, r.n))
	out := make([]logLine, k)
	for i := range k {
		out[i] = r.buf[(r.start+r.n-k+i)%len(r.buf)]
	}
	return out
}

type tickMsg struct{ to *Model }

// Model is the progress screen.
type Model struct {
	common.Common
	plan   *installer.Plan
	bridge *bridge.Bridge
	ctx    context.Context
	cancel context.CancelFunc
	// launch is notStarted until the install command runs; Wait flips it
	// to abandoned first when the program died before that, so the
	// install can no longer start behind the user's back.
	launch atomic.Int32

	steps []*Step
	byID  map[installer.StepID]*Step

	logs    ring
	seen    int // log lines received or dropped, for "N of M"
	showLog bool
	// bar draws the running step's progress. It is rendered with ViewAs,
	// the value the engine last reported, never animated towards it: an
	// animation would be a frame per tick for nothing, and would show a
	// value the engine did not report.
	bar progress.Model

	started          time.Time
	finished         bool
	elapsed          time.Duration
	cancelling       bool
	partitionStarted bool
	result           *installer.Result
}

// New returns the progress screen for a confirmed plan; Init starts the
// install.
func New(c common.Common, p *installer.Plan) *Model {
	ctx, cancel := context.WithCancel(c.Ctx)
	m := &Model{
		Common: c,
		plan:   p,
		bridge: bridge.New(LogCap),
		ctx:    ctx,
		cancel: cancel,
		byID:   map[installer.StepID]*Step{},
		logs:   ring{buf: make([]logLine, LogCap)},
		bar: progress.New(progress.WithFillCharacters('█', '░'), progress.WithColors(c.Styles.Success.GetForeground()),
			progress.WithWidth(40)),
	}
	m.bar.EmptyColor = c.Styles.Muted.GetForeground()
	m.bar.PercentFormat = " %3.0f%%"
	for _, s := range order {
		if s.optional {
			continue
		}
		m.add(s.id, s.title)
	}
	return m
}

// add lists a step in engine order; a step the screen does not know goes
// last.
func (m *Model) add(id installer.StepID, title string) *Step {
	s := &Step{ID: id, Title: title}
	m.byID[id] = s
	at := len(m.steps)
	if r, ok := rank[id]; ok {
		for i, o := range m.steps {
			if ro, ok := rank[o.ID]; !ok || ro > r {
				at = i
				break
			}
		}
	}
	m.steps = slices.Insert(m.steps, at, s)
	return s
}

func (m *Model) step(id installer.StepID) *Step {
	if s, ok := m.byID[id]; ok {
		return s
	}
	title := string(id)
	for _, o := range order {
		if o.id == id {
			title = o.title
		}
	}
	return m.add(id, title)
}

// Init implements common.Component: it starts Backend.Install and the
// command that drains its events.
func (m *Model) Init() tea.Cmd {
	m.started = m.Now()
	b, ctx, p, backend := m.bridge, m.ctx, m.plan, m.Backend
	run := func() tea.Msg {
		if !m.launch.CompareAndSwap(notStarted, launched) {
			return nil
		}
		defer func() {
			// A panic in the engine must still end on the error screen
			// rather than leave the screen waiting forever.
			if r := recover(); r != nil {
				b.Close(fmt.Errorf("the install engine crashed: %v", r))
			}
		}()
		b.Close(backend.Install(ctx, p, b))
		return nil
	}
	cmds := []tea.Cmd{run, b.Next(m.Ctx)}
	if m.Animate {
		cmds = append(cmds, m.tick())
	}
	return tea.Batch(cmds...)
}

func (m *Model) tick() tea.Cmd {
	return tea.Tick(time.Second, func(time.Time) tea.Msg { return tickMsg{to: m} })
}

// SetSize implements common.Component.
func (m *Model) SetSize(w, h int) { m.Common.SetSize(w, h) }

// Capturing implements common.Component.
func (m *Model) Capturing() bool { return false }

const (
	notStarted int32 = iota
	launched
	abandoned
)

// Wait blocks until Backend.Install has returned, or returns at once if it
// never started (and then never will).
func (m *Model) Wait() {
	if m.launch.CompareAndSwap(notStarted, abandoned) {
		return
	}
	<-m.bridge.Done()
}

// Steps returns a copy of the steps as the screen shows them.
func (m *Model) Steps() []Step {
	out := make([]Step, len(m.steps))
	for i, s := range m.steps {
		out[i] = *s
	}
	return out
}

// Logs returns the kept log lines, oldest first.
func (m *Model) Logs() []string {
	ls := m.logs.last(LogCap)
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.line
	}
	return out
}

// LogShown reports whether the log pane is open.
func (m *Model) LogShown() bool { return m.showLog }

// CanCancel reports whether the install may still be stopped safely: only
// before the partition step starts, since after that a stop leaves the
// disk half-written.
func (m *Model) CanCancel() bool { return !m.partitionStarted && !m.finished }

// Cancel stops the install; the screen then waits for the engine to return.
func (m *Model) Cancel() {
	if !m.CanCancel() {
		return
	}
	m.cancelling = true
	m.cancel()
}

// Update implements common.Component.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case bridge.Batch:
		if msg.From != m.bridge {
			return nil
		}
		m.seen += msg.DroppedLogs
		for _, e := range msg.Events {
			m.apply(e)
		}
		if msg.Finished {
			return m.finish(msg.Err)
		}
		return m.bridge.Next(m.Ctx)
	case tickMsg:
		if msg.to != m || m.finished {
			return nil
		}
		return m.tick()
	case tea.KeyPressMsg:
		if key.Matches(msg, m.Keys.ToggleLog) {
			m.showLog = !m.showLog
		}
	}
	return nil
}

func (m *Model) at(e installer.Event) time.Time {
	if e.Time.IsZero() {
		return m.Now()
	}
	return e.Time
}

func (m *Model) apply(e installer.Event) {
	switch e.Type {
	case installer.EventStepStarted:
		s := m.step(e.Step)
		s.State = Running
		if e.Title != "" {
			s.Title = e.Title
		}
		s.Started = m.at(e)
		s.Simulated = s.Simulated || e.Simulated
		if r, ok := rank[e.Step]; ok && r >= rank[installer.StepPartition] {
			m.partitionStarted = true
		}
	case installer.EventStepProgress:
		s := m.step(e.Step)
		if s.State == Pending {
			s.State = Running
			s.Started = m.at(e)
		}
		at := m.at(e)
		if s.firstAt.IsZero() || e.Done < s.Done || e.Unit != s.Unit {
			s.firstAt, s.firstDone = at, e.Done
		}
		s.lastAt = at
		s.Done, s.Total, s.Unit = e.Done, e.Total, e.Unit
		s.Simulated = s.Simulated || e.Simulated
	case installer.EventStepLog:
		m.seen++
		m.logs.push(logLine{stream: e.Stream, line: e.Line})
	case installer.EventStepFinished:
		s := m.step(e.Step)
		s.Finished = m.at(e)
		if s.Started.IsZero() {
			s.Started = s.Finished
		}
		s.Simulated = s.Simulated || e.Simulated
		switch e.Status {
		case installer.StatusOK:
			s.State = OK
		case installer.StatusSkipped:
			s.State = Skipped
			s.Reason = e.Reason
		default:
			s.State = Failed
			s.Reason = e.Error
			if s.Reason == "" {
				s.Reason = e.Reason
			}
		}
	case installer.EventResult:
		if e.Result != nil {
			r := *e.Result
			m.result = &r
		}
	}
}

// finish closes the run and tells the root how it ended.
func (m *Model) finish(err error) tea.Cmd {
	m.finished = true
	m.elapsed = m.Now().Sub(m.started)
	m.cancel()
	var failed *Step
	for _, s := range m.steps {
		switch s.State {
		case Pending:
			s.State = NotRun
		case Running:
			// The engine returned without closing the step: it is where
			// the run stopped.
			if err != nil {
				s.State = Failed
				s.Reason = err.Error()
			} else {
				s.State = OK
			}
		}
		if s.State == Failed && failed == nil {
			failed = s
		}
	}
	fin := common.FinishedMsg{
		Result:    m.Result(err),
		Err:       err,
		Logs:      m.Logs(),
		Elapsed:   m.elapsed,
		Cancelled: m.cancelling,
	}
	if failed != nil {
		fin.Step, fin.StepTitle = failed.ID, failed.Title
	}
	return common.Send(fin)
}

// Result is the run's record: the engine's own result event when it sent
// one, completed from the plan and err where it left gaps.
func (m *Model) Result(err error) installer.Result {
	var r installer.Result
	if m.result != nil {
		r = *m.result
	} else {
		p := m.plan
		r = installer.Result{
			PlanSHA256:  p.SHA256(),
			Edition:     p.Edition.ID,
			Image:       p.Edition.Image,
			ImageDigest: p.Edition.Digest,
			TargetRef:   p.TargetRef,
			Disk:        p.Disk.Path,
			DurationMS:  m.elapsed.Milliseconds(),
			Simulated:   p.Simulated,
		}
		if r.Edition == "" {
			r.Edition = p.Edition.Name
		}
		for _, s := range m.steps {
			if s.State == OK {
				r.Completed = append(r.Completed, s.ID)
			}
		}
	}
	if err != nil {
		if r.ExitCode == 0 {
			r.ExitCode = installer.ExitCode(err)
		}
		if r.Class == "" {
			r.Class = installer.ClassOf(err).String()
		}
		if r.Error == "" {
			r.Error = err.Error()
		}
	}
	return r
}

func (m *Model) elapsedNow() time.Duration {
	if m.finished {
		return m.elapsed
	}
	return m.Now().Sub(m.started)
}

var tags = map[State]string{
	Pending: "[    ]",
	Running: "[ .. ]",
	OK:      "[ ok ]",
	Failed:  "[FAIL]",
	Skipped: "[skip]",
	NotRun:  "[ -- ]",
}

func (m *Model) tag(s State) string {
	st := m.Styles
	t := tags[s]
	switch s {
	case Running:
		return st.StepRunning.Render(t)
	case OK:
		return st.StepOK.Render(t)
	case Failed:
		return st.StepFailed.Render(t)
	case Skipped:
		return st.StepSkipped.Render(t)
	}
	return st.StepPending.Render(t)
}

// fraction is done/total, rounded down to a whole percent so that the bar
// never shows 100% before the engine says it is done.
func fraction(done, total int64) float64 {
	if total <= 0 {
		return 0
	}
	f := float64(max(done, 0)) / float64(total)
	return math.Floor(min(f, 1)*100) / 100
}

func amount(s *Step) string {
	switch s.Unit {
	case "bytes":
		return common.BytesOf(s.Done, s.Total)
	case "steps", "":
		return fmt.Sprintf("%d of %d", s.Done, s.Total)
	}
	return fmt.Sprintf("%d of %d %s", s.Done, s.Total, s.Unit)
}

// stepLines renders the step list.
func (m *Model) stepLines() []string {
	st := m.Styles
	const indent = "       "
	var out []string
	for _, s := range m.steps {
		dur := ""
		switch s.State {
		case Running:
			dur = common.Duration(m.Now().Sub(s.Started))
		case OK, Failed, Skipped:
			dur = common.Duration(s.Finished.Sub(s.Started))
		}
		sim := ""
		if s.Simulated {
			sim = "  " + st.SimBadge.Render("simulated")
		}
		title := s.Title
		switch s.State {
		case Skipped, Failed:
			if s.Reason != "" {
				title += ": " + s.Reason
			}
		case NotRun:
			title += " (not run)"
		}
		tw := max(m.Width-7-len(dur)-2-common.Width(sim), 10)
		title = common.Fit(title, tw)
		switch s.State {
		case Pending, NotRun:
			title = st.Muted.Render(title)
		case Failed:
			title = st.Error.Render(title)
		}
		out = append(out, m.tag(s.State)+" "+title+sim+"  "+st.Muted.Render(dur))
		if s.State == Running && s.Total > 0 {
			text := "  " + amount(s)
			if r := s.Rate(); r > 0 && s.Unit == "bytes" {
				text += ", " + common.Bytes(uint64(r)) + "/s"
			}
			if eta, ok := s.ETA(); ok {
				text += ", " + common.Duration(eta) + " left"
			}
			row := common.BarRow(indent, m.Width, 40, st.Muted.Render(text), func(w int) string {
				m.bar.SetWidth(w)
				return m.bar.ViewAs(fraction(s.Done, s.Total))
			})
			out = append(out, common.Truncate(row, m.Width))
		}
	}
	return out
}

// View implements common.Component.
func (m *Model) View() string {
	st := m.Styles
	verb := "Installing"
	if m.finished {
		verb = "Installed"
	}
	left := st.Title.Render(fmt.Sprintf("%s %s on %s", verb, m.plan.Edition.Name, m.plan.Disk.Path))
	right := st.Muted.Render("elapsed " + common.Duration(m.elapsedNow()))
	title := common.Fit(left, m.Width-common.Width(right)-1) + " " + right

	var status string
	switch {
	case m.cancelling:
		status = st.Warning.Render("Cancelling: waiting for the engine to stop...")
	case m.finished:
		status = ""
	case m.CanCancel():
		status = st.Muted.Render("Nothing has been written yet: ctrl+c cancels.")
	default:
		status = st.Muted.Render(fmt.Sprintf("%s is being written: the install can no longer be cancelled.", m.plan.Disk.Path))
	}

	lines := []string{title, status, ""}
	lines = append(lines, m.stepLines()...)
	if !m.showLog {
		if l := m.logs.last(1); len(l) == 1 {
			lines = append(lines, "", st.Muted.Render(common.Truncate("latest: "+l[0].line, m.Width)))
		}
		return strings.Join(common.Lines(strings.Join(lines, "\n"), m.Height), "\n")
	}
	lines = append(lines, "")
	room := max(m.Height-len(lines)-1, 3)
	shown := m.logs.last(room)
	head := st.Title.Render("Log") + st.Muted.Render(fmt.Sprintf("  last %d of %d lines, l hides it", len(shown), m.seen))
	lines = append(lines, head)
	for _, l := range shown {
		s := common.Truncate("  "+l.line, m.Width)
		switch l.stream {
		case "stderr":
			s = st.Warning.Render(s)
		case "cmd":
			s = st.Code.Render(s)
		}
		lines = append(lines, s)
	}
	return strings.Join(common.Lines(strings.Join(lines, "\n"), m.Height), "\n")
}

// cancelKey is the binding shown for stopping the install; it says when
// stopping is no longer possible, so the key is not a surprise.
func (m *Model) cancelKey() key.Binding {
	b := key.NewBinding(key.WithKeys("ctrl+c", "q"), key.WithHelp("ctrl+c", "cancel"))
	if !m.CanCancel() {
		b.SetHelp("ctrl+c", "cancel (too late now)")
	}
	return b
}

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding {
	return []key.Binding{m.Keys.ToggleLog, m.cancelKey()}
}

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding {
	return [][]key.Binding{{m.Keys.ToggleLog, m.cancelKey()}}
}
