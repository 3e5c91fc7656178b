package test

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/test/internal/loopdev"
)

// bootc finishes, but the deployment would update from a local OCI
// directory instead of the catalog's ref: verify fails the install, says
// how to fix it, and the table is wiped so the system never boots.
func TestEngineWrongOriginFailsTheInstall(t *testing.T) {
	needRoot(t)
	loopdev.RequireTools(t, "sfdisk", "mkfs.xfs", "losetup", "partx", "fusefat")
	dir := t.TempDir()
	img := sparseImage(t, dir, 64<<30)
	a := writeFile(t, dir, "answers.toml", `version = 1
confirm = true
[source]
edition = "fedora-bootc-44"
[disk]
path = "`+img+`"
`)
	t.Setenv("UAI_SIM_ORIGIN", "ostree-unverified-image:oci:/run/install/repo/container")
	r := runUAI(t, "install", "--demo", "--answers", a, "--progress=json", "--target-dir", filepath.Join(dir, "target"))
	evs, res := events(t, r.stdout)
	if r.code != 6 || res.Class != "install-failed" {
		t.Fatalf("exit %d result %+v\n%s", r.code, res, r.stderr)
	}
	for _, want := range []string{"would update from oci:/run/install/repo/container, not from quay.io/fedora/fedora-bootc:44", "bootc switch quay.io/fedora/fedora-bootc:44"} {
		if !strings.Contains(res.Error+r.stderr, want) {
			t.Errorf("error %q (stderr %q) lacks %q", res.Error, r.stderr, want)
		}
	}
	var failed installer.StepID
	for _, e := range evs {
		if e.Type == installer.EventStepFinished && e.Status == installer.StatusFailed {
			failed = e.Step
		}
		if e.Step == installer.StepConfigure && e.Type == installer.EventStepStarted {
			t.Error("configured a system that failed verification")
		}
	}
	if failed != installer.StepVerify {
		t.Errorf("failed step %q, want verify", failed)
	}
	if m := mountedUnder(t, dir); len(m) > 0 {
		t.Fatalf("left mounted: %v", m)
	}
	if l := loopsFor(t, img); l != "" {
		t.Fatalf("loop device left attached: %s", l)
	}
	out, err := exec.Command("sfdisk", "--json", img).CombinedOutput()
	if err == nil && bytes.Contains(out, []byte(`"partitions"`)) {
		t.Fatalf("the table survived a failed install:\n%s", out)
	}
}
