package test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/test/internal/loopdev"
	"github.com/universal-atomic-installer/uai/test/internal/ocitest"
)

// mediumLayout writes the medium's images as `uai iso build` does: one
// OCI layout, DIR/oci, holding a manifest per ref, each annotated with
// its full ref. It returns the digests by ref.
func mediumLayout(t *testing.T, dir string, refs ...string) map[string]string {
	t.Helper()
	var entries []ocitest.Entry
	for _, ref := range refs {
		entries = append(entries, ocitest.Entry{Ref: ref, Image: ocitest.Image(t, 1024, 1)})
	}
	return ocitest.WriteLayout(t, filepath.Join(dir, "oci"), entries...)
}

func planJSON(t *testing.T, args ...string) (installer.Plan, runResult) {
	t.Helper()
	r := runUAI(t, append([]string{"plan", "--json"}, args...)...)
	var p installer.Plan
	if r.code == 0 {
		if err := json.Unmarshal([]byte(r.stdout), &p); err != nil {
			t.Fatalf("plan JSON: %v\n%s", err, r.stdout)
		}
	}
	return p, r
}

// `uai plan --medium-images DIR` finds the image in the medium's one OCI
// layout among other images and plans the host runner with
// --source-imgref oci:DIR/oci:REF; --runner podman overrides that; a demo
// plan without --medium-images does not look at any medium.
func TestPlanRunnerFromMediumImages(t *testing.T) {
	dir := t.TempDir()
	img := sparseImage(t, dir, 64<<30)
	medium := filepath.Join(dir, "medium")
	digests := mediumLayout(t, medium, "localhost:5000/other:1", "quay.io/fedora/fedora-bootc:44", "localhost:5000/custom:2")
	base := []string{"--demo", "--target", img, "--edition", "fedora-bootc-44"}

	p, r := planJSON(t, append(base, "--medium-images", medium)...)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	cmd := strings.Join(p.Command, " ")
	layoutDir := filepath.Join(medium, "oci")
	if p.Runner != installer.RunnerHost || p.Command[0] != "bootc" ||
		!strings.Contains(cmd, "--source-imgref=oci:"+layoutDir+":quay.io/fedora/fedora-bootc:44 --target-imgref=quay.io/fedora/fedora-bootc:44") {
		t.Errorf("runner %s (%s)\n%s", p.Runner, p.RunnerReason, cmd)
	}
	if !strings.Contains(p.RunnerReason, "on the install medium as quay.io/fedora/fedora-bootc:44 ("+digests["quay.io/fedora/fedora-bootc:44"]+") in the OCI layout "+layoutDir) {
		t.Errorf("reason %q", p.RunnerReason)
	}

	// The flag wins over the medium, and the reason says who chose.
	p, r = planJSON(t, append(base, "--medium-images", medium, "--runner", "podman")...)
	if r.code != 0 || p.Runner != installer.RunnerPodman || p.Command[0] != "podman" || !strings.Contains(p.RunnerReason, "chosen by the answers or the --runner flag (runner = podman)") {
		t.Errorf("--runner podman: exit %d runner %s (%s) %v\n%s", r.code, p.Runner, p.RunnerReason, p.Command, r.stderr)
	}
	// ... and over the answer file's runner.
	a := writeFile(t, dir, "answers.toml", "version = 1\n[source]\nedition = \"fedora-bootc-44\"\nrunner = \"podman\"\n[disk]\npath = \""+img+"\"\n")
	p, r = planJSON(t, "--demo", "--answers", a, "--medium-images", medium)
	if r.code != 0 || p.Runner != installer.RunnerPodman || !strings.Contains(p.RunnerReason, "runner = podman") {
		t.Errorf("answers runner = podman: exit %d runner %s (%s)\n%s", r.code, p.Runner, p.RunnerReason, r.stderr)
	}
	p, r = planJSON(t, "--demo", "--answers", a, "--medium-images", medium, "--runner", "auto")
	if r.code != 0 || p.Runner != installer.RunnerHost {
		t.Errorf("--runner auto over runner = podman: exit %d runner %s (%s)\n%s", r.code, p.Runner, p.RunnerReason, r.stderr)
	}

	// A custom image pinned by the digest of a manifest on the medium
	// installs from the medium, under the manifest's own name.
	pinned := "registry.example.com/custom@" + digests["localhost:5000/custom:2"]
	p, r = planJSON(t, "--demo", "--target", img, "--image", pinned, "--medium-images", medium)
	if r.code != 0 || p.Runner != installer.RunnerHost || !strings.Contains(strings.Join(p.Command, " "), "--source-imgref=oci:"+layoutDir+":localhost:5000/custom:2 --target-imgref="+pinned) {
		t.Errorf("pinned by digest: exit %d runner %s (%s) %v\n%s", r.code, p.Runner, p.RunnerReason, p.Command, r.stderr)
	}

	// An image the medium does not hold comes from the registry.
	p, r = planJSON(t, "--demo", "--target", img, "--image", "quay.io/example/absent:1", "--medium-images", medium)
	if r.code != 0 || p.Runner != installer.RunnerPodman {
		t.Errorf("absent image: exit %d runner %s (%s)", r.code, p.Runner, p.RunnerReason)
	}

	// Demo plans are the same on any machine: no medium unless named.
	p, r = planJSON(t, base...)
	if r.code != 0 || p.Runner != installer.RunnerPodman || !strings.HasPrefix(p.RunnerReason, "demo:") {
		t.Errorf("demo without --medium-images: exit %d runner %s (%s)", r.code, p.Runner, p.RunnerReason)
	}

	// A bad --runner is a usage error.
	if _, r = planJSON(t, append(base, "--runner", "docker")...); r.code != 2 || !strings.Contains(r.stderr, `--runner "docker" is not known; use auto, podman or host`) {
		t.Errorf("--runner docker: exit %d\n%s", r.code, r.stderr)
	}
}

// --runner host on a live system without bootc stops with exit 4
// (environment) before any disk is touched, naming the problem and the fix.
func TestInstallRunnerHostWithoutBootc(t *testing.T) {
	dir := t.TempDir()
	img := sparseImage(t, dir, 64<<30)
	if err := os.WriteFile(filepath.Join(dir, "marker"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	before := contentSum(t, img)
	empty := t.TempDir() // PATH without bootc (or anything else)
	for _, args := range [][]string{
		{"plan", "--target", img, "--edition", "fedora-bootc-44", "--wipe", "--runner", "host"},
		{"install", "--target", img, "--edition", "fedora-bootc-44", "--wipe", "--runner", "host", "--yes", "--progress", "json"},
	} {
		r := runIn(t, dir, []string{"PATH=" + empty}, args...)
		out := r.stdout + r.stderr
		if r.code != 4 {
			t.Errorf("uai %s: exit %d, want 4\n%s", args[0], r.code, out)
		}
		for _, w := range []string{"the host runner was asked for, but the live system has no bootc", "install bootc on the live system, or set runner"} {
			if !strings.Contains(out, w) {
				t.Errorf("uai %s: output lacks %q:\n%s", args[0], w, out)
			}
		}
		if args[0] == "install" {
			_, res := events(t, r.stdout)
			if res.ExitCode != 4 || res.Class != "environment" {
				t.Errorf("result %+v", res)
			}
		}
	}
	if after := contentSum(t, img); after != before {
		t.Error("the disk image changed")
	}
	// Without --runner the same machine plans podman.
	r := runIn(t, dir, []string{"PATH=" + empty}, "plan", "--json", "--target", img, "--edition", "fedora-bootc-44", "--wipe")
	var p installer.Plan
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &p) != nil || p.Runner != installer.RunnerPodman || !strings.Contains(p.RunnerReason, "has no bootc") {
		t.Errorf("auto without bootc: exit %d %s (%s)\n%s", r.code, p.Runner, p.RunnerReason, r.stderr)
	}
}

// With --log F, a failing bootc's error names F, in the result record and
// on the way out.
func TestInstallFailedBootcNamesTheLog(t *testing.T) {
	needRoot(t)
	loopdev.RequireTools(t, "sfdisk", "losetup", "mkfs.xfs")
	dir := t.TempDir()
	img := sparseImage(t, dir, 64<<30)
	logPath := filepath.Join(dir, "run.jsonl")
	r := runIn(t, "", []string{"UAI_SIM_DELAY=0", "UAI_SIM_FAIL=bootloader"}, "install", "--demo", "--target", img, "--edition", "fedora-bootc-44",
		"--filesystem", "xfs", "--wipe", "--yes", "--progress", "json", "--target-dir", filepath.Join(dir, "target"), "--log", logPath)
	_, res := events(t, r.stdout)
	if r.code != 6 || res.ExitCode != 6 {
		t.Fatalf("exit %d, result %+v\n%s", r.code, res, r.stderr)
	}
	if !strings.Contains(res.Error, "the full log is in "+logPath) || res.LogPath != logPath {
		t.Errorf("the error does not name the log %s:\n%s\n(log_path %q)", logPath, res.Error, res.LogPath)
	}
	if b, err := os.ReadFile(logPath); err != nil || !strings.Contains(string(b), `"type":"result"`) {
		t.Errorf("the log: %v\n%.500s", err, b)
	}
	if m := mountedUnder(t, dir); len(m) > 0 {
		t.Fatalf("left mounted: %v", m)
	}
}

// source.transport oci, oci-archive and containers-storage are planned
// with the live system's bootc installing from TRANSPORT:IMAGE, the
// installed system following target_ref; without bootc on the live
// system an OCI layout cannot be installed (exit 4).
func TestPlanSourceTransports(t *testing.T) {
	dir := t.TempDir()
	img := sparseImage(t, dir, 64<<30)
	medium := filepath.Join(dir, "medium")
	mediumLayout(t, medium, "quay.io/fedora/fedora-bootc:44")
	for _, c := range []struct {
		transport, image, source string
	}{
		{"oci", filepath.Join(medium, "oci"), "oci:" + filepath.Join(medium, "oci")},
		{"oci-archive", "/run/install/repo/os.tar", "oci-archive:/run/install/repo/os.tar"},
		{"containers-storage", "quay.io/fedora/fedora-bootc:44", "containers-storage:quay.io/fedora/fedora-bootc:44"},
	} {
		t.Run(c.transport, func(t *testing.T) {
			a := writeFile(t, t.TempDir(), "a.toml", "version = 1\n[source]\nimage = \""+c.image+"\"\ntransport = \""+c.transport+
				"\"\ntarget_ref = \"quay.io/example/os:stable\"\n[disk]\npath = \""+img+"\"\n")
			p, r := planJSON(t, "--demo", "--answers", a)
			cmd := strings.Join(p.Command, " ")
			if r.code != 0 || p.Runner != installer.RunnerHost || !strings.Contains(cmd, "--source-imgref="+c.source+" --target-imgref=quay.io/example/os:stable") || p.TargetRef != "quay.io/example/os:stable" {
				t.Fatalf("exit %d runner %s (%s)\n%s\n%s", r.code, p.Runner, p.RunnerReason, cmd, r.stderr)
			}
			if !strings.Contains(p.RunnerReason, "source.transport = "+c.transport) {
				t.Errorf("reason %q", p.RunnerReason)
			}
		})
	}
	a := writeFile(t, dir, "oci.toml", "version = 1\n[source]\nimage = \""+filepath.Join(medium, "oci")+"\"\ntransport = \"oci\"\ntarget_ref = \"quay.io/example/os:stable\"\n[disk]\npath = \""+img+"\"\nwipe = true\n")
	r := runIn(t, dir, []string{"PATH=" + t.TempDir()}, "plan", "--answers", a)
	if r.code != 4 || !strings.Contains(r.stderr, `source.transport "oci" needs the live system's bootc`) {
		t.Errorf("oci without bootc: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runUAI(t, "plan", "--demo", "--answers", a, "--runner", "podman")
	if r.code != 2 || !strings.Contains(r.stderr, `runner = "podman" was asked for`) {
		t.Errorf("oci with --runner podman: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
