package sim

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/universal-atomic-installer/uai/installer/bootc"
)

type bufCloser struct {
	bytes.Buffer
	closed bool
}

func (b *bufCloser) Close() error { b.closed = true; return nil }

func bootedEnv(t *testing.T, knobs map[string]string) Env {
	t.Helper()
	env := fakeEnv(t, knobs)
	env.StateDir = t.TempDir()
	if err := SeedBootedHost(env.StateDir, testImage); err != nil {
		t.Fatal(err)
	}
	return env
}

// TestSwitchProgressJSONLines checks the event sequence of bootc.md §7.
func TestSwitchProgressJSONLines(t *testing.T) {
	env := bootedEnv(t, nil)
	var got *bufCloser
	var gotFd int
	env.OpenFD = func(fd int) (io.WriteCloser, error) { gotFd = fd; got = &bufCloser{}; return got, nil }
	const next = "quay.io/fedora/fedora-bootc:43"
	r := runSim("bootc", env, "switch", "--progress-fd=3", next)
	if r.code != 0 {
		t.Fatal(r)
	}
	golden(t, "switch.stdout", r.stdout)
	if gotFd != 3 || got == nil || !got.closed {
		t.Fatalf("progress fd %d, writer %v", gotFd, got)
	}
	var lines []map[string]any
	var raw []string
	sc := bufio.NewScanner(&got.Buffer)
	for sc.Scan() {
		raw = append(raw, sc.Text())
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		lines = append(lines, m)
		// Canonical JSON: re-marshalling a map sorts keys the same way.
		if again, _ := json.Marshal(m); string(again) != sc.Text() {
			t.Errorf("not canonical JSON:\n%s\n%s", sc.Text(), again)
		}
	}
	if raw[0] != `{"type":"Start","version":"0.1.0"}` {
		t.Errorf("first line %s", raw[0])
	}
	var types []string
	var lastBytes, prevBytes float64
	for _, m := range lines[1:] {
		typ := m["type"].(string) + ":" + m["task"].(string)
		if len(types) == 0 || types[len(types)-1] != typ {
			types = append(types, typ)
		}
		if m["type"] == "ProgressBytes" {
			b := m["bytes"].(float64)
			if b < prevBytes {
				t.Errorf("bytes went backwards: %v after %v", b, prevBytes)
			}
			prevBytes, lastBytes = b, b
			if m["id"] != ImageDigest(next) || m["description"] != "Pulling Image: "+ImageDigest(next) {
				t.Errorf("bytes event id/description: %v", m)
			}
			for _, st := range m["subtasks"].([]any) {
				kind := st.(map[string]any)["subtask"]
				if kind != "ostree chunk" && kind != "layer" {
					t.Errorf("subtask %v", kind)
				}
			}
			if total := m["bytesTotal"].(float64); lastBytes > total {
				t.Errorf("bytes %v > total %v", lastBytes, total)
			}
		}
	}
	if strings.Join(types, " ") != "ProgressBytes:pulling ProgressSteps:importing ProgressSteps:staging" {
		t.Errorf("event order %q", types)
	}
	lastPull := lines[len(lines)-7]
	if lastPull["bytes"] != lastPull["bytesTotal"] || lastPull["steps"] != lastPull["stepsTotal"] {
		t.Errorf("pull did not finish: %v", lastPull)
	}
	var staging []string
	for _, m := range lines {
		if m["task"] == "staging" {
			subs := m["subtasks"].([]any)
			cur := subs[len(subs)-1].(map[string]any)
			staging = append(staging, strconv.Itoa(int(m["steps"].(float64)))+":"+cur["subtask"].(string)+":"+strconv.FormatBool(cur["completed"].(bool)))
		}
	}
	want := "0:merging:false 1:deploying:false 1:bound_images:false 2:cleanup:false 3:cleanup:true"
	if strings.Join(staging, " ") != want {
		t.Errorf("staging steps %q, want %q", strings.Join(staging, " "), want)
	}
	if final := lines[len(lines)-1]; len(final["subtasks"].([]any)) != 5 {
		t.Errorf("final event repeats cleanup as bootc does: %v", final)
	}

	st := runSim("bootc", env, "status", "--format=json")
	if !strings.Contains(st.stdout, `"staged":{`) || !strings.Contains(st.stdout, `"spec":{"bootOrder":"default","image":{"image":"`+next+`"`) {
		t.Errorf("status after switch: %s", st.stdout)
	}
	if r := runSim("bootc", env, "switch", next); r.stdout != "Image specification is unchanged.\n" || r.code != 0 {
		t.Errorf("second switch: %s", r)
	}
}

func TestSwitchErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  func(t *testing.T) Env
		args []string
		want string
	}{
		{"not booted", func(t *testing.T) Env { return fakeEnv(t, nil) }, nil, "error: Switching: System not booted via bootc\n"},
		{"in a container", func(t *testing.T) Env { e := bootedEnv(t, nil); e.InContainer = true; return e }, nil,
			"error: Switching: Detected container; this command requires a booted host system.\n"},
		{"not root", func(t *testing.T) Env { e := bootedEnv(t, nil); e.Getuid = func() int { return 1000 }; return e }, nil,
			"error: Switching: Querying root privilege: This command must be executed as the root user\n"},
		{"bad transport", func(t *testing.T) Env { return bootedEnv(t, nil) }, []string{"--transport", "ftp"},
			"error: Switching: Switching (ostree): Invalid transport: ftp\n"},
		{"bad image name", func(t *testing.T) Env { return bootedEnv(t, nil) }, []string{"quay.io/x;reboot"},
			"error: Switching: Switching (ostree): Pulling: Creating importer: failed to invoke method OpenImage: Invalid image name \"quay.io/x;reboot\": invalid reference format\n"},
		{"closed fd", func(t *testing.T) Env { return bootedEnv(t, nil) }, []string{"--progress-fd", "999"},
			"error: Switching: Switching (ostree): Bad file descriptor (os error 9)\n"},
		{"pull failure", func(t *testing.T) Env { return bootedEnv(t, map[string]string{"UAI_SIM_FAIL": "pull"}) }, nil,
			"error: Switching: Switching (ostree): Pulling: simulated failure (UAI_SIM_FAIL=pull)\n"},
		{"stage failure", func(t *testing.T) Env { return bootedEnv(t, map[string]string{"UAI_SIM_FAIL": "stage"}) }, nil,
			"error: Switching: Switching (ostree): Staging: simulated failure (UAI_SIM_FAIL=stage)\n"},
		{"unknown stage", func(t *testing.T) Env { return bootedEnv(t, map[string]string{"UAI_SIM_FAIL": "deploy"}) }, nil,
			`UAI_SIM_FAIL="deploy" names no stage of this command`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append([]string{"switch"}, tc.args...), "quay.io/fedora/fedora-bootc:43")
			if tc.name == "bad image name" {
				args = append([]string{"switch"}, tc.args...)
			}
			r := runSim("bootc", tc.env(t), args...)
			expect(t, r, 1, tc.want)
			if strings.Contains(r.stdout, "Queued for next boot") {
				t.Error("failed switch queued a deployment")
			}
		})
	}
}

func TestSwitchApplyAndSignedPolicy(t *testing.T) {
	env := bootedEnv(t, nil)
	r := runSim("bootc", env, "switch", "--apply", "--enforce-container-sigpolicy", "quay.io/fedora/fedora-bootc:43")
	expect(t, r, 0, "Queued for next boot: ostree-image-signed:docker://quay.io/fedora/fedora-bootc:43\n  Version: 43\n  Digest: sha256:")
	st := runSim("bootc", env, "status", "--format=json").stdout
	for _, w := range []string{
		`"booted":{"cachedUpdate":null,"composefs":null,"downloadOnly":false,"image":{"architecture":"` + ociArch() + `","image":{"image":"quay.io/fedora/fedora-bootc:43","signature":"containerPolicy","transport":"registry"}`,
		`"rollback":{"cachedUpdate":null`, `"staged":null`, `"deploySerial":1`,
	} {
		if !strings.Contains(st, w) {
			t.Errorf("status after --apply lacks %s:\n%s", w, st)
		}
	}
}

// TestSwitchProgressFdMustBeAPipe exercises the real fd handling.
func TestSwitchProgressFdMustBeAPipe(t *testing.T) {
	env := bootedEnv(t, nil)
	env.OpenFD = nil // the default: this process's fd

	f, err := os.CreateTemp(t.TempDir(), "notapipe")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	expect(t, runSim("bootc", env, "switch", "--progress-fd", strconv.Itoa(int(f.Fd())), "quay.io/x/y:1"), 1, "error: Switching: Switching (ostree): not a pipe\n")

	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	expect(t, runSim("bootc", env, "switch", "--progress-fd", strconv.Itoa(int(pr.Fd())), "quay.io/x/y:1"), 1, "not in O_WRONLY or O_RDWR access mode")

	// The simulator closes the fd it is given, as bootc does; hand it a
	// duplicate so the test's own *os.File stays valid.
	dup, err := syscall.Dup(int(pw.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	lines := make(chan []string)
	go func() {
		var got []string
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			got = append(got, sc.Text())
			if strings.Contains(sc.Text(), `"steps":3,"stepsCached":0,"stepsTotal":3`) {
				break
			}
		}
		lines <- got
	}()
	r := runSim("bootc", env, "switch", "--progress-fd="+strconv.Itoa(dup), "quay.io/x/y:1")
	expect(t, r, 0, "Queued for next boot: quay.io/x/y:1\n")
	select {
	case got := <-lines:
		if len(got) < 10 || got[0] != `{"type":"Start","version":"0.1.0"}` {
			t.Errorf("pipe got %q", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no progress on the pipe")
	}
	if err := syscall.Fstat(dup, &syscall.Stat_t{}); err == nil {
		t.Error("the simulator left the progress fd open")
	}
}

func TestSwitchMutateInPlace(t *testing.T) {
	tg := newTarget(t)
	expect(t, runSim("bootc", tg.env(t, nil), "install", "to-filesystem", tg.root), 0)

	env := fakeEnv(t, nil)
	env.InContainer = true // works without a booted host: Anaconda %post
	if err := os.Symlink(tg.root, filepath.Join(env.Root, "sysroot")); err != nil {
		t.Fatal(err)
	}
	r := runSim("bootc", env, "switch", "--mutate-in-place", "--transport", "registry", "quay.io/fedora/fedora-bootc:43")
	want := "Updated " + CommitChecksum(testImage) + ".0 to pull from ostree-unverified-registry:quay.io/fedora/fedora-bootc:43\n"
	if r.code != 0 || r.stdout != want {
		t.Errorf("got %s\nwant %s", r, want)
	}
	d, err := bootc.FindDeployment(tg.root)
	if err != nil || d.Origin.Image != "quay.io/fedora/fedora-bootc:43" {
		t.Errorf("origin after mutate-in-place: %+v, %v", d.Origin, err)
	}

	expect(t, runSim("bootc", fakeEnv(t, nil), "switch", "--mutate-in-place", "quay.io/x:1"), 1,
		"error: Switching: No such file or directory (os error 2)\n")
	empty := fakeEnv(t, nil)
	mustMkdir(t, filepath.Join(empty.Root, "sysroot/ostree/deploy/default"))
	expect(t, runSim("bootc", empty, "switch", "--mutate-in-place", "quay.io/x:1"), 1, "error: Switching: Failed to find a deployment\n")
	mustMkdir(t, filepath.Join(empty.Root, "sysroot/ostree/deploy/default/deploy"))
	expect(t, runSim("bootc", empty, "switch", "--mutate-in-place", "quay.io/x:1"), 1, "error: Switching: No deployment directory found\n")
}
