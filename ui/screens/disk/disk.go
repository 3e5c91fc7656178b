// Package disk is the screen where the user picks the target disk.
package disk

import (
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"github.com/universal-atomic-installer/uai/catalog"
	"github.com/universal-atomic-installer/uai/partition"
	"github.com/universal-atomic-installer/uai/ui/common"
)

// Model is the disk screen.
type Model struct {
	common.Common
	edition catalog.Edition

	spinner spinner.Model
	loading bool
	err     error
	disks   []partition.Disk

	cursor int
	scroll common.Scroll
	// notice says why the last enter did nothing.
	notice string
	// want is the disk to put the cursor on once the list is in.
	want string
}

// loadedMsg carries Backend.Disks' answer to the screen that asked.
type loadedMsg struct {
	to    *Model
	disks []partition.Disk
	err   error
}

// New returns the disk screen for an edition; Init starts listing disks.
func New(c common.Common, e catalog.Edition) *Model {
	return &Model{
		Common:  c,
		edition: e,
		spinner: spinner.New(spinner.WithSpinner(spinner.Line), spinner.WithStyle(c.Styles.Muted)),
	}
}

// SetEdition changes the edition the disks are checked against (after the
// user went back and chose another).
func (m *Model) SetEdition(e catalog.Edition) {
	m.edition = e
	m.notice = ""
}

// SetNotice shows a note under the list until the cursor moves.
func (m *Model) SetNotice(s string) { m.notice = s }

// Choose moves the cursor to the disk at path, once the list is in.
func (m *Model) Choose(path string) {
	m.want = path
	m.applyWant()
}

func (m *Model) applyWant() {
	for i, d := range m.disks {
		if d.Path == m.want && m.want != "" {
			m.cursor = i
			m.follow()
		}
	}
}

// Init implements common.Component.
func (m *Model) Init() tea.Cmd {
	m.loading = true
	m.err = nil
	m.notice = ""
	ctx, b := m.Ctx, m.Backend
	load := func() tea.Msg {
		d, err := b.Disks(ctx)
		return loadedMsg{to: m, disks: d, err: err}
	}
	if m.Animate {
		return tea.Batch(load, m.spinner.Tick)
	}
	return load
}

// SetSize implements common.Component.
func (m *Model) SetSize(w, h int) {
	m.Common.SetSize(w, h)
	m.follow()
}

// Capturing implements common.Component.
func (m *Model) Capturing() bool { return false }

// Loading reports whether the disk list is still being read.
func (m *Model) Loading() bool { return m.loading }

// Selected returns the disk under the cursor.
func (m *Model) Selected() (partition.Disk, bool) {
	if m.loading || m.cursor < 0 || m.cursor >= len(m.disks) {
		return partition.Disk{}, false
	}
	return m.disks[m.cursor], true
}

// problems lists every reason d cannot take this edition: the inventory's
// refusals, and a size below the edition's minimum.
func (m *Model) problems(d partition.Disk) []string {
	out := slices.Clone(d.Refusals)
	if need := m.edition.MinDiskBytes(); need > 0 && d.SizeBytes < need {
		out = append(out, fmt.Sprintf("too small: needs %d GiB", m.edition.MinDiskGiB))
	}
	return out
}

// Update implements common.Component.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case loadedMsg:
		if msg.to != m {
			return nil
		}
		m.loading = false
		m.disks, m.err = msg.disks, msg.err
		m.cursor = 0
		// Start on the first disk that can be used, so enter does the
		// likely thing.
		for i, d := range m.disks {
			if len(m.problems(d)) == 0 {
				m.cursor = i
				break
			}
		}
		m.scroll = common.Scroll{}
		m.follow()
		m.applyWant()
		return nil
	case spinner.TickMsg:
		if !m.loading {
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
	switch {
	case key.Matches(k, keys.Back):
		return common.Send(common.BackMsg{})
	case m.loading:
		return nil
	case key.Matches(k, keys.Retry):
		return m.Init()
	case key.Matches(k, keys.Up):
		m.move(-1)
	case key.Matches(k, keys.Down):
		m.move(1)
	case key.Matches(k, keys.PageUp):
		m.move(-3)
	case key.Matches(k, keys.PageDown):
		m.move(3)
	case key.Matches(k, keys.Select):
		d, ok := m.Selected()
		if !ok {
			return nil
		}
		if p := m.problems(d); len(p) > 0 {
			m.notice = fmt.Sprintf("%s cannot be used: %s", d.Name, strings.Join(p, "; "))
			return nil
		}
		return common.Send(common.DiskChosenMsg{Disk: d})
	}
	return nil
}

func (m *Model) move(n int) {
	if len(m.disks) == 0 {
		return
	}
	m.cursor = max(0, min(len(m.disks)-1, m.cursor+n))
	m.notice = ""
	m.follow()
}

func (m *Model) listHeight() int { return max(m.Height-3, 3) }

func (m *Model) follow() {
	lines, first, last := m.rows()
	m.scroll.Follow(first, last, m.listHeight(), len(lines))
}

// rows renders every disk as a block of lines and returns the line range
// of the block under the cursor.
func (m *Model) rows() (lines []string, first, last int) {
	st := m.Styles
	pathW, trW := 4, 0
	for _, d := range m.disks {
		pathW = max(pathW, len(d.Path))
		trW = max(trW, len(d.Transport))
	}
	pathW = min(pathW, 24)
	const sizeW, kindW = 10, 9
	modelW := max(m.Width-2-pathW-1-sizeW-2-trW-2-kindW-2, 6)
	for i, d := range m.disks {
		probs := m.problems(d)
		model := d.Model
		switch {
		case model != "":
		case d.ImageFile:
			model = "disk image file"
		default:
			model = "unknown model"
		}
		head := common.Fit(tail(d.Path, pathW), pathW) + " " +
			fmt.Sprintf("%*s", sizeW, common.Bytes(d.SizeBytes)) + "  " +
			common.Fit(model, modelW) + "  " + common.Fit(d.Transport, trW) + "  " + Kind(d)
		var content []string
		if !d.Empty() {
			content = append(content, "    "+contents(d))
		}
		for _, sys := range d.Systems {
			content = append(content, "    holds "+sys)
		}
		if len(probs) > 0 {
			head = st.Disabled.Render(head)
			for j := range content {
				content[j] = st.Disabled.Render(content[j])
			}
		} else if i == m.cursor {
			head = st.Selected.Render(head)
		}
		marker := "  "
		if i == m.cursor {
			marker = st.Cursor.Render("> ")
			first = len(lines)
		}
		lines = append(lines, common.Truncate(marker+head, m.Width))
		for _, c := range content {
			lines = append(lines, common.Truncate(c, m.Width))
		}
		for _, p := range probs {
			lines = append(lines, common.Truncate(st.Error.Render("    x "+p), m.Width))
		}
		if i == m.cursor {
			last = len(lines) - 1
		}
	}
	return lines, first, last
}

// tail shortens a long path from the left, keeping its end (an image
// file's name) readable.
func tail(p string, w int) string {
	if len(p) <= w || w < 8 {
		return p
	}
	return "..." + p[len(p)-(w-3):]
}

// Kind says in one word what a disk holds, for the list: empty, Windows,
// bootc, Linux, or data.
func Kind(d partition.Disk) string {
	if d.Empty() {
		return "empty"
	}
	kinds := []string{}
	add := func(k string) {
		if !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	for _, p := range d.Partitions {
		c := p.Content
		if c == nil {
			continue
		}
		switch {
		case c.Windows:
			add("Windows")
		case c.Ostree != nil && len(c.Ostree.Images) > 0:
			add("bootc")
		case c.Ostree != nil:
			add("ostree")
		case c.OS != "":
			add("Linux")
		}
	}
	if len(kinds) == 0 {
		return "data"
	}
	return strings.Join(kinds, " + ")
}

// contents says what is on a disk today, so the user sees what a wipe
// would destroy before choosing it.
func contents(d partition.Disk) string {
	if d.Empty() {
		return "empty"
	}
	table := d.Table
	if table == "" {
		table = "no partition table"
	}
	if len(d.Partitions) == 0 {
		if d.Filesystem != "" {
			return d.Filesystem + " on the whole disk"
		}
		return table + ", no partitions"
	}
	parts := make([]string, len(d.Partitions))
	for i, p := range d.Partitions {
		name := p.Label
		if name == "" {
			name = p.Name
		}
		if name == "" {
			name = fmt.Sprintf("#%d", p.Index)
		}
		s := name + " " + common.Bytes(p.SizeBytes)
		if p.Filesystem != "" {
			s += " " + p.Filesystem
		}
		parts[i] = s
	}
	n := "partitions"
	if len(parts) == 1 {
		n = "partition"
	}
	out := fmt.Sprintf("%s, %d %s: %s", table, len(parts), n, strings.Join(parts, ", "))
	if free := FreeBytes(d); free > 0 && d.Table == "gpt" {
		out += "; " + common.Bytes(free) + " free"
	}
	return out
}

// FreeBytes is the size of the largest free region of a disk, which a
// free-space install would use.
func FreeBytes(d partition.Disk) uint64 {
	regions, err := partition.FreeRegions(d)
	if err != nil {
		return 0
	}
	var best uint64
	for _, r := range regions {
		best = max(best, r.Sectors()*uint64(max(d.LogicalSectorSize, 512)))
	}
	return best
}

// View implements common.Component.
func (m *Model) View() string {
	st := m.Styles
	title := st.Title.Render("Choose a disk") + st.Muted.Render(fmt.Sprintf("  for %s, needs at least %d GiB", m.edition.Name, m.edition.MinDiskGiB))
	var body, notice string
	switch {
	case m.loading:
		body = m.spinner.View() + " Looking for disks..."
	case m.err != nil:
		body = strings.Join(common.WrapStyled("could not list disks: "+m.err.Error(), m.Width, st.Error.Render), "\n") +
			"\n\n" + st.Muted.Render("r retries, esc goes back")
	case len(m.disks) == 0:
		body = st.Muted.Render("no disks found: attach one and press r to look again")
	default:
		lines, _, _ := m.rows()
		body = m.scroll.Render(lines, m.listHeight(), st.Muted.Render)
		if m.notice != "" {
			notice = st.Warning.Render(common.Truncate(m.notice, m.Width))
		}
	}
	out := common.Lines(title+"\n\n"+body, m.Height-1)
	return strings.Join(append(out, notice), "\n")
}

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding {
	k := m.Keys
	if m.loading {
		return []key.Binding{k.Back}
	}
	if m.err != nil || len(m.disks) == 0 {
		return []key.Binding{k.Retry, k.Back}
	}
	return []key.Binding{k.Up, k.Down, k.Select, k.Back}
}

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding {
	k := m.Keys
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown}, {k.Select, k.Back, k.Retry}}
}
