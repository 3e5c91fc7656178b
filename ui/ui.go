// Package ui is the installer's terminal interface: Bubble Tea screens that drive the engine only through the Backend interface.
package ui

import (
	"context"
	"errors"
	"fmt"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/ui/common"
	"github.com/universal-atomic-installer/uai/ui/keymap"
	"github.com/universal-atomic-installer/uai/ui/styles"
)

// Backend is everything the TUI needs from the engine and the machine. It
// is declared with the screens, which call it only from commands, never
// from Update.
type Backend = common.Backend

// Options change how the TUI presents itself and what it asks.
type Options = common.Options

// Machine is what the welcome screen says about the machine.
type Machine = common.Machine

// ErrDemo is what a demo Backend answers to a change of this computer.
var ErrDemo = common.ErrDemo

// What the user chose to do after an install (Outcome.Action).
const (
	ActionExit     = common.ActionExit
	ActionShell    = common.ActionShell
	ActionReboot   = common.ActionReboot
	ActionPowerOff = common.ActionPowerOff
)

// Outcome is how a run of the TUI ended.
type Outcome struct {
	// Result is the install's result, or an aborted one; its ExitCode is
	// the process exit code.
	Result installer.Result
	// Action is what the user chose on the done screen ("" when the
	// program ended otherwise). For reboot and power off the machine was
	// already asked.
	Action string
	// Request is everything chosen: the answers of this run.
	Request installer.Request
}

// New returns the root model, starting at the first screen that asks.
func New(b Backend, o Options) Model {
	return newModel(context.Background(), b, o)
}

func newModel(ctx context.Context, b Backend, o Options) Model {
	c := common.Common{
		Ctx:     ctx,
		Backend: b,
		Options: o,
		Styles:  styles.Default(),
		Keys:    keymap.Default(),
		Now:     time.Now,
		Animate: true,
	}
	return newWithCommon(c)
}

// Run shows the TUI on the terminal until the user leaves it. The error is
// only for a TUI that could not run; a failed or aborted install is an
// outcome, not an error.
//
// Colours follow the terminal: Bubble Tea detects its profile and honours
// NO_COLOR, and no screen relies on colour alone.
func Run(ctx context.Context, b Backend, o Options, opts ...tea.ProgramOption) (Outcome, error) {
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	p := tea.NewProgram(newModel(runCtx, b, o), append([]tea.ProgramOption{tea.WithContext(runCtx)}, opts...)...)
	final, err := p.Run()
	m, ok := final.(Model)
	if err == nil && ok {
		m.waitInstall()
		return Outcome{Result: m.Result(), Action: m.Action(), Request: m.Request()}, nil
	}
	// The program was killed (a signal, ctx, a panic). An install still
	// running is told to stop and waited for, so that the engine can
	// clean up the disk before the process exits.
	cancel()
	m.waitInstall()
	res := m.result
	if !m.finished {
		why := "the installer screen stopped"
		if err != nil {
			why += ": " + err.Error()
		}
		res = aborted(why)
	}
	out := Outcome{Result: res, Request: m.req}
	if errors.Is(err, tea.ErrInterrupted) || ctx.Err() != nil {
		return out, nil
	}
	return out, fmt.Errorf("run the installer screens: %w", err)
}

// aborted is the result of leaving before an install finished.
func aborted(why string) installer.Result {
	return installer.Result{
		ExitCode: installer.ClassAborted.ExitCode(),
		Class:    installer.ClassAborted.String(),
		Error:    why,
	}
}
