package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/universal-atomic-installer/uai/catalog"
	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/partition"
	"github.com/universal-atomic-installer/uai/ui/common"
	"github.com/universal-atomic-installer/uai/ui/screens/disk"
	"github.com/universal-atomic-installer/uai/ui/screens/done"
	"github.com/universal-atomic-installer/uai/ui/screens/edition"
	"github.com/universal-atomic-installer/uai/ui/screens/failure"
	"github.com/universal-atomic-installer/uai/ui/screens/progress"
	"github.com/universal-atomic-installer/uai/ui/screens/summary"
)

// Screen names one screen of the installer.
type Screen int

// The screens, in the order the user meets them.
const (
	ScreenEdition Screen = iota
	ScreenDisk
	ScreenSummary
	ScreenProgress
	ScreenDone
	ScreenError
)

var screenNames = [...]string{"edition", "disk", "summary", "progress", "done", "error"}

func (s Screen) String() string {
	if int(s) < len(screenNames) {
		return screenNames[s]
	}
	return fmt.Sprintf("screen(%d)", int(s))
}

type dialog int

const (
	noDialog dialog = iota
	quitDialog
	cancelDialog
	tooLateDialog
)

// The smallest terminal the screens are laid out for; below it the TUI
// says so instead of drawing a garbled screen.
const (
	minWidth  = 40
	minHeight = 12
)

// Model is the root model: it owns the screens, routes messages to the one
// shown, handles the keys that mean the same everywhere (help, quit) and
// keeps the run's result. Its screens are pointers shared between copies
// of Model, as Bubble Tea only ever uses the newest copy.
type Model struct {
	com      common.Common
	help     help.Model
	showHelp bool
	dialog   dialog

	screen   Screen
	edition  *edition.Model
	disk     *disk.Model
	summary  *summary.Model
	progress *progress.Model
	done     *done.Model
	failure  *failure.Model

	chosenEdition catalog.Edition
	chosenDisk    partition.Disk
	plan          *installer.Plan

	result   installer.Result
	finished bool // result holds an install's outcome
	quitting bool
}

func newWithCommon(c common.Common) Model {
	c.Width, c.Height = 80, 24 // until the terminal says otherwise
	h := help.New()
	h.Styles = c.Styles.Help
	h.ShortSeparator = " · "
	h.FullSeparator = "    "
	h.Ellipsis = "..."
	m := Model{com: c, help: h}
	m.edition = edition.New(c, c.Backend.Catalog())
	m.resize()
	return m
}

// Screen returns the screen shown.
func (m Model) Screen() Screen { return m.screen }

// Result is the run's result: the install's outcome, or an aborted result
// when the user left before an install finished.
func (m Model) Result() installer.Result { return m.result }

func (m Model) current() common.Component {
	switch m.screen {
	case ScreenDisk:
		return m.disk
	case ScreenSummary:
		return m.summary
	case ScreenProgress:
		return m.progress
	case ScreenDone:
		return m.done
	case ScreenError:
		return m.failure
	}
	return m.edition
}

// Init implements tea.Model.
func (m Model) Init() tea.Cmd { return m.edition.Init() }

// Update implements tea.Model.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	m, cmd := m.update(msg)
	m.resize()
	return m, cmd
}

func (m Model) update(msg tea.Msg) (Model, tea.Cmd) {
	// Navigation messages arrive through commands, so a key pressed twice
	// can send two; each is only obeyed on the screen that sends it.
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.com.Width, m.com.Height = msg.Width, msg.Height
		return m, nil
	case tea.KeyPressMsg:
		return m.key(msg)
	case common.EditionChosenMsg:
		if m.screen != ScreenEdition {
			return m, nil
		}
		m.chosenEdition = msg.Edition
		m.disk = disk.New(m.com, msg.Edition)
		return m.show(ScreenDisk, m.disk.Init())
	case common.DiskChosenMsg:
		if m.screen != ScreenDisk {
			return m, nil
		}
		m.chosenDisk = msg.Disk
		m.summary = summary.New(m.com, m.chosenEdition, msg.Disk, false)
		return m.show(ScreenSummary, m.summary.Init())
	case common.BackMsg:
		switch m.screen {
		case ScreenDisk:
			return m.show(ScreenEdition, nil)
		case ScreenSummary:
			return m.show(ScreenDisk, nil)
		case ScreenError:
			// The failed run may have written to the disk, whatever it
			// held before, so the plan is made afresh and the wipe must
			// be confirmed by name again. The failed result stays until
			// another install replaces it: quitting still reports it.
			m.summary = summary.New(m.com, m.chosenEdition, m.chosenDisk, true)
			return m.show(ScreenSummary, m.summary.Init())
		}
		return m, nil
	case common.InstallMsg:
		if m.screen != ScreenSummary || msg.Plan == nil || msg.Plan != m.summary.Plan() {
			return m, nil
		}
		m.plan = msg.Plan
		m.progress = progress.New(m.com, msg.Plan)
		return m.show(ScreenProgress, m.progress.Init())
	case common.FinishedMsg:
		if m.screen != ScreenProgress {
			return m, nil
		}
		m.result, m.finished = msg.Result, true
		m.dialog = noDialog
		if msg.Cancelled {
			return m.quit()
		}
		if msg.Failed() {
			m.failure = failure.New(m.com, m.plan, msg)
			return m.show(ScreenError, nil)
		}
		m.done = done.New(m.com, m.plan, msg)
		return m.show(ScreenDone, nil)
	case common.ExitMsg:
		if m.screen == ScreenDone {
			return m.quit()
		}
		return m, nil
	}
	return m, m.current().Update(msg)
}

func (m Model) show(s Screen, cmd tea.Cmd) (Model, tea.Cmd) {
	m.screen = s
	m.dialog = noDialog
	return m, cmd
}

func (m Model) key(k tea.KeyPressMsg) (Model, tea.Cmd) {
	keys := m.com.Keys
	if m.dialog != noDialog {
		return m.dialogKey(k)
	}
	cur := m.current()
	if key.Matches(k, keys.Interrupt) {
		return m.askQuit()
	}
	if !cur.Capturing() {
		switch {
		case key.Matches(k, keys.Help):
			m.showHelp = !m.showHelp
			return m, nil
		case m.screen == ScreenDone:
			// q is the done screen's own exit key.
		case key.Matches(k, keys.Quit):
			return m.askQuit()
		}
	}
	return m, cur.Update(k)
}

// askQuit asks before throwing away choices already made; on the first
// and last screens there is nothing to lose.
func (m Model) askQuit() (Model, tea.Cmd) {
	switch m.screen {
	case ScreenEdition, ScreenDone:
		return m.quit()
	case ScreenProgress:
		if m.progress.CanCancel() {
			m.dialog = cancelDialog
		} else {
			m.dialog = tooLateDialog
		}
		return m, nil
	}
	m.dialog = quitDialog
	return m, nil
}

func (m Model) dialogKey(k tea.KeyPressMsg) (Model, tea.Cmd) {
	keys := m.com.Keys
	switch m.dialog {
	case quitDialog:
		switch {
		case key.Matches(k, keys.Yes):
			return m.quit()
		case key.Matches(k, keys.No):
			m.dialog = noDialog
		}
	case cancelDialog:
		switch {
		case key.Matches(k, keys.Yes):
			if !m.progress.CanCancel() {
				// Partitioning began while the question was open.
				m.dialog = tooLateDialog
				return m, nil
			}
			m.progress.Cancel()
			m.dialog = noDialog
		case key.Matches(k, keys.No):
			m.dialog = noDialog
		}
	case tooLateDialog:
		if key.Matches(k, keys.Dismiss) {
			m.dialog = noDialog
		}
	}
	return m, nil
}

func (m Model) quit() (Model, tea.Cmd) {
	if !m.finished {
		r := aborted("cancelled by the user before the install started")
		r.Edition = m.chosenEdition.ID
		r.Disk = m.chosenDisk.Path
		m.result = r
	}
	m.quitting = true
	m.dialog = noDialog
	return m, tea.Quit
}

// waitInstall returns once no install started by this model is running.
func (m Model) waitInstall() {
	if m.progress != nil {
		m.progress.Wait()
	}
}

// resize gives the shown screen the space between header and footer,
// which changes with the terminal and with the help view.
func (m *Model) resize() {
	m.help.SetWidth(m.com.Width)
	h := m.com.Height - 2 - lipgloss.Height(m.footer())
	m.current().SetSize(m.com.Width, max(h, 1))
}

// View implements tea.Model.
func (m Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.WindowTitle = "uai installer"
	return v
}

// render returns the screen as text with style escapes; View wraps it.
func (m Model) render() string {
	w, h := m.com.Width, m.com.Height
	if w < minWidth || h < minHeight {
		msg := fmt.Sprintf("The installer needs a terminal of at least %dx%d; this one is %dx%d.", minWidth, minHeight, w, h)
		return strings.Join(common.Lines(strings.Join(common.Wrap(msg, max(w, 1)), "\n"), max(h, 1)), "\n")
	}
	footer := m.footer()
	bodyH := max(h-2-lipgloss.Height(footer), 1)
	var body string
	if m.dialog != noDialog {
		body = lipgloss.Place(w, bodyH, lipgloss.Center, lipgloss.Center, m.dialogBox())
	} else {
		body = m.current().View()
	}
	lines := []string{m.header(), m.com.Styles.Rule.Render(strings.Repeat("─", w))}
	lines = append(lines, common.Lines(body, bodyH)...)
	lines = append(lines, strings.Split(footer, "\n")...)
	for i, l := range lines {
		lines[i] = common.Truncate(l, w)
	}
	return strings.Join(lines, "\n")
}

var crumbs = []string{"Edition", "Disk", "Review", "Install", "Finish"}

func (m Model) header() string {
	st := m.com.Styles
	cur := int(min(m.screen, ScreenDone))
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
	left := " " + st.Brand.Render("uai") + "  " + strings.Join(parts, st.Crumb.Render(" > "))
	var badges []string
	if m.com.Options.Demo {
		badges = append(badges, st.Badge.Render("[DEMO]"))
	}
	if m.com.Options.Simulated {
		badges = append(badges, st.SimBadge.Render("[simulated bootc]"))
	}
	right := strings.Join(badges, " ")
	gap := m.com.Width - common.Width(left) - common.Width(right) - 1
	if gap < 1 {
		return left
	}
	return left + strings.Repeat(" ", gap) + right
}

// quitKey is the global binding that leaves from the current screen, for
// the help line; progress and done show their own.
func (m Model) quitKey() []key.Binding {
	switch m.screen {
	case ScreenProgress, ScreenDone:
		return nil
	}
	return []key.Binding{m.com.Keys.Quit}
}

func (m Model) footer() string {
	k := m.com.Keys
	var short []key.Binding
	var full [][]key.Binding
	switch {
	case m.dialog == tooLateDialog:
		short = []key.Binding{k.Dismiss}
		full = [][]key.Binding{short}
	case m.dialog != noDialog:
		short = []key.Binding{k.Yes, k.No}
		full = [][]key.Binding{short}
	case m.current().Capturing():
		short = append(m.current().ShortHelp(), k.Interrupt)
		full = append(m.current().FullHelp(), []key.Binding{k.Interrupt})
	default:
		short = append(append(m.current().ShortHelp(), k.Help), m.quitKey()...)
		full = append(m.current().FullHelp(), append([]key.Binding{k.Help}, m.quitKey()...))
	}
	if m.showHelp {
		return m.help.FullHelpView(full)
	}
	return m.help.ShortHelpView(short)
}

func (m Model) dialogBox() string {
	st := m.com.Styles
	var title, text string
	path := m.chosenDisk.Path
	switch m.dialog {
	case quitDialog:
		title = "Quit the installer?"
		text = "Nothing has been written to any disk."
		if m.finished {
			text = fmt.Sprintf("The install failed; the installer exits with code %d.", m.result.ExitCode)
		}
	case cancelDialog:
		title = "Cancel the install?"
		text = "Nothing has been written to " + path + " yet. Cancelling stops the install and leaves the installer."
	case tooLateDialog:
		title = "The install cannot be cancelled now."
		text = path + " is being written; stopping now would leave it half-installed. Wait for the install to finish or fail."
	}
	w := min(56, m.com.Width-8)
	lines := []string{st.Title.Render(title), ""}
	lines = append(lines, common.Wrap(text, w)...)
	lines = append(lines, "")
	if m.dialog == tooLateDialog {
		lines = append(lines, st.Muted.Render("enter/esc closes this"))
	} else {
		lines = append(lines, st.Muted.Render("y yes · n no"))
	}
	return st.Dialog.Render(strings.Join(lines, "\n"))
}
