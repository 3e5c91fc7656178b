// Command uai is the Universal Atomic Installer: it installs any bootable
// container (bootc) edition onto a disk, from a TUI or an answer file.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/universal-atomic-installer/uai/installer"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRoot().ExecuteContext(ctx)
	stop()
	if err != nil {
		var silent *silentError
		if !errors.As(err, &silent) {
			fmt.Fprintf(os.Stderr, "uai: error: %v\n", err)
		}
	}
	os.Exit(exitCode(err))
}

// silentError carries an exit code for an error already reported (for
// example by the event stream's result record).
type silentError struct{ err error }

func (s *silentError) Error() string { return s.err.Error() }
func (s *silentError) Unwrap() error { return s.err }

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var fe *flagError
	if errors.As(err, &fe) {
		return installer.ClassInvalidInput.ExitCode()
	}
	return installer.ExitCode(err)
}
