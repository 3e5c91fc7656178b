package test

import (
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/universal-atomic-installer/uai/installer"
)

// The catalog an install, a plan, answers explain and switch read: the
// --catalog flags, else the answers' source.catalog, else the embedded
// one; remote catalogs are verified whoever names them.

// planEditionJSON is the part of `uai plan --json` these tests read.
type planEditionJSON struct {
	Edition struct {
		ID      string `json:"id"`
		Image   string `json:"image"`
		Catalog string `json:"catalog"`
	} `json:"edition"`
}

func decodePlanEdition(t *testing.T, stdout string) planEditionJSON {
	t.Helper()
	var p planEditionJSON
	if err := json.Unmarshal([]byte(stdout), &p); err != nil {
		t.Fatalf("plan --json: %v\n%s", err, stdout)
	}
	return p
}

// catEnv is a private catalog cache, so no run reads another's.
func catEnv(t *testing.T) []string {
	return []string{"XDG_CACHE_HOME=" + t.TempDir(), "UAI_SIM_DELAY=0"}
}

// An edition that only a local catalog has is planned from it, named by
// path or by file:// URL; the plan says which catalog it came from. The
// embedded catalog's plans keep their hash.
func TestCatalogInstallPlanFile(t *testing.T) {
	dir := t.TempDir()
	img := sparseImage(t, dir, 64<<30)
	env := catEnv(t)
	abs, err := filepath.Abs(fixture)
	if err != nil {
		t.Fatal(err)
	}
	base := []string{"plan", "--demo", "--target", img, "--target-dir", filepath.Join(dir, "t"), "--edition", "site-kiosk"}

	r := runUAIEnv(t, env, base...)
	wantCode(t, r, 2, "plan --edition site-kiosk without --catalog")
	wantIn(t, "stderr", r.stderr, `edition "site-kiosk" is not in the catalog`)

	for _, loc := range []string{fixture, "file://" + abs} {
		args := append(base[:len(base):len(base)], "--catalog", loc)
		r = runUAIEnv(t, env, args...)
		wantCode(t, r, 0, strings.Join(args, " "))
		wantIn(t, "stdout", r.stdout, "Install   Site Kiosk (site-kiosk)", "Image     registry.example.com/site/kiosk:3", "Catalog   "+loc+"\n")
		r = runUAIEnv(t, env, append(args, "--json")...)
		wantCode(t, r, 0, "plan --json --catalog "+loc)
		if p := decodePlanEdition(t, r.stdout); p.Edition.ID != "site-kiosk" || p.Edition.Catalog != loc {
			t.Errorf("plan --json --catalog %s: edition %+v", loc, p.Edition)
		}
	}

	// The embedded catalog, asked for or not, leaves the plan as it was:
	// no catalog field, the same hash.
	emb := []string{"plan", "--demo", "--target", img, "--target-dir", filepath.Join(dir, "t"), "--edition", "fedora-bootc-44", "--json"}
	r1 := runUAIEnv(t, env, emb...)
	r2 := runUAIEnv(t, env, append(emb, "--catalog", "embedded")...)
	wantCode(t, r1, 0, "plan fedora-bootc-44")
	wantCode(t, r2, 0, "plan fedora-bootc-44 --catalog embedded")
	if r1.stdout != r2.stdout || strings.Contains(r1.stdout, `"catalog"`) {
		t.Errorf("the embedded catalog changed the plan:\n%s\n---\n%s", r1.stdout, r2.stdout)
	}
	// Later catalogs win per id, as for uai catalog: the site's
	// fedora-bootc-44 is planned, with a warning about the replacement.
	r = runUAIEnv(t, env, append(emb, "--catalog", "embedded", "--catalog", fixture)...)
	wantCode(t, r, 0, "plan fedora-bootc-44 --catalog embedded --catalog FILE")
	if p := decodePlanEdition(t, r.stdout); p.Edition.Image != "registry.example.com/fedora/fedora-bootc:44" || p.Edition.Catalog != fixture {
		t.Errorf("two catalogs: edition %+v", p.Edition)
	}
	wantIn(t, "stderr", r.stderr, "uai: warning: edition fedora-bootc-44 from "+fixture+" replaces the one from embedded")
}

// An answer file's [source] catalog is read by plan, install and answers
// explain: a signed https catalog is verified with --catalog-key, and
// without a trusted key the run stops with the catalog's error (exit 2)
// before the disk is touched. --catalog wins over source.catalog.
func TestCatalogInstallAnswers(t *testing.T) {
	tc := newTLSCatalog(t, true)
	url := tc.URL + "/catalog.json"
	dir := t.TempDir()
	img := sparseImage(t, dir, 64<<30)
	target := filepath.Join(dir, "t")
	a := writeFile(t, dir, "a.toml", "version = 1\nconfirm = true\n[source]\nedition = \"site-kiosk\"\ncatalog = \""+url+"\"\n[disk]\npath = \""+img+"\"\n[storage]\nfilesystem = \"xfs\"\n")
	env := append([]string{"UAI_SIM_DELAY=0"}, tc.env...)

	r := runUAIEnv(t, env, "plan", "--demo", "--answers", a, "--target-dir", target, "--catalog-key", testPub)
	wantCode(t, r, 0, "plan --answers (source.catalog) --catalog-key")
	wantIn(t, "stdout", r.stdout, "Install   Site Kiosk (site-kiosk)", "Catalog   "+url+"\n")

	r = runUAIEnv(t, env, "answers", "explain", "--demo", "--disks", img, "--target-dir", target, "--catalog-key", testPub, a)
	wantCode(t, r, 0, "answers explain (source.catalog)")
	wantIn(t, "stdout", r.stdout, "Install   Site Kiosk (site-kiosk)", "Catalog   "+url)

	before := contentSum(t, img)
	for _, cmd := range []string{"plan", "install"} {
		r = runUAIEnv(t, env, cmd, "--demo", "--answers", a, "--target-dir", target)
		wantCode(t, r, installer.ClassInvalidInput.ExitCode(), cmd+" --answers (source.catalog) without the key")
		wantIn(t, "stderr", r.stderr, "source.catalog of the answers", "signed by a key uai does not trust", "--catalog-key")
	}
	if contentSum(t, img) != before {
		t.Fatal("an install whose catalog did not verify changed the disk")
	}

	// The flag wins: the embedded catalog has no site-kiosk.
	r = runUAIEnv(t, env, "plan", "--demo", "--answers", a, "--target-dir", target, "--catalog", "embedded")
	wantCode(t, r, 2, "plan --answers --catalog embedded")
	wantIn(t, "stderr", r.stderr, `edition "site-kiosk" is not in the catalog`)

	// The install runs from it (demo: the simulator stands in for bootc).
	if !isRoot() {
		return
	}
	logPath := filepath.Join(dir, "run.jsonl")
	r = runUAIEnv(t, env, "install", "--demo", "--answers", a, "--target-dir", target, "--catalog-key", testPub, "--progress", "json", "--log", logPath)
	_, res := events(t, r.stdout)
	if r.code != 0 {
		t.Fatalf("install from source.catalog: exit %d %+v\n%s", r.code, res, r.stderr)
	}
	if res.Edition != "site-kiosk" || res.Image != "registry.example.com/site/kiosk:3" {
		t.Errorf("result %+v", res)
	}
	if contentSum(t, img) == before {
		t.Fatal("the install left the disk as it was")
	}
	// The effective answers next to the log replay the same catalog.
	eff, err := os.ReadFile(filepath.Join(dir, "run.answers.toml"))
	if err != nil {
		t.Fatal(err)
	}
	wantIn(t, "effective answers", string(eff), "catalog = \""+url+"\"")
}

// serveTLS serves a catalog and its signature over TLS and returns the
// catalog's URL and the environment that trusts the server.
func serveTLS(t *testing.T, data, sig []byte) (string, []string) {
	t.Helper()
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/catalog.json":
			_, _ = w.Write(data)
		case "/catalog.json.minisig":
			_, _ = w.Write(sig)
		default:
			http.NotFound(w, r)
		}
	}))
	s.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.StartTLS()
	t.Cleanup(s.Close)
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	return s.URL + "/catalog.json", []string{"SSL_CERT_FILE=" + ca, "XDG_CACHE_HOME=" + filepath.Join(dir, "cache"), "UAI_SIM_DELAY=0"}
}

// A catalog changed after it was signed is refused even with its key and
// --insecure-catalog: exit 2, the disk untouched, by flag or by answers.
func TestCatalogInstallBadSignature(t *testing.T) {
	data, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := os.ReadFile(fixtureSig)
	if err != nil {
		t.Fatal(err)
	}
	tampered := []byte(strings.Replace(string(data), "registry.example.com/site/kiosk:3", "evil.example.com/site/kiosk:3", 1))
	url, env := serveTLS(t, tampered, sig)
	dir := t.TempDir()
	img := sparseImage(t, dir, 64<<30)
	target := filepath.Join(dir, "t")
	before := contentSum(t, img)

	r := runUAIEnv(t, env, "install", "--demo", "--target", img, "--target-dir", target, "--edition", "site-kiosk", "--yes",
		"--catalog", url, "--catalog-key", testPub, "--insecure-catalog")
	wantCode(t, r, installer.ClassInvalidInput.ExitCode(), "install --catalog TAMPERED --yes")
	wantIn(t, "stderr", r.stderr, url)
	if strings.Contains(r.stderr, "evil.example.com") {
		t.Errorf("the tampered catalog's content got through:\n%s", r.stderr)
	}

	a := writeFile(t, dir, "a.toml", "version = 1\nconfirm = true\n[source]\nedition = \"site-kiosk\"\ncatalog = \""+url+"\"\n[disk]\npath = \""+img+"\"\n")
	r = runUAIEnv(t, env, "install", "--demo", "--answers", a, "--target-dir", target, "--catalog-key", testPub, "--progress", "json")
	wantCode(t, r, installer.ClassInvalidInput.ExitCode(), "install --answers (tampered source.catalog)")
	if _, res := events(t, r.stdout); res.Class != installer.ClassInvalidInput.String() || !strings.Contains(res.Error, "source.catalog of the answers") {
		t.Errorf("result record %+v", res)
	}
	if contentSum(t, img) != before {
		t.Fatal("an install from a tampered catalog changed the disk")
	}
}

// An unreachable remote catalog with no cached copy falls back to the
// embedded catalog with a warning on stderr; an edition only the remote
// catalog has is then not found (exit 2, naming it).
func TestCatalogInstallUnreachable(t *testing.T) {
	url := "https://" + closedPort(t) + "/catalog.json"
	dir := t.TempDir()
	img := sparseImage(t, dir, 64<<30)
	env := catEnv(t)
	base := []string{"plan", "--demo", "--target", img, "--target-dir", filepath.Join(dir, "t"), "--catalog", url, "--catalog-key", testPub}

	r := runUAIEnv(t, env, append(base, "--edition", "fedora-bootc-44")...)
	wantCode(t, r, 0, "plan --catalog UNREACHABLE --edition fedora-bootc-44")
	wantIn(t, "stderr", r.stderr, "uai: warning: ", "there is no cached copy, so the catalog built into uai is used instead")
	if strings.Contains(r.stdout, "Catalog   ") {
		t.Errorf("the plan names a catalog it did not read:\n%s", r.stdout)
	}

	r = runUAIEnv(t, env, append(base, "--edition", "site-kiosk")...)
	wantCode(t, r, 2, "plan --catalog UNREACHABLE --edition site-kiosk")
	wantIn(t, "stderr", r.stderr, `edition "site-kiosk" is not in the catalog`, "the catalog built into uai is used instead")
}

// uai switch lists and switches to the editions of the --catalog catalogs.
func TestCatalogInstallSwitch(t *testing.T) {
	state := filepath.Join(t.TempDir(), "demo")
	env := append(catEnv(t), "PATH=/nonexistent")
	r := runUAIEnv(t, env, "switch", "--demo", "--demo-state", state, "--plain")
	wantCode(t, r, 0, "switch --demo --plain")
	if strings.Contains(r.stdout, "site-kiosk") {
		t.Fatalf("the embedded catalog lists site-kiosk:\n%s", r.stdout)
	}
	r = runUAIEnv(t, env, "switch", "--demo", "--demo-state", state, "--plain", "--catalog", fixture)
	wantCode(t, r, 0, "switch --demo --plain --catalog FILE")
	wantIn(t, "stdout", r.stdout, "site-kiosk", "registry.example.com/site/kiosk:3")
	if strings.Contains(r.stdout, "fedora-kinoite") {
		t.Errorf("--catalog FILE still lists the embedded editions:\n%s", r.stdout)
	}

	r = runUAIEnv(t, env, "switch", "--demo", "--demo-state", state, "site-kiosk", "--progress=json", "--catalog", fixture)
	wantCode(t, r, installer.ClassNotConfirmed.ExitCode(), "switch --demo site-kiosk --catalog FILE")
	if _, res := swEvents(t, r.stdout); res.Edition != "site-kiosk" || res.Image != "registry.example.com/site/kiosk:3" {
		t.Errorf("switch result %+v", res)
	}
	r = runUAIEnv(t, env, "switch", "--demo", "--demo-state", state, "site-kiosk", "--progress=json")
	if r.code == 0 || r.code == installer.ClassNotConfirmed.ExitCode() {
		t.Errorf("switch to site-kiosk without its catalog: exit %d\n%s", r.code, r.stderr)
	}
}
