package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/ui/plain"
)

// runPlain answers the plain mode's questions with the lines of script and
// returns what it printed and how it ended.
func runPlain(t *testing.T, f *fakeBackend, o Options, script ...string) (string, plain.Outcome) {
	t.Helper()
	var out strings.Builder
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	in := strings.NewReader(strings.Join(script, "\n") + "\n")
	res, err := plain.Run(ctx, f, o, in, &out)
	if err != nil {
		t.Fatalf("plain run: %v\n%s", err, out.String())
	}
	return out.String(), res
}

func wantLines(t *testing.T, out string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
}

// The same questions as the TUI, one line each, with the same mistakes
// caught where they are made: a passphrase the network refuses, an edition
// that does not fit, a disk too small, an empty password, a wrong name at
// the confirmation.
func TestPlainWholeInstall(t *testing.T) {
	f := newFake()
	f.offline()
	out, res := runPlain(t, f, demo,
		"", "de", // language: the default; keyboard: German
		"1", "wrong horse battery", "correct horse battery", "", // Wi-Fi: HomeNet, a wrong then the right passphrase; continue
		"3", "1", // an edition that does not fit, then Fedora bootc
		"4", "2", // a disk too small, then sdb
		"", "", "y", "short", "short", // storage: a passphrase too short...
		"", "", "y", "correct horse battery staple", "correct horse battery staple", "n", // ...then a good one, no TPM2
		"", "europe/ber", "user", "alex", "", "", "", // accounts: an empty password and no key...
		"", "europe/berlin", "user", "alex", "pw-pw-pw-pw", "pw-pw-pw-pw", "", "y", // ...then a password
		"sda", "sdb", // the wrong name at the confirmation, then the right one
		"save", "reboot", "exit",
	)
	wantLines(t, out,
		"== Welcome ==", "This machine: UEFI firmware, Secure Boot on, amd64, 16 GiB of memory, TPM 2.0, 5 disks.",
		"the live session now uses en_US.UTF-8 with the de keyboard.",
		"1) HomeNet, 82%, WPA2",
		"HomeNet refused the passphrase", "joined HomeNet.",
		"Raspberry Pi IoT cannot be installed on this machine: built for arm64",
		"sdc cannot be used: too small: needs 10 GiB",
		"the passphrase has 5 characters; use at least 8",
		"passphrase strength: strong",
		"the password is empty: type one, or give an SSH key",
		`"sda" is not sdb: nothing was written.`,
		"sdb holds data and will be ERASED. Type sdb to confirm",
		"==> bootc: Install the image with bootc (simulated bootc)",
		"saved the answers to /tmp/uai-answers-test.toml",
		"not here: the target is an image file",
	)
	if strings.Contains(out, "correct horse") || strings.Contains(out, "pw-pw-pw") {
		t.Errorf("a secret was printed:\n%s", out)
	}
	if res.Result.ExitCode != 0 || res.Action != "exit" {
		t.Errorf("outcome %+v", res)
	}
	r := res.Request
	if r.System.Keymap != "de" || r.System.Timezone != "Europe/Berlin" || r.Storage.Encryption.Passphrase != "correct horse battery staple" ||
		len(r.Users) != 1 || r.Users[0].Name != "alex" || len(r.Network.WiFi) != 1 || !r.Wipe {
		t.Errorf("request = %+v", r)
	}
	// The runner choice gets the size of the image the registry reported.
	if c := f.planChoices(); len(c) == 0 || c[len(c)-1].ImageSizeBytes != 1900<<20 {
		t.Errorf("the planned request lacks the image's size: %+v", c)
	}
	if p := f.installedPlans(); len(p) != 1 || p[0].Disk.Path != "/dev/sdb" {
		t.Errorf("installed %+v", p)
	}
	if _, _, power, _ := f.recorded(); len(power) != 0 {
		t.Errorf("the demo asked the machine to %q", power)
	}
}

// Progress on a serial console comes in tenths, not an event per line.
func TestPlainProgressIsThrottled(t *testing.T) {
	fl := &flood{}
	f := newFake()
	f.install = fl.install
	out, res := runPlain(t, f, Options{},
		"", "", "", "1", "1", "", "", "n", "", "", "root", testKey, "y", "exit")
	if res.Result.ExitCode != 0 {
		t.Fatalf("outcome %+v\n%s", res, out)
	}
	n := strings.Count(out, "    preflight: ")
	if n < 5 || n > 11 {
		t.Errorf("preflight progress printed %d times, want one per tenth:\n%s", n, out)
	}
	// bootc's own output is passed through (a serial log keeps it); the
	// rest is a handful of lines per step.
	other := 0
	for _, l := range strings.Split(out, "\n") {
		if !strings.HasPrefix(l, "    line ") {
			other++
		}
	}
	if other > 250 {
		t.Errorf("%d lines besides bootc's output for an install of 10,000 events", other)
	}
}

// Quitting, or the end of the input, writes nothing.
func TestPlainQuitAndEOF(t *testing.T) {
	for _, script := range [][]string{{"", "quit"}, {""}} {
		f := newFake()
		out, res := runPlain(t, f, Options{}, script...)
		if res.Result.ExitCode != installer.ClassAborted.ExitCode() || len(f.installedPlans()) != 0 {
			t.Errorf("script %q: outcome %+v", script, res)
		}
		wantLines(t, out, "nothing was written to any disk")
	}
}

// "back" goes to the question before.
func TestPlainBack(t *testing.T) {
	f := newFake()
	out, _ := runPlain(t, f, Options{}, "", "", "", "back", "", "", "", "quit")
	if n := strings.Count(out, "== Network =="); n != 2 {
		t.Errorf("the network was asked %d times, want 2 (back from the edition):\n%s", n, out)
	}
}

// Answers leave only the disk and the users to ask.
func TestPlainPreseeded(t *testing.T) {
	f := newFake()
	pre := &installer.Request{EditionID: "fedora-bootc", Interactive: []string{"disk", "users"},
		System: installer.SystemRequest{Timezone: "Asia/Tokyo"}}
	out, res := runPlain(t, f, Options{Preseed: pre},
		"1", "", "", "root", testKey, "y", "exit")
	for _, not := range []string{"== Welcome ==", "== Network ==", "== Edition ==", "== Storage"} {
		if strings.Contains(out, not) {
			t.Errorf("asked %s although the answers have it:\n%s", not, out)
		}
	}
	wantLines(t, out, "== Disk ==", "== The installed system ==", "Time zone (? word lists matches) [Asia/Tokyo]")
	if r := res.Request; r.EditionID != "fedora-bootc" || r.DiskPath != "/var/tmp/demo-disk.img" || r.System.Timezone != "Asia/Tokyo" || res.Result.ExitCode != 0 {
		t.Errorf("outcome %+v", res)
	}
}
