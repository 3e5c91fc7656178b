package field

import (
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

func press(m *Model, keys ...tea.KeyPressMsg) (consumed []bool) {
	for _, k := range keys {
		consumed = append(consumed, m.Update(k))
	}
	return consumed
}

func text(s string) tea.KeyPressMsg { return tea.KeyPressMsg{Code: []rune(s)[0], Text: s} }

func TestField(t *testing.T) {
	cases := []struct {
		name     string
		focused  bool
		limit    int
		keys     []tea.KeyPressMsg
		want     string
		consumed bool // of the last key
	}{
		{name: "typing", focused: true, keys: []tea.KeyPressMsg{text("s"), text("d"), text("b")}, want: "sdb", consumed: true},
		{name: "shifted letters", focused: true, keys: []tea.KeyPressMsg{{Code: 'a', Text: "A", Mod: tea.ModShift}}, want: "A", consumed: true},
		{name: "backspace", focused: true, keys: []tea.KeyPressMsg{text("a"), text("b"), {Code: tea.KeyBackspace}}, want: "a", consumed: true},
		{name: "backspace on empty", focused: true, keys: []tea.KeyPressMsg{{Code: tea.KeyBackspace}}, want: "", consumed: true},
		{name: "ctrl+u clears", focused: true, keys: []tea.KeyPressMsg{text("a"), {Code: 'u', Mod: tea.ModCtrl}}, want: "", consumed: true},
		{name: "ctrl+w deletes a word", focused: true, keys: []tea.KeyPressMsg{text("a"), text(" "), text("b"), text("c"), {Code: 'w', Mod: tea.ModCtrl}}, want: "a ", consumed: true},
		{name: "ctrl+c is not text", focused: true, keys: []tea.KeyPressMsg{{Code: 'c', Mod: tea.ModCtrl}}, want: "", consumed: false},
		{name: "alt+x is not text", focused: true, keys: []tea.KeyPressMsg{{Code: 'x', Text: "x", Mod: tea.ModAlt}}, want: "", consumed: false},
		{name: "enter is not text", focused: true, keys: []tea.KeyPressMsg{{Code: tea.KeyEnter}}, want: "", consumed: false},
		{name: "limit", focused: true, limit: 2, keys: []tea.KeyPressMsg{text("a"), text("b"), text("c")}, want: "ab", consumed: true},
		{name: "blurred ignores keys", focused: false, keys: []tea.KeyPressMsg{text("a")}, want: "", consumed: false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := New("> ")
			m.CharLimit = tc.limit
			if tc.focused {
				m.Focus()
			}
			c := press(&m, tc.keys...)
			if m.Value() != tc.want {
				t.Errorf("value = %q, want %q", m.Value(), tc.want)
			}
			if c[len(c)-1] != tc.consumed {
				t.Errorf("last key consumed = %v, want %v", c[len(c)-1], tc.consumed)
			}
		})
	}
}

func TestFieldView(t *testing.T) {
	m := New("> ")
	m.Placeholder = "type here"
	if got := ansi.Strip(m.View()); got != "> type here" {
		t.Errorf("blurred empty view = %q", got)
	}
	m.Focus()
	m.SetValue("sd")
	if got := ansi.Strip(m.View()); got != "> sd " {
		t.Errorf("focused view = %q, want the text and a cursor cell", got)
	}
	if v := m.View(); v == ansi.Strip(v) {
		t.Error("the cursor is not drawn in reverse video")
	}
}
