package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/universal-atomic-installer/uai/catalog"
	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/installer/answers"
	"github.com/universal-atomic-installer/uai/partition"
	"github.com/universal-atomic-installer/uai/ui"
	"github.com/universal-atomic-installer/uai/ui/report"
)

// runFlags are the flags shared by plan and install. Precedence:
// defaults < answer file < flags.
type runFlags struct {
	answers    string
	target     string
	edition    string
	image      string
	filesystem string
	wipe       bool
	demo       bool
	targetDir  string
	espMount   string
}

func (f *runFlags) register(c *cobra.Command) {
	fl := c.Flags()
	fl.StringVar(&f.answers, "answers", "", "answer file (TOML, version 1) to take every choice from")
	fl.StringVar(&f.target, "target", "", "target disk: a /dev path, a /dev/disk/by-id link or a disk image file (overrides the answer file)")
	fl.StringVar(&f.edition, "edition", "", "catalog edition id to install (overrides the answer file)")
	fl.StringVar(&f.image, "image", "", "any bootc image ref to install instead of a catalog edition")
	fl.StringVar(&f.filesystem, "filesystem", "", "root filesystem: xfs, ext4 or btrfs (default: the edition's)")
	fl.BoolVar(&f.wipe, "wipe", false, "allow erasing a disk that holds data")
	fl.BoolVar(&f.demo, "demo", false, "demo mode: only disk image files as targets, and a built-in simulator stands in for bootc and podman")
	fl.StringVar(&f.targetDir, "target-dir", installer.DefaultTargetDir, "where to mount the new root during the install")
	fl.StringVar(&f.espMount, "esp-mount", "auto", "how to mount the ESP: kernel, fuse (fusefat) or auto (fuse only when the kernel has no vfat)")
	_ = fl.MarkHidden("esp-mount")
}

// request merges the answer file (if any) and the flags.
func (f *runFlags) request() (installer.Request, *answers.Answers, error) {
	var req installer.Request
	var a *answers.Answers
	if f.answers != "" {
		var rep *answers.Report
		var err error
		a, rep, err = answers.Load(f.answers)
		if err != nil {
			return req, nil, installer.Errorf(installer.ClassInvalidInput, "check the path", "%w", err)
		}
		if err := rep.Err(); err != nil {
			return req, nil, installer.Classify(installer.ClassInvalidInput, err)
		}
		req = installer.RequestFromAnswers(a)
	}
	if f.target != "" {
		req.DiskPath = f.target
	}
	if f.edition != "" {
		req.EditionID, req.Image = f.edition, ""
	}
	if f.image != "" {
		req.Image, req.EditionID = f.image, ""
	}
	if f.filesystem != "" {
		req.Filesystem = f.filesystem
	}
	if f.wipe {
		req.Wipe = true
	}
	req.TargetDir = f.targetDir
	return req, a, nil
}

func (f *runFlags) session() (*installer.Session, error) {
	var targets []string
	if f.target != "" {
		targets = []string{f.target}
	} else if f.demo && f.answers == "" {
		return nil, installer.Errorf(installer.ClassInvalidInput, "pass --target FILE (make run creates build/demo-disk.img)", "demo mode needs a disk image file as the target")
	}
	fuse := false
	switch f.espMount {
	case "kernel":
	case "fuse":
		fuse = true
	case "auto":
		fuse = !installer.KernelHasVFAT()
	default:
		return nil, installer.Errorf(installer.ClassInvalidInput, "use kernel, fuse or auto", "--esp-mount %q is not known", f.espMount)
	}
	return installer.NewSession(catalog.Embedded(), targets, f.demo, f.targetDir, fuse)
}

func (f *runFlags) plan(ctx context.Context) (*installer.Session, *installer.Plan, *answers.Answers, error) {
	req, a, err := f.request()
	if err != nil {
		return nil, nil, nil, err
	}
	// A disk named by the answer file is described like one named by flag:
	// image files directly, block devices through the full scan.
	if f.target == "" && req.DiskPath != "" {
		f.target = req.DiskPath
	}
	s, err := f.session()
	if err != nil {
		return nil, nil, nil, err
	}
	p, err := s.Plan(ctx, req)
	if err != nil {
		return nil, nil, nil, err
	}
	return s, p, a, nil
}

func newPlanCmd() *cobra.Command {
	var f runFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Print the plan an install would carry out, touching no disk",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			_, p, _, err := f.plan(c.Context())
			if err != nil {
				return err
			}
			if asJSON {
				_, err = c.OutOrStdout().Write(p.JSON())
				return err
			}
			fmt.Fprint(c.OutOrStdout(), p.Text())
			fmt.Fprintf(c.OutOrStdout(), "\nplan sha256 %s\n", p.SHA256())
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the plan as JSON (its sha256 is the plan hash)")
	return cmd
}

func newInstallCmd() *cobra.Command {
	var f runFlags
	var yes bool
	var progress string
	cmd := &cobra.Command{
		Use:   "install",
		Short: "Install an edition: the TUI, or unattended with --answers",
		Long: `Install an edition onto a disk.

With no answer file and a terminal, the installer TUI opens. With --answers
(or --edition and --target) the install runs unattended; it writes a disk only
when the answer file says confirm = true or --yes is given.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			out := c.OutOrStdout()
			var sink installer.Sink
			switch progress {
			case "json":
				sink = report.NewJSON(out)
			case "plain", "auto":
				sink = report.NewText(out)
			default:
				return &flagError{fmt.Errorf("--progress %q is not known; use plain or json", progress)}
			}
			interactive := f.answers == "" && f.edition == "" && f.image == "" && isTTY(os.Stdin) && isTTY(os.Stdout)
			if interactive {
				return runTUI(c.Context(), &f)
			}
			err := install(c.Context(), &f, yes, sink, out)
			if err != nil && progress == "json" {
				// The result record already carries the error.
				return &silentError{err}
			}
			return err
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "confirm the plan: write the disk without asking")
	cmd.Flags().StringVar(&progress, "progress", "auto", "progress output when unattended: plain (text lines) or json (JSON lines ending with a result record)")
	return cmd
}

// install runs an unattended install. Errors before the engine starts are
// reported as a result record too, so a harness always gets one.
func install(ctx context.Context, f *runFlags, yes bool, sink installer.Sink, out io.Writer) error {
	fail := func(err error) error {
		sink.Emit(installer.Event{V: installer.EventVersion, Type: installer.EventResult, Result: &installer.Result{
			ExitCode: installer.ExitCode(err), Class: installer.ClassOf(err).String(), Error: err.Error(), Simulated: f.demo,
		}})
		return err
	}
	s, p, a, err := f.plan(ctx)
	if err != nil {
		return fail(err)
	}
	confirmed := yes || (a != nil && a.Confirm)
	if a != nil && a.ExpectPlanSHA256 != "" && a.ExpectPlanSHA256 != p.SHA256() {
		return fail(installer.Errorf(installer.ClassInvalidInput, "review the plan with `uai plan` and update expect_plan_sha256",
			"the plan's sha256 is %s, the answer file expects %s", p.SHA256(), a.ExpectPlanSHA256))
	}
	if !confirmed {
		if _, isText := sink.(*report.Text); isText {
			fmt.Fprint(out, p.Text())
		}
		return fail(installer.Errorf(installer.ClassNotConfirmed, "add confirm = true to the answer file or pass --yes",
			"the plan (sha256 %s) was not confirmed, so no disk was touched", p.SHA256()))
	}
	res, err := s.Install(ctx, p, sink)
	_ = res
	return err
}

func runTUI(ctx context.Context, f *runFlags) error {
	s, err := f.session()
	if err != nil {
		return err
	}
	res, err := ui.Run(ctx, tuiBackend{s}, ui.Options{Demo: f.demo, Simulated: f.demo})
	if err != nil {
		return err
	}
	if res.ExitCode != 0 {
		return &silentError{&installer.Error{Class: classFromExit(res.ExitCode), Err: fmt.Errorf("%s", res.Error)}}
	}
	return nil
}

func classFromExit(code int) installer.Class {
	for c := installer.ClassInternal; c <= installer.ClassNotConfirmed; c++ {
		if c.ExitCode() == code {
			return c
		}
	}
	return installer.ClassInternal
}

// tuiBackend adapts a Session to the TUI's Backend.
type tuiBackend struct{ s *installer.Session }

func (b tuiBackend) Catalog() *catalog.Catalog { return b.s.Catalog }

func (b tuiBackend) Disks(ctx context.Context) ([]partition.Disk, error) { return b.s.Disks(ctx) }

func (b tuiBackend) Plan(ctx context.Context, c ui.Choice) (*installer.Plan, error) {
	return b.s.Plan(ctx, installer.Request{EditionID: c.EditionID, DiskPath: c.DiskPath, Wipe: c.Wipe})
}

func (b tuiBackend) Install(ctx context.Context, p *installer.Plan, sink installer.Sink) error {
	_, err := b.s.Install(ctx, p, sink)
	return err
}

func isTTY(f *os.File) bool { return term.IsTerminal(f.Fd()) }
