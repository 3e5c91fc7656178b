package installer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-crypt/crypt/algorithm/shacrypt"
)

const testCsum = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// fakeDeployment lays out what bootc leaves in the physical root: one
// deployment with an origin, its /etc accounts, the image's /usr/lib/group
// (wheel lives there on Fedora) and the stateroot's /var.
func fakeDeployment(t *testing.T, zoneinfo bool) (phys, dep string) {
	t.Helper()
	phys = t.TempDir()
	sr := filepath.Join(phys, "ostree", "deploy", "default")
	dep = filepath.Join(sr, "deploy", testCsum+".0")
	files := map[string]string{
		"etc/passwd":    "root:x:0:0:Super User:/root:/bin/bash\nbin:x:1:1:bin:/bin:/usr/sbin/nologin\nold:x:1000:1000::/var/home/old:/bin/bash\n",
		"etc/group":     "root:x:0:\nbin:x:1:\nold:x:1000:\n",
		"etc/shadow":    "root:!locked::0:99999:7:::\nbin:*:20000:0:99999:7:::\nold:!:20000:0:99999:7:::\n",
		"usr/lib/group": "root:x:0:\nwheel:x:10:\n",
	}
	if zoneinfo {
		files["usr/share/zoneinfo/Europe/Berlin"] = "TZif"
	}
	for name, content := range files {
		p := filepath.Join(dep, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(dep+".origin", []byte("[origin]\ncontainer-image-reference=ostree-unverified-registry:quay.io/fedora/fedora-bootc:44\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(sr, "var"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(phys, ".bootc-aleph.json"), []byte(`{"digest":"sha256:abc","image":"quay.io/fedora/fedora-bootc:44"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return phys, dep
}

const (
	rootSecret = "root-Sekr1t-fixture"
	userSecret = "alice-Sekr1t-fixture"
)

func configRequest() Request {
	return Request{
		System: SystemRequest{Hostname: "qa-node-01", Timezone: "Europe/Berlin", Locale: "de_DE.UTF-8", Keymap: "de-nodeadkeys"},
		Root:   RootRequest{Password: rootSecret, SSHAuthorizedKeys: []string{"ssh-ed25519 AAAAroot root@qa"}},
		Users: []UserRequest{
			{Name: "alice", GECOS: "Alice A", Groups: []string{"wheel"}, Password: userSecret, SSHAuthorizedKeys: []string{"ssh-ed25519 AAAAalice alice@qa"}},
			{Name: "bob", UID: 1500, PasswordHash: "$6$salt$hashhashhash"},
		},
	}
}

func newTestRun(t *testing.T, phys string, cfg *PlanConfig) (*run, *Collector) {
	t.Helper()
	c := &Collector{}
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	e := &Engine{Now: func() time.Time { return clock }, Version: "1.2.3-test", AnswersSHA256: "feed"}
	p := &Plan{Version: PlanVersion, TargetDir: phys, TargetRef: "quay.io/fedora/fedora-bootc:44", Configure: cfg,
		Edition: PlanEdition{ID: "fedora-bootc-44", Image: "quay.io/fedora/fedora-bootc:44"}, Method: "to-filesystem", Runner: "podman"}
	return &run{e: e, p: p, sink: c, start: clock}, c
}

func TestConfigureWritesSystemAccountsAndHomes(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("chown of the new home needs root")
		}
		t.Skip("SKIPPED LOUDLY: chown of the new home needs root")
	}
	phys, dep := fakeDeployment(t, true)
	cfg, err := resolveConfig(configRequest(), nil)
	if err != nil {
		t.Fatal(err)
	}
	r, col := newTestRun(t, phys, cfg)
	if err := r.configure(); err != nil {
		t.Fatal(err)
	}
	read := func(rel string) string {
		b, err := os.ReadFile(filepath.Join(dep, rel))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for rel, want := range map[string]string{
		"etc/hostname": "qa-node-01\n", "etc/locale.conf": "LANG=de_DE.UTF-8\n", "etc/vconsole.conf": "KEYMAP=de-nodeadkeys\n",
	} {
		if got := read(rel); got != want {
			t.Errorf("%s = %q, want %q", rel, got, want)
		}
	}
	if l, err := os.Readlink(filepath.Join(dep, "etc/localtime")); err != nil || l != "../usr/share/zoneinfo/Europe/Berlin" {
		t.Errorf("localtime -> %q (%v)", l, err)
	}
	passwd := read("etc/passwd")
	// uid 1000 is taken by "old", so alice gets 1001; bob keeps his 1500.
	for _, want := range []string{"alice:x:1001:1001:Alice A:/var/home/alice:/bin/bash\n", "bob:x:1500:1500::/var/home/bob:/bin/bash\n", "old:x:1000:1000:"} {
		if !strings.Contains(passwd, want) {
			t.Errorf("passwd lacks %q:\n%s", want, passwd)
		}
	}
	group := read("etc/group")
	if !strings.Contains(group, "wheel:x:10:alice\n") || !strings.Contains(group, "alice:x:1001:\n") {
		t.Errorf("group:\n%s", group)
	}
	shadow := read("etc/shadow")
	if st, _ := os.Stat(filepath.Join(dep, "etc/shadow")); st.Mode().Perm() != 0 {
		t.Errorf("shadow mode %v, want 0000", st.Mode().Perm())
	}
	if strings.Contains(shadow, rootSecret) || strings.Contains(shadow, userSecret) {
		t.Fatal("a plain password reached /etc/shadow")
	}
	fields := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(shadow), "\n") {
		f := strings.Split(l, ":")
		if len(f) != 9 {
			t.Fatalf("shadow line %q has %d fields", l, len(f))
		}
		fields[f[0]] = f[1]
	}
	for name, pw := range map[string]string{"root": rootSecret, "alice": userSecret} {
		if !strings.HasPrefix(fields[name], "$6$") {
			t.Fatalf("%s: hash %q is not SHA-512 crypt", name, fields[name])
		}
		d, err := shacrypt.Decode(fields[name])
		if err != nil || !d.Match(pw) {
			t.Errorf("%s: hash does not verify the password (%v)", name, err)
		}
	}
	if fields["bob"] != "$6$salt$hashhashhash" || fields["old"] != "!" || fields["bin"] != "*" {
		t.Errorf("shadow fields %v", fields)
	}
	home := filepath.Join(phys, "ostree/deploy/default/var/home/alice")
	for path, mode := range map[string]os.FileMode{home: 0o700, home + "/.ssh": 0o700, home + "/.ssh/authorized_keys": 0o600} {
		st, err := os.Lstat(path)
		if err != nil {
			t.Fatal(err)
		}
		sys := st.Sys().(*syscall.Stat_t)
		if st.Mode().Perm() != mode || sys.Uid != 1001 || sys.Gid != 1001 {
			t.Errorf("%s: mode %v owner %d:%d, want %v 1001:1001", path, st.Mode().Perm(), sys.Uid, sys.Gid, mode)
		}
	}
	if b, _ := os.ReadFile(home + "/.ssh/authorized_keys"); string(b) != "ssh-ed25519 AAAAalice alice@qa\n" {
		t.Errorf("authorized_keys %q", b)
	}
	if _, err := os.Stat(filepath.Join(phys, "ostree/deploy/default/var/home/bob/.ssh")); !os.IsNotExist(err) {
		t.Errorf("bob has no keys, yet .ssh exists (%v)", err)
	}
	for _, ev := range col.Snapshot() {
		if strings.Contains(ev.Line, "Sekr1t") || strings.Contains(ev.Line, "$6$") {
			t.Errorf("event leaks a secret: %+v", ev)
		}
	}
}

func TestConfigureRefusesWhatTheImageLacks(t *testing.T) {
	cases := []struct {
		name string
		req  Request
		want string
	}{
		{"zone not in tzdata", Request{System: SystemRequest{Timezone: "Mars/Olympus"}}, `timezone "Mars/Olympus" is not in the image's tz database`},
		{"group missing", Request{Users: []UserRequest{{Name: "carol", Groups: []string{"docker"}}}}, "user carol: group docker does not exist in the image"},
		{"user exists", Request{Users: []UserRequest{{Name: "old"}}}, "user old already exists in the image"},
		{"uid taken", Request{Users: []UserRequest{{Name: "dave", UID: 1000}}}, "user dave: uid 1000 is taken in the image"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			phys, dep := fakeDeployment(t, true)
			before, _ := os.ReadFile(filepath.Join(dep, "etc/passwd"))
			cfg, err := resolveConfig(c.req, nil)
			if err != nil {
				t.Fatal(err)
			}
			r, _ := newTestRun(t, phys, cfg)
			err = r.configure()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
			if after, _ := os.ReadFile(filepath.Join(dep, "etc/passwd")); string(after) != string(before) {
				t.Errorf("passwd changed by a refused configuration:\n%s", after)
			}
		})
	}
}

func TestResolveConfigValidates(t *testing.T) {
	cases := []struct {
		name string
		req  Request
		want string
	}{
		{"hostname", Request{System: SystemRequest{Hostname: "bad_host!"}}, `hostname "bad_host!" is not valid`},
		{"zone escapes", Request{System: SystemRequest{Timezone: "../../etc/shadow"}}, "is not a zone name"},
		{"locale", Request{System: SystemRequest{Locale: "en US"}}, `locale "en US" is not valid`},
		{"keymap", Request{System: SystemRequest{Keymap: "us;rm"}}, `keymap "us;rm" is not valid`},
		{"locked and password", Request{Root: RootRequest{Locked: true, Password: "x"}}, "root is both locked and given a password"},
		{"bad hash", Request{Root: RootRequest{PasswordHash: "plaintext"}}, "root: the password hash is not a crypt(3) string"},
		{"both", Request{Users: []UserRequest{{Name: "a", Password: "x", PasswordHash: "$6$a$b"}}}, "user a has both a password and a password hash"},
		{"user root", Request{Users: []UserRequest{{Name: "root"}}}, `user "root" cannot be created`},
		{"user twice", Request{Users: []UserRequest{{Name: "a"}, {Name: "a"}}}, `user "a" is given twice`},
		{"uid low", Request{Users: []UserRequest{{Name: "a", UID: 5}}}, "uid 5 is outside the range"},
		{"bad name", Request{Users: []UserRequest{{Name: "Alice"}}}, `user name "Alice" is not valid`},
		{"gecos colon", Request{Users: []UserRequest{{Name: "a", GECOS: "a:b"}}}, "full name contains ':'"},
		{"key lines", Request{Root: RootRequest{SSHAuthorizedKeys: []string{"a\nb"}}}, "root: ssh key 1 is empty or spans lines"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := resolveConfig(c.req, nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
			if ClassOf(err) != ClassInvalidInput {
				t.Errorf("class %v, want invalid input", ClassOf(err))
			}
			if strings.Contains(err.Error(), "plaintext") {
				t.Error("the error echoes the secret hash")
			}
		})
	}
	if cfg, err := resolveConfig(Request{}, nil); err != nil || cfg != nil {
		t.Errorf("empty request: %v, %v; want nil, nil", cfg, err)
	}
}

func TestFilterKargs(t *testing.T) {
	keep, dropped, err := FilterKargs([]string{"quiet", "rd.live.image", "inst.ks=http://x", "uai.answers=/a", "root=live:CDLABEL=UAI", "BOOT_IMAGE=/vmlinuz", "console=ttyS0,115200", "rd.luks.uuid=x", "root=UUID=1"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(keep, " ") != "quiet console=ttyS0,115200 rd.luks.uuid=x root=UUID=1" {
		t.Errorf("kept %q", keep)
	}
	if strings.Join(dropped, " ") != "rd.live.image inst.ks=http://x uai.answers=/a root=live:CDLABEL=UAI BOOT_IMAGE=/vmlinuz" {
		t.Errorf("dropped %q", dropped)
	}
	for _, bad := range []string{"a b", `x="y"`, "=v", ""} {
		if _, _, err := FilterKargs([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// The plan records that passwords are set, never what they are, so
// neither its JSON, its text nor its hash depend on a secret.
func TestPlanKeepsSecretsOut(t *testing.T) {
	cfg, err := resolveConfig(configRequest(), []string{"rd.live.image"})
	if err != nil {
		t.Fatal(err)
	}
	p := &Plan{Configure: cfg}
	for _, out := range []string{string(p.JSON()), p.Text()} {
		for _, s := range []string{rootSecret, userSecret, "hashhashhash"} {
			if strings.Contains(out, s) {
				t.Errorf("plan output holds a secret %q:\n%s", s, out)
			}
		}
	}
	var back struct {
		Configure struct {
			Root  PlanRoot   `json:"root"`
			Users []PlanUser `json:"users"`
		} `json:"configure"`
	}
	if err := json.Unmarshal(p.JSON(), &back); err != nil {
		t.Fatal(err)
	}
	if !back.Configure.Root.PasswordSet || !back.Configure.Users[1].PasswordSet {
		t.Errorf("password_set not recorded: %+v", back.Configure)
	}
	other := configRequest()
	other.Root.Password = "something else"
	cfg2, _ := resolveConfig(other, []string{"rd.live.image"})
	if (&Plan{Configure: cfg2}).SHA256() != p.SHA256() {
		t.Error("the plan hash depends on the root password")
	}
	if !strings.Contains(p.Text(), "Not kept  installer-only kernel arguments: rd.live.image") {
		t.Errorf("text does not explain the dropped karg:\n%s", p.Text())
	}
}

func TestReceiptIsWrittenWithoutSecrets(t *testing.T) {
	phys, _ := fakeDeployment(t, true)
	cfg, err := resolveConfig(Request{Root: RootRequest{Password: rootSecret}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := newTestRun(t, phys, cfg)
	r.emit(Event{Type: EventPlan})
	if err := r.step(t.Context(), StepConfigure, "configure", r.configure); err != nil {
		t.Fatal(err)
	}
	if err := r.writeReceipt(); err != nil {
		t.Fatal(err)
	}
	varDir := filepath.Join(phys, "ostree/deploy/default/var")
	b, err := os.ReadFile(filepath.Join(varDir, "lib/uai/receipt.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rc Receipt
	if err := json.Unmarshal(b, &rc); err != nil {
		t.Fatal(err)
	}
	if rc.UAIVersion != "1.2.3-test" || rc.ImageDigest != "sha256:abc" || rc.AnswersSHA256 != "feed" || rc.Stateroot != "default" ||
		rc.Deployment != testCsum+".0" || len(rc.Steps) != 1 || rc.Steps[0].Step != StepConfigure || !rc.Configure.Root.PasswordSet {
		t.Errorf("receipt %+v", rc)
	}
	if r.digest != "sha256:abc" {
		t.Errorf("result digest %q", r.digest)
	}
	log, err := os.ReadFile(filepath.Join(varDir, "log/uai/install.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), `"type":"plan"`) || !strings.Contains(string(log), `"step":"configure"`) {
		t.Errorf("install log:\n%s", log)
	}
	for _, out := range [][]byte{b, log} {
		if strings.Contains(string(out), rootSecret) || strings.Contains(string(out), "$6$") {
			t.Errorf("secret in %s", out)
		}
	}
}

// Replacing a file keeps its label: the rename makes a new inode.
func TestWriteAtomicKeepsTheLabel(t *testing.T) {
	old := keptXattrs
	keptXattrs = []string{"user.uai-test"}
	t.Cleanup(func() { keptXattrs = old })
	path := filepath.Join(t.TempDir(), "shadow")
	if err := os.WriteFile(path, []byte("root:x:::::::\n"), 0o000); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Setxattr(path, "user.uai-test", []byte("system_u:object_r:shadow_t:s0"), 0); err != nil {
		t.Skipf("SKIPPED LOUDLY: this filesystem keeps no user xattrs: %v", err)
	}
	if err := writeAtomic(path, []byte("root:!*:::::::\n"), 0o000); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 128)
	n, err := syscall.Getxattr(path, "user.uai-test", buf)
	if err != nil || string(buf[:n]) != "system_u:object_r:shadow_t:s0" {
		t.Errorf("label after replace: %q %v", buf[:max(n, 0)], err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0 {
		t.Errorf("mode %v", st.Mode().Perm())
	}
}

// The plan of a configured install: the configure section, the root keys
// file handed to bootc (with its bind mount), the user's kernel argument
// and the finish action; no secret.
func TestResolveGoldenConfigured(t *testing.T) {
	req := configRequest()
	req.EditionID, req.DiskPath, req.Arch = "fedora-bootc-44", "/dev/disk/by-id/nvme-Example_SSD_S123", "amd64"
	req.Kargs = []string{"console=ttyS0,115200", "rd.live.image"}
	req.Post.Action = "reboot"
	p, err := Resolve(req, testDisks(), testCatalog())
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "plan-configured.json", p.JSON())
	golden(t, "plan-configured.txt", []byte(p.Text()))
}

// A plan read back from its JSON has no passwords: configure refuses it
// instead of creating accounts without them.
func TestConfigureRefusesAPlanThatLostItsSecrets(t *testing.T) {
	phys, _ := fakeDeployment(t, false)
	cfg, err := resolveConfig(Request{Users: []UserRequest{{Name: "carol", Password: "x"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var back Plan
	if err := json.Unmarshal((&Plan{Configure: cfg}).JSON(), &back); err != nil {
		t.Fatal(err)
	}
	r, _ := newTestRun(t, phys, back.Configure)
	if err := r.configure(); err == nil || !strings.Contains(err.Error(), "carries none") {
		t.Fatalf("err %v", err)
	}
}
