package ui

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"

	"github.com/universal-atomic-installer/uai/installer"
)

// TestResizeKeepsEveryScreenInside resizes each screen through small, odd
// and large terminals: every frame must fill the terminal exactly, and the
// screen's state must survive.
func TestResizeKeepsEveryScreenInside(t *testing.T) {
	sizes := [][2]int{{80, 24}, {120, 40}, {60, 16}, {40, 12}, {57, 13}, {200, 60}, {30, 8}, {80, 24}}
	states := []struct {
		name   string
		fake   func(*fakeBackend)
		drive  func(h *harness)
		screen Screen
	}{
		{name: "welcome", drive: func(h *harness) {}, screen: ScreenWelcome},
		{name: "welcome picker", drive: func(h *harness) {
			h.Press("up", "up", "enter")
			h.Type("en")
		}, screen: ScreenWelcome},
		{name: "network with a passphrase", fake: (*fakeBackend).offline, drive: func(h *harness) { h.typePassphrase("secret") }, screen: ScreenNetwork},
		{name: "edition filtered", drive: func(h *harness) {
			h.toEdition()
			h.Press("/")
			h.Type("blue")
			h.Idle()
		}, screen: ScreenEdition},
		{name: "edition custom image checked", fake: customOK, drive: func(h *harness) {
			h.typeCustomImage("registry.example.com/team/os:1")
			h.PressIdle("enter")
		}, screen: ScreenEdition},
		{name: "disk on a refused disk", drive: func(h *harness) {
			h.toDisk()
			h.PressIdle("down", "down", "enter")
		}, screen: ScreenDisk},
		{name: "storage with encryption", drive: func(h *harness) {
			h.toStorage("nvme1n1")
			h.Press("up", "space", "tab")
			h.Type("abc")
		}, screen: ScreenStorage},
		{name: "accounts with an error", drive: func(h *harness) {
			h.typeUser("alex")
			h.PressIdle("tab", "tab", "tab", "tab", "tab", "enter")
		}, screen: ScreenAccounts},
		{name: "summary half typed", drive: func(h *harness) {
			h.toSummary("sdb")
			h.Type("sd")
			h.Press("pgdown")
		}, screen: ScreenSummary},
		{name: "progress with bytes and time left", fake: func(f *fakeBackend) {
			f.next = make(chan struct{})
			f.install = etaInstall(f.next)
		}, drive: func(h *harness) {
			h.toProgress()
			h.Until("bootc at 45%", func() bool { return strings.Contains(h.View(), "45%") })
			close(h.fake.next)
			h.Until("bootc at 75%", func() bool { return strings.Contains(h.View(), "75%") })
		}, screen: ScreenProgress},
		{name: "progress with log", fake: hold(upToBootc), drive: func(h *harness) {
			h.toProgress()
			h.Until("bootc running", func() bool { return h.stepState(installer.StepBootc) == "running" })
			h.Press("l", "?")
		}, screen: ScreenProgress},
		{name: "quit dialog", drive: func(h *harness) {
			h.toDisk()
			h.Press("q")
		}, screen: ScreenDisk},
		{name: "done", drive: (*harness).toDone, screen: ScreenDone},
		{name: "error", fake: func(f *fakeBackend) { f.install = failingInstall }, drive: (*harness).toError, screen: ScreenError},
	}
	for _, st := range states {
		t.Run(st.name, func(t *testing.T) {
			f := newFake()
			if st.fake != nil {
				st.fake(f)
			}
			h := newHarness(t, f, Options{Demo: true, Simulated: true}, 80, 24)
			st.drive(h)
			before := h.View()
			for _, s := range sizes {
				h.Send(tea.WindowSizeMsg{Width: s[0], Height: s[1]})
				checkLayout(t, h, s[0], s[1])
				h.wantScreen(st.screen)
			}
			if after := h.View(); after != before {
				t.Errorf("back at 80x24 the screen changed:\n--- before\n%s\n--- after\n%s", before, after)
			}
		})
	}
}

var sgr = regexp.MustCompile(`\x1b\[([0-9;:]*)m`)

// colourSGR returns the first SGR sequence in s that sets a colour
// (foreground 30-39 and 90-97, background 40-49 and 100-107), or "".
func colourSGR(s string) string {
	for _, m := range sgr.FindAllStringSubmatch(s, -1) {
		for _, p := range strings.FieldsFunc(m[1], func(r rune) bool { return r == ';' || r == ':' }) {
			n, err := strconv.Atoi(p)
			if err != nil {
				continue
			}
			if (n >= 30 && n <= 49) || (n >= 90 && n <= 107) {
				return fmt.Sprintf("%q", m[0])
			}
		}
	}
	return ""
}

// TestNoColor renders through the profile NO_COLOR selects: no colour may
// survive, and every state must still be told apart by text alone.
func TestNoColor(t *testing.T) {
	p := colorprofile.Env([]string{"TERM=xterm-256color", "NO_COLOR=1"})
	if p > colorprofile.Ascii {
		t.Fatalf("NO_COLOR gives profile %v, want at most Ascii", p)
	}
	h := newHarness(t, newFake(), Options{Demo: true}, 80, 24)
	h.toDisk()
	h.PressIdle("down", "down")

	raw := h.m.render()
	if colourSGR(raw) == "" {
		t.Fatal("the screen has no colour to take away; the test proves nothing")
	}
	var buf bytes.Buffer
	w := &colorprofile.Writer{Forward: &buf, Profile: p}
	if _, err := w.WriteString(raw); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	text := ansi.Strip(out)
	if c := colourSGR(out); c != "" {
		t.Errorf("colour left under NO_COLOR: %s", c)
	}
	for _, marker := range []string{"> /dev/nvme0n1", "x mounted at /", "x too small: needs 10 GiB", "[DEMO]"} {
		if !strings.Contains(text, marker) {
			t.Errorf("without colour the screen lacks %q", marker)
		}
	}
}
