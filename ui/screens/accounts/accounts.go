// Package accounts is the screen that asks for the host name, the time zone and how to log in: a user with a password or SSH key, or root with an SSH key only.
package accounts

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/ui/common"
	"github.com/universal-atomic-installer/uai/ui/components/form"
	"github.com/universal-atomic-installer/uai/ui/components/picker"
)

// Account modes.
const (
	ModeUser    = "user"
	ModeRootKey = "root"
)

// wheel is the group whose members may use sudo on Fedora and its kin.
const wheel = "wheel"

// Model is the accounts screen.
type Model struct {
	common.Common
	form   *form.Model
	picker *picker.Model

	zones    []string
	zonesErr error
	timezone string
	// forServers is true for an edition of the server category, where
	// root with a key is the usual way in.
	forServers bool
	// more are the accounts after the first one of the answers: the
	// screen edits one account and keeps the others as they were.
	more []installer.UserRequest
}

type zonesMsg struct {
	to      *Model
	zones   []string
	current string
	err     error
}

// Start is what the screen starts with: answers, or an earlier visit.
type Start struct {
	Hostname string
	Timezone string
	Root     installer.RootRequest
	Users    []installer.UserRequest
	// Server suggests root with an SSH key when nothing else was given.
	Server bool
}

// New returns the accounts screen.
func New(c common.Common, s Start) *Model {
	m := &Model{Common: c, timezone: s.Timezone, forServers: s.Server}
	host := &form.Field{Key: "hostname", Label: "Host name", Kind: form.Text, Input: c.NewInput("")}
	host.Input.Placeholder = "as the image sets it (e.g. fedora)"
	host.Input.CharLimit = 64
	host.Input.SetValue(s.Hostname)
	tz := &form.Field{Key: "timezone", Label: "Time zone", Kind: form.Action}
	mode := &form.Field{Key: "mode", Label: "Log in as", Kind: form.Choice, Options: []form.Option{
		{Value: ModeUser, Label: "a user of your own (password and/or SSH key)"},
		{Value: ModeRootKey, Label: "root, with an SSH key only (servers)"},
	}}
	user := &form.Field{Key: "user", Label: "User name", Kind: form.Text, Input: c.NewInput("")}
	user.Input.CharLimit = 32
	user.Input.Placeholder = "e.g. alex"
	p1 := &form.Field{Key: "pass1", Label: "Password", Kind: form.Text, Input: c.NewSecret("")}
	p2 := &form.Field{Key: "pass2", Label: "Repeat it", Kind: form.Text, Input: c.NewSecret("")}
	ukey := &form.Field{Key: "userkey", Label: "SSH key", Kind: form.Text, Input: c.NewInput("")}
	ukey.Input.Placeholder = "optional: ssh-ed25519 AAAA... you@host"
	admin := &form.Field{Key: "admin", Label: "Rights", Kind: form.Check, Checked: true, Options: []form.Option{{Label: "administrator (in group wheel: may use sudo)"}}}
	rkey := &form.Field{Key: "rootkey", Label: "Root SSH key", Kind: form.Text, Input: c.NewInput("")}
	rkey.Input.Placeholder = "ssh-ed25519 AAAA... you@host"
	m.form = form.New(c, 14, host, tz, mode, user, p1, p2, ukey, admin, rkey,
		&form.Field{Key: "continue", Label: "Continue", Kind: form.Button})

	switch {
	case len(s.Users) > 0:
		u := s.Users[0]
		m.more = s.Users[1:]
		user.Input.SetValue(u.Name)
		p1.Input.SetValue(u.Password)
		p2.Input.SetValue(u.Password)
		if len(u.SSHAuthorizedKeys) > 0 {
			ukey.Input.SetValue(u.SSHAuthorizedKeys[0])
		}
		admin.Checked = len(u.Groups) == 0 || contains(u.Groups, wheel)
	case len(s.Root.SSHAuthorizedKeys) > 0:
		mode.Choose(ModeRootKey)
		rkey.Input.SetValue(s.Root.SSHAuthorizedKeys[0])
	case s.Server:
		mode.Choose(ModeRootKey)
	}
	m.sync()
	// Start on the first question without an answer.
	switch {
	case mode.Current() == ModeRootKey && rkey.Input.Value() == "":
		m.form.FocusKey("rootkey")
	case mode.Current() == ModeUser && user.Input.Value() == "":
		m.form.FocusKey("user")
	default:
		m.form.FocusKey("continue")
	}
	return m
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// Timezone is the time zone chosen.
func (m *Model) Timezone() string {
	if m.timezone == "" {
		return "UTC"
	}
	return m.timezone
}

func (m *Model) sync() {
	f := m.form
	user := f.Get("mode").Current() == ModeUser
	for _, k := range []string{"user", "pass1", "pass2", "userkey", "admin"} {
		f.Get(k).Hidden = !user
	}
	f.Get("rootkey").Hidden = user
	f.Get("timezone").Value = m.Timezone()
	if m.zonesErr != nil {
		f.Get("timezone").Hint = "could not list the time zones (" + m.zonesErr.Error() + "); UTC is used unless an answer file says otherwise"
	}
	p1 := f.Get("pass1")
	if v := p1.Input.Value(); v != "" && p1.Error == "" {
		_, p1.Hint = common.Strength(v)
	} else if v == "" {
		p1.Hint = "leave it empty only if you give an SSH key"
	}
	if f.Get("mode").Current() == ModeRootKey {
		f.Get("rootkey").Hint = "root gets no password; log in with: ssh root@HOST"
	}
	f.Refocus()
}

// Init implements common.Component: it lists the time zones.
func (m *Model) Init() tea.Cmd {
	ctx, b := m.Ctx, m.Backend
	return func() tea.Msg {
		z, cur, err := b.Timezones(ctx)
		return zonesMsg{m, z, cur, err}
	}
}

// SetSize implements common.Component.
func (m *Model) SetSize(w, h int) { m.Common.SetSize(w, h) }

// Capturing implements common.Component.
func (m *Model) Capturing() bool { return m.picker != nil || m.form.Capturing() }

// Form exposes the form, for tests.
func (m *Model) Form() *form.Model { return m.form }

// Update implements common.Component.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case zonesMsg:
		if msg.to != m {
			return nil
		}
		m.zones, m.zonesErr = msg.zones, msg.err
		if m.timezone == "" {
			m.timezone = msg.current
		}
		m.sync()
		return nil
	case tea.KeyPressMsg:
		return m.key(msg)
	}
	return nil
}

func (m *Model) key(k tea.KeyPressMsg) tea.Cmd {
	if m.picker != nil {
		picked, done := m.picker.Update(k)
		if done {
			m.picker = nil
			if picked != nil {
				m.timezone = picked.Value
				m.form.Get("timezone").Error = ""
			}
			m.sync()
		}
		return nil
	}
	if key.Matches(k, m.Keys.Back) {
		return common.Send(common.BackMsg{})
	}
	switch m.form.Update(k) {
	case form.Activated:
		items := make([]picker.Item, 0, len(m.zones)+1)
		seen := false
		for _, z := range m.zones {
			items = append(items, picker.Item{Value: z, Label: z})
			seen = seen || z == "UTC"
		}
		if !seen {
			items = append(items, picker.Item{Value: "UTC", Label: "UTC"})
		}
		m.picker = picker.New(m.Common, "Time zone", items, m.Timezone())
		return nil
	case form.Submitted:
		m.sync()
		if done, ok := m.check(); ok {
			return common.Send(done)
		}
	}
	m.sync()
	return nil
}

// check validates the fields with the rules of answer files, so a value
// typed here is accepted there too, and returns what was chosen.
func (m *Model) check() (common.AccountsDoneMsg, bool) {
	f := m.form
	out := common.AccountsDoneMsg{
		Hostname: strings.TrimSpace(f.Get("hostname").Input.Value()),
		Timezone: m.Timezone(),
	}
	ok := true
	bad := func(k, msg string) {
		if ok {
			f.FocusKey(k)
		}
		f.Get(k).Error = msg
		ok = false
	}
	// Answer keys and the fields they come from, in the form's order, so
	// the first bad field gets the keyboard.
	byKey := [][2]string{{"system.hostname", "hostname"}, {"system.timezone", "timezone"}}
	if f.Get("mode").Current() == ModeRootKey {
		k := strings.TrimSpace(f.Get("rootkey").Input.Value())
		if k == "" {
			bad("rootkey", "paste the public key (the line of ~/.ssh/id_ed25519.pub) that may log in as root")
		}
		out.Root = installer.RootRequest{Locked: true, SSHAuthorizedKeys: nonEmpty(k)}
		out.Users = m.more
		byKey = append(byKey, [2]string{"root.ssh_authorized_keys[0]", "rootkey"})
	} else {
		name := strings.TrimSpace(f.Get("user").Input.Value())
		p1, p2 := f.Get("pass1").Input.Value(), f.Get("pass2").Input.Value()
		k := strings.TrimSpace(f.Get("userkey").Input.Value())
		switch {
		case name == "":
			bad("user", "type a user name to log in with, e.g. alex")
		case name == "root":
			bad("user", "root is not a user of its own; choose another name, or \"root, with an SSH key only\"")
		}
		if second, err := common.CheckPassword(p1, p2, k != ""); err != nil {
			if second {
				bad("pass2", err.Error())
				f.Get("pass2").Input.Reset()
			} else {
				bad("pass1", err.Error())
			}
		}
		u := installer.UserRequest{Name: name, Password: p1, SSHAuthorizedKeys: nonEmpty(k)}
		if f.Get("admin").Checked {
			u.Groups = []string{wheel}
		}
		out.Users = append([]installer.UserRequest{u}, m.more...)
		byKey = append(byKey, [2]string{"users[0].name", "user"}, [2]string{"users[0].ssh_authorized_keys[0]", "userkey"})
	}
	// The answer-file rules, on exactly what would be written.
	probs := common.AnswerProblems(installer.Request{
		System: installer.SystemRequest{Hostname: out.Hostname, Timezone: out.Timezone},
		Root:   out.Root, Users: out.Users,
	})
	for _, kf := range byKey {
		if msg, found := probs[kf[0]]; found && f.Get(kf[1]).Error == "" {
			bad(kf[1], msg)
		}
	}
	return out, ok
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// View implements common.Component.
func (m *Model) View() string {
	st := m.Styles
	w := m.Width
	if m.picker != nil {
		return m.picker.View(w, m.Height)
	}
	lines := []string{st.Title.Render("The installed system"), ""}
	lines = append(lines, m.form.View(w)...)
	if n := len(m.more); n > 0 {
		lines = append(lines, "", st.Muted.Render(common.Truncate(fmt.Sprintf("The answer file's %d other accounts are created as it says.", n), w)))
	}
	lines = append(lines, "", st.Muted.Render(common.Truncate("Passwords stay in memory only; exported answers hide them.", w)))
	return strings.Join(common.Lines(strings.Join(lines, "\n"), m.Height), "\n")
}

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding {
	if m.picker != nil {
		return m.picker.Help()
	}
	return append(m.form.Help(), m.Keys.Back)
}

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding { return [][]key.Binding{m.ShortHelp()} }
