// Package summary is the screen that shows the resolved plan and asks for confirmation before anything is written.
package summary

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/universal-atomic-installer/uai/catalog"
	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/partition"
	"github.com/universal-atomic-installer/uai/ui/common"
)

// labelWidth is the width of the label column of the plan.
const labelWidth = 14

// Model is the summary screen.
type Model struct {
	common.Common
	edition catalog.Edition
	disk    partition.Disk
	// req is everything chosen; image is what resolving the image found.
	req   installer.Request
	image *catalog.ImageInfo
	// mustConfirm is set when the disk holds data: the user must type the
	// disk's name, because a single enter is too easy to press by habit.
	// forced is New's forceConfirm, kept for a plan made again.
	mustConfirm bool
	forced      bool

	spinner  spinner.Model
	planning bool
	plan     *installer.Plan
	err      error

	confirm textinput.Model
	scroll  common.Scroll
	notice  string
}

type plannedMsg struct {
	to   *Model
	plan *installer.Plan
	err  error
}

// New returns the summary screen for a request; Init asks for the plan.
// forceConfirm demands the typed confirmation even for a disk that was
// empty when listed: after a failed attempt it may no longer be. A
// free-space install erases nothing, so it needs no typed name.
func New(c common.Common, e catalog.Edition, image *catalog.ImageInfo, d partition.Disk, req installer.Request, forceConfirm bool) *Model {
	free := req.Storage.Layout == partition.KindFree
	m := &Model{
		Common:      c,
		edition:     e,
		image:       image,
		disk:        d,
		req:         req,
		mustConfirm: forceConfirm || (!d.Empty() && !free),
		forced:      forceConfirm,
		spinner:     spinner.New(spinner.WithSpinner(spinner.Line), spinner.WithStyle(c.Styles.Muted)),
		confirm:     c.NewInput(""),
	}
	return m
}

// Request is what this screen asks Backend.Plan to resolve: the choices,
// with the wipe allowed exactly when the user must confirm it.
func (m *Model) Request() installer.Request {
	r := m.req
	r.Wipe = m.mustConfirm
	// What happens after the install is chosen on the done screen, so
	// the engine must not reboot behind it.
	r.Post.Action = ""
	return r
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
	ctx, b, r := m.Ctx, m.Backend, m.Request()
	resolve := func() tea.Msg {
		p, err := b.Plan(ctx, r)
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

// Forced reports whether the screen was made to demand the typed
// confirmation whatever the disk holds (New's forceConfirm).
func (m *Model) Forced() bool { return m.forced }

// OffersRegistry reports whether the plan installs the install medium's
// build while the registry, reached when the image was chosen, has
// another one: then the screen offers the registry's build. Offline
// (no resolved image) the medium's build is installed without a word.
func (m *Model) OffersRegistry() bool {
	p, img := m.plan, m.image
	return p != nil && p.Medium != nil && img != nil && img.Digest != "" && img.DigestRef != "" &&
		img.Digest != p.Medium.Digest
}

// registryKey is the key that takes the registry's build: u, or ctrl+r
// while the confirmation field takes every letter.
func (m *Model) registryKey() key.Binding {
	if m.Capturing() {
		return m.Keys.CtrlRegistry
	}
	return m.Keys.Registry
}

// shortDigest is a digest's first 12 hex digits, the way container tools
// show image IDs.
func shortDigest(d string) string {
	algo, hex, ok := strings.Cut(d, ":")
	if !ok || len(hex) <= 12 {
		return d
	}
	return algo + ":" + hex[:12]
}

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
	case key.Matches(k, m.registryKey()) && m.OffersRegistry():
		return common.Send(common.UseRegistryMsg{Plan: m.plan})
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
		before := m.confirm.Value()
		m.confirm, _ = m.confirm.Update(k)
		if m.confirm.Value() != before {
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
	if m.OffersRegistry() {
		built := ""
		if !m.image.Created.IsZero() {
			built = ", built " + m.image.Created.UTC().Format("2006-01-02")
		}
		msg := fmt.Sprintf("The install medium's build (%s) is installed. The registry has %s%s: press %s to install that instead.",
			shortDigest(m.plan.Medium.Digest), shortDigest(m.image.Digest), built, m.registryKey().Help().Key)
		out = append(out, common.WrapStyled(msg, w, st.Notice.Render)...)
	}
	name := m.diskName()
	if m.mustConfirm {
		out = append(out, common.WrapStyled(fmt.Sprintf("%s holds data (%s). Installing erases all of it.", name, contents(m.disk)), w, st.Warning.Render)...)
		hint := st.Muted.Render("  enter installs once the name matches")
		if m.Confirmed() {
			hint = st.Success.Render("  confirmed: enter erases " + name + " and installs")
		}
		m.confirm.SetWidth(max(len(name)+1, 8))
		out = append(out, common.Truncate(st.Title.Render(fmt.Sprintf("Type %s to confirm: ", name))+m.confirm.View()+hint, w))
	} else if m.req.Storage.Layout == partition.KindFree && !m.disk.Empty() {
		out = append(out, common.Truncate(st.Success.Render("Every partition on "+name+" is kept.")+" Press enter to install.", w))
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
	note := func(s string) string { return strings.Repeat(" ", labelWidth) + st.Muted.Render(s) }
	switch {
	case p.Edition.Digest != "":
		out = append(out, kv("Digest", p.Edition.Digest)...)
		out = append(out, note("pinned: exactly this image is installed"))
	case p.Medium != nil:
		out = append(out, kv("Digest", p.Medium.Digest)...)
		out = append(out, note("the install medium's build: installed from there, no download"))
	case m.image != nil && m.image.Digest != "":
		out = append(out, kv("Digest", m.image.Digest)...)
		out = append(out, note("where the tag points now; bootc pulls the tag"))
	default:
		out = append(out, kv("Digest", "not known: the registry was not reached; bootc pulls the tag")...)
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
	if p.Layout.Kind == partition.KindFree {
		wipe = "no: every partition on it is kept"
	}
	if p.Wipe {
		wipe = "yes: everything on the disk is erased"
	}
	out = append(out, kv("Wipe", wipe)...)
	out = append(out, kv("Filesystem", p.Filesystem)...)
	if e := m.req.Storage.Encryption; e.Enabled {
		enc := "LUKS2 on root, unlocked with the passphrase at boot"
		if e.TPM2 {
			enc = "LUKS2 on root, unlocked by the TPM2 (the passphrase is the recovery key)"
		}
		out = append(out, kv("Encryption", enc)...)
	}
	if len(p.Kargs) > 0 {
		out = append(out, kv("Kernel args", strings.Join(p.Kargs, " "))...)
	}
	kind := "whole disk"
	if p.Layout.Kind == partition.KindFree {
		kind = "free space, existing partitions kept"
	}
	out = append(out, "", st.Title.Render("Partitions")+st.Muted.Render(fmt.Sprintf("  GPT, %d-byte sectors, %s", p.Layout.SectorSize, kind)))
	out = append(out, layoutTable(p.Layout, st.Label.Render)...)
	for _, n := range p.Layout.Notes {
		out = append(out, common.WrapStyled("  "+n, w, st.Muted.Render)...)
	}
	out = append(out, "", st.Title.Render("System"))
	out = append(out, m.systemLines(kv)...)
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

// systemLines says what the configure step will set in the installed
// system, from the plan itself; no password is ever shown, only that one
// is set.
func (m *Model) systemLines(kv func(l, v string) []string) []string {
	c := m.plan.Configure
	if c == nil {
		return kv("Settings", "none: the image's defaults (no accounts are added)")
	}
	var out []string
	orImage := func(v string) string {
		if v == "" {
			return "as the image sets it"
		}
		return v
	}
	lang := orImage(c.Locale)
	if c.Keymap != "" {
		lang += ", keyboard " + c.Keymap
	}
	out = append(out, kv("Language", lang)...)
	out = append(out, kv("Host name", orImage(c.Hostname))...)
	out = append(out, kv("Time zone", orImage(c.Timezone))...)
	for _, u := range c.Users {
		var how []string
		if u.PasswordSet {
			how = append(how, "password set")
		}
		if n := len(u.SSHAuthorizedKeys); n > 0 {
			how = append(how, fmt.Sprintf("%d SSH key", n))
		}
		if slices.Contains(u.Groups, "wheel") {
			how = append(how, "administrator")
		}
		out = append(out, kv("User", u.Name+" ("+strings.Join(how, ", ")+")")...)
	}
	switch r := c.Root; {
	case r.Locked && len(r.SSHAuthorizedKeys) > 0:
		out = append(out, kv("Root", fmt.Sprintf("no password; %d SSH key may log in", len(r.SSHAuthorizedKeys)))...)
	case r.Locked:
		out = append(out, kv("Root", "locked")...)
	case r.PasswordSet:
		out = append(out, kv("Root", "password set")...)
	}
	for _, w := range m.req.Network.WiFi {
		out = append(out, kv("Wi-Fi", w.SSID+" (joined here)")...)
	}
	if len(c.DroppedKargs) > 0 {
		out = append(out, kv("Left out", strings.Join(c.DroppedKargs, " ")+" (live-only kernel arguments)")...)
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
		return strings.TrimRight(fmt.Sprintf("  %-2s %-*s %10s  %-12s  %s", idx, nameW, name, size, fs, mnt), " ")
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
		switch {
		case p.Keep:
			fs += " (kept)"
		case p.Encrypted:
			fs += " (LUKS2)"
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
		body = append(body, "", st.Muted.Render("esc goes back to change the choices, r tries again"))
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
	out := []key.Binding{k.Install, k.Back}
	if m.OffersRegistry() {
		out = append(out, m.registryKey())
	}
	if len(m.details()) > m.detailHeight() {
		out = append(out, k.PageDown)
	}
	return out
}

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding {
	k := m.Keys
	scroll := []key.Binding{k.Up, k.Down, k.PageUp, k.PageDown}
	if m.Capturing() {
		scroll = []key.Binding{k.ArrowUp, k.ArrowDown, k.PageUp, k.PageDown}
	}
	acts := []key.Binding{k.Install, k.Back, k.Retry}
	if m.OffersRegistry() {
		acts = append(acts, m.registryKey())
	}
	return [][]key.Binding{scroll, acts}
}
