package test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/installer/bootc"
	"github.com/universal-atomic-installer/uai/installer/bootc/sim"
	"github.com/universal-atomic-installer/uai/installer/rebase"
)

// The switch tests run the real uai binary against the strict fake bootc
// (test/fakes/bootc, the simulator as its own program), first on PATH,
// with the simulated machine in a state directory of the test's own.

var (
	swFakeOnce sync.Once
	swFakeDir  string
	swFakeErr  error
)

// swFakeBootcDir builds the fake bootc once, next to the uai binary
// (TestMain removes that directory), and returns its directory.
func swFakeBootcDir(t *testing.T) string {
	t.Helper()
	swFakeOnce.Do(func() {
		swFakeDir = filepath.Join(filepath.Dir(uaiBin), "fakebin")
		if swFakeErr = os.MkdirAll(swFakeDir, 0o755); swFakeErr != nil {
			return
		}
		out, err := exec.Command("go", "build", "-o", filepath.Join(swFakeDir, "bootc"), module+"/test/fakes/bootc").CombinedOutput()
		if err != nil {
			swFakeErr = errors.New("build the fake bootc: " + err.Error() + "\n" + string(out))
		}
	})
	if swFakeErr != nil {
		t.Fatal(swFakeErr)
	}
	return swFakeDir
}

// swHost is a simulated installed machine for the real binary.
type swHost struct {
	t     *testing.T
	state string
	env   []string
	facts string
}

// swBooted seeds a machine booted from image and writes an image facts
// file (the offline look-up) for the given refs, all bootable.
func swBooted(t *testing.T, image string) *swHost {
	t.Helper()
	dir := swFakeBootcDir(t)
	h := &swHost{t: t, state: t.TempDir()}
	if err := sim.SeedBootedHost(h.state, image); err != nil {
		t.Fatal(err)
	}
	h.env = append(os.Environ(),
		"PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"),
		"UAI_SIM_STATE_DIR="+h.state,
		"UAI_SIM_DELAY=0",
		// bootc switch needs root; the fake is told it has it, so the
		// tests also run for a developer who is not root.
		"UAI_SIM_UID=0",
		"NO_COLOR=1",
	)
	h.facts = filepath.Join(t.TempDir(), "facts.json")
	h.writeFacts(map[string]bool{})
	return h
}

// writeFacts writes the look-up table: every catalog-looking ref used by
// the tests is bootable unless listed false in override.
func (h *swHost) writeFacts(override map[string]bool) {
	h.t.Helper()
	table := map[string]rebase.ImageFacts{}
	for _, ref := range []string{
		"quay.io/fedora/fedora-bootc:43", "quay.io/fedora/fedora-bootc:44", "quay.io/fedora/fedora-kinoite:44",
		"quay.io/fedora/fedora-silverblue:44", "quay.io/library/busybox:latest",
	} {
		ok, set := override[ref]
		table[ref] = rebase.ImageFacts{Digest: sim.ImageDigest(ref), Arch: swArch(), SizeBytes: 600 << 20, Bootable: !set || ok}
	}
	data, err := json.Marshal(table)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(h.facts, data, 0o644); err != nil {
		h.t.Fatal(err)
	}
}

// uai runs the real binary on this machine, with extra KEY=VALUE env.
func (h *swHost) uai(extra []string, args ...string) runResult {
	h.t.Helper()
	cmd := exec.Command(uaiBin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Env = append(append([]string(nil), h.env...), extra...)
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		h.t.Fatalf("run uai %v: %v", args, err)
	}
	return runResult{code: code, stdout: out.String(), stderr: errb.String()}
}

// status is what the fake bootc says of the simulated machine now.
func (h *swHost) status() *bootc.Host {
	h.t.Helper()
	cmd := exec.Command(filepath.Join(swFakeBootcDir(h.t), "bootc"), bootc.StatusArgs()...)
	cmd.Env = h.env
	out, err := cmd.Output()
	if err != nil {
		h.t.Fatalf("bootc status: %v", err)
	}
	st, err := bootc.ParseStatus(out)
	if err != nil {
		h.t.Fatal(err)
	}
	return st
}

// swEvents parses a switch's JSON lines strictly: every line a v1 event
// with only the documented fields, the last the one result record.
func swEvents(t *testing.T, stdout string) ([]rebase.Event, rebase.Result) {
	t.Helper()
	evs := decodeEvents(t, stdout, "a switch event", func(e rebase.Event) (int, bool, bool) {
		return e.V, e.Type == installer.EventResult, e.Result != nil
	})
	for _, e := range evs {
		if e.Time.IsZero() {
			t.Fatalf("switch event without a time: %+v", e)
		}
	}
	return evs, *evs[len(evs)-1].Result
}

// swSteps lists "started X" / "ok X" / "failed X" / "skipped X" in order.
func swSteps(evs []rebase.Event) []string {
	var out []string
	for _, e := range evs {
		switch e.Type {
		case installer.EventStepStarted:
			out = append(out, "started "+string(e.Step))
		case installer.EventStepFinished:
			out = append(out, string(e.Status)+" "+string(e.Step))
		}
	}
	return out
}

func swLog(evs []rebase.Event) string {
	var b strings.Builder
	for _, e := range evs {
		if e.Type == installer.EventStepLog {
			b.WriteString(string(e.Step) + " " + e.Stream + ": " + e.Line + "\n")
		}
	}
	return b.String()
}

// swRequire fails in CI and skips loudly elsewhere when a program the
// test needs is missing.
func swRequire(t *testing.T, program, pkg string) {
	t.Helper()
	if _, err := exec.LookPath(program); err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is missing; install the Debian package %s", program, pkg)
	}
	t.Skipf("SKIPPED LOUDLY: %s is missing (Debian package %s); CI runs this test", program, pkg)
}

// swArch is the OCI architecture of this machine, as the fake reports it.
func swArch() string { return runtime.GOARCH }
