package installer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/universal-atomic-installer/uai/installer/bootc"
	"github.com/universal-atomic-installer/uai/installer/host"
	"github.com/universal-atomic-installer/uai/partition"
)

// Locator finds a program without running it; host.Exec implements it.
// Preflight uses it so that a missing program is reported before any disk
// is touched.
type Locator interface {
	Resolve(t host.Tool) ([]string, error)
}

// Engine carries out a Plan. It is the one engine behind every front-end.
type Engine struct {
	Runner host.Runner
	// Locate finds programs in preflight; nil skips that check (tests with
	// a recording runner).
	Locate Locator
	// IsRoot says whether the process may attach loop devices, make
	// filesystems and mount. Without it an image-file install stops after
	// partitioning and says why.
	IsRoot bool
	// FuseESP mounts the ESP with fusefat instead of the kernel's vfat
	// driver, for kernels built without vfat (this is a test seam; a live
	// system always has vfat).
	FuseESP bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Version is uai's version, recorded in the receipt.
	Version string
	// Power reboots or powers off after a successful install; nil means
	// the front-end has none and the finish step only says what to do.
	Power PowerControl
	// EFIDir is where the live system's UEFI shows (default
	// /sys/firmware/efi); a test seam.
	EFIDir string
	// AnswersSHA256 is the hash of the effective answers the plan was
	// made from, recorded in the receipt; empty when there were none.
	AnswersSHA256 string
	// LogPath is the file the front-end writes this run's events to (the
	// same path it puts in Result.LogPath), named in a failed bootc
	// step's message; empty when no log file is kept.
	LogPath string
	// SelfPath is the uai binary copied to the target when the plan asks
	// (Plan.CopyUAI); empty means the running binary.
	SelfPath string
	// LiveRoot is the live system's root directory, where the host
	// runner's workarounds go (default "/"); a test seam.
	LiveRoot string
}

// Run carries out p, streaming events into sink, and returns the result
// record (also emitted as the last event). The error, if any, carries its
// class; the result holds the matching exit code.
func (e *Engine) Run(ctx context.Context, p *Plan, sink Sink) (Result, error) {
	if e.Now == nil {
		e.Now = time.Now
	}
	r := &run{e: e, p: p, sink: sink, start: e.Now(), command: p.Command}
	r.emit(Event{Type: EventPlan, PlanSHA256: p.SHA256(), Simulated: p.Simulated})
	err := r.do(ctx)
	if err == nil && r.stopped == "" {
		r.finish(ctx)
	}
	res := r.result(err)
	r.emit(Event{Type: EventResult, Result: &res})
	return res, err
}

type mount struct {
	dir string
}

type run struct {
	e     *Engine
	p     *Plan
	sink  Sink
	start time.Time

	device  string // block device holding the table (loop or real disk)
	loop    bool
	parts   map[int]string
	mounts  []mount
	written bool // the partition table was written
	// journal records the original table while the disk is changed;
	// original is the table to restore after a failed free-space install.
	journal  *partition.Journal
	original *partition.SavedTable
	// luksOpen is the device-mapper name of the opened LUKS2 volume.
	luksOpen   string
	completed  []StepID
	stopped    string
	stepFailed StepID
	// dep is the new deployment, once configure found it.
	dep *bootc.Deployment
	// timings are the steps' durations, for the receipt.
	timings []StepTiming
	// eventLog is this run's events as JSON lines, copied to the target.
	eventLog bytes.Buffer
	// keysDir holds the root SSH keys file bootc reads; removed at the end.
	keysDir string
	// digest is the image digest bootc recorded, once read.
	digest string
	// probed is what the image's bootc said in preflight; command is the
	// handoff adapted to it (the plan's command until then).
	probed  *ImageProbe
	command []string
	// wroteHostConf is the live system's prepare-root.conf the host
	// runner wrote (removed in cleanup); empty when none was written.
	wroteHostConf string
}

func (r *run) emit(ev Event) {
	ev.V = EventVersion
	ev.Time = r.e.Now().UTC()
	if b, err := json.Marshal(ev); err == nil {
		r.eventLog.Write(append(b, '\n'))
	}
	r.sink.Emit(ev)
}

func (r *run) log(step StepID, stream, line string) {
	r.emit(Event{Type: EventStepLog, Step: step, Stream: stream, Line: line, Simulated: step == StepBootc && r.p.Simulated})
}

func (r *run) skip(step StepID, reason string) {
	r.emit(Event{Type: EventStepFinished, Step: step, Status: StatusSkipped, Reason: reason})
}

// step runs one engine step with its events.
func (r *run) step(ctx context.Context, id StepID, title string, fn func() error) error {
	if err := ctx.Err(); err != nil {
		return Classify(ClassAborted, fmt.Errorf("cancelled before %s: %w", id, err))
	}
	r.emit(Event{Type: EventStepStarted, Step: id, Title: title, Simulated: id == StepBootc && r.p.Simulated})
	began := r.e.Now()
	err := fn()
	r.timings = append(r.timings, StepTiming{Step: id, MS: r.e.Now().Sub(began).Milliseconds(), OK: err == nil})
	if err != nil && ctx.Err() != nil {
		// Whatever the step made of it, a cancelled run was aborted.
		err = &Error{Class: ClassAborted, Err: err}
	}
	if err != nil {
		r.stepFailed = id
		r.emit(Event{Type: EventStepFinished, Step: id, Status: StatusFailed, Error: err.Error()})
		return err
	}
	r.completed = append(r.completed, id)
	r.emit(Event{Type: EventStepFinished, Step: id, Status: StatusOK})
	return nil
}

func (r *run) runTool(ctx context.Context, step StepID, c host.Command) error {
	r.log(step, "cmd", "$ "+c.String())
	return r.e.Runner.Run(ctx, c, func(s host.Stream, line string) { r.log(step, string(s), line) })
}

func (r *run) do(ctx context.Context) (err error) {
	p := r.p
	if err := r.step(ctx, StepPreflight, "Check the machine, the disk and the programs", func() error { return r.preflight(ctx) }); err != nil {
		return err
	}
	defer func() {
		if cerr := r.cleanup(err != nil); cerr != nil && err == nil {
			err = cerr
		}
	}()
	if p.Method == bootc.MethodToDisk {
		return r.doToDisk(ctx)
	}
	if p.Disk.ImageFile && r.e.IsRoot {
		if err := r.step(ctx, StepAttach, "Attach the disk image to a loop device", func() error { return r.attach(ctx) }); err != nil {
			return Classify(ClassEnvironment, err)
		}
	} else {
		r.device = p.Disk.Path
	}
	if err := r.step(ctx, StepPartition, "Write the partition table", func() error { return r.partition() }); err != nil {
		return Classify(ClassInstallFailed, err)
	}
	if err := r.step(ctx, StepFormat, "Make the filesystems", func() error { return r.format(ctx) }); err != nil {
		return Classify(ClassInstallFailed, err)
	}
	if !r.e.IsRoot {
		r.stopped = "stopped after partitioning and formatting the ESP: making the root filesystem, mounting it and running bootc need root (run again as root, e.g. sudo make run)"
		for _, s := range []StepID{StepMount, StepBootc, StepVerify, StepConfigure, StepReceipt} {
			r.skip(s, "needs root")
		}
		return nil
	}
	if err := r.step(ctx, StepMount, "Mount the new filesystems", func() error { return r.mount(ctx) }); err != nil {
		return Classify(ClassInstallFailed, err)
	}
	title := "Install the image with bootc"
	if p.Simulated {
		title += " (simulated bootc)"
	}
	if err := r.step(ctx, StepBootc, title, func() error { return r.bootc(ctx) }); err != nil {
		return Classify(ClassInstallFailed, err)
	}
	if err := r.step(ctx, StepVerify, "Check the installed system's update origin", func() error { return r.verify() }); err != nil {
		return Classify(ClassInstallFailed, err)
	}
	if err := r.step(ctx, StepConfigure, "Configure the installed system", r.configureAll); err != nil {
		return Classify(ClassInstallFailed, err)
	}
	if err := r.step(ctx, StepReceipt, "Write the receipt and the install log to the installed system", func() error { return r.writeReceipt() }); err != nil {
		return Classify(ClassInstallFailed, err)
	}
	return nil
}

func (r *run) preflight(ctx context.Context) error {
	p := r.p
	if !p.Disk.ImageFile && !r.e.IsRoot {
		return Errorf(ClassEnvironment, "run uai as root", "installing to the block device %s needs root", p.Disk.Path)
	}
	// The disk must still be what the plan saw: a disk that changed since
	// (replugged, grown, partitioned) is a different decision.
	d, err := partition.DescribeWithSectorSize(p.Disk.Path, p.Disk.SectorSize)
	if err != nil {
		return Errorf(ClassDiskRefused, "check the path", "target %s: %w", p.Disk.Path, err)
	}
	if d.SizeBytes != p.Disk.SizeBytes {
		return Errorf(ClassDiskRefused, "make the plan again", "disk %s changed since the plan: it has %d bytes, the plan saw %d", p.Disk.Path, d.SizeBytes, p.Disk.SizeBytes)
	}
	refusals := d.Refusals
	if p.Disk.AllowBootMedium {
		refusals = d.RefusalsExceptBootMedium()
	}
	if len(refusals) > 0 {
		return Errorf(ClassDiskRefused, "pick another disk", "disk %s cannot be installed to: %s", p.Disk.Path, strings.Join(refusals, "; "))
	}
	if err := r.checkStorage(d); err != nil {
		return err
	}
	if r.e.Locate == nil {
		return nil
	}
	tools := storageTools(p, r.e.IsRoot)
	if p.Method == bootc.MethodToDisk {
		// bootc partitions and formats with its own tools; uai only mounts
		// the result for verify, configure and the receipt.
		tools = nil
	}
	if r.e.IsRoot {
		tools = append(tools, host.Mount, host.Umount)
		if p.Disk.ImageFile {
			tools = append(tools, host.Losetup)
			if p.Method == bootc.MethodToDisk {
				tools = append(tools, host.Partx)
			}
		}
		if r.e.FuseESP && p.Method != bootc.MethodToDisk {
			tools = append(tools, host.Fusefat)
		}
		if p.Runner == RunnerHost {
			tools = append(tools, host.Bootc)
		} else {
			tools = append(tools, host.Podman)
		}
	}
	var missing []string
	for _, t := range tools {
		if _, err := r.e.Locate.Resolve(t); err != nil {
			missing = append(missing, fmt.Sprintf("%s (Debian package %s)", t, t.Package()))
		}
	}
	if len(missing) > 0 {
		fix := "install them, or use --demo to try uai with the built-in bootc simulator"
		return Errorf(ClassEnvironment, fix, "programs this install needs are missing: %s", strings.Join(missing, ", "))
	}
	if r.e.IsRoot {
		// Only a run that will reach bootc asks the image about itself;
		// the answer decides the argv, so it comes before any write.
		if p.Runner == RunnerHost {
			return r.probeHost(ctx)
		}
		return r.probe(ctx)
	}
	return nil
}

func (r *run) attach(ctx context.Context) error {
	var dev string
	c := host.Command{Tool: host.Losetup, Args: []string{"--find", "--show", "--sector-size", strconv.Itoa(r.p.Disk.SectorSize), r.p.Disk.Path}}
	r.log(StepAttach, "cmd", "$ "+c.String())
	err := r.e.Runner.Run(ctx, c, func(s host.Stream, line string) {
		if s == host.Stdout && strings.HasPrefix(line, "/dev/") {
			dev = strings.TrimSpace(line)
		}
		r.log(StepAttach, string(s), line)
	})
	if err != nil {
		return fmt.Errorf("attach %s to a loop device: %w", r.p.Disk.Path, err)
	}
	if dev == "" {
		return errors.New("losetup printed no device name")
	}
	r.device, r.loop = dev, true
	r.log(StepAttach, "info", "attached "+r.p.Disk.Path+" as "+dev)
	return nil
}

func (r *run) bootc(ctx context.Context) error {
	if c := r.p.Configure; c != nil && len(c.Root.SSHAuthorizedKeys) > 0 {
		keys := rootKeysFile(r.p.TargetDir)
		r.keysDir = filepath.Dir(keys)
		if err := os.MkdirAll(r.keysDir, 0o700); err != nil {
			return fmt.Errorf("make %s for the root ssh keys: %w", r.keysDir, err)
		}
		if err := writeAtomic(keys, []byte(strings.Join(c.Root.SSHAuthorizedKeys, "\n")+"\n"), 0o600); err != nil {
			return err
		}
	}
	if r.p.Runner == RunnerHost {
		if err := r.prepareHost(); err != nil {
			return err
		}
		// The workaround is only for this bootc run: the live system gets
		// its file system back as soon as bootc is done.
		defer func() {
			if err := r.undoHost(); err != nil {
				r.log(StepBootc, "warning", err.Error())
			}
		}()
	}
	complete := false
	c := host.Command{Tool: host.Tool(r.command[0]), Args: r.command[1:]}
	r.log(StepBootc, "cmd", "$ "+strings.Join(append([]string{string(c.Tool)}, c.PrintableArgs()...), " "))
	tail := newOutputTail(BootcTailLines)
	err := r.e.Runner.Run(ctx, c, func(s host.Stream, line string) {
		if s == host.Stdout && strings.TrimSpace(line) == "Installation complete!" {
			complete = true
		}
		tail.add(line)
		r.log(StepBootc, string(s), line)
	})
	if err != nil {
		return &bootcError{err: err, tail: tail, log: r.e.LogPath}
	}
	if !complete {
		return errors.New("bootc exited 0 but never printed \"Installation complete!\"; the install is not trusted")
	}
	return nil
}

func (r *run) verify() error {
	dep, err := bootc.FindDeployment(r.p.TargetDir)
	if err != nil {
		return fmt.Errorf("find the new deployment: %w", err)
	}
	if dep.Origin.Image != r.p.TargetRef || dep.Origin.Transport != "registry" {
		return Errorf(ClassInstallFailed, "check that the image's bootc honours --target-imgref, then install again (or run `bootc switch "+r.p.TargetRef+"` on the installed system)",
			"the installed system would update from %s:%s, not from %s; refusing to call it done", dep.Origin.Transport, dep.Origin.Image, r.p.TargetRef)
	}
	r.log(StepVerify, "info", "origin: "+dep.Origin.Image)
	return nil
}

// cleanup unmounts, restores or wipes a half-written table after a
// failure (unless the plan preserves it) and detaches the loop device,
// whatever happened.
func (r *run) cleanup(failed bool) error {
	ctx := context.Background() // cleanup must run even when the run was cancelled
	if r.keysDir != "" {
		os.RemoveAll(r.keysDir)
	}
	if err := r.undoHost(); err != nil {
		r.log(StepUnmount, "warning", err.Error())
	}
	if len(r.mounts) > 0 || (failed && r.written) || r.loop || r.luksOpen != "" {
		r.emit(Event{Type: EventStepStarted, Step: StepUnmount, Title: "Unmount and release the disk"})
	} else {
		// nothing to release but the journal of a disk in its final state
		return Classify(ClassInstallFailed, errors.Join(r.releaseStorage(ctx, failed)...))
	}
	if err := errors.Join(r.releaseStorage(ctx, failed)...); err != nil {
		r.emit(Event{Type: EventStepFinished, Step: StepUnmount, Status: StatusFailed, Error: err.Error()})
		return Classify(ClassInstallFailed, err)
	}
	r.completed = append(r.completed, StepUnmount)
	r.emit(Event{Type: EventStepFinished, Step: StepUnmount, Status: StatusOK})
	return nil
}

func (r *run) result(err error) Result {
	res := Result{
		ExitCode:   ExitCode(err),
		PlanSHA256: r.p.SHA256(),
		Edition:    r.p.Edition.ID,
		Image:      r.p.Edition.Image,
		TargetRef:  r.p.TargetRef,
		Disk:       r.p.Disk.Path,
		DurationMS: r.e.Now().Sub(r.start).Milliseconds(),
		Simulated:  r.p.Simulated,
		Completed:  r.completed,
		Stopped:    r.stopped,
	}
	if r.p.Edition.Digest != "" {
		res.ImageDigest = r.p.Edition.Digest
	}
	if r.digest != "" {
		res.ImageDigest = r.digest
	}
	if err != nil {
		res.Class = ClassOf(err).String()
		res.Error = err.Error()
	}
	return res
}

// StepFinish checks the firmware's boot entries and reboots, powers off
// or stays, as the plan says.
const StepFinish StepID = "finish"

// PowerControl reboots or powers off the machine and says how it asked;
// *system.Power (logind over D-Bus, systemctl as the fallback) is one.
type PowerControl interface {
	Reboot(ctx context.Context) (string, error)
	PowerOff(ctx context.Context) (string, error)
}

// resolveFinish maps the answer file's post action onto Plan.Finish.
func resolveFinish(action string) (string, error) {
	switch action {
	case "reboot", "poweroff":
		return action, nil
	case "", "none", "shell":
		return "", nil
	}
	return "", Errorf(ClassInvalidInput, "use reboot, poweroff, shell or none", "post action %q is not known", action)
}

// finish runs after the disk was released. Neither the boot entry check
// nor the power action can undo a good install, so both only report.
func (r *run) finish(ctx context.Context) {
	r.emit(Event{Type: EventStepStarted, Step: StepFinish, Title: "Check the boot entry and finish"})
	r.checkBootEntry(ctx)
	status, reason := StatusOK, ""
	switch {
	case r.p.Finish == "":
		reason = "staying in the live system as asked"
	case r.p.Simulated || r.p.Disk.ImageFile:
		// The machine running a demo or an image-file install is not the
		// one that was installed: never reboot it.
		status, reason = StatusSkipped, "would "+r.p.Finish+" now; not done for a disk image"
	case r.e.Power == nil:
		status, reason = StatusSkipped, "would "+r.p.Finish+" now; this front-end has no power control, do it yourself"
	default:
		act := r.e.Power.Reboot
		if r.p.Finish == "poweroff" {
			act = r.e.Power.PowerOff
		}
		how, err := act(ctx)
		if err != nil {
			status, reason = StatusFailed, fmt.Sprintf("%s failed: %v; the install is complete, %s by hand", r.p.Finish, err, r.p.Finish)
		} else {
			reason = r.p.Finish + " requested " + how
		}
	}
	r.log(StepFinish, "info", reason)
	ev := Event{Type: EventStepFinished, Step: StepFinish, Status: status, Reason: reason}
	if status == StatusFailed {
		ev.Error = reason
	}
	r.emit(ev)
	if status == StatusOK {
		r.completed = append(r.completed, StepFinish)
	}
}

// checkBootEntry reads the firmware's boot entries after a UEFI install
// to a real disk and reports whether one points at the new ESP and
// whether something else (the install medium) still boots first.
func (r *run) checkBootEntry(ctx context.Context) {
	if r.p.Simulated || r.p.Disk.ImageFile {
		r.log(StepFinish, "info", "boot entry: not checked for a disk image (this machine's firmware does not boot it)")
		return
	}
	if _, err := os.Stat(r.e.efiDir()); err != nil {
		r.log(StepFinish, "info", "boot entry: not checked, the live system did not boot by UEFI")
		return
	}
	var esp *partition.Planned
	for i := range r.p.Layout.Partitions {
		if r.p.Layout.Partitions[i].Mountpoint == "/boot/efi" {
			esp = &r.p.Layout.Partitions[i]
		}
	}
	if esp == nil {
		return
	}
	// A new partition's GUID is random, so it is read back from the disk.
	d, err := partition.DescribeWithSectorSize(r.p.Disk.Path, r.p.Disk.SectorSize)
	guid := ""
	for _, pt := range d.Partitions {
		if pt.Index == esp.Index {
			guid = pt.GUID
		}
	}
	if err != nil || guid == "" {
		r.log(StepFinish, "warning", fmt.Sprintf("boot entry: not checked, the ESP's GUID could not be read back from %s (%v)", r.p.Disk.Path, err))
		return
	}
	var out strings.Builder
	c := host.Command{Tool: host.Efibootmgr, Args: []string{"-v"}}
	if err := r.e.Runner.Run(ctx, c, func(s host.Stream, line string) {
		if s == host.Stdout {
			out.WriteString(line + "\n")
		}
	}); err != nil {
		r.log(StepFinish, "warning", fmt.Sprintf("boot entry: efibootmgr failed (%v); check the firmware's boot menu", err))
		return
	}
	r.log(StepFinish, "info", BootEntryReport(out.String(), esp.Index, guid))
}

func (e *Engine) efiDir() string {
	if e.EFIDir != "" {
		return e.EFIDir
	}
	return "/sys/firmware/efi"
}

// BootEntryReport reads `efibootmgr -v` and says whether an entry points
// at the ESP (partition number espIndex with GUID espGUID) and whether it
// boots first.
func BootEntryReport(efibootmgr string, espIndex int, espGUID string) string {
	var order []string
	entries := map[string]string{} // "0001" -> the rest of the line
	for _, l := range strings.Split(efibootmgr, "\n") {
		if v, ok := strings.CutPrefix(l, "BootOrder: "); ok {
			order = strings.Split(strings.TrimSpace(v), ",")
			continue
		}
		if len(l) > 8 && strings.HasPrefix(l, "Boot") && (l[8] == '*' || l[8] == ' ') {
			entries[l[4:8]] = strings.TrimSpace(l[9:])
		}
	}
	want := strings.ToLower(fmt.Sprintf("HD(%d,GPT,%s,", espIndex, espGUID))
	var ours []string
	for num, rest := range entries {
		if strings.Contains(strings.ToLower(rest), want) {
			ours = append(ours, num)
		}
	}
	if len(ours) == 0 {
		return "boot entry: none points at the new ESP; the firmware may still find EFI\\BOOT\\BOOTX64.EFI, otherwise add one in its boot menu"
	}
	sort.Strings(ours)
	if len(order) > 0 && slices.Contains(ours, order[0]) {
		return "boot entry: Boot" + order[0] + " (" + entryLabel(entries[order[0]]) + ") boots the new system first"
	}
	first := "nothing"
	if len(order) > 0 {
		first = "Boot" + order[0] + " (" + entryLabel(entries[order[0]]) + ")"
	}
	return fmt.Sprintf("boot entry: Boot%s (%s) points at the new system, but %s boots first; remove the install medium or pick the new entry in the firmware's boot menu",
		ours[0], entryLabel(entries[ours[0]]), first)
}

func entryLabel(rest string) string {
	if i := strings.IndexAny(rest, "\t"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.Index(rest, " HD("); i >= 0 {
		rest = rest[:i]
	}
	return strings.TrimSpace(rest)
}

// BootcTailLines is how many of bootc's last output lines a failed bootc
// step carries in its error.
const BootcTailLines = 50

// outputTail keeps the last max lines of a program's output (stdout and
// stderr interleaved as they arrived) and counts them all.
type outputTail struct {
	max   int
	total int
	lines []string
}

func newOutputTail(limit int) *outputTail { return &outputTail{max: limit} }

func (t *outputTail) add(line string) {
	t.total++
	t.lines = append(t.lines, line)
	if len(t.lines) > t.max {
		// Copy down instead of reslicing so a long run does not keep
		// every line alive behind the slice.
		n := copy(t.lines, t.lines[len(t.lines)-t.max:])
		t.lines = t.lines[:n]
	}
}

// bootcError is a failed bootc step: the runner's error, the last lines
// bootc printed, and where the whole output is. Unwrap keeps the runner's
// error (host.ExitError, a cancellation) reachable.
type bootcError struct {
	err  error
	tail *outputTail
	log  string
}

func (e *bootcError) Unwrap() error { return e.err }

func (e *bootcError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "bootc install failed: %v", e.err)
	if n := len(e.tail.lines); n > 0 {
		if e.tail.total > n {
			fmt.Fprintf(&b, "\nthe last %d of bootc's %d output lines:", n, e.tail.total)
		} else {
			fmt.Fprintf(&b, "\nbootc's output (%d lines):", n)
		}
		for _, l := range e.tail.lines {
			b.WriteString("\n  " + l)
		}
	} else {
		b.WriteString("\nbootc printed nothing")
	}
	if e.log != "" {
		fmt.Fprintf(&b, "\nthe full log is in %s (the bootc step's step_log events)", e.log)
	} else {
		b.WriteString("\nthe full output is in this run's step_log events of the bootc step; run with --log FILE to keep them in a file")
	}
	return b.String()
}

// configureAll is the configure step: the plan's settings, then the
// copies from the live system the plan asks for.
func (r *run) configureAll() error {
	if err := r.configure(); err != nil {
		return err
	}
	return r.copyExtras()
}
