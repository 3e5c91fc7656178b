package bootc

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/universal-atomic-installer/uai/installer/host"
)

func TestSwitchArgs(t *testing.T) {
	cases := []struct {
		o    SwitchOptions
		want string
	}{
		{SwitchOptions{Image: "quay.io/fedora/fedora-bootc:44"}, "switch quay.io/fedora/fedora-bootc:44"},
		{SwitchOptions{Image: "quay.io/fedora/fedora-bootc:44", Transport: "registry", ProgressFD: 3}, "switch --progress-fd 3 quay.io/fedora/fedora-bootc:44"},
		{SwitchOptions{Image: "ghcr.io/ublue-os/aurora:stable", EnforceSigPolicy: true, Retain: true, Quiet: true, Apply: true, ProgressFD: 4},
			"switch --enforce-container-sigpolicy --retain --quiet --apply --progress-fd 4 ghcr.io/ublue-os/aurora:stable"},
		{SwitchOptions{Image: "/var/mnt/osupdate", Transport: "oci"}, "switch --transport oci /var/mnt/osupdate"},
	}
	for _, tc := range cases {
		got, err := SwitchArgs(tc.o)
		if err != nil || strings.Join(got, " ") != tc.want {
			t.Errorf("SwitchArgs(%+v) = %q, %v; want %s", tc.o, got, err, tc.want)
		}
	}
	bad := []struct {
		o    SwitchOptions
		want string
	}{
		{SwitchOptions{}, "no target image"},
		{SwitchOptions{Image: "--apply"}, "starts with '-'"},
		{SwitchOptions{Image: "quay.io/x/y:1", ProgressFD: 2}, "use a pipe on fd 3"},
		{SwitchOptions{Image: "registry:quay.io/x/y:1"}, "starts with the transport"},
		{SwitchOptions{Image: "fedora-bootc"}, "not fully qualified"},
		{SwitchOptions{Image: "x", Transport: "ftp"}, `transport "ftp"`},
	}
	for _, tc := range bad {
		if _, err := SwitchArgs(tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("SwitchArgs(%+v) = %v, want an error saying %q", tc.o, err, tc.want)
		}
	}
	c, err := SwitchCommand(SwitchOptions{Image: "quay.io/fedora/fedora-bootc:44", ProgressFD: 3})
	if err != nil || c.Tool != host.Bootc || c.String() != "bootc switch --progress-fd 3 quay.io/fedora/fedora-bootc:44" {
		t.Errorf("SwitchCommand = %s, %v", c, err)
	}
}

// The progress a real bootc (the simulator's recording of bootc.md §7's
// sequence) writes, read back event by event.
const progressFixture = `{"type":"Start","version":"0.1.0"}
{"bytes":113000000,"bytesCached":0,"bytesTotal":559600000,"description":"Pulling Image: sha256:d61f","id":"sha256:d61f","steps":0,"stepsCached":0,"stepsTotal":3,"subtasks":[{"bytes":113000000,"bytesCached":0,"bytesTotal":339000000,"description":"ostree chunk: 0a1b","id":"0a1b","subtask":"ostree chunk"}],"task":"pulling","type":"ProgressBytes"}
not json at all
{"bytes":339000000,"bytesCached":0,"bytesTotal":559600000,"description":"Pulling Image: sha256:d61f","id":"sha256:d61f","steps":1,"stepsCached":0,"stepsTotal":3,"subtasks":[{"bytes":339000000,"bytesCached":0,"bytesTotal":339000000,"description":"ostree chunk: 0a1b","id":"0a1b","subtask":"ostree chunk"}],"task":"pulling","type":"ProgressBytes"}

{"description":"Importing Image","id":"sha256:d61f","steps":0,"stepsCached":0,"stepsTotal":1,"subtasks":[{"completed":false,"description":"Importing Image","id":"importing","subtask":"importing"}],"task":"importing","type":"ProgressSteps"}
{"description":"Deploying Image","id":"sha256:d61f","steps":1,"stepsCached":0,"stepsTotal":3,"subtasks":[{"completed":true,"description":"Merging Image","id":"fetching","subtask":"merging"},{"completed":false,"description":"Deploying Image","id":"deploying","subtask":"deploying"}],"task":"staging","type":"ProgressSteps"}
{"type":"SomethingNew","task":"future"}
`

func TestReadProgress(t *testing.T) {
	var got []Progress
	err := ReadProgress(strings.NewReader(progressFixture), func(p Progress) { got = append(got, p) })
	if err == nil || !strings.Contains(err.Error(), `"not json at all" is not JSON`) {
		t.Errorf("the bad line was not reported: %v", err)
	}
	if len(got) != 6 {
		t.Fatalf("read %d events, want 6 (reading goes on past a bad line): %+v", len(got), got)
	}
	if got[0].Type != ProgressStart || got[0].Version != "0.1.0" {
		t.Errorf("start: %+v", got[0])
	}
	b := got[2]
	if b.Type != ProgressBytes || b.Task != TaskPulling || b.Bytes != 339000000 || b.BytesTotal != 559600000 || b.Steps != 1 || b.StepsTotal != 3 ||
		len(b.Subtasks) != 1 || !b.Subtasks[0].Done() || b.Subtasks[0].Subtask != "ostree chunk" {
		t.Errorf("bytes: %+v", b)
	}
	if got[1].Subtasks[0].Done() {
		t.Errorf("a third-fetched chunk counts as done: %+v", got[1].Subtasks[0])
	}
	s := got[4]
	if s.Type != ProgressSteps || s.Task != TaskStaging || s.Steps != 1 || s.StepsTotal != 3 || !s.Subtasks[0].Done() || s.Subtasks[1].Done() || s.Subtasks[1].Subtask != "deploying" {
		t.Errorf("steps: %+v", s)
	}
	if got[5].Type != "SomethingNew" {
		t.Errorf("an unknown type was not passed on: %+v", got[5])
	}
	if _, err := ParseProgress([]byte(`{"task":"pulling"}`)); err == nil {
		t.Error("a line without a type was accepted")
	}
}

// The simulator's recorded switch output, read as uai reads bootc's.
func TestSwitchOutputFromSimulatorRecording(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("sim", "testdata", "switch.stdout"))
	if err != nil {
		t.Fatal(err)
	}
	var o SwitchOutput
	recognised := 0
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if o.Feed(l) {
			recognised++
		}
	}
	if !o.SawLayers || o.LayersPresent != 0 || o.LayersNeeded != 3 || o.BytesNeeded != 559_600_000 ||
		o.Queued != "quay.io/fedora/fedora-bootc:43" || o.Version != "43" || !strings.HasPrefix(o.Digest, "sha256:d61f3b7a") || o.Unchanged {
		t.Errorf("parsed %+v", o)
	}
	if recognised != 4 {
		t.Errorf("recognised %d lines, want 4 (all but the fetch rate)", recognised)
	}
	var u SwitchOutput
	if !u.Feed(UnchangedLine) || !u.Unchanged {
		t.Errorf("unchanged: %+v", u)
	}
	// A Digest line that is not after Queued belongs to something else.
	var d SwitchOutput
	if d.Feed("  Digest: sha256:00") || d.Digest != "" {
		t.Errorf("stray digest line: %+v", d)
	}
	for in, want := range map[string]uint64{"559.6 MB": 559_600_000, "12 bytes": 12, "1.2 GB": 1_200_000_000, "2 kB": 2000, "x MB": 0, "3": 0, "4 furlongs": 0} {
		if got := parseDecimalSize(in); got != want {
			t.Errorf("parseDecimalSize(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestNoProgressFD(t *testing.T) {
	clap := &host.ExitError{Command: "bootc", Code: 2, Stderr: "error: unexpected argument '--progress-fd' found\n\n  tip: to pass '--progress-fd' as a value, use '-- --progress-fd'"}
	if !NoProgressFD(clap) || !NoProgressFD(errors.Join(errors.New("switch"), clap)) {
		t.Error("clap's refusal of --progress-fd not recognised")
	}
	for _, err := range []error{
		&host.ExitError{Command: "bootc", Code: 1, Stderr: "error: Switching: unexpected argument '--progress-fd' found"},
		&host.ExitError{Command: "bootc", Code: 2, Stderr: "error: unexpected argument '--apply' found"},
		errors.New("unexpected argument '--progress-fd'"),
		nil,
	} {
		if NoProgressFD(err) {
			t.Errorf("NoProgressFD(%v) = true", err)
		}
	}
}
