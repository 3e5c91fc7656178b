package host

import (
	"context"
	"io"
	"os"
	"testing"
)

// A pipe handed over in ExtraFiles is the program's fd 3, and the reader
// sees EOF once Run returned and the caller closed its copy, as a
// --progress-fd reader relies on.
func TestExecExtraFilesArePassedFromFD3(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(r)
		got <- string(b)
	}()
	var out []string
	err = (&Exec{}).Run(context.Background(), Command{Tool: sh, Args: []string{"-c", `echo '{"type":"Start"}' >&3; echo on-stdout`}, ExtraFiles: []*os.File{w}},
		func(s Stream, l string) { out = append(out, l) })
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != "{\"type\":\"Start\"}\n" {
		t.Fatalf("fd 3 carried %q", s)
	}
	if len(out) != 1 || out[0] != "on-stdout" {
		t.Fatalf("stdout %q", out)
	}
	// Without ExtraFiles fd 3 is not open in the child.
	if err := (&Exec{}).Run(context.Background(), Command{Tool: sh, Args: []string{"-c", `echo x >&3`}}, nil); err == nil {
		t.Fatal("writing to fd 3 succeeded without ExtraFiles")
	}
}
