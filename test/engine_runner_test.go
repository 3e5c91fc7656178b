package test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/universal-atomic-installer/uai/catalog"
	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/installer/host"
	"github.com/universal-atomic-installer/uai/partition"
	"github.com/universal-atomic-installer/uai/test/internal/loopdev"
)

// hostRunnerRun resolves a demo install of img with facts that choose the
// host runner and runs it with the built-in simulator as the live
// system's bootc (a real child process: uai simulate bootc).
func hostRunnerRun(t *testing.T, dir, img string, facts installer.RunnerFacts, logPath string) (*installer.Plan, *installer.Collector, installer.Result, error) {
	t.Helper()
	d, err := partition.Describe(img)
	if err != nil {
		t.Fatal(err)
	}
	cat := catalog.Embedded()
	req := installer.Request{EditionID: "fedora-bootc-44", DiskPath: img, Demo: true, Filesystem: "xfs", TargetDir: filepath.Join(dir, "target")}
	p, err := installer.ResolveWith(req, []partition.Disk{d}, cat, installer.ResolveOptions{Runner: facts})
	if err != nil {
		t.Fatal(err)
	}
	if p.Runner != installer.RunnerHost {
		t.Fatalf("runner %s (%s), want host", p.Runner, p.RunnerReason)
	}
	ex := &host.Exec{Paths: map[host.Tool][]string{
		host.Bootc:  {uaiBin, "simulate", "bootc"},
		host.Podman: {uaiBin, "simulate", "podman"},
	}}
	live := filepath.Join(dir, "live")
	e := &installer.Engine{Runner: ex, Locate: ex, IsRoot: true, FuseESP: !installer.KernelHasVFAT(), LiveRoot: live, LogPath: logPath, Version: "test"}
	col := &installer.Collector{}
	res, err := e.Run(context.Background(), p, col)
	if _, serr := os.Stat(filepath.Join(live, "etc/ostree/prepare-root.conf")); serr == nil {
		t.Errorf("demo wrote prepare-root.conf on the live system")
	}
	return p, col, res, err
}

// The host runner end to end on a loop device: the simulator as the live
// system's bootc installs from registry: (little RAM) and the origin is
// the catalog's ref.
func TestHostRunnerInstallsFromTheRegistry(t *testing.T) {
	needRoot(t)
	loopdev.RequireTools(t, "sfdisk", "losetup", "mkfs.xfs")
	dir := t.TempDir()
	img := sparseImage(t, dir, 64<<30)
	p, col, res, err := hostRunnerRun(t, dir, img, installer.RunnerFacts{MemTotalBytes: 2 << 30, ImageSizeBytes: 1500 << 20}, "")
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("install failed: %v %+v", err, res)
	}
	var cmd, probe string
	var verified bool
	for _, e := range col.Snapshot() {
		if e.Step == installer.StepBootc && e.Stream == "cmd" {
			cmd = e.Line
		}
		if e.Step == installer.StepPreflight && e.Stream == "cmd" && strings.Contains(e.Line, "--help") {
			probe = e.Line
		}
		if e.Step == installer.StepVerify && e.Type == installer.EventStepFinished && e.Status == installer.StatusOK {
			verified = true
		}
	}
	if !strings.HasPrefix(cmd, "$ bootc install to-filesystem --source-imgref=registry:quay.io/fedora/fedora-bootc:44 --target-imgref=quay.io/fedora/fedora-bootc:44") {
		t.Errorf("bootc ran as %q", cmd)
	}
	if probe != "$ bootc install to-filesystem --help" {
		t.Errorf("the live system's bootc was probed as %q", probe)
	}
	if !verified || res.TargetRef != p.TargetRef {
		t.Errorf("origin not verified: %+v", res)
	}
	if m := mountedUnder(t, dir); len(m) > 0 {
		t.Fatalf("left mounted: %v", m)
	}
	if l := loopsFor(t, img); l != "" {
		t.Fatalf("loop device left attached: %s", l)
	}
}

// A failing bootc: the error carries bootc's last lines and the log path.
func TestHostRunnerFailureCarriesTheTail(t *testing.T) {
	needRoot(t)
	loopdev.RequireTools(t, "sfdisk", "losetup", "mkfs.xfs")
	dir := t.TempDir()
	img := sparseImage(t, dir, 64<<30)
	t.Setenv("UAI_SIM_FAIL", "bootloader")
	// The image on the medium, in a real OCI layout as uai iso build writes it.
	mediumLayout(t, filepath.Join(dir, "medium"), "quay.io/fedora/fedora-bootc:44")
	medium, err := installer.ScanMediumImages(filepath.Join(dir, "medium"))
	if err != nil || len(medium) != 1 {
		t.Fatalf("scan the medium: %v %v", medium, err)
	}
	_, col, res, err := hostRunnerRun(t, dir, img, installer.RunnerFacts{MediumImages: medium}, "/run/uai/install.jsonl")
	if err == nil || res.ExitCode != 6 {
		t.Fatalf("exit %d err %v", res.ExitCode, err)
	}
	for _, w := range []string{"bootc install failed:", "error: Installing to filesystem", "bootc's output (", "  Installing image: docker://quay.io/fedora/fedora-bootc:44", "the full log is in /run/uai/install.jsonl"} {
		if !strings.Contains(res.Error, w) {
			t.Errorf("result error lacks %q:\n%s", w, res.Error)
		}
	}
	var failed string
	for _, e := range col.Snapshot() {
		if e.Step == installer.StepBootc && e.Type == installer.EventStepFinished {
			failed = e.Error
		}
		if e.Step == installer.StepBootc && e.Stream == "cmd" && !strings.Contains(e.Line, "--source-imgref=oci:"+filepath.Join(dir, "medium/oci")+":quay.io/fedora/fedora-bootc:44") {
			t.Errorf("bootc ran as %q", e.Line)
		}
	}
	if !strings.Contains(failed, "the full log is in") {
		t.Errorf("the bootc step's event lacks the tail: %q", failed)
	}
	if out, err := exec.Command("sfdisk", "--json", img).CombinedOutput(); err == nil && bytes.Contains(out, []byte(`"partitions"`)) {
		t.Errorf("the new table was not wiped:\n%s", out)
	}
}
