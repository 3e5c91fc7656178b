// Package storage is the screen that asks how to use the chosen disk: the whole disk or its free space, the filesystem, the root size and encryption.
package storage

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"github.com/universal-atomic-installer/uai/catalog"
	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/partition"
	"github.com/universal-atomic-installer/uai/ui/common"
	"github.com/universal-atomic-installer/uai/ui/components/form"
	"github.com/universal-atomic-installer/uai/ui/screens/disk"
)

// Model is the storage screen.
type Model struct {
	common.Common
	edition catalog.Edition
	disk    partition.Disk
	tpm2    bool
	form    *form.Model
	// base is the request so far, to check the layout with Backend.Plan.
	base installer.Request

	spinner  spinner.Model
	checking bool
	err      error
}

type plannedMsg struct {
	to  *Model
	err error
	s   common.StorageChosenMsg
}

// New returns the storage screen for a disk and edition; tpm2 offers TPM2
// unlocking; start pre-fills the choices (from answers, or an earlier
// visit).
func New(c common.Common, e catalog.Edition, d partition.Disk, tpm2 bool, start installer.StorageRequest, fs string) *Model {
	m := &Model{Common: c, edition: e, disk: d, tpm2: tpm2,
		spinner: spinner.New(spinner.WithSpinner(spinner.Line), spinner.WithStyle(c.Styles.Muted))}
	layout := &form.Field{Key: "layout", Label: "Use", Kind: form.Choice, Options: []form.Option{
		{Value: partition.KindWhole, Label: fmt.Sprintf("the whole disk (%s): everything on it is erased", common.Bytes(d.SizeBytes))},
		{Value: partition.KindFree, Label: "the free space, keeping what is there", Disabled: freeProblem(d, e)},
	}}
	if d.Empty() {
		layout.Options[0].Label = fmt.Sprintf("the whole disk (%s), which is empty", common.Bytes(d.SizeBytes))
	} else if layout.Options[1].Disabled == "" {
		layout.Options[1].Label = fmt.Sprintf("the free space (%s), keeping %s", common.Bytes(disk.FreeBytes(d)), disk.Kind(d))
		// Keeping another system is the safe default on a disk that has
		// room for both.
		layout.Chosen = 1
	}
	def := e.DefaultFilesystem
	if def == "" {
		def = "xfs"
	}
	fsField := &form.Field{Key: "filesystem", Label: "Filesystem", Kind: form.Choice, Inline: true}
	for _, f := range []string{"xfs", "ext4", "btrfs"} {
		o := form.Option{Value: f, Label: f}
		if f == def {
			o.Label += " (default)"
		}
		fsField.Options = append(fsField.Options, o)
	}
	fsField.Choose(def)
	root := &form.Field{Key: "root", Label: "Root size", Kind: form.Text, Input: c.NewInput("")}
	root.Input.Placeholder = "all the space (or e.g. 40GiB)"
	encrypt := &form.Field{Key: "encrypt", Label: "Encryption", Kind: form.Check, Options: []form.Option{{Label: "encrypt the system with LUKS2"}}}
	p1 := &form.Field{Key: "pass1", Label: "Passphrase", Kind: form.Text, Input: c.NewSecret("")}
	p2 := &form.Field{Key: "pass2", Label: "Repeat it", Kind: form.Text, Input: c.NewSecret("")}
	tpm := &form.Field{Key: "tpm2", Label: "TPM2", Kind: form.Check, Options: []form.Option{{Label: "also unlock with this machine's TPM2 (the passphrase stays for recovery)"}}}
	m.form = form.New(c, 13, layout, fsField, root, encrypt, p1, p2, tpm,
		&form.Field{Key: "continue", Label: "Continue", Kind: form.Button})

	// An earlier choice (answers, or a visit before going back) wins.
	if start.Layout != "" && !(start.Layout == partition.KindFree && layout.Options[1].Disabled != "") {
		layout.Choose(start.Layout)
	}
	if fs != "" {
		fsField.Choose(fs)
	}
	if start.RootSizeBytes > 0 {
		root.Input.SetValue(exactSize(start.RootSizeBytes))
	}
	encrypt.Checked = start.Encryption.Enabled
	p1.Input.SetValue(start.Encryption.Passphrase)
	p2.Input.SetValue(start.Encryption.Passphrase)
	tpm.Checked = start.Encryption.TPM2 && tpm2
	m.sync()
	// The defaults are sound: enter accepts them; the choices are above.
	m.form.FocusKey("continue")
	return m
}

// freeProblem says why a free-space install is not possible on d, or "".
func freeProblem(d partition.Disk, e catalog.Edition) string {
	switch {
	case d.Empty():
		return "the disk is empty"
	case d.Table != "gpt":
		return "needs a GPT partition table"
	}
	free := disk.FreeBytes(d)
	if need := e.MinDiskBytes(); free < need {
		return fmt.Sprintf("only %s free, %s needs %d GiB", common.Bytes(free), e.Name, e.MinDiskGiB)
	}
	return ""
}

// SetBase gives the screen the request so far, to check its layout.
func (m *Model) SetBase(r installer.Request) { m.base = r }

// sync shows the fields that apply and the passphrase's strength.
func (m *Model) sync() {
	enc := m.form.Get("encrypt").Checked
	m.form.Get("pass1").Hidden = !enc
	m.form.Get("pass2").Hidden = !enc
	m.form.Get("tpm2").Hidden = !enc || !m.tpm2
	if enc {
		p1 := m.form.Get("pass1")
		if v := p1.Input.Value(); v != "" {
			_, p1.Hint = common.Strength(v)
		} else {
			p1.Hint = "asked at every boot" + map[bool]string{true: " unless the TPM2 unlocks", false: ""}[m.form.Get("tpm2").Checked]
		}
	}
	m.form.Refocus()
}

// Init implements common.Component.
func (m *Model) Init() tea.Cmd { return nil }

// SetSize implements common.Component.
func (m *Model) SetSize(w, h int) { m.Common.SetSize(w, h) }

// Capturing implements common.Component.
func (m *Model) Capturing() bool { return m.form.Capturing() }

// Form exposes the form, for tests.
func (m *Model) Form() *form.Model { return m.form }

// Update implements common.Component.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case plannedMsg:
		if msg.to != m {
			return nil
		}
		m.checking = false
		m.err = msg.err
		if msg.err != nil {
			return nil
		}
		return common.Send(msg.s)
	case spinner.TickMsg:
		if !m.checking {
			return nil
		}
		var cmd tea.Cmd
		m.spinner, cmd = m.spinner.Update(msg)
		return cmd
	case tea.KeyPressMsg:
		if m.checking {
			return nil
		}
		if key.Matches(msg, m.Keys.Back) {
			return common.Send(common.BackMsg{})
		}
		r := m.form.Update(msg)
		if r != form.Nothing {
			m.err = nil
		}
		m.sync()
		if r == form.Submitted {
			return m.submit()
		}
	}
	return nil
}

// Choice is the storage the form says, without checking it.
func (m *Model) Choice() (installer.StorageRequest, string) {
	f := m.form
	s := installer.StorageRequest{Layout: f.Get("layout").Current(), SeparateBoot: m.base.Storage.SeparateBoot, Method: m.base.Storage.Method}
	s.RootSizeBytes, _ = common.CheckRootSize(f.Get("root").Input.Value())
	if f.Get("encrypt").Checked {
		s.Encryption = installer.EncryptionRequest{Enabled: true, Passphrase: f.Get("pass1").Input.Value(), TPM2: m.tpm2 && f.Get("tpm2").Checked}
	}
	return s, f.Get("filesystem").Current()
}

// submit checks each field, then the layout itself with Backend.Plan, so
// that a root too large or a disk too small is reported here, where it can
// be fixed.
func (m *Model) submit() tea.Cmd {
	f := m.form
	ok := true
	bad := func(key, msg string) {
		if ok {
			f.FocusKey(key)
		}
		f.Get(key).Error = msg
		ok = false
	}
	if _, err := common.CheckRootSize(f.Get("root").Input.Value()); err != nil {
		bad("root", err.Error())
	}
	if f.Get("encrypt").Checked {
		second, err := common.CheckEncryption(f.Get("pass1").Input.Value(), f.Get("pass2").Input.Value())
		switch {
		case err != nil && second:
			bad("pass2", err.Error())
			f.Get("pass2").Input.Reset()
		case err != nil:
			bad("pass1", err.Error())
		}
	}
	if !ok {
		return nil
	}
	s, fs := m.Choice()
	msg := common.StorageChosenMsg{Storage: s, Filesystem: fs}
	req := m.base
	req.Storage, req.Filesystem = s, fs
	// Erasing is agreed to on the review screen; here only the layout
	// itself is checked.
	req.Wipe = true
	m.checking = true
	ctx, b := m.Ctx, m.Backend
	cmds := []tea.Cmd{func() tea.Msg {
		_, err := b.Plan(ctx, req)
		return plannedMsg{to: m, err: err, s: msg}
	}}
	if m.Animate {
		cmds = append(cmds, m.spinner.Tick)
	}
	return tea.Batch(cmds...)
}

// View implements common.Component.
func (m *Model) View() string {
	st := m.Styles
	w := m.Width
	title := st.Title.Render("How to use the disk") + st.Muted.Render(fmt.Sprintf("  %s, %s, for %s", m.disk.Path, common.Bytes(m.disk.SizeBytes), m.edition.Name))
	lines := []string{common.Truncate(title, w), ""}
	if len(m.disk.Systems) > 0 {
		lines = append(lines, common.WrapStyled("On it now: "+strings.Join(m.disk.Systems, "; "), w, st.Muted.Render)...)
		lines = append(lines, "")
	}
	lines = append(lines, m.form.View(w)...)
	switch {
	case m.checking:
		lines = append(lines, "", m.spinner.View()+" Checking the layout...")
	case m.err != nil:
		lines = append(lines, "")
		lines = append(lines, common.WrapStyled("x this layout cannot be planned: "+m.err.Error(), w, st.Error.Render)...)
	}
	return strings.Join(common.Lines(strings.Join(lines, "\n"), m.Height), "\n")
}

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding { return append(m.form.Help(), m.Keys.Back) }

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding { return [][]key.Binding{m.ShortHelp()} }

// exactSize writes bytes in the largest binary unit that divides them, so
// that the field reads back as the same size.
func exactSize(n uint64) string {
	for _, u := range []struct {
		name string
		size uint64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n%u.size == 0 {
			return fmt.Sprintf("%d%s", n/u.size, u.name)
		}
	}
	return fmt.Sprintf("%dB", n)
}
