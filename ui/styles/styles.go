// Package styles holds every colour and named look of the installer screens.
package styles

import (
	"charm.land/bubbles/v2/help"
	"charm.land/lipgloss/v2"
)

// Styles is one struct of looks shared by all screens. Colours are the 16
// basic ANSI colours only: the live ISO's console (TERM=linux) has no more,
// and the terminal's own palette then keeps them readable on dark and light
// backgrounds. Nothing may rely on colour alone: every state also has a text
// marker, so the screens stay usable under NO_COLOR.
type Styles struct {
	Brand        lipgloss.Style
	Crumb        lipgloss.Style
	CrumbCurrent lipgloss.Style
	Badge        lipgloss.Style
	SimBadge     lipgloss.Style
	Rule         lipgloss.Style

	Title    lipgloss.Style
	Muted    lipgloss.Style
	Disabled lipgloss.Style
	Selected lipgloss.Style
	Cursor   lipgloss.Style
	Category lipgloss.Style
	Label    lipgloss.Style
	Code     lipgloss.Style
	Error    lipgloss.Style
	Warning  lipgloss.Style
	Success  lipgloss.Style
	Notice   lipgloss.Style
	Dialog   lipgloss.Style

	// Maturity styles an edition's maturity badge by its value.
	Maturity map[string]lipgloss.Style

	StepPending lipgloss.Style
	StepRunning lipgloss.Style
	StepOK      lipgloss.Style
	StepFailed  lipgloss.Style
	StepSkipped lipgloss.Style

	InputPrompt      lipgloss.Style
	InputPlaceholder lipgloss.Style
	InputCursor      lipgloss.Style
	InputText        lipgloss.Style

	Help help.Styles
}

// Default returns the installer's styles.
func Default() *Styles {
	var (
		accent = lipgloss.Blue
		muted  = lipgloss.BrightBlack
		ok     = lipgloss.Green
		warn   = lipgloss.Yellow
		bad    = lipgloss.Red
	)
	s := &Styles{
		Brand:        lipgloss.NewStyle().Bold(true).Foreground(accent),
		Crumb:        lipgloss.NewStyle().Foreground(muted),
		CrumbCurrent: lipgloss.NewStyle().Bold(true).Underline(true),
		Badge:        lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Magenta),
		SimBadge:     lipgloss.NewStyle().Bold(true).Foreground(warn),
		Rule:         lipgloss.NewStyle().Foreground(muted),

		Title:    lipgloss.NewStyle().Bold(true),
		Muted:    lipgloss.NewStyle().Foreground(muted),
		Disabled: lipgloss.NewStyle().Foreground(muted),
		Selected: lipgloss.NewStyle().Bold(true).Foreground(accent),
		Cursor:   lipgloss.NewStyle().Bold(true).Foreground(accent),
		Category: lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Cyan),
		Label:    lipgloss.NewStyle().Foreground(muted),
		Code:     lipgloss.NewStyle().Foreground(lipgloss.Cyan),
		Error:    lipgloss.NewStyle().Foreground(bad),
		Warning:  lipgloss.NewStyle().Foreground(warn),
		Success:  lipgloss.NewStyle().Foreground(ok),
		Notice:   lipgloss.NewStyle().Bold(true).Foreground(warn),
		Dialog: lipgloss.NewStyle().
			Border(lipgloss.NormalBorder()).
			BorderForeground(accent).
			Padding(0, 2),

		Maturity: map[string]lipgloss.Style{
			"graduated":  lipgloss.NewStyle().Foreground(ok),
			"incubating": lipgloss.NewStyle().Foreground(warn),
			"sandbox":    lipgloss.NewStyle().Foreground(lipgloss.Magenta),
		},

		StepPending: lipgloss.NewStyle().Foreground(muted),
		StepRunning: lipgloss.NewStyle().Bold(true).Foreground(accent),
		StepOK:      lipgloss.NewStyle().Foreground(ok),
		StepFailed:  lipgloss.NewStyle().Bold(true).Foreground(bad),
		StepSkipped: lipgloss.NewStyle().Foreground(warn),

		InputPrompt:      lipgloss.NewStyle().Bold(true).Foreground(accent),
		InputPlaceholder: lipgloss.NewStyle().Foreground(muted),
		// Reverse video is a visible block cursor without any colour.
		InputCursor: lipgloss.NewStyle().Reverse(true),
		InputText:   lipgloss.NewStyle(),
	}
	key := lipgloss.NewStyle().Bold(true)
	desc := lipgloss.NewStyle().Foreground(muted)
	s.Help = help.Styles{
		Ellipsis:       desc,
		ShortKey:       key,
		ShortDesc:      desc,
		ShortSeparator: desc,
		FullKey:        key,
		FullDesc:       desc,
		FullSeparator:  desc,
	}
	return s
}

// MaturityBadge renders an edition's maturity in its colour.
func (s *Styles) MaturityBadge(m string) string {
	if st, ok := s.Maturity[m]; ok {
		return st.Render(m)
	}
	return s.Muted.Render(m)
}
