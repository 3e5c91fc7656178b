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
)

// toDiskRun resolves a demo to-disk install of img (--via-loopback: the
// simulator refuses block devices by design and writes nothing to the
// file) and runs it with the built-in simulator as podman and bootc.
func toDiskRun(t *testing.T, dir, img string, facts installer.RunnerFacts, wipe bool) (*installer.Plan, *installer.Collector, installer.Result) {
	t.Helper()
	d, err := partition.Describe(img)
	if err != nil {
		t.Fatal(err)
	}
	req := installer.Request{EditionID: "fedora-bootc-44", DiskPath: img, Demo: true, Filesystem: "xfs", Wipe: wipe,
		TargetDir: filepath.Join(dir, "target"), Storage: installer.StorageRequest{Layout: installer.LayoutImage}}
	p, err := installer.ResolveWith(req, []partition.Disk{d}, catalog.Embedded(), installer.ResolveOptions{Runner: facts})
	if err != nil {
		t.Fatal(err)
	}
	ex := &host.Exec{Paths: map[host.Tool][]string{
		host.Bootc:  {uaiBin, "simulate", "bootc"},
		host.Podman: {uaiBin, "simulate", "podman"},
	}}
	e := &installer.Engine{Runner: ex, Locate: ex, IsRoot: true, LiveRoot: filepath.Join(dir, "live"), Version: "test"}
	col := &installer.Collector{}
	res, _ := e.Run(context.Background(), p, col)
	return p, col, res
}

func bootcCmd(col *installer.Collector) string {
	for _, e := range col.Snapshot() {
		if e.Step == installer.StepBootc && e.Stream == "cmd" {
			return e.Line
		}
	}
	return ""
}

// to-disk end to end with the simulator, under both runners.
func TestToDiskWithTheSimulator(t *testing.T) {
	needRoot(t)
	for _, c := range []struct {
		name   string
		facts  installer.RunnerFacts
		prefix string
	}{
		{"podman", installer.RunnerFacts{}, "$ podman run --rm --privileged"},
		{"host", installer.RunnerFacts{MemTotalBytes: 1 << 30}, "$ bootc install to-disk --wipe --filesystem=xfs --source-imgref=registry:quay.io/fedora/fedora-bootc:44"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			img := sparseImage(t, dir, 64<<30)
			p, col, res := toDiskRun(t, dir, img, c.facts, false)
			if res.ExitCode != 0 || !strings.Contains(res.Stopped, "writes nothing") {
				t.Fatalf("result %+v", res)
			}
			cmd := bootcCmd(col)
			if !strings.HasPrefix(cmd, c.prefix) || !strings.HasSuffix(cmd, "--target-imgref=quay.io/fedora/fedora-bootc:44 --via-loopback "+img) {
				t.Errorf("bootc ran as %q", cmd)
			}
			var complete, probed bool
			for _, e := range col.Snapshot() {
				complete = complete || (e.Step == installer.StepBootc && e.Line == "Installation complete!")
				probed = probed || (e.Step == installer.StepPreflight && e.Stream == "cmd" && strings.Contains(e.Line, "install to-disk --help"))
			}
			if !complete || !probed {
				t.Errorf("complete %v, probed to-disk %v", complete, probed)
			}
			if p.Runner != c.name {
				t.Errorf("runner %s", p.Runner)
			}
		})
	}
}

// A failing to-disk leaves no table behind (bootc wipes first, so the
// engine wipes after a failure), unless preserve_on_error.
func TestToDiskFailureWipes(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	img := sparseImage(t, dir, 64<<30)
	sf := exec.Command("sfdisk", "--quiet", img)
	sf.Stdin = strings.NewReader("label: gpt\nsize=1048576, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n")
	if out, err := sf.CombinedOutput(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("sfdisk: %v %s", err, out)
		}
		t.Skipf("SKIPPED LOUDLY: sfdisk: %v %s", err, out)
	}
	t.Setenv("UAI_SIM_FAIL", "bootloader")
	_, col, res := toDiskRun(t, dir, img, installer.RunnerFacts{}, true)
	if res.ExitCode != 6 || !strings.Contains(res.Error, "error: ") || !strings.Contains(res.Error, "bootc's output (") {
		t.Fatalf("result %+v", res)
	}
	if bootcCmd(col) == "" {
		t.Fatal("bootc never ran")
	}
	if out, err := exec.Command("sfdisk", "--json", img).CombinedOutput(); err == nil && bytes.Contains(out, []byte(`"partitions"`)) {
		t.Errorf("the table survived a failed to-disk:\n%s", out)
	}
}
