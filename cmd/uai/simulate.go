package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/universal-atomic-installer/uai/installer/bootc/sim"
)

// newSimulateCmd runs the built-in bootc/podman simulator. The demo runs it
// as a child process in place of the real programs; it is hidden because
// nobody should call it by hand.
func newSimulateCmd() *cobra.Command {
	return &cobra.Command{
		Use:                "simulate bootc|podman [ARGS...]",
		Short:              "Run the built-in simulator of bootc or podman (demo mode)",
		Hidden:             true,
		DisableFlagParsing: true,
		Args:               cobra.MinimumNArgs(1),
		Run: func(c *cobra.Command, args []string) {
			os.Exit(sim.Main(args[0], args[1:], sim.DefaultEnv()))
		},
	}
}
