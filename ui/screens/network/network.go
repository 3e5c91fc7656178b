// Package network is the screen that shows the wired and Wi-Fi state, joins a Wi-Fi network with a passphrase through NetworkManager, and checks the internet.
package network

import (
	"errors"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/installer/system"
	"github.com/universal-atomic-installer/uai/ui/common"
)

// Model is the network screen.
type Model struct {
	common.Common
	facts   common.Facts
	spinner spinner.Model

	status    *system.NetworkStatus
	statusErr error
	aps       []system.AccessPoint
	scanErr   error
	scanning  bool
	checking  bool

	// cursor 0 is the Continue row; 1.. are the networks.
	cursor int
	scroll common.Scroll

	// asking is the network the passphrase field is for ("" when closed).
	asking     string
	passphrase textinput.Model
	// connecting is the network being joined.
	connecting string
	// joined is the network joined on this screen, for the answers.
	joined *installer.WiFiRequest
	// notice is the outcome of the last action, good or bad.
	notice    string
	noticeBad bool
}

type (
	statusMsg struct {
		to *Model
		s  system.NetworkStatus
		e  error
	}
	scanMsg struct {
		to  *Model
		aps []system.AccessPoint
		e   error
	}
	connectMsg struct {
		to         *Model
		ssid, pass string
		e          error
	}
	checkMsg struct {
		to *Model
		c  system.Connectivity
		e  error
	}
)

// New returns the network screen.
func New(c common.Common) *Model {
	return &Model{
		Common:     c,
		spinner:    spinner.New(spinner.WithSpinner(spinner.Line), spinner.WithStyle(c.Styles.Muted)),
		passphrase: c.NewSecret(""),
	}
}

// SetFacts gives the screen the machine (whether an offline source exists).
func (m *Model) SetFacts(f common.Facts) { m.facts = f }

// Init implements common.Component: it reads the state and scans.
func (m *Model) Init() tea.Cmd {
	cmds := []tea.Cmd{m.readStatus(), m.scan()}
	if m.Animate {
		cmds = append(cmds, m.spinner.Tick)
	}
	return tea.Batch(cmds...)
}

func (m *Model) readStatus() tea.Cmd {
	ctx, b := m.Ctx, m.Backend
	return func() tea.Msg { s, err := b.NetworkStatus(ctx); return statusMsg{m, s, err} }
}

func (m *Model) scan() tea.Cmd {
	m.scanning = true
	ctx, b := m.Ctx, m.Backend
	return func() tea.Msg { aps, err := b.ScanWiFi(ctx); return scanMsg{m, aps, err} }
}

func (m *Model) check() tea.Cmd {
	m.checking = true
	ctx, b := m.Ctx, m.Backend
	return func() tea.Msg { c, err := b.CheckConnectivity(ctx); return checkMsg{m, c, err} }
}

// SetSize implements common.Component.
func (m *Model) SetSize(w, h int) { m.Common.SetSize(w, h) }

// Capturing implements common.Component: the passphrase takes letters.
func (m *Model) Capturing() bool { return m.asking != "" }

// Online reports whether the internet is reachable.
func (m *Model) Online() bool { return m.status != nil && m.status.Connectivity.Online() }

func (m *Model) unmanaged() bool {
	return m.statusErr != nil && errors.Is(m.statusErr, system.ErrNoNetworkManager)
}

func (m *Model) offline() bool { return m.facts.Machine != nil && m.facts.Machine.Offline }

// Selected returns the network under the cursor.
func (m *Model) Selected() (system.AccessPoint, bool) {
	if m.cursor < 1 || m.cursor > len(m.aps) {
		return system.AccessPoint{}, false
	}
	return m.aps[m.cursor-1], true
}

// Update implements common.Component.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case statusMsg:
		if msg.to == m {
			m.status, m.statusErr = &msg.s, msg.e
			if msg.e != nil {
				m.status = nil
			}
		}
		return nil
	case scanMsg:
		if msg.to != m {
			return nil
		}
		m.scanning = false
		m.scanErr = msg.e
		if msg.e == nil {
			sel, _ := m.Selected()
			m.aps = msg.aps
			m.cursor = min(m.cursor, len(m.aps))
			for i, ap := range m.aps {
				if ap.SSID == sel.SSID && sel.SSID != "" {
					m.cursor = i + 1
				}
			}
		}
		return nil
	case checkMsg:
		if msg.to != m {
			return nil
		}
		m.checking = false
		if msg.e != nil {
			m.setNotice("Could not check the internet: "+msg.e.Error(), true)
		} else if m.status != nil {
			m.status.Connectivity = msg.c
		}
		return nil
	case connectMsg:
		if msg.to != m {
			return nil
		}
		m.connecting = ""
		switch {
		case msg.e == nil:
			m.joined = &installer.WiFiRequest{SSID: msg.ssid, PSK: msg.pass}
			m.setNotice("Joined "+msg.ssid+".", false)
			return tea.Batch(m.readStatus(), m.scan(), m.check())
		case errors.Is(msg.e, system.ErrWrongPassphrase):
			// Ask again, on this screen, with the field cleared.
			m.asking = msg.ssid
			m.passphrase.Reset()
			m.passphrase.Focus()
			m.setNotice(msg.ssid+" refused the passphrase: check it (and the keyboard layout) and type it again.", true)
		default:
			m.setNotice(msg.e.Error(), true)
		}
		return m.readStatus()
	case spinner.TickMsg:
		if !m.scanning && m.connecting == "" && !m.checking {
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

func (m *Model) setNotice(s string, bad bool) { m.notice, m.noticeBad = s, bad }

func (m *Model) key(k tea.KeyPressMsg) tea.Cmd {
	keys := m.Keys
	if m.asking != "" {
		switch {
		case key.Matches(k, keys.Back):
			m.asking = ""
			m.passphrase.Reset()
			m.passphrase.Blur()
			m.notice = ""
		case key.Matches(k, keys.Select):
			pass := m.passphrase.Value()
			if err := system.CheckPassphrase(pass); err != nil {
				m.setNotice(err.Error(), true)
				return nil
			}
			return m.connect(m.asking, pass)
		default:
			m.passphrase, _ = m.passphrase.Update(k)
		}
		return nil
	}
	if m.connecting != "" {
		// A join cannot be called back half-way: wait for its outcome.
		return nil
	}
	switch {
	case key.Matches(k, keys.Back):
		return common.Send(common.BackMsg{})
	case key.Matches(k, keys.Up):
		m.cursor = max(0, m.cursor-1)
		m.notice = ""
	case key.Matches(k, keys.Down):
		m.cursor = min(len(m.aps), m.cursor+1)
		m.notice = ""
	case key.Matches(k, keys.Rescan):
		return m.scan()
	case key.Matches(k, keys.CheckNet):
		return tea.Batch(m.readStatus(), m.check())
	case key.Matches(k, keys.Select):
		if m.cursor == 0 {
			return m.proceed()
		}
		ap, _ := m.Selected()
		switch {
		case !ap.Supported():
			m.setNotice(ap.SSID+" is a "+ap.Security+" network, which needs settings uai does not ask for; use a cable or another network.", true)
		case ap.Active:
			m.setNotice("Already connected to "+ap.SSID+".", false)
		case ap.Secured():
			m.asking = ap.SSID
			m.passphrase.Reset()
			m.passphrase.Focus()
			m.notice = ""
		default:
			return m.connect(ap.SSID, "")
		}
	}
	return nil
}

func (m *Model) connect(ssid, pass string) tea.Cmd {
	m.asking = ""
	m.passphrase.Blur()
	m.connecting = ssid
	m.setNotice("", false)
	ctx, b := m.Ctx, m.Backend
	cmds := []tea.Cmd{func() tea.Msg { return connectMsg{m, ssid, pass, b.ConnectWiFi(ctx, ssid, pass)} }}
	if m.Animate {
		cmds = append(cmds, m.spinner.Tick)
	}
	return tea.Batch(cmds...)
}

// proceed leaves the screen when the install can get its image.
func (m *Model) proceed() tea.Cmd {
	if !m.Online() && !m.offline() && !m.unmanaged() {
		m.setNotice("No internet yet: join a Wi-Fi network below or plug in a cable (c checks again). The image is downloaded during the install.", true)
		return nil
	}
	return common.Send(common.NetworkDoneMsg{WiFi: m.joined})
}

func (m *Model) continueLabel() string {
	switch {
	case m.unmanaged():
		return "Continue (uai cannot manage the network here)"
	case m.Online():
		return "Continue: the internet is reachable"
	case m.offline():
		return "Continue without network: the image needs no download"
	case m.status == nil && m.statusErr == nil:
		return "Continue"
	}
	return "Continue (no internet yet)"
}

func (m *Model) stateLines() []string {
	st := m.Styles
	w := m.Width
	const lw = 11
	var out []string
	kv := func(l, v string) { out = append(out, common.KeyValue(l, v, lw, w, st.Label.Render)...) }
	switch {
	case m.unmanaged():
		out = append(out, common.WrapStyled("NetworkManager is not running, so uai cannot show or change the network here; the install uses whatever network the live system has.", w, st.Warning.Render)...)
		return out
	case m.statusErr != nil:
		out = append(out, common.WrapStyled("could not read the network: "+m.statusErr.Error(), w, st.Error.Render)...)
		return out
	case m.status == nil:
		return []string{m.spinner.View() + " Reading the network..."}
	}
	s := m.status
	if len(s.Wired()) == 0 {
		kv("Wired", "no wired device")
	}
	for _, d := range s.Wired() {
		v := d.Interface + "  " + d.StateText()
		if d.Connection != "" && d.Connected() {
			v += " (" + d.Connection + ")"
		}
		kv("Wired", v)
	}
	for _, d := range s.WiFi() {
		v := d.Interface + "  " + d.StateText()
		if d.Connection != "" && d.Connected() {
			v += " to " + d.Connection
		}
		kv("Wi-Fi", v)
	}
	net := s.Connectivity.String()
	switch {
	case m.checking:
		net = m.spinner.View() + " checking..."
	case s.Connectivity == system.ConnectivityPortal:
		net += ": a login page stands in the way; connect another way"
	case s.Connectivity.Online():
		net += ": the internet is reachable"
	}
	kv("Internet", net)
	return out
}

func (m *Model) rows() []string {
	st := m.Styles
	w := m.Width
	var rows []string
	// One column of names, as wide as the longest (to a limit), so the
	// signal and security line up under each other.
	nameW := 8
	for _, ap := range m.aps {
		nameW = max(nameW, min(common.Width(ap.SSID), 32))
	}
	for i, ap := range m.aps {
		sec := ap.Security
		if !ap.Supported() {
			sec += " (not supported)"
		}
		if ap.Active {
			sec += ", connected"
		}
		name := common.Fit(ap.SSID, nameW)
		line := fmt.Sprintf("%s %4d%%  %s", name, ap.Strength, sec)
		switch {
		case i+1 == m.cursor:
			line = st.Cursor.Render("> ") + st.Selected.Render(line)
		case !ap.Supported():
			line = "  " + st.Disabled.Render(line)
		default:
			line = "  " + line
		}
		rows = append(rows, common.Truncate(line, w))
	}
	return rows
}

// View implements common.Component.
func (m *Model) View() string {
	st := m.Styles
	w := m.Width
	lines := []string{st.Title.Render("Network"), ""}
	lines = append(lines, m.stateLines()...)
	lines = append(lines, "")
	cont := m.continueLabel()
	if m.cursor == 0 {
		lines = append(lines, common.Truncate(st.Cursor.Render("> ")+st.Selected.Render(cont), w))
	} else {
		lines = append(lines, common.Truncate("  "+cont, w))
	}
	var bottom []string
	switch {
	case m.connecting != "":
		bottom = append(bottom, m.spinner.View()+" Joining "+m.connecting+"...")
	case m.asking != "":
		m.passphrase.SetWidth(max(w-len("Passphrase for ")-len(m.asking)-4, 8))
		bottom = append(bottom, common.Truncate(st.Title.Render("Passphrase for "+m.asking+": ")+m.passphrase.View(), w))
	}
	if m.notice != "" {
		style := st.Success.Render
		if m.noticeBad {
			style = st.Error.Render
		}
		bottom = append(bottom, common.WrapStyled(m.notice, w, style)...)
	}
	if !m.unmanaged() {
		head := st.Title.Render("Wi-Fi networks")
		switch {
		case m.scanning:
			head += "  " + m.spinner.View() + st.Muted.Render(" scanning...")
		case m.scanErr != nil:
			head += st.Muted.Render("  " + m.scanErr.Error())
		case len(m.aps) == 0:
			head += st.Muted.Render("  none in range (r scans again)")
		}
		lines = append(lines, "", common.Truncate(head, w))
		room := max(m.Height-len(lines)-len(bottom)-1, 3)
		rows := m.rows()
		if len(rows) > 0 {
			m.scroll.Follow(max(m.cursor-1, 0), max(m.cursor-1, 0), room, len(rows))
			lines = append(lines, strings.Split(m.scroll.Render(rows, min(room, len(rows)), st.Muted.Render), "\n")...)
		}
	}
	if len(bottom) > 0 {
		lines = append(lines, "")
		lines = append(lines, bottom...)
	}
	return strings.Join(common.Lines(strings.Join(lines, "\n"), m.Height), "\n")
}

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding {
	k := m.Keys
	if m.asking != "" {
		join := k.Select
		join.SetHelp("enter", "join")
		back := k.Back
		back.SetHelp("esc", "cancel")
		return []key.Binding{join, back}
	}
	sel := k.Select
	if m.cursor > 0 {
		sel.SetHelp("enter", "join")
	} else {
		sel.SetHelp("enter", "continue")
	}
	if m.unmanaged() {
		return []key.Binding{sel, k.Back}
	}
	return []key.Binding{sel, k.Rescan, k.CheckNet, k.Back}
}

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding {
	k := m.Keys
	return [][]key.Binding{{k.Up, k.Down}, {k.Select, k.Rescan, k.CheckNet, k.Back}}
}
