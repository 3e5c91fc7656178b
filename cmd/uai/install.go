package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/universal-atomic-installer/uai/catalog"
	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/installer/answers"
	"github.com/universal-atomic-installer/uai/installer/discover"
	"github.com/universal-atomic-installer/uai/installer/host"
	"github.com/universal-atomic-installer/uai/installer/system"
	"github.com/universal-atomic-installer/uai/partition"
	"github.com/universal-atomic-installer/uai/ui"
	"github.com/universal-atomic-installer/uai/ui/plain"
	"github.com/universal-atomic-installer/uai/ui/report"
)

// runFlags are the flags shared by plan and install. Precedence:
// defaults < answer file < flags.
type runFlags struct {
	answers    []string
	target     string
	edition    string
	image      string
	filesystem string
	wipe       bool
	demo       bool
	targetDir  string
	espMount   string
	// runner overrides [source] runner: auto, podman or host.
	runner string
	// copyUAI copies uai to the installed system.
	copyUAI bool
	// mediumImages and graphroot point the runner choice at other OCI
	// layouts and containers-storage than the live system's (test seams).
	mediumImages string
	graphroot    string

	// Answer-file discovery (docs/answers.md, "Discovery").
	discover      bool
	cmdline       string
	liveMedium    string
	answerDevices []string
	sysRoot       string
	// fetchTimeout bounds a network fetch of answers; a test seam.
	fetchTimeout time.Duration
	// loaded caches the composed answers of this run.
	loaded *loadedAnswers

	// cat are --catalog, --catalog-key and --insecure-catalog (plan,
	// install and answers explain register them). answersCatalog is the
	// answers' source.catalog, read when no --catalog is given; the
	// catalog of the run is loaded once into catLoaded.
	cat            catalogFlags
	answersCatalog string
	catLoaded      *catalog.Loaded
}

func (f *runFlags) register(c *cobra.Command) {
	fl := c.Flags()
	fl.StringArrayVar(&f.answers, "answers", nil, "answer file (TOML version 1, or a kickstart) to take every choice from; repeat it to compose files (later files win)")
	fl.BoolVar(&f.discover, "discover", false, "without --answers, look for answers as the live system does: uai.answers= and inst.ks= on the kernel command line, the live medium's /uai/answers.toml, a volume labelled UAI-ANSWERS or OEMDRV")
	fl.StringVar(&f.liveMedium, "live-medium", discover.DefaultLiveMedium, "where the live medium is mounted (for --discover)")
	fl.StringVar(&f.cmdline, "cmdline", discover.DefaultCmdline, "the kernel command line to read uai.answers, inst.ks and uai.autoinstall from")
	fl.StringSliceVar(&f.answerDevices, "answers-devices", nil, "look for answer volumes only on these devices or image files instead of every disk (for --discover)")
	fl.StringVar(&f.sysRoot, "sys-root", "/sys", "where sysfs is, for the MAC and DMI facts [[hosts]] entries match")
	fl.DurationVar(&f.fetchTimeout, "answers-fetch-timeout", discover.DefaultFetchTimeout, "how long to keep trying to fetch answers over the network")
	_ = fl.MarkHidden("answers-devices")
	_ = fl.MarkHidden("sys-root")
	_ = fl.MarkHidden("answers-fetch-timeout")
	fl.StringVar(&f.target, "target", "", "target disk: a /dev path, a /dev/disk/by-id link or a disk image file (overrides the answer file)")
	fl.StringVar(&f.edition, "edition", "", "catalog edition id to install (overrides the answer file)")
	fl.StringVar(&f.image, "image", "", "any bootc image ref to install instead of a catalog edition")
	fl.StringVar(&f.filesystem, "filesystem", "", "root filesystem: xfs, ext4 or btrfs (default: the edition's)")
	fl.BoolVar(&f.wipe, "wipe", false, "allow erasing a disk that holds data")
	fl.BoolVar(&f.demo, "demo", false, "demo mode: only disk image files as targets, and a built-in simulator stands in for bootc and podman")
	fl.StringVar(&f.targetDir, "target-dir", installer.DefaultTargetDir, "where to mount the new root during the install")
	fl.StringVar(&f.espMount, "esp-mount", "auto", "how to mount the ESP: kernel, fuse (fusefat) or auto (fuse only when the kernel has no vfat)")
	_ = fl.MarkHidden("esp-mount")
	fl.StringVar(&f.runner, "runner", "", "how bootc runs: auto (choose), podman (the image's own bootc) or host (the live system's bootc); overrides [source] runner")
	fl.BoolVar(&f.copyUAI, "copy-uai", false, "copy this uai to the installed system's /usr/local/bin/uai")
	fl.StringVar(&f.mediumImages, "medium-images", "", "where the install medium's OCI layouts are (default "+installer.DefaultMediumImagesDir+"; in demo mode none unless given)")
	fl.StringVar(&f.graphroot, "containers-storage", "", "the containers-storage graphroot to look the image up in (default "+installer.DefaultGraphroot+"; never in demo mode)")
	_ = fl.MarkHidden("medium-images")
	_ = fl.MarkHidden("containers-storage")
}

// loadAnswers finds and composes the answer files (--answers, or
// discovery with --discover), logging each source tried to logw. It
// returns nil answers when there are none.
func (f *runFlags) loadAnswers(ctx context.Context, logw io.Writer) (*answers.Answers, error) {
	if len(f.answers) == 0 && !f.discover {
		return nil, nil
	}
	// Discovery may fetch over the network and logs every source: do it
	// once per run, however many times the answers are asked for.
	if f.loaded != nil {
		if f.loaded.a != nil {
			return cloneAnswers(f.loaded.a), nil
		}
		return nil, f.loaded.err
	}
	a, err := f.findAnswers(ctx, logw)
	f.loaded = &loadedAnswers{a, err}
	if a != nil {
		// Callers change the answers (flags win); hand out copies.
		return cloneAnswers(a), nil
	}
	return nil, err
}

type loadedAnswers struct {
	a   *answers.Answers
	err error
}

// cloneAnswers copies a through its encoding, which loses nothing.
func cloneAnswers(a *answers.Answers) *answers.Answers {
	b, _ := answers.Parse(answers.Encode(a))
	if b == nil {
		return a
	}
	return b
}

func (f *runFlags) findAnswers(ctx context.Context, logw io.Writer) (*answers.Answers, error) {
	var cl discover.Cmdline
	if f.discover {
		var err error
		if cl, err = discover.ReadCmdline(f.cmdline); err != nil {
			return nil, installer.Errorf(installer.ClassEnvironment, "pass --cmdline FILE", "%w", err)
		}
	}
	o := discover.Options{
		Flags: f.answers, Cmdline: cl, LiveMedium: f.liveMedium, FetchTimeout: f.fetchTimeout,
		Log: func(line string) { fmt.Fprintln(logw, line) },
	}
	if len(f.answerDevices) > 0 {
		o.Devices = func() ([]partition.Disk, error) {
			var out []partition.Disk
			for _, p := range f.answerDevices {
				d, err := partition.Describe(p)
				if err != nil {
					return nil, err
				}
				out = append(out, d)
			}
			return out, nil
		}
	}
	found, err := discover.Discover(ctx, o)
	if err != nil {
		switch {
		case errors.Is(err, discover.ErrFetch):
			return nil, installer.Errorf(installer.ClassDependency, "check that the server or volume is reachable", "find the answer file: %w", err)
		case errors.Is(err, discover.ErrChecksum):
			return nil, installer.Errorf(installer.ClassInvalidInput, "", "find the answer file: %w", err)
		}
		return nil, installer.Errorf(installer.ClassInvalidInput, "check the path or kernel argument", "find the answer file: %w", err)
	}
	if len(found.Inputs) == 0 {
		return nil, installer.Errorf(installer.ClassInvalidInput, "give --answers FILE, or see docs/answers.md for where uai looks",
			"no answer file was found")
	}
	c := answers.Compose(found.Inputs, discover.ReadFacts(f.sysRoot))
	for _, h := range c.Hosts {
		fmt.Fprintf(logw, "answers: %s applies to this machine\n", h)
	}
	if err := c.Report.Err(); err != nil {
		return nil, installer.Classify(installer.ClassInvalidInput, err)
	}
	return c.Answers, nil
}

// request merges the answer files (if any) and the flags, which win. It
// returns the effective answers too: the files' with the flags applied.
func (f *runFlags) request(ctx context.Context, logw io.Writer) (installer.Request, *answers.Answers, error) {
	a, err := f.loadAnswers(ctx, logw)
	if err != nil {
		return installer.Request{}, nil, err
	}
	fromFile := a != nil
	if a == nil {
		a = &answers.Answers{Version: answers.Version}
	}
	if f.target != "" {
		// The flag names the disk: no rule of the file's selector applies.
		a.Disk.Selector = partition.Selector{Path: f.target}
	}
	if f.edition != "" {
		a.Source.Edition, a.Source.Image, a.Source.Transport = f.edition, "", ""
	}
	if f.image != "" {
		// A catalog only looks an edition up: none is read for an image.
		a.Source.Image, a.Source.Edition, a.Source.Transport, a.Source.Catalog = f.image, "", "", ""
	}
	f.answersCatalog = a.Source.Catalog
	if len(f.cat.sources) > 0 {
		// --catalog wins over source.catalog. The effective answers say
		// so when one answer can: a single catalog an answer file accepts.
		a.Source.Catalog = ""
		if len(f.cat.sources) == 1 && a.Source.Edition != "" && answersCatalogForm(f.cat.sources[0]) {
			a.Source.Catalog = f.cat.sources[0]
		}
	}
	if f.filesystem != "" {
		a.Storage.Filesystem = f.filesystem
	}
	if f.wipe {
		a.Disk.Wipe = true
	}
	if f.runner != "" {
		switch f.runner {
		case installer.RunnerAuto, installer.RunnerPodman, installer.RunnerHost:
		default:
			return installer.Request{}, nil, &flagError{fmt.Errorf("--runner %q is not known; use auto, podman or host", f.runner)}
		}
		a.Source.Runner = f.runner
	}
	req := installer.RequestFromAnswers(a)
	req.TargetDir = f.targetDir
	if !fromFile {
		return req, nil, nil
	}
	return req, a, nil
}

// answersCatalogForm reports whether a --catalog value is one an answer
// file's source.catalog accepts: an https URL, a file:/// URL or an
// absolute path.
func answersCatalogForm(s string) bool {
	return strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "file:///") || filepath.IsAbs(s)
}

// openCatalog loads the catalog of the run: the --catalog sources, else
// the answers' source.catalog, else the embedded catalog. Remote catalogs
// are verified the same way whoever named them (--catalog-key, the keys
// built into uai, --insecure-catalog). The loader's warnings (a fallback
// to the cache or the embedded catalog, an unverified catalog, a
// conflict) go to w.
func (f *runFlags) openCatalog(ctx context.Context, w io.Writer) (*catalog.Loaded, error) {
	if f.catLoaded != nil {
		return f.catLoaded, nil
	}
	cf := f.cat
	fromAnswers := len(cf.sources) == 0 && f.answersCatalog != ""
	if fromAnswers {
		cf.sources = []string{f.answersCatalog}
	}
	l, err := cf.open(ctx, w)
	if err != nil {
		if fromAnswers {
			return nil, fmt.Errorf("source.catalog of the answers: %w", err)
		}
		return nil, err
	}
	f.catLoaded = l
	return l, nil
}

// editionCatalog names the catalog an edition came from for the plan:
// the source as given, or "" for the embedded catalog (also when a
// remote catalog fell back to it).
func editionCatalog(l *catalog.Loaded) func(string) string {
	return func(id string) string {
		src, ok := l.SourceOf(id)
		if !ok || src.Kind == catalog.KindEmbedded {
			return ""
		}
		return src.Location
	}
}

// session builds the run's session on the run's catalog, whose warnings
// go to w. It is called after the answers are read (request), so that
// source.catalog is known.
func (f *runFlags) session(ctx context.Context, w io.Writer) (*installer.Session, error) {
	var targets []string
	if f.target != "" {
		targets = []string{f.target}
	} else if f.demo && len(f.answers) == 0 && !f.discover {
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
	l, err := f.openCatalog(ctx, w)
	if err != nil {
		return nil, err
	}
	s, err := installer.NewSession(l.Catalog, targets, f.demo, f.targetDir, fuse)
	if err != nil {
		return nil, err
	}
	s.EditionCatalog = editionCatalog(l)
	s.Engine.Version = version
	s.CopyUAI, s.Runner = f.copyUAI, f.runner
	s.MediumImagesDir, s.Graphroot = f.mediumImages, f.graphroot
	// The finish step reboots or powers off through logind (systemctl when
	// there is no bus); it never acts in demo mode or on an image file.
	s.Engine.Power = &system.Power{Runner: s.Engine.Runner}
	return s, nil
}

func (f *runFlags) plan(ctx context.Context, logw io.Writer) (*installer.Session, *installer.Plan, *answers.Answers, error) {
	req, a, err := f.request(ctx, logw)
	if err != nil {
		return nil, nil, nil, err
	}
	s, p, err := f.planRequest(ctx, req, logw)
	return s, p, a, err
}

// planRequest plans req; the catalog's warnings go to warnw.
func (f *runFlags) planRequest(ctx context.Context, req installer.Request, warnw io.Writer) (*installer.Session, *installer.Plan, error) {
	// A disk named by the answer file is described like one named by flag:
	// image files directly, block devices through the full scan.
	if f.target == "" && req.DiskPath != "" {
		f.target = req.DiskPath
	}
	s, err := f.session(ctx, warnw)
	if err != nil {
		return nil, nil, err
	}
	p, err := s.Plan(ctx, req)
	if err != nil {
		return nil, nil, err
	}
	if err := planHonours(req, p); err != nil {
		return nil, nil, err
	}
	return s, p, nil
}

// planHonours checks that the plan does what the request's storage method
// asks: a resolver that cannot do bootc's to-disk yet must not quietly
// partition the disk itself instead.
func planHonours(req installer.Request, p *installer.Plan) error {
	if m := req.Storage.Method; m != "" && m != p.Method {
		return installer.Errorf(installer.ClassInvalidInput, "remove storage.method or set it to "+p.Method,
			"storage.method %q is not supported by this uai yet (it plans %s)", m, p.Method)
	}
	return nil
}

// notApplied lists answers an install carries but does not act on yet, so
// the log says so instead of leaving the user to find out.
func notApplied(req installer.Request) []string {
	var out []string
	if len(req.Network.WiFi) > 0 {
		out = append(out, "[[network.wifi]]: this uai does not join Wi-Fi from answers yet; connect the live system first (nmcli)")
	}
	if req.Post.Eject {
		out = append(out, "post.eject: this uai does not eject the live medium yet")
	}
	return out
}

func newPlanCmd() *cobra.Command {
	var f runFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Print the plan an install would carry out, touching no disk",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			_, p, _, err := f.plan(c.Context(), c.ErrOrStderr())
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
	f.cat.register(cmd.Flags())
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the plan as JSON (its sha256 is the plan hash)")
	return cmd
}

func newInstallCmd() *cobra.Command {
	var f runFlags
	var tf tuiFlags
	var rf reportFlags
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
			if tf.wanted(&f) {
				if handled, err := runTUI(c.Context(), &f, &tf, &rf, c.ErrOrStderr()); handled {
					return err
				}
			}
			err := install(c.Context(), &f, &rf, yes, sink, out, c.ErrOrStderr())
			if err != nil && progress == "json" {
				// The result record already carries the error.
				return &silentError{err}
			}
			return err
		},
	}
	f.register(cmd)
	f.cat.register(cmd.Flags())
	tf.register(cmd)
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "confirm the plan: write the disk without asking")
	cmd.Flags().StringVar(&progress, "progress", "auto", "progress output when unattended: plain (text lines) or json (JSON lines ending with a result record)")
	rf.register(cmd)
	return cmd
}

// reportFlags add reporting targets to the answer file's [reporting].
type reportFlags struct {
	log     string
	serial  string
	webhook string
}

func (r *reportFlags) register(c *cobra.Command) {
	fl := c.Flags()
	fl.StringVar(&r.log, "log", "", "also write the events as JSON lines to this file, and the effective answers (secrets redacted) next to it (overrides [reporting] file)")
	fl.StringVar(&r.serial, "serial", "", "also write the events as JSON lines to this serial console, e.g. /dev/ttyS0 (overrides [reporting] serial)")
	fl.StringVar(&r.webhook, "webhook", "", "also POST every event to this URL (overrides [reporting] url)")
}

// reporting opens every reporting target the request and flags name, and
// returns one sink for all of them (secrets redacted, the log named in
// the result), the log file's path ("" when none was opened) and a
// function that closes them within a bounded time. A target that cannot
// be opened is a warning on errw, never a failure.
func reporting(req installer.Request, eff *answers.Answers, rf *reportFlags, stdout installer.Sink, errw io.Writer) (installer.Sink, string, func()) {
	warn := func(err error) { fmt.Fprintf(errw, "uai: warning: %v\n", err) }
	sinks := installer.MultiSink{stdout}
	var closers []func()
	r := req.Reporting
	if rf.log != "" {
		r.File = rf.log
	}
	if rf.serial != "" {
		r.Serial = rf.serial
	}
	if rf.webhook != "" {
		r.URL = rf.webhook
	}
	if r.Timeout <= 0 {
		// A request built by a front-end other than an answer file.
		r.Timeout = installer.DefaultWebhookTimeout
	}
	logPath := ""
	if r.File != "" {
		if fl, err := report.OpenFile(r.File); err != nil {
			warn(err)
		} else {
			logPath = r.File
			sinks = append(sinks, fl)
			closers = append(closers, func() {
				if err := fl.Close(); err != nil {
					warn(err)
				}
			})
			if err := writeEffective(r.File, req, eff); err != nil {
				warn(err)
			}
		}
	}
	if r.Serial != "" {
		if sr, err := report.OpenSerial(r.Serial); err != nil {
			warn(err)
		} else {
			sr.OnError = warn
			a := report.NewAsync(sr, 1024)
			sinks = append(sinks, a)
			closers = append(closers, func() {
				if n, drained := a.Close(5 * time.Second); n > 0 || !drained {
					warn(fmt.Errorf("serial console %s: %d events dropped", r.Serial, n))
				}
				sr.Close()
			})
		}
	}
	if r.URL != "" {
		wh := report.NewWebhook(report.WebhookOptions{URL: r.URL, Headers: r.Headers, Retries: r.Retries, Timeout: r.Timeout, OnError: warn})
		a := report.NewAsync(wh, 4096)
		sinks = append(sinks, a)
		closers = append(closers, func() {
			// Long enough for a slow server to take the last events, short
			// enough that a dead one cannot hold the machine up.
			limit := time.Duration(r.Retries+2) * r.Timeout
			if n, drained := a.Close(min(limit, 2*time.Minute)); n > 0 || !drained {
				warn(fmt.Errorf("webhook %s: gave up on the last events (%d dropped from a full queue)", answers.RedactURL(r.URL), n))
			}
		})
	}
	var secrets []string
	if eff != nil {
		secrets = eff.Secrets()
	}
	secrets = append(secrets, installer.AnswersFromRequest(req).Secrets()...)
	if rf.webhook != "" {
		secrets = append(secrets, rf.webhook)
	}
	sink := report.Redact(report.WithLogPath(sinks, logPath), secrets)
	return sink, logPath, func() {
		for _, c := range closers {
			c()
		}
	}
}

// writeEffective writes the run's effective answers, secrets redacted,
// next to the log (install.jsonl -> install.answers.toml), so the run can
// be replayed with the secrets supplied in a second file.
func writeEffective(logPath string, req installer.Request, eff *answers.Answers) error {
	a := eff
	if a == nil {
		a = installer.AnswersFromRequest(req)
	}
	base := strings.TrimSuffix(logPath, filepath.Ext(logPath))
	p := base + ".answers.toml"
	head := "# The effective answers of the uai run logged in " + filepath.Base(logPath) + ", secrets redacted.\n" +
		"# Replay: uai install --answers " + filepath.Base(p) + " --answers SECRETS.toml (the secrets file sets each <redacted> key).\n\n"
	if err := os.WriteFile(p, append([]byte(head), answers.Encode(a.Redacted())...), 0o644); err != nil {
		return fmt.Errorf("write the effective answers next to the log: %w", err)
	}
	return nil
}

// answersSHA256 identifies the effective answers a run was made from, in
// the receipt: the sha256 of their canonical encoding with secrets
// redacted (a hash of the secrets would let them be guessed offline).
func answersSHA256(a *answers.Answers) string {
	sum := sha256.Sum256(answers.Encode(a.Redacted()))
	return hex.EncodeToString(sum[:])
}

// install runs an unattended install. Errors before the engine starts are
// reported as a result record too, so a harness always gets one.
func install(ctx context.Context, f *runFlags, rf *reportFlags, yes bool, stdout installer.Sink, out, errw io.Writer) error {
	sink := stdout
	planHash := ""
	fail := func(err error) error {
		sink.Emit(installer.Event{V: installer.EventVersion, Type: installer.EventResult, Time: time.Now().UTC(), Result: &installer.Result{
			ExitCode: installer.ExitCode(err), Class: installer.ClassOf(err).String(), Error: err.Error(), Simulated: f.demo, PlanSHA256: planHash,
		}})
		return err
	}
	req, a, err := f.request(ctx, errw)
	if err != nil {
		return fail(err)
	}
	rs, logPath, closeReporting := reporting(req, a, rf, stdout, errw)
	defer closeReporting()
	sink = rs
	if a != nil && len(a.Interactive) > 0 {
		return fail(installer.Errorf(installer.ClassInvalidInput, "run uai install on a terminal (or with --plain), or remove interactive and fill those sections in",
			"the answer file asks the TUI for %s, and this run has no terminal to ask on", strings.Join(a.Interactive, ", ")))
	}
	s, p, err := f.planRequest(ctx, req, errw)
	if err != nil {
		return fail(err)
	}
	planHash = p.SHA256()
	for _, w := range notApplied(req) {
		fmt.Fprintf(errw, "uai: warning: %s\n", w)
	}
	if a != nil {
		s.Engine.AnswersSHA256 = answersSHA256(a)
	}
	autoinstall := false
	if cl, err := discover.ReadCmdline(f.cmdline); err == nil {
		autoinstall = cl.Has(discover.Autoinstall)
	}
	confirmed := yes || (a != nil && a.Confirm) || autoinstall
	if a != nil && a.ExpectPlanSHA256 != "" && a.ExpectPlanSHA256 != p.SHA256() {
		return fail(installer.Errorf(installer.ClassInvalidInput, "review the plan with `uai plan` and update expect_plan_sha256",
			"the plan's sha256 is %s, the answer file expects %s", p.SHA256(), a.ExpectPlanSHA256))
	}
	if !confirmed {
		if _, isText := stdout.(*report.Text); isText {
			fmt.Fprint(out, p.Text())
		}
		return fail(installer.Errorf(installer.ClassNotConfirmed, "add confirm = true to the answer file, pass --yes, or boot with "+discover.Autoinstall+" on the kernel command line",
			"the plan (sha256 %s) was not confirmed, so no disk was touched", p.SHA256()))
	}
	// A failed bootc step names the log that holds its whole output.
	s.Engine.LogPath = logPath
	_, err = s.Install(ctx, p, sink)
	return err
}

// tuiFlags are the install command's flags for the TUI and its plain mode.
type tuiFlags struct {
	plain   bool
	machine string
}

func (t *tuiFlags) register(c *cobra.Command) {
	fl := c.Flags()
	fl.BoolVar(&t.plain, "plain", false, "ask the questions line by line instead of full screen (for screen readers and serial consoles; automatic on a serial console and TERM=dumb, vt100 or vt220)")
	fl.StringVar(&t.machine, "machine", "", "with --demo: show this recorded machine (a JSON fixture, see test/fixtures/machines) instead of this computer; its disks are shown but only the --target image is written")
}

// wanted reports whether install should ask rather than run unattended:
// nothing chosen by flag, and someone to ask.
func (t *tuiFlags) wanted(f *runFlags) bool {
	if f.edition != "" || f.image != "" {
		return false
	}
	return t.plain || (isTTY(os.Stdin) && isTTY(os.Stdout))
}

// plainMode reports whether the screen cannot carry the full-screen TUI:
// a serial console, or a terminal type without cursor addressing worth
// the name.
func (t *tuiFlags) plainMode() bool {
	if t.plain {
		return true
	}
	switch os.Getenv("TERM") {
	case "dumb", "vt100", "vt102", "vt220", "unknown":
		return true
	}
	tty, err := os.Readlink("/proc/self/fd/0")
	if err != nil {
		return false
	}
	for _, serial := range []string{"/dev/ttyS", "/dev/ttyAMA", "/dev/ttyUSB", "/dev/hvc", "/dev/ttysclp"} {
		if strings.HasPrefix(tty, serial) {
			return true
		}
	}
	return false
}

// runTUI asks the questions on the terminal (full screen or line by line)
// and installs. Answer files pre-seed it: the sections their interactive
// key lists are asked, the rest come from the file. handled is false when
// the answers ask nothing, so the unattended install runs instead.
func runTUI(ctx context.Context, f *runFlags, t *tuiFlags, rf *reportFlags, errw io.Writer) (handled bool, err error) {
	var preseed *installer.Request
	if len(f.answers) > 0 || f.discover {
		req, eff, err := f.request(ctx, errw)
		if err != nil {
			return true, err
		}
		if eff == nil || len(eff.Interactive) == 0 {
			return false, nil
		}
		req.TargetDir = f.targetDir
		preseed = &req
		if f.demo && f.target == "" && req.DiskPath != "" {
			f.target = req.DiskPath
		}
	}
	if t.machine != "" && !f.demo {
		return true, &flagError{errors.New("--machine shows a recorded machine and needs --demo, which writes only the --target image")}
	}
	// The catalog's warnings would be hidden by the full screen: they
	// are shown after it, with the backend's other warnings.
	var catWarnings bytes.Buffer
	s, err := f.session(ctx, &catWarnings)
	if err != nil {
		_, _ = catWarnings.WriteTo(errw)
		return true, err
	}
	b, err := newTUIBackend(s, t.machine, rf)
	if err != nil {
		_, _ = catWarnings.WriteTo(errw)
		return true, err
	}
	if t.plainMode() {
		_, _ = catWarnings.WriteTo(errw)
	} else {
		_, _ = catWarnings.WriteTo(&b.warnings)
	}
	opts := ui.Options{Demo: f.demo, Simulated: f.demo, Preseed: preseed}
	var out ui.Outcome
	if t.plainMode() {
		var po plain.Outcome
		po, err = plain.Run(ctx, b, opts, os.Stdin, os.Stdout)
		out = ui.Outcome{Result: po.Result, Action: po.Action, Request: po.Request}
	} else {
		out, err = ui.Run(ctx, b, opts)
	}
	b.flushWarnings(errw)
	if err != nil {
		return true, err
	}
	switch out.Action {
	case ui.ActionShell:
		fmt.Fprintln(errw, "uai: left the installer for a shell; run uai install to start again.")
	case ui.ActionReboot, ui.ActionPowerOff:
		fmt.Fprintf(errw, "uai: the machine was asked to %s.\n", out.Action)
	}
	if res := out.Result; res.ExitCode != 0 {
		return true, &silentError{&installer.Error{Class: classFromExit(res.ExitCode), Err: fmt.Errorf("%s", res.Error)}}
	}
	return true, nil
}

func classFromExit(code int) installer.Class {
	for c := installer.ClassInternal; c <= installer.ClassNotConfirmed; c++ {
		if c.ExitCode() == code {
			return c
		}
	}
	return installer.ClassInternal
}

// tuiBackend adapts a Session, this machine's services (NetworkManager,
// localed, timedated, hostnamed, logind) and the registry to the TUI's
// Backend. In demo mode it leaves this computer's settings and power
// alone, and may describe a recorded machine instead of this one.
type tuiBackend struct {
	s       *installer.Session
	fixture *partition.Machine
	rf      *reportFlags
	nm      *system.NetworkManager
	locale  *system.Localed
	clock   *system.Timedated
	host    *system.Hostnamed
	power   *system.Power
	// stamp names this run's log and answers files.
	stamp string

	mu       sync.Mutex
	requests map[*installer.Plan]installer.Request
	logPath  string
	warnings bytes.Buffer
}

func newTUIBackend(s *installer.Session, machine string, rf *reportFlags) (*tuiBackend, error) {
	b := &tuiBackend{
		s: s, rf: rf,
		nm: &system.NetworkManager{}, locale: &system.Localed{}, clock: &system.Timedated{}, host: &system.Hostnamed{},
		power:    &system.Power{Runner: &host.Exec{}},
		stamp:    time.Now().Format("20060102-150405"),
		requests: map[*installer.Plan]installer.Request{},
	}
	if machine != "" {
		m, err := partition.LoadMachine(machine)
		if err != nil {
			return nil, installer.Errorf(installer.ClassInvalidInput, "check the --machine path (test/fixtures/machines has examples)", "%w", err)
		}
		b.fixture = &m
	}
	return b, nil
}

// flushWarnings writes what went wrong with logging while the screen was
// in use, now that writing to the terminal disturbs nothing.
func (b *tuiBackend) flushWarnings(w io.Writer) {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, _ = b.warnings.WriteTo(w)
}

func (b *tuiBackend) Catalog() *catalog.Catalog { return b.s.Catalog }

// Disks lists the disks a person may choose; a recorded machine's disks
// are shown too, refused, since the demo writes only the image file.
func (b *tuiBackend) Disks(ctx context.Context) ([]partition.Disk, error) {
	disks, err := b.s.Disks(ctx)
	if err != nil || b.fixture == nil {
		return disks, err
	}
	for _, d := range b.fixture.Disks {
		d.Refusals = append(slices.Clone(d.Refusals), "a recorded disk of "+b.fixture.Name+": the demo writes only the image file")
		disks = append(disks, d)
	}
	return disks, nil
}

func (b *tuiBackend) Plan(ctx context.Context, r installer.Request) (*installer.Plan, error) {
	p, err := b.s.Plan(ctx, r)
	if err == nil {
		b.mu.Lock()
		b.requests[p] = r
		b.mu.Unlock()
	}
	return p, err
}

// Install runs the plan with a JSON-lines log (--log, the answers'
// [reporting] file, or one in the temporary directory), secrets redacted,
// so the error screen can say where the whole log is.
func (b *tuiBackend) Install(ctx context.Context, p *installer.Plan, sink installer.Sink) error {
	b.mu.Lock()
	req := b.requests[p]
	b.mu.Unlock()
	rf := *b.rf
	if rf.log == "" && req.Reporting.File == "" {
		rf.log = filepath.Join(os.TempDir(), "uai-install-"+b.stamp+".jsonl")
	}
	b.mu.Lock()
	b.logPath = rf.log
	if rf.log == "" {
		b.logPath = req.Reporting.File
	}
	b.mu.Unlock()
	all, logPath, closeReporting := reporting(req, nil, &rf, sink, &lockedWriter{mu: &b.mu, w: &b.warnings})
	defer closeReporting()
	b.s.Engine.LogPath = logPath
	_, err := b.s.Install(ctx, p, all)
	return err
}

// lockedWriter serialises writes to a buffer shared with the backend.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Machine reads the firmware, Secure Boot, memory, TPM and chassis of this
// computer, or the facts of the recorded machine.
func (b *tuiBackend) Machine(ctx context.Context) (ui.Machine, error) {
	m := ui.Machine{Offline: b.s.Demo}
	if fx := b.fixture; fx != nil {
		m.Name, m.Description = fx.Name, fx.Description
		m.Arch, m.Firmware, m.SecureBoot = fx.Facts["arch"], fx.Facts["firmware"], fx.Facts["secure_boot"]
		m.TPM2 = fx.Facts["tpm2"] == "yes" || fx.Facts["tpm2"] == "true"
		if here, err := catalog.ReadMachine("/"); err == nil {
			m.RAMBytes = here.RAMBytes // a fixture does not record memory
		}
		return m, nil
	}
	cm, err := catalog.ReadMachine("/")
	m.Arch, m.Firmware, m.RAMBytes = cm.Arch, cm.Firmware, cm.RAMBytes
	if err != nil {
		m.Problems = append(m.Problems, err.Error())
	}
	if m.Firmware == catalog.FirmwareUEFI {
		m.SecureBoot = secureBoot("/sys/firmware/efi/efivars")
	}
	m.TPM2 = hasTPM2("/sys/class/tpm/tpm0")
	if h, err := b.host.Get(ctx); err == nil {
		m.Chassis = h.Chassis
	}
	return m, nil
}

// secureBoot reads the SecureBoot EFI variable: four bytes of attributes,
// then 1 when Secure Boot is on.
func secureBoot(efivars string) string {
	v, err := os.ReadFile(filepath.Join(efivars, "SecureBoot-8be4df61-93ca-11d2-aa0d-e98c6ae3f74e"))
	if err != nil || len(v) < 5 {
		return ""
	}
	if v[4] == 1 {
		return "on"
	}
	return "off"
}

// hasTPM2 reports a TPM 2.0: the kernel says its major version, and only
// TPM 2.0 chips get a resource manager device (tpmrm0).
func hasTPM2(dev string) bool {
	if v, err := os.ReadFile(filepath.Join(dev, "tpm_version_major")); err == nil {
		return strings.TrimSpace(string(v)) == "2"
	}
	_, err := os.Stat("/dev/tpmrm0")
	return err == nil
}

// ResolveImage asks the registry about an image, with a short time limit:
// a person is waiting on the screen.
func (b *tuiBackend) ResolveImage(ctx context.Context, ref, digest string) (catalog.ImageInfo, error) {
	return catalog.ResolveImage(ctx, ref, catalog.ResolveOptions{Digest: digest, Timeout: 20 * time.Second, Attempts: 2})
}

func (b *tuiBackend) NetworkStatus(ctx context.Context) (system.NetworkStatus, error) {
	return b.nm.Status(ctx)
}

func (b *tuiBackend) ScanWiFi(ctx context.Context) ([]system.AccessPoint, error) {
	return b.nm.Scan(ctx)
}

func (b *tuiBackend) ConnectWiFi(ctx context.Context, ssid, passphrase string) error {
	return b.nm.ConnectWiFi(ctx, ssid, passphrase)
}

func (b *tuiBackend) CheckConnectivity(ctx context.Context) (system.Connectivity, error) {
	return b.nm.CheckConnectivity(ctx)
}

func (b *tuiBackend) LiveLocale(ctx context.Context) (system.Locale, error) { return b.locale.Get(ctx) }

// SetLiveLocale changes the live system's language and keyboard; the demo
// leaves this computer's settings alone (localed writes them to /etc).
func (b *tuiBackend) SetLiveLocale(ctx context.Context, l system.Locale) error {
	if b.s.Demo {
		return ui.ErrDemo
	}
	return b.locale.Set(ctx, l)
}

// Timezones asks timedated, or reads the tz database's zone list.
func (b *tuiBackend) Timezones(ctx context.Context) ([]string, string, error) {
	zones, cur, err := b.clock.Timezones(ctx)
	if err == nil && len(zones) > 0 {
		return zones, cur, nil
	}
	data, ferr := os.ReadFile("/usr/share/zoneinfo/zone1970.tab")
	if ferr != nil {
		return nil, "UTC", fmt.Errorf("list the time zones: %w (and %v); install tzdata", err, ferr)
	}
	zones = []string{"UTC"}
	for _, l := range strings.Split(string(data), "\n") {
		fields := strings.Fields(l)
		if len(fields) >= 3 && !strings.HasPrefix(l, "#") {
			zones = append(zones, fields[2])
		}
	}
	slices.Sort(zones)
	return slices.Compact(zones), "UTC", nil
}

func (b *tuiBackend) Reboot(ctx context.Context) (string, error) {
	if b.s.Demo {
		return "", ui.ErrDemo
	}
	return b.power.Reboot(ctx)
}

func (b *tuiBackend) PowerOff(ctx context.Context) (string, error) {
	if b.s.Demo {
		return "", ui.ErrDemo
	}
	return b.power.PowerOff(ctx)
}

// ExportAnswers writes the answer file of the run, secrets redacted, next
// to the run's log (or into the temporary directory).
func (b *tuiBackend) ExportAnswers(_ context.Context, r installer.Request) (string, error) {
	b.mu.Lock()
	dir := filepath.Dir(b.logPath)
	if b.logPath == "" {
		dir = os.TempDir()
	}
	b.mu.Unlock()
	p := filepath.Join(dir, "uai-answers-"+b.stamp+".toml")
	if err := os.WriteFile(p, exportAnswers(r), 0o600); err != nil {
		return "", fmt.Errorf("save the answers to %s: %w; the directory must be writable", p, err)
	}
	return p, nil
}

func isTTY(f *os.File) bool { return term.IsTerminal(f.Fd()) }
