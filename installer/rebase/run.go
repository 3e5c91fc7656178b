package rebase

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/installer/bootc"
	"github.com/universal-atomic-installer/uai/installer/host"
)

// Options change what Unattended does.
type Options struct {
	// Confirmed means the user agreed (--yes); otherwise the run stops
	// after the plan with ClassNotConfirmed, having changed nothing.
	Confirmed bool
	// Apply reboots once the new deployment is staged.
	Apply bool
}

// Unattended is the whole CLI switch: status, check, plan, then (when
// confirmed) the switch. Every outcome, refusals included, ends the event
// stream with one result record.
func (e *Engine) Unattended(ctx context.Context, want string, o Options, sink Sink) (Result, error) {
	r := e.newRun(sink)
	r.begin(StepStatus, "Read bootc status")
	ov, err := e.Overview(ctx)
	if err != nil {
		return r.fail(StepStatus, err)
	}
	r.finish(StepStatus, installer.StatusOK, "")
	r.emit(Event{Type: EventHost, Host: ov})
	r.res.From, r.res.FromEdition = ov.Booted.Image, ov.Booted.Edition

	r.begin(StepCheck, "Check the target "+want)
	p, err := e.Plan(ctx, ov, want)
	if err != nil {
		return r.fail(StepCheck, err)
	}
	r.plan(p)
	if p.Facts != nil {
		f := p.Facts
		r.log(StepCheck, "info", fmt.Sprintf("%s: bootable, %s, digest %s%s", p.Ref, f.Arch, f.Digest, sizeNote(f.SizeBytes)))
	}
	r.finish(StepCheck, installer.StatusOK, "")
	r.emit(Event{Type: EventTarget, Plan: p})
	if !o.Confirmed {
		err := installer.Errorf(installer.ClassNotConfirmed, "review the plan, then pass --yes",
			"the switch to %s was not confirmed, so nothing was changed", p.Ref)
		return r.end(err)
	}
	return r.switchAndEnd(ctx, p, o.Apply)
}

// List reads the status and reports it as events, without a plan: what
// `uai switch` prints when there is no terminal for the TUI.
func (e *Engine) List(ctx context.Context, sink Sink) (*Overview, Result, error) {
	r := e.newRun(sink)
	r.begin(StepStatus, "Read bootc status")
	ov, err := e.Overview(ctx)
	if err != nil {
		res, err := r.fail(StepStatus, err)
		return nil, res, err
	}
	r.finish(StepStatus, installer.StatusOK, "")
	r.emit(Event{Type: EventHost, Host: ov})
	r.res.From, r.res.FromEdition = ov.Booted.Image, ov.Booted.Edition
	r.res.Stopped = fmt.Sprintf("listed the booted system and %d editions to switch to; run uai switch EDITION to switch", len(ov.Targets))
	res, err := r.end(nil)
	return ov, res, err
}

// Run carries out a confirmed plan and, with apply, reboots into it. Its
// events end with the result record.
func (e *Engine) Run(ctx context.Context, p *Plan, apply bool, sink Sink) (Result, error) {
	r := e.newRun(sink)
	r.plan(p)
	if p.From != nil {
		r.res.From, r.res.FromEdition = p.From.Image, p.From.Edition
	}
	return r.switchAndEnd(ctx, p, apply)
}

// Reboot restarts the machine into the staged deployment. In the
// simulator it only moves the simulated deployments: `bootc switch
// --apply` to the image the host follows, with nothing new to pull.
func (e *Engine) Reboot(ctx context.Context) (string, error) {
	if e.Simulated {
		h, err := e.readStatus(ctx)
		if err != nil {
			return "", err
		}
		if h.Spec.Image == nil || h.Status.Staged == nil {
			return "", installer.Errorf(installer.ClassEnvironment, "switch first", "nothing is staged to reboot into")
		}
		// The same spec, signature mode included, so nothing is pulled.
		spec := h.Spec.Image
		enforce := spec.Signature != nil && spec.Signature.Kind == bootc.SignatureContainerPolicy
		c, err := bootc.SwitchCommand(bootc.SwitchOptions{Image: spec.Image, Transport: spec.Transport, EnforceSigPolicy: enforce, Apply: true})
		if err != nil {
			return "", installer.Errorf(installer.ClassInternal, "", "%w", err)
		}
		if err := e.Runner.Run(ctx, e.command(c), nil); err != nil {
			return "", installer.Errorf(installer.ClassEnvironment, "", "simulated reboot: %w", err)
		}
		return "the simulated machine now boots the staged deployment; this machine did not restart", nil
	}
	if e.Power == nil {
		return "", installer.Errorf(installer.ClassEnvironment, "reboot by hand (systemctl reboot)", "no way to reboot is set up")
	}
	how, err := e.Power.Reboot(ctx)
	if err != nil {
		return "", installer.Errorf(installer.ClassEnvironment, "reboot by hand (systemctl reboot); the new deployment stays staged", "%w", err)
	}
	return how, nil
}

// run is one switch in progress: it turns what bootc does into events.
// bootc's stdout, stderr and progress arrive on different goroutines, so
// the step state is under mu.
type run struct {
	e     *Engine
	sink  Sink
	start time.Time
	res   Result

	mu      sync.Mutex
	steps   map[installer.StepID]bool // started
	current installer.StepID
	out     bootc.SwitchOutput
	pulled  bool // bootc began pulling: a failure after is not a refusal
	text    bool // following text output (no --progress-fd)
}

func (e *Engine) newRun(sink Sink) *run {
	if sink == nil {
		sink = SinkFunc(func(Event) {})
	}
	return &run{e: e, sink: sink, start: e.now(), steps: map[installer.StepID]bool{}, res: Result{Simulated: e.Simulated}}
}

func (r *run) emit(ev Event) {
	ev.V = installer.EventVersion
	ev.Time = r.e.now().UTC()
	r.sink.Emit(ev)
}

func (r *run) plan(p *Plan) {
	r.res.Edition, r.res.Image, r.res.TargetRef, r.res.Method = p.Target.Edition, p.Ref, p.Ref, p.Method
	r.res.Warnings = p.WarningCodes()
}

// simulated reports a step the simulator stands in for: all but the
// look-up, which asks a registry (or its stand-in), not bootc.
func (r *run) simulated(step installer.StepID) bool {
	return r.e.Simulated && step != StepCheck
}

func (r *run) begin(step installer.StepID, title string) {
	r.steps[step] = true
	r.current = step
	r.emit(Event{Type: installer.EventStepStarted, Step: step, Title: title, Simulated: r.simulated(step)})
}

func (r *run) finish(step installer.StepID, status installer.StepStatus, why string) {
	ev := Event{Type: installer.EventStepFinished, Step: step, Status: status}
	switch status {
	case installer.StatusOK:
		r.res.Completed = append(r.res.Completed, step)
	case installer.StatusFailed:
		ev.Error = why
	default:
		ev.Reason = why
	}
	if r.current == step {
		r.current = ""
	}
	r.emit(ev)
}

func (r *run) log(step installer.StepID, stream, line string) {
	r.emit(Event{Type: installer.EventStepLog, Step: step, Stream: stream, Line: line})
}

// fail closes step with err and ends the run.
func (r *run) fail(step installer.StepID, err error) (Result, error) {
	r.finish(step, installer.StatusFailed, err.Error())
	return r.end(err)
}

// end emits the result record.
func (r *run) end(err error) (Result, error) {
	r.res.DurationMS = r.e.now().Sub(r.start).Milliseconds()
	if err != nil {
		r.res.ExitCode = installer.ExitCode(err)
		r.res.Class = installer.ClassOf(err).String()
		r.res.Error = err.Error()
		if installer.ClassOf(err) == installer.ClassNotConfirmed {
			r.res.Stopped = err.Error()
		}
	}
	res := r.res
	r.emit(Event{Type: installer.EventResult, Result: &res})
	return res, err
}

func sizeNote(n int64) string {
	if n <= 0 {
		return ""
	}
	return fmt.Sprintf(", %s to download", formatBytes(n))
}

// formatBytes prints a size in binary units with one decimal.
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// switchAndEnd runs the switch, checks what it staged, reboots when asked
// and emits the result.
func (r *run) switchAndEnd(ctx context.Context, p *Plan, apply bool) (Result, error) {
	var err error
	if p.Method == MethodRpmOstree {
		err = r.rpmOstree(ctx, p)
	} else {
		err = r.bootcSwitch(ctx, p, apply)
	}
	if err != nil {
		return r.end(err)
	}
	r.res.Unchanged = r.out.Unchanged
	if err := r.verify(ctx, p, apply); err != nil {
		return r.end(err)
	}
	if apply && r.res.Staged {
		r.begin(StepReboot, "Reboot into "+p.Target.Name)
		if r.e.Simulated {
			// bootc switch --apply already moved the simulated deployments.
			r.log(StepReboot, "info", "simulated: bootc switch --apply made the new deployment the booted one; this machine did not restart")
		} else {
			how, err := r.e.Reboot(ctx)
			if err != nil {
				return r.fail(StepReboot, err)
			}
			r.log(StepReboot, "info", how)
		}
		r.res.Rebooting = true
		r.finish(StepReboot, installer.StatusOK, "")
	}
	return r.end(nil)
}

// bootcSwitch runs bootc switch with --progress-fd on a pipe, and again
// without it when this bootc predates the flag. On an rpm-ostree system
// that bootc refuses before pulling anything, it hands over to rpm-ostree
// rebase (MethodAuto).
func (r *run) bootcSwitch(ctx context.Context, p *Plan, apply bool) error {
	r.mu.Lock()
	r.begin(StepPull, "Pull "+p.Ref)
	r.mu.Unlock()
	err := r.switchOnce(ctx, p, apply, true)
	if bootc.NoProgressFD(err) {
		r.mu.Lock()
		r.text = true
		r.log(StepPull, "info", "this bootc has no --progress-fd (it came in 1.1.4); following its text output instead")
		r.mu.Unlock()
		err = r.switchOnce(ctx, p, apply, false)
	}
	r.mu.Lock()
	if err != nil {
		step := r.current
		if step == "" {
			step = StepPull
		}
		var nf *host.NotFoundError
		refused := p.fallback && !r.pulled && ctx.Err() == nil && !errors.As(err, &nf) && !notRoot(err)
		if refused {
			r.finish(step, installer.StatusSkipped, "bootc refused: "+err.Error())
			r.log(step, "info", "bootc refused to switch this rpm-ostree system before pulling anything; trying rpm-ostree rebase, which also keeps layered packages")
			r.res.Method = MethodRpmOstree
			r.mu.Unlock()
			return r.rpmOstree(ctx, p)
		}
		err = r.classify(ctx, step, p, err)
		r.finish(step, installer.StatusFailed, err.Error())
		r.mu.Unlock()
		return err
	}
	defer r.mu.Unlock()
	if r.out.Unchanged {
		r.finish(StepPull, installer.StatusSkipped, "bootc: "+bootc.UnchangedLine)
		return nil
	}
	r.advance(StepStage, "")
	r.finish(StepStage, installer.StatusOK, "")
	return nil
}

func notRoot(err error) bool {
	return strings.Contains(err.Error(), "root privilege") || strings.Contains(err.Error(), "must be executed as the root user")
}

// switchOnce is one bootc switch invocation.
func (r *run) switchOnce(ctx context.Context, p *Plan, apply, progressFD bool) error {
	// In the simulator --apply moves the deployments itself; on a real
	// machine bootc would reboot without returning, so uai reboots after.
	opts := bootc.SwitchOptions{Image: p.Ref, EnforceSigPolicy: p.EnforceSigPolicy, Apply: apply && r.e.Simulated}
	var rd, wr *os.File
	if progressFD {
		var err error
		if rd, wr, err = os.Pipe(); err != nil {
			return installer.Errorf(installer.ClassInternal, "", "make the progress pipe: %w", err)
		}
		// The write end is the child's fd 3 (the first of ExtraFiles).
		opts.ProgressFD = 3
	}
	c, err := bootc.SwitchCommand(opts)
	if err != nil {
		return installer.Errorf(installer.ClassInvalidInput, "", "%w", err)
	}
	c = r.e.command(c)
	var read chan error
	if progressFD {
		c.ExtraFiles = []*os.File{wr}
		read = make(chan error, 1)
		go func() { read <- bootc.ReadProgress(rd, r.onProgress) }()
	}
	r.mu.Lock()
	r.log(r.current, "cmd", "$ "+c.String())
	r.mu.Unlock()
	err = r.e.Runner.Run(ctx, c, r.onLine)
	if progressFD {
		wr.Close()
		if perr := <-read; perr != nil {
			r.mu.Lock()
			r.log(r.current, "info", "ignored a bad progress line: "+perr.Error())
			r.mu.Unlock()
		}
		rd.Close()
	}
	return err
}

// onLine turns bootc's output into log lines, and notes what it says.
func (r *run) onLine(s host.Stream, line string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s == host.Stdout && r.out.Feed(line) {
		if r.out.SawLayers {
			r.pulled = true
		}
		// Without progress events the Queued line is the sign of staging.
		if r.text && r.out.Queued != "" {
			r.advance(StepStage, "")
		}
	}
	if r.current == "" {
		return
	}
	r.log(r.current, string(s), line)
}

// order is the sequence of bootc's tasks.
var order = map[installer.StepID]int{StepPull: 0, StepImport: 1, StepStage: 2}

var titles = map[installer.StepID]string{
	StepImport: "Import the image into the ostree repository",
	StepStage:  "Stage the new deployment for the next boot",
}

// advance moves to step: the current step finishes ok, and step starts
// unless it already ran. r.mu is held.
func (r *run) advance(step installer.StepID, title string) {
	if r.current == step {
		return
	}
	if r.steps[step] {
		return
	}
	if cur := r.current; cur != "" {
		if order[cur] > order[step] {
			return
		}
		r.finish(cur, installer.StatusOK, "")
	}
	if title == "" {
		title = titles[step]
	}
	r.begin(step, title)
}

// onProgress turns one bootc progress event into step events.
func (r *run) onProgress(pr bootc.Progress) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case pr.Type == bootc.ProgressStart:
		return
	case pr.Type == bootc.ProgressBytes && pr.Task == bootc.TaskPulling:
		r.pulled = true
		ev := Event{Type: installer.EventStepProgress, Step: StepPull, Done: int64(pr.Bytes), Total: int64(pr.BytesTotal), Unit: "bytes",
			Steps: int64(pr.Steps), StepsTotal: int64(pr.StepsTotal), Simulated: r.e.Simulated}
		for _, s := range pr.Subtasks {
			ev.Subtasks = append(ev.Subtasks, Subtask{Name: s.Subtask, Description: s.Description, Done: s.Done(), Bytes: int64(s.Bytes), BytesTotal: int64(s.BytesTotal)})
		}
		r.emit(ev)
	case pr.Type == bootc.ProgressSteps && (pr.Task == bootc.TaskImporting || pr.Task == bootc.TaskStaging):
		step := StepImport
		if pr.Task == bootc.TaskStaging {
			step = StepStage
		}
		r.pulled = true
		r.advance(step, "")
		ev := Event{Type: installer.EventStepProgress, Step: step, Done: int64(pr.Steps), Total: int64(pr.StepsTotal), Unit: "steps", Simulated: r.e.Simulated}
		for _, s := range pr.Subtasks {
			ev.Subtasks = append(ev.Subtasks, Subtask{Name: s.Subtask, Description: s.Description, Done: s.Done()})
		}
		// bootc repeats the last finished stage; once is enough here.
		ev.Subtasks = dedupe(ev.Subtasks)
		r.emit(ev)
	default:
		if r.current != "" {
			r.log(r.current, "info", fmt.Sprintf("bootc progress %s %s: %s", pr.Type, pr.Task, pr.Description))
		}
	}
}

func dedupe(s []Subtask) []Subtask {
	seen := map[string]bool{}
	out := s[:0]
	for _, t := range s {
		if seen[t.Name] {
			continue
		}
		seen[t.Name] = true
		out = append(out, t)
	}
	return out
}

// classify gives a failed bootc switch its class and fix.
func (r *run) classify(ctx context.Context, step installer.StepID, p *Plan, err error) error {
	var nf *host.NotFoundError
	switch {
	case ctx.Err() != nil:
		return installer.Errorf(installer.ClassAborted, "the booted system is unchanged; a partly pulled image is cleaned up by the next bootc run", "switch to %s cancelled: %w", p.Ref, err)
	case errors.As(err, &nf):
		return installer.Errorf(installer.ClassEnvironment, "", "switch to %s: %w", p.Ref, err)
	case notRoot(err):
		return installer.Errorf(installer.ClassEnvironment, "run uai switch as root (sudo uai switch ...)", "bootc switch to %s: %w", p.Ref, err)
	case step == StepPull:
		return installer.Errorf(installer.ClassDependency, "check the network and that the image exists, then retry; nothing was staged and the booted system is unchanged",
			"bootc switch to %s failed while pulling: %w", p.Ref, err)
	}
	return installer.Errorf(installer.ClassInstallFailed, "nothing was staged and the booted system is unchanged; read bootc's messages above, then retry",
		"bootc switch to %s failed while %s: %w", p.Ref, stepVerb[step], err)
}

var stepVerb = map[installer.StepID]string{StepImport: "importing", StepStage: "staging", StepRebase: "rebasing"}

// rpmOstree runs `rpm-ostree rebase`, which keeps layered packages.
func (r *run) rpmOstree(ctx context.Context, p *Plan) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.begin(StepRebase, "Rebase with rpm-ostree to "+p.RebaseRef)
	c := r.e.command(host.Command{Tool: RpmOstree, Args: rebaseArgs(p)})
	r.log(StepRebase, "cmd", "$ "+c.String())
	r.mu.Unlock()
	err := r.e.Runner.Run(ctx, c, func(s host.Stream, line string) {
		r.mu.Lock()
		r.log(StepRebase, string(s), line)
		r.mu.Unlock()
	})
	r.mu.Lock()
	if err != nil {
		var nf *host.NotFoundError
		class, fix := installer.ClassInstallFailed, "nothing was staged and the booted system is unchanged; read rpm-ostree's messages above"
		switch {
		case ctx.Err() != nil:
			class, fix = installer.ClassAborted, ""
		case errors.As(err, &nf):
			class, fix = installer.ClassEnvironment, ""
		case strings.Contains(err.Error(), "insecureAcceptAnything"):
			fix = "this machine's containers policy cannot verify the image yet: switch unverified first, then enforce the signature after the reboot"
		}
		err = installer.Errorf(class, fix, "rpm-ostree rebase to %s: %w", p.RebaseRef, err)
		r.finish(StepRebase, installer.StatusFailed, err.Error())
		return err
	}
	r.finish(StepRebase, installer.StatusOK, "")
	return nil
}

// verify reads bootc status again and checks that the new deployment is
// there and follows the target, as the installer checks the origin.
func (r *run) verify(ctx context.Context, p *Plan, apply bool) error {
	r.begin(StepVerify, "Check the new deployment")
	h, err := r.e.readStatus(ctx)
	if err != nil {
		r.finish(StepVerify, installer.StatusFailed, err.Error())
		return err
	}
	entry, where := h.Status.Staged, "staged"
	if r.e.Simulated && apply {
		entry, where = h.Status.Booted, "booted"
	}
	if r.res.Unchanged {
		// Nothing new: the spec already named the target. Say whether it
		// is waiting in the staged slot or already running.
		switch {
		case h.Status.Staged != nil && refName(h.Status.Staged) == p.Ref:
			r.log(StepVerify, "info", fmt.Sprintf("%s is already staged for the next boot", p.Ref))
			r.res.Staged = true
			r.res.ImageDigest = h.Status.Staged.Image.ImageDigest
		case r.e.Simulated && apply && p.Staged != nil && p.Staged.Image == p.Ref && refName(h.Status.Booted) == p.Ref:
			// The simulator's --apply booted what was already staged.
			r.log(StepVerify, "info", fmt.Sprintf("%s was already staged and is now booted", p.Ref))
			r.res.Staged = true
			r.res.ImageDigest = h.Status.Booted.Image.ImageDigest
		case refName(h.Status.Booted) == p.Ref:
			r.log(StepVerify, "info", fmt.Sprintf("%s is already the booted image; nothing to do", p.Ref))
			r.res.ImageDigest = h.Status.Booted.Image.ImageDigest
		}
		r.finish(StepVerify, installer.StatusOK, "")
		return nil
	}
	if refName(entry) != p.Ref {
		got := "nothing"
		if entry != nil {
			got = entry.Ref()
			if got == "" {
				got = "an ostree deployment"
			}
		}
		err := installer.Errorf(installer.ClassInstallFailed, "run bootc status to see the deployments, then retry the switch",
			"after the switch the %s deployment is %s, not %s", where, got, p.Ref)
		r.finish(StepVerify, installer.StatusFailed, err.Error())
		return err
	}
	r.res.Staged = true
	r.res.ImageDigest = entry.Image.ImageDigest
	line := fmt.Sprintf("%s deployment: %s, digest %s", where, p.Ref, entry.Image.ImageDigest)
	if v := entry.Image.Version; v != "" {
		line += ", version " + v
	}
	r.log(StepVerify, "info", line)
	r.finish(StepVerify, installer.StatusOK, "")
	return nil
}

// refName is the registry name an entry follows, "" for anything else.
func refName(e *bootc.BootEntry) string {
	if e == nil || e.Image == nil {
		return ""
	}
	if t := e.Image.Image.Transport; t != "" && t != bootc.TransportRegistry {
		return ""
	}
	return e.Image.Image.Image
}
