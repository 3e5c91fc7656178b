// Package common is the contract shared by the installer screens: the backend they call, the Common they embed, the Component they implement and the messages they send to the root model.
package common

import (
	"context"
	"time"

	"charm.land/bubbles/v2/help"
	tea "charm.land/bubbletea/v2"

	"github.com/universal-atomic-installer/uai/catalog"
	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/partition"
	"github.com/universal-atomic-installer/uai/ui/components/field"
	"github.com/universal-atomic-installer/uai/ui/keymap"
	"github.com/universal-atomic-installer/uai/ui/styles"
)

// Backend is everything the screens need from the engine. It is declared
// here, on the consumer side, so the screens never learn how disks are
// listed or images installed; every call happens inside a tea.Cmd.
type Backend interface {
	Catalog() *catalog.Catalog
	Disks(ctx context.Context) ([]partition.Disk, error)
	// Plan resolves a choice into a plan without side effects; its error is
	// shown on the screen where the choice was made.
	Plan(ctx context.Context, c Choice) (*installer.Plan, error)
	// Install runs the plan; events stream into sink from the engine's
	// goroutine while it runs.
	Install(ctx context.Context, p *installer.Plan, sink installer.Sink) error
}

// Choice is what the user picked on the screens.
type Choice struct {
	EditionID string
	DiskPath  string
	// Wipe is true when the disk holds data that the install will erase.
	Wipe bool
}

// Options change how the screens present themselves.
type Options struct {
	// Demo shows a DEMO badge: the target is a disk image, not a real disk.
	Demo bool
	// Simulated labels the run "simulated bootc".
	Simulated bool
	// Plain is reserved for a mode without a full-screen UI.
	Plain bool
}

// Common is embedded by every screen. Styles and Keys are pointers, so all
// screens share one set; Width and Height are the screen's own body size.
type Common struct {
	Ctx     context.Context
	Backend Backend
	Options Options
	Styles  *styles.Styles
	Keys    *keymap.KeyMap
	// Now is the clock. Tests fix it so that rendered elapsed times do not
	// depend on when the test ran.
	Now func() time.Time
	// Animate enables timer-driven redraws (spinners, the elapsed clock).
	// Tests turn it off so that no message arrives that they did not cause.
	Animate bool

	Width  int
	Height int
}

// SetSize records the body size a screen may draw in.
func (c *Common) SetSize(width, height int) {
	c.Width = width
	c.Height = height
}

// Component is one screen. Screens are pointers updated in place by the
// root model, which alone decides which one is shown.
type Component interface {
	help.KeyMap
	Init() tea.Cmd
	Update(msg tea.Msg) tea.Cmd
	// View renders the body; the root adds the header and footer.
	View() string
	SetSize(width, height int)
	// Capturing reports that a text field has the keyboard, so the root
	// must pass letters such as q and ? through instead of acting on them.
	Capturing() bool
}

// EditionChosenMsg asks the root to go to the disk screen.
type EditionChosenMsg struct{ Edition catalog.Edition }

// DiskChosenMsg asks the root to go to the summary screen.
type DiskChosenMsg struct{ Disk partition.Disk }

// BackMsg asks the root to return to the previous screen.
type BackMsg struct{}

// InstallMsg asks the root to start installing a confirmed plan.
type InstallMsg struct{ Plan *installer.Plan }

// FinishedMsg reports that Backend.Install returned.
type FinishedMsg struct {
	Result installer.Result
	Err    error
	// Step and StepTitle name the step that failed, if one did.
	Step      installer.StepID
	StepTitle string
	// Logs are the last log lines, oldest first.
	Logs []string
	// Elapsed is the wall time of the install.
	Elapsed time.Duration
	// Cancelled is true when the user cancelled the install.
	Cancelled bool
}

// Failed reports whether the install did not succeed.
func (m FinishedMsg) Failed() bool { return m.Err != nil || m.Result.ExitCode != 0 }

// ExitMsg asks the root to leave the program with its result.
type ExitMsg struct{}

// Send returns a command that delivers msg; screens use it to talk to the
// root without knowing it.
func Send(msg tea.Msg) tea.Cmd {
	return func() tea.Msg { return msg }
}

// NewField returns a text field in the shared styles.
func (c Common) NewField(prompt string) field.Model {
	f := field.New(prompt)
	f.PromptStyle = c.Styles.InputPrompt
	f.PlaceholderStyle = c.Styles.InputPlaceholder
	f.CursorStyle = c.Styles.InputCursor
	return f
}
