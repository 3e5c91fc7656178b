// Package done is the screen that says what was installed and what to do next: reboot, power off, a shell, or save the answers.
package done

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/ui/common"
)

// Model is the done screen.
type Model struct {
	common.Common
	plan    *installer.Plan
	req     installer.Request
	result  installer.Result
	elapsed time.Duration

	actions []action
	cursor  int
	busy    bool
	// status is the outcome of the last action.
	status    string
	statusBad bool
}

// action is one thing the user can do next.
type action struct {
	id    string
	label string
	key   key.Binding
	// disabled says why the action is not offered here.
	disabled string
}

// Export is the action that saves the answers (not an ExitMsg action).
const actionExport = "export"

type (
	powerMsg struct {
		to     *Model
		action string
		how    string
		err    error
	}
	exportMsg struct {
		to   *Model
		path string
		err  error
	}
)

// New returns the done screen for a finished run of req.
func New(c common.Common, p *installer.Plan, req installer.Request, fin common.FinishedMsg) *Model {
	m := &Model{Common: c, plan: p, req: req, result: fin.Result, elapsed: fin.Elapsed}
	k := c.Keys
	noPower := ""
	switch {
	case c.Options.Demo || p.Disk.ImageFile:
		noPower = "the target is an image file"
	case fin.Result.Stopped != "" || m.simulated():
		noPower = "nothing bootable was installed"
	}
	m.actions = []action{
		{id: common.ActionReboot, label: "Reboot into the new system", key: k.Reboot, disabled: noPower},
		{id: common.ActionPowerOff, label: "Power off", key: k.PowerOff, disabled: noPower},
		{id: common.ActionShell, label: "Exit to a shell", key: k.Shell},
		{id: actionExport, label: "Save the answers of this install to a file", key: k.Export},
		{id: common.ActionExit, label: "Exit the installer", key: key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "exit"))},
	}
	// Start where an answer file's post action points, else on reboot
	// when it is offered, else on exit.
	m.cursor = len(m.actions) - 1
	if m.actions[0].disabled == "" {
		m.cursor = 0
	}
	for i, a := range m.actions {
		if a.id == req.Post.Action && a.disabled == "" {
			m.cursor = i
		}
	}
	return m
}

// Init implements common.Component.
func (m *Model) Init() tea.Cmd { return nil }

// SetSize implements common.Component.
func (m *Model) SetSize(w, h int) { m.Common.SetSize(w, h) }

// Capturing implements common.Component.
func (m *Model) Capturing() bool { return false }

// Selected is the action under the cursor.
func (m *Model) Selected() string { return m.actions[m.cursor].id }

// Update implements common.Component.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case powerMsg:
		if msg.to != m {
			return nil
		}
		m.busy = false
		if msg.err != nil {
			m.status, m.statusBad = msg.err.Error(), true
			return nil
		}
		m.status, m.statusBad = msg.how, false
		return common.Send(common.ExitMsg{Action: msg.action})
	case exportMsg:
		if msg.to != m {
			return nil
		}
		m.busy = false
		if msg.err != nil {
			m.status, m.statusBad = "Could not save the answers: "+msg.err.Error(), true
		} else {
			m.status, m.statusBad = "Saved the answers to "+msg.path+" (secrets redacted: supply them in a second file to replay).", false
		}
		return nil
	case tea.KeyPressMsg:
		if m.busy {
			return nil
		}
		k := m.Keys
		switch {
		case key.Matches(msg, k.Up):
			m.move(-1)
		case key.Matches(msg, k.Down):
			m.move(1)
		case key.Matches(msg, k.Select):
			return m.run(m.actions[m.cursor])
		default:
			for i, a := range m.actions {
				if key.Matches(msg, a.key) {
					m.cursor = i
					return m.run(a)
				}
			}
		}
	}
	return nil
}

func (m *Model) move(n int) {
	m.cursor = max(0, min(len(m.actions)-1, m.cursor+n))
}

func (m *Model) run(a action) tea.Cmd {
	if a.disabled != "" {
		m.status, m.statusBad = a.label+" is not offered: "+a.disabled+".", true
		return nil
	}
	ctx, b := m.Ctx, m.Backend
	switch a.id {
	case common.ActionReboot, common.ActionPowerOff:
		m.busy = true
		m.status, m.statusBad = "Asking the machine to "+strings.ToLower(a.label)+"...", false
		return func() tea.Msg {
			call := b.Reboot
			if a.id == common.ActionPowerOff {
				call = b.PowerOff
			}
			how, err := call(ctx)
			return powerMsg{to: m, action: a.id, how: how, err: err}
		}
	case actionExport:
		m.busy = true
		req := m.req
		return func() tea.Msg {
			p, err := b.ExportAnswers(ctx, req)
			return exportMsg{to: m, path: p, err: err}
		}
	}
	return common.Send(common.ExitMsg{Action: a.id})
}

func (m *Model) simulated() bool { return m.result.Simulated || m.plan.Simulated }

// next says what the user does now; it differs by how the run ended,
// because a reboot after a simulated or stopped run boots nothing new.
func (m *Model) next() []string {
	p := m.plan
	switch {
	case m.result.Stopped != "":
		return []string{
			"Fix what stopped the run (above), then run the installer again.",
			"The disk may hold a partial install: do not boot from it.",
		}
	case m.simulated():
		return []string{
			fmt.Sprintf("bootc was simulated: %s holds the new partitions but no bootable system.", p.Disk.Path),
			"To install for real, run the installer on the target machine without the simulator.",
		}
	}
	out := []string{"Remove the installation medium, then reboot into " + p.Edition.Name + "."}
	if p.Disk.ImageFile {
		out[0] = "Boot " + p.Disk.Path + " in a virtual machine to try " + p.Edition.Name + "."
	}
	return append(out,
		"The system updates itself from "+p.TargetRef+": `bootc status` shows it, `bootc upgrade` updates now.",
		"To change edition later, run `uai switch` on the installed system.",
	)
}

// View implements common.Component.
func (m *Model) View() string {
	st := m.Styles
	p, r := m.plan, m.result
	w := m.Width
	var lines []string
	if r.Stopped != "" {
		lines = append(lines, st.Warning.Bold(true).Render("Stopped early: "+p.Edition.Name+" is not fully installed"))
		for _, l := range common.Wrap("STOPPED: "+r.Stopped, w-2) {
			lines = append(lines, st.Notice.Render("  "+l))
		}
	} else {
		lines = append(lines, st.Success.Bold(true).Render("Installed "+p.Edition.Name))
	}
	lines = append(lines, "")

	const lw = 14
	kv := func(l, v string) { lines = append(lines, common.KeyValue(l, v, lw, w, st.Label.Render)...) }
	img := p.Edition.Image
	if d := r.ImageDigest; d != "" {
		img += "@" + d
	} else if p.Edition.Digest != "" {
		img += "@" + p.Edition.Digest
	}
	kv("Image", img)
	target := r.TargetRef
	if target == "" {
		target = p.TargetRef
	}
	kv("Updates from", target)
	took := m.elapsed
	if r.DurationMS > 0 {
		took = time.Duration(r.DurationMS) * time.Millisecond
	}
	kv("Disk", p.Disk.Path)
	kv("Took", common.Duration(took))
	if m.simulated() {
		kv("bootc", "simulated: the built-in simulator stood in for bootc")
	}
	if r.LogPath != "" {
		kv("Log", r.LogPath)
	}
	lines = append(lines, "", st.Title.Render("Next"))
	for _, n := range m.next() {
		for i, l := range common.Wrap(n, w-4) {
			if i == 0 {
				lines = append(lines, "  - "+l)
			} else {
				lines = append(lines, "    "+l)
			}
		}
	}
	// The actions and their outcome are pinned to the bottom: on a small
	// terminal the explanations above give way, never the choices.
	bottom := []string{"", st.Title.Render("What now?")}
	for i, a := range m.actions {
		row := fmt.Sprintf("%-3s %s", a.key.Help().Key, a.label)
		switch {
		case i == m.cursor:
			row = st.Cursor.Render("> ") + st.Selected.Render(row)
		case a.disabled != "":
			row = "  " + st.Disabled.Render(row+" (not offered: "+a.disabled+")")
		default:
			row = "  " + row
		}
		bottom = append(bottom, common.Truncate(row, w))
	}
	if m.status != "" {
		style := st.Success.Render
		if m.statusBad {
			style = st.Error.Render
		}
		bottom = append(bottom, common.WrapStyled(m.status, w, style)...)
	}
	top := common.Lines(strings.Join(lines, "\n"), max(m.Height-len(bottom), 1))
	if len(lines) < len(top) {
		top = lines
	}
	return strings.Join(common.Lines(strings.Join(append(top, bottom...), "\n"), m.Height), "\n")
}

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding {
	k := m.Keys
	return []key.Binding{k.Up, k.Down, k.Select, m.actions[len(m.actions)-1].key}
}

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding {
	k := m.Keys
	return [][]key.Binding{{k.Up, k.Down, k.Select}, {k.Reboot, k.PowerOff, k.Shell, k.Export, m.actions[len(m.actions)-1].key}}
}
