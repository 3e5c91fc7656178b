package test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/test/internal/loopdev"
)

// hook is a webhook receiver that keeps every POSTed body.
type hook struct {
	mu     sync.Mutex
	bodies []string
	auth   []string
	status int           // answer with this status (0: 204)
	hang   chan struct{} // when set, never answer until it is closed
	srv    *httptest.Server
}

func newHook(t *testing.T, status int, hang bool) *hook {
	h := &hook{status: status}
	if hang {
		h.hang = make(chan struct{})
	}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.bodies = append(h.bodies, string(b))
		h.auth = append(h.auth, r.Header.Get("Authorization"))
		h.mu.Unlock()
		if h.hang != nil {
			select {
			case <-h.hang:
			case <-r.Context().Done():
			}
			return
		}
		if r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(http.StatusUnsupportedMediaType)
			return
		}
		if h.status != 0 {
			w.WriteHeader(h.status)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(func() {
		if h.hang != nil {
			close(h.hang)
		}
		h.srv.Close()
	})
	return h
}

func (h *hook) received() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.bodies...)
}

func jsonLines(t *testing.T, s string) []string {
	t.Helper()
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// canonical re-encodes one JSON event so that encodings can be compared.
func canonical(t *testing.T, line string) string {
	t.Helper()
	var e installer.Event
	if err := json.Unmarshal([]byte(line), &e); err != nil {
		t.Fatalf("not an event: %v\n%s", err, line)
	}
	b, _ := json.Marshal(e)
	return string(b)
}

// One install, every reporting target: stdout, the log file, a serial
// console (a file here) and a webhook all get the same whole sequence;
// the result names the log, and the effective answers lie next to it.
func TestAnswersReportingTargets(t *testing.T) {
	// The installs of these tests wait on programs, not on the CPU.
	t.Parallel()
	dir := t.TempDir()
	img := sparseImage(t, dir, 64<<30)
	h := newHook(t, 0, false)
	logPath := filepath.Join(dir, "log", "install.jsonl")
	serial := filepath.Join(dir, "ttyS0")
	if err := os.WriteFile(serial, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	a := writeFile(t, dir, "a.toml", `version = 1
confirm = true
[source]
edition = "fedora-bootc-44"
[disk]
path = "`+img+`"
[reporting]
url = "`+h.srv.URL+`/events/tok-FIXTURE-4"
file = "`+logPath+`"
[reporting.headers]
Authorization = "Bearer hdr-FIXTURE-6"
`)
	// The answer file only takes /dev/ devices; a file stands in for the
	// console through the flag.
	r := runFast(t, "install", "--demo", "--answers", a, "--serial", serial, "--progress=json", "--target-dir", filepath.Join(dir, "target"), "--sys-root", dir)
	evs, res := events(t, r.stdout)
	if r.code != 0 || res.ExitCode != 0 {
		t.Fatalf("exit %d %+v\n%s", r.code, res, r.stderr)
	}
	if res.LogPath != logPath {
		t.Errorf("result log_path %q, want %q", res.LogPath, logPath)
	}
	want := jsonLines(t, r.stdout)
	logged, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	serialOut, err := os.ReadFile(serial)
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string][]string{"log file": jsonLines(t, string(logged)), "serial console": jsonLines(t, string(serialOut)), "webhook": h.received()} {
		if len(got) != len(want) {
			t.Errorf("%s got %d events, stdout %d", name, len(got), len(want))
			continue
		}
		for i := range want {
			if canonical(t, got[i]) != canonical(t, want[i]) {
				t.Errorf("%s event %d differs:\n%s\n%s", name, i, got[i], want[i])
				break
			}
		}
	}
	if len(evs) < 10 || evs[0].Type != installer.EventPlan {
		t.Errorf("a short or odd event sequence: %d events, first %s", len(evs), evs[0].Type)
	}
	for _, au := range h.auth {
		if au != "Bearer hdr-FIXTURE-6" {
			t.Fatalf("the webhook got Authorization %q", au)
		}
	}
	eff, err := os.ReadFile(filepath.Join(dir, "log", "install.answers.toml"))
	if err != nil {
		t.Fatalf("no effective answers next to the log: %v", err)
	}
	for _, w := range []string{`edition = "fedora-bootc-44"`, `url = "http://127.0.0.1:`, `/<redacted>"`, `Authorization = "<redacted>"`} {
		if !strings.Contains(string(eff), w) {
			t.Errorf("effective answers lack %q:\n%s", w, eff)
		}
	}
}

// A webhook that fails (500) or never answers costs a bounded time and
// never fails the install.
func TestAnswersDeadWebhook(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		status int
		hang   bool
	}{{"500", http.StatusInternalServerError, false}, {"hangs", 0, true}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			img := sparseImage(t, dir, 64<<30)
			h := newHook(t, c.status, c.hang)
			a := writeFile(t, dir, "a.toml", `version = 1
confirm = true
[source]
edition = "fedora-bootc-44"
[disk]
path = "`+img+`"
[reporting]
url = "`+h.srv.URL+`/events"
retries = 1
timeout = "300ms"
`)
			start := time.Now()
			r := runFast(t, "install", "--demo", "--answers", a, "--progress=json", "--target-dir", filepath.Join(dir, "target"))
			took := time.Since(start)
			_, res := events(t, r.stdout)
			if r.code != 0 || res.ExitCode != 0 {
				t.Fatalf("a dead webhook failed the install: exit %d %+v\n%s", r.code, res, r.stderr)
			}
			if !strings.Contains(r.stderr, "uai: warning: webhook http://127.0.0.1:") || !strings.Contains(r.stderr, "no more events are posted to it") {
				t.Errorf("no warning about the webhook:\n%s", r.stderr)
			}
			if strings.Contains(r.stderr, "/events") {
				t.Errorf("the warning shows the URL's path:\n%s", r.stderr)
			}
			// First event: 1 try + 1 retry; then only the result, once.
			if n := len(h.received()); n != 3 {
				t.Errorf("the webhook got %d POSTs, want 3 (the first event twice, then the result)", n)
			}
			if took > 30*time.Second {
				t.Errorf("the install took %s with a dead webhook", took)
			}
		})
	}
}

// extentsContain reports whether any data extent of a sparse file holds s.
func extentsContain(t *testing.T, path string, secrets []string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	const seekData, seekHole = 3, 4
	var found []string
	var off int64
	for off < st.Size() {
		data, err := f.Seek(off, seekData)
		if err != nil {
			break
		}
		hole, err := f.Seek(data, seekHole)
		if err != nil {
			t.Fatal(err)
		}
		// Read with an overlap so a secret across a chunk edge is seen.
		for pos := data; pos < hole; pos += 4 << 20 {
			n := min(int64(4<<20)+256, hole-pos)
			buf := make([]byte, n)
			if _, err := f.ReadAt(buf, pos); err != nil && err != io.EOF {
				t.Fatal(err)
			}
			for _, s := range secrets {
				if bytes.Contains(buf, []byte(s)) {
					found = append(found, s)
				}
			}
		}
		off = hole
	}
	return found
}

// No secret of the fixtures appears in any event, log, effective answers,
// webhook body, serial output, explain, validate or export output, and no
// plain-text password or reporting token on the installed disk. (Convert keeps a kickstart's secrets on
// purpose: its output is the user's own file.)
func TestAnswersSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	img := sparseImage(t, dir, 64<<30)
	h := newHook(t, 0, false)
	secrets := []string{
		"root-pw-FIXTURE-1", "luks-pass-FIXTURE-2", "wifi-psk-FIXTURE-3", "tok-FIXTURE-4", "qk-FIXTURE-5", "hdr-FIXTURE-6",
		"$6$fixture.salt$6y9r.uaLxsnyfh/wO2ZBlXigJ1.erIBSiGicJsZN5VyuoA1IfMpUi3EGviWUWbS/wXxYEN0RCIo6BmJwUMwIg1",
	}
	common := `version = 1
[source]
edition = "fedora-bootc-44"
[disk]
path = "` + img + `"
[root]
password = "root-pw-FIXTURE-1"
[[users]]
name = "qa"
password_hash = "$6$fixture.salt$6y9r.uaLxsnyfh/wO2ZBlXigJ1.erIBSiGicJsZN5VyuoA1IfMpUi3EGviWUWbS/wXxYEN0RCIo6BmJwUMwIg1"
[[network.wifi]]
ssid = "qa-lab"
psk = "wifi-psk-FIXTURE-3"
[reporting]
url = "` + h.srv.URL + `/hook/tok-FIXTURE-4?key=qk-FIXTURE-5"
file = "` + filepath.Join(dir, "log", "install.jsonl") + `"
[reporting.headers]
Authorization = "Bearer hdr-FIXTURE-6"
`
	withLUKS := common + "[storage.encryption]\nenabled = true\npassphrase = \"luks-pass-FIXTURE-2\"\n"
	confirmed := writeFile(t, dir, "confirmed.toml", strings.Replace(common, "version = 1\n", "version = 1\nconfirm = true\n", 1))
	planOnly := writeFile(t, dir, "plan-only.toml", withLUKS)
	if err := os.WriteFile(filepath.Join(dir, "serial.out"), nil, 0o644); err != nil {
		t.Fatal(err)
	}

	outputs := map[string]string{}
	keep := func(name string, r runResult) {
		outputs[name+" stdout"] = r.stdout
		outputs[name+" stderr"] = r.stderr
	}
	target := filepath.Join(dir, "target")
	keep("validate", runUAI(t, "answers", "validate", "--sys-root", dir, planOnly))
	keep("validate --json", runUAI(t, "answers", "validate", "--json", "--sys-root", dir, planOnly))
	keep("explain", runUAI(t, "answers", "explain", "--demo", "--disks", img, "--sys-root", dir, planOnly))
	keep("explain --json", runUAI(t, "answers", "explain", "--json", "--demo", "--disks", img, "--sys-root", dir, planOnly))
	keep("export", runUAI(t, "answers", "export", "--answers", planOnly, "--sys-root", dir))
	keep("plan", runUAI(t, "plan", "--demo", "--answers", planOnly, "--sys-root", dir))
	keep("plan --json", runUAI(t, "plan", "--demo", "--json", "--answers", planOnly, "--sys-root", dir))
	serial := filepath.Join(dir, "serial.out")
	unconfirmed := runFast(t, "install", "--demo", "--answers", planOnly, "--serial", serial, "--progress=json", "--target-dir", target, "--sys-root", dir)
	if unconfirmed.code != 8 {
		t.Errorf("the unconfirmed install: exit %d\n%s", unconfirmed.code, unconfirmed.stderr)
	}
	keep("install (not confirmed)", unconfirmed)
	installed := runFast(t, "install", "--demo", "--answers", confirmed, "--serial", serial, "--progress=json", "--target-dir", target, "--sys-root", dir)
	if _, res := events(t, installed.stdout); installed.code != 0 || res.ExitCode != 0 {
		t.Errorf("the install failed: exit %d\n%s", installed.code, installed.stderr)
	}
	keep("install", installed)
	// A failing run's messages are redacted too.
	keep("install (bad disk)", runFast(t, "install", "--demo", "--answers", confirmed, "--target", filepath.Join(dir, "missing.img"), "--progress=json", "--sys-root", dir))

	files, _ := filepath.Glob(filepath.Join(dir, "log", "*"))
	files = append(files, filepath.Join(dir, "serial.out"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		outputs[f] = string(b)
	}
	outputs["webhook bodies"] = strings.Join(h.received(), "\n")
	if len(h.received()) == 0 || !strings.Contains(outputs[filepath.Join(dir, "log", "install.answers.toml")], "<redacted>") {
		t.Fatal("the webhook or the effective answers saw nothing; the check below would prove nothing")
	}
	for name, out := range outputs {
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("%s contains the secret %q:\n%s", name, s, out)
			}
		}
	}
	// The receipt and the install log the engine leaves on the installed
	// system hold no secret at all.
	for name, content := range installedRecords(t, img) {
		for _, s := range secrets {
			if strings.Contains(content, s) {
				t.Errorf("the installed system's %s contains the secret %q", name, s)
			}
		}
	}
	// On the installed disk a password hash, and a Wi-Fi key the system
	// keeps, may rightly be written; a plain-text password and the
	// reporting tokens never.
	if found := extentsContain(t, img, []string{"root-pw-FIXTURE-1", "tok-FIXTURE-4", "qk-FIXTURE-5", "hdr-FIXTURE-6"}); len(found) > 0 {
		t.Errorf("the installed disk holds the secrets %q", found)
	}
}

// installedRecords reads the receipt and install log from the root
// filesystem of an installed image (as root: loop device and a read-only
// mount).
func installedRecords(t *testing.T, img string) map[string]string {
	t.Helper()
	needRoot(t)
	dev := loopdev.Attach(t, img, 512)
	if out, err := exec.Command("partx", "-a", dev).CombinedOutput(); err != nil {
		t.Fatalf("partx -a: %v %s", err, out)
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-o", "ro", dev+"p3", mnt).CombinedOutput(); err != nil {
		t.Fatalf("mount the installed root: %v %s", err, out)
	}
	defer func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount: %v %s", err, out)
		}
	}()
	out := map[string]string{}
	for _, pattern := range []string{"ostree/deploy/*/var/lib/uai/receipt.json", "ostree/deploy/*/var/log/uai/install.jsonl"} {
		matches, _ := filepath.Glob(filepath.Join(mnt, pattern))
		if len(matches) != 1 {
			t.Fatalf("want one %s on the installed system, found %v", pattern, matches)
		}
		b, err := os.ReadFile(matches[0])
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(matches[0])] = string(b)
	}
	return out
}
