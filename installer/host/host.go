// Package host is the only package that runs external programs: a Runner
// interface with exec, dry-run and recording implementations.
package host

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Stream names the output stream a line came from.
type Stream string

// The two streams of a child process.
const (
	Stdout Stream = "stdout"
	Stderr Stream = "stderr"
)

// Command is one program invocation. Name is a logical tool name from
// tools.go (Tool constants); the Runner resolves it to a binary path.
type Command struct {
	Tool Tool
	Args []string
	// Env is added to the runner's environment (KEY=VALUE).
	Env []string
	// Dir is the working directory; empty means the current one.
	Dir string
	// Secret lists indexes into Args whose values must never be printed.
	Secret []int
	// Stdin, when set, is fed to the program.
	Stdin []byte
	// ExtraFiles become the program's fds 3, 4, ... (as in os/exec), e.g.
	// the write end of a pipe for bootc's --progress-fd. The caller keeps
	// them and closes its copies once Run has returned, which is when a
	// reader of the pipe sees EOF.
	ExtraFiles []*os.File
}

// String renders the command for logs and plans, secrets redacted, each
// argument quoted when it holds shell-special characters.
func (c Command) String() string {
	return strings.Join(append([]string{string(c.Tool)}, c.PrintableArgs()...), " ")
}

// PrintableArgs returns Args with secrets redacted and shell quoting applied.
func (c Command) PrintableArgs() []string {
	out := make([]string, len(c.Args))
	for i, a := range c.Args {
		if containsInt(c.Secret, i) {
			out[i] = "<redacted>"
			continue
		}
		out[i] = ShellQuote(a)
	}
	return out
}

func containsInt(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// ShellQuote quotes s for a POSIX shell when it needs quoting.
func ShellQuote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@,+%", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// LineFunc receives each output line of a running command as it arrives.
type LineFunc func(stream Stream, line string)

// Runner runs a Command to completion. onLine may be nil.
type Runner interface {
	Run(ctx context.Context, c Command, onLine LineFunc) error
}

// ExitError is returned when a program ran and exited non-zero. It keeps
// the tail of stderr so callers can show the program's own words.
type ExitError struct {
	Command  string
	Code     int
	Stderr   string // last lines of stderr
	Signaled bool
}

func (e *ExitError) Error() string {
	msg := strings.TrimSpace(e.Stderr)
	if i := strings.LastIndex(msg, "\n"); i >= 0 {
		msg = msg[i+1:]
	}
	if e.Signaled {
		return fmt.Sprintf("%s was killed: %s", e.Command, msg)
	}
	if msg == "" {
		return fmt.Sprintf("%s exited with status %d", e.Command, e.Code)
	}
	return fmt.Sprintf("%s exited with status %d: %s", e.Command, e.Code, msg)
}

// NotFoundError is returned when a tool's binary is not installed.
type NotFoundError struct {
	Tool Tool
	Path string
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("program %q not found (looked for %s); install it (Debian package %s) or put it on PATH", e.Tool, e.Path, e.Tool.Package())
}

// Exec runs programs for real. Paths overrides the binary for a tool (for
// the demo, which runs the built-in simulator instead of bootc/podman).
type Exec struct {
	// Paths maps a tool to argv prefix replacing the tool name; e.g.
	// {"podman": {"/proc/self/exe", "simulate", "podman"}}.
	Paths map[Tool][]string
	// KillGrace is how long a cancelled program gets between SIGTERM and SIGKILL.
	KillGrace time.Duration
}

// Resolve returns the argv prefix that runs tool t.
func (e *Exec) Resolve(t Tool) ([]string, error) {
	if p, ok := e.Paths[t]; ok && len(p) > 0 {
		return p, nil
	}
	path, err := exec.LookPath(string(t))
	if err != nil {
		// sbin is not always on a user's PATH, but the tools live there.
		for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin"} {
			cand := dir + "/" + string(t)
			if st, serr := os.Stat(cand); serr == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
				return []string{cand}, nil
			}
		}
		return nil, &NotFoundError{Tool: t, Path: "PATH, /usr/sbin, /sbin"}
	}
	return []string{path}, nil
}

// Run implements Runner.
func (e *Exec) Run(ctx context.Context, c Command, onLine LineFunc) error {
	argv, err := e.Resolve(c.Tool)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, argv[0], append(argv[1:], c.Args...)...)
	cmd.Env = append(os.Environ(), c.Env...)
	cmd.Dir = c.Dir
	if c.Stdin != nil {
		cmd.Stdin = bytes.NewReader(c.Stdin)
	}
	cmd.ExtraFiles = c.ExtraFiles
	grace := e.KillGrace
	if grace == 0 {
		grace = 5 * time.Second
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = grace
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", c.Tool, err)
	}
	tail := &tailBuffer{max: 50}
	var wg sync.WaitGroup
	var mu sync.Mutex
	emit := func(s Stream, line string) {
		mu.Lock()
		defer mu.Unlock()
		if s == Stderr {
			tail.add(line)
		}
		if onLine != nil {
			onLine(s, line)
		}
	}
	wg.Add(2)
	go func() { defer wg.Done(); scanLines(stdout, Stdout, emit) }()
	go func() { defer wg.Done(); scanLines(stderr, Stderr, emit) }()
	wg.Wait()
	err = cmd.Wait()
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", c.Tool, ctx.Err())
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		ws, _ := ee.Sys().(syscall.WaitStatus)
		return &ExitError{Command: string(c.Tool), Code: ee.ExitCode(), Stderr: tail.String(), Signaled: ws.Signaled()}
	}
	return fmt.Errorf("%s: %w", c.Tool, err)
}

func scanLines(r io.Reader, s Stream, emit func(Stream, string)) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		emit(s, sc.Text())
	}
}

type tailBuffer struct {
	max   int
	lines []string
}

func (t *tailBuffer) add(l string) {
	t.lines = append(t.lines, l)
	if len(t.lines) > t.max {
		t.lines = t.lines[len(t.lines)-t.max:]
	}
}

func (t *tailBuffer) String() string { return strings.Join(t.lines, "\n") }

// Recorder records every command and answers from a table; for tests that
// assert exact argv without running anything.
type Recorder struct {
	mu       sync.Mutex
	Commands []Command
	// Respond, when set, decides the outcome of each command.
	Respond func(c Command, onLine LineFunc) error
}

// Run implements Runner.
func (r *Recorder) Run(ctx context.Context, c Command, onLine LineFunc) error {
	r.mu.Lock()
	r.Commands = append(r.Commands, c)
	r.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if r.Respond != nil {
		return r.Respond(c, onLine)
	}
	return nil
}

// Lines returns each recorded command as one printable line.
func (r *Recorder) Lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, len(r.Commands))
	for i, c := range r.Commands {
		out[i] = c.String()
	}
	return out
}

// DryRun prints what it would run and runs nothing.
type DryRun struct {
	Out io.Writer
}

// Run implements Runner.
func (d DryRun) Run(ctx context.Context, c Command, onLine LineFunc) error {
	if d.Out != nil {
		fmt.Fprintf(d.Out, "would run: %s\n", c.String())
	}
	return ctx.Err()
}
