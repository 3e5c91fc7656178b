package test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/installer/bootc/sim"
	"github.com/universal-atomic-installer/uai/installer/rebase"
)

const (
	swFrom = "quay.io/fedora/fedora-bootc:43"
	swTo   = "quay.io/fedora/fedora-bootc:44"
)

// A switch with progress, end to end: the real binary hands the fake bootc
// a pipe as fd 3, turns its JSON Lines into events, and the simulated
// machine ends with the target staged.
func TestSwitchCLIWithProgress(t *testing.T) {
	h := swBooted(t, swFrom)
	r := h.uai(nil, "switch", "fedora-bootc-44", "--yes", "--progress=json", "--image-facts", h.facts)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	evs, res := swEvents(t, r.stdout)
	want := []string{"started status", "ok status", "started check", "ok check", "started pull", "ok pull", "started import", "ok import",
		"started stage", "ok stage", "started verify", "ok verify"}
	if got := swSteps(evs); !slices.Equal(got, want) {
		t.Errorf("steps\n got %q\nwant %q", got, want)
	}
	var host, target bool
	var progress int
	var last rebase.Event
	for _, e := range evs {
		switch {
		case e.Type == rebase.EventHost:
			host = e.Host != nil && e.Host.Booted.Edition == "fedora-bootc-43"
		case e.Type == rebase.EventTarget:
			target = e.Plan != nil && e.Plan.Ref == swTo && e.Plan.Facts != nil && e.Plan.Facts.Bootable
		case e.Type == installer.EventStepProgress && e.Step == rebase.StepPull:
			if e.Done < last.Done || e.Unit != "bytes" || e.StepsTotal != 3 {
				t.Fatalf("pull progress went wrong: %+v after %+v", e, last)
			}
			progress++
			last = e
		}
	}
	if !host || !target || progress < 6 || last.Done != last.Total || last.Total == 0 {
		t.Errorf("host %v, target %v, %d progress events ending at %d of %d", host, target, progress, last.Done, last.Total)
	}
	if !strings.Contains(swLog(evs), "pull cmd: $ bootc switch --progress-fd 3 "+swTo) {
		t.Errorf("log:\n%s", swLog(evs))
	}
	if !res.Staged || res.ExitCode != 0 || res.Edition != "fedora-bootc-44" || res.ImageDigest != sim.ImageDigest(swTo) ||
		res.From != swFrom || res.Method != rebase.MethodBootc || res.Simulated {
		t.Errorf("result %+v", res)
	}
	st := h.status()
	if st.Status.Staged.Ref() != swTo || st.Status.Booted.Ref() != swFrom || st.Spec.Image.Image != swTo {
		t.Errorf("the simulated machine: staged %q booted %q", st.Status.Staged.Ref(), st.Status.Booted.Ref())
	}
}

// The same switch in plain text, as a person reads it.
func TestSwitchCLIPlain(t *testing.T) {
	h := swBooted(t, swFrom)
	r := h.uai(nil, "switch", swTo, "--yes", "--image-facts", h.facts)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		"booted:   Fedora bootc 43 (fedora-bootc-43)",
		"switch to: Fedora bootc 44 (fedora-bootc-44)",
		"warning [major-release]: This moves to another major release, 43 to 44.",
		"==> pull: Pull " + swTo,
		"    pull: ", " of 3 layers",
		"==> stage: Stage the new deployment for the next boot",
		"Queued for next boot: " + swTo,
		"switched to fedora-bootc-44 in ",
		"run `bootc rollback` and reboot: " + swFrom + " stays as the rollback",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestSwitchCLIFailingPull(t *testing.T) {
	h := swBooted(t, swFrom)
	r := h.uai([]string{"UAI_SIM_FAIL=pull"}, "switch", "fedora-bootc-44", "--yes", "--progress=json", "--image-facts", h.facts)
	if r.code != installer.ClassDependency.ExitCode() {
		t.Fatalf("exit %d, want %d\n%s\n%s", r.code, installer.ClassDependency.ExitCode(), r.stdout, r.stderr)
	}
	evs, res := swEvents(t, r.stdout)
	if got := swSteps(evs); got[len(got)-1] != "failed pull" {
		t.Errorf("steps %q", got)
	}
	if res.Class != "dependency" || res.Staged || !strings.Contains(res.Error, "failed while pulling") || !strings.Contains(res.Error, "simulated failure (UAI_SIM_FAIL=pull)") ||
		!strings.Contains(res.Error, "the booted system is unchanged") {
		t.Errorf("result %+v", res)
	}
	if r.stderr != "" {
		t.Errorf("--progress=json printed to stderr too: %s", r.stderr)
	}
	if st := h.status(); st.Status.Staged != nil {
		t.Errorf("a failed pull staged %s", st.Status.Staged.Ref())
	}
}

// Refusals happen before bootc switch runs, and say why.
func TestSwitchCLIRefusals(t *testing.T) {
	h := swBooted(t, swFrom)
	h.writeFacts(map[string]bool{"quay.io/library/busybox:latest": false})
	cases := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"unknown edition", []string{"switch", "fedora-kinoit", "--yes", "--progress=json"}, 2, `"fedora-kinoit" is not an edition in the catalog; did you mean fedora-kinoite?`},
		{"not bootable", []string{"switch", "quay.io/library/busybox:latest", "--yes", "--progress=json"}, 2, "is not a bootable container"},
		{"bad ref", []string{"switch", "docker://quay.io/x/y:1", "--yes", "--progress=json"}, 2, "starts with the transport"},
		{"not confirmed", []string{"switch", "fedora-bootc-44", "--progress=json"}, 8, "was not confirmed, so nothing was changed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := h.uai(nil, append(tc.args, "--image-facts", h.facts)...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\n%s\n%s", r.code, tc.code, r.stdout, r.stderr)
			}
			evs, res := swEvents(t, r.stdout)
			if !strings.Contains(res.Error, tc.msg) {
				t.Errorf("result error %q lacks %q", res.Error, tc.msg)
			}
			for _, s := range swSteps(evs) {
				if strings.HasSuffix(s, " pull") {
					t.Errorf("a refused switch started pulling: %q", swSteps(evs))
				}
			}
		})
	}
	if st := h.status(); st.Status.Staged != nil || st.Spec.Image.Image != swFrom {
		t.Errorf("a refusal changed the machine: spec %s", st.Spec.Image.Image)
	}
	// Without --yes in plain text, the plan is printed for review.
	r := h.uai(nil, "switch", "fedora-bootc-44", "--image-facts", h.facts)
	if r.code != 8 || !strings.Contains(r.stdout, "command:   bootc switch "+swTo) || !strings.Contains(r.stdout, "stopped (not-confirmed, exit 8)") {
		t.Errorf("plain, not confirmed: exit %d\n%s", r.code, r.stdout)
	}
	if r := h.uai(nil, "switch", "x", "--progress=xml"); r.code != 2 || !strings.Contains(r.stderr, `--progress "xml" is not known`) {
		t.Errorf("bad flag: %d %s", r.code, r.stderr)
	}
}

// Switching to what the machine already follows: bootc says "Image
// specification is unchanged." and exits 0, and so does uai.
func TestSwitchCLIUnchanged(t *testing.T) {
	h := swBooted(t, swFrom)
	r := h.uai(nil, "switch", "fedora-bootc-43", "--yes", "--image-facts", h.facts)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"    Image specification is unchanged.", "skipped pull: bootc: Image specification is unchanged.",
		"nothing to do: the system already runs and follows " + swFrom} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
	r = h.uai(nil, "switch", "fedora-bootc-43", "--yes", "--progress=json", "--image-facts", h.facts)
	_, res := swEvents(t, r.stdout)
	if r.code != 0 || !res.Unchanged || res.Staged {
		t.Errorf("exit %d result %+v", r.code, res)
	}
}

// A bootc older than --progress-fd (1.1.4) is followed by its text output.
func TestSwitchCLIOldBootc(t *testing.T) {
	h := swBooted(t, swFrom)
	r := h.uai([]string{"UAI_SIM_BOOTC_VERSION=1.1.0"}, "switch", "fedora-bootc-44", "--yes", "--progress=json", "--image-facts", h.facts)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	evs, res := swEvents(t, r.stdout)
	for _, e := range evs {
		if e.Type == installer.EventStepProgress {
			t.Fatalf("progress from a bootc without --progress-fd: %+v", e)
		}
	}
	if !strings.Contains(swLog(evs), "this bootc has no --progress-fd") || !res.Staged {
		t.Errorf("result %+v\n%s", res, swLog(evs))
	}
}

// With no argument and no terminal, uai switch lists the machine.
func TestSwitchCLIList(t *testing.T) {
	h := swBooted(t, swFrom)
	r := h.uai(nil, "switch")
	if r.code != 0 || !strings.Contains(r.stdout, "booted:   Fedora bootc 43 (fedora-bootc-43)") || !strings.Contains(r.stdout, "  ! fedora-bootc-44") ||
		strings.Contains(r.stdout, "  ! fedora-bootc-43 ") {
		t.Errorf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r = h.uai(nil, "switch", "--progress=json")
	evs, res := swEvents(t, r.stdout)
	if r.code != 0 || res.FromEdition != "fedora-bootc-43" || len(evs) < 4 || evs[len(evs)-2].Host == nil || len(evs[len(evs)-2].Host.Targets) == 0 {
		t.Errorf("json list: exit %d %+v", r.code, res)
	}
	// Not a bootc system: the status says so, and so does uai.
	empty := t.TempDir()
	r = h.uai([]string{"UAI_SIM_STATE_DIR=" + empty}, "switch", "--plain")
	if r.code != installer.ClassEnvironment.ExitCode() || !strings.Contains(r.stderr, "not booted via bootc") {
		t.Errorf("not bootc: exit %d\n%s", r.code, r.stderr)
	}
}

// The demo needs nothing from the machine: its simulated machine lives in
// --demo-state and changes from one run to the next.
func TestSwitchDemo(t *testing.T) {
	state := filepath.Join(t.TempDir(), "demo")
	env := append(os.Environ(), "UAI_SIM_DELAY=0", "PATH=/nonexistent")
	run := func(args ...string) runResult {
		h := &swHost{t: t, env: env}
		return h.uai(nil, args...)
	}
	r := run("switch", "--demo", "--demo-state", state, "fedora-kinoite", "--yes", "--progress=json")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	evs, res := swEvents(t, r.stdout)
	if !res.Simulated || !res.Staged || res.FromEdition != "fedora-silverblue" || res.ImageDigest != sim.ImageDigest("quay.io/fedora/fedora-kinoite:44") {
		t.Errorf("result %+v", res)
	}
	for _, e := range evs {
		if e.Type == installer.EventStepStarted && e.Step != rebase.StepCheck && !e.Simulated {
			t.Errorf("step %s not marked simulated", e.Step)
		}
	}
	r = run("switch", "--demo", "--demo-state", state, "--plain")
	if !strings.Contains(r.stdout, "staged:   Fedora Kinoite 44 (fedora-kinoite)") {
		t.Errorf("the demo state did not keep the switch:\n%s", r.stdout)
	}
	// --apply in the demo moves the simulated deployments, not this machine.
	r = run("switch", "--demo", "--demo-state", state, "fedora-kinoite", "--yes", "--apply")
	if r.code != 0 || !strings.Contains(r.stdout, "already staged") {
		t.Errorf("apply: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}
