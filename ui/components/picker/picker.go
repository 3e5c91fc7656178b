// Package picker is a list to choose one item from, narrowed by typing: languages, keyboard layouts, time zones.
package picker

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/universal-atomic-installer/uai/ui/common"
)

// Item is one choice: Value is what is kept, Label what is shown.
type Item struct {
	Value string
	Label string
}

// Model is a picker. The filter always has the keyboard: every letter
// narrows the list, arrows move, enter picks, esc gives up. It is smaller
// than bubbles' list, whose fuzzy filter and pagination would need another
// module and draw a different frame for the same state across versions.
type Model struct {
	com     common.Common
	Title   string
	items   []Item
	visible []int
	cursor  int
	scroll  common.Scroll
	filter  textinput.Model
}

// New returns a picker over items with the cursor on the item whose value
// is selected.
func New(c common.Common, title string, items []Item, selected string) *Model {
	p := &Model{com: c, Title: title, items: items, filter: c.NewInput("search: ")}
	p.filter.Placeholder = "type to narrow the list"
	p.filter.Focus()
	p.refilter()
	for i, vi := range p.visible {
		if items[vi].Value == selected {
			p.cursor = i
		}
	}
	return p
}

// Filter is the search text.
func (p *Model) Filter() string { return p.filter.Value() }

// Selected is the item under the cursor.
func (p *Model) Selected() (Item, bool) {
	if p.cursor < 0 || p.cursor >= len(p.visible) {
		return Item{}, false
	}
	return p.items[p.visible[p.cursor]], true
}

// Update handles a key. It returns the picked item when enter picks one,
// and done when the picker should close (picked, or esc).
func (p *Model) Update(msg tea.Msg) (picked *Item, done bool) {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil, false
	}
	keys := p.com.Keys
	switch {
	case key.Matches(k, keys.Select):
		if it, ok := p.Selected(); ok {
			return &it, true
		}
		return nil, false
	case key.Matches(k, keys.Back):
		if p.filter.Value() != "" {
			p.filter.Reset()
			p.refilter()
			return nil, false
		}
		return nil, true
	case key.Matches(k, keys.ArrowUp):
		p.move(-1)
	case key.Matches(k, keys.ArrowDown):
		p.move(1)
	case key.Matches(k, keys.PageUp):
		p.move(-10)
	case key.Matches(k, keys.PageDown):
		p.move(10)
	default:
		before := p.filter.Value()
		p.filter, _ = p.filter.Update(k)
		if p.filter.Value() != before {
			p.refilter()
		}
	}
	return nil, false
}

func (p *Model) move(n int) {
	if len(p.visible) == 0 {
		return
	}
	p.cursor = max(0, min(len(p.visible)-1, p.cursor+n))
}

// refilter keeps the items whose label or value contains every word of the
// filter, so "new york" finds America/New_York.
func (p *Model) refilter() {
	cur := -1
	if p.cursor >= 0 && p.cursor < len(p.visible) {
		cur = p.visible[p.cursor]
	}
	words := strings.Fields(strings.ToLower(strings.ReplaceAll(p.filter.Value(), "_", " ")))
	p.visible = p.visible[:0]
	p.cursor = 0
	for i, it := range p.items {
		hay := strings.ToLower(strings.ReplaceAll(it.Label+" "+it.Value, "_", " "))
		ok := true
		for _, w := range words {
			if !strings.Contains(hay, w) {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		if i == cur {
			p.cursor = len(p.visible)
		}
		p.visible = append(p.visible, i)
	}
	p.scroll = common.Scroll{}
}

// View renders the picker in exactly height lines of width cells.
func (p *Model) View(width, height int) string {
	st := p.com.Styles
	p.filter.SetWidth(max(width-len(p.filter.Prompt)-1, 1))
	head := st.Title.Render(p.Title) + st.Muted.Render(fmt.Sprintf("  %d of %d", len(p.visible), len(p.items)))
	lines := []string{common.Truncate(head, width), common.Truncate(p.filter.View(), width)}
	listH := max(height-len(lines), 1)
	if len(p.visible) == 0 {
		lines = append(lines, st.Muted.Render(common.Truncate(fmt.Sprintf("nothing matches %q (esc clears the search)", p.filter.Value()), width)))
		return strings.Join(common.Lines(strings.Join(lines, "\n"), height), "\n")
	}
	rows := make([]string, len(p.visible))
	for i, vi := range p.visible {
		it := p.items[vi]
		label := it.Label
		if it.Value != it.Label {
			label += st.Muted.Render("  " + it.Value)
		}
		if i == p.cursor {
			rows[i] = common.Truncate(st.Cursor.Render("> ")+st.Selected.Render(it.Label)+st.Muted.Render(strings.TrimPrefix(label, it.Label)), width)
		} else {
			rows[i] = common.Truncate("  "+label, width)
		}
	}
	p.scroll.Follow(p.cursor, p.cursor, listH, len(rows))
	lines = append(lines, p.scroll.Render(rows, listH, st.Muted.Render))
	return strings.Join(common.Lines(strings.Join(lines, "\n"), height), "\n")
}

// Help lists the picker's keys.
func (p *Model) Help() []key.Binding {
	k := p.com.Keys
	pick := k.Select
	pick.SetHelp("enter", "pick")
	back := k.Back
	back.SetHelp("esc", "cancel")
	return []key.Binding{k.ArrowUp, k.ArrowDown, pick, back}
}
