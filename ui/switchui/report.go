package switchui

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/installer/rebase"
	"github.com/universal-atomic-installer/uai/ui/common"
	"github.com/universal-atomic-installer/uai/ui/report"
)

// JSON writes each switch event as one JSON object per line.
type JSON = report.Lines[rebase.Event]

// NewJSON returns a JSON-lines sink of switch events writing to w.
func NewJSON(w io.Writer) *JSON { return report.NewLines[rebase.Event](w) }

// Text writes a switch's events as readable lines.
type Text struct {
	mu      sync.Mutex
	w       io.Writer
	started report.StepTimes
	// shown is the last progress printed per step, so a line is printed
	// when a layer or stage finishes rather than five times a second.
	shown map[installer.StepID]int64
	// ListTargets prints the editions to switch to with the host.
	ListTargets bool
}

// NewText returns a plain-text sink writing to w.
func NewText(w io.Writer) *Text {
	return &Text{w: w, started: report.StepTimes{}, shown: map[installer.StepID]int64{}}
}

// Emit implements rebase.Sink.
func (t *Text) Emit(e rebase.Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	sim := ""
	if e.Simulated {
		sim = " [simulated bootc]"
	}
	switch e.Type {
	case installer.EventStepStarted:
		t.started[e.Step] = e.Time
		fmt.Fprintf(t.w, "==> %s: %s%s\n", e.Step, e.Title, sim)
	case installer.EventStepLog:
		fmt.Fprintf(t.w, "    %s\n", e.Line)
	case installer.EventStepProgress:
		t.progress(e)
	case installer.EventStepFinished:
		io.WriteString(t.w, t.started.Finished(e.Step, e.Time, e.Status, e.Reason, e.Error))
	case rebase.EventHost:
		if e.Host != nil {
			io.WriteString(t.w, OverviewText(e.Host, t.ListTargets))
		}
	case rebase.EventTarget:
		if e.Plan != nil {
			io.WriteString(t.w, PlanText(e.Plan))
		}
	case installer.EventResult:
		if e.Result != nil {
			io.WriteString(t.w, ResultText(*e.Result))
		}
	}
}

func (t *Text) progress(e rebase.Event) {
	mark := e.Done
	if e.Unit == "bytes" {
		mark = e.Steps
		if e.Done == e.Total {
			mark = e.StepsTotal + 1
		}
	}
	if last, ok := t.shown[e.Step]; ok && last == mark {
		return
	}
	t.shown[e.Step] = mark
	switch e.Unit {
	case "bytes":
		layers := ""
		if e.StepsTotal > 0 {
			layers = fmt.Sprintf(", %d of %d layers", e.Steps, e.StepsTotal)
		}
		fmt.Fprintf(t.w, "    %s: %s of %s%s\n", e.Step, common.Bytes(uint64(max(e.Done, 0))), common.Bytes(uint64(max(e.Total, 0))), layers)
	default:
		var done []string
		for _, s := range e.Subtasks {
			if s.Done {
				done = append(done, s.Name)
			}
		}
		line := fmt.Sprintf("    %s: %d of %d", e.Step, e.Done, e.Total)
		if len(done) > 0 {
			line += " (done: " + strings.Join(done, ", ") + ")"
		}
		fmt.Fprintln(t.w, line)
	}
}

// deploymentText is one deployment on one line.
func deploymentText(d *rebase.Deployment) string {
	if d == nil {
		return "none"
	}
	var parts []string
	if d.EditionName != "" {
		parts = append(parts, fmt.Sprintf("%s (%s)", d.EditionName, d.Edition))
	}
	if d.Image != "" {
		parts = append(parts, d.Image)
	} else {
		parts = append(parts, d.Label())
	}
	var facts []string
	if d.Version != "" {
		facts = append(facts, "version "+d.Version)
	}
	if d.Arch != "" {
		facts = append(facts, d.Arch)
	}
	if d.Digest != "" {
		facts = append(facts, shortDigest(d.Digest))
	}
	if d.Incompatible {
		facts = append(facts, "rpm-ostree changes")
	}
	s := strings.Join(parts, "  ")
	if len(facts) > 0 {
		s += "  [" + strings.Join(facts, ", ") + "]"
	}
	return s
}

func shortDigest(d string) string {
	if len(d) > len("sha256:")+12 {
		return d[:len("sha256:")+12]
	}
	return d
}

// OverviewText describes the machine for a terminal or a log.
func OverviewText(ov *rebase.Overview, targets bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "booted:   %s\n", deploymentText(ov.Booted))
	fmt.Fprintf(&b, "staged:   %s\n", deploymentText(ov.Staged))
	fmt.Fprintf(&b, "rollback: %s\n", deploymentText(ov.Rollback))
	if ov.Spec != "" {
		fmt.Fprintf(&b, "updates from: %s\n", ov.Spec)
	}
	for _, n := range ov.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	if !targets {
		return b.String()
	}
	b.WriteString("\neditions to switch to:\n")
	for _, t := range ov.Targets {
		mark := " "
		if len(t.Warnings) > 0 {
			mark = "!"
		}
		line := fmt.Sprintf("  %s %-22s %-15s %s", mark, t.Edition, t.Category, t.Image)
		if !t.Available {
			line = fmt.Sprintf("  x %-22s %-15s not for this machine: %s", t.Edition, t.Category, t.Reason)
		}
		b.WriteString(strings.TrimRight(line, " ") + "\n")
	}
	b.WriteString("(! has warnings, shown when you pick it; x cannot run here)\n")
	return b.String()
}

// PlanText describes a checked switch before it runs.
func PlanText(p *rebase.Plan) string {
	var b strings.Builder
	name := p.Target.Name
	if p.Target.Edition != "" {
		name += " (" + p.Target.Edition + ")"
	}
	fmt.Fprintf(&b, "switch to: %s\n", name)
	fmt.Fprintf(&b, "image:     %s\n", p.Ref)
	if f := p.Facts; f != nil {
		size := "size unknown"
		if f.SizeBytes > 0 {
			size = common.Bytes(uint64(f.SizeBytes)) + " to download"
		}
		fmt.Fprintf(&b, "checked:   bootable, %s, %s, %s\n", f.Arch, size, f.Digest)
	}
	for _, c := range p.Target.Changes {
		if c.From != "" {
			fmt.Fprintf(&b, "changes:   %s %s -> %s\n", c.What, c.From, c.To)
		}
	}
	fmt.Fprintf(&b, "command:   %s\n", common.ShellJoin(p.Command))
	for _, w := range p.Warnings {
		fmt.Fprintf(&b, "warning [%s]: %s\n", w.Code, w.Message)
	}
	for _, k := range p.Keeps {
		fmt.Fprintf(&b, "keeps: %s\n", k)
	}
	for _, d := range p.Drops {
		fmt.Fprintf(&b, "drops: %s\n", d)
	}
	return b.String()
}

// ResultText is the last word of a switch.
func ResultText(r rebase.Result) string {
	var b strings.Builder
	what := r.Edition
	if what == "" {
		what = r.Image
	}
	took := (time.Duration(r.DurationMS) * time.Millisecond).String()
	switch {
	case r.ExitCode != 0 && r.Stopped != "":
		fmt.Fprintf(&b, "stopped (%s, exit %d): %s\n", r.Class, r.ExitCode, r.Error)
	case r.ExitCode != 0:
		fmt.Fprintf(&b, "switch failed (%s, exit %d): %s\n", r.Class, r.ExitCode, r.Error)
	case r.Stopped != "":
		fmt.Fprintf(&b, "%s\n", r.Stopped)
	case r.Unchanged && r.Staged && r.Rebooting:
		fmt.Fprintf(&b, "%s was already staged; rebooting into it\n", what)
	case r.Unchanged && r.Staged:
		fmt.Fprintf(&b, "nothing to do: %s is already staged for the next boot\n", what)
	case r.Unchanged:
		fmt.Fprintf(&b, "nothing to do: the system already runs and follows %s\n", r.Image)
	case r.Rebooting:
		fmt.Fprintf(&b, "switched to %s in %s; rebooting into it\n", what, took)
	default:
		fmt.Fprintf(&b, "switched to %s in %s: it starts on the next boot (reboot now, or pass --apply next time)\n", what, took)
		fmt.Fprintf(&b, "to go back, pick the previous boot entry or run `bootc rollback` and reboot: %s stays as the rollback\n", orUnknown(r.From))
	}
	if r.Simulated {
		b.WriteString("(bootc was simulated: this demo changed only the simulator's state, not this machine)\n")
	}
	return b.String()
}

func orUnknown(s string) string {
	if s == "" {
		return "the booted deployment"
	}
	return s
}
