package answers

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/universal-atomic-installer/uai/partition"
)

const valid = `version = 1
confirm = true
expect_plan_sha256 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

[source]
edition = "fedora-bootc-44"
target_ref = "quay.io/fedora/fedora-bootc:44"

[disk]
path = "/dev/disk/by-id/nvme-x"
wipe = true
preserve_on_error = true

[storage]
filesystem = "btrfs"
`

const edKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJwb8uu/ZTvQUXRGTuvR8EV3f236J5kMnW+NO11WLIfi qa@fixture"

func TestParseValid(t *testing.T) {
	a, rep := Parse([]byte(valid))
	if !rep.OK() {
		t.Fatalf("problems: %v", rep)
	}
	want := Answers{Version: 1, Confirm: true, ExpectPlanSHA256: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		Source:  Source{Edition: "fedora-bootc-44", TargetRef: "quay.io/fedora/fedora-bootc:44"},
		Disk:    Disk{Selector: partition.Selector{Path: "/dev/disk/by-id/nvme-x"}, Wipe: true, PreserveOnError: true},
		Storage: Storage{Filesystem: "btrfs"}}
	if !reflect.DeepEqual(*a, want) {
		t.Fatalf("got %+v\nwant %+v", *a, want)
	}
}

// Each invalid file fails for its one named reason, with a position where
// the file has one.
func TestParseProblems(t *testing.T) {
	cases := []struct {
		name, in string
		want     []string // substrings of the one problem's String()
	}{
		{"syntax", "version = = 1\n", []string{"1:11:", "TOML syntax"}},
		{"unclosed table", "version = 1\n[disk\n", []string{"2:", "TOML syntax"}},
		{"unknown top-level key", strings.Replace(valid, "confirm = true", "confirm = true\nyes = true", 1), []string{"3:1:", `unknown key "yes"`}},
		{"unknown nested key", strings.Replace(valid, "wipe = true", "wipe = true\nerase = true", 1), []string{"12:1:", `unknown key "disk.erase"`}},
		{"typo", strings.Replace(valid, "wipe = true", "wipr = true", 1), []string{"11:1:", `unknown key "disk.wipr"`, `did you mean "wipe"?`}},
		{"unknown table", valid + "[networking]\nwifi = \"x\"\n", []string{"16:2:", `unknown key "networking"`}},
		{"string for bool", strings.Replace(valid, "confirm = true", `confirm = "true"`, 1), []string{"2:11:", "expected true or false, found a TOML string"}},
		{"int for string", strings.Replace(valid, `path = "/dev/disk/by-id/nvme-x"`, "path = 7", 1), []string{"10:8:", "expected a string, found a TOML integer"}},
		{"string for int", strings.Replace(valid, "version = 1", `version = "1"`, 1), []string{"1:11:", "expected a whole number"}},
		{"date for string", strings.Replace(valid, `filesystem = "btrfs"`, "filesystem = 1979-05-27", 1), []string{"15:14:", "found a TOML date"}},
		{"list element type", valid + "[kernel]\nargs = [\"quiet\", 3]\n", []string{"17:18:", "kernel.args[1]", "expected a string"}},
		{"wrong version", strings.Replace(valid, "version = 1", "version = 2", 1), []string{"1:11:", "version = 1"}},
		{"no version", strings.Replace(valid, "version = 1\n", "", 1), []string{"version is missing"}},
		{"nothing to install", strings.Replace(valid, "edition = \"fedora-bootc-44\"\n", "", 1), []string{"source", "uai catalog list"}},
		{"edition and image", strings.Replace(valid, "edition = \"fedora-bootc-44\"", "edition = \"fedora-bootc-44\"\nimage = \"quay.io/a/b:1\"", 1), []string{"7:9:", "both set"}},
		{"no disk", strings.Replace(valid, `path = "/dev/disk/by-id/nvme-x"`, "", 1), []string{"9:2:", "disk.path", "uai disks"}},
		{"bad filesystem", strings.Replace(valid, `"btrfs"`, `"zfs"`, 1), []string{"15:14:", "storage.filesystem", `"zfs"`, "xfs, ext4 or btrfs"}},
		{"bad plan hash", strings.Replace(valid, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "abc", 1), []string{"expect_plan_sha256", "64 lowercase hex"}},
		{"upper-case plan hash", strings.Replace(valid, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", strings.Repeat("AB", 32), 1), []string{"expect_plan_sha256"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, rep := Parse([]byte(c.in))
			if len(rep.Problems) != 1 {
				t.Fatalf("want exactly one problem, got %d: %v", len(rep.Problems), rep)
			}
			if a != nil {
				t.Fatal("answers returned with a problem")
			}
			got := rep.Problems[0].String()
			for _, w := range c.want {
				if !strings.Contains(got, w) {
					t.Errorf("problem %q lacks %q", got, w)
				}
			}
		})
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	in := "version = 3\ncolour = \"blue\"\n[disk]\nwipe = true\n[storage]\nfilesystem = \"fat\"\n[[users]]\nname = \"Bob\"\nuid = \"x\"\n"
	_, rep := Parse([]byte(in))
	// version, unknown key, source, disk, filesystem, user name, uid type;
	// no second problem for the mistyped uid.
	if len(rep.Problems) != 7 {
		t.Fatalf("want 7 problems, got %d:\n%v", len(rep.Problems), rep)
	}
	if !strings.HasPrefix(rep.Error(), "answer file has 7 problems:") {
		t.Fatalf("report text: %s", rep.Error())
	}
	for i := 1; i < len(rep.Problems); i++ {
		if rep.Problems[i].Line < rep.Problems[i-1].Line {
			t.Fatalf("problems are not in file order:\n%v", rep)
		}
	}
}

func TestLoadNamesTheFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "a.toml")
	if err := os.WriteFile(p, []byte("version = = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, rep, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(rep.Problems[0].String(), p+":1:11:") {
		t.Fatalf("problem does not start with file:line:col: %s", rep.Problems[0])
	}
	if _, _, err := Load(filepath.Join(t.TempDir(), "missing.toml")); err == nil {
		t.Fatal("a missing file must be an error")
	}
	big := filepath.Join(t.TempDir(), "big.toml")
	if err := os.WriteFile(big, make([]byte, MaxSizeBytes+1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Load(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("an oversize file: %v", err)
	}
}

// The field table, the structs and the encoder agree: every struct field
// is in the table and the other way round, and every key survives an
// encode-parse round trip.
func TestFieldTableMatchesStructs(t *testing.T) {
	var check func(typ reflect.Type, o *object, path string)
	check = func(typ reflect.Type, o *object, path string) {
		tags := map[string]reflect.Type{}
		var collect func(reflect.Type)
		collect = func(typ reflect.Type) {
			for i := 0; i < typ.NumField(); i++ {
				f := typ.Field(i)
				if f.Anonymous {
					collect(f.Type)
					continue
				}
				tag, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
				tags[tag] = f.Type
			}
		}
		collect(typ)
		for _, f := range o.fields {
			ft, ok := tags[f.name]
			if !ok {
				if f.name == "hosts" && o == answersObject {
					continue
				}
				t.Errorf("%s: the table has %q, the struct %s does not", path, f.name, typ)
				continue
			}
			delete(tags, f.name)
			switch f.kind {
			case kindObject:
				check(ft, f.obj, join(path, f.name))
			case kindObjectList:
				check(ft.Elem(), f.obj, join(path, f.name))
			}
		}
		for tag := range tags {
			t.Errorf("%s: the struct %s has %q, the table does not", path, typ, tag)
		}
	}
	check(reflect.TypeOf(Answers{}), answersObject, "")
}

func TestExampleRoundTrips(t *testing.T) {
	c := Compose([]Input{{Name: "example", Data: Example()}}, Facts{MACs: []string{"52:54:00:12:34:56"}})
	if !c.Report.OK() {
		t.Fatalf("the example is invalid:\n%v", c.Report)
	}
	if len(c.Hosts) != 1 || c.Answers.System.Hostname != "lab-node-07" || c.Answers.Disk.Serial != "S5GXNX0R654321" {
		t.Fatalf("the [[hosts]] entry did not apply: %v %+v", c.Hosts, c.Answers.System)
	}
	again, rep := Parse(Encode(c.Answers))
	if !rep.OK() {
		t.Fatalf("the encoded answers do not parse:\n%v\n%s", rep, Encode(c.Answers))
	}
	if !reflect.DeepEqual(again, c.Answers) {
		t.Fatalf("round trip changed the answers:\n%+v\n%+v", again, c.Answers)
	}
}

// Composition: tables merge key by key, later files win, arrays are
// replaced whole, and every problem names the file that set the key.
func TestComposeLaterWins(t *testing.T) {
	base := Input{Name: "base.toml", Data: []byte(`version = 1
[source]
edition = "fedora-bootc-44"
[disk]
path = "/dev/vda"
[system]
hostname = "base"
timezone = "UTC"
[kernel]
args = ["quiet", "splash"]
[[users]]
name = "alice"
`)}
	lab := Input{Name: "lab.toml", Data: []byte(`version = 1
confirm = true
[system]
hostname = "lab"
[kernel]
args = ["console=ttyS0"]
[[users]]
name = "bob"
[storage]
filesystem = "zfs"
`)}
	c := Compose([]Input{base, lab}, Facts{})
	if len(c.Report.Problems) != 1 || c.Report.Problems[0].File != "lab.toml" || c.Report.Problems[0].Line != 10 {
		t.Fatalf("want one problem in lab.toml:10, got %v", c.Report)
	}
	lab.Data = []byte(strings.Replace(string(lab.Data), `filesystem = "zfs"`, `filesystem = "ext4"`, 1))
	c = Compose([]Input{base, lab}, Facts{})
	if !c.Report.OK() {
		t.Fatal(c.Report)
	}
	a := c.Answers
	if a.System.Hostname != "lab" || a.System.Timezone != "UTC" || !a.Confirm || a.Source.Edition != "fedora-bootc-44" {
		t.Errorf("tables did not merge key by key: %+v", a)
	}
	if !reflect.DeepEqual(a.Kernel.Args, []string{"console=ttyS0"}) || len(a.Users) != 1 || a.Users[0].Name != "bob" {
		t.Errorf("arrays were not replaced whole: %v %v", a.Kernel.Args, a.Users)
	}
	// A rule about a key reports the file the effective value came from.
	bad := Input{Name: "bad.toml", Data: []byte("version = 1\n[system]\ntimezone = \"Mars/Olympus\"\n")}
	c = Compose([]Input{base, lab, bad}, Facts{})
	if len(c.Report.Problems) != 1 || c.Report.Problems[0].File != "bad.toml" || c.Report.Problems[0].Line != 3 {
		t.Fatalf("want the problem in bad.toml:3, got %v", c.Report)
	}
}

func TestHostsOverrides(t *testing.T) {
	in := []Input{{Name: "fleet.toml", Data: []byte(`version = 1
[source]
edition = "fedora-bootc-44"
[disk]
path = "/dev/vda"
[system]
hostname = "default"
[[hosts]]
mac = "52:54:00:00:00:01"
[hosts.system]
hostname = "by-mac"
[[hosts]]
product = "ThinkPad T14*"
[hosts.system]
hostname = "by-product"
[hosts.disk]
path = "/dev/nvme0n1"
[[hosts]]
serial = "SER-1"
product = "ThinkPad T14 Gen 3"
[hosts.system]
hostname = "by-serial-and-product"
`)}}
	cases := []struct {
		facts          Facts
		hostname, disk string
		hosts          int
	}{
		{Facts{}, "default", "/dev/vda", 0},
		{Facts{MACs: []string{"aa:bb:cc:dd:ee:ff", "52-54-00-00-00-01"}}, "by-mac", "/dev/vda", 1},
		{Facts{Product: "ThinkPad T14 Gen 3"}, "by-product", "/dev/nvme0n1", 1},
		// Entries apply in order; a later one wins over an earlier one.
		{Facts{Serial: "SER-1", Product: "ThinkPad T14 Gen 3", MACs: []string{"52:54:00:00:00:01"}}, "by-serial-and-product", "/dev/nvme0n1", 3},
		// Every match key of an entry must match.
		{Facts{Serial: "SER-1", Product: "Dell"}, "default", "/dev/vda", 0},
	}
	for i, c := range cases {
		res := Compose(in, c.facts)
		if !res.Report.OK() {
			t.Fatalf("#%d: %v", i, res.Report)
		}
		if res.Answers.System.Hostname != c.hostname || res.Answers.Disk.Path != c.disk || len(res.Hosts) != c.hosts {
			t.Errorf("#%d: hostname %q disk %q hosts %v", i, res.Answers.System.Hostname, res.Answers.Disk.Path, res.Hosts)
		}
	}
}

func TestRedactedAndSecrets(t *testing.T) {
	a, rep := Parse([]byte(`version = 1
[source]
edition = "fedora-bootc-44"
[disk]
path = "/dev/vda"
[storage.encryption]
enabled = true
passphrase = "luks secret"
[root]
password = "root secret"
[[users]]
name = "qa"
password_hash = "$6$fixture.salt$6y9r.uaLxsnyfh/wO2ZBlXigJ1.erIBSiGicJsZN5VyuoA1IfMpUi3EGviWUWbS/wXxYEN0RCIo6BmJwUMwIg1"
ssh_authorized_keys = ["` + edKey + `"]
[[network.wifi]]
ssid = "lab"
psk = "wifi secret"
[reporting]
url = "https://user:pw-token@hooks.example.com/t/abcdefgh123?key=querytoken"
[reporting.headers]
Authorization = "Bearer header-token"
`))
	if !rep.OK() {
		t.Fatal(rep)
	}
	red := string(Encode(a.Redacted()))
	for _, s := range []string{"luks secret", "root secret", "$6$fixture", "wifi secret", "pw-token", "abcdefgh123", "querytoken", "header-token"} {
		if strings.Contains(red, s) {
			t.Errorf("the redacted answers hold %q:\n%s", s, red)
		}
	}
	for _, s := range []string{"hooks.example.com", edKey, `ssid = "lab"`} {
		if !strings.Contains(red, s) {
			t.Errorf("the redacted answers lost %q, which is not secret:\n%s", s, red)
		}
	}
	secrets := a.Secrets()
	text := "bootc said: luks secret; curl https://user:pw-token@hooks.example.com/t/abcdefgh123?key=querytoken failed; root secret"
	if got := RedactText(text, secrets); strings.Contains(got, "secret") && strings.Contains(got, "luks") || strings.Contains(got, "querytoken") || strings.Contains(got, "pw-token") {
		t.Errorf("RedactText left a secret: %s", got)
	}
	if a.Root.Password != "root secret" {
		t.Fatal("Redacted changed the original")
	}
}

func TestIsKickstart(t *testing.T) {
	cases := []struct {
		name, data string
		want       bool
	}{
		{"a.toml", "bootc --source-imgref=x", false},
		{"ks.cfg", "version = 1", true},
		{"https://host/path/bootc.ks?token=x", "", true},
		{"answers", "# comment\n\nversion = 1\n", false},
		{"answers", "[source]\n", false},
		{"answers", "# kickstart\ntext\nbootc --source-imgref=registry:quay.io/x/y:1\n", true},
		{"answers", "network --hostname=x\n", true},
		{"answers", "bootloader --append=\"a=b\"\n", true},
	}
	for _, c := range cases {
		if got := IsKickstart(c.name, []byte(c.data)); got != c.want {
			t.Errorf("IsKickstart(%q, %q) = %v", c.name, c.data, got)
		}
	}
}

func TestCheckSSHKey(t *testing.T) {
	if err := CheckSSHKey(edKey); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "ssh-ed25519", "ssh-ed25519 !!!", "ssh-dss AAAA", "ecdsa AAAA x", "ssh-rsa " + strings.Fields(edKey)[1]} {
		if CheckSSHKey(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(valid))
	f.Add(Example())
	f.Add([]byte("version = 1\n[disk]\npath = 3\n"))
	f.Add([]byte("[[x]]\n"))
	f.Add([]byte("version = = 1"))
	f.Add([]byte("version = 1\n[[hosts]]\nmac = \"52:54:00:00:00:01\"\n[hosts.system]\nhostname = 1\n"))
	f.Add([]byte("a = { b = [ { c = [1, {d = 2}] } ] }\n[users]\nx.y.z = 1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, rep := Parse(data)
		if rep.OK() != (a != nil) {
			t.Fatal("answers are returned exactly when there are no problems")
		}
		for _, p := range rep.Problems {
			if p.Message == "" {
				t.Fatal("problem without a message")
			}
		}
		if a != nil {
			// What parses clean encodes to a file that parses to the same.
			b, rep2 := Parse(Encode(a))
			if !rep2.OK() || !reflect.DeepEqual(a, b) {
				t.Fatalf("round trip: %v\n%s", rep2, Encode(a))
			}
		}
	})
}
