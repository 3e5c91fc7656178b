package test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/partition"
	"github.com/universal-atomic-installer/uai/test/internal/loopdev"
)

// The process is killed (SIGKILL: no cleanup runs) at each point where a
// dual-boot install has just changed the disk, then uai runs again. The
// second run must find what the first left (a journal; a torn or damaged
// GPT), say so, make the same plan, and finish; Windows must be
// unchanged after every crash and after every re-run. The crash points
// are in a test build only (see crashUAI).
//
// The points up to the table write run as nobody, where the engine stops
// after partitioning (no loop device); the later ones need root.
func TestDiskFaultRecovery(t *testing.T) {
	needRoot(t)
	loopdev.RequireTools(t, "sfdisk", "sgdisk", "losetup", "mkfs.xfs", "fusefat")
	bin := crashUAI(t)
	cases := []struct {
		point  string
		asRoot bool
		layout string
		// torn is what uai disks must report about the GPT after the crash
		torn string
	}{
		{installer.CheckpointJournalSaved, false, "free", ""},
		{partition.CheckpointProtectiveMBR, false, "free", ""},
		{partition.CheckpointBackupEntries, false, "free", "the backup GPT is damaged"},
		{partition.CheckpointBackupHeader, false, "free", "both GPT copies are intact but disagree"},
		{partition.CheckpointPrimaryEntries, false, "free", "the primary GPT is damaged"},
		{partition.CheckpointPrimaryHeader, false, "free", ""},
		{installer.CheckpointPartitioned, true, "free", ""},
		{installer.CheckpointFormatted, true, "free", ""},
		// on a blank disk the primary header was never there
		{partition.CheckpointPrimaryEntries, false, "whole", "the primary GPT is missing"},
	}
	for _, c := range cases {
		who := "nobody"
		if c.asRoot {
			who = "root"
		}
		t.Run(c.layout+"/"+c.point+"/"+who, func(t *testing.T) {
			dir := t.TempDir()
			var cred *syscall.Credential
			if !c.asRoot {
				cred = nobody
				shareWithNobody(t, dir)
			}
			w := newWindowsDisk(t, dir, 16<<30, 4<<30)
			if !c.asRoot {
				shareWithNobody(t, w.path)
			}
			before := w.state(t)
			storage := "layout = \"free\"\n"
			disk := ""
			if c.layout == "whole" {
				// a blank disk: after the crash it holds a torn table, but
				// the journal says it was empty, so no wipe is needed
				if err := partition.Wipe(w.path); err != nil {
					t.Fatal(err)
				}
				storage = "layout = \"whole\"\n"
			}
			a := answersFile(t, dir, w.path, disk, storage)
			target := filepath.Join(dir, "target")
			state := filepath.Join(dir, "state")
			env := []string{"UAI_STATE_DIR=" + state}
			t.Cleanup(func() { releaseLeftovers(t, dir, w.path) })
			args := []string{"install", "--demo", "--answers", a, "--progress=json", "--target-dir", target}

			plan := runBin(t, uaiBin, cred, env, "plan", "--demo", "--answers", a, "--json")
			if plan.code != 0 {
				t.Fatalf("plan: %s", plan.stderr)
			}
			crash := runBin(t, bin, cred, append(env, "UAI_TEST_CRASH_AT="+c.point), args...)
			if !crash.killed {
				t.Fatalf("the run was not killed at %s: exit %d\n%s\n%s", c.point, crash.code, crash.stdout, crash.stderr)
			}
			releaseLeftovers(t, dir, w.path)
			if c.layout == "free" {
				w.unchanged(t, before)
			}

			// what uai sees now, and says
			d := describeJSON(t, env, w.path)
			if d.Interrupted == nil || !d.Interrupted.Explained || d.Interrupted.Kind != c.layout {
				t.Fatalf("uai disks does not explain the interrupted install: %+v", d.Interrupted)
			}
			if c.torn != "" && (d.GPT == nil || !strings.Contains(d.GPT.Explanation, c.torn)) {
				t.Errorf("GPT problem %+v, want %q", d.GPT, c.torn)
			}
			text := runBin(t, uaiBin, nil, env, "disks", "--target", w.path)
			if !strings.Contains(text.stdout, "INTERRUPTED  an install started") {
				t.Errorf("uai disks does not show the interruption:\n%s", text.stdout)
			}
			again := runBin(t, uaiBin, cred, env, "plan", "--demo", "--answers", a, "--json")
			if again.code != 0 || again.stdout != plan.stdout {
				t.Fatalf("the re-plan differs from the interrupted plan (exit %d):\n%s\n%s", again.code, again.stderr, again.stdout)
			}

			// and again, to the end
			r := runBin(t, uaiBin, cred, env, args...)
			evs, res := events(t, r.stdout)
			if r.code != 0 || res.ExitCode != 0 {
				t.Fatalf("re-run: exit %d %+v\n%s", r.code, res, r.stderr)
			}
			explained := false
			for _, e := range evs {
				explained = explained || (e.Type == installer.EventStepLog && e.Step == installer.StepPreflight && strings.Contains(e.Line, "was interrupted after step"))
			}
			if !explained {
				t.Error("the re-run did not say what it found")
			}
			if c.layout == "free" {
				w.unchanged(t, before)
			}
			if out := runOK(t, "sgdisk", "-v", w.path); !strings.Contains(out, "No problems found") {
				t.Errorf("sgdisk -v after the re-run:\n%s", out)
			}
			if d := describeJSON(t, env, w.path); d.Interrupted != nil || d.GPT != nil {
				t.Errorf("after the re-run: interrupted %+v, gpt %+v", d.Interrupted, d.GPT)
			}
			if m, _ := filepath.Glob(filepath.Join(state, "journal", "*.json")); len(m) > 0 {
				t.Errorf("journals left: %v", m)
			}
		})
	}
}

// Killed while putting the original table back after a failure: the
// next run, failing the same way, restores it completely.
func TestDiskFaultDuringRestore(t *testing.T) {
	needRoot(t)
	loopdev.RequireTools(t, "sfdisk", "sgdisk", "losetup", "mkfs.xfs", "fusefat")
	bin := crashUAI(t)
	dir := t.TempDir()
	w := newWindowsDisk(t, dir, 16<<30, 4<<30)
	before := w.state(t)
	table := tableBytes(t, w.path)
	a := answersFile(t, dir, w.path, "", "layout = \"free\"\n")
	env := []string{"UAI_STATE_DIR=" + filepath.Join(dir, "state"), "UAI_SIM_FAIL=bootloader"}
	t.Cleanup(func() { releaseLeftovers(t, dir, w.path) })
	args := []string{"install", "--demo", "--answers", a, "--progress=json", "--target-dir", filepath.Join(dir, "target")}
	crash := runBin(t, bin, nil, append(env, "UAI_TEST_CRASH_AT="+partition.CheckpointRestoreTail), args...)
	if !crash.killed {
		t.Fatalf("not killed during the restore: exit %d\n%s", crash.code, crash.stderr)
	}
	releaseLeftovers(t, dir, w.path)
	w.unchanged(t, before)
	if d := describeJSON(t, env, w.path); d.GPT == nil || !d.GPT.Torn() || d.Interrupted == nil || !d.Interrupted.Explained {
		t.Fatalf("half restored: gpt %+v interrupted %+v", d.GPT, d.Interrupted)
	}
	r := runBin(t, uaiBin, nil, env, args...)
	if _, res := events(t, r.stdout); r.code != 6 || res.Class != "install-failed" {
		t.Fatalf("re-run: exit %d %+v", r.code, res)
	}
	if got := tableBytes(t, w.path); string(got) != string(table) {
		t.Error("the original table is not back byte for byte")
	}
	w.unchanged(t, before)
	if _, err := os.Stat(filepath.Join(dir, "target")); err == nil {
		if m := mountedUnder(t, dir); len(m) > 0 {
			t.Errorf("left mounted: %v", m)
		}
	}
}
