// Package welcome is the first screen: what uai does, the live session's language and keyboard, and what this machine is.
package welcome

import (
	"errors"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/universal-atomic-installer/uai/catalog"
	"github.com/universal-atomic-installer/uai/installer/system"
	"github.com/universal-atomic-installer/uai/ui/common"
	"github.com/universal-atomic-installer/uai/ui/components/form"
	"github.com/universal-atomic-installer/uai/ui/components/picker"
)

// DocsURL is where the installer's guide lives.
const DocsURL = "https://github.com/universal-atomic-installer/uai/blob/main/docs/tui.md"

// Model is the welcome screen.
type Model struct {
	common.Common
	form   *form.Model
	picker *picker.Model
	// picking names the field the open picker sets.
	picking string

	locale system.Locale
	// live says how setting the live session went ("" before any try).
	live    string
	liveErr bool

	facts      common.Facts
	network    *system.NetworkStatus
	networkErr error
}

type (
	networkMsg struct {
		to *Model
		s  system.NetworkStatus
		e  error
	}
	localeMsg struct {
		to *Model
		l  system.Locale
		e  error
	}
	setMsg struct {
		to   *Model
		want system.Locale
		e    error
	}
)

// New returns the welcome screen; start is the language and keyboard from
// an answer file, if any, else what the live session has.
func New(c common.Common, start system.Locale) *Model {
	m := &Model{Common: c, locale: start}
	m.form = form.New(c, 12,
		&form.Field{Key: "language", Label: "Language", Kind: form.Action},
		&form.Field{Key: "keyboard", Label: "Keyboard", Kind: form.Action},
		&form.Field{Key: "continue", Label: "Continue", Kind: form.Button},
	)
	// Most people keep the defaults: enter goes on at once.
	m.form.FocusKey("continue")
	m.sync()
	return m
}

// Locale is the language and keyboard chosen.
func (m *Model) Locale() system.Locale {
	l := m.locale
	if l.Locale == "" {
		l.Locale = "en_US.UTF-8"
	}
	if l.Keymap == "" {
		l.Keymap = "us"
	}
	return l
}

func (m *Model) sync() {
	l := m.Locale()
	m.form.Get("language").Value = label(Languages, l.Locale)
	m.form.Get("keyboard").Value = label(Keymaps, l.Keymap)
}

// SetFacts gives the screen the machine and its disks, which the root
// reads once for every screen.
func (m *Model) SetFacts(f common.Facts) { m.facts = f }

// Init implements common.Component: it reads the network and the live
// session's locale, each in its own command.
func (m *Model) Init() tea.Cmd {
	ctx, b := m.Ctx, m.Backend
	cmds := []tea.Cmd{
		func() tea.Msg { s, err := b.NetworkStatus(ctx); return networkMsg{m, s, err} },
	}
	if m.locale == (system.Locale{}) {
		cmds = append(cmds, func() tea.Msg { l, err := b.LiveLocale(ctx); return localeMsg{m, l, err} })
	}
	return tea.Batch(cmds...)
}

// SetSize implements common.Component.
func (m *Model) SetSize(w, h int) { m.Common.SetSize(w, h) }

// Capturing implements common.Component: the open picker takes letters.
func (m *Model) Capturing() bool { return m.picker != nil }

// Update implements common.Component.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case networkMsg:
		if msg.to == m {
			m.network, m.networkErr = &msg.s, msg.e
		}
		return nil
	case localeMsg:
		if msg.to == m && msg.e == nil && m.locale == (system.Locale{}) {
			m.locale = msg.l
			m.sync()
		}
		return nil
	case setMsg:
		if msg.to != m {
			return nil
		}
		m.liveErr = msg.e != nil
		switch {
		case msg.e == nil:
			m.live = fmt.Sprintf("The live session now uses %s with the %s keyboard.", msg.want.Locale, msg.want.Keymap)
		case errors.Is(msg.e, common.ErrDemo):
			m.live = "Demo: this computer's language and keyboard are left alone; the choice applies to the installed system."
		case errors.Is(msg.e, system.ErrNoService):
			m.live = "localed is not running here, so the live session keeps its keyboard; the choice applies to the installed system."
		default:
			m.live = "Could not change the live session: " + msg.e.Error()
		}
		return nil
	case tea.KeyPressMsg:
		return m.key(msg)
	}
	return nil
}

func (m *Model) key(k tea.KeyPressMsg) tea.Cmd {
	if m.picker != nil {
		picked, done := m.picker.Update(k)
		if !done {
			return nil
		}
		m.picker = nil
		if picked == nil {
			return nil
		}
		if m.picking == "language" {
			m.locale.Locale = picked.Value
		} else {
			m.locale.Keymap = picked.Value
		}
		m.sync()
		want, ctx, b := m.Locale(), m.Ctx, m.Backend
		return func() tea.Msg { return setMsg{m, want, b.SetLiveLocale(ctx, want)} }
	}
	switch m.form.Update(k) {
	case form.Activated:
		m.picking = m.form.Focused().Key
		l := m.Locale()
		if m.picking == "language" {
			m.picker = picker.New(m.Common, "Language", withValue(Languages, l.Locale), l.Locale)
		} else {
			m.picker = picker.New(m.Common, "Keyboard layout", withValue(Keymaps, l.Keymap), l.Keymap)
		}
		return nil
	case form.Submitted:
		return common.Send(common.WelcomeDoneMsg{Locale: m.Locale()})
	}
	return nil
}

// machineLines renders what is known about the machine.
func (m *Model) machineLines(w int) []string {
	st := m.Styles
	const lw = 12
	var out []string
	kv := func(l, v string) { out = append(out, common.KeyValue(l, v, lw, w-2, st.Label.Render)...) }
	switch {
	case m.facts.Machine == nil && m.facts.MachineErr == nil:
		return []string{st.Muted.Render("  Looking at this machine...")}
	case m.facts.Machine == nil:
		return common.WrapStyled("  could not read this machine: "+m.facts.MachineErr.Error(), w, st.Error.Render)
	}
	mc := m.facts.Machine
	fw := "unknown"
	switch mc.Firmware {
	case catalog.FirmwareUEFI:
		fw = "UEFI"
		switch mc.SecureBoot {
		case "on":
			fw += ", Secure Boot on"
		case "off":
			fw += ", Secure Boot off"
		}
	case catalog.FirmwareBIOS:
		fw = "BIOS (legacy boot)"
	}
	if mc.Arch != "" {
		fw += ", " + mc.Arch
	}
	kv("Firmware", fw)
	ram := "unknown"
	if mc.RAMBytes > 0 {
		ram = common.Bytes(mc.RAMBytes)
	}
	tpm := "no TPM 2.0"
	if mc.TPM2 {
		tpm = "TPM 2.0 present"
	}
	kv("Memory", ram+"; "+tpm)
	kv("Disks", m.diskSummary())
	kv("Network", m.networkSummary())
	for _, p := range mc.Problems {
		out = append(out, common.WrapStyled("  "+p, w, st.Muted.Render)...)
	}
	for i := range out {
		out[i] = "  " + out[i]
	}
	return out
}

func (m *Model) diskSummary() string {
	f := m.facts
	switch {
	case f.DisksErr != nil:
		return "could not list them: " + f.DisksErr.Error()
	case !f.DisksLoaded:
		return "looking..."
	case len(f.Disks) == 0:
		return "none found"
	}
	parts := make([]string, len(f.Disks))
	for i, d := range f.Disks {
		parts[i] = d.Name + " " + common.Bytes(d.SizeBytes)
		if d.Transport != "" {
			parts[i] += " " + d.Transport
		}
	}
	return fmt.Sprintf("%d: %s", len(f.Disks), strings.Join(parts, ", "))
}

func (m *Model) networkSummary() string {
	switch {
	case m.networkErr != nil && errors.Is(m.networkErr, system.ErrNoNetworkManager):
		return "not managed here (NetworkManager is not running)"
	case m.networkErr != nil:
		return "unknown: " + m.networkErr.Error()
	case m.network == nil:
		return "looking..."
	}
	return Describe(*m.network)
}

// Describe says in one line what the network is doing.
func Describe(s system.NetworkStatus) string {
	var parts []string
	for _, d := range s.Devices {
		switch d.Kind {
		case "ethernet":
			parts = append(parts, "wired "+d.Interface+" "+d.StateText())
		case "wifi":
			w := "Wi-Fi " + d.Interface + " " + d.StateText()
			if d.Connected() && d.Connection != "" {
				w += " to " + d.Connection
			}
			parts = append(parts, w)
		}
	}
	if len(parts) == 0 {
		parts = append(parts, "no network device")
	}
	return strings.Join(parts, "; ") + "; internet: " + s.Connectivity.String()
}

// View implements common.Component.
func (m *Model) View() string {
	st := m.Styles
	w := m.Width
	if m.picker != nil {
		return m.picker.View(w, m.Height)
	}
	lines := []string{st.Title.Render("Welcome to uai, the Universal Atomic Installer")}
	intro := "uai installs a bootable-container (bootc) edition on a disk of this machine. Nothing is written to any disk until you confirm the plan on the Review screen."
	lines = append(lines, common.Wrap(intro, w)...)
	lines = append(lines, common.Truncate(st.Muted.Render("Guide: ")+DocsURL, w), "")
	lines = append(lines, m.form.View(w)...)
	switch {
	case m.live != "" && m.liveErr:
		lines = append(lines, common.WrapStyled(m.live, w, st.Warning.Render)...)
	case m.live != "":
		lines = append(lines, common.WrapStyled(m.live, w, st.Success.Render)...)
	default:
		lines = append(lines, common.WrapStyled("Language and keyboard apply to this live session now and to the installed system; uai's own screens are in English.", w, st.Muted.Render)...)
	}
	title := "This machine"
	if mc := m.facts.Machine; mc != nil && mc.Name != "" {
		title = "Recorded machine " + mc.Name + " (demo: not this computer)"
	}
	lines = append(lines, "", st.Title.Render(common.Truncate(title, w)))
	lines = append(lines, m.machineLines(w)...)
	return strings.Join(common.Lines(strings.Join(lines, "\n"), m.Height), "\n")
}

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding {
	if m.picker != nil {
		return m.picker.Help()
	}
	return m.form.Help()
}

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding { return [][]key.Binding{m.ShortHelp()} }
