package discover

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/universal-atomic-installer/uai/installer/answers"
	"github.com/universal-atomic-installer/uai/partition"
)

const body = "version = 1\n[source]\nedition = \"fedora-bootc-44\"\n[disk]\npath = \"/dev/vda\"\n"

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// noDisks keeps discovery away from this machine's disks.
func noDisks() ([]partition.Disk, error) { return nil, nil }

func discover(t *testing.T, o Options) (Found, []string, error) {
	t.Helper()
	var log []string
	o.Log = func(s string) { log = append(log, s) }
	if o.Devices == nil {
		o.Devices = noDisks
	}
	if o.LiveMedium == "" {
		o.LiveMedium = filepath.Join(t.TempDir(), "none")
	}
	f, err := Discover(context.Background(), o)
	return f, log, err
}

// A server that fails for a while is retried; one that says 404 is not;
// one that keeps failing is given up at the fetch timeout.
func TestFetchRetries(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		switch {
		case strings.HasSuffix(r.URL.Path, "/missing"):
			http.NotFound(w, r)
		case strings.HasSuffix(r.URL.Path, "/flaky") && n < 3:
			w.WriteHeader(http.StatusServiceUnavailable)
		case strings.HasSuffix(r.URL.Path, "/down"):
			w.WriteHeader(http.StatusBadGateway)
		default:
			_, _ = w.Write([]byte(body))
		}
	}))
	defer srv.Close()
	o := Options{Client: srv.Client(), FetchTimeout: 3 * time.Second}

	o.Cmdline = ParseCmdline("uai.answers=" + srv.URL + "/flaky#sha256=" + sha(body))
	f, log, err := discover(t, o)
	if err != nil || len(f.Inputs) != 1 || string(f.Inputs[0].Data) != body || calls.Load() != 3 {
		t.Fatalf("flaky: %v %+v after %d calls\n%s", err, f, calls.Load(), strings.Join(log, "\n"))
	}
	if !strings.Contains(strings.Join(log, "\n"), "retrying") || f.Source != "kernel argument uai.answers" {
		t.Errorf("log: %q source %q", log, f.Source)
	}

	calls.Store(0)
	o.Cmdline = ParseCmdline("uai.answers=" + srv.URL + "/missing")
	_, _, err = discover(t, o)
	if !errors.Is(err, ErrFetch) || !strings.Contains(err.Error(), "404") || calls.Load() != 1 {
		t.Fatalf("missing: %v after %d calls", err, calls.Load())
	}

	o.FetchTimeout = 1500 * time.Millisecond
	o.Cmdline = ParseCmdline("uai.answers=" + srv.URL + "/down")
	start := time.Now()
	_, _, err = discover(t, o)
	if !errors.Is(err, ErrFetch) || !strings.Contains(err.Error(), "gave up after 1.5s") || time.Since(start) > 5*time.Second {
		t.Fatalf("down: %v after %s", err, time.Since(start))
	}

	o.Cmdline = ParseCmdline("uai.answers=" + srv.URL + "/a.toml#sha256=" + sha("other"))
	_, _, err = discover(t, o)
	if !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), sha(body)) {
		t.Fatalf("checksum: %v", err)
	}
	if strings.Contains(err.Error(), "/a.toml") {
		t.Errorf("the error shows the URL's path: %v", err)
	}
}

// Several uai.answers arguments are composed in order; inst.ks is read
// as a kickstart; a bare inst.ks is refused.
func TestKernelArguments(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.toml")
	b := filepath.Join(dir, "b.toml")
	ks := filepath.Join(dir, "ks.cfg")
	for p, c := range map[string]string{a: body, b: "version = 1\nconfirm = true\n", ks: "bootc --source-imgref=registry:quay.io/x/y:1\n"} {
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, _, err := discover(t, Options{Cmdline: ParseCmdline("uai.answers=file://" + a + " inst.ks=file://" + ks + " uai.answers=file://" + b)})
	if err != nil || len(f.Inputs) != 2 || f.Inputs[0].Name != a || f.Inputs[1].Name != b || f.Inputs[0].Kickstart {
		t.Fatalf("%v %+v", err, f)
	}
	c := answers.Compose(f.Inputs, answers.Facts{})
	if !c.Report.OK() || !c.Answers.Confirm {
		t.Fatalf("composed: %v", c.Report)
	}
	f, _, err = discover(t, Options{Cmdline: ParseCmdline("inst.ks=file://" + ks)})
	if err != nil || len(f.Inputs) != 1 || !f.Inputs[0].Kickstart {
		t.Fatalf("inst.ks: %v %+v", err, f)
	}
	if _, _, err = discover(t, Options{Cmdline: ParseCmdline("quiet inst.ks")}); err == nil || !strings.Contains(err.Error(), "does not ask DHCP") {
		t.Fatalf("bare inst.ks: %v", err)
	}
	if _, _, err = discover(t, Options{Cmdline: ParseCmdline("uai.answers=file://" + filepath.Join(dir, "nope.toml"))}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing file: %v", err)
	}
	if _, _, err = discover(t, Options{Flags: []string{filepath.Join(dir, "nope.toml")}}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing flag file: %v", err)
	}
}

// With nothing anywhere every source is logged as tried, in order, and
// nothing is found: not an error, the caller decides.
func TestNothingFound(t *testing.T) {
	f, log, err := discover(t, Options{Cmdline: ParseCmdline("quiet")})
	if err != nil || f.Source != "" || len(f.Inputs) != 0 {
		t.Fatalf("%v %+v", err, f)
	}
	want := []string{"no --answers flag", "no uai.answers=", "no inst.ks=", "no /uai/answers.toml", "no volume labelled UAI-ANSWERS", "no volume labelled OEMDRV", "none found"}
	if len(log) != len(want) {
		t.Fatalf("log:\n%s", strings.Join(log, "\n"))
	}
	for i, w := range want {
		if !strings.Contains(log[i], w) {
			t.Errorf("log line %d %q lacks %q", i, log[i], w)
		}
	}
	// A failing disk list is logged, not fatal, for the sources found by looking.
	_, log, err = discover(t, Options{Devices: func() ([]partition.Disk, error) { return nil, errors.New("no sysfs") }})
	if err != nil || !strings.Contains(strings.Join(log, "\n"), "no sysfs") {
		t.Fatalf("%v %q", err, log)
	}
}

func TestReadFacts(t *testing.T) {
	sys := t.TempDir()
	for p, c := range map[string]string{
		"class/net/lo/address":        "00:00:00:00:00:00\n",
		"class/net/enp1s0/address":    "52:54:00:AB:CD:EF\n",
		"class/net/wlp2s0/address":    "a4-c3-f0-00-11-22\n",
		"class/dmi/id/product_serial": "To be filled by O.E.M.\n",
		"class/dmi/id/product_name":   "  ThinkPad T14 Gen 3  \n",
	} {
		full := filepath.Join(sys, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := ReadFacts(sys)
	want := answers.Facts{MACs: []string{"52:54:00:ab:cd:ef", "a4:c3:f0:00:11:22"}, Product: "ThinkPad T14 Gen 3"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v want %+v", got, want)
	}
	if f := ReadFacts(filepath.Join(sys, "missing")); len(f.MACs) != 0 || f.Serial != "" || f.Product != "" {
		t.Fatalf("facts from nowhere: %+v", f)
	}
}

// A uai ISO carries /uai/answers.toml even when nothing is embedded (the
// file is then empty): that is "no answers here", not a broken answer
// file, and discovery goes on to the labelled volumes.
func TestEmptyEmbeddedFileIsNoAnswers(t *testing.T) {
	live := t.TempDir()
	if err := os.MkdirAll(filepath.Join(live, "uai"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(live, "uai", "answers.toml"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	f, log, err := discover(t, Options{Cmdline: ParseCmdline("quiet"), LiveMedium: live})
	if err != nil || len(f.Inputs) != 0 {
		t.Fatalf("an empty embedded file was taken as answers: %v %+v", err, f)
	}
	joined := strings.Join(log, "\n")
	if !strings.Contains(joined, "is empty: nothing embedded") || !strings.Contains(joined, "no volume labelled UAI-ANSWERS") {
		t.Fatalf("log:\n%s", joined)
	}
	// The same file with answers in it is found.
	if err := os.WriteFile(filepath.Join(live, "uai", "answers.toml"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	f, _, err = discover(t, Options{Cmdline: ParseCmdline("quiet"), LiveMedium: live})
	if err != nil || f.Source != "live medium" || len(f.Inputs) != 1 {
		t.Fatalf("embedded answers not found: %v %+v", err, f)
	}
}
