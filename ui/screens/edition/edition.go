// Package edition is the screen where the user picks what to install: an edition of the catalog, or any bootc image by its ref.
package edition

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/universal-atomic-installer/uai/catalog"
	"github.com/universal-atomic-installer/uai/ui/common"
)

// wideWidth is the width from which the detail pane sits beside the list
// instead of below it.
const wideWidth = 100

// lookupDelay is how long the cursor must rest on an edition before its
// image is looked up, so scrolling through the list asks no registry.
const lookupDelay = 300 * time.Millisecond

// customCategory heads the row that takes any image ref.
const customCategory = "custom"

// facts is what resolving an image found, or why it could not.
type facts struct {
	info    *catalog.ImageInfo
	err     error
	loading bool
}

// Model is the edition screen.
type Model struct {
	common.Common
	// editions are grouped by category, categories in the order the
	// catalog first names them, so the catalog's author decides the order.
	editions []catalog.Edition
	// visible indexes editions that pass the filter; len(editions) stands
	// for the custom image row, always last.
	visible []int
	cursor  int
	scroll  common.Scroll

	filter    textinput.Model
	filtering bool

	// unfit holds why an edition does not fit this machine, by id.
	unfit map[string][]string
	// images holds what resolving each image found, by ref.
	images map[string]*facts
	seq    int

	// The custom image: the field, and the resolution of what it held.
	customOpen bool
	ref        textinput.Model
	customRef  string
	custom     facts
	spinner    spinner.Model

	// notice says why the last enter did nothing.
	notice string
}

type (
	resolvedMsg struct {
		to   *Model
		ref  string
		info catalog.ImageInfo
		err  error
		// custom marks the resolution of a typed ref.
		custom bool
	}
	lookupMsg struct {
		to  *Model
		seq int
	}
)

// New returns the edition screen for a catalog.
func New(c common.Common, cat *catalog.Catalog) *Model {
	m := &Model{
		Common:  c,
		filter:  c.NewInput("/ "),
		ref:     c.NewInput("Image ref: "),
		unfit:   map[string][]string{},
		images:  map[string]*facts{},
		spinner: spinner.New(spinner.WithSpinner(spinner.Line), spinner.WithStyle(c.Styles.Muted)),
	}
	m.filter.Placeholder = "type to search"
	m.ref.Placeholder = "registry.example.com/org/image:tag"
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

// SetFacts works out which editions fit this machine.
func (m *Model) SetFacts(f common.Facts) {
	if f.Machine == nil {
		return
	}
	fit := f.Machine.Fit(f.LargestDisk())
	m.unfit = map[string][]string{}
	for _, e := range m.editions {
		if why := e.Fits(fit); len(why) > 0 {
			m.unfit[e.ID] = why
		}
	}
}

// Init implements common.Component: it looks up the first edition.
func (m *Model) Init() tea.Cmd { return m.lookup() }

// SetSize implements common.Component.
func (m *Model) SetSize(w, h int) {
	m.Common.SetSize(w, h)
	m.follow()
}

// Capturing implements common.Component: while searching or typing a ref,
// every letter is text.
func (m *Model) Capturing() bool { return m.filtering || m.customOpen }

// Selected returns the edition under the cursor; ok is false on the custom
// image row.
func (m *Model) Selected() (catalog.Edition, bool) {
	if m.cursor < 0 || m.cursor >= len(m.visible) || m.visible[m.cursor] >= len(m.editions) {
		return catalog.Edition{}, false
	}
	return m.editions[m.visible[m.cursor]], true
}

// OnCustom reports whether the cursor is on the custom image row.
func (m *Model) OnCustom() bool {
	return m.cursor < len(m.visible) && m.visible[m.cursor] == len(m.editions)
}

// Filter returns the search text.
func (m *Model) Filter() string { return m.filter.Value() }

// Choose moves the cursor to the edition with id, or to the custom image
// row with ref filled in.
func (m *Model) Choose(id, ref string) {
	for i, vi := range m.visible {
		if vi < len(m.editions) && m.editions[vi].ID == id && id != "" {
			m.cursor = i
		}
		if vi == len(m.editions) && id == "" && ref != "" {
			m.cursor = i
			m.ref.SetValue(ref)
		}
	}
	m.follow()
}

// Update implements common.Component.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case resolvedMsg:
		if msg.to != m {
			return nil
		}
		f := &facts{err: msg.err}
		if msg.err == nil {
			info := msg.info
			f.info = &info
		}
		if msg.custom {
			if msg.ref == m.customRef {
				m.custom = *f
			}
			return nil
		}
		m.images[msg.ref] = f
		return nil
	case lookupMsg:
		if msg.to != m || msg.seq != m.seq {
			return nil
		}
		return m.resolveSelected()
	case spinner.TickMsg:
		if !m.custom.loading && !m.anyLoading() {
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

func (m *Model) anyLoading() bool {
	for _, f := range m.images {
		if f.loading {
			return true
		}
	}
	return false
}

func (m *Model) key(k tea.KeyPressMsg) tea.Cmd {
	keys := m.Keys
	if m.customOpen {
		return m.customKey(k)
	}
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
			return m.move(-1)
		case key.Matches(k, keys.ArrowDown):
			return m.move(1)
		default:
			before := m.filter.Value()
			m.filter, _ = m.filter.Update(k)
			if m.filter.Value() != before {
				m.refilter()
				return m.lookup()
			}
		}
		return nil
	}
	switch {
	case key.Matches(k, keys.Up):
		return m.move(-1)
	case key.Matches(k, keys.Down):
		return m.move(1)
	case key.Matches(k, keys.PageUp):
		return m.move(-max(m.listHeight()-1, 1))
	case key.Matches(k, keys.PageDown):
		return m.move(max(m.listHeight()-1, 1))
	case key.Matches(k, keys.Filter):
		m.startFilter()
	case key.Matches(k, keys.ClearFilter) && m.filter.Value() != "":
		m.filter.Reset()
		m.refilter()
	case key.Matches(k, keys.Back):
		return common.Send(common.BackMsg{})
	case key.Matches(k, keys.Select):
		return m.choose()
	case common.Typed(k) && !key.Matches(k, keys.Help, keys.Quit):
		// Search by typing: a letter that is no key of this screen
		// starts the search with itself.
		m.startFilter()
		m.filter, _ = m.filter.Update(k)
		m.refilter()
		return m.lookup()
	}
	return nil
}

func (m *Model) startFilter() {
	m.filtering = true
	m.filter.Focus()
	m.filter.CursorEnd()
	m.notice = ""
}

func (m *Model) choose() tea.Cmd {
	if m.OnCustom() {
		m.customOpen = true
		m.ref.Focus()
		m.ref.CursorEnd()
		m.notice = ""
		return nil
	}
	e, ok := m.Selected()
	if !ok {
		return nil
	}
	if why := m.unfit[e.ID]; len(why) > 0 {
		m.notice = fmt.Sprintf("%s cannot be installed on this machine: %s", e.Name, strings.Join(why, "; "))
		return nil
	}
	msg := common.EditionChosenMsg{Edition: e}
	if f := m.images[e.Image]; f != nil && f.info != nil {
		msg.Image = f.info
	}
	return common.Send(msg)
}

func (m *Model) customKey(k tea.KeyPressMsg) tea.Cmd {
	keys := m.Keys
	switch {
	case key.Matches(k, keys.Back):
		m.customOpen = false
		m.ref.Blur()
		return nil
	case key.Matches(k, keys.Select):
		ref := strings.TrimSpace(m.ref.Value())
		if ref == "" {
			m.custom = facts{err: errors.New("type an image ref first, e.g. quay.io/fedora/fedora-bootc:44")}
			m.customRef = ""
			return nil
		}
		if ref == m.customRef && m.custom.info != nil {
			return common.Send(common.EditionChosenMsg{Edition: customEdition(ref), Image: m.custom.info, Custom: true})
		}
		if ref == m.customRef && m.custom.loading {
			return nil
		}
		if err := catalog.CheckRef(ref); err != nil {
			m.customRef, m.custom = ref, facts{err: err}
			return nil
		}
		m.customRef, m.custom = ref, facts{loading: true}
		ctx, b := m.Ctx, m.Backend
		cmds := []tea.Cmd{func() tea.Msg {
			info, err := b.ResolveImage(ctx, ref, "")
			return resolvedMsg{to: m, ref: ref, info: info, err: err, custom: true}
		}}
		if m.Animate {
			cmds = append(cmds, m.spinner.Tick)
		}
		return tea.Batch(cmds...)
	}
	m.ref, _ = m.ref.Update(k)
	return nil
}

// customEdition is a typed image as an edition, with the conservative
// defaults the engine gives a custom image.
func customEdition(ref string) catalog.Edition {
	return catalog.Edition{Name: ref, Image: ref, Category: customCategory, DefaultFilesystem: "xfs", MinDiskGiB: 10}
}

func (m *Model) move(n int) tea.Cmd {
	if len(m.visible) == 0 {
		return nil
	}
	m.cursor = max(0, min(len(m.visible)-1, m.cursor+n))
	m.notice = ""
	m.follow()
	return m.lookup()
}

// lookup asks for the facts of the edition under the cursor once the
// cursor rests there.
func (m *Model) lookup() tea.Cmd {
	e, ok := m.Selected()
	if !ok || m.images[e.Image] != nil {
		return nil
	}
	m.seq++
	if !m.Animate {
		return m.resolveSelected()
	}
	seq := m.seq
	return tea.Tick(lookupDelay, func(time.Time) tea.Msg { return lookupMsg{to: m, seq: seq} })
}

func (m *Model) resolveSelected() tea.Cmd {
	e, ok := m.Selected()
	if !ok || m.images[e.Image] != nil {
		return nil
	}
	m.images[e.Image] = &facts{loading: true}
	ctx, b := m.Ctx, m.Backend
	return func() tea.Msg {
		info, err := b.ResolveImage(ctx, e.Image, e.Digest)
		return resolvedMsg{to: m, ref: e.Image, info: info, err: err}
	}
}

// refilter recomputes the visible editions, keeping the cursor on the same
// edition when it still matches. The custom image row always stays.
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
	if cur == len(m.editions) {
		m.cursor = len(m.visible)
	}
	m.visible = append(m.visible, len(m.editions))
	m.scroll = common.Scroll{}
	m.follow()
}

func matches(e catalog.Edition, q string) bool {
	hay := strings.ToLower(strings.Join([]string{e.Name, e.ID, e.Category, e.Description, e.Image, e.Maturity}, "\n"))
	return strings.Contains(hay, q)
}

// Matching is the number of catalog editions that pass the filter.
func (m *Model) Matching() int { return len(m.visible) - 1 }

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
	if m.notice != "" {
		h -= len(common.Wrap(m.notice, m.Width))
	}
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
		var e catalog.Edition
		if i == len(m.editions) {
			e = catalog.Edition{Name: "Custom image: type any bootc image ref", Category: customCategory}
		} else {
			e = m.editions[i]
		}
		if c := category(e); c != last {
			lines = append(lines, st.Category.Render(strings.ToUpper(c)))
			last = c
		}
		badge := e.Maturity
		unfit := len(m.unfit[e.ID]) > 0 && e.ID != ""
		if unfit {
			badge = "does not fit"
		}
		nameW := max(w-2-lipgloss.Width(badge)-1, 8)
		name := common.Fit(e.Name, nameW)
		marker := "  "
		switch {
		case vi == m.cursor:
			marker = st.Cursor.Render("> ")
			name = st.Selected.Render(name)
			cursorLine = len(lines)
		case unfit:
			name = st.Disabled.Render(name)
		}
		b := st.MaturityBadge(badge)
		if unfit {
			b = st.Error.Render(badge)
		}
		lines = append(lines, marker+name+" "+b)
	}
	return lines, cursorLine
}

func (m *Model) follow() {
	if len(m.visible) == 0 {
		return
	}
	lines, cur := m.rows()
	first := cur
	// Show the category heading with the first edition of a category.
	if m.cursor == 0 || m.heading(m.cursor) != m.heading(m.cursor-1) {
		first = max(cur-1, 0)
	}
	m.scroll.Follow(first, cur, m.listHeight(), len(lines))
}

func (m *Model) heading(vi int) string {
	i := m.visible[vi]
	if i == len(m.editions) {
		return customCategory
	}
	return category(m.editions[i])
}

// imageLines renders what resolving an image found.
func (m *Model) imageLines(f *facts, w int, pinned bool) []string {
	st := m.Styles
	const lw = 9
	label := st.Label.Render
	switch {
	case f == nil:
		return nil
	case f.loading:
		return []string{common.Pad("Size", lw) + m.spinner.View() + st.Muted.Render(" asking the registry...")}
	case f.err != nil:
		return common.KeyValue("Size", "unknown: "+shortErr(f.err), lw, w, func(s ...string) string { return st.Muted.Render(s...) })
	}
	info := f.info
	var out []string
	out = append(out, common.KeyValue("Size", common.Bytes(uint64(max(info.SizeBytes, 0)))+" to download, "+fmt.Sprint(info.Layers)+" layers", lw, w, label)...)
	if !info.Created.IsZero() {
		age := m.Now().Sub(info.Created)
		built := fmt.Sprintf("%s (%s ago)", info.Created.UTC().Format("2006-01-02"), ago(age))
		out = append(out, common.KeyValue("Built", built, lw, w, label)...)
	}
	if info.Digest != "" && !pinned {
		out = append(out, common.KeyValue("Digest", info.Digest, lw, w, label)...)
	}
	for _, warn := range info.Warnings {
		out = append(out, common.WrapStyled("! "+warn, w, st.Warning.Render)...)
	}
	return out
}

func ago(d time.Duration) string {
	switch {
	case d < time.Hour:
		return "less than an hour"
	case d < 48*time.Hour:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}

// shortErr says in a few words why an image could not be looked up.
func shortErr(err error) string {
	switch {
	case errors.Is(err, catalog.ErrUnreachable):
		return "the registry is unreachable (no network?)"
	case errors.Is(err, catalog.ErrTimeout):
		return "the registry did not answer in time"
	case errors.Is(err, catalog.ErrNotFound):
		return "the registry does not have this image"
	case errors.Is(err, catalog.ErrUnauthorized):
		return "the registry wants a login"
	}
	return err.Error()
}

// detail renders the pane about the row under the cursor.
func (m *Model) detail() []string {
	if m.OnCustom() {
		return m.customDetail()
	}
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
	if !m.wide() && len(desc) > 2 {
		desc = append(desc[:1:1], common.Truncate(strings.Join(desc[1:], " "), w))
	}
	out = append(out, desc...)
	if why := m.unfit[e.ID]; len(why) > 0 {
		for _, r := range why {
			out = append(out, common.WrapStyled("x does not fit: "+r, w, st.Error.Render)...)
		}
	}
	out = append(out, common.KeyValue("Image", e.Image, lw, w, label)...)
	if e.Digest != "" {
		out = append(out, common.KeyValue("Pinned", e.Digest, lw, w, label)...)
	}
	out = append(out, m.imageLines(m.images[e.Image], w, e.Digest != "")...)
	out = append(out, common.KeyValue("Needs", fmt.Sprintf("%d GiB disk, %s RAM", e.MinDiskGiB, common.Bytes(e.MinRAMBytes())), lw, w, label)...)
	if m.wide() {
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
		if e.MaturityNote != "" {
			out = append(out, common.KeyValue("Maturity", e.Maturity+": "+e.MaturityNote, lw, w, label)...)
		}
		if e.Homepage != "" {
			out = append(out, common.KeyValue("Homepage", e.Homepage, lw, w, label)...)
		}
	}
	return out
}

func (m *Model) customDetail() []string {
	st := m.Styles
	w := m.detailWidth()
	out := []string{st.Title.Render("Custom image")}
	out = append(out, common.Wrap("Any bootc image: uai asks its registry for the digest, size and the bootc label before going on.", w)...)
	m.ref.SetWidth(max(w-len(m.ref.Prompt)-1, 8))
	if m.customOpen {
		out = append(out, common.Truncate(m.ref.View(), w))
	} else {
		v := m.ref.Value()
		if v == "" {
			v = st.Muted.Render("enter to type a ref")
		}
		out = append(out, common.Truncate(st.Label.Render("Image ref: ")+v, w))
	}
	typed := strings.TrimSpace(m.ref.Value())
	if typed == "" || typed != m.customRef {
		return out
	}
	switch {
	case m.custom.loading:
		out = append(out, m.spinner.View()+" Asking the registry about "+typed+"...")
	case m.custom.err != nil:
		out = append(out, common.WrapStyled("x "+m.custom.err.Error(), w, st.Error.Render)...)
	case m.custom.info != nil:
		out = append(out, common.WrapStyled("ok: a bootable image ("+m.custom.info.BootableLabel+") for "+m.custom.info.Arch+"; enter installs it", w, st.Success.Render)...)
		out = append(out, m.imageLines(&m.custom, w, false)...)
	}
	return out
}

// View implements common.Component.
func (m *Model) View() string {
	st := m.Styles
	title := st.Title.Render("Choose an edition")
	if q := m.filter.Value(); q != "" {
		title += st.Muted.Render(fmt.Sprintf("  %d of %d match", m.Matching(), len(m.editions)))
	}
	filterLine := ""
	if m.filtering || m.filter.Value() != "" {
		m.filter.SetWidth(max(m.listWidth()-4, 4))
		filterLine = m.filter.View()
	}

	lh := m.listHeight()
	lines, _ := m.rows()
	list := m.scroll.Render(lines, lh, st.Muted.Render)
	if m.Matching() == 0 && m.filter.Value() != "" {
		msg := st.Muted.Render(fmt.Sprintf("no edition matches %q (esc clears the search)", m.filter.Value()))
		list = strings.Join(common.Lines(msg+"\n"+list, lh), "\n")
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
	out := []string{title, filterLine, body}
	if m.notice != "" {
		out = append(out, strings.Join(common.WrapStyled(m.notice, m.Width, st.Warning.Render), "\n"))
	}
	return strings.Join(out, "\n")
}

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding {
	k := m.Keys
	if m.customOpen {
		res := k.Select
		res.SetHelp("enter", "check the image")
		if m.custom.info != nil && strings.TrimSpace(m.ref.Value()) == m.customRef {
			res.SetHelp("enter", "install this image")
		}
		back := k.Back
		back.SetHelp("esc", "close")
		return []key.Binding{res, back}
	}
	if m.filtering {
		return []key.Binding{k.ArrowUp, k.ArrowDown, k.ApplyFilter, k.ClearFilter}
	}
	b := []key.Binding{k.Up, k.Down, k.Select, k.Filter}
	if m.filter.Value() != "" {
		b = append(b, k.ClearFilter)
	} else {
		b = append(b, k.Back)
	}
	return b
}

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding {
	k := m.Keys
	if m.customOpen || m.filtering {
		return [][]key.Binding{m.ShortHelp()}
	}
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown}, {k.Select, k.Filter, k.ClearFilter, k.Back}}
}
