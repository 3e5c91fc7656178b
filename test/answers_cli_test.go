package test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeSys writes a sysfs tree with one network interface and DMI strings,
// for the facts [[hosts]] entries match.
func fakeSys(t *testing.T, mac, serial, product string) string {
	t.Helper()
	sys := t.TempDir()
	files := map[string]string{
		"class/net/lo/address":           "00:00:00:00:00:00\n",
		"class/net/enp1s0/address":       mac + "\n",
		"class/dmi/id/product_serial":    serial + "\n",
		"class/dmi/id/product_name":      product + "\n",
		"class/dmi/id/sys_vendor":        "QEMU\n",
		"class/dmi/id/product_version":   "pc-q35-7.2\n",
		"class/dmi/id/chassis_asset_tag": "\n",
	}
	for p, c := range files {
		full := filepath.Join(sys, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return sys
}

// One fleet file, three machines: each gets its own overrides, chosen by
// MAC, or by serial and product together.
func TestAnswersFleetHosts(t *testing.T) {
	machines := []struct {
		name, mac, serial, product string
	}{
		{"qa-02", "52:54:00:AA:00:02", "OTHER", "Standard PC (i440FX + PIIX, 1996)"},
		{"qa-03", "52:54:00:bb:bb:bb", "QA-SERIAL-03", "Standard PC (Q35 + ICH9, 2009)"},
		{"unmatched", "52:54:00:bb:bb:bb", "QA-SERIAL-99", "Standard PC (Q35 + ICH9, 2009)"},
	}
	for _, m := range machines {
		t.Run(m.name, func(t *testing.T) {
			sys := fakeSys(t, m.mac, m.serial, m.product)
			got, r := validateOutput(t, sys, "valid/fleet-hosts.toml")
			if r.code != 0 {
				t.Fatalf("exit %d\n%s", r.code, r.stdout)
			}
			checkGolden(t, filepath.Join(answersFixtures, "valid", "fleet-hosts."+m.name+".golden"), got)
		})
	}
	// A host entry whose override breaks a rule fails validation on every
	// machine, matched or not: the fleet file is wrong for that machine.
	bad := writeFile(t, t.TempDir(), "fleet.toml", "version = 1\n[source]\nedition = \"fedora-bootc-44\"\n[disk]\npath = \"/dev/vda\"\n"+
		"[[hosts]]\nmac = \"52:54:00:00:00:09\"\n[hosts.storage]\nfilesystem = \"zfs\"\n")
	r := runUAI(t, "answers", "validate", "--sys-root", t.TempDir(), bad)
	if r.code != 2 || !strings.Contains(r.stdout, `with hosts[0] (mac "52:54:00:00:00:09"): filesystem "zfs" is not supported`) || !strings.Contains(r.stdout, ":9:14:") {
		t.Fatalf("exit %d\n%s", r.code, r.stdout)
	}
}

func TestAnswersValidateJSON(t *testing.T) {
	r := runIn(t, answersFixtures, nil, "answers", "validate", "--json", "--sys-root", t.TempDir(), "invalid/05-unknown-key-in-disk.toml")
	var rep struct {
		Valid    bool
		Files    []string
		Problems []struct {
			File    string
			Line    int
			Column  int
			Key     string
			Message string
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, r.stdout)
	}
	if r.code != 2 || rep.Valid || len(rep.Problems) != 1 {
		t.Fatalf("exit %d %+v", r.code, rep)
	}
	p := rep.Problems[0]
	if p.File != "invalid/05-unknown-key-in-disk.toml" || p.Line != 11 || p.Column != 1 || p.Key != "disk.erase" {
		t.Fatalf("problem %+v", p)
	}
	if r := runIn(t, answersFixtures, nil, "answers", "validate", "--json", "valid/minimal-edition.toml"); r.code != 0 || !strings.Contains(r.stdout, `"valid": true`) {
		t.Fatalf("exit %d %s", r.code, r.stdout)
	}
}

// The schema and the example the binary prints are the ones in docs/.
func TestAnswersSchemaAndExampleCommands(t *testing.T) {
	for cmd, doc := range map[string]string{"schema": "../docs/answers.schema.json", "example": "../docs/answers.example.toml"} {
		want, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		r := runUAI(t, "answers", cmd)
		if r.code != 0 || r.stdout != string(want) {
			t.Errorf("uai answers %s differs from %s (go test ./installer/answers/ -update rewrites the docs)", cmd, doc)
		}
	}
	r := runUAI(t, "answers", "validate", "--sys-root", t.TempDir(), "../docs/answers.example.toml")
	if r.code != 0 {
		t.Fatalf("the documented example does not validate:\n%s", r.stdout)
	}
}

// export writes the answers of a run; validated again (with the secrets
// supplied in a second file) it makes the same plan.
func TestAnswersExportReplays(t *testing.T) {
	dir := t.TempDir()
	img := sparseImage(t, dir, 64<<30)
	a := writeFile(t, dir, "a.toml", `version = 1
confirm = true
[source]
edition = "fedora-bootc-44"
[disk]
path = "`+img+`"
wipe = true
[storage]
filesystem = "btrfs"
[system]
hostname = "replay-01"
timezone = "Europe/Berlin"
[root]
password = "root-pw-FIXTURE-1"
[[users]]
name = "qa"
groups = ["wheel"]
[kernel]
args = ["console=ttyS0"]
[post]
action = "reboot"
`)
	exp := runUAI(t, "answers", "export", "--answers", a, "--sys-root", dir)
	if exp.code != 0 {
		t.Fatalf("export: exit %d %s %s", exp.code, exp.stdout, exp.stderr)
	}
	if strings.Contains(exp.stdout, "root-pw-FIXTURE-1") || !strings.Contains(exp.stdout, `password = "<redacted>"`) {
		t.Fatalf("export leaks or drops the secret:\n%s", exp.stdout)
	}
	exported := writeFile(t, dir, "exported.toml", exp.stdout)
	// Alone, the export refuses to run: its secret is redacted.
	if r := runUAI(t, "answers", "validate", "--sys-root", dir, exported); r.code != 2 || !strings.Contains(r.stdout, "root.password: the secret is redacted") {
		t.Fatalf("a redacted export validated:\n%s", r.stdout)
	}
	secrets := writeFile(t, dir, "secrets.toml", "version = 1\n[root]\npassword = \"root-pw-FIXTURE-1\"\n")
	plan := func(files ...string) string {
		args := []string{"plan", "--demo", "--json", "--sys-root", dir}
		for _, f := range files {
			args = append(args, "--answers", f)
		}
		r := runUAI(t, args...)
		if r.code != 0 {
			t.Fatalf("plan %v: exit %d %s", files, r.code, r.stderr)
		}
		return r.stdout
	}
	if plan(a) != plan(exported, secrets) {
		t.Fatal("the exported answers plan differently from the originals")
	}
	orig := runUAI(t, "answers", "validate", "--sys-root", dir, a)
	again := runUAI(t, "answers", "validate", "--sys-root", dir, exported, secrets)
	if strings.SplitN(orig.stdout, "\n", 2)[1] != strings.SplitN(again.stdout, "\n", 2)[1] {
		t.Fatalf("the effective answers differ:\n%s\n---\n%s", orig.stdout, again.stdout)
	}
}

// Without confirmation nothing is written, and the message says how to
// confirm; uai.autoinstall on the kernel command line confirms.
func TestAnswersConfirmation(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	img := sparseImage(t, dir, 64<<30)
	a := writeFile(t, dir, "a.toml", "version = 1\n[source]\nedition = \"fedora-bootc-44\"\n[disk]\npath = \""+img+"\"\n")
	plain := writeFile(t, dir, "cmdline", "BOOT_IMAGE=/images/pxeboot/vmlinuz root=live:CDLABEL=UAI quiet\n")
	before := contentSum(t, img)
	r := runFast(t, "install", "--demo", "--answers", a, "--cmdline", plain, "--progress=json", "--target-dir", filepath.Join(dir, "t"))
	_, res := events(t, r.stdout)
	if r.code != 8 || res.ExitCode != 8 || res.PlanSHA256 == "" || !strings.Contains(res.Error, "uai.autoinstall") || !strings.Contains(res.Error, "confirm = true") {
		t.Fatalf("exit %d result %+v", r.code, res)
	}
	if contentSum(t, img) != before {
		t.Fatal("an unconfirmed run wrote the disk")
	}
	// uai.autoinstall=0 does not confirm either.
	off := writeFile(t, dir, "cmdline-off", "quiet uai.autoinstall=0\n")
	if r := runFast(t, "install", "--demo", "--answers", a, "--cmdline", off, "--target-dir", filepath.Join(dir, "t")); r.code != 8 {
		t.Fatalf("uai.autoinstall=0 confirmed: exit %d", r.code)
	}
	auto := writeFile(t, dir, "cmdline-auto", "BOOT_IMAGE=/images/pxeboot/vmlinuz quiet uai.autoinstall\n")
	r = runFast(t, "install", "--demo", "--answers", a, "--cmdline", auto, "--progress=json", "--target-dir", filepath.Join(dir, "t"))
	_, res = events(t, r.stdout)
	if r.code != 0 || res.ExitCode != 0 {
		t.Fatalf("uai.autoinstall did not confirm: exit %d %+v\n%s", r.code, res, r.stderr)
	}
	if contentSum(t, img) == before {
		t.Fatal("a confirmed run left the disk as it was")
	}
}

// interactive sections are asked in the TUI: a run without a terminal
// says so instead of guessing.
func TestAnswersInteractiveRefusedUnattended(t *testing.T) {
	dir := t.TempDir()
	img := sparseImage(t, dir, 64<<30)
	a := writeFile(t, dir, "a.toml", "version = 1\nconfirm = true\ninteractive = [\"users\"]\n[source]\nedition = \"fedora-bootc-44\"\n[disk]\npath = \""+img+"\"\n")
	before := contentSum(t, img)
	r := runFast(t, "install", "--demo", "--answers", a, "--target-dir", filepath.Join(dir, "t"))
	if r.code != 2 || !strings.Contains(r.stderr, "asks the TUI for users") {
		t.Fatalf("exit %d %s", r.code, r.stderr)
	}
	if contentSum(t, img) != before {
		t.Fatal("the disk changed")
	}
}

// Answers this uai cannot carry out yet are refused or warned about,
// never silently dropped. (source.catalog is read now: see
// TestCatalogInstallAnswers.)
func TestAnswersNotYetSupported(t *testing.T) {
	dir := t.TempDir()
	img := sparseImage(t, dir, 64<<30)
	base := "version = 1\n[source]\nedition = \"fedora-bootc-44\"\n[disk]\npath = \"" + img + "\"\n"
	cases := []struct {
		name, extra string
		code        int
		want        string
	}{
		{"to-disk", "[storage]\nmethod = \"to-disk\"\n", 2, `storage.method "to-disk" is not supported by this uai yet`},
		{"wifi", "[[network.wifi]]\nssid = \"lab\"\npsk = \"long enough\"\n", 8, "uai: warning: [[network.wifi]]: this uai does not join Wi-Fi from answers yet"},
		{"eject", "[post]\naction = \"reboot\"\neject = true\n", 8, "uai: warning: post.eject"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			text := base + c.extra
			a := writeFile(t, t.TempDir(), "a.toml", text)
			if r := runUAI(t, "answers", "validate", "--sys-root", dir, a); r.code != 0 {
				t.Fatalf("the file itself is valid, but: %s", r.stdout)
			}
			r := runFast(t, "install", "--demo", "--answers", a, "--target-dir", filepath.Join(dir, "t"), "--sys-root", dir)
			if r.code != c.code || !strings.Contains(r.stderr, c.want) {
				t.Fatalf("exit %d, want %d with %q:\n%s", r.code, c.code, c.want, r.stderr)
			}
		})
	}
}
