// Package test holds the tests that need the real uai binary, root, loop
// devices, a terminal or other real components.
package test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/universal-atomic-installer/uai/installer"
)

// uaiBin is the uai binary built once for all tests.
var uaiBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "uai-test-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// Other users (the non-root test) must be able to run it.
	_ = os.Chmod(dir, 0o755)
	uaiBin = filepath.Join(dir, "uai")
	build := exec.Command("go", "build", "-o", uaiBin, "github.com/universal-atomic-installer/uai/cmd/uai")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build uai:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result of one uai run.
type runResult struct {
	code   int
	stdout string
	stderr string
}

func runUAI(t *testing.T, args ...string) runResult {
	t.Helper()
	return runUAIAs(t, nil, args...)
}

func runUAIAs(t *testing.T, cred *syscall.Credential, args ...string) runResult {
	t.Helper()
	cmd := exec.Command(uaiBin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run uai %v: %v", args, err)
	}
	return runResult{code: code, stdout: out.String(), stderr: errb.String()}
}

// events parses JSON-lines output and checks the stream's shape: every
// line is a v1 event, and the last one is the only result record.
func events(t *testing.T, stdout string) ([]installer.Event, installer.Result) {
	t.Helper()
	evs := decodeEvents(t, stdout, "a v1 event", func(e installer.Event) (int, bool, bool) {
		return e.V, e.Type == installer.EventResult, e.Result != nil
	})
	return evs, *evs[len(evs)-1].Result
}

// decodeEvents decodes JSON-lines output strictly (no unknown fields) into
// events of type E and checks the stream's shape: every line of event
// version 1, and the last line the only result record. fields returns an
// event's version, whether it is a result record, and whether it carries
// its result.
func decodeEvents[E any](t *testing.T, stdout, what string, fields func(E) (v int, result, hasResult bool)) []E {
	t.Helper()
	var evs []E
	sc := bufio.NewScanner(strings.NewReader(stdout))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e E
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			t.Fatalf("line is not %s: %v\n%s", what, err, sc.Text())
		}
		if v, _, _ := fields(e); v != installer.EventVersion {
			t.Fatalf("event version %d, want %d: %s", v, installer.EventVersion, sc.Text())
		}
		evs = append(evs, e)
	}
	if len(evs) == 0 {
		t.Fatalf("no events in output")
	}
	if _, result, has := fields(evs[len(evs)-1]); !result || !has {
		t.Fatalf("the last event is not a result record: %+v", evs[len(evs)-1])
	}
	for _, e := range evs[:len(evs)-1] {
		if _, result, _ := fields(e); result {
			t.Fatalf("more than one result record")
		}
	}
	return evs
}

// sparseImage creates a sparse image file of size bytes in dir.
func sparseImage(t *testing.T, dir string, size int64) string {
	t.Helper()
	p := filepath.Join(dir, "disk.img")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return p
}

// contentSum hashes a sparse file by its data extents, so a 64 GiB image
// with a few MiB written is checked in milliseconds. Any byte written
// anywhere creates or changes a data extent and so changes the sum.
func contentSum(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	h := sha256.New()
	fmt.Fprintf(h, "size %d\n", st.Size())
	const seekData, seekHole = 3, 4
	var off int64
	for off < st.Size() {
		data, err := f.Seek(off, seekData)
		if err != nil {
			break // no more data (ENXIO)
		}
		hole, err := f.Seek(data, seekHole)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, hole-data)
		if _, err := f.ReadAt(buf, data); err != nil && err != io.EOF {
			t.Fatal(err)
		}
		// Hash content, not extent boundaries: a filesystem may allocate
		// zeros differently without anything being written.
		trimmed := bytes.TrimRight(buf, "\x00")
		if len(trimmed) > 0 {
			fmt.Fprintf(h, "%d %x\n", data, sha256.Sum256(trimmed))
		}
		off = hole
	}
	return hex.EncodeToString(h.Sum(nil))
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func isRoot() bool { return os.Geteuid() == 0 }

// needRoot skips loudly outside CI and fails in CI, where tests run as root.
func needRoot(t *testing.T) {
	t.Helper()
	if isRoot() {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("CI must run as root: this test needs loop devices and mounts")
	}
	t.Skip("SKIPPED LOUDLY: needs root for loop devices and mounts (CI runs it as root)")
}
