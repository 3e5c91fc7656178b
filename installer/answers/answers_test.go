package answers

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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

func TestParseValid(t *testing.T) {
	a, rep := Parse([]byte(valid))
	if !rep.OK() {
		t.Fatalf("problems: %v", rep)
	}
	want := Answers{Version: 1, Confirm: true, ExpectPlanSHA256: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		Source:  Source{Edition: "fedora-bootc-44", TargetRef: "quay.io/fedora/fedora-bootc:44"},
		Disk:    Disk{Path: "/dev/disk/by-id/nvme-x", Wipe: true, PreserveOnError: true},
		Storage: Storage{Filesystem: "btrfs"}}
	if *a != want {
		t.Fatalf("got %+v\nwant %+v", *a, want)
	}
}

// Each invalid file fails for its one named reason, with a position where
// the TOML has one.
func TestParseProblems(t *testing.T) {
	cases := []struct {
		name, in string
		want     []string // substrings of the one problem's String()
	}{
		{"syntax", "version = = 1\n", []string{"1:11:", "TOML syntax"}},
		{"unclosed table", "version = 1\n[disk\n", []string{"2:", "TOML syntax"}},
		{"unknown top-level key", strings.Replace(valid, "confirm = true", "confirm = true\nyes = true", 1), []string{"3:1:", `unknown key "yes"`}},
		{"unknown nested key", strings.Replace(valid, "wipe = true", "wipe = true\nerase = true", 1), []string{"12:1:", `unknown key "disk.erase"`}},
		{"unknown table", valid + "[network]\nwifi = \"x\"\n", []string{`unknown key "network`}},
		{"string for bool", strings.Replace(valid, "confirm = true", `confirm = "true"`, 1), []string{"2:11:", "expected true or false, found a TOML string"}},
		{"int for string", strings.Replace(valid, `path = "/dev/disk/by-id/nvme-x"`, "path = 7", 1), []string{"10:8:", "expected a string, found a TOML integer"}},
		{"string for int", strings.Replace(valid, "version = 1", `version = "1"`, 1), []string{"1:11:", "expected a whole number"}},
		{"wrong version", strings.Replace(valid, "version = 1", "version = 2", 1), []string{"version", "version = 1"}},
		{"no version", strings.Replace(valid, "version = 1\n", "", 1), []string{"version is 0"}},
		{"nothing to install", strings.Replace(valid, "edition = \"fedora-bootc-44\"\n", "", 1), []string{"source", "uai catalog list"}},
		{"edition and image", strings.Replace(valid, "edition = \"fedora-bootc-44\"", "edition = \"fedora-bootc-44\"\nimage = \"quay.io/a/b:1\"", 1), []string{"both set"}},
		{"no disk", strings.Replace(valid, `path = "/dev/disk/by-id/nvme-x"`, "", 1), []string{"disk.path", "uai disks"}},
		{"bad filesystem", strings.Replace(valid, `"btrfs"`, `"zfs"`, 1), []string{"storage.filesystem", `"zfs"`, "xfs, ext4 or btrfs"}},
		{"bad plan hash", strings.Replace(valid, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "abc", 1), []string{"expect_plan_sha256", "64 hex"}},
		{"upper-case plan hash", strings.Replace(valid, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", strings.Repeat("AB", 32), 1), []string{"expect_plan_sha256"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, rep := Parse([]byte(c.in))
			if len(rep.Problems) != 1 {
				t.Fatalf("want exactly one problem, got %d: %v", len(rep.Problems), rep)
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
	in := "version = 3\ncolour = \"blue\"\n[disk]\nwipe = true\n[storage]\nfilesystem = \"fat\"\n"
	_, rep := Parse([]byte(in))
	if len(rep.Problems) != 5 {
		t.Fatalf("want 5 problems (version, unknown key, source, disk.path, filesystem), got %d:\n%v", len(rep.Problems), rep)
	}
	if !strings.HasPrefix(rep.Error(), "answer file has 5 problems:") {
		t.Fatalf("report text: %s", rep.Error())
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
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(valid))
	f.Add([]byte("version = 1\n[disk]\npath = 3\n"))
	f.Add([]byte("[[x]]\n"))
	f.Add([]byte("version = = 1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, rep := Parse(data)
		if rep.OK() && a == nil {
			t.Fatal("no problems but no answers")
		}
		for _, p := range rep.Problems {
			if p.Message == "" {
				t.Fatal("problem without a message")
			}
		}
	})
}
