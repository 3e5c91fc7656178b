// Package summary is the screen that shows the resolved plan and asks for confirmation before anything is written.
package summary

import (
	"fmt"
	"path"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"github.com/universal-atomic-installer/uai/catalog"
	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/partition"
	"github.com/universal-atomic-installer/uai/ui/common"
	"github.com/universal-atomic-installer/uai/ui/components/field"
)

// labelWidth is the width of the label column of the plan.
const labelWidth = 14

// Model is the summary screen.
type Model struct {
	common.Common
	edition catalog.Edition
	disk    partition.Disk
	// mustConfirm is set when the disk holds data: the user must type the
	// disk's name, because a single enter is too easy to press by habit.
	mustConfirm bool

	spinner  spinner.Model
	planning bool
	plan     *installer.Plan
	err      error

	confirm field.Model
	scroll  common.Scroll
	notice  string
}

type plannedMsg struct {
	to   *Model
	plan *installer.Plan
	err  error
}

// New returns the summary screen for a choice; Init asks for the plan.
// forceConfirm demands the typed confirmation even for a disk that was
// empty when listed: after a failed attempt it may no longer be.
func New(c common.Common, e catalog.Edition, d partition.Disk, forceConfirm bool) *Model {
	m := &Model{
		Common:      c,
		edition:     e,
		disk:        d,
		mustConfirm: forceConfirm || !d.Empty(),
		spinner:     spinner.New(spinner.WithSpinner(spinner.Line), spinner.WithStyle(c.Styles.Muted)),
		confirm:     c.NewField(""),
	}
	return m
}

// Choice is what this screen asks Backend.Plan to resolve.
func (m *Model) Choice() common.Choice {
	return common.Choice{EditionID: m.edition.ID, DiskPath: m.disk.Path, Wipe: m.mustConfirm}
}

// diskName is what the user must type: the disk's short name, the one
// people know it by ("sda", "demo-disk.img").
func (m *Model) diskName() string {
	if m.disk.Name != "" {
		return m.disk.Name
	}
	return path.Base(m.disk.Path)
}

// Init implements common.Component.
func (m *Model) Init() tea.Cmd {
	m.planning = true
	m.plan, m.err = nil, nil
	m.notice = ""
	ctx, b, c := m.Ctx, m.Backend, m.Choice()
	resolve := func() tea.Msg {
		p, err := b.Plan(ctx, c)
		return plannedMsg{to: m, plan: p, err: err}
	}
	if m.Animate {
		return tea.Batch(resolve, m.spinner.Tick)
	}
	return resolve
}

// SetSize implements common.Component. The scroll offset is kept as it
// is (Render clamps a copy), so growing and shrinking the terminal returns
// to the same place.
func (m *Model) SetSize(w, h int) { m.Common.SetSize(w, h) }

// Capturing implements common.Component: the confirmation field takes
// every letter, since disk names are made of them.
func (m *Model) Capturing() bool { return m.plan != nil && m.mustConfirm }

// Plan returns the resolved plan, or nil.
func (m *Model) Plan() *installer.Plan { return m.plan }

// Confirmed reports whether enter would install now.
func (m *Model) Confirmed() bool {
	if m.plan == nil {
		return false
	}
	return !m.mustConfirm || strings.TrimSpace(m.confirm.Value()) == m.diskName()
}

// Update implements common.Component.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case plannedMsg:
		if msg.to != m {
			return nil
		}
		m.planning = false
		m.plan, m.err = msg.plan, msg.err
		if m.plan == nil && m.err == nil {
			m.err = fmt.Errorf("the engine returned no plan")
		}
		if m.Capturing() {
			m.confirm.Reset()
			m.confirm.Focus()
		}
		m.scroll = common.Scroll{}
		return nil
	case spinner.TickMsg:
		if !m.planning {
			return nil
		}
		var cmd tea.Cmd
		m.spinner, cmd = m.spinner.Update(msg)
		return cmd
	case tea.KeyPressMsg:
		return m.key(msg)
	}
	return nil
}

func (m *Model) key(k tea.KeyPressMsg) tea.Cmd {
	keys := m.Keys
	h, total := m.detailHeight(), len(m.details())
	up, down := keys.Up, keys.Down
	if m.Capturing() {
		up, down = keys.ArrowUp, keys.ArrowDown
	}
	switch {
	case key.Matches(k, keys.Back):
		return common.Send(common.BackMsg{})
	case key.Matches(k, up):
		m.scroll.By(-1, h, total)
	case key.Matches(k, down):
		m.scroll.By(1, h, total)
	case key.Matches(k, keys.PageUp):
		m.scroll.By(-max(h-2, 1), h, total)
	case key.Matches(k, keys.PageDown):
		m.scroll.By(max(h-2, 1), h, total)
	case key.Matches(k, keys.Install):
		if m.plan == nil {
			return nil
		}
		if !m.Confirmed() {
			m.notice = fmt.Sprintf("type %s exactly to confirm that everything on it may be erased", m.diskName())
			return nil
		}
		return common.Send(common.InstallMsg{Plan: m.plan})
	case m.Capturing():
		if m.confirm.Update(k) {
			m.notice = ""
		}
	case key.Matches(k, keys.Retry) && m.err != nil:
		return m.Init()
	}
	return nil
}

// bottom is the part pinned under the plan: the simulation notice and the
// confirmation, which must never scroll out of sight.
func (m *Model) bottom() []string {
	st := m.Styles
	w := m.Width
	var out []string
	if m.plan.Simulated {
		out = append(out, common.WrapStyled("SIMULATED: the built-in simulator stands in for bootc and podman.", w, st.Notice.Render)...)
	}
	name := m.diskName()
	if m.mustConfirm {
		out = append(out, common.WrapStyled(fmt.Sprintf("%s holds data (%s). Installing erases all of it.", name, contents(m.disk)), w, st.Warning.Render)...)
		hint := st.Muted.Render("  enter installs once the name matches")
		if m.Confirmed() {
			hint = st.Success.Render("  confirmed: enter erases " + name + " and installs")
		}
		out = append(out, common.Truncate(st.Title.Render(fmt.Sprintf("Type %s to confirm: ", name))+m.confirm.View()+hint, w))
	} else {
		out = append(out, common.Truncate(st.Success.Render(name+" is empty: nothing is lost.")+" Press enter to install.", w))
	}
	if m.notice != "" {
		out = append(out, common.Truncate(st.Warning.Render(m.notice), w))
	}
	return out
}

func contents(d partition.Disk) string {
	t := d.Table
	if t == "" {
		t = "data without a partition table"
	}
	switch n := len(d.Partitions); n {
	case 0:
		return t
	case 1:
		return t + ", 1 partition"
	default:
		return fmt.Sprintf("%s, %d partitions", t, n)
	}
}

func (m *Model) detailHeight() int {
	if m.plan == nil {
		return max(m.Height-2, 1)
	}
	return max(m.Height-2-1-len(m.bottom()), 3)
}

// details renders the plan: everything the install will do, in the words
// and values the engine will use.
func (m *Model) details() []string {
	p := m.plan
	if p == nil {
		return nil
	}
	st := m.Styles
	w := m.Width
	lab := st.Label.Render
	kv := func(l, v string) []string { return common.KeyValue(l, v, labelWidth, w, lab) }
	var out []string
	ed := p.Edition.Name
	if p.Edition.ID != "" {
		ed += " (" + p.Edition.ID + ")"
	}
	out = append(out, kv("Edition", ed)...)
	out = append(out, kv("Image", p.Edition.Image)...)
	if p.Edition.Digest != "" {
		out = append(out, kv("Digest", p.Edition.Digest)...)
	}
	out = append(out, kv("Updates from", p.TargetRef)...)
	disk := []string{p.Disk.Path}
	if p.Disk.Model != "" {
		disk = append(disk, p.Disk.Model)
	}
	disk = append(disk, common.Bytes(p.Disk.SizeBytes))
	out = append(out, kv("Disk", strings.Join(disk, ", "))...)
	if p.Disk.ByID != "" {
		out = append(out, kv("Disk id", p.Disk.ByID)...)
	}
	wipe := "no: the disk is empty"
	if p.Wipe {
		wipe = "yes: everything on the disk is erased"
	}
	out = append(out, kv("Wipe", wipe)...)
	if len(p.Kargs) > 0 {
		out = append(out, kv("Kernel args", strings.Join(p.Kargs, " "))...)
	}
	out = append(out, "", st.Title.Render("Partitions")+st.Muted.Render(fmt.Sprintf("  GPT, %d-byte sectors", p.Layout.SectorSize)))
	out = append(out, layoutTable(p.Layout, st.Label.Render)...)
	out = append(out, "")
	runner := p.Runner
	if p.RunnerReason != "" {
		runner += ": " + p.RunnerReason
	}
	out = append(out, kv("Runner", runner)...)
	out = append(out, "", st.Title.Render("Command"))
	// Not indented: a word split over lines must continue at column 0
	// for the lines to paste back into a shell.
	for _, l := range common.WrapCommand(p.Command, w) {
		out = append(out, st.Code.Render(l))
	}
	return out
}

// layoutTable renders the planned partitions from the layout's own fields.
func layoutTable(l partition.Layout, head func(...string) string) []string {
	nameW := len("Name")
	for _, p := range l.Partitions {
		nameW = max(nameW, len(p.Name))
	}
	row := func(idx, name, size, fs, mnt string) string {
		return strings.TrimRight(fmt.Sprintf("  %-2s %-*s %10s  %-10s  %s", idx, nameW, name, size, fs, mnt), " ")
	}
	out := []string{head(row("#", "Name", "Size", "Filesystem", "Mountpoint"))}
	for _, p := range l.Partitions {
		size := uint64(0)
		if p.EndSector >= p.StartSector {
			size = (p.EndSector - p.StartSector + 1) * uint64(l.SectorSize)
		}
		fs, mnt := p.Filesystem, p.Mountpoint
		if fs == "" {
			fs = "-"
		}
		if mnt == "" {
			mnt = "-"
		}
		out = append(out, row(fmt.Sprint(p.Index), p.Name, common.Bytes(size), fs, mnt))
	}
	return out
}

// View implements common.Component.
func (m *Model) View() string {
	st := m.Styles
	title := st.Title.Render("Review the plan") + st.Muted.Render(fmt.Sprintf("  %s on %s", m.edition.Name, m.disk.Path))
	var body []string
	switch {
	case m.planning:
		body = []string{m.spinner.View() + " Working out the plan..."}
	case m.err != nil:
		body = common.WrapStyled("could not plan the install: "+m.err.Error(), m.Width, st.Error.Render)
		body = append(body, "", st.Muted.Render("esc goes back to choose another disk, r tries again"))
	default:
		// The confirmation follows the plan directly when the plan fits,
		// and sits at the bottom, under a scrolling plan, when it does not.
		h, details := m.detailHeight(), m.details()
		if len(details) <= h {
			body = details
		} else {
			body = strings.Split(m.scroll.Render(details, h, st.Muted.Render), "\n")
		}
		body = append(append(body, ""), m.bottom()...)
	}
	return strings.Join(common.Lines(title+"\n\n"+strings.Join(body, "\n"), m.Height), "\n")
}

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding {
	k := m.Keys
	switch {
	case m.planning:
		return []key.Binding{k.Back}
	case m.err != nil:
		return []key.Binding{k.Retry, k.Back}
	}
	return []key.Binding{k.Install, k.Back, k.PageDown}
}

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding {
	k := m.Keys
	scroll := []key.Binding{k.Up, k.Down, k.PageUp, k.PageDown}
	if m.Capturing() {
		scroll = []key.Binding{k.ArrowUp, k.ArrowDown, k.PageUp, k.PageDown}
	}
	return [][]key.Binding{scroll, {k.Install, k.Back, k.Retry}}
}
