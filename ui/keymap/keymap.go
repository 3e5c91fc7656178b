// Package keymap defines every key binding of the installer screens, with the help text shown for it.
package keymap

import "charm.land/bubbles/v2/key"

// KeyMap is one struct of bindings shared by all screens; each screen lists
// the ones it accepts in its ShortHelp and FullHelp.
type KeyMap struct {
	Up       key.Binding
	Down     key.Binding
	PageUp   key.Binding
	PageDown key.Binding
	// ArrowUp and ArrowDown move while a text field has the keyboard, where
	// k and j are letters to type.
	ArrowUp   key.Binding
	ArrowDown key.Binding

	// NextField and PrevField move between the fields of a form; Left,
	// Right and Toggle change a choice.
	NextField key.Binding
	PrevField key.Binding
	Left      key.Binding
	Right     key.Binding
	Toggle    key.Binding

	Select      key.Binding
	Continue    key.Binding
	Back        key.Binding
	Filter      key.Binding
	ApplyFilter key.Binding
	ClearFilter key.Binding
	Install     key.Binding
	Retry       key.Binding
	ToggleLog   key.Binding
	Exit        key.Binding
	Rescan      key.Binding
	CheckNet    key.Binding
	Reboot      key.Binding
	PowerOff    key.Binding
	Shell       key.Binding
	Export      key.Binding
	// Registry installs the registry's build instead of the install
	// medium's (the review screen); CtrlRegistry does so while the
	// confirmation field has the keyboard and u is a letter to type.
	Registry     key.Binding
	CtrlRegistry key.Binding

	Help      key.Binding
	Quit      key.Binding
	Interrupt key.Binding
	Yes       key.Binding
	No        key.Binding
	Dismiss   key.Binding
}

// Default returns the installer's key bindings.
func Default() *KeyMap {
	return &KeyMap{
		Up:        key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:      key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:    key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "page up")),
		PageDown:  key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgdn", "page down")),
		ArrowUp:   key.NewBinding(key.WithKeys("up"), key.WithHelp("↑", "up")),
		ArrowDown: key.NewBinding(key.WithKeys("down"), key.WithHelp("↓", "down")),

		NextField: key.NewBinding(key.WithKeys("tab", "down"), key.WithHelp("tab/↓", "next")),
		PrevField: key.NewBinding(key.WithKeys("shift+tab", "up"), key.WithHelp("shift+tab/↑", "previous")),
		Left:      key.NewBinding(key.WithKeys("left"), key.WithHelp("←", "previous choice")),
		Right:     key.NewBinding(key.WithKeys("right"), key.WithHelp("→", "next choice")),
		Toggle:    key.NewBinding(key.WithKeys("space"), key.WithHelp("space", "change")),

		Select:      key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "select")),
		Continue:    key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "continue")),
		Back:        key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Filter:      key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		ApplyFilter: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "apply filter")),
		ClearFilter: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear filter")),
		Install:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "install")),
		Retry:       key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "retry")),
		ToggleLog:   key.NewBinding(key.WithKeys("l"), key.WithHelp("l", "show/hide log")),
		Exit:        key.NewBinding(key.WithKeys("enter", "q"), key.WithHelp("enter/q", "exit")),
		Rescan:      key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "scan again")),
		CheckNet:    key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "check internet")),
		Reboot:      key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "reboot")),
		PowerOff:    key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "power off")),
		Shell:       key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "exit to a shell")),
		Export:      key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "save answers")),

		Registry:     key.NewBinding(key.WithKeys("u"), key.WithHelp("u", "registry's build")),
		CtrlRegistry: key.NewBinding(key.WithKeys("ctrl+r"), key.WithHelp("ctrl+r", "registry's build")),

		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:      key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
		Interrupt: key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
		Yes:       key.NewBinding(key.WithKeys("y", "Y"), key.WithHelp("y", "yes")),
		No:        key.NewBinding(key.WithKeys("n", "N", "esc"), key.WithHelp("n/esc", "no")),
		Dismiss:   key.NewBinding(key.WithKeys("enter", "esc", "n", "N"), key.WithHelp("enter/esc", "close")),
	}
}
