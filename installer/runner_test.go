package installer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/universal-atomic-installer/uai/installer/host"
)

// A failed bootc step carries the runner's error, bootc's last 50 output
// lines (not the earlier ones) and where the whole log is.
func TestBootcFailureCarriesTheTailAndTheLog(t *testing.T) {
	for _, c := range []struct {
		name, log, where string
		lines            int
	}{
		{name: "long output with a log file", log: "/run/uai/install.jsonl", where: "the full log is in /run/uai/install.jsonl", lines: 120},
		{name: "short output without a log file", where: "run with --log FILE", lines: 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := &host.Recorder{Respond: func(cmd host.Command, onLine host.LineFunc) error {
				for i := 1; i < c.lines; i++ {
					onLine(host.Stdout, fmt.Sprintf("line %d", i))
				}
				onLine(host.Stderr, "error: Installing to filesystem: boom")
				return &host.ExitError{Command: "podman", Code: 1, Stderr: "error: Installing to filesystem: boom"}
			}}
			r, col := newTestRun(t, t.TempDir(), nil)
			r.e.Runner, r.e.LogPath = rec, c.log
			r.command = []string{"podman", "run", "IMAGE", "bootc", "install", "to-filesystem", "/target"}
			err := r.bootc(context.Background())
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			var exit *host.ExitError
			if !errors.As(err, &exit) || exit.Code != 1 {
				t.Errorf("the runner's error is not reachable: %v", err)
			}
			if !strings.HasPrefix(msg, "bootc install failed: podman exited with status 1: error: Installing to filesystem: boom\n") {
				t.Errorf("first line: %q", msg)
			}
			kept := min(c.lines, BootcTailLines)
			first := c.lines - kept + 1
			if first > 1 && strings.Contains(msg, fmt.Sprintf("  line %d\n", first-1)) {
				t.Errorf("line %d is older than the last %d:\n%s", first-1, BootcTailLines, msg)
			}
			if !strings.Contains(msg, fmt.Sprintf("  line %d\n", first)) {
				t.Errorf("line %d missing:\n%s", first, msg)
			}
			if got := strings.Count(msg, "\n  "); got != kept {
				t.Errorf("%d output lines in the error, want %d:\n%s", got, kept, msg)
			}
			if c.lines > BootcTailLines && !strings.Contains(msg, fmt.Sprintf("the last 50 of bootc's %d output lines", c.lines)) {
				t.Errorf("no count:\n%s", msg)
			}
			if !strings.Contains(msg, c.where) {
				t.Errorf("does not say where the log is (%q):\n%s", c.where, msg)
			}
			// Every line is still a step_log event: the tail is a summary,
			// not the only copy.
			n := 0
			for _, e := range col.Snapshot() {
				if e.Type == EventStepLog && e.Step == StepBootc && e.Stream != "cmd" {
					n++
				}
			}
			if n != c.lines {
				t.Errorf("%d step_log lines, want %d", n, c.lines)
			}
		})
	}
}

func TestResolveHostRunnerGolden(t *testing.T) {
	for _, c := range []struct {
		name string
		req  Request
		f    RunnerFacts
	}{
		{"plan-host-registry", Request{EditionID: "pinned", DiskPath: "/dev/sda", Wipe: true, Arch: "amd64", TargetDir: "/mnt/t",
			Root: RootRequest{SSHAuthorizedKeys: []string{"ssh-ed25519 AAAA k"}}}, RunnerFacts{MemTotalBytes: 4 << 30, ImageSizeBytes: 2500 << 20}},
		{"plan-host-oci", Request{EditionID: "fedora-bootc-44", DiskPath: "/var/tmp/disk.img", Demo: true, Arch: "amd64"},
			RunnerFacts{MediumImages: []MediumImage{{Layout: "/run/initramfs/live/images/oci", Ref: "quay.io/fedora/fedora-bootc:44", Digest: "sha256:" + strings.Repeat("cd", 32)}}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			// The registry case also asks for both copies.
			copies := c.name == "plan-host-registry"
			p, err := ResolveWith(c.req, testDisks(), testCatalog(), ResolveOptions{Runner: c.f, CopyNetwork: copies, CopyUAI: copies})
			if err != nil {
				t.Fatal(err)
			}
			if p.CopyNetwork != copies || p.CopyUAI != copies {
				t.Errorf("copies %v %v", p.CopyNetwork, p.CopyUAI)
			}
			if p.Runner != RunnerHost || p.Command[0] != "bootc" || !strings.Contains(strings.Join(p.Command, " "), "--source-imgref=") {
				t.Fatalf("not the host runner: %s %v", p.Runner, p.Command)
			}
			golden(t, c.name+".json", p.JSON())
			golden(t, c.name+".txt", []byte(p.Text()))
		})
	}
}

func TestMemTotal(t *testing.T) {
	p := filepath.Join(t.TempDir(), "meminfo")
	if err := os.WriteFile(p, []byte("MemTotal:        4021432 kB\nMemFree:  1 kB\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := memTotal(p); got != 4021432<<10 {
		t.Errorf("got %d", got)
	}
}

// The host runner writes /etc/ostree/prepare-root.conf on the live system
// only when it is absent, only outside demo mode, runs the live system's
// bootc directly, and removes the file again after bootc.
func TestHostRunnerWorkaroundsAndCommand(t *testing.T) {
	for _, c := range []struct {
		name              string
		simulated, exists bool
		wantDuring        bool
	}{
		{name: "written and removed", wantDuring: true},
		{name: "kept when present", exists: true, wantDuring: true},
		{name: "never in demo", simulated: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			live := t.TempDir()
			conf := filepath.Join(live, "etc/ostree/prepare-root.conf")
			if c.exists {
				if err := os.MkdirAll(filepath.Dir(conf), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(conf, []byte("[composefs]\nenabled = yes\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var during string
			rec := &host.Recorder{Respond: func(cmd host.Command, onLine host.LineFunc) error {
				b, _ := os.ReadFile(conf)
				during = string(b)
				onLine(host.Stdout, "Installation complete!")
				return nil
			}}
			r, _ := newTestRun(t, t.TempDir(), nil)
			r.e.Runner, r.e.LiveRoot = rec, live
			r.p.Runner, r.p.Simulated = RunnerHost, c.simulated
			r.command = []string{"bootc", "install", "to-filesystem", "--source-imgref=registry:quay.io/fedora/fedora-bootc:44", "--target-imgref=quay.io/fedora/fedora-bootc:44", "/run/uai/target"}
			if err := r.bootc(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(rec.Lines(), "\n"); got != strings.Join(r.command, " ") {
				t.Errorf("ran %q", got)
			}
			if (during != "") != c.wantDuring {
				t.Errorf("prepare-root.conf during bootc: %q", during)
			}
			if !c.exists && !c.simulated && during != hostPrepareRootContent {
				t.Errorf("wrote %q", during)
			}
			_, err := os.Stat(conf)
			if c.exists != (err == nil) {
				t.Errorf("after bootc: exists %v, want %v", err == nil, c.exists)
			}
		})
	}
}

// The copies from the live system: only when asked, profiles 0600 with
// their content, never logged; uai to the stateroot's /var/usrlocal/bin.
func TestCopyExtras(t *testing.T) {
	for _, ask := range []bool{false, true} {
		t.Run(fmt.Sprint(ask), func(t *testing.T) {
			phys, dep := fakeDeployment(t, true)
			live := t.TempDir()
			nm := filepath.Join(live, "etc/NetworkManager/system-connections")
			if err := os.MkdirAll(nm, 0o700); err != nil {
				t.Fatal(err)
			}
			const secret = "psk=Fixture-WiFi-Secret-9"
			if err := os.WriteFile(filepath.Join(nm, "Home.nmconnection"), []byte("[wifi-security]\n"+secret+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(nm, "notes.txt"), []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("/etc/passwd", filepath.Join(nm, "link.nmconnection")); err != nil {
				t.Fatal(err)
			}
			self := filepath.Join(t.TempDir(), "uai")
			if err := os.WriteFile(self, []byte("#!uai"), 0o755); err != nil {
				t.Fatal(err)
			}
			r, col := newTestRun(t, phys, nil)
			r.e.LiveRoot, r.e.SelfPath = live, self
			r.p.CopyNetwork, r.p.CopyUAI = ask, ask
			if err := r.configureAll(); err != nil {
				t.Fatal(err)
			}
			got := filepath.Join(dep, "etc/NetworkManager/system-connections/Home.nmconnection")
			st, err := os.Stat(got)
			if !ask {
				if err == nil {
					t.Fatal("copied a profile without being asked")
				}
				return
			}
			if err != nil || st.Mode().Perm() != 0o600 {
				t.Fatalf("profile: %v %v", st, err)
			}
			if b, _ := os.ReadFile(got); !strings.Contains(string(b), secret) {
				t.Errorf("profile content %q", b)
			}
			for _, n := range []string{"notes.txt", "link.nmconnection"} {
				if _, err := os.Lstat(filepath.Join(dep, "etc/NetworkManager/system-connections", n)); err == nil {
					t.Errorf("copied %s", n)
				}
			}
			matches, _ := filepath.Glob(filepath.Join(phys, "ostree/deploy/*/var/usrlocal/bin/uai"))
			if len(matches) != 1 {
				t.Fatalf("uai copies: %v", matches)
			}
			if st, err := os.Stat(matches[0]); err != nil || st.Mode().Perm() != 0o755 {
				t.Errorf("uai: %v %v", st, err)
			}
			for _, e := range col.Snapshot() {
				if strings.Contains(e.Line, secret) {
					t.Errorf("secret logged: %q", e.Line)
				}
			}
		})
	}
}
