// Package edition is the screen where the user picks what to install from the catalog.
package edition

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/universal-atomic-installer/uai/catalog"
	"github.com/universal-atomic-installer/uai/ui/common"
	"github.com/universal-atomic-installer/uai/ui/components/field"
)

// wideWidth is the width from which the detail pane sits beside the list
// instead of below it.
const wideWidth = 100

// Model is the edition screen.
type Model struct {
	common.Common
	// editions are grouped by category, categories in the order the
	// catalog first names them, so the catalog's author decides the order.
	editions []catalog.Edition
	visible  []int // indexes into editions that pass the filter
	cursor   int   // index into visible
	scroll   common.Scroll

	filter    field.Model
	filtering bool
}

// New returns the edition screen for a catalog.
func New(c common.Common, cat *catalog.Catalog) *Model {
	m := &Model{Common: c, filter: c.NewField("/ ")}
	m.filter.Placeholder = "type to filter"
	if cat != nil {
		m.editions = grouped(cat.Editions)
	}
	m.refilter()
	return m
}

func grouped(eds []catalog.Edition) []catalog.Edition {
	var order []string
	by := map[string][]catalog.Edition{}
	for _, e := range eds {
		c := category(e)
		if _, ok := by[c]; !ok {
			order = append(order, c)
		}
		by[c] = append(by[c], e)
	}
	out := make([]catalog.Edition, 0, len(eds))
	for _, c := range order {
		out = append(out, by[c]...)
	}
	return out
}

func category(e catalog.Edition) string {
	if e.Category == "" {
		return "other"
	}
	return e.Category
}

// Init implements common.Component.
func (m *Model) Init() tea.Cmd { return nil }

// SetSize implements common.Component.
func (m *Model) SetSize(w, h int) {
	m.Common.SetSize(w, h)
	m.follow()
}

// Capturing implements common.Component: while filtering, every letter is
// part of the filter.
func (m *Model) Capturing() bool { return m.filtering }

// Selected returns the edition under the cursor.
func (m *Model) Selected() (catalog.Edition, bool) {
	if m.cursor < 0 || m.cursor >= len(m.visible) {
		return catalog.Edition{}, false
	}
	return m.editions[m.visible[m.cursor]], true
}

// Filter returns the filter text.
func (m *Model) Filter() string { return m.filter.Value() }

// Update implements common.Component.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	keys := m.Keys
	if m.filtering {
		switch {
		case key.Matches(k, keys.ClearFilter):
			m.filtering = false
			m.filter.Blur()
			m.filter.Reset()
			m.refilter()
		case key.Matches(k, keys.ApplyFilter):
			m.filtering = false
			m.filter.Blur()
		case key.Matches(k, keys.ArrowUp):
			m.move(-1)
		case key.Matches(k, keys.ArrowDown):
			m.move(1)
		default:
			if m.filter.Update(k) {
				m.refilter()
			}
		}
		return nil
	}
	switch {
	case key.Matches(k, keys.Up):
		m.move(-1)
	case key.Matches(k, keys.Down):
		m.move(1)
	case key.Matches(k, keys.PageUp):
		m.move(-max(m.listHeight()-1, 1))
	case key.Matches(k, keys.PageDown):
		m.move(max(m.listHeight()-1, 1))
	case key.Matches(k, keys.Filter):
		m.filtering = true
		m.filter.Focus()
	case key.Matches(k, keys.ClearFilter) && m.filter.Value() != "":
		m.filter.Reset()
		m.refilter()
	case key.Matches(k, keys.Select):
		if e, ok := m.Selected(); ok {
			return common.Send(common.EditionChosenMsg{Edition: e})
		}
	}
	return nil
}

func (m *Model) move(n int) {
	if len(m.visible) == 0 {
		return
	}
	m.cursor = max(0, min(len(m.visible)-1, m.cursor+n))
	m.follow()
}

// refilter recomputes the visible editions, keeping the cursor on the same
// edition when it still matches.
func (m *Model) refilter() {
	cur := -1
	if m.cursor >= 0 && m.cursor < len(m.visible) {
		cur = m.visible[m.cursor]
	}
	q := strings.ToLower(strings.TrimSpace(m.filter.Value()))
	m.visible = m.visible[:0]
	m.cursor = 0
	for i, e := range m.editions {
		if q != "" && !matches(e, q) {
			continue
		}
		if i == cur {
			m.cursor = len(m.visible)
		}
		m.visible = append(m.visible, i)
	}
	m.scroll = common.Scroll{}
	m.follow()
}

func matches(e catalog.Edition, q string) bool {
	hay := strings.ToLower(strings.Join([]string{e.Name, e.ID, e.Category, e.Description, e.Image, e.Maturity}, "\n"))
	return strings.Contains(hay, q)
}

func (m *Model) wide() bool { return m.Width >= wideWidth }

func (m *Model) listWidth() int {
	if m.wide() {
		return max(m.Width*2/5, 36)
	}
	return m.Width
}

func (m *Model) detailWidth() int {
	if m.wide() {
		return m.Width - m.listWidth() - 3
	}
	return m.Width
}

// listHeight is the number of lines the list may use.
func (m *Model) listHeight() int {
	h := m.Height - 2 // title and filter line
	if !m.wide() {
		h -= 1 + len(m.detail())
	}
	return max(h, 3)
}

// rows renders the list and returns the line index of the cursor row.
func (m *Model) rows() (lines []string, cursorLine int) {
	st := m.Styles
	w := m.listWidth()
	last := ""
	for vi, i := range m.visible {
		e := m.editions[i]
		if c := category(e); c != last {
			lines = append(lines, st.Category.Render(strings.ToUpper(c)))
			last = c
		}
		badge := e.Maturity
		nameW := max(w-2-lipgloss.Width(badge)-1, 8)
		name := common.Fit(e.Name, nameW)
		marker := "  "
		if vi == m.cursor {
			marker = st.Cursor.Render("> ")
			name = st.Selected.Render(name)
			cursorLine = len(lines)
		}
		lines = append(lines, marker+name+" "+st.MaturityBadge(badge))
	}
	return lines, cursorLine
}

func (m *Model) follow() {
	lines, cur := m.rows()
	first := cur
	// Show the category heading with the first edition of a category.
	if cur > 0 && m.cursor > 0 && category(m.editions[m.visible[m.cursor]]) != category(m.editions[m.visible[m.cursor-1]]) {
		first = cur - 1
	} else if m.cursor == 0 {
		first = 0
	}
	m.scroll.Follow(first, cur, m.listHeight(), len(lines))
}

// detail renders the pane about the edition under the cursor.
func (m *Model) detail() []string {
	e, ok := m.Selected()
	if !ok {
		return nil
	}
	st := m.Styles
	w := m.detailWidth()
	const lw = 9
	label := st.Label.Render
	out := []string{common.Truncate(st.Title.Render(e.Name)+"  "+st.Muted.Render(e.ID), w)}
	desc := common.Wrap(e.Description, w)
	if !m.wide() && len(desc) > 3 {
		desc = append(desc[:2:2], common.Truncate(strings.Join(desc[2:], " "), w))
	}
	out = append(out, desc...)
	out = append(out, common.KeyValue("Image", e.Image, lw, w, label)...)
	if e.Digest != "" {
		out = append(out, common.KeyValue("Digest", e.Digest, lw, w, label)...)
	}
	out = append(out, common.KeyValue("Needs", fmt.Sprintf("%d GiB disk, %s RAM", e.MinDiskGiB, common.Bytes(e.MinRAMBytes())), lw, w, label)...)
	var runs []string
	if len(e.Arches) > 0 {
		runs = append(runs, strings.Join(e.Arches, ", "))
	}
	if len(e.Firmware) > 0 {
		runs = append(runs, strings.Join(e.Firmware, ", "))
	}
	if len(runs) > 0 {
		out = append(out, common.KeyValue("Runs on", strings.Join(runs, " / "), lw, w, label)...)
	}
	if m.wide() {
		if e.MaturityNote != "" {
			out = append(out, common.KeyValue("Maturity", e.Maturity+": "+e.MaturityNote, lw, w, label)...)
		}
		if e.Homepage != "" {
			out = append(out, common.KeyValue("Homepage", e.Homepage, lw, w, label)...)
		}
	}
	return out
}

// View implements common.Component.
func (m *Model) View() string {
	st := m.Styles
	title := st.Title.Render("Choose an edition")
	if q := m.filter.Value(); q != "" {
		title += st.Muted.Render(fmt.Sprintf("  %d of %d match", len(m.visible), len(m.editions)))
	}
	filterLine := ""
	if m.filtering || m.filter.Value() != "" {
		filterLine = m.filter.View()
	}

	var list string
	lh := m.listHeight()
	if len(m.visible) == 0 {
		msg := "the catalog has no editions"
		if m.filter.Value() != "" {
			msg = fmt.Sprintf("no edition matches %q (esc clears the filter)", m.filter.Value())
		}
		list = strings.Join(common.Lines(st.Muted.Render(msg), lh), "\n")
	} else {
		lines, _ := m.rows()
		list = m.scroll.Render(lines, lh, st.Muted.Render)
	}

	detail := m.detail()
	var body string
	if m.wide() {
		left := strings.Split(list, "\n")
		right := common.Lines(strings.Join(detail, "\n"), lh)
		sep := st.Rule.Render(" │ ")
		rows := make([]string, lh)
		for i := range rows {
			rows[i] = common.Fit(left[i], m.listWidth()) + sep + right[i]
		}
		body = strings.Join(rows, "\n")
	} else {
		parts := []string{list, st.Rule.Render(strings.Repeat("─", m.Width))}
		parts = append(parts, detail...)
		body = strings.Join(parts, "\n")
	}
	return strings.Join([]string{title, filterLine, body}, "\n")
}

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding {
	k := m.Keys
	if m.filtering {
		return []key.Binding{k.ArrowUp, k.ArrowDown, k.ApplyFilter, k.ClearFilter}
	}
	b := []key.Binding{k.Up, k.Down, k.Select, k.Filter}
	if m.filter.Value() != "" {
		b = append(b, k.ClearFilter)
	}
	return b
}

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding {
	k := m.Keys
	if m.filtering {
		return [][]key.Binding{{k.ArrowUp, k.ArrowDown}, {k.ApplyFilter, k.ClearFilter}}
	}
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown}, {k.Select, k.Filter, k.ClearFilter}}
}
