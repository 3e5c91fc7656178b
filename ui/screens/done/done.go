// Package done is the screen that says what was installed and what to do next.
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
	result  installer.Result
	elapsed time.Duration
}

// New returns the done screen for a finished run.
func New(c common.Common, p *installer.Plan, fin common.FinishedMsg) *Model {
	return &Model{Common: c, plan: p, result: fin.Result, elapsed: fin.Elapsed}
}

// Init implements common.Component.
func (m *Model) Init() tea.Cmd { return nil }

// SetSize implements common.Component.
func (m *Model) SetSize(w, h int) { m.Common.SetSize(w, h) }

// Capturing implements common.Component.
func (m *Model) Capturing() bool { return false }

// Update implements common.Component.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	if k, ok := msg.(tea.KeyPressMsg); ok && key.Matches(k, m.Keys.Exit) {
		return common.Send(common.ExitMsg{})
	}
	return nil
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
	out := []string{"Remove the installation medium and reboot into " + p.Edition.Name + "."}
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
		lines = append(lines, st.Warning.Bold(true).Render("Stopped early: "+p.Edition.Name+" is not fully installed"), "")
		for _, l := range common.Wrap("STOPPED: "+r.Stopped, w-2) {
			lines = append(lines, st.Notice.Render("  "+l))
		}
	} else {
		lines = append(lines, st.Success.Bold(true).Render("Installed "+p.Edition.Name))
	}
	lines = append(lines, "")

	const lw = 14
	kv := func(l, v string) { lines = append(lines, common.KeyValue(l, v, lw, w, st.Label.Render)...) }
	ed := p.Edition.Name
	if p.Edition.ID != "" {
		ed += " (" + p.Edition.ID + ")"
	}
	kv("Edition", ed)
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
	kv("Disk", p.Disk.Path)
	took := m.elapsed
	if r.DurationMS > 0 {
		took = time.Duration(r.DurationMS) * time.Millisecond
	}
	kv("Took", common.Duration(took))
	if m.simulated() {
		kv("bootc", "simulated: the built-in simulator stood in for bootc")
	} else {
		kv("bootc", "real")
	}
	if len(r.Completed) > 0 {
		ids := make([]string, len(r.Completed))
		for i, s := range r.Completed {
			ids[i] = string(s)
		}
		kv("Completed", strings.Join(ids, ", "))
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
	return strings.Join(common.Lines(strings.Join(lines, "\n"), m.Height), "\n")
}

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding { return []key.Binding{m.Keys.Exit} }

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding { return [][]key.Binding{{m.Keys.Exit}} }
