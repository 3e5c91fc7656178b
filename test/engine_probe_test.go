package test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/test/internal/loopdev"
)

// bootcCommand is the handoff the bootc step ran, from its "cmd" log line.
func bootcCommand(evs []installer.Event) string {
	for _, e := range evs {
		if e.Step == installer.StepBootc && e.Type == installer.EventStepLog && e.Stream == "cmd" {
			return e.Line
		}
	}
	return ""
}

// The probe asks the image's own bootc for its flags before any write:
// the default (1.16.9) gets the plan's argv; bootc 1.1.0 (before 1.1.7
// fetched the target during install) also gets --skip-fetch-check; a
// bootc too old for a flag the plan needs stops the run in preflight,
// with the disk untouched.
func TestEngineProbeAdaptsToTheImagesBootc(t *testing.T) {
	needRoot(t)
	loopdev.RequireTools(t, "sfdisk", "mkfs.xfs", "losetup", "partx", "fusefat")
	for _, c := range []struct {
		version  string
		keys     bool
		code     int
		skipFlag bool
		err      string
	}{
		{version: "", code: 0},
		{version: "1.1.0", code: 0, skipFlag: true},
		{version: "0.1.5", keys: true, code: 2, err: "the image's bootc does not support --root-ssh-authorized-keys"},
	} {
		name := c.version
		if name == "" {
			name = "default"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			img := sparseImage(t, dir, 64<<30)
			extra := ""
			if c.keys {
				extra = "[root]\nssh_authorized_keys = [\"" + engineRootKey + "\"]\n"
			}
			a := writeFile(t, dir, "answers.toml", `version = 1
confirm = true
[source]
edition = "fedora-bootc-44"
[disk]
path = "`+img+`"
`+extra)
			if c.version != "" {
				t.Setenv("UAI_SIM_BOOTC_VERSION", c.version)
			}
			before := contentSum(t, img)
			r := runUAI(t, "install", "--demo", "--answers", a, "--progress=json", "--target-dir", filepath.Join(dir, "target"))
			evs, res := events(t, r.stdout)
			if r.code != c.code || res.ExitCode != c.code {
				t.Fatalf("exit %d, want %d: %+v\n%s", r.code, c.code, res, r.stderr)
			}
			var probed bool
			for _, e := range evs {
				if e.Step == installer.StepPreflight && e.Stream == "cmd" && strings.Contains(e.Line, "bootc install print-configuration") {
					probed = true
				}
			}
			if !probed {
				t.Error("preflight never asked the image's bootc for its install config")
			}
			if c.err != "" {
				if !strings.Contains(res.Error, c.err) || !strings.Contains(res.Error, "pick an image with a newer bootc") {
					t.Errorf("error %q, want %q and the fix", res.Error, c.err)
				}
				if len(res.Completed) != 0 {
					t.Errorf("steps completed after a failed probe: %v", res.Completed)
				}
				if after := contentSum(t, img); after != before {
					t.Error("the disk was written although the probe failed")
				}
				return
			}
			cmd := bootcCommand(evs)
			if !strings.Contains(cmd, "bootc install to-filesystem") {
				t.Fatalf("no bootc command logged: %q", cmd)
			}
			if got := strings.Contains(cmd, "--skip-fetch-check"); got != c.skipFlag {
				t.Errorf("--skip-fetch-check passed %v, want %v: %s", got, c.skipFlag, cmd)
			}
		})
	}
}
