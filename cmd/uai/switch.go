package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/universal-atomic-installer/uai/catalog"
	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/installer/bootc/sim"
	"github.com/universal-atomic-installer/uai/installer/host"
	"github.com/universal-atomic-installer/uai/installer/rebase"
	"github.com/universal-atomic-installer/uai/installer/system"
	"github.com/universal-atomic-installer/uai/ui/switchui"
)

// demoBooted is what the switch demo's simulated machine boots at first:
// a desktop, so that the targets show every kind of warning.
const demoBooted = "quay.io/fedora/fedora-silverblue:44"

type switchFlags struct {
	apply      bool
	yes        bool
	plain      bool
	progress   string
	demo       bool
	demoState  string
	method     string
	imageFacts string
	cat        catalogFlags
}

func newSwitchCmd() *cobra.Command {
	var f switchFlags
	cmd := &cobra.Command{
		Use:   "switch [EDITION|REF]",
		Short: "Switch this installed system to another edition (bootc switch)",
		Long: `Switch an installed bootc or rpm-ostree system to another edition.

With no argument and a terminal, the switch TUI opens: the booted, staged
and rollback images, the editions to switch to with what changes, a
confirmation, progress, and an offer to reboot. With no argument and no
terminal (or --plain), the same is printed as text.

With EDITION (a catalog id) or REF (a full image ref), the switch runs
unattended: uai reads bootc status, checks the target, and runs bootc switch
only with --yes. --apply reboots once the new image is staged.

--demo runs against the built-in simulator of bootc, whose simulated machine
lives in --demo-state, so it can be tried anywhere without changing anything.
Exit codes are listed in docs/exit-codes.md; events in docs/switch.md.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return runSwitch(c, &f, args)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.apply, "apply", false, "reboot into the new image once it is staged")
	fl.BoolVarP(&f.yes, "yes", "y", false, "confirm the switch: run it without asking")
	fl.BoolVar(&f.plain, "plain", false, "print plain text even on a terminal, instead of the TUI")
	fl.StringVar(&f.progress, "progress", "auto", "output without the TUI: plain (text lines) or json (JSON lines ending with a result record)")
	fl.BoolVar(&f.demo, "demo", false, "run against the built-in bootc simulator: nothing on this machine changes")
	fl.StringVar(&f.demoState, "demo-state", "", "where the demo's simulated machine lives (default: the user cache directory); delete it to start over")
	fl.StringVar(&f.method, "method", "auto", "how to switch: auto (bootc switch, rpm-ostree rebase when bootc refuses an rpm-ostree system), bootc or rpm-ostree")
	fl.StringVar(&f.imageFacts, "image-facts", "", "check target images against this JSON file of ref -> facts instead of a registry (offline machines)")
	_ = fl.MarkHidden("image-facts")
	f.cat.register(fl)
	return cmd
}

func runSwitch(c *cobra.Command, f *switchFlags, args []string) error {
	out := c.OutOrStdout()
	var sink rebase.Sink
	var text *switchui.Text
	switch f.progress {
	case "json":
		sink = switchui.NewJSON(out)
	case "plain", "auto":
		text = switchui.NewText(out)
		sink = text
	default:
		return &flagError{fmt.Errorf("--progress %q is not known; use plain or json", f.progress)}
	}
	method := rebase.Method(f.method)
	switch method {
	case rebase.MethodAuto, rebase.MethodBootc, rebase.MethodRpmOstree:
	default:
		return &flagError{fmt.Errorf("--method %q is not known; use auto, bootc or rpm-ostree", f.method)}
	}
	ctx := c.Context()
	tui := len(args) == 0 && !f.plain && f.progress == "auto" && isTTY(os.Stdin) && isTTY(os.Stdout)
	// The catalog's warnings go to stderr, after the full screen when
	// there is one (it would hide them).
	var catWarnings bytes.Buffer
	l, err := f.cat.open(ctx, &catWarnings)
	if !tui || err != nil {
		_, _ = catWarnings.WriteTo(c.ErrOrStderr())
	}
	if err != nil {
		return err
	}
	e, err := switchEngine(f, method, l.Catalog)
	if err != nil {
		return err
	}
	if len(args) == 0 {
		if tui {
			err := runSwitchTUI(ctx, e, f.demo)
			_, _ = catWarnings.WriteTo(c.ErrOrStderr())
			return err
		}
		if text != nil {
			text.ListTargets = true
		}
		_, _, err = e.List(ctx, sink)
	} else {
		_, err = e.Unattended(ctx, args[0], rebase.Options{Confirmed: f.yes, Apply: f.apply}, sink)
	}
	if err != nil && f.progress == "json" {
		// The result record already carries the error.
		return &silentError{err}
	}
	return err
}

// switchEngine wires the engine to this machine, or to the simulator.
func switchEngine(f *switchFlags, method rebase.Method, cat *catalog.Catalog) (*rebase.Engine, error) {
	ex := &host.Exec{}
	e := &rebase.Engine{
		Runner:  ex,
		Catalog: cat,
		Method:  method,
		Power:   &system.Power{Runner: ex},
		Check:   registryCheck,
	}
	if f.demo {
		exe, err := installer.SelfExe()
		if err != nil {
			return nil, err
		}
		state, err := demoState(f.demoState)
		if err != nil {
			return nil, err
		}
		ex.Paths = map[host.Tool][]string{host.Bootc: {exe, "simulate", "bootc"}}
		// The simulated bootc acts as root: it is the simulator's machine
		// that changes, never this one.
		e.Env = []string{"UAI_SIM_STATE_DIR=" + state, "UAI_SIM_UID=0"}
		e.Simulated = true
		e.Power = nil
		e.Check = simulatedCheck
	}
	if f.imageFacts != "" {
		check, err := rebase.FactsFile(f.imageFacts)
		if err != nil {
			return nil, installer.Errorf(installer.ClassInvalidInput, "check the --image-facts path", "%w", err)
		}
		e.Check = check
	}
	return e, nil
}

// registryCheck looks target images up in their registry before a switch,
// with the catalog's resolver. Its refusals keep their meaning: an image
// that is not bootable is reported as such (the engine refuses it, exit
// 2), a wrong architecture or an unknown image is invalid input, and
// anything else is the registry's failure.
func registryCheck(ctx context.Context, ref, arch string) (rebase.ImageFacts, error) {
	info, err := catalog.ResolveImage(ctx, ref, catalog.ResolveOptions{Arch: arch})
	switch {
	case errors.Is(err, catalog.ErrNotBootable):
		return rebase.ImageFacts{Ref: ref, Arch: arch, Bootable: false}, nil
	case errors.Is(err, catalog.ErrWrongArch):
		return rebase.ImageFacts{}, installer.Errorf(installer.ClassInvalidInput, "pick an image built for this machine (uai switch lists the editions)", "look up %s: %w", ref, err)
	case errors.Is(err, catalog.ErrBadRef), errors.Is(err, catalog.ErrNotFound):
		return rebase.ImageFacts{}, installer.Errorf(installer.ClassInvalidInput, "check the image ref", "look up %s: %w", ref, err)
	case err != nil:
		return rebase.ImageFacts{}, err
	}
	return rebase.ImageFacts{
		Ref: ref, Digest: info.Digest, Arch: info.Arch, SizeBytes: info.SizeBytes, Bootable: info.Bootable,
		Version: info.Labels["org.opencontainers.image.version"], Labels: info.Labels, Notes: info.Warnings,
	}, nil
}

// simulatedCheck answers for the demo as a registry would for the images
// the simulator knows: bootable, built for this machine.
func simulatedCheck(_ context.Context, ref, arch string) (rebase.ImageFacts, error) {
	return rebase.ImageFacts{Ref: ref, Digest: sim.ImageDigest(ref), Arch: arch, Bootable: true}, nil
}

// demoState returns the simulated machine's directory, seeded with a
// booted Silverblue the first time.
func demoState(dir string) (string, error) {
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			base = os.TempDir()
		}
		dir = filepath.Join(base, "uai", "switch-demo")
	}
	if _, err := os.Stat(filepath.Join(dir, "host.json")); err == nil {
		return dir, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", installer.Errorf(installer.ClassEnvironment, "pass another --demo-state directory", "demo state %s: %w", dir, err)
	}
	if err := sim.SeedBootedHost(dir, demoBooted); err != nil {
		return "", installer.Errorf(installer.ClassEnvironment, "pass a writable --demo-state directory", "seed the demo state in %s: %w", dir, err)
	}
	return dir, nil
}

func runSwitchTUI(ctx context.Context, e *rebase.Engine, demo bool) error {
	res, err := switchui.Run(ctx, e, switchui.Options{Demo: demo, Simulated: demo})
	if err != nil {
		return err
	}
	if res.ExitCode != 0 {
		return &silentError{&installer.Error{Class: classFromExit(res.ExitCode), Err: errors.New(res.Error)}}
	}
	return nil
}
