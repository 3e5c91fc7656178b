package test

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/installer/answers"
)

// Every valid fixture becomes a Request and back without losing a choice:
// what a TUI run fills in a Request is exported as answers that make the
// same Request again.
func TestAnswersRequestRoundTrip(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(answersFixtures, "valid", "*.toml"))
	ks, _ := filepath.Glob(filepath.Join(answersFixtures, "kickstart", "valid-*.ks"))
	files = append(files, ks...)
	if len(files) < 15 {
		t.Fatalf("only %d fixtures", len(files))
	}
	for _, f := range files {
		in, err := answers.ReadInput(f)
		if err != nil {
			t.Fatal(err)
		}
		c := answers.Compose([]answers.Input{in}, answers.Facts{})
		if !c.Report.OK() {
			t.Fatalf("%s: %v", f, c.Report)
		}
		req := installer.RequestFromAnswers(c.Answers)
		back := installer.AnswersFromRequest(req)
		again := installer.RequestFromAnswers(back)
		if !reflect.DeepEqual(req, again) {
			t.Errorf("%s: the request changed on the way through an answer file:\n%+v\n%+v", f, req, again)
		}
		// The exported file is valid as it stands once secrets are back.
		if _, rep := answers.Parse(answers.Encode(back)); !rep.OK() && !strings.Contains(f, "interactive") {
			t.Errorf("%s: the exported answers do not validate: %v", f, rep)
		}
	}
}

// A path-only [disk] names the disk directly; any other rule keeps the
// whole selector, so a path and a serial given together must both match.
func TestAnswersRequestDisk(t *testing.T) {
	a, rep := answers.Parse([]byte("version = 1\n[source]\nedition = \"fedora-bootc-44\"\n[disk]\npath = \"/dev/vda\"\nallow_boot_medium = true\n"))
	if !rep.OK() {
		t.Fatal(rep)
	}
	r := installer.RequestFromAnswers(a)
	if r.DiskPath != "/dev/vda" || !r.Selector.AllowBootMedium || r.Selector.Path != "" {
		t.Fatalf("path only: %+v %+v", r.DiskPath, r.Selector)
	}
	a, rep = answers.Parse([]byte("version = 1\n[source]\nedition = \"fedora-bootc-44\"\n[disk]\npath = \"/dev/vda\"\nserial = \"S1\"\n[storage]\nroot_size = \"40GiB\"\n[reporting]\nurl = \"https://h/e\"\ntimeout = \"10s\"\n"))
	if !rep.OK() {
		t.Fatal(rep)
	}
	r = installer.RequestFromAnswers(a)
	if r.DiskPath != "" || r.Selector.Path != "/dev/vda" || r.Selector.Serial != "S1" {
		t.Fatalf("path and serial: %+v %+v", r.DiskPath, r.Selector)
	}
	if r.Storage.RootSizeBytes != 40<<30 || r.Reporting.Timeout.String() != "10s" || r.Reporting.Retries != installer.DefaultWebhookRetries {
		t.Fatalf("storage/reporting: %+v %+v", r.Storage, r.Reporting)
	}
	if !strings.Contains(string(answers.Encode(installer.AnswersFromRequest(r))), `root_size = "40GiB"`) {
		t.Fatal("root size lost")
	}
}
