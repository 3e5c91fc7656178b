// Package field is a one-line text field for short answers: a filter, or the disk name typed to confirm a wipe.
package field

import (
	"strings"
	"unicode"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
)

// Model is a single-line text field whose cursor stays at the end. It is
// deliberately smaller than bubbles' textinput (which pulls in a clipboard
// module): the answers typed here are a few words, edited with backspace.
type Model struct {
	Prompt      string
	Placeholder string
	// CharLimit caps the value's length in runes; 0 means no limit.
	CharLimit int

	PromptStyle      lipgloss.Style
	TextStyle        lipgloss.Style
	PlaceholderStyle lipgloss.Style
	CursorStyle      lipgloss.Style

	value   []rune
	focused bool
}

// New returns an empty, unfocused field.
func New(prompt string) Model {
	return Model{
		Prompt:      prompt,
		CursorStyle: lipgloss.NewStyle().Reverse(true),
	}
}

// Value is the text typed so far.
func (m Model) Value() string { return string(m.value) }

// SetValue replaces the text.
func (m *Model) SetValue(s string) { m.value = []rune(s) }

// Reset clears the text.
func (m *Model) Reset() { m.value = nil }

// Focus gives the field the keyboard.
func (m *Model) Focus() { m.focused = true }

// Blur takes the keyboard away.
func (m *Model) Blur() { m.focused = false }

// Focused reports whether the field has the keyboard.
func (m Model) Focused() bool { return m.focused }

// Update edits the text for key presses while focused and reports whether
// the key was consumed.
func (m *Model) Update(msg tea.Msg) bool {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok || !m.focused {
		return false
	}
	switch k.String() {
	case "backspace", "ctrl+h":
		if len(m.value) > 0 {
			m.value = m.value[:len(m.value)-1]
		}
		return true
	case "ctrl+u":
		m.value = nil
		return true
	case "ctrl+w":
		s := strings.TrimRightFunc(string(m.value), unicode.IsSpace)
		i := strings.LastIndexFunc(s, unicode.IsSpace)
		m.value = []rune(s[:i+1])
		return true
	}
	if k.Text == "" || k.Mod&^tea.ModShift != 0 {
		return false
	}
	for _, r := range k.Text {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	add := []rune(k.Text)
	if m.CharLimit > 0 && len(m.value)+len(add) > m.CharLimit {
		return true
	}
	m.value = append(m.value, add...)
	return true
}

// View renders the prompt, the text and, when focused, a block cursor.
func (m Model) View() string {
	var b strings.Builder
	b.WriteString(m.PromptStyle.Render(m.Prompt))
	if len(m.value) == 0 && m.Placeholder != "" && !m.focused {
		b.WriteString(m.PlaceholderStyle.Render(m.Placeholder))
		return b.String()
	}
	b.WriteString(m.TextStyle.Render(string(m.value)))
	if m.focused {
		b.WriteString(m.CursorStyle.Render(" "))
	}
	return b.String()
}
