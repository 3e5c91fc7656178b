package main

import (
	"github.com/spf13/cobra"
)

// flagError marks a command-line usage error (exit code of invalid input).
type flagError struct{ err error }

func (f *flagError) Error() string { return f.err.Error() }
func (f *flagError) Unwrap() error { return f.err }

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "uai",
		Short: "The Universal Atomic Installer: install any bootc edition",
		Long: `uai installs bootable-container (bootc) editions onto a disk: interactively
in a terminal UI, or unattended from an answer file. Exit codes are listed in
docs/exit-codes.md.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &flagError{err: err}
	})
	root.AddCommand(newVersionCmd(), newCatalogCmd(), newDisksCmd(), newPlanCmd(), newInstallCmd(), newSimulateCmd(), newAnswersCmd(), newSwitchCmd(), newISOCmd())
	return root
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the uai version",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			c.Printf("uai %s\n", version)
			return nil
		},
	}
}
