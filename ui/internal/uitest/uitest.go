// Package uitest is what the TUI packages' tests share: a loop that drives
// a Bubble Tea model without a terminal, key presses by name, a clock the
// tests move and golden-file comparison. Being internal to ui, only the
// front-ends' tests can import it.
package uitest

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	_ "github.com/charmbracelet/x/exp/golden" // registers the -update flag that Golden obeys
)

// Model is how a Loop reaches the model it drives.
type Model struct {
	// Update hands the model a message and returns its command.
	Update func(tea.Msg) tea.Cmd
	// Render draws the model, styles and all.
	Render func() string
	// Screen names the screen the model shows, for failure messages.
	Screen func() string
	// Streaming reports that every command now waits for the engine's next
	// events, so Idle would never settle: it returns at once instead.
	Streaming func() bool
	// Parked, when set, counts commands a test holds at a gate: Idle does
	// not wait for them.
	Parked func() int64
}

// Loop feeds messages to a model's Update, runs the commands it returns on
// goroutines (as Bubble Tea does) and feeds their messages back.
type Loop struct {
	// Quit is set once a command asked the program to quit.
	Quit bool

	t       testing.TB
	m       Model
	msgs    chan tea.Msg
	pending atomic.Int64
}

// NewLoop drives m for t.
func NewLoop(t testing.TB, m Model) *Loop {
	return &Loop{t: t, m: m, msgs: make(chan tea.Msg, 4096)}
}

// Run runs cmd on a goroutine and queues its message.
func (l *Loop) Run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	l.pending.Add(1)
	go func() {
		defer l.pending.Add(-1)
		if msg := cmd(); msg != nil {
			l.msgs <- msg
		}
	}()
}

// Send hands msg to the model, as the program would: a batch runs its
// commands and a quit marks the loop done.
func (l *Loop) Send(msg tea.Msg) {
	switch msg := msg.(type) {
	case tea.BatchMsg:
		for _, c := range msg {
			l.Run(c)
		}
		return
	case tea.QuitMsg:
		l.Quit = true
		return
	}
	l.Run(l.m.Update(msg))
}

// Next waits for the next queued message.
func (l *Loop) Next() tea.Msg { return <-l.msgs }

// Press sends keys by name ("enter", "ctrl+c") or as text, one rune each.
func (l *Loop) Press(keys ...string) {
	for _, k := range keys {
		l.Send(Key(k))
	}
}

// PressIdle presses keys, then processes messages until the model is
// idle (see Idle).
func (l *Loop) PressIdle(keys ...string) {
	l.t.Helper()
	l.Press(keys...)
	l.Idle()
}

// Type sends each rune of s as a key press.
func (l *Loop) Type(s string) {
	for _, r := range s {
		l.Send(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

// Idle processes messages until no command is running and none is queued,
// or until the model streams: from then on a command always waits for the
// engine's next events, so use Until instead.
func (l *Loop) Idle() {
	l.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !l.m.Streaming() {
		select {
		case msg := <-l.msgs:
			l.Send(msg)
			continue
		default:
		}
		if l.pending.Load()-l.parked() == 0 && len(l.msgs) == 0 {
			return
		}
		if time.Now().After(deadline) {
			l.t.Fatalf("model did not settle; on screen %s:\n%s", l.m.Screen(), l.View())
		}
		select {
		case msg := <-l.msgs:
			l.Send(msg)
		case <-time.After(time.Millisecond):
		}
	}
}

func (l *Loop) parked() int64 {
	if l.m.Parked == nil {
		return 0
	}
	return l.m.Parked()
}

// Until processes messages until cond holds.
func (l *Loop) Until(what string, cond func() bool) {
	l.t.Helper()
	deadline := time.After(10 * time.Second)
	for !cond() {
		select {
		case msg := <-l.msgs:
			l.Send(msg)
		case <-deadline:
			l.t.Fatalf("waited in vain for %s; on screen %s:\n%s", what, l.m.Screen(), l.View())
		}
	}
}

// View is the model's drawing as plain text.
func (l *Loop) View() string { return ansi.Strip(l.m.Render()) }

// WantView checks that the view shows each of subs.
func (l *Loop) WantView(subs ...string) {
	l.t.Helper()
	v := l.View()
	for _, s := range subs {
		if !strings.Contains(v, s) {
			l.t.Errorf("view lacks %q:\n%s", s, v)
		}
	}
}

// WantNoView checks that the view shows none of subs.
func (l *Loop) WantNoView(subs ...string) {
	l.t.Helper()
	v := l.View()
	for _, s := range subs {
		if strings.Contains(v, s) {
			l.t.Errorf("view has %q:\n%s", s, v)
		}
	}
}

var namedKeys = map[string]tea.KeyPressMsg{
	"enter":     {Code: tea.KeyEnter},
	"esc":       {Code: tea.KeyEscape},
	"up":        {Code: tea.KeyUp},
	"down":      {Code: tea.KeyDown},
	"pgup":      {Code: tea.KeyPgUp},
	"pgdown":    {Code: tea.KeyPgDown},
	"backspace": {Code: tea.KeyBackspace},
	"tab":       {Code: tea.KeyTab},
	"shift+tab": {Code: tea.KeyTab, Mod: tea.ModShift},
	"left":      {Code: tea.KeyLeft},
	"right":     {Code: tea.KeyRight},
	"space":     {Code: tea.KeySpace, Text: " "},
	"ctrl+c":    {Code: 'c', Mod: tea.ModCtrl},
	"ctrl+u":    {Code: 'u', Mod: tea.ModCtrl},
	"ctrl+r":    {Code: 'r', Mod: tea.ModCtrl},
}

// Key is the press of the key named k, or of k itself when it is a
// single rune; it panics on any other name.
func Key(k string) tea.KeyPressMsg {
	if msg, ok := namedKeys[k]; ok {
		return msg
	}
	r := []rune(k)
	if len(r) != 1 {
		panic("uitest.Key: unknown key " + k)
	}
	return tea.KeyPressMsg{Code: r[0], Text: k}
}

// Clock is the screens' clock; tests move it.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock is a clock stopped at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now is the time the clock was last set to.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// Golden compares got with testdata/<name>.golden in the package under
// test; with -update it rewrites the file first.
func Golden(t testing.TB, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if f := flag.Lookup("update"); f != nil && f.Value.String() == "true" {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update in its package to create it)", err)
	}
	if string(want) != got {
		t.Errorf("view differs from %s (go test -update in its package rewrites it)\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}
