package rebase

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/universal-atomic-installer/uai/catalog"
	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/installer/bootc/sim"
	"github.com/universal-atomic-installer/uai/installer/host"
)

const (
	booted43 = "quay.io/fedora/fedora-bootc:43"
	to44     = "quay.io/fedora/fedora-bootc:44"
)

// A switch with progress: bytes while pulling, then import, then the
// staging stages, then the check that the staged deployment is the target.
func TestSwitchWithProgress(t *testing.T) {
	e, r := seeded(t, booted43)
	var c Collector
	res, err := e.Unattended(context.Background(), "fedora-bootc-44", Options{Confirmed: true}, &c)
	if err != nil {
		t.Fatal(err)
	}
	evs := c.Snapshot()
	want := []string{"started status", "ok status", "host", "started check", "ok check", "target",
		"started pull", "ok pull", "started import", "ok import", "started stage", "ok stage", "started verify", "ok verify", "result"}
	if got := stepLines(evs); !slices.Equal(got, want) {
		t.Fatalf("steps\n got %q\nwant %q", got, want)
	}
	var last, n int64
	var total int64
	for _, ev := range evs {
		if ev.Type != installer.EventStepProgress || ev.Step != StepPull {
			continue
		}
		n++
		if ev.Unit != "bytes" || ev.Total == 0 || ev.Done < last || ev.StepsTotal != 3 || len(ev.Subtasks) == 0 {
			t.Fatalf("pull progress %+v", ev)
		}
		last, total = ev.Done, ev.Total
	}
	if n < 6 || last != total {
		t.Errorf("%d pull progress events, the last at %d of %d", n, last, total)
	}
	var stage Event
	for _, ev := range evs {
		if ev.Type == installer.EventStepProgress && ev.Step == StepStage {
			stage = ev
		}
	}
	if stage.Done != 3 || stage.Total != 3 || stage.Unit != "steps" || len(stage.Subtasks) != 4 || !stage.Subtasks[3].Done || stage.Subtasks[3].Name != "cleanup" {
		t.Errorf("last staging event %+v", stage)
	}
	if !strings.Contains(logs(evs, StepPull), "cmd: $ bootc switch --progress-fd 3 "+to44) {
		t.Errorf("pull log:\n%s", logs(evs, StepPull))
	}
	if !res.Staged || res.Unchanged || res.ExitCode != 0 || res.Edition != "fedora-bootc-44" || res.From != booted43 || res.FromEdition != "fedora-bootc-43" ||
		res.ImageDigest != sim.ImageDigest(to44) || res.TargetRef != to44 || res.Method != MethodBootc || !slices.Contains(res.Warnings, WarnMajorRelease) ||
		!slices.Equal(res.Completed, []installer.StepID{StepStatus, StepCheck, StepPull, StepImport, StepStage, StepVerify}) {
		t.Errorf("result %+v", res)
	}
	if got := lastResult(t, evs); got.ImageDigest != res.ImageDigest {
		t.Errorf("result event %+v", got)
	}
	// The simulated machine now has the target staged.
	ov, err := e.Overview(context.Background())
	if err != nil || ov.Staged == nil || ov.Staged.Edition != "fedora-bootc-44" || ov.Booted.Edition != "fedora-bootc-43" {
		t.Fatalf("after: %v %+v", err, ov)
	}
	if cmds := r.commands(); len(cmds) != 4 {
		t.Errorf("ran %q; want status, switch, status (verify), status", cmds)
	}
}

// A bootc without --progress-fd (before 1.1.4) is run again without it and
// followed by its text output.
func TestSwitchFallsBackToTextOutput(t *testing.T) {
	e, r := seeded(t, booted43)
	r.version = "1.1.0"
	var c Collector
	res, err := e.Unattended(context.Background(), to44, Options{Confirmed: true}, &c)
	if err != nil {
		t.Fatal(err)
	}
	evs := c.Snapshot()
	if got := stepLines(evs); !slices.Equal(got[6:], []string{"started pull", "ok pull", "started stage", "ok stage", "started verify", "ok verify", "result"}) {
		t.Errorf("steps %q", got)
	}
	pull := logs(evs, StepPull)
	for _, w := range []string{"this bootc has no --progress-fd", "$ bootc switch " + to44, "layers already present: 0; layers needed: 3"} {
		if !strings.Contains(pull, w) {
			t.Errorf("pull log lacks %q:\n%s", w, pull)
		}
	}
	if !strings.Contains(logs(evs, StepStage), "stdout: Queued for next boot: "+to44) {
		t.Errorf("stage log:\n%s", logs(evs, StepStage))
	}
	for _, ev := range evs {
		if ev.Type == installer.EventStepProgress {
			t.Fatalf("progress from a bootc that has none: %+v", ev)
		}
	}
	if !res.Staged || res.Edition != "fedora-bootc-44" {
		t.Errorf("result %+v", res)
	}
}

func TestSwitchFailures(t *testing.T) {
	cases := []struct {
		fail  string
		class installer.Class
		step  installer.StepID
		msg   string
	}{
		{"pull", installer.ClassDependency, StepPull, "failed while pulling"},
		{"stage", installer.ClassInstallFailed, StepStage, "failed while staging"},
	}
	for _, tc := range cases {
		t.Run(tc.fail, func(t *testing.T) {
			e, r := seeded(t, booted43)
			r.knobs["UAI_SIM_FAIL"] = tc.fail
			var c Collector
			res, err := e.Unattended(context.Background(), "fedora-bootc-44", Options{Confirmed: true}, &c)
			if installer.ClassOf(err) != tc.class || !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), "UAI_SIM_FAIL="+tc.fail) {
				t.Fatalf("err %v", err)
			}
			evs := c.Snapshot()
			if got := stepLines(evs); got[len(got)-2] != "failed "+string(tc.step) {
				t.Errorf("steps %q", got)
			}
			if res.ExitCode != tc.class.ExitCode() || res.Staged || res.Class != tc.class.String() || lastResult(t, evs).Error != err.Error() {
				t.Errorf("result %+v", res)
			}
			ov, err := e.Overview(context.Background())
			if err != nil || ov.Staged != nil {
				t.Errorf("something was staged: %v %+v", err, ov.Staged)
			}
		})
	}
}

// Switching to what the host already follows: bootc says so and exits 0.
func TestSwitchUnchanged(t *testing.T) {
	e, _ := seeded(t, booted43)
	var c Collector
	res, err := e.Unattended(context.Background(), "fedora-bootc-43", Options{Confirmed: true}, &c)
	if err != nil {
		t.Fatal(err)
	}
	evs := c.Snapshot()
	if got := stepLines(evs); !slices.Equal(got[6:], []string{"started pull", "skipped pull", "started verify", "ok verify", "result"}) {
		t.Errorf("steps %q", got)
	}
	if !res.Unchanged || res.Staged || res.ExitCode != 0 || !strings.Contains(logs(evs, StepVerify), "already the booted image") {
		t.Errorf("result %+v\n%s", res, logs(evs, StepVerify))
	}
	for _, ev := range evs {
		if ev.Type == installer.EventStepFinished && ev.Step == StepPull && ev.Reason != "bootc: Image specification is unchanged." {
			t.Errorf("skip reason %q", ev.Reason)
		}
	}
	// Switch, then switch to the same again: it is already staged.
	if _, err := e.Unattended(context.Background(), "fedora-bootc-44", Options{Confirmed: true}, nil); err != nil {
		t.Fatal(err)
	}
	res, err = e.Unattended(context.Background(), "fedora-bootc-44", Options{Confirmed: true}, nil)
	if err != nil || !res.Unchanged || !res.Staged {
		t.Errorf("second switch: %v %+v", err, res)
	}
}

func TestRefusals(t *testing.T) {
	e, r := seeded(t, booted43)
	notBootable := func(_ context.Context, ref, arch string) (ImageFacts, error) {
		return ImageFacts{Ref: ref, Arch: arch, Digest: "sha256:00", Bootable: false}, nil
	}
	otherArch := func(_ context.Context, ref, _ string) (ImageFacts, error) {
		return ImageFacts{Ref: ref, Arch: "s390x", Bootable: true}, nil
	}
	offline := func(context.Context, string, string) (ImageFacts, error) {
		return ImageFacts{}, errors.New("dial tcp: lookup quay.io: no such host")
	}
	cases := []struct {
		want  string
		check Checker
		class installer.Class
		msg   string
	}{
		{"fedora-kinoit", simCheck, installer.ClassInvalidInput, `"fedora-kinoit" is not an edition in the catalog; did you mean fedora-kinoite?`},
		{"nonsense", simCheck, installer.ClassInvalidInput, "uai catalog list"},
		{"registry:quay.io/x/y:1", simCheck, installer.ClassInvalidInput, "starts with the transport"},
		{"quay.io/library/busybox:latest", notBootable, installer.ClassInvalidInput, "is not a bootable container"},
		{"fedora-bootc-44", otherArch, installer.ClassInvalidInput, "built for s390x; this machine is amd64"},
		{"fedora-bootc-44", offline, installer.ClassDependency, "look up quay.io/fedora/fedora-bootc:44: dial tcp"},
	}
	for _, tc := range cases {
		e.Check = tc.check
		var c Collector
		res, err := e.Unattended(context.Background(), tc.want, Options{Confirmed: true}, &c)
		if installer.ClassOf(err) != tc.class || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v, want %s saying %q", tc.want, err, tc.class, tc.msg)
			continue
		}
		if got := stepLines(c.Snapshot()); !slices.Equal(got[3:], []string{"started check", "failed check", "result"}) || res.ExitCode != tc.class.ExitCode() {
			t.Errorf("%s: steps %q, result %+v", tc.want, got, res)
		}
	}
	for _, cmd := range r.commands() {
		if strings.HasPrefix(cmd, "bootc switch") {
			t.Errorf("a refused switch ran %s", cmd)
		}
	}
	e.Arch = "riscv64"
	e.Check = simCheck
	if _, err := e.Unattended(context.Background(), "fedora-bootc-44", Options{Confirmed: true}, nil); installer.ClassOf(err) != installer.ClassInvalidInput || !strings.Contains(err.Error(), "cannot run here") {
		t.Errorf("arch: %v", err)
	}
}

func TestNotConfirmedChangesNothing(t *testing.T) {
	e, r := seeded(t, booted43)
	var c Collector
	res, err := e.Unattended(context.Background(), "fedora-bootc-44", Options{}, &c)
	if installer.ClassOf(err) != installer.ClassNotConfirmed || res.ExitCode != 8 || res.Stopped == "" {
		t.Fatalf("%v %+v", err, res)
	}
	var plan *Plan
	for _, ev := range c.Snapshot() {
		if ev.Type == EventTarget {
			plan = ev.Plan
		}
	}
	if plan == nil || plan.Ref != to44 || plan.Facts == nil || strings.Join(plan.Command, " ") != "bootc switch "+to44 || len(plan.Keeps) == 0 {
		t.Fatalf("plan %+v", plan)
	}
	for _, cmd := range r.commands() {
		if strings.Contains(cmd, "switch") {
			t.Errorf("ran %s without confirmation", cmd)
		}
	}
}

func TestPlanWithoutCheckerSaysSo(t *testing.T) {
	e, _ := seeded(t, booted43)
	e.Check = nil
	ov, err := e.Overview(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.Plan(context.Background(), ov, "fedora-bootc-44")
	if err != nil || p.Facts != nil || warningCodes(p.Warnings) != "not-checked,major-release,unsigned" {
		t.Fatalf("%v %+v", err, p)
	}
}

// What the look-up says beyond yes or no reaches the plan as warnings.
func TestLookupNotesAndMovedDigests(t *testing.T) {
	e, _ := seeded(t, booted43)
	e.Catalog.Editions = append(e.Catalog.Editions, catalog.Edition{ID: "pinned", Name: "Pinned", Category: "server", Image: "quay.io/example/pinned:latest",
		Digest: "sha256:" + strings.Repeat("a", 64), Arches: []string{"amd64"}, Maturity: "graduated"})
	e.Check = func(_ context.Context, ref, arch string) (ImageFacts, error) {
		return ImageFacts{Ref: ref, Arch: arch, Bootable: true, Digest: "sha256:" + strings.Repeat("b", 64), Notes: []string{"the image was built 400 days ago"}}, nil
	}
	ov, err := e.Overview(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.Plan(context.Background(), ov, "pinned")
	if err != nil {
		t.Fatal(err)
	}
	if got := warningCodes(p.Warnings); got != "lookup-note,digest-moved,unsigned" || p.Warnings[0].Message != "the image was built 400 days ago" ||
		!strings.Contains(p.Warnings[1].Message, "not the digest the catalog pins (aaaaaaaaaaaa)") {
		t.Errorf("warnings %+v", p.Warnings)
	}
}

// A signed edition is switched with --enforce-container-sigpolicy only
// when this machine's policy can verify it.
func TestSignedEditions(t *testing.T) {
	e, _ := seeded(t, booted43)
	ov, err := e.Overview(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.Plan(context.Background(), ov, "aurora")
	if err != nil {
		t.Fatal(err)
	}
	if p.EnforceSigPolicy || !strings.Contains(warningCodes(p.Warnings), WarnUnverifiedFirst) || p.RebaseRef != "ostree-unverified-registry:ghcr.io/ublue-os/aurora:stable" {
		t.Errorf("no policy: %+v", p)
	}
	pol := filepath.Join(t.TempDir(), "policy.json")
	if err := os.WriteFile(pol, []byte(`{"default":[{"type":"insecureAcceptAnything"}],"transports":{"docker":{"ghcr.io/ublue-os":[{"type":"sigstoreSigned","keyPath":"/etc/pki/containers/ublue-os.pub"}]}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	e.PolicyPath = pol
	if ov, err = e.Overview(context.Background()); err != nil {
		t.Fatal(err)
	}
	p, err = e.Plan(context.Background(), ov, "aurora")
	if err != nil {
		t.Fatal(err)
	}
	if !p.EnforceSigPolicy || strings.Contains(warningCodes(p.Warnings), "unverified") || strings.Contains(warningCodes(p.Warnings), WarnUnsigned) ||
		strings.Join(p.Command, " ") != "bootc switch --enforce-container-sigpolicy ghcr.io/ublue-os/aurora:stable" ||
		p.RebaseRef != "ostree-image-signed:docker://ghcr.io/ublue-os/aurora:stable" {
		t.Errorf("verifying policy: %+v", p)
	}
	res, err := e.Run(context.Background(), p, false, nil)
	if err != nil || !res.Staged {
		t.Fatalf("run: %v %+v", err, res)
	}
	ov, _ = e.Overview(context.Background())
	if ov.Staged.Signature != "containerPolicy" {
		t.Errorf("staged %+v", ov.Staged)
	}
}

// rpmOstreeHost is an rpm-ostree system (layered packages) whose bootc
// refuses to switch, and whose rpm-ostree rebases.
type rpmOstreeHost struct {
	mu        sync.Mutex
	rebasedTo string
	ran       []string
	bootcErr  error
}

func (h *rpmOstreeHost) Run(_ context.Context, c host.Command, on host.LineFunc) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ran = append(h.ran, c.String())
	switch {
	case c.Tool == host.Bootc && c.Args[0] == "status":
		staged := "null"
		if h.rebasedTo != "" {
			staged = fmt.Sprintf(`{"image":{"image":{"image":%q,"transport":"registry"},"version":"44","timestamp":null,"imageDigest":"sha256:%064d","architecture":"amd64"},"incompatible":true,"pinned":false,"store":"ostreeContainer","ostree":{"stateroot":"fedora","checksum":"%064d","deploySerial":0}}`, h.rebasedTo, 1, 2)
		}
		on(host.Stdout, `{"apiVersion":"org.containers.bootc/v1","kind":"BootcHost","metadata":{"name":"host"},"spec":{"image":{"image":"quay.io/fedora/fedora-silverblue:44","transport":"registry"},"bootOrder":"default"},"status":{"staged":`+staged+`,"booted":{"image":{"image":{"image":"quay.io/fedora/fedora-silverblue:44","transport":"registry"},"version":"44.20260820.0","timestamp":null,"imageDigest":"sha256:`+strings.Repeat("3", 64)+`","architecture":"amd64"},"incompatible":true,"pinned":false,"store":"ostreeContainer","ostree":{"stateroot":"fedora","checksum":"`+strings.Repeat("4", 64)+`","deploySerial":0}},"rollback":null,"rollbackQueued":false,"type":"bootcHost"}}`)
		return nil
	case c.Tool == host.Bootc && c.Args[0] == "switch":
		if h.bootcErr != nil {
			return h.bootcErr
		}
		return errors.New("unexpected bootc switch")
	case c.Tool == RpmOstree && c.Args[0] == "status":
		on(host.Stdout, `{"deployments":[{"booted":true,"requested-packages":["htop","distrobox"],"requested-base-removals":["firefox"]},{"booted":false,"requested-packages":["old"]}]}`)
		return nil
	case c.Tool == RpmOstree && c.Args[0] == "rebase":
		on(host.Stdout, "Pulling manifest: "+c.Args[1])
		h.rebasedTo = strings.TrimPrefix(c.Args[1], "ostree-unverified-registry:")
		on(host.Stdout, `Run "systemctl reboot" to start a reboot`)
		return nil
	}
	return fmt.Errorf("unexpected %s", c)
}

func TestRpmOstreeSystems(t *testing.T) {
	h := &rpmOstreeHost{bootcErr: &host.ExitError{Command: "bootc", Code: 1, Stderr: "error: Switching: Deployment contains local rpm-ostree modifications; cannot upgrade via bootc."}}
	e := &Engine{Runner: h, Catalog: catalog.Embedded(), Arch: "amd64", Check: simCheck, PolicyPath: filepath.Join(t.TempDir(), "none")}
	ov, err := e.Overview(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !ov.RpmOstree || ov.Booted.Edition != "fedora-silverblue" || !strings.Contains(strings.Join(ov.Notes, " "), "rpm-ostree changes") {
		t.Fatalf("overview %+v", ov)
	}
	if !strings.Contains(warningCodes(targetByID(t, ov, "fedora-kinoite").Warnings), WarnLayered) {
		t.Error("no layered-packages warning")
	}
	var c Collector
	res, err := e.Unattended(context.Background(), "fedora-kinoite", Options{Confirmed: true}, &c)
	if err != nil {
		t.Fatal(err)
	}
	evs := c.Snapshot()
	var plan *Plan
	for _, ev := range evs {
		if ev.Type == EventTarget {
			plan = ev.Plan
		}
	}
	if plan == nil || !slices.Equal(plan.Layered, []string{"htop", "distrobox", "-firefox"}) || !strings.Contains(strings.Join(plan.Drops, "\n"), "(htop, distrobox, -firefox): bootc switch does not carry them over") {
		t.Fatalf("plan %+v", plan)
	}
	if got := stepLines(evs); !slices.Equal(got[6:], []string{"started pull", "skipped pull", "started rebase", "ok rebase", "started verify", "ok verify", "result"}) {
		t.Errorf("steps %q", got)
	}
	if !strings.Contains(logs(evs, StepRebase), "cmd: $ rpm-ostree rebase ostree-unverified-registry:quay.io/fedora/fedora-kinoite:44") {
		t.Errorf("rebase log:\n%s", logs(evs, StepRebase))
	}
	if res.Method != MethodRpmOstree || !res.Staged {
		t.Errorf("result %+v", res)
	}

	// A failure after bootc began pulling is not a refusal: no rebase.
	h2 := &rpmOstreeHost{bootcErr: &host.ExitError{Command: "bootc", Code: 1, Stderr: "error: Switching: Pulling: connection reset"}}
	e.Runner = h2
	ov, _ = e.Overview(context.Background())
	p, err := e.Plan(context.Background(), ov, "fedora-kinoite")
	if err != nil {
		t.Fatal(err)
	}
	r := e.newRun(nil)
	r.out.SawLayers = true
	r.pulled = true
	if _, err := r.switchAndEnd(context.Background(), p, false); installer.ClassOf(err) != installer.ClassDependency {
		t.Errorf("failure while pulling: %v", err)
	}
	if strings.Contains(strings.Join(h2.ran, "\n"), "rpm-ostree rebase") {
		t.Errorf("rebased after a pull failure: %q", h2.ran)
	}

	// Forced rpm-ostree: the plan says so and keeps the layers.
	h3 := &rpmOstreeHost{}
	e.Runner, e.Method = h3, MethodRpmOstree
	ov, _ = e.Overview(context.Background())
	p, err = e.Plan(context.Background(), ov, "fedora-kinoite")
	if err != nil || strings.Join(p.Command, " ") != "rpm-ostree rebase ostree-unverified-registry:quay.io/fedora/fedora-kinoite:44" || len(p.Drops) != 0 ||
		!strings.Contains(strings.Join(p.Keeps, "\n"), "rpm-ostree rebase layers them") {
		t.Fatalf("forced: %v %+v", err, p)
	}
	if res, err := e.Run(context.Background(), p, false, nil); err != nil || res.Method != MethodRpmOstree || !res.Staged {
		t.Errorf("forced run: %v %+v", err, res)
	}
	if strings.Contains(strings.Join(h3.ran, "\n"), "bootc switch") {
		t.Errorf("bootc switch ran: %q", h3.ran)
	}
}

type fakePower struct {
	calls int
	err   error
}

func (f *fakePower) Reboot(context.Context) (string, error) {
	f.calls++
	return "asked the fake logind", f.err
}

func TestApplyReboots(t *testing.T) {
	e, _ := seeded(t, booted43)
	pw := &fakePower{}
	e.Power = pw
	var c Collector
	res, err := e.Unattended(context.Background(), "fedora-bootc-44", Options{Confirmed: true, Apply: true}, &c)
	if err != nil || pw.calls != 1 || !res.Rebooting || !strings.Contains(logs(c.Snapshot(), StepReboot), "asked the fake logind") {
		t.Fatalf("%v calls %d %+v", err, pw.calls, res)
	}
	// A refused reboot leaves the deployment staged and says so.
	e, _ = seeded(t, booted43)
	e.Power = &fakePower{err: errors.New("Access denied")}
	res, err = e.Unattended(context.Background(), "fedora-bootc-44", Options{Confirmed: true, Apply: true}, nil)
	if installer.ClassOf(err) != installer.ClassEnvironment || !strings.Contains(err.Error(), "stays staged") || res.Rebooting || !res.Staged {
		t.Fatalf("refused: %v %+v", err, res)
	}
	// In the simulator, --apply goes to bootc, which moves the deployments.
	e, r := seeded(t, booted43)
	e.Simulated = true
	res, err = e.Unattended(context.Background(), "fedora-bootc-44", Options{Confirmed: true, Apply: true}, nil)
	if err != nil || !res.Rebooting {
		t.Fatalf("simulated: %v %+v", err, res)
	}
	if !slices.Contains(r.commands(), "bootc switch --apply --progress-fd 3 "+to44) {
		t.Errorf("commands %q", r.commands())
	}
	ov, _ := e.Overview(context.Background())
	if ov.Booted.Edition != "fedora-bootc-44" || ov.Rollback.Edition != "fedora-bootc-43" {
		t.Errorf("after the simulated reboot: %+v %+v", ov.Booted, ov.Rollback)
	}
}

// The TUI's path: Run without apply, then Reboot. In the simulator the
// reboot moves the staged deployment to booted.
func TestSimulatedRebootAfterRun(t *testing.T) {
	e, _ := seeded(t, booted43)
	e.Simulated = true
	if _, err := e.Reboot(context.Background()); installer.ClassOf(err) != installer.ClassEnvironment {
		t.Errorf("reboot with nothing staged: %v", err)
	}
	ov, _ := e.Overview(context.Background())
	p, err := e.Plan(context.Background(), ov, "fedora-bootc-44")
	if err != nil {
		t.Fatal(err)
	}
	var c Collector
	res, err := e.Run(context.Background(), p, false, &c)
	if err != nil || !res.Staged || res.From != booted43 {
		t.Fatalf("%v %+v", err, res)
	}
	for _, ev := range c.Snapshot() {
		if ev.Type == installer.EventStepStarted && !ev.Simulated {
			t.Errorf("step %s not marked simulated", ev.Step)
		}
	}
	how, err := e.Reboot(context.Background())
	if err != nil || !strings.Contains(how, "simulated machine") {
		t.Fatalf("reboot: %q %v", how, err)
	}
	ov, _ = e.Overview(context.Background())
	if ov.Booted.Edition != "fedora-bootc-44" || ov.Staged != nil {
		t.Errorf("after: %+v", ov)
	}
	e.Simulated = false
	if _, err := e.Reboot(context.Background()); err == nil || !strings.Contains(err.Error(), "no way to reboot") {
		t.Errorf("no power: %v", err)
	}
}

func TestCancelDuringPull(t *testing.T) {
	e, r := seeded(t, booted43)
	r.knobs["UAI_SIM_HANG"] = "1"
	ctx, cancel := context.WithCancel(context.Background())
	var c Collector
	done := make(chan error, 1)
	go func() {
		_, err := e.Unattended(ctx, "fedora-bootc-44", Options{Confirmed: true}, &c)
		done <- err
	}()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs(c.Snapshot(), StepPull), "layers needed") {
		if time.Now().After(deadline) {
			t.Fatal("the pull never started")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if installer.ClassOf(err) != installer.ClassAborted || lastResult(t, c.Snapshot()).ExitCode != 7 {
			t.Fatalf("err %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the switch did not stop")
	}
}

func TestListReportsTheHost(t *testing.T) {
	e, _ := seeded(t, booted43)
	var c Collector
	ov, res, err := e.List(context.Background(), &c)
	if err != nil || ov == nil || res.ExitCode != 0 || !strings.Contains(res.Stopped, "editions to switch to") || res.FromEdition != "fedora-bootc-43" {
		t.Fatalf("%v %+v", err, res)
	}
	if got := stepLines(c.Snapshot()); !slices.Equal(got, []string{"started status", "ok status", "host", "result"}) {
		t.Errorf("steps %q", got)
	}
}
