package test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/test/internal/loopdev"
)

func faultAnswers(t *testing.T, dir, img, extra string) string {
	return writeFile(t, dir, "answers.toml", "version = 1\nconfirm = true\n[source]\nedition = \"fedora-bootc-44\"\n[disk]\npath = \""+img+"\"\n"+extra)
}

// bootc failing mid-install: exit 6 with bootc's own error line, nothing
// left mounted or attached, and the new table wiped so the disk cannot
// boot a half-install; with preserve_on_error the table stays.
func TestBootcFailureWipesTheNewTable(t *testing.T) {
	needRoot(t)
	loopdev.RequireTools(t, "sfdisk", "losetup", "mkfs.xfs")
	for _, preserve := range []bool{false, true} {
		name := "wipe"
		if preserve {
			name = "preserve_on_error"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			img := sparseImage(t, dir, 64<<30)
			extra := ""
			if preserve {
				extra = "preserve_on_error = true\n"
			}
			a := faultAnswers(t, dir, img, extra)
			t.Setenv("UAI_SIM_FAIL", "bootloader")
			r := runUAI(t, "install", "--demo", "--answers", a, "--progress=json", "--target-dir", filepath.Join(dir, "target"))
			evs, res := events(t, r.stdout)
			if r.code != 6 || res.ExitCode != 6 || res.Class != "install-failed" {
				t.Fatalf("exit %d result %+v\n%s", r.code, res, r.stderr)
			}
			if !strings.Contains(res.Error, "error: Installing to filesystem") {
				t.Fatalf("the result does not carry bootc's own error: %s", res.Error)
			}
			var failed installer.StepID
			for _, e := range evs {
				if e.Type == installer.EventStepFinished && e.Status == installer.StatusFailed {
					failed = e.Step
				}
			}
			if failed != installer.StepBootc {
				t.Fatalf("failed step %q, want bootc", failed)
			}
			if m := mountedUnder(t, dir); len(m) > 0 {
				t.Fatalf("left mounted: %v", m)
			}
			if l := loopsFor(t, img); l != "" {
				t.Fatalf("loop device left attached: %s", l)
			}
			out, err := exec.Command("sfdisk", "--json", img).CombinedOutput()
			hasTable := err == nil && bytes.Contains(out, []byte(`"partitions"`))
			if hasTable != preserve {
				t.Fatalf("table present %v after failure, want %v:\n%s", hasTable, preserve, out)
			}
		})
	}
}

// A hung bootc and a SIGTERM: the run ends as aborted (exit 7), the hung
// process group is killed, and the disk is released.
func TestCancelDuringHungBootc(t *testing.T) {
	needRoot(t)
	loopdev.RequireTools(t, "losetup", "mkfs.xfs")
	dir := t.TempDir()
	img := sparseImage(t, dir, 64<<30)
	a := faultAnswers(t, dir, img, "")
	cmd := exec.Command(uaiBin, "install", "--demo", "--answers", a, "--progress=json", "--target-dir", filepath.Join(dir, "target"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	cmd.Env = append(os.Environ(), "UAI_SIM_HANG=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), `"step":"bootc"`) {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("bootc step never started:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("uai did not end after SIGTERM")
	}
	if code := cmd.ProcessState.ExitCode(); code != 7 {
		t.Fatalf("exit %d, want 7 (aborted)\n%s", code, out.String())
	}
	_, res := events(t, out.String())
	if res.Class != "aborted" {
		t.Fatalf("result %+v", res)
	}
	if m := mountedUnder(t, dir); len(m) > 0 {
		t.Fatalf("left mounted: %v", m)
	}
	if l := loopsFor(t, img); l != "" {
		t.Fatalf("loop device left attached: %s", l)
	}
}
