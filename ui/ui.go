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

// Backend is everything the TUI needs from the engine. It is declared with
// the screens, which call it only from commands, never from Update.
type Backend = common.Backend

// Choice is what the user picked: the edition, the disk, and whether the
// disk's contents may be erased.
type Choice = common.Choice

// Options change how the TUI presents itself.
type Options = common.Options

// New returns the root model, starting at the edition screen.
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

// Run shows the TUI on the terminal until the user leaves it, and returns
// the run's result (its ExitCode is the process exit code). The error is
// only for a TUI that could not run; a failed or aborted install is a
// result, not an error.
//
// Colours follow the terminal: Bubble Tea detects its profile and honours
// NO_COLOR, and no screen relies on colour alone.
func Run(ctx context.Context, b Backend, o Options) (installer.Result, error) {
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	p := tea.NewProgram(newModel(runCtx, b, o), tea.WithContext(runCtx))
	final, err := p.Run()
	m, ok := final.(Model)
	if err == nil && ok {
		m.waitInstall()
		return m.Result(), nil
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
	if errors.Is(err, tea.ErrInterrupted) || ctx.Err() != nil {
		return res, nil
	}
	return res, fmt.Errorf("run the installer screens: %w", err)
}

// aborted is the result of leaving before an install finished.
func aborted(why string) installer.Result {
	return installer.Result{
		ExitCode: installer.ClassAborted.ExitCode(),
		Class:    installer.ClassAborted.String(),
		Error:    why,
	}
}
