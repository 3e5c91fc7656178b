package host

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// A tool that is a shell, so the tests run real processes.
const sh Tool = "sh"

func TestExecStreamsLinesAndKeepsStderrTail(t *testing.T) {
	ex := &Exec{}
	var mu sync.Mutex
	var got []string
	script := `echo out1; echo err1 >&2; echo out2; echo "error: it broke" >&2; exit 3`
	err := ex.Run(context.Background(), Command{Tool: sh, Args: []string{"-c", script}}, func(s Stream, l string) {
		mu.Lock()
		got = append(got, string(s)+":"+l)
		mu.Unlock()
	})
	var ee *ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("want ExitError, got %v", err)
	}
	if ee.Code != 3 || !strings.Contains(ee.Stderr, "err1") || ee.Error() != "sh exited with status 3: error: it broke" {
		t.Fatalf("exit error %+v: %q", ee, ee.Error())
	}
	joined := strings.Join(got, ",")
	for _, w := range []string{"stdout:out1", "stdout:out2", "stderr:err1", "stderr:error: it broke"} {
		if !strings.Contains(joined, w) {
			t.Errorf("lines lack %q: %s", w, joined)
		}
	}
}

func TestExecStdinEnvDir(t *testing.T) {
	dir := t.TempDir()
	var out []string
	err := (&Exec{}).Run(context.Background(), Command{Tool: sh, Args: []string{"-c", `read x; echo "$x $UAI_T $(pwd)"`},
		Stdin: []byte("hello\n"), Env: []string{"UAI_T=v"}, Dir: dir}, func(s Stream, l string) { out = append(out, l) })
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || out[0] != "hello v "+dir {
		t.Fatalf("got %q", out)
	}
}

func TestExecNotFoundNamesThePackage(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	err := (&Exec{}).Run(context.Background(), Command{Tool: "uai-no-such-tool"}, nil)
	var nf *NotFoundError
	if !errors.As(err, &nf) || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("got %v", err)
	}
	_, err = (&Exec{}).Resolve(MkfsFat)
	if err != nil && !strings.Contains(err.Error(), "Debian package dosfstools") {
		t.Fatalf("message does not name the package: %v", err)
	}
}

func TestExecPathsOverride(t *testing.T) {
	ex := &Exec{Paths: map[Tool][]string{Podman: {"/bin/sh", "-c", `echo "$0 $@"`, "sim"}}}
	var out []string
	if err := ex.Run(context.Background(), Command{Tool: Podman, Args: []string{"run", "x"}}, func(s Stream, l string) { out = append(out, l) }); err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || out[0] != "sim run x" {
		t.Fatalf("got %q", out)
	}
}

// Cancelling kills the whole process group, children included, so a hung
// program cannot outlive the install.
func TestExecCancelKillsProcessGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	ctx, cancel := context.WithCancel(context.Background())
	ex := &Exec{KillGrace: 500 * time.Millisecond}
	done := make(chan error, 1)
	go func() {
		done <- ex.Run(ctx, Command{Tool: sh, Args: []string{"-c", `sleep 60 & echo $! > ` + pidFile + `; wait`}}, nil)
	}()
	deadline := time.Now().Add(5 * time.Second)
	var pid []byte
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(pidFile); err == nil && len(b) > 0 {
			pid = b
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if pid == nil {
		t.Fatal("child never started")
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("want context.Canceled, got %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	child := "/proc/" + strings.TrimSpace(string(pid))
	for i := 0; i < 100; i++ {
		if b, err := os.ReadFile(child + "/stat"); err != nil || strings.Contains(string(b), ") Z ") {
			return // gone or a zombie waiting for init
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the child process %s survived the cancel", child)
}

func TestCommandStringRedactsAndQuotes(t *testing.T) {
	c := Command{Tool: "cryptsetup", Args: []string{"luksFormat", "--key-file", "hunter2", "/dev/sda 3", "it's"}, Secret: []int{2}}
	got := c.String()
	want := `cryptsetup luksFormat --key-file <redacted> '/dev/sda 3' 'it'\''s'`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if strings.Contains(got, "hunter2") {
		t.Fatal("secret leaked")
	}
	for in, want := range map[string]string{"": "''", "a-b_c./:=@,+%": "a-b_c./:=@,+%", "a;b": "'a;b'", "$(x)": "'$(x)'"} {
		if got := ShellQuote(in); got != want {
			t.Errorf("ShellQuote(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRecorderRecordsAndResponds(t *testing.T) {
	r := &Recorder{Respond: func(c Command, on LineFunc) error {
		on(Stdout, "/dev/loop7")
		if c.Tool == Umount {
			return errors.New("busy")
		}
		return nil
	}}
	var line string
	if err := r.Run(context.Background(), Command{Tool: Losetup, Args: []string{"--find", "--show", "x.img"}}, func(s Stream, l string) { line = l }); err != nil {
		t.Fatal(err)
	}
	if err := r.Run(context.Background(), Command{Tool: Umount, Args: []string{"/t"}}, func(Stream, string) {}); err == nil {
		t.Fatal("respond error not returned")
	}
	if line != "/dev/loop7" || strings.Join(r.Lines(), "|") != "losetup --find --show x.img|umount /t" {
		t.Fatalf("line %q, lines %q", line, r.Lines())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.Run(ctx, Command{Tool: Sync}, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: %v", err)
	}
}
