package test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/test/internal/loopdev"
)

// Fixture secrets: none of them may appear in events, logs or the receipt.
const (
	engineRootSecret  = "Root-Fixture-Secret-71"
	engineAliceSecret = "Alice-Fixture-Secret-72"
	engineBobHash     = "$6$fixturesalt$uELPYdXXIWmOdbSg1zDpYtSqU6yKFNCYJDjIyN5glbPXgnWuCMHFgt5/NOkhiiO4FTMM56g6xrZXfdjVcRxUZ."
	engineRootKey     = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBuWHwtMhh+o5lmQBDExA/ncsuLZsmImmkAQcDvD47Gn root@qa"
	engineAliceKey    = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK1Y4TK/KA926rkzoXKfzkZoJp+rOdp+r5wWJyslHCCr alice@qa"
)

func configureAnswers(t *testing.T, dir, img, storage string) string {
	t.Helper()
	return writeFile(t, dir, "answers.toml", `version = 1
confirm = true
[source]
edition = "fedora-bootc-44"
[disk]
path = "`+img+`"
[storage]
filesystem = "xfs"
`+storage+`
[system]
hostname = "qa-node-01"
timezone = "Europe/Berlin"
locale = "de_DE.UTF-8"
keymap = "de-nodeadkeys"
[root]
password = "`+engineRootSecret+`"
ssh_authorized_keys = ["`+engineRootKey+`"]
[[users]]
name = "alice"
gecos = "Alice Admin"
groups = ["wheel"]
password = "`+engineAliceSecret+`"
ssh_authorized_keys = ["`+engineAliceKey+`"]
[[users]]
name = "bob"
password_hash = "`+engineBobHash+`"
[kernel]
args = ["console=ttyS0,115200"]
[post]
action = "reboot"
`)
}

// mountRoot attaches img, mounts its root partition read-only and
// returns the mount point; the test's cleanup releases both.
func mountRoot(t *testing.T, dir, img string, part int) string {
	t.Helper()
	dev := loopdev.Attach(t, img, 512)
	if out, err := exec.Command("partx", "-a", dev).CombinedOutput(); err != nil {
		t.Fatalf("partx -a: %v %s", err, out)
	}
	mnt := filepath.Join(dir, "check")
	if err := os.MkdirAll(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	p := dev + "p" + string(rune('0'+part))
	if out, err := exec.Command("mount", "-o", "ro", p, mnt).CombinedOutput(); err != nil {
		t.Fatalf("mount %s: %v %s", p, err, out)
	}
	t.Cleanup(func() { _ = syscall.Unmount(mnt, 0) })
	return mnt
}

func TestEngineConfiguresTheInstalledSystem(t *testing.T) {
	needRoot(t)
	loopdev.RequireTools(t, "sfdisk", "mkfs.xfs", "losetup", "partx", "fusefat")
	dir := t.TempDir()
	img := sparseImage(t, dir, 64<<30)
	target := filepath.Join(dir, "target")
	a := configureAnswers(t, dir, img, "")
	r := runUAI(t, "install", "--demo", "--answers", a, "--progress=json", "--target-dir", target)
	evs, res := events(t, r.stdout)
	if r.code != 0 || res.ExitCode != 0 {
		t.Fatalf("install failed: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	var configured, receipted bool
	for _, e := range evs {
		if e.Type == installer.EventStepFinished && e.Status == installer.StatusOK {
			configured = configured || e.Step == installer.StepConfigure
			receipted = receipted || e.Step == installer.StepReceipt
		}
	}
	if !configured || !receipted {
		t.Fatalf("configure ok %v, receipt ok %v", configured, receipted)
	}
	// A demo never reboots the machine it runs on; it says what it would do.
	var finish *installer.Event
	for i, e := range evs {
		if e.Type == installer.EventStepFinished && e.Step == installer.StepFinish {
			finish = &evs[i]
		}
	}
	if finish == nil || finish.Status != installer.StatusSkipped || !strings.Contains(finish.Reason, "would reboot now") {
		t.Errorf("finish step %+v", finish)
	}
	if !strings.HasPrefix(res.ImageDigest, "sha256:") {
		t.Errorf("result digest %q, want the one bootc recorded", res.ImageDigest)
	}
	if _, err := os.Stat(target + "-keys"); !os.IsNotExist(err) {
		t.Errorf("the root keys file for bootc was left behind (%v)", err)
	}
	if l := loopsFor(t, img); l != "" {
		t.Fatalf("loop device left attached: %s", l)
	}

	mnt := mountRoot(t, dir, img, 3)
	deps, _ := filepath.Glob(filepath.Join(mnt, "ostree/deploy/default/deploy/*.0"))
	if len(deps) != 1 {
		t.Fatalf("deployments %v", deps)
	}
	dep := deps[0]
	read := func(p string) string {
		t.Helper()
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for rel, want := range map[string]string{
		"etc/hostname": "qa-node-01\n", "etc/locale.conf": "LANG=de_DE.UTF-8\n", "etc/vconsole.conf": "KEYMAP=de-nodeadkeys\n",
	} {
		if got := read(filepath.Join(dep, rel)); got != want {
			t.Errorf("%s = %q, want %q", rel, got, want)
		}
	}
	if l, err := os.Readlink(filepath.Join(dep, "etc/localtime")); err != nil || l != "../usr/share/zoneinfo/Europe/Berlin" {
		t.Errorf("localtime -> %q (%v)", l, err)
	}
	passwd, group, shadow := read(filepath.Join(dep, "etc/passwd")), read(filepath.Join(dep, "etc/group")), read(filepath.Join(dep, "etc/shadow"))
	for _, want := range []string{"alice:x:1000:1000:Alice Admin:/var/home/alice:/bin/bash\n", "bob:x:1001:1001::/var/home/bob:/bin/bash\n"} {
		if !strings.Contains(passwd, want) {
			t.Errorf("passwd lacks %q:\n%s", want, passwd)
		}
	}
	if !strings.Contains(group, "wheel:x:10:alice\n") || !strings.Contains(group, "bob:x:1001:\n") {
		t.Errorf("group:\n%s", group)
	}
	if !strings.Contains(shadow, "bob:"+engineBobHash+":") || !strings.Contains(shadow, "\nalice:$6$") || !strings.HasPrefix(shadow, "root:$6$") {
		t.Errorf("shadow:\n%s", shadow)
	}
	keys := filepath.Join(mnt, "ostree/deploy/default/var/home/alice/.ssh/authorized_keys")
	st, err := os.Stat(keys)
	if err != nil {
		t.Fatal(err)
	}
	if sys := st.Sys().(*syscall.Stat_t); st.Mode().Perm() != 0o600 || sys.Uid != 1000 || sys.Gid != 1000 {
		t.Errorf("alice's authorized_keys: mode %v owner %d:%d", st.Mode().Perm(), sys.Uid, sys.Gid)
	}
	if got := read(keys); got != engineAliceKey+"\n" {
		t.Errorf("alice's keys %q", got)
	}
	// Root's keys went through bootc --root-ssh-authorized-keys.
	tmpfiles := read(filepath.Join(dep, "etc/tmpfiles.d/bootc-root-ssh.conf"))
	if !strings.Contains(tmpfiles, base64.StdEncoding.EncodeToString([]byte(engineRootKey+"\n"))) {
		t.Errorf("root keys not handed to bootc:\n%s", tmpfiles)
	}
	entries, _ := filepath.Glob(filepath.Join(mnt, "boot/loader/entries/*.conf"))
	if len(entries) != 1 || !strings.Contains(read(entries[0]), "console=ttyS0,115200") {
		t.Errorf("boot entries %v lack the kernel argument", entries)
	}

	receiptPath := filepath.Join(mnt, "ostree/deploy/default/var/lib/uai/receipt.json")
	receipt := read(receiptPath)
	var rc installer.Receipt
	if err := json.Unmarshal([]byte(receipt), &rc); err != nil {
		t.Fatal(err)
	}
	if rc.ImageDigest != res.ImageDigest || rc.PlanSHA256 != res.PlanSHA256 || rc.Disk.Path != img || len(rc.Command) == 0 ||
		rc.Edition.ID != "fedora-bootc-44" || len(rc.Steps) < 5 || rc.Configure == nil || !rc.Configure.Root.PasswordSet {
		t.Errorf("receipt:\n%s", receipt)
	}
	log := read(filepath.Join(mnt, "ostree/deploy/default/var/log/uai/install.jsonl"))
	if !strings.Contains(log, `"step":"configure"`) {
		t.Errorf("install log lacks the configure step:\n%s", log)
	}
	for name, out := range map[string]string{"stdout": r.stdout, "stderr": r.stderr, "receipt": receipt, "install log": log, "shadow": shadow} {
		for _, s := range []string{engineRootSecret, engineAliceSecret} {
			if strings.Contains(out, s) {
				t.Errorf("%s holds the fixture secret %q", name, s)
			}
		}
	}
	for name, out := range map[string]string{"stdout": r.stdout, "stderr": r.stderr, "receipt": receipt, "install log": log} {
		if strings.Contains(out, "uELPYdXXIWmOdbSg1zDpYtSqU6yKFNCYJDjIyN5glbPXgnWuCMHFgt5") || strings.Contains(out, "$6$") {
			t.Errorf("%s holds a password hash", name)
		}
	}
}

// A root filesystem the image fills to the last block: configure cannot
// write, the install fails with the step's error and the new table is
// wiped so the half-configured system never boots.
func TestEngineDiskFullDuringConfigure(t *testing.T) {
	needRoot(t)
	loopdev.RequireTools(t, "sfdisk", "mkfs.xfs", "losetup", "partx", "fusefat")
	dir := t.TempDir()
	img := sparseImage(t, dir, 64<<30)
	a := configureAnswers(t, dir, img, `root_size = "4GiB"`)
	t.Setenv("UAI_SIM_FILL", "1")
	r := runUAI(t, "install", "--demo", "--answers", a, "--progress=json", "--target-dir", filepath.Join(dir, "target"))
	evs, res := events(t, r.stdout)
	if r.code != 6 || res.Class != "install-failed" {
		t.Fatalf("exit %d result %+v\n%s", r.code, res, r.stderr)
	}
	if !strings.Contains(res.Error, "no space left on device") || !strings.Contains(res.Error, "root filesystem is full; give root more space") {
		t.Errorf("error %q does not say the disk is full", res.Error)
	}
	var failed installer.StepID
	for _, e := range evs {
		if e.Type == installer.EventStepFinished && e.Status == installer.StatusFailed {
			failed = e.Step
		}
	}
	if failed != installer.StepConfigure {
		t.Errorf("failed step %q, want configure", failed)
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
	for _, s := range []string{engineRootSecret, engineAliceSecret, "uELPYdXXIWmOdbSg1zDpYtSqU6yKFNCYJDjIyN5glbPXgnWuCMHFgt5"} {
		if strings.Contains(r.stdout+r.stderr, s) {
			t.Errorf("output holds the fixture secret %q", s)
		}
	}
}
