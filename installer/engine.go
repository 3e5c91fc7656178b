package installer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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
}

// Run carries out p, streaming events into sink, and returns the result
// record (also emitted as the last event). The error, if any, carries its
// class; the result holds the matching exit code.
func (e *Engine) Run(ctx context.Context, p *Plan, sink Sink) (Result, error) {
	if e.Now == nil {
		e.Now = time.Now
	}
	r := &run{e: e, p: p, sink: sink, start: e.Now()}
	r.emit(Event{Type: EventPlan, PlanSHA256: p.SHA256(), Simulated: p.Simulated})
	err := r.do(ctx)
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

	device     string // block device holding the table (loop or real disk)
	loop       bool
	parts      map[int]string
	mounts     []mount
	written    bool // the partition table was written
	completed  []StepID
	stopped    string
	stepFailed StepID
}

func (r *run) emit(ev Event) {
	ev.V = EventVersion
	ev.Time = r.e.Now().UTC()
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
	err := fn()
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
	if err := r.step(ctx, StepPreflight, "Check the machine, the disk and the programs", func() error { return r.preflight() }); err != nil {
		return err
	}
	defer func() {
		if cerr := r.cleanup(err != nil); cerr != nil && err == nil {
			err = cerr
		}
	}()
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
		for _, s := range []StepID{StepMount, StepBootc, StepVerify} {
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
	return nil
}

func (r *run) preflight() error {
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
	if !p.Wipe && !d.Empty() {
		return Errorf(ClassDiskRefused, "make the plan again and allow wiping if its data may go", "disk %s was empty when planned but now holds a %s table", p.Disk.Path, orDash(d.Table))
	}
	if len(d.Refusals) > 0 {
		return Errorf(ClassDiskRefused, "pick another disk", "disk %s cannot be installed to: %s", p.Disk.Path, strings.Join(d.Refusals, "; "))
	}
	if r.e.Locate == nil {
		return nil
	}
	tools := []host.Tool{host.MkfsFat}
	if r.e.IsRoot {
		mkfs, _ := host.MkfsFor(p.Filesystem)
		tools = append(tools, mkfs, host.Mount, host.Umount)
		if p.Disk.ImageFile {
			tools = append(tools, host.Losetup)
		}
		if r.e.FuseESP {
			tools = append(tools, host.Fusefat)
		}
		tools = append(tools, host.Podman)
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

func (r *run) partition() error {
	r.written = true // from here on a failure may leave a half-written table
	applied, err := partition.Apply(r.device, r.p.Layout)
	if err != nil {
		return fmt.Errorf("write the partition table to %s: %w", r.device, err)
	}
	r.parts = applied.PartitionPaths
	if err := partition.Verify(r.device, r.p.Layout); err != nil {
		return fmt.Errorf("read back the partition table of %s: %w", r.device, err)
	}
	r.log(StepPartition, "info", fmt.Sprintf("wrote and verified a GPT with %d partitions on %s", len(r.p.Layout.Partitions), r.device))
	return nil
}

func (r *run) partPath(role partition.Role) (partition.Planned, string, error) {
	pl, ok := r.p.Layout.Find(role)
	if !ok {
		return pl, "", fmt.Errorf("the layout has no %s partition", role)
	}
	path := r.parts[pl.Index]
	if path == "" {
		path = partition.PartitionPath(r.device, pl.Index)
	}
	return pl, path, nil
}

func (r *run) format(ctx context.Context) error {
	esp, ok := r.p.Layout.Find(partition.RoleESP)
	if !ok {
		return errors.New("the layout has no ESP")
	}
	ss := r.p.Layout.SectorSize
	if r.e.IsRoot {
		_, dev, err := r.partPath(partition.RoleESP)
		if err != nil {
			return err
		}
		if err := r.runTool(ctx, StepFormat, host.Command{Tool: host.MkfsFat, Args: []string{"-F", "32", "-n", esp.Label, dev}}); err != nil {
			return fmt.Errorf("format the ESP %s: %w", dev, err)
		}
	} else {
		// Without root there is no loop device: format the ESP in place
		// inside the image file.
		kib := esp.SizeBytes(ss) / 1024
		args := []string{"-F", "32", "-n", esp.Label, "-S", strconv.Itoa(ss), "--offset", strconv.FormatUint(esp.StartSector, 10), r.device, strconv.FormatUint(kib, 10)}
		if err := r.runTool(ctx, StepFormat, host.Command{Tool: host.MkfsFat, Args: args}); err != nil {
			return fmt.Errorf("format the ESP inside %s: %w", r.device, err)
		}
		return nil
	}
	for _, role := range []partition.Role{partition.RoleBoot, partition.RoleRoot} {
		pl, ok := r.p.Layout.Find(role)
		if !ok {
			continue
		}
		_, dev, err := r.partPath(role)
		if err != nil {
			return err
		}
		tool, ok := host.MkfsFor(pl.Filesystem)
		if !ok {
			return fmt.Errorf("no mkfs for filesystem %q", pl.Filesystem)
		}
		// The user agreed to erase this disk and the table is new, so any
		// signature still on the partition is stale: force.
		force := "-f"
		if tool == host.MkfsExt4 {
			force = "-F"
		}
		if err := r.runTool(ctx, StepFormat, host.Command{Tool: tool, Args: []string{force, "-L", pl.Label, dev}}); err != nil {
			return fmt.Errorf("make the %s filesystem on %s: %w", pl.Filesystem, dev, err)
		}
	}
	return nil
}

func (r *run) mount(ctx context.Context) error {
	dir := r.p.TargetDir
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create the target directory: %w", err)
	}
	if ents, err := os.ReadDir(dir); err != nil || len(ents) > 0 {
		return Errorf(ClassEnvironment, "unmount or empty it first", "target directory %s is not empty", dir)
	}
	order := []partition.Role{partition.RoleRoot, partition.RoleBoot, partition.RoleESP}
	for _, role := range order {
		pl, ok := r.p.Layout.Find(role)
		if !ok {
			continue
		}
		_, dev, err := r.partPath(role)
		if err != nil {
			return err
		}
		at := filepath.Join(dir, pl.Mountpoint)
		if err := os.MkdirAll(at, 0o755); err != nil {
			return fmt.Errorf("create mount point %s: %w", at, err)
		}
		var c host.Command
		switch {
		case role == partition.RoleESP && r.e.FuseESP:
			c = host.Command{Tool: host.Fusefat, Args: []string{"-o", "rw+", dev, at}}
		case role == partition.RoleESP:
			c = host.Command{Tool: host.Mount, Args: []string{"-t", "vfat", "-o", "umask=0077", dev, at}}
		default:
			c = host.Command{Tool: host.Mount, Args: []string{dev, at}}
		}
		if err := r.runTool(ctx, StepMount, c); err != nil {
			return fmt.Errorf("mount %s at %s: %w", dev, at, err)
		}
		r.mounts = append(r.mounts, mount{dir: at})
	}
	// bootc requires /boot in the target root; with no separate /boot
	// partition the ESP mount above already made it.
	return nil
}

func (r *run) bootc(ctx context.Context) error {
	complete := false
	c := host.Command{Tool: host.Podman, Args: r.p.Command[1:]}
	r.log(StepBootc, "cmd", "$ "+strings.Join(append([]string{string(c.Tool)}, c.PrintableArgs()...), " "))
	err := r.e.Runner.Run(ctx, c, func(s host.Stream, line string) {
		if s == host.Stdout && strings.TrimSpace(line) == "Installation complete!" {
			complete = true
		}
		r.log(StepBootc, string(s), line)
	})
	if err != nil {
		return fmt.Errorf("bootc install failed: %w", err)
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
		return fmt.Errorf("the installed system would update from %s:%s, not from %s; refusing to call it done", dep.Origin.Transport, dep.Origin.Image, r.p.TargetRef)
	}
	r.log(StepVerify, "info", "origin: "+dep.Origin.Image)
	return nil
}

// cleanup unmounts, wipes a half-written table after a failure (unless the
// plan preserves it) and detaches the loop device, whatever happened.
func (r *run) cleanup(failed bool) error {
	var errs []error
	if len(r.mounts) > 0 || (failed && r.written) || r.loop {
		r.emit(Event{Type: EventStepStarted, Step: StepUnmount, Title: "Unmount and release the disk"})
	} else {
		return nil
	}
	ctx := context.Background() // cleanup must run even when the run was cancelled
	for i := len(r.mounts) - 1; i >= 0; i-- {
		m := r.mounts[i]
		if err := r.runTool(ctx, StepUnmount, host.Command{Tool: host.Umount, Args: []string{m.dir}}); err != nil {
			errs = append(errs, fmt.Errorf("unmount %s: %w", m.dir, err))
		}
	}
	r.mounts = nil
	if failed && r.written && !r.p.PreserveOnError {
		if err := partition.Wipe(r.device); err != nil {
			errs = append(errs, fmt.Errorf("wipe the half-written table on %s: %w", r.device, err))
		} else {
			r.log(StepUnmount, "info", "wiped the new partition table so a half-finished install can never boot (set preserve_on_error to keep it)")
		}
	}
	if r.loop {
		if err := partition.RemovePartitionNodes(r.device); err != nil {
			errs = append(errs, err)
		}
		if err := r.runTool(ctx, StepUnmount, host.Command{Tool: host.Losetup, Args: []string{"-d", r.device}}); err != nil {
			errs = append(errs, fmt.Errorf("detach %s: %w", r.device, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
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
	if err != nil {
		res.Class = ClassOf(err).String()
		res.Error = err.Error()
	}
	return res
}
