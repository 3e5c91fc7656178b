// Package failure is the screen that explains a failed install: the step, the error and the last log lines.
package failure

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/ui/common"
)

// Model is the error screen.
type Model struct {
	common.Common
	plan *installer.Plan
	fin  common.FinishedMsg
}

// New returns the error screen for a failed run.
func New(c common.Common, p *installer.Plan, fin common.FinishedMsg) *Model {
	return &Model{Common: c, plan: p, fin: fin}
}

// Init implements common.Component.
func (m *Model) Init() tea.Cmd { return nil }

// SetSize implements common.Component.
func (m *Model) SetSize(w, h int) { m.Common.SetSize(w, h) }

// Capturing implements common.Component.
func (m *Model) Capturing() bool { return false }

// Update implements common.Component.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	if k, ok := msg.(tea.KeyPressMsg); ok && key.Matches(k, m.Keys.Back) {
		return common.Send(common.BackMsg{})
	}
	return nil
}

// View implements common.Component.
func (m *Model) View() string {
	st := m.Styles
	f := m.fin
	w := m.Width
	lines := []string{st.Error.Bold(true).Render("Install failed"), ""}
	msg := f.Result.Error
	if f.Err != nil {
		msg = f.Err.Error()
	}
	lines = append(lines, common.WrapStyled(msg, w, st.Error.Render)...)
	lines = append(lines, "")
	const lw = 10
	kv := func(l, v string) { lines = append(lines, common.KeyValue(l, v, lw, w, st.Label.Render)...) }
	step := "none: the run stopped before its first step"
	if f.Step != "" {
		step = fmt.Sprintf("%s: %s", f.Step, f.StepTitle)
	}
	kv("Step", step)
	kv("Disk", m.plan.Disk.Path)
	class := f.Result.Class
	if class == "" {
		class = "unknown"
	}
	kv("Exit", fmt.Sprintf("%s (code %d)", class, f.Result.ExitCode))
	took := f.Elapsed
	if f.Result.DurationMS > 0 {
		took = time.Duration(f.Result.DurationMS) * time.Millisecond
	}
	kv("Took", common.Duration(took))
	lines = append(lines, "")

	room := m.Height - len(lines) - 1
	if room >= 2 && len(f.Logs) > 0 {
		logs := f.Logs[max(0, len(f.Logs)-(room-1)):]
		lines = append(lines, st.Title.Render("Last log lines"))
		for _, l := range logs {
			lines = append(lines, st.Muted.Render(common.Truncate("  "+l, w)))
		}
	} else if len(f.Logs) == 0 {
		lines = append(lines, st.Muted.Render("The engine logged nothing before it stopped."))
	}
	return strings.Join(common.Lines(strings.Join(lines, "\n"), m.Height), "\n")
}

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding {
	b := m.Keys.Back
	b.SetHelp("esc", "back to the plan")
	return []key.Binding{b}
}

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding { return [][]key.Binding{m.ShortHelp()} }
