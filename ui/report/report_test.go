package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/universal-atomic-installer/uai/installer"
)

func sequence() []installer.Event {
	t0 := time.Date(2026, 11, 26, 16, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	return []installer.Event{
		{V: 1, Type: installer.EventPlan, Time: at(0), PlanSHA256: "abc", Simulated: true},
		{V: 1, Type: installer.EventStepStarted, Time: at(0), Step: installer.StepPartition, Title: "Write the partition table"},
		{V: 1, Type: installer.EventStepLog, Time: at(1), Step: installer.StepPartition, Stream: "stderr", Line: "noise"},
		{V: 1, Type: installer.EventStepLog, Time: at(1), Step: installer.StepPartition, Stream: "info", Line: "wrote a GPT"},
		{V: 1, Type: installer.EventStepProgress, Time: at(2), Step: installer.StepPartition, Done: 2, Total: 3, Unit: "steps"},
		{V: 1, Type: installer.EventStepFinished, Time: at(43), Step: installer.StepPartition, Status: installer.StatusOK},
		{V: 1, Type: installer.EventStepStarted, Time: at(50), Step: installer.StepBootc, Title: "Install the image with bootc (simulated bootc)", Simulated: true},
		{V: 1, Type: installer.EventStepLog, Time: at(60), Step: installer.StepBootc, Stream: "stdout", Line: "Installation complete!"},
		{V: 1, Type: installer.EventStepFinished, Time: at(90), Step: installer.StepBootc, Status: installer.StatusFailed, Error: "origin wrong"},
		{V: 1, Type: installer.EventStepFinished, Time: at(91), Step: installer.StepVerify, Status: installer.StatusSkipped, Reason: "needs root"},
		{V: 1, Type: installer.EventResult, Time: at(100), Result: &installer.Result{ExitCode: 6, Class: "install-failed", Error: "origin wrong", Simulated: true}},
	}
}

func TestTextReport(t *testing.T) {
	var b bytes.Buffer
	s := NewText(&b)
	for _, e := range sequence() {
		s.Emit(e)
	}
	want := `plan abc [simulated bootc]
==> partition: Write the partition table
    wrote a GPT
    partition: 2/3 steps
    ok partition (43ms)
==> bootc: Install the image with bootc (simulated bootc)
    Installation complete!
    FAILED bootc (40ms): origin wrong
    skipped verify: needs root
install failed (install-failed, exit 6): origin wrong
(bootc was simulated: this demo wrote a real partition table and filesystems, but no real operating system)
`
	if b.String() != want {
		t.Fatalf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestJSONReportOneObjectPerLine(t *testing.T) {
	var b bytes.Buffer
	s := NewJSON(&b)
	for _, e := range sequence() {
		s.Emit(e)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != len(sequence()) {
		t.Fatalf("%d lines for %d events", len(lines), len(sequence()))
	}
	for i, l := range lines {
		var e installer.Event
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		if e.Type != sequence()[i].Type {
			t.Fatalf("line %d is %s", i, e.Type)
		}
	}
	if !strings.Contains(lines[len(lines)-1], `"exit_code":6`) {
		t.Fatalf("result line: %s", lines[len(lines)-1])
	}
}
