// Package form lays out a screen's questions as fields: choices, check boxes, text and secret inputs, and a button, moved between with tab and the arrows.
package form

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/universal-atomic-installer/uai/ui/common"
)

// Kind is what a field asks.
type Kind int

// The kinds of field.
const (
	Choice Kind = iota
	Check
	Text
	Button
	// Action is a row that opens something else (a picker) on enter.
	Action
)

// Option is one value of a Choice; Disabled says why it cannot be chosen.
type Option struct {
	Value    string
	Label    string
	Disabled string
}

// Field is one question of a form.
type Field struct {
	Key   string
	Label string
	Kind  Kind
	// Options and Chosen are a Choice's; Inline lays the options out on
	// one line instead of one per line.
	Options []Option
	Chosen  int
	Inline  bool
	// Checked is a Check's value.
	Checked bool
	// Input is a Text field's editor (NewInput or NewSecret of Common).
	Input textinput.Model
	// Value is shown for an Action (the current choice).
	Value string
	// Hidden fields are neither shown nor focused.
	Hidden bool
	// Hint is a muted line under the field; Error, in red, replaces it.
	Hint  string
	Error string
}

// Current is a Choice's chosen value.
func (f *Field) Current() string {
	if f.Chosen < 0 || f.Chosen >= len(f.Options) {
		return ""
	}
	return f.Options[f.Chosen].Value
}

// Choose selects the option with value v, if there is one.
func (f *Field) Choose(v string) {
	for i, o := range f.Options {
		if o.Value == v {
			f.Chosen = i
		}
	}
}

// Model is a form.
type Model struct {
	com    common.Common
	Fields []*Field
	focus  int
	// LabelWidth is the width of the label column.
	LabelWidth int
}

// New returns a form over fields, focused on the first visible one.
func New(c common.Common, labelWidth int, fields ...*Field) *Model {
	f := &Model{com: c, Fields: fields, LabelWidth: labelWidth}
	f.focus = -1
	f.move(1)
	return f
}

// Get returns the field with key k; a missing key is a programming error.
func (m *Model) Get(k string) *Field {
	for _, f := range m.Fields {
		if f.Key == k {
			return f
		}
	}
	panic("form: no field " + k)
}

// Focused is the field with the keyboard.
func (m *Model) Focused() *Field {
	if m.focus < 0 || m.focus >= len(m.Fields) {
		return nil
	}
	return m.Fields[m.focus]
}

// FocusKey moves the keyboard to the field with key k.
func (m *Model) FocusKey(k string) {
	for i, f := range m.Fields {
		if f.Key == k && !f.Hidden {
			m.setFocus(i)
		}
	}
}

// Capturing reports that a text field has the keyboard.
func (m *Model) Capturing() bool {
	f := m.Focused()
	return f != nil && f.Kind == Text
}

func (m *Model) setFocus(i int) {
	if f := m.Focused(); f != nil && f.Kind == Text {
		f.Input.Blur()
	}
	m.focus = i
	if f := m.Focused(); f != nil && f.Kind == Text {
		f.Input.Focus()
		f.Input.CursorEnd()
	}
}

// move focuses the next visible field in direction dir, staying put at
// either end.
func (m *Model) move(dir int) {
	for i := m.focus + dir; i >= 0 && i < len(m.Fields); i += dir {
		if !m.Fields[i].Hidden {
			m.setFocus(i)
			return
		}
	}
	if m.focus < 0 || m.Focused().Hidden {
		// The focused field was hidden: find any visible one.
		for i, f := range m.Fields {
			if !f.Hidden {
				m.setFocus(i)
				return
			}
		}
	}
}

// Refocus moves off a field that became hidden.
func (m *Model) Refocus() {
	if f := m.Focused(); f == nil || f.Hidden {
		m.move(-1)
		if f := m.Focused(); f == nil || f.Hidden {
			m.move(1)
		}
	}
}

// Result of a key.
type Result int

// What a key did.
const (
	// Nothing: the key was not the form's.
	Nothing Result = iota
	// Moved: the focus moved or a value changed.
	Changed
	// Submitted: enter on the button.
	Submitted
	// Activated: enter on an Action field.
	Activated
)

// Update handles a key press.
func (m *Model) Update(msg tea.Msg) Result {
	k, ok := msg.(tea.KeyPressMsg)
	f := m.Focused()
	if !ok || f == nil {
		return Nothing
	}
	keys := m.com.Keys
	switch {
	case key.Matches(k, keys.Continue):
		switch f.Kind {
		case Button:
			return Submitted
		case Action:
			return Activated
		}
		m.move(1)
		return Changed
	case key.Matches(k, keys.NextField):
		m.move(1)
		return Changed
	case key.Matches(k, keys.PrevField):
		m.move(-1)
		return Changed
	}
	switch f.Kind {
	case Choice:
		switch {
		case key.Matches(k, keys.Left):
			m.cycle(f, -1)
		case key.Matches(k, keys.Right), key.Matches(k, keys.Toggle):
			m.cycle(f, 1)
		default:
			return Nothing
		}
		f.Error = ""
		return Changed
	case Check:
		if key.Matches(k, keys.Toggle) || key.Matches(k, keys.Left) || key.Matches(k, keys.Right) {
			f.Checked = !f.Checked
			f.Error = ""
			return Changed
		}
	case Text:
		before := f.Input.Value()
		f.Input, _ = f.Input.Update(k)
		if f.Input.Value() != before {
			f.Error = ""
		}
		return Changed
	}
	return Nothing
}

// cycle moves a choice to the next enabled option.
func (m *Model) cycle(f *Field, dir int) {
	n := len(f.Options)
	for step := 1; step < n; step++ {
		i := ((f.Chosen+dir*step)%n + n) % n
		if f.Options[i].Disabled == "" {
			f.Chosen = i
			return
		}
	}
}

// View renders the visible fields in width cells.
func (m *Model) View(width int) []string {
	st := m.com.Styles
	lw := m.LabelWidth
	vw := max(width-lw-2, 10)
	var out []string
	for i, f := range m.Fields {
		if f.Hidden {
			continue
		}
		focused := i == m.focus
		marker := "  "
		label := st.Label.Render(common.Pad(f.Label, lw))
		if focused {
			marker = st.Cursor.Render("> ")
			label = st.Title.Render(common.Pad(f.Label, lw))
		}
		pad := strings.Repeat(" ", lw+2)
		var rows []string
		switch f.Kind {
		case Choice:
			rows = m.choice(f, focused, vw)
		case Check:
			box := "[ ] "
			if f.Checked {
				box = "[x] "
			}
			rows = []string{box + f.Options[0].Label}
			if focused {
				rows[0] = st.Selected.Render(rows[0])
			}
		case Text:
			f.Input.SetWidth(max(vw-common.Width(f.Input.Prompt)-1, 4))
			rows = []string{f.Input.View()}
		case Button:
			b := "[ " + f.Label + " ]"
			if focused {
				b = st.Selected.Render(b)
			}
			out = append(out, common.Truncate(marker+pad[2:]+b, width))
			rows = nil
		case Action:
			v := f.Value
			if focused {
				v = st.Selected.Render(v) + st.Muted.Render("  enter changes")
			}
			rows = []string{v}
		}
		for j, r := range rows {
			if j == 0 {
				out = append(out, common.Truncate(marker+label+r, width))
			} else {
				out = append(out, common.Truncate(pad+r, width))
			}
		}
		switch {
		case f.Error != "":
			for _, l := range common.Wrap("x "+f.Error, vw) {
				out = append(out, pad+st.Error.Render(l))
			}
		case f.Hint != "":
			for _, l := range common.Wrap(f.Hint, vw) {
				out = append(out, pad+st.Muted.Render(l))
			}
		}
	}
	return out
}

func (m *Model) choice(f *Field, focused bool, width int) []string {
	st := m.com.Styles
	render := func(i int, o Option) string {
		mark := "( ) "
		if i == f.Chosen {
			mark = "(*) "
		}
		s := mark + o.Label
		switch {
		case o.Disabled != "":
			return st.Disabled.Render(s + ": " + o.Disabled)
		case i == f.Chosen && focused:
			return st.Selected.Render(s)
		}
		return s
	}
	if f.Inline {
		parts := make([]string, len(f.Options))
		for i, o := range f.Options {
			parts[i] = render(i, o)
		}
		if line := strings.Join(parts, "  "); common.Width(line) <= width {
			return []string{line}
		}
	}
	rows := make([]string, len(f.Options))
	for i, o := range f.Options {
		rows[i] = render(i, o)
	}
	return rows
}

// Help is the form's keys for the focused field.
func (m *Model) Help() []key.Binding {
	k := m.com.Keys
	f := m.Focused()
	out := []key.Binding{k.NextField, k.PrevField}
	if f == nil {
		return out
	}
	switch f.Kind {
	case Choice:
		out = append(out, k.Left, k.Right)
	case Check:
		out = append(out, k.Toggle)
	case Action:
		b := k.Select
		b.SetHelp("enter", "change")
		out = append(out, b)
	case Button:
		out = append(out, k.Continue)
	}
	return out
}
