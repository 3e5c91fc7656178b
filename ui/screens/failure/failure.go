// Package failure is the screen that explains a failed install: the step, the error, the last log lines and where the whole log is; it offers a retry or a way back.
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
	req  installer.Request
	fin  common.FinishedMsg
	// status is the outcome of saving the answers.
	status    string
	statusBad bool
}

type exportMsg struct {
	to   *Model
	path string
	err  error
}

// New returns the error screen for a failed run of req.
func New(c common.Common, p *installer.Plan, req installer.Request, fin common.FinishedMsg) *Model {
	return &Model{Common: c, plan: p, req: req, fin: fin}
}

// Init implements common.Component.
func (m *Model) Init() tea.Cmd { return nil }

// SetSize implements common.Component.
func (m *Model) SetSize(w, h int) { m.Common.SetSize(w, h) }

// Capturing implements common.Component.
func (m *Model) Capturing() bool { return false }

// Update implements common.Component.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case exportMsg:
		if msg.to != m {
			return nil
		}
		if msg.err != nil {
			m.status, m.statusBad = "Could not save the answers: "+msg.err.Error(), true
		} else {
			m.status, m.statusBad = "Saved the answers to "+msg.path+" (secrets redacted).", false
		}
	case tea.KeyPressMsg:
		k := m.Keys
		switch {
		case key.Matches(msg, k.Back):
			return common.Send(common.BackMsg{})
		case key.Matches(msg, k.Retry):
			return common.Send(common.RetryMsg{})
		case key.Matches(msg, k.Export):
			ctx, b, req := m.Ctx, m.Backend, m.req
			return func() tea.Msg {
				p, err := b.ExportAnswers(ctx, req)
				return exportMsg{to: m, path: p, err: err}
			}
		}
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
	took := f.Elapsed
	if f.Result.DurationMS > 0 {
		took = time.Duration(f.Result.DurationMS) * time.Millisecond
	}
	kv("Exit", fmt.Sprintf("%s (code %d), after %s", class, f.Result.ExitCode, common.Duration(took)))
	logPath := f.Result.LogPath
	if logPath == "" {
		logPath = "none was written (uai install --log FILE keeps one)"
	}
	kv("Full log", logPath)
	if m.status != "" {
		style := st.Success.Render
		if m.statusBad {
			style = st.Error.Render
		}
		lines = append(lines, common.WrapStyled(m.status, w, style)...)
	}
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
	k := m.Keys
	retry := k.Retry
	retry.SetHelp("r", "retry")
	back := k.Back
	back.SetHelp("esc", "back to the choices")
	return []key.Binding{retry, back, k.Export}
}

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding { return [][]key.Binding{m.ShortHelp()} }
