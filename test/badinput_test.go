package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Every kind of bad input gets a precise message, its own exit code, and
// leaves the target disk's bytes exactly as they were.
func TestBadInputTouchesNoDisk(t *testing.T) {
	dir := t.TempDir()
	img := sparseImage(t, dir, 16<<30)
	small := filepath.Join(dir, "small.img")
	if err := os.WriteFile(small, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(small, 1<<30); err != nil {
		t.Fatal(err)
	}
	good := func(extra string) string {
		return "version = 1\nconfirm = true\n[source]\nedition = \"fedora-bootc-44\"\n[disk]\npath = \"" + img + "\"\n" + extra
	}
	cases := []struct {
		name    string
		answers string
		args    []string
		disk    string
		code    int
		want    []string
	}{
		{name: "malformed toml", answers: "version = = 1\n", code: 2, want: []string{"1:11", "TOML syntax"}},
		{name: "unknown key", answers: good("wipe_everything = true\n"), code: 2, want: []string{"7:1", `unknown key "disk.wipe_everything"`}},
		{name: "wrong type", answers: "version = 1\nconfirm = \"yes\"\n[source]\nedition = \"fedora-bootc-44\"\n[disk]\npath = \"x\"\n", code: 2, want: []string{"2:11", "expected true or false"}},
		{name: "every problem at once", answers: "version = 2\n[disk]\nwipe = true\n[storage]\nfilesystem = \"fat\"\n", code: 2,
			want: []string{"4 problems", "version = 1", "source.edition", "disk.path", `filesystem "fat"`}},
		{name: "unknown edition", answers: strings.Replace(good(""), "fedora-bootc-44", "fedora-nope", 1), code: 2, want: []string{`edition "fedora-nope" is not in the catalog`, "pick one of"}},
		{name: "shell metacharacters in image", answers: "version = 1\nconfirm = true\n[source]\nimage = \"quay.io/x/y:1;rm -rf /\"\n[disk]\npath = \"" + img + "\"\n", code: 2, want: []string{"image", ";"}},
		{name: "missing disk", answers: strings.Replace(good(""), img, filepath.Join(dir, "nope.img"), 1), code: 3, want: []string{"nope.img does not exist"}},
		{name: "disk too small", answers: strings.Replace(good(""), img, small, 1), disk: small, code: 3, want: []string{"too small", "1 GiB", "needs 10 GiB"}},
		{name: "not confirmed", answers: strings.Replace(good(""), "confirm = true", "confirm = false", 1), code: 8, want: []string{"not confirmed", "confirm = true"}},
		{name: "unknown flag", args: []string{"install", "--demo", "--frobnicate"}, code: 2, want: []string{"unknown flag: --frobnicate"}},
		{name: "expected plan hash differs", answers: good("") + "", args: nil, code: 2, want: []string{"expects"}},
	}
	cases[len(cases)-1].answers = strings.Replace(good(""), "confirm = true", "confirm = true\nexpect_plan_sha256 = \""+strings.Repeat("ab", 32)+"\"", 1)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			disk := tc.disk
			if disk == "" {
				disk = img
			}
			before := contentSum(t, disk)
			args := tc.args
			if args == nil {
				a := writeFile(t, t.TempDir(), "answers.toml", tc.answers)
				args = []string{"install", "--demo", "--answers", a, "--target-dir", filepath.Join(dir, "target")}
			}
			r := runUAI(t, args...)
			if r.code != tc.code {
				t.Fatalf("exit code %d, want %d\nstdout: %s\nstderr: %s", r.code, tc.code, r.stdout, r.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			if after := contentSum(t, disk); after != before {
				t.Fatalf("the disk image changed although the input was refused")
			}
			if _, err := os.Stat(filepath.Join(dir, "target")); err == nil {
				t.Fatalf("a target directory was created although the input was refused")
			}
		})
	}
}

// With --progress=json a refused run still ends with exactly one result
// record that carries the class and exit code.
func TestBadInputJSONResult(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, dir, "a.toml", "version = 1\nconfirm = true\n[source]\nedition = \"fedora-bootc-44\"\n[disk]\npath = \""+filepath.Join(dir, "missing.img")+"\"\n")
	r := runUAI(t, "install", "--demo", "--answers", a, "--progress=json")
	if r.code != 3 {
		t.Fatalf("exit %d, want 3: %s %s", r.code, r.stdout, r.stderr)
	}
	_, res := events(t, r.stdout)
	if res.ExitCode != 3 || res.Class != "disk-refused" || !strings.Contains(res.Error, "missing.img") {
		t.Fatalf("result %+v", res)
	}
}

// Without --demo a missing podman is an environment error found before
// any disk is touched.
func TestMissingPodmanWithoutDemo(t *testing.T) {
	if p, err := exec.LookPath("podman"); err == nil {
		t.Skipf("SKIPPED LOUDLY: podman is installed here (%s); this test needs a machine without it", p)
	}
	dir := t.TempDir()
	img := sparseImage(t, dir, 64<<30)
	before := contentSum(t, img)
	a := writeFile(t, dir, "a.toml", "version = 1\nconfirm = true\n[source]\nedition = \"fedora-bootc-44\"\n[disk]\npath = \""+img+"\"\n")
	r := runUAI(t, "install", "--answers", a, "--target-dir", filepath.Join(dir, "target"))
	if r.code != 4 || !strings.Contains(r.stderr, "podman (Debian package podman)") || !strings.Contains(r.stderr, "--demo") {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if contentSum(t, img) != before {
		t.Fatal("the disk image changed although a program was missing")
	}
}
