package sim

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const testImage = "quay.io/fedora/fedora-bootc:42"

// result is one simulated invocation.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\n--- stdout\n%s--- stderr\n%s", r.code, r.stdout, r.stderr)
}

// fakeEnv is a hermetic environment: uid 0, no delay, knobs from a map
// rather than the real environment.
func fakeEnv(t *testing.T, knobs map[string]string) Env {
	t.Helper()
	return Env{
		Getuid:        func() int { return 0 },
		MountInfoPath: writeMountInfo(t, nil),
		Version:       DefaultBootcVersion,
		Now:           func() time.Time { return time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC) },
		Getenv:        func(k string) string { return knobs[k] },
		UUIDOf:        func(src string) (string, bool) { u, ok := testUUIDs[src]; return u, ok },
		Kernel:        "6.1.0-test-amd64",
		Root:          t.TempDir(),
		// An empty containers-storage: never this machine's.
		GraphRoot: filepath.Join(t.TempDir(), "storage"),
	}
}

var testUUIDs = map[string]string{
	"/dev/vda3": "2e9f4241-229b-4202-8429-62d2302382e1",
	"/dev/vda2": "0e2f8c4e-8d6a-4f5b-9b51-3c1f2a7d9e10",
	"/dev/vda1": "7A1B-2C3D",
}

func runSim(tool string, env Env, args ...string) result {
	var out, errb bytes.Buffer
	env.Stdout, env.Stderr = &out, &errb
	code := Main(tool, args, env)
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

type mountLine struct{ point, fstype, source, opts string }

// writeMountInfo writes a mountinfo file with the host root plus the given
// mounts; no real mount is made.
func writeMountInfo(t *testing.T, mounts []mountLine) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n")
	for i, m := range mounts {
		opts := m.opts
		if opts == "" {
			opts = "rw,seclabel"
		}
		point := strings.ReplaceAll(m.point, " ", `\040`)
		fmt.Fprintf(&b, "%d 22 252:%d / %s rw,relatime shared:%d - %s %s %s\n", 100+i, i, point, 10+i, m.fstype, m.source, opts)
	}
	p := filepath.Join(t.TempDir(), "mountinfo")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// target is a prepared to-filesystem target: ROOT (xfs on /dev/vda3),
// ROOT/boot (ext4 on /dev/vda2) and ROOT/boot/efi (vfat on /dev/vda1),
// as uai mounts them.
type target struct {
	root      string
	mountinfo string
}

type targetOpt func(*targetSpec)

type targetSpec struct {
	rootFS, rootOpts string
	separateBoot     bool
	esp              bool
	bootDir          bool
	extraMounts      []mountLine
}

func withRootFS(fs, opts string) targetOpt {
	return func(s *targetSpec) { s.rootFS, s.rootOpts = fs, opts }
}
func withoutSeparateBoot() targetOpt {
	return func(s *targetSpec) { s.separateBoot, s.esp = false, false }
}
func withoutBootDir() targetOpt {
	return func(s *targetSpec) { s.separateBoot, s.esp, s.bootDir = false, false, false }
}
func withMount(rel, fs string) targetOpt {
	return func(s *targetSpec) {
		s.extraMounts = append(s.extraMounts, mountLine{point: rel, fstype: fs, source: "/dev/vdb1"})
	}
}

func newTarget(t *testing.T, opts ...targetOpt) target {
	t.Helper()
	spec := targetSpec{rootFS: "xfs", separateBoot: true, esp: true, bootDir: true}
	for _, o := range opts {
		o(&spec)
	}
	root := filepath.Join(t.TempDir(), "target")
	mounts := []mountLine{{point: root, fstype: spec.rootFS, source: "/dev/vda3", opts: spec.rootOpts}}
	if spec.bootDir {
		mustMkdir(t, filepath.Join(root, "boot"))
	} else {
		mustMkdir(t, root)
	}
	if spec.separateBoot {
		mounts = append(mounts, mountLine{point: filepath.Join(root, "boot"), fstype: "ext4", source: "/dev/vda2"})
	}
	if spec.esp {
		mustMkdir(t, filepath.Join(root, "boot", "efi"))
		mounts = append(mounts, mountLine{point: filepath.Join(root, "boot", "efi"), fstype: "vfat", source: "/dev/vda1"})
	}
	for _, m := range spec.extraMounts {
		m.point = filepath.Join(root, m.point)
		mustMkdir(t, m.point)
		mounts = append(mounts, m)
	}
	return target{root: root, mountinfo: writeMountInfo(t, mounts)}
}

// env returns fakeEnv reading this target's mount table, as bootc inside
// the documented podman run of testImage.
func (tg target) env(t *testing.T, knobs map[string]string) Env {
	e := fakeEnv(t, knobs)
	e.MountInfoPath = tg.mountinfo
	e.InContainer = true
	e.Image = testImage
	return e
}

func mustMkdir(t *testing.T, p string) {
	t.Helper()
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
}

func mustWrite(t *testing.T, p, content string) {
	t.Helper()
	mustMkdir(t, filepath.Dir(p))
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// golden compares got with testdata/NAME, or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		mustWrite(t, path, got)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden %s: %v (run go test -update to create it)", path, err)
	}
	if got != string(want) {
		t.Errorf("%s differs from golden (run go test -update after checking):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// expect checks exit code and that each want string is in stdout+stderr.
func expect(t *testing.T, r result, code int, wants ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit %d, want %d\n%s", r.code, code, r)
	}
	all := r.stdout + r.stderr
	for _, w := range wants {
		if !strings.Contains(all, w) {
			t.Errorf("output lacks %q\n%s", w, r)
		}
	}
}

// treeFiles lists every path under root, relative to it, in walk order.
func treeFiles(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel != "." {
			out = append(out, rel)
		}
		return nil
	})
	return out
}
