package switchui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/universal-atomic-installer/uai/installer/rebase"
	"github.com/universal-atomic-installer/uai/ui/common"
)

// View implements tea.Model.
func (m *Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.WindowTitle = "uai switch"
	return v
}

// render is the screen as text with style escapes.
func (m *Model) render() string {
	w, h := m.w, m.h
	if w < minWidth || h < minHeight {
		msg := fmt.Sprintf("uai switch needs a terminal of at least %dx%d; this one is %dx%d.", minWidth, minHeight, w, h)
		return strings.Join(common.Lines(strings.Join(common.Wrap(msg, max(w, 1)), "\n"), max(h, 1)), "\n")
	}
	footer := m.footer()
	bodyH := m.bodyHeight()
	var body []string
	if m.stopping {
		body = common.Lines(lipgloss.Place(w, bodyH, lipgloss.Center, lipgloss.Center, m.stopDialog()), bodyH)
	} else {
		body = common.Lines(strings.Join(m.body(bodyH), "\n"), bodyH)
	}
	lines := []string{m.header(), m.st.Rule.Render(strings.Repeat("─", w))}
	lines = append(lines, body...)
	lines = append(lines, strings.Split(footer, "\n")...)
	for i, l := range lines {
		lines[i] = common.Truncate(l, w)
	}
	return strings.Join(lines, "\n")
}

func (m *Model) bodyHeight() int {
	return max(m.h-2-lipgloss.Height(m.footer()), 1)
}

var crumbs = []string{"System", "Target", "Confirm", "Switch", "Done"}

func (m *Model) crumb() int {
	switch m.screen {
	case ScreenTargets, ScreenChecking:
		return 1
	case ScreenConfirm:
		return 2
	case ScreenProgress, ScreenError:
		return 3
	case ScreenDone:
		return 4
	}
	return 0
}

func (m *Model) header() string {
	st := m.st
	cur := m.crumb()
	parts := make([]string, len(crumbs))
	for i, c := range crumbs {
		switch {
		case i == cur:
			parts[i] = st.CrumbCurrent.Render(c)
		case i < cur:
			parts[i] = c
		default:
			parts[i] = st.Crumb.Render(c)
		}
	}
	left := " " + st.Brand.Render("uai switch") + "  " + strings.Join(parts, st.Crumb.Render(" > "))
	var badges []string
	if m.opts.Demo {
		badges = append(badges, st.Badge.Render("[DEMO]"))
	}
	if m.opts.Simulated {
		badges = append(badges, st.SimBadge.Render("[simulated bootc]"))
	}
	right := strings.Join(badges, " ")
	gap := m.w - common.Width(left) - common.Width(right) - 1
	if gap < 1 {
		return left
	}
	return left + strings.Repeat(" ", gap) + right
}

func (m *Model) footer() string {
	k := m.keys
	var short []key.Binding
	switch {
	case m.stopping:
		short = []key.Binding{k.Yes, k.No}
	case m.screen == ScreenLoading, m.screen == ScreenChecking:
		short = []key.Binding{k.Quit}
	case m.screen == ScreenCurrent:
		if m.ov != nil && len(m.ov.Targets) > 0 {
			short = []key.Binding{withHelp(k.Select, "choose a target")}
		}
		short = append(short, k.Help, k.Quit)
	case m.screen == ScreenTargets:
		short = []key.Binding{k.Up, k.Down, k.Select, k.Back, k.Help, k.Quit}
	case m.screen == ScreenConfirm:
		if m.plan != nil {
			short = append(short, keyConfirm)
		}
		short = append(short, k.Back, k.PageDown, k.Help, k.Quit)
	case m.screen == ScreenProgress:
		short = []key.Binding{k.ToggleLog, keyStop, k.Help}
	case m.screen == ScreenDone:
		if m.result.Staged && !m.result.Rebooting && m.rebooted == "" {
			short = append(short, keyReboot)
		}
		short = append(short, k.Exit, k.Help)
	case m.screen == ScreenError:
		short = []key.Binding{withHelp(k.Back, "back to the list"), k.ToggleLog, k.Help, k.Quit}
	}
	m.help.SetWidth(m.w)
	if m.showHelp {
		return m.help.FullHelpView([][]key.Binding{short})
	}
	return m.help.ShortHelpView(short)
}

func withHelp(b key.Binding, desc string) key.Binding {
	return key.NewBinding(key.WithKeys(b.Keys()...), key.WithHelp(b.Help().Key, desc))
}

func (m *Model) body(h int) []string {
	switch m.screen {
	case ScreenLoading:
		return []string{m.st.Muted.Render("Reading bootc status...")}
	case ScreenCurrent:
		return m.currentView()
	case ScreenTargets:
		return m.targetsView(h)
	case ScreenChecking:
		return []string{
			m.st.Title.Render("Checking " + m.target.Image),
			"",
			m.st.Muted.Render("Looking the image up before anything is pulled: is it a bootable"),
			m.st.Muted.Render("container, built for this machine, and how big is it?"),
		}
	case ScreenConfirm:
		lines := m.confirmLines()
		m.scroll.Clamp(h, len(lines))
		return strings.Split(m.scroll.Render(lines, h, m.st.Muted.Render), "\n")
	case ScreenProgress:
		return m.progressView(h)
	case ScreenDone:
		return m.doneView()
	case ScreenError:
		return m.errorView(h)
	}
	return nil
}

const labelW = 10

func (m *Model) kv(label, value string) []string {
	return common.KeyValue(label, value, labelW, m.w, m.st.Label.Render)
}

// deploymentLines describes one of bootc's deployments.
func (m *Model) deploymentLines(label string, d *rebase.Deployment) []string {
	if d == nil {
		return m.kv(label, m.st.Muted.Render("none"))
	}
	var out []string
	name := d.Label()
	if d.Edition != "" {
		name += "  " + m.st.Muted.Render(d.Edition)
	}
	out = append(out, m.kv(label, m.st.Title.Render(name))...)
	if d.Image != "" && d.Image != d.Label() {
		out = append(out, m.kv("", m.st.Code.Render(d.Image))...)
	}
	var facts []string
	if d.Version != "" {
		facts = append(facts, "version "+d.Version)
	}
	if d.Arch != "" {
		facts = append(facts, d.Arch)
	}
	if d.Digest != "" {
		facts = append(facts, shortDigest(d.Digest))
	}
	if d.Incompatible {
		facts = append(facts, "rpm-ostree changes")
	}
	if len(facts) > 0 {
		out = append(out, m.kv("", m.st.Muted.Render(strings.Join(facts, " · ")))...)
	}
	return out
}

func (m *Model) currentView() []string {
	st := m.st
	if m.loadErr != nil {
		lines := []string{st.Error.Render("Cannot switch this system"), ""}
		lines = append(lines, common.WrapStyled(m.loadErr.Error(), m.w, st.Error.Render)...)
		return append(lines, "", st.Muted.Render("q quits."))
	}
	ov := m.ov
	lines := []string{st.Title.Render("This machine"), ""}
	lines = append(lines, m.deploymentLines("Booted", ov.Booted)...)
	lines = append(lines, m.deploymentLines("Staged", ov.Staged)...)
	lines = append(lines, m.deploymentLines("Rollback", ov.Rollback)...)
	if ov.Spec != "" {
		lines = append(lines, m.kv("Follows", ov.Spec)...)
	}
	if len(ov.Notes) > 0 {
		lines = append(lines, "", st.Title.Render("Notes"))
		for _, n := range ov.Notes {
			lines = append(lines, bullet("- ", n, m.w, st.Notice.Render)...)
		}
	}
	avail, other := 0, 0
	for _, t := range ov.Targets {
		if t.Available {
			avail++
		} else {
			other++
		}
	}
	msg := fmt.Sprintf("%d editions can replace it", avail)
	if other > 0 {
		msg += fmt.Sprintf(" (%d more cannot run on this machine)", other)
	}
	lines = append(lines, "")
	lines = append(lines, common.Wrap(msg+". Press enter to choose one.", m.w)...)
	return lines
}

// bullet wraps text under a hanging marker.
func bullet(mark, text string, width int, style func(...string) string) []string {
	ws := common.Wrap(text, max(width-2-len(mark), 10))
	out := make([]string, len(ws))
	for i, l := range ws {
		if i == 0 {
			out[i] = "  " + mark + style(l)
		} else {
			out[i] = "  " + strings.Repeat(" ", len(mark)) + style(l)
		}
	}
	return out
}

func (m *Model) listHeight() int {
	return max(m.bodyHeight()-2-1-len(m.detailLines(m.bodyHeight()/2)), 3)
}

func (m *Model) targetsView(h int) []string {
	st := m.st
	ov := m.ov
	title := "Switch from " + ov.Booted.Label() + " to..."
	details := m.detailLines(h / 2)
	listH := max(h-2-1-len(details), 3)
	// Keep the cursor in the window.
	if m.cursor < m.listStart {
		m.listStart = m.cursor
	}
	if m.cursor >= m.listStart+listH {
		m.listStart = m.cursor - listH + 1
	}
	lines := []string{st.Title.Render(title), ""}
	for i := m.listStart; i < len(ov.Targets) && i < m.listStart+listH; i++ {
		lines = append(lines, m.targetLine(ov.Targets[i], i == m.cursor))
	}
	for len(lines) < 2+listH {
		lines = append(lines, "")
	}
	lines = append(lines, st.Rule.Render(strings.Repeat("─", m.w)))
	return append(lines, details...)
}

func (m *Model) targetLine(t rebase.Target, selected bool) string {
	st := m.st
	cur := "  "
	if selected {
		cur = st.Cursor.Render("> ")
	}
	nameW := max(min(28, m.w-40), 12)
	name := common.Fit(t.Name, nameW)
	cat := common.Fit(t.Category, 15)
	var note string
	switch {
	case !t.Available:
		note = st.Disabled.Render("x cannot run here")
	case len(t.Warnings) == 1:
		note = st.Warning.Render("! 1 warning")
	case len(t.Warnings) > 1:
		note = st.Warning.Render(fmt.Sprintf("! %d warnings", len(t.Warnings)))
	}
	switch {
	case !t.Available:
		name, cat = st.Disabled.Render(name), st.Disabled.Render(cat)
	case selected:
		name = st.Selected.Render(name)
	}
	return cur + name + " " + st.Category.Render(cat) + " " + note
}

// detailLines describe the target under the cursor, at most max lines.
func (m *Model) detailLines(limit int) []string {
	if m.ov == nil || len(m.ov.Targets) == 0 {
		return nil
	}
	st := m.st
	t := m.ov.Targets[min(m.cursor, len(m.ov.Targets)-1)]
	lines := []string{st.Title.Render(t.Name) + "  " + st.Code.Render(t.Image)}
	if !t.Available {
		lines = append(lines, bullet("x ", "Not for this machine: "+t.Reason, m.w, st.Disabled.Render)...)
	}
	for _, c := range t.Changes {
		switch {
		case c.What == "category" && c.From != "":
			lines = append(lines, m.kv("Category", c.From+" -> "+c.To)...)
		case c.What == "category":
			lines = append(lines, m.kv("Category", c.To)...)
		}
	}
	for _, w := range t.Warnings {
		lines = append(lines, bullet("! ", w.Message, m.w, st.Warning.Render)...)
	}
	if len(t.Warnings) == 0 && t.Available {
		lines = append(lines, st.Success.Render("No warnings."))
	}
	if len(lines) > limit {
		lines = append(lines[:max(limit-1, 1)], st.Muted.Render("  ... more on the next screen"))
	}
	return lines
}

func (m *Model) confirmLines() []string {
	st := m.st
	if m.planErr != nil {
		lines := []string{st.Error.Render("Cannot switch to " + m.target.Name), ""}
		lines = append(lines, common.WrapStyled(m.planErr.Error(), m.w, st.Error.Render)...)
		return append(lines, "", st.Muted.Render("Nothing was changed. esc goes back to the list."))
	}
	p := m.plan
	if p == nil {
		return nil
	}
	lines := []string{st.Title.Render("Switch to " + p.Target.Name + "?"), ""}
	if p.From != nil {
		lines = append(lines, m.kv("From", p.From.Label()+"  "+st.Muted.Render(p.From.Image))...)
	}
	lines = append(lines, m.kv("To", p.Target.Name+"  "+st.Code.Render(p.Ref))...)
	if f := p.Facts; f != nil {
		size := "size unknown"
		if f.SizeBytes > 0 {
			size = common.Bytes(uint64(f.SizeBytes)) + " to download"
		}
		lines = append(lines, m.kv("Image", "bootable · "+f.Arch+" · "+size)...)
		if f.Digest != "" {
			lines = append(lines, m.kv("Digest", shortDigest(f.Digest))...)
		}
	}
	for _, c := range p.Target.Changes {
		if c.What == "category" && c.From != "" {
			lines = append(lines, m.kv("Category", c.From+" -> "+c.To)...)
		}
	}
	lines = append(lines, m.kv("Runs", common.ShellJoin(p.Command))...)
	if len(p.Warnings) > 0 {
		lines = append(lines, "", st.Warning.Render("Warnings"))
		for _, w := range p.Warnings {
			lines = append(lines, bullet("! ", w.Message, m.w, st.Warning.Render)...)
		}
	}
	if len(p.Keeps) > 0 {
		lines = append(lines, "", st.Title.Render("It keeps"))
		for _, k := range p.Keeps {
			lines = append(lines, bullet("+ ", k, m.w, plain)...)
		}
	}
	if len(p.Drops) > 0 {
		lines = append(lines, "", st.Title.Render("It does not keep"))
		for _, d := range p.Drops {
			lines = append(lines, bullet("- ", d, m.w, plain)...)
		}
	}
	return append(lines, "", st.Notice.Render("Press y to switch. Nothing changes on the booted system until you reboot."))
}

var tags = map[stepState]string{pending: "[    ]", running: "[ .. ]", ok: "[ ok ]", failed: "[FAIL]", skipped: "[skip]", notRun: "[ -- ]"}

func (m *Model) tag(s stepState) string {
	st := m.st
	t := tags[s]
	switch s {
	case running:
		return st.StepRunning.Render(t)
	case ok:
		return st.StepOK.Render(t)
	case failed:
		return st.StepFailed.Render(t)
	case skipped:
		return st.StepSkipped.Render(t)
	}
	return st.StepPending.Render(t)
}

// stepLines renders the steps with their bars and stages.
func (m *Model) stepLines() []string {
	st := m.st
	rs := m.run
	const indent = "       "
	var out []string
	for _, s := range rs.steps {
		right := ""
		switch s.state {
		case running:
			right = common.Duration(m.now().Sub(s.started))
		case ok, failed, skipped:
			right = common.Duration(s.finished.Sub(s.started))
		}
		if s.simulated {
			right = st.SimBadge.Render("simulated") + "  " + right
		}
		title := common.Truncate(s.title, max(m.w-8-common.Width(right)-1, 10))
		gap := max(m.w-7-common.Width(title)-common.Width(right), 1)
		out = append(out, m.tag(s.state)+" "+title+strings.Repeat(" ", gap)+right)
		if s.state == running && s.unit == "bytes" && s.total > 0 {
			amount := common.BytesOf(s.done, s.total)
			if s.layersAll > 0 {
				amount += fmt.Sprintf(" · layer %d of %d", min(s.layers+1, s.layersAll), s.layersAll)
				if s.layers == s.layersAll {
					amount = fmt.Sprintf("%s · %d layers", common.BytesOf(s.done, s.total), s.layersAll)
				}
			}
			out = append(out, common.BarRow(indent, m.w, 0, "  "+amount, func(w int) string {
				return common.Bar(st, s.done, s.total, w)
			}))
		}
		if s.unit == "steps" && len(s.subtasks) > 0 && s.state == running {
			var parts []string
			for _, t := range s.subtasks {
				mark := "[ ]"
				if t.Done {
					mark = st.StepOK.Render("[x]")
				}
				parts = append(parts, mark+" "+t.Name)
			}
			out = append(out, common.Truncate(indent+strings.Join(parts, "  "), m.w))
		}
		// The error screen says the failure once, above the steps.
		if (s.state == failed || s.state == skipped) && s.reason != "" && s.reason != m.result.Error {
			style := st.Error.Render
			if s.state == skipped {
				style = st.Muted.Render
			}
			for _, l := range common.Wrap(s.reason, m.w-len(indent)) {
				out = append(out, indent+style(l))
			}
		}
	}
	return out
}

func (m *Model) logLines(h int) []string {
	rs := m.run
	st := m.st
	if !rs.showLog {
		return []string{st.Muted.Render(fmt.Sprintf("Log hidden (%d lines), l shows it", len(rs.logs)))}
	}
	n := min(len(rs.logs), max(h-1, 0))
	out := []string{st.Title.Render("Log") + "  " + st.Muted.Render(fmt.Sprintf("last %d of %d lines, l hides it", n, rs.seen))}
	for _, l := range rs.logs[len(rs.logs)-n:] {
		out = append(out, "  "+common.Truncate(l, m.w-2))
	}
	return out
}

func (m *Model) progressView(h int) []string {
	st := m.st
	rs := m.run
	el := m.now().Sub(rs.started)
	if rs.done {
		el = rs.elapsed
	}
	title := st.Title.Render("Switching to " + rs.plan.Target.Name)
	right := st.Muted.Render("elapsed " + common.Duration(el))
	lines := []string{title + strings.Repeat(" ", max(m.w-common.Width(title)-common.Width(right), 1)) + right}
	lines = append(lines, common.WrapStyled("The booted system is not changed: the new image is staged beside it and starts on the next boot.", m.w, st.Muted.Render)...)
	lines = append(lines, "")
	lines = append(lines, m.stepLines()...)
	lines = append(lines, "")
	return append(lines, m.logLines(h-len(lines))...)
}

func (m *Model) doneView() []string {
	st := m.st
	r := m.result
	p := m.plan
	var lines []string
	switch {
	case r.Unchanged && r.Staged:
		lines = append(lines, st.Success.Render("Nothing to do: "+p.Target.Name+" is already staged for the next boot"))
	case r.Unchanged:
		lines = append(lines, st.Success.Render("Nothing to do: this system already runs "+p.Target.Name))
	default:
		lines = append(lines, st.Success.Render(p.Target.Name+" is staged for the next boot"))
	}
	lines = append(lines, "")
	if p.From != nil {
		lines = append(lines, m.kv("From", p.From.Label()+"  "+st.Muted.Render(p.From.Image))...)
	}
	lines = append(lines, m.kv("Staged", p.Target.Name+"  "+st.Code.Render(p.Ref))...)
	if r.ImageDigest != "" {
		lines = append(lines, m.kv("Digest", shortDigest(r.ImageDigest))...)
	}
	method := "bootc switch"
	if r.Method == rebase.MethodRpmOstree {
		method = "rpm-ostree rebase"
	}
	lines = append(lines, m.kv("Method", method)...)
	took := m.run.elapsed
	if r.DurationMS > 0 {
		took = time.Duration(r.DurationMS) * time.Millisecond
	}
	lines = append(lines, m.kv("Took", common.Duration(took))...)
	if r.Simulated {
		lines = append(lines, m.kv("bootc", st.SimBadge.Render("simulated")+": the built-in simulator stood in for bootc")...)
	}
	lines = append(lines, "")
	switch {
	case m.rebooting:
		lines = append(lines, st.Notice.Render("Rebooting..."))
	case m.rebootErr != nil:
		lines = append(lines, common.WrapStyled("The reboot failed: "+m.rebootErr.Error(), m.w, st.Error.Render)...)
	case m.rebooted != "" && m.opts.Simulated:
		lines = append(lines, common.WrapStyled("Simulated reboot: "+m.rebooted+".", m.w, st.Notice.Render)...)
	case m.rebooted != "":
		lines = append(lines, common.WrapStyled("Rebooting: "+m.rebooted, m.w, st.Notice.Render)...)
	case r.Staged:
		lines = append(lines, common.Wrap("It starts when this machine restarts. Press r to reboot now, or reboot later.", m.w)...)
	}
	if r.Staged {
		prev := "the booted system"
		if p.From != nil {
			prev = p.From.Label()
		}
		lines = append(lines, "", st.Title.Render("If the new system misbehaves"))
		lines = append(lines, bullet("- ", "pick the previous entry in the boot menu for one boot, or", m.w, plain)...)
		lines = append(lines, bullet("- ", "run `bootc rollback` and reboot: "+prev+" stays on disk as the rollback deployment until the next switch or update.", m.w, plain)...)
	}
	return lines
}

func (m *Model) errorView(h int) []string {
	st := m.st
	r := m.result
	name := m.target.Name
	lines := []string{st.Error.Render("The switch to " + name + " failed"), ""}
	lines = append(lines, common.WrapStyled(r.Error, m.w, st.Error.Render)...)
	if !r.Staged {
		prev := "the booted system"
		if m.plan != nil && m.plan.From != nil {
			prev = m.plan.From.Label()
		}
		lines = append(lines, "", common.Truncate("Nothing was staged; "+prev+" runs on as before.", m.w))
	}
	lines = append(lines, "")
	lines = append(lines, m.stepLines()...)
	lines = append(lines, "")
	return append(lines, m.logLines(h-len(lines))...)
}

func (m *Model) stopDialog() string {
	st := m.st
	w := min(56, m.w-8)
	lines := []string{st.Title.Render("Stop the switch?"), ""}
	lines = append(lines, common.Wrap("The booted system stays as it is; bootc cleans up a half-pulled image on its next run.", w)...)
	lines = append(lines, "", st.Muted.Render("y yes · n no"))
	return st.Dialog.Render(strings.Join(lines, "\n"))
}

func plain(s ...string) string { return strings.Join(s, "") }
