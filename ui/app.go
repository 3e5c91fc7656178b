package ui

import (
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/universal-atomic-installer/uai/catalog"
	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/installer/system"
	"github.com/universal-atomic-installer/uai/partition"
	"github.com/universal-atomic-installer/uai/ui/common"
	"github.com/universal-atomic-installer/uai/ui/screens/accounts"
	"github.com/universal-atomic-installer/uai/ui/screens/disk"
	"github.com/universal-atomic-installer/uai/ui/screens/done"
	"github.com/universal-atomic-installer/uai/ui/screens/edition"
	"github.com/universal-atomic-installer/uai/ui/screens/failure"
	"github.com/universal-atomic-installer/uai/ui/screens/network"
	"github.com/universal-atomic-installer/uai/ui/screens/progress"
	"github.com/universal-atomic-installer/uai/ui/screens/storage"
	"github.com/universal-atomic-installer/uai/ui/screens/summary"
	"github.com/universal-atomic-installer/uai/ui/screens/welcome"
)

// Screen names one screen of the installer.
type Screen int

// The screens, in the order the user meets them.
const (
	ScreenWelcome Screen = iota
	ScreenNetwork
	ScreenEdition
	ScreenDisk
	ScreenStorage
	ScreenAccounts
	ScreenSummary
	ScreenProgress
	ScreenDone
	ScreenError
)

var screenNames = [...]string{"welcome", "network", "edition", "disk", "storage", "accounts", "summary", "progress", "done", "error"}

// crumbNames are the screens' names in the header.
var crumbNames = [...]string{"Welcome", "Network", "Edition", "Disk", "Storage", "Accounts", "Review", "Install", "Finish", "Finish"}

func (s Screen) String() string {
	if int(s) >= 0 && int(s) < len(screenNames) {
		return screenNames[s]
	}
	return fmt.Sprintf("screen(%d)", int(s))
}

// Sections are the answer-file sections each question screen asks for; a
// screen is shown when its sections are interactive (or there are no
// answers).
var Sections = map[Screen][]string{
	ScreenWelcome:  {"system"},
	ScreenNetwork:  {"network"},
	ScreenEdition:  {"source"},
	ScreenDisk:     {"disk"},
	ScreenStorage:  {"storage"},
	ScreenAccounts: {"system", "root", "users"},
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

// factsMsg carries what the root reads about the machine at the start.
type factsMsg struct {
	machine *common.Machine
	merr    error
	disks   []partition.Disk
	derr    error
	isDisks bool
}

// Model is the root model: it owns the screens, routes messages to the one
// shown, walks the flow forward and back, handles the keys that mean the
// same everywhere (help, quit), keeps the request being built and the
// run's result. Its screens are pointers shared between copies of Model,
// as Bubble Tea only ever uses the newest copy.
type Model struct {
	com      common.Common
	help     help.Model
	showHelp bool
	dialog   dialog

	screen Screen
	// flow is the question screens shown, in order, then the summary.
	flow []Screen

	welcome  *welcome.Model
	network  *network.Model
	edition  *edition.Model
	disk     *disk.Model
	storage  *storage.Model
	accounts *accounts.Model
	summary  *summary.Model
	progress *progress.Model
	done     *done.Model
	failure  *failure.Model

	facts common.Facts
	// req is every answer so far; the screens fill it in.
	req           installer.Request
	chosenEdition catalog.Edition
	image         *catalog.ImageInfo
	chosenDisk    partition.Disk
	diskKnown     bool
	// storageFor is the disk and edition the storage screen was made for.
	storageFor string
	// waiting is a screen to go to once the disks are known.
	waiting *Screen
	plan    *installer.Plan

	result   installer.Result
	finished bool // result holds an install's outcome
	quitting bool
	// action is what the user chose to do after the install.
	action string
}

func newWithCommon(c common.Common) Model {
	c.Width, c.Height = 80, 24 // until the terminal says otherwise
	h := help.New()
	h.Styles = c.Styles.Help
	h.ShortSeparator = " · "
	h.FullSeparator = "    "
	h.Ellipsis = "..."
	m := Model{com: c, help: h}
	if p := c.Options.Preseed; p != nil {
		m.req = *p
	}
	for s := ScreenWelcome; s <= ScreenAccounts; s++ {
		if m.asked(s) {
			m.flow = append(m.flow, s)
		}
	}
	m.flow = append(m.flow, ScreenSummary)
	m.preseedEdition()
	m.screen = m.flow[0]
	m.create(m.screen)
	m.resize()
	return m
}

// asked reports whether screen s asks its questions, or the answer file
// answered them.
func (m Model) asked(s Screen) bool {
	p := m.com.Options.Preseed
	if p == nil {
		return true
	}
	for _, sec := range p.Interactive {
		if sec == "*" || slices.Contains(Sections[s], sec) {
			return true
		}
	}
	return false
}

// preseedEdition takes the edition from the answers when the edition
// screen is not shown.
func (m *Model) preseedEdition() {
	switch {
	case m.req.EditionID != "":
		if cat := m.com.Backend.Catalog(); cat != nil {
			if e, ok := cat.Lookup(m.req.EditionID); ok {
				m.chosenEdition = e
				return
			}
		}
		m.chosenEdition = catalog.Edition{ID: m.req.EditionID, Name: m.req.EditionID}
	case m.req.Image != "":
		m.chosenEdition = catalog.Edition{Name: m.req.Image, Image: m.req.Image, DefaultFilesystem: "xfs", MinDiskGiB: 10}
	}
}

// Screen returns the screen shown.
func (m Model) Screen() Screen { return m.screen }

// Flow returns the screens a person is asked on, in order.
func (m Model) Flow() []Screen { return slices.Clone(m.flow) }

// Request returns everything chosen so far.
func (m Model) Request() installer.Request { return m.req }

// Result is the run's result: the install's outcome, or an aborted result
// when the user left before an install finished.
func (m Model) Result() installer.Result { return m.result }

// Action is what the user chose to do after the install (ActionReboot,
// ...), or "" when the program ended otherwise.
func (m Model) Action() string { return m.action }

func (m Model) current() common.Component {
	switch m.screen {
	case ScreenWelcome:
		return m.welcome
	case ScreenNetwork:
		return m.network
	case ScreenEdition:
		return m.edition
	case ScreenDisk:
		return m.disk
	case ScreenStorage:
		return m.storage
	case ScreenAccounts:
		return m.accounts
	case ScreenSummary:
		return m.summary
	case ScreenProgress:
		return m.progress
	case ScreenDone:
		return m.done
	}
	return m.failure
}

// Init implements tea.Model: it reads the machine and its disks for every
// screen, and starts the first screen.
func (m Model) Init() tea.Cmd {
	ctx, b := m.com.Ctx, m.com.Backend
	return tea.Batch(
		func() tea.Msg { mc, err := b.Machine(ctx); return factsMsg{machine: &mc, merr: err} },
		func() tea.Msg { d, err := b.Disks(ctx); return factsMsg{disks: d, derr: err, isDisks: true} },
		m.current().Init(),
	)
}

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
	case factsMsg:
		if msg.isDisks {
			m.facts.Disks, m.facts.DisksErr, m.facts.DisksLoaded = msg.disks, msg.derr, true
		} else {
			m.facts.Machine, m.facts.MachineErr = msg.machine, msg.merr
			if msg.merr != nil {
				// Facts that could be read come back in Problems with no
				// error; an error means there are none to trust.
				m.facts.Machine = nil
			}
		}
		m.shareFacts()
		if m.waiting != nil && m.facts.DisksLoaded {
			s := *m.waiting
			m.waiting = nil
			return m.goTo(s)
		}
		return m, nil
	case common.WelcomeDoneMsg:
		if m.screen != ScreenWelcome {
			return m, nil
		}
		m.req.System.Locale, m.req.System.Keymap = msg.Locale.Locale, msg.Locale.Keymap
		return m.next()
	case common.NetworkDoneMsg:
		if m.screen != ScreenNetwork {
			return m, nil
		}
		if msg.WiFi != nil {
			m.req.Network.WiFi = []installer.WiFiRequest{*msg.WiFi}
		}
		return m.next()
	case common.EditionChosenMsg:
		if m.screen != ScreenEdition {
			return m, nil
		}
		m.chooseEdition(msg)
		return m.next()
	case common.DiskChosenMsg:
		if m.screen != ScreenDisk {
			return m, nil
		}
		m.chosenDisk, m.diskKnown = msg.Disk, true
		m.req.DiskPath = msg.Disk.Path
		m.req.Selector = partition.Selector{}
		return m.next()
	case common.StorageChosenMsg:
		if m.screen != ScreenStorage {
			return m, nil
		}
		m.req.Storage, m.req.Filesystem = msg.Storage, msg.Filesystem
		return m.next()
	case common.AccountsDoneMsg:
		if m.screen != ScreenAccounts {
			return m, nil
		}
		m.req.System.Hostname, m.req.System.Timezone = msg.Hostname, msg.Timezone
		m.req.Root, m.req.Users = msg.Root, msg.Users
		return m.next()
	case common.BackMsg:
		return m.back()
	case common.RetryMsg:
		if m.screen != ScreenError {
			return m, nil
		}
		return m.review(true)
	case common.UseRegistryMsg:
		if m.screen != ScreenSummary || msg.Plan == nil || msg.Plan != m.summary.Plan() || !m.summary.OffersRegistry() {
			return m, nil
		}
		m.useRegistry()
		return m.review(m.summary.Forced())
	case common.InstallMsg:
		if m.screen != ScreenSummary || msg.Plan == nil || msg.Plan != m.summary.Plan() {
			return m, nil
		}
		m.plan = msg.Plan
		m.req.Wipe = msg.Plan.Wipe
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
			m.failure = failure.New(m.com, m.plan, m.req, msg)
			return m.show(ScreenError, nil)
		}
		m.done = done.New(m.com, m.plan, m.req, msg)
		return m.show(ScreenDone, nil)
	case common.ExitMsg:
		if m.screen == ScreenDone {
			m.action = msg.Action
			return m.quit()
		}
		return m, nil
	}
	return m, m.current().Update(msg)
}

// shareFacts gives the facts to every screen that shows or checks them.
func (m *Model) shareFacts() {
	if m.welcome != nil {
		m.welcome.SetFacts(m.facts)
	}
	if m.network != nil {
		m.network.SetFacts(m.facts)
	}
	if m.edition != nil {
		m.edition.SetFacts(m.facts)
	}
}

func (m *Model) chooseEdition(msg common.EditionChosenMsg) {
	changed := msg.Edition.ID != m.chosenEdition.ID || msg.Edition.Image != m.chosenEdition.Image
	m.chosenEdition, m.image = msg.Edition, msg.Image
	m.req.Digest = ""
	// The runner choice weighs the image's size against the RAM.
	m.req.ImageSizeBytes = 0
	if msg.Image != nil {
		m.req.ImageSizeBytes = msg.Image.SizeBytes
	}
	if msg.Custom {
		m.req.EditionID, m.req.Image, m.req.TargetRef = "", msg.Edition.Image, ""
		// Install exactly the image that was checked; the installed
		// system still follows the ref as typed.
		if msg.Image != nil && msg.Image.DigestRef != "" && msg.Image.DigestRef != msg.Edition.Image {
			m.req.Image, m.req.TargetRef = msg.Image.DigestRef, msg.Edition.Image
		}
	} else {
		m.req.EditionID, m.req.Image, m.req.TargetRef = msg.Edition.ID, "", ""
	}
	if changed && m.asked(ScreenStorage) {
		// Another edition has another default filesystem and minimum.
		m.req.Filesystem = ""
		m.storage = nil
	}
}

// useRegistry pins the request to the build the registry offered when
// the image was resolved, instead of the install medium's: the runner's
// rules then no longer find it on the medium, and the installed system
// still follows the edition's (or the typed) ref.
func (m *Model) useRegistry() {
	if m.image == nil || m.image.Digest == "" {
		return
	}
	if m.req.EditionID != "" {
		// The edition keeps its kargs, filesystem and ref; only the
		// build is pinned.
		m.req.Digest = m.image.Digest
		return
	}
	m.req.Image, m.req.TargetRef = m.image.DigestRef, m.chosenEdition.Image
}

// position is the index of the shown screen in the flow, or -1.
func (m Model) position() int { return slices.Index(m.flow, m.screen) }

// next goes to the screen after the shown one.
func (m Model) next() (Model, tea.Cmd) {
	i := m.position()
	if i < 0 || i+1 >= len(m.flow) {
		return m, nil
	}
	return m.goTo(m.flow[i+1])
}

// back goes to the screen before the shown one; from the error screen,
// to the last question, whose answers are kept.
func (m Model) back() (Model, tea.Cmd) {
	switch m.screen {
	case ScreenProgress, ScreenDone:
		return m, nil
	case ScreenError:
		if len(m.flow) < 2 {
			return m, nil
		}
		return m.goTo(m.flow[len(m.flow)-2])
	}
	i := m.position()
	if i <= 0 {
		return m, nil
	}
	return m.show(m.flow[i-1], nil)
}

// goTo shows screen s, making it when needed. The storage and review
// screens need the disk: one from the answers is found once the disks
// are listed, and when it cannot be found the disk screen asks.
func (m Model) goTo(s Screen) (Model, tea.Cmd) {
	if (s == ScreenStorage || s == ScreenSummary) && !m.diskKnown {
		if !m.facts.DisksLoaded {
			m.waiting = &s
			return m, nil
		}
		d, err := m.findDisk()
		if err != nil {
			// Ask on the disk screen, where the reason is shown too.
			if !slices.Contains(m.flow, ScreenDisk) {
				at := slices.Index(m.flow, s)
				m.flow = slices.Insert(m.flow, at, ScreenDisk)
			}
			model, cmd := m.goTo(ScreenDisk)
			model.disk.SetNotice("The answer file's disk: " + err.Error())
			return model, cmd
		}
		m.chosenDisk, m.diskKnown = d, true
	}
	if s == ScreenSummary {
		return m.review(false)
	}
	fresh := m.create(s)
	m, _ = m.show(s, nil)
	if fresh {
		return m, m.current().Init()
	}
	return m, nil
}

// findDisk finds the disk the answers name among the disks listed.
func (m Model) findDisk() (partition.Disk, error) {
	if m.facts.DisksErr != nil {
		return partition.Disk{}, m.facts.DisksErr
	}
	if p := m.req.DiskPath; p != "" {
		for _, d := range m.facts.Disks {
			if d.Path == p || slices.Contains(d.ByID, p) || slices.Contains(d.ByPath, p) {
				return d, nil
			}
		}
		return partition.Disk{}, fmt.Errorf("%s is not among the disks of this machine", p)
	}
	if m.req.Selector.IsZero() {
		return partition.Disk{}, fmt.Errorf("no disk was given")
	}
	d, _, err := partition.Select(m.facts.Disks, m.req.Selector)
	return d, err
}

// create makes screen s when it does not exist yet, or no longer fits the
// choices made before it; it reports whether the screen is new (and so
// needs its Init run).
func (m *Model) create(s Screen) bool {
	c := m.com
	switch s {
	case ScreenWelcome:
		if m.welcome == nil {
			m.welcome = welcome.New(c, system.Locale{Locale: m.req.System.Locale, Keymap: m.req.System.Keymap})
			m.welcome.SetFacts(m.facts)
			return true
		}
	case ScreenNetwork:
		if m.network == nil {
			m.network = network.New(c)
			m.network.SetFacts(m.facts)
			return true
		}
	case ScreenEdition:
		if m.edition == nil {
			m.edition = edition.New(c, c.Backend.Catalog())
			m.edition.SetFacts(m.facts)
			m.edition.Choose(m.req.EditionID, m.req.Image)
			return true
		}
	case ScreenDisk:
		if m.disk == nil {
			m.disk = disk.New(c, m.chosenEdition)
			m.disk.Choose(m.req.DiskPath)
			return true
		}
		m.disk.SetEdition(m.chosenEdition)
	case ScreenStorage:
		key := m.chosenDisk.Path + "\x00" + m.chosenEdition.ID + "\x00" + m.chosenEdition.Image
		if m.storage == nil || m.storageFor != key {
			tpm := m.facts.Machine != nil && m.facts.Machine.TPM2
			m.storage = storage.New(c, m.chosenEdition, m.chosenDisk, tpm, m.req.Storage, m.req.Filesystem)
			m.storageFor = key
		}
		m.storage.SetBase(m.req)
	case ScreenAccounts:
		if m.accounts == nil {
			m.accounts = accounts.New(c, accounts.Start{
				Hostname: m.req.System.Hostname, Timezone: m.req.System.Timezone,
				Root: m.req.Root, Users: m.req.Users,
				Server: m.chosenEdition.Category == "server",
			})
			return true
		}
	}
	return false
}

// review shows a fresh summary; force demands the typed confirmation.
func (m Model) review(force bool) (Model, tea.Cmd) {
	m.summary = summary.New(m.com, m.chosenEdition, m.image, m.chosenDisk, m.req, force)
	return m.show(ScreenSummary, m.summary.Init())
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
	switch {
	case m.screen == ScreenDone, m.screen == m.flow[0] && m.screen != ScreenSummary:
		return m.quit()
	case m.screen == ScreenProgress:
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

// crumbs are the steps in the header: the flow, then install and finish.
func (m Model) crumbs() ([]string, int) {
	steps := append(slices.Clone(m.flow), ScreenProgress, ScreenDone)
	cur := slices.Index(steps, m.screen)
	if m.screen == ScreenError {
		cur = len(steps) - 1
	}
	names := make([]string, len(steps))
	for i, s := range steps {
		names[i] = crumbNames[s]
	}
	return names, cur
}

func (m Model) header() string {
	st := m.com.Styles
	names, cur := m.crumbs()
	parts := make([]string, len(names))
	for i, c := range names {
		switch {
		case i == cur:
			parts[i] = st.CrumbCurrent.Render(c)
		case i < cur:
			parts[i] = c
		default:
			parts[i] = st.Crumb.Render(c)
		}
	}
	var badges []string
	if m.com.Options.Demo {
		badges = append(badges, st.Badge.Render("[DEMO]"))
	}
	if m.com.Options.Simulated {
		badges = append(badges, st.SimBadge.Render("[simulated bootc]"))
	}
	right := strings.Join(badges, " ")
	brand := " " + st.Brand.Render("uai") + "  "
	left := brand + strings.Join(parts, st.Crumb.Render(" > "))
	if common.Width(left)+common.Width(right)+1 > m.com.Width {
		// Too narrow for every step: say where we are in words.
		left = brand + st.CrumbCurrent.Render(fmt.Sprintf("Step %d of %d: %s", cur+1, len(names), names[cur]))
	}
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
