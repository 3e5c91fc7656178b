// Package common is the contract shared by the installer screens: the backend they call, the Common they embed, the Component they implement and the messages they send to the root model.
package common

import (
	"context"
	"errors"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/universal-atomic-installer/uai/catalog"
	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/installer/system"
	"github.com/universal-atomic-installer/uai/partition"
	"github.com/universal-atomic-installer/uai/ui/keymap"
	"github.com/universal-atomic-installer/uai/ui/styles"
)

// ErrDemo is what a Backend in demo mode answers to a request that would
// change this computer (its language, its power): the demo leaves it alone.
var ErrDemo = errors.New("demo mode leaves this computer's settings alone")

// Backend is everything the screens need from the engine and the machine.
// It is declared here, on the consumer side, so the screens never learn how
// disks are listed, images resolved or networks joined; every call happens
// inside a tea.Cmd. Each side effect has its own small interface, so a
// front-end (the TUI, the plain mode, a test) can see what it depends on.
type Backend interface {
	Installer
	Machines
	Images
	Network
	LiveSession
	Zones
	Power
	Exporter
}

// Installer lists disks, plans and installs.
type Installer interface {
	Catalog() *catalog.Catalog
	Disks(ctx context.Context) ([]partition.Disk, error)
	// Plan resolves a request into a plan without side effects; its error
	// is shown on the screen where the choice was made.
	Plan(ctx context.Context, r installer.Request) (*installer.Plan, error)
	// Install runs the plan; events stream into sink from the engine's
	// goroutine while it runs.
	Install(ctx context.Context, p *installer.Plan, sink installer.Sink) error
}

// Machines describes the machine being installed.
type Machines interface {
	Machine(ctx context.Context) (Machine, error)
}

// Images asks a registry about an image: digest, size, build time and
// whether it is bootable for this machine.
type Images interface {
	ResolveImage(ctx context.Context, ref, digest string) (catalog.ImageInfo, error)
}

// Network is NetworkManager, or what stands in for it. Errors wrap
// system.ErrNoNetworkManager when there is nobody to ask, and
// system.ErrWrongPassphrase when a network refused the passphrase.
type Network interface {
	NetworkStatus(ctx context.Context) (system.NetworkStatus, error)
	ScanWiFi(ctx context.Context) ([]system.AccessPoint, error)
	ConnectWiFi(ctx context.Context, ssid, passphrase string) error
	CheckConnectivity(ctx context.Context) (system.Connectivity, error)
}

// LiveSession reads and sets the live system's language and keyboard.
type LiveSession interface {
	LiveLocale(ctx context.Context) (system.Locale, error)
	SetLiveLocale(ctx context.Context, l system.Locale) error
}

// Zones lists the time zones the installed system may use, and the live
// system's current one.
type Zones interface {
	Timezones(ctx context.Context) (zones []string, current string, err error)
}

// Power restarts or stops the machine after an install.
type Power interface {
	Reboot(ctx context.Context) (string, error)
	PowerOff(ctx context.Context) (string, error)
}

// Exporter writes the answer file that replays a run (secrets redacted)
// and returns where.
type Exporter interface {
	ExportAnswers(ctx context.Context, r installer.Request) (string, error)
}

// Machine is what the welcome screen says about the machine, and what
// decides which editions fit it.
type Machine struct {
	// Name is "" for this computer; in demo mode, the recorded machine's.
	Name        string
	Description string
	Arch        string
	// Firmware is catalog.FirmwareUEFI, catalog.FirmwareBIOS or "".
	Firmware string
	// SecureBoot is "on", "off" or "" (unknown, or BIOS).
	SecureBoot string
	RAMBytes   uint64
	// TPM2 is true when a TPM 2.0 chip is present.
	TPM2 bool
	// Chassis is hostnamed's ("laptop", "server", "vm", ...), or "".
	Chassis string
	// Offline is true when an image can be installed without network (the
	// demo's simulator, an image on the medium): the network screen may
	// then be skipped.
	Offline bool
	// Problems are the facts that could not be read, and why.
	Problems []string
}

// Fit is what catalog.Edition.Fits needs, with the largest disk.
func (m Machine) Fit(largestDisk uint64) catalog.Machine {
	return catalog.Machine{Arch: m.Arch, Firmware: m.Firmware, RAMBytes: m.RAMBytes, LargestDiskBytes: largestDisk}
}

// Facts are what the root reads about the machine once, at the start,
// for every screen that shows or checks them.
type Facts struct {
	Machine     *Machine
	MachineErr  error
	Disks       []partition.Disk
	DisksErr    error
	DisksLoaded bool
}

// LargestDisk is the size of the largest disk that is not refused.
func (f Facts) LargestDisk() uint64 {
	var n uint64
	for _, d := range f.Disks {
		if d.Installable() {
			n = max(n, d.SizeBytes)
		}
	}
	return n
}

// Options change how the screens present themselves and what they ask.
type Options struct {
	// Demo shows a DEMO badge: the target is a disk image, not a real disk.
	Demo bool
	// Simulated labels the run "simulated bootc".
	Simulated bool
	// Preseed is the request of an answer file: the screens of the
	// sections its Interactive lists are shown, the others are skipped and
	// filled from it. Nil asks everything.
	Preseed *installer.Request
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
	// Animate enables timer-driven redraws (spinners, the elapsed clock,
	// debounced lookups). Tests turn it off so that no message arrives
	// that they did not cause.
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

// WelcomeDoneMsg carries the language and keyboard chosen on the welcome
// screen; they apply to the live session and the installed system.
type WelcomeDoneMsg struct{ Locale system.Locale }

// NetworkDoneMsg leaves the network screen; WiFi is the network joined
// there, if any, so the answers can replay it.
type NetworkDoneMsg struct{ WiFi *installer.WiFiRequest }

// EditionChosenMsg carries the edition (or a custom image as an edition
// without ID) and what resolving its image found, if it was resolved.
type EditionChosenMsg struct {
	Edition catalog.Edition
	Image   *catalog.ImageInfo
	// Custom is true for an image ref the user typed.
	Custom bool
}

// DiskChosenMsg asks the root to go on with the disk.
type DiskChosenMsg struct{ Disk partition.Disk }

// StorageChosenMsg carries the layout, filesystem and encryption.
type StorageChosenMsg struct {
	Storage    installer.StorageRequest
	Filesystem string
}

// AccountsDoneMsg carries the host name, time zone and accounts.
type AccountsDoneMsg struct {
	Hostname string
	Timezone string
	Root     installer.RootRequest
	Users    []installer.UserRequest
}

// BackMsg asks the root to return to the previous screen.
type BackMsg struct{}

// RetryMsg asks the root to plan the same choices again after a failure.
type RetryMsg struct{}

// InstallMsg asks the root to start installing a confirmed plan.
type InstallMsg struct{ Plan *installer.Plan }

// UseRegistryMsg asks the root to plan again with the registry's build
// of the image instead of the install medium's; Plan is the plan that
// installs from the medium.
type UseRegistryMsg struct{ Plan *installer.Plan }

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

// Actions the done screen ends the program with.
const (
	ActionExit     = "exit"
	ActionShell    = "shell"
	ActionReboot   = "reboot"
	ActionPowerOff = "poweroff"
)

// ExitMsg asks the root to leave the program with its result; Action says
// what the machine does next (one of the Action constants).
type ExitMsg struct{ Action string }

// Send returns a command that delivers msg; screens use it to talk to the
// root without knowing it.
func Send(msg tea.Msg) tea.Cmd {
	return func() tea.Msg { return msg }
}

// NewInput returns a one-line text field in the shared styles, with a
// steady cursor: a blinking one would redraw the screen twice a second
// for nothing, which a serial console and the goldens both notice.
func (c Common) NewInput(prompt string) textinput.Model {
	t := textinput.New()
	t.Prompt = prompt
	st := textinput.DefaultStyles(true)
	st.Focused.Prompt = c.Styles.InputPrompt
	st.Blurred.Prompt = c.Styles.Muted
	st.Focused.Placeholder = c.Styles.InputPlaceholder
	st.Blurred.Placeholder = c.Styles.InputPlaceholder
	st.Focused.Text = c.Styles.InputText
	st.Blurred.Text = c.Styles.InputText
	st.Cursor.Blink = false
	st.Cursor.Color = nil
	t.SetStyles(st)
	// ctrl+v pastes from a clipboard, which a console does not have.
	t.KeyMap.Paste.SetEnabled(false)
	return t
}

// NewSecret returns a text field that shows a star per character typed.
func (c Common) NewSecret(prompt string) textinput.Model {
	t := c.NewInput(prompt)
	t.EchoMode = textinput.EchoPassword
	t.EchoCharacter = '*'
	return t
}

// Typed reports whether a key press types text (a letter, a digit, a
// symbol) rather than acting (enter, arrows, ctrl+...).
func Typed(k tea.KeyPressMsg) bool {
	return k.Text != "" && k.Mod&^tea.ModShift == 0
}
