package catalog

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestOpenEmbeddedByDefault(t *testing.T) {
	l, err := Open(ctxT(t), Options{NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(l.Catalog, Embedded()) {
		t.Error("the default is not the embedded catalog")
	}
	s := l.Sources
	if len(s) != 1 || s[0].Kind != KindEmbedded || s[0].Location != EmbeddedLocation || s[0].Editions != len(Embedded().Editions) || len(l.Warnings()) != 0 {
		t.Errorf("sources %+v warnings %q", s, l.Warnings())
	}
	if src, ok := l.SourceOf("fedora-bootc-44"); !ok || src.Kind != KindEmbedded {
		t.Errorf("SourceOf = %+v %v", src, ok)
	}
	if got, want := s[0].String(), fmt.Sprintf("the catalog built into uai, %d editions", len(Embedded().Editions)); got != want {
		t.Errorf("String() = %q; want %q", got, want)
	}
}

// TestOpenHTTPS: a signed catalog is fetched and cached; the next run
// revalidates with the ETag and gets 304; a changed catalog (new ETag) is
// fetched again.
func TestOpenHTTPS(t *testing.T) {
	_, priv := testKeyPair(t, "test")
	key, _ := testKeyPair(t, "test")
	data := signedCatalog(t)
	cs := newCatalogServer(t, data, sign(priv, data))
	o := cs.options(t, t.TempDir())

	l, err := Open(ctxT(t), o)
	if err != nil {
		t.Fatal(err)
	}
	s := l.Sources[0]
	if s.Kind != KindNetwork || s.NotModified || s.SignedBy != key.ID || s.Editions != 2 || s.Digest != digestOf(data) || len(s.Warnings) != 0 {
		t.Fatalf("source %+v", s)
	}
	if !strings.Contains(s.SignedComment, "timestamp:") || s.Location != cs.url() || s.FetchedAt.IsZero() {
		t.Errorf("source %+v", s)
	}
	if _, ok := l.Catalog.Lookup("site-kiosk"); !ok || len(l.Catalog.Editions) != 2 {
		t.Errorf("catalog %+v", l.Catalog)
	}

	l2, err := Open(ctxT(t), o)
	if err != nil {
		t.Fatal(err)
	}
	if s := l2.Sources[0]; s.Kind != KindNetwork || !s.NotModified || s.SignedBy != key.ID || cs.notMod.Load() != 1 {
		t.Fatalf("second run: source %+v, %d answers 304", s, cs.notMod.Load())
	}
	if !reflect.DeepEqual(l.Catalog, l2.Catalog) {
		t.Error("the revalidated catalog differs")
	}
	if !strings.Contains(l2.Sources[0].String(), "not modified since the cached copy") {
		t.Errorf("String() = %q", l2.Sources[0].String())
	}

	changed := bytes.Replace(data, []byte("kiosk:3"), []byte("kiosk:4"), 1)
	cs.catalog.Store(changed)
	cs.sig.Store(sign(priv, changed))
	cs.etag.Store(`"v2"`)
	l3, err := Open(ctxT(t), o)
	if err != nil {
		t.Fatal(err)
	}
	if e, _ := l3.Catalog.Lookup("site-kiosk"); e.Image != "registry.example.com/site/kiosk:4" || l3.Sources[0].NotModified {
		t.Errorf("after a change: %s, %+v", e.Image, l3.Sources[0])
	}
}

// TestOpenOffline: server down -> the cached copy (with its age) -> the
// embedded catalog, each said in the source's warnings.
func TestOpenOffline(t *testing.T) {
	_, priv := testKeyPair(t, "test")
	data := signedCatalog(t)
	cs := newCatalogServer(t, data, sign(priv, data))
	cacheDir := t.TempDir()
	o := cs.options(t, cacheDir)
	if _, err := Open(ctxT(t), o); err != nil {
		t.Fatal(err)
	}
	cs.Close()

	o.Now = func() time.Time { return time.Now().Add(3 * time.Hour) }
	l, err := Open(ctxT(t), o)
	if err != nil {
		t.Fatal(err)
	}
	s := l.Sources[0]
	if s.Kind != KindCache || s.Age() < 3*time.Hour || s.Age() > 4*time.Hour || s.SignedBy == "" || len(l.Catalog.Editions) != 2 {
		t.Fatalf("source %+v", s)
	}
	if len(s.Warnings) != 1 || !strings.Contains(s.Warnings[0], "unreachable") || !strings.Contains(s.Warnings[0], "using the copy cached 3 hours ago") {
		t.Errorf("warnings %q", s.Warnings)
	}
	if got := s.String(); !strings.Contains(got, "cached copy, 3 hours old") {
		t.Errorf("String() = %q", got)
	}

	o.CacheDir = t.TempDir() // no cached copy
	l, err = Open(ctxT(t), o)
	if err != nil {
		t.Fatal(err)
	}
	s = l.Sources[0]
	if s.Kind != KindEmbedded || s.Location != cs.url() || !reflect.DeepEqual(l.Catalog, Embedded()) {
		t.Fatalf("source %+v", s)
	}
	if len(s.Warnings) != 1 || !strings.Contains(s.Warnings[0], "there is no cached copy, so the catalog built into uai is used instead") {
		t.Errorf("warnings %q", s.Warnings)
	}
	if got := s.String(); !strings.Contains(got, "in place of "+cs.url()) {
		t.Errorf("String() = %q", got)
	}
	if got := l.Warnings(); len(got) != 1 {
		t.Errorf("Loaded.Warnings() = %q", got)
	}
}

// TestOpenOfflineUnusableCache: a cached copy that no longer verifies (it
// was accepted with --insecure-catalog) is not used without it.
func TestOpenOfflineUnusableCache(t *testing.T) {
	data := signedCatalog(t)
	cs := newCatalogServer(t, data, nil)
	o := cs.options(t, t.TempDir())
	o.Insecure = true
	if _, err := Open(ctxT(t), o); err != nil {
		t.Fatal(err)
	}
	cs.Close()
	o.Insecure = false
	l, err := Open(ctxT(t), o)
	if err != nil {
		t.Fatal(err)
	}
	s := l.Sources[0]
	if s.Kind != KindEmbedded || len(s.Warnings) != 1 || !strings.Contains(s.Warnings[0], "the cached copy is not usable") || !strings.Contains(s.Warnings[0], "not signed") {
		t.Fatalf("source %+v", s)
	}
}

// TestOpenSignatures: what each signature problem does to a remote
// catalog, with and without --insecure-catalog.
func TestOpenSignatures(t *testing.T) {
	_, priv := testKeyPair(t, "test")
	_, otherPriv := testKeyPair(t, "other")
	data := signedCatalog(t)
	modified := bytes.Replace(data, []byte("kiosk:3"), []byte("kiosk:4"), 1)
	cases := []struct {
		name     string
		data     []byte
		sig      []byte
		insecure bool
		kind     error  // nil: accepted
		warning  string // for accepted ones
	}{
		{name: "good", data: data, sig: sign(priv, data)},
		{name: "missing", data: data, sig: nil, kind: ErrUnsigned},
		{name: "missing, insecure", data: data, sig: nil, insecure: true, warning: "without a verified signature (--insecure-catalog)"},
		{name: "wrong key", data: data, sig: sign(otherPriv, data), kind: ErrUnknownKey},
		{name: "wrong key, insecure", data: data, sig: sign(otherPriv, data), insecure: true, warning: "does not trust"},
		{name: "bad", data: data, sig: []byte("garbage"), kind: ErrBadSignature},
		{name: "signed then modified", data: modified, sig: sign(priv, data), kind: ErrBadSignature},
		{name: "signed then modified, insecure", data: modified, sig: sign(priv, data), insecure: true, kind: ErrBadSignature},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cs := newCatalogServer(t, c.data, c.sig)
			o := cs.options(t, t.TempDir())
			o.Insecure = c.insecure
			l, err := Open(ctxT(t), o)
			if c.kind != nil {
				if !errors.Is(err, c.kind) || IsDependency(err) {
					t.Fatalf("error = %v; want %v", err, c.kind)
				}
				checkMessage(t, err, cs.url())
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			s := l.Sources[0]
			if c.warning == "" && (s.SignedBy == "" || len(s.Warnings) != 0) {
				t.Errorf("source %+v", s)
			}
			if c.warning != "" && (s.SignedBy != "" || len(s.Warnings) != 1 || !strings.Contains(s.Warnings[0], c.warning)) {
				t.Errorf("source %+v; want the warning %q", s, c.warning)
			}
		})
	}
}

// TestOpenRetries: 503s are retried with backoff; when they do not stop,
// the catalog falls back, and the warning says how often it tried.
func TestOpenRetries(t *testing.T) {
	_, priv := testKeyPair(t, "test")
	data := signedCatalog(t)
	cs := newCatalogServer(t, data, sign(priv, data))
	o := cs.options(t, t.TempDir())
	cs.fail.Store(2)
	l, err := Open(ctxT(t), o)
	if err != nil || l.Sources[0].Kind != KindNetwork || cs.requests.Load() != 3 {
		t.Fatalf("after two 503s: %v, %d requests, sources %+v", err, cs.requests.Load(), l.Sources)
	}
	cs.requests.Store(0)
	cs.fail.Store(100)
	o.CacheDir = t.TempDir()
	start := time.Now()
	l, err = Open(ctxT(t), o)
	if err != nil {
		t.Fatal(err)
	}
	s := l.Sources[0]
	if s.Kind != KindEmbedded || cs.requests.Load() != 3 || !strings.Contains(s.Warnings[0], "503 Service Unavailable (tried 3 times); try again later") {
		t.Fatalf("%d requests, source %+v", cs.requests.Load(), s)
	}
	// Pauses of 10 and 20 ms.
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("three attempts took %s: no backoff", d)
	}
}

func TestBackoffIsBounded(t *testing.T) {
	var got []time.Duration
	for a := 1; a <= 6; a++ {
		got = append(got, backoff(time.Second, a))
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second, 5 * time.Second}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("backoff = %v; want %v", got, want)
	}
	if o := (Options{Attempts: 1000}).withDefaults(); o.Attempts != maxAttempts {
		t.Errorf("attempts are not capped: %d", o.Attempts)
	}
}

// TestOpenStall: a server that sends half the catalog and stalls times out
// (per attempt) and the catalog falls back.
func TestOpenStall(t *testing.T) {
	data := signedCatalog(t)
	var hits atomic.Int32
	s := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Length", "100000")
		w.Write(data[:100])
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	t.Cleanup(s.Close)
	o := Options{Sources: []string{s.URL + "/catalog.json"}, NoCache: true, Transport: s.Client().Transport, Timeout: 300 * time.Millisecond, Attempts: 2, Backoff: time.Millisecond}
	l, err := Open(ctxT(t), o)
	if err != nil {
		t.Fatal(err)
	}
	src := l.Sources[0]
	if src.Kind != KindEmbedded || hits.Load() != 2 || !strings.Contains(src.Warnings[0], "timed out: no complete answer within 300ms (tried 2 times)") {
		t.Fatalf("%d requests, source %+v", hits.Load(), src)
	}
}

// TestOpenHTTPRefusals: a 404 or a login wall is not "offline": it is an
// error, without a fallback, and without retries.
func TestOpenHTTPRefusals(t *testing.T) {
	for _, c := range []struct {
		status int
		kind   error
		msg    string
	}{
		{http.StatusNotFound, ErrNotFound, "not found (404 Not Found); check the URL"},
		{http.StatusForbidden, ErrUnauthorized, "access denied (403 Forbidden)"},
		{http.StatusTeapot, ErrUnreachable, "which uai does not expect"},
	} {
		t.Run(http.StatusText(c.status), func(t *testing.T) {
			var hits atomic.Int32
			s := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				http.Error(w, "no", c.status)
			}))
			t.Cleanup(s.Close)
			o := Options{Sources: []string{s.URL + "/catalog.json"}, NoCache: true, Transport: s.Client().Transport, Backoff: time.Millisecond}
			l, err := Open(ctxT(t), o)
			if c.kind == ErrUnreachable {
				// An unexpected answer counts as a failed server: fallback,
				// but no retries.
				if err != nil || l.Sources[0].Kind != KindEmbedded || hits.Load() != 1 || !strings.Contains(l.Sources[0].Warnings[0], c.msg) {
					t.Fatalf("err %v, %d requests, sources %+v", err, hits.Load(), l)
				}
				return
			}
			if !errors.Is(err, c.kind) || hits.Load() != 1 {
				t.Fatalf("error = %v after %d requests; want %v after 1", err, hits.Load(), c.kind)
			}
			checkMessage(t, err, c.msg)
		})
	}
}

// TestOpenUntrustedTLS: a certificate uai does not trust (a captive portal)
// is not retried, and the catalog falls back with the reason.
func TestOpenUntrustedTLS(t *testing.T) {
	_, priv := testKeyPair(t, "test")
	data := signedCatalog(t)
	cs := newCatalogServer(t, data, sign(priv, data))
	o := cs.options(t, t.TempDir())
	o.Transport = nil // the default transport does not trust the test CA
	l, err := Open(ctxT(t), o)
	if err != nil {
		t.Fatal(err)
	}
	s := l.Sources[0]
	if s.Kind != KindEmbedded || cs.requests.Load() != 0 || !strings.Contains(s.Warnings[0], "TLS certificate is not trusted") || strings.Contains(s.Warnings[0], "tried") {
		t.Fatalf("source %+v", s)
	}
}

func TestOpenOversize(t *testing.T) {
	cs := newCatalogServer(t, bytes.Repeat([]byte(" "), MaxSizeBytes+10), nil)
	_, err := Open(ctxT(t), cs.options(t, t.TempDir()))
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("error = %v; want ErrInvalid", err)
	}
	checkMessage(t, err, "larger than the limit")
}

func TestOpenInvalidRemote(t *testing.T) {
	_, priv := testKeyPair(t, "test")
	bad := []byte(`{"apiVersion":"uai.catalog/v1","editions":[]}`)
	cs := newCatalogServer(t, bad, sign(priv, bad))
	_, err := Open(ctxT(t), cs.options(t, t.TempDir()))
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "$.editions: the catalog has no editions") {
		t.Fatalf("error = %v", err)
	}
	checkMessage(t, err, "has 1 problem;", "uai catalog validate")
}

func TestParseSource(t *testing.T) {
	for _, c := range []struct {
		in   string
		kind sourceKind
		bad  string // part of the error, or "" for valid
	}{
		{in: "embedded", kind: srcEmbedded},
		{in: "catalog.json", kind: srcFile},
		{in: "./site/catalog.json", kind: srcFile},
		{in: "/etc/uai/catalog.json", kind: srcFile},
		{in: "file:///etc/uai/catalog.json", kind: srcFile},
		{in: "file://localhost/etc/uai/catalog.json", kind: srcFile},
		{in: "https://example.com/catalog.json", kind: srcHTTPS},
		{in: "HTTPS://example.com/catalog.json", kind: srcHTTPS},
		{in: "oci://quay.io/example/catalog:1", kind: srcOCI},
		{in: "oci://localhost:5000/catalog@sha256:" + strings.Repeat("a", 64), kind: srcOCI},
		{in: "", bad: "catalog source is empty"},
		{in: "http://example.com/catalog.json", bad: "plain http is not accepted; use https://"},
		{in: "https:///catalog.json", bad: "not a valid URL"},
		{in: "https://user:hunter2@example.com/c.json", kind: srcHTTPS},
		{in: "ftp://example.com/catalog.json", bad: `"ftp" is not a supported scheme`},
		{in: "file://server/share/catalog.json", bad: "file:///absolute/path"},
		{in: "oci://catalog:1", bad: "does not start with a registry host"},
		{in: "oci://quay.io/example/catalog", bad: "has no tag"},
	} {
		sp, err := parseSource(c.in)
		if c.bad != "" {
			if !errors.Is(err, ErrBadSource) {
				t.Errorf("%q: error = %v; want ErrBadSource", c.in, err)
				continue
			}
			checkMessage(t, err, c.bad)
			continue
		}
		if err != nil || sp.kind != c.kind {
			t.Errorf("%q: kind %v err %v; want kind %v", c.in, sp.kind, err, c.kind)
		}
		if strings.Contains(sp.shown, "hunter2") {
			t.Errorf("%q: shown as %q, with the password", c.in, sp.shown)
		}
	}
}

// TestOpenFilesAndMerge: local files merge in order, later wins, conflicts
// name both sources and the fields, and SourceOf tells them apart.
func TestOpenFilesAndMerge(t *testing.T) {
	dir := t.TempDir()
	site := filepath.Join(dir, "site.json")
	if err := os.WriteFile(site, signedCatalog(t), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := Open(ctxT(t), Options{Sources: []string{"embedded", site}, NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(l.Catalog.Editions); n != len(Embedded().Editions)+1 {
		t.Errorf("%d editions; want the embedded ones plus site-kiosk", n)
	}
	e, _ := l.Catalog.Lookup("fedora-bootc-44")
	if e.Image != "registry.example.com/fedora/fedora-bootc:44" || l.Catalog.Editions[slicesIndexID(l.Catalog, "fedora-bootc-44")].ID != Embedded().Editions[slicesIndexID(Embedded(), "fedora-bootc-44")].ID {
		t.Errorf("fedora-bootc-44 = %s; the site file must win, in the embedded edition's place", e.Image)
	}
	if len(l.Conflicts) != 1 {
		t.Fatalf("conflicts %+v", l.Conflicts)
	}
	c := l.Conflicts[0]
	if c.ID != "fedora-bootc-44" || c.Winner != site || c.Loser != "embedded" || !strings.Contains(strings.Join(c.Fields, ","), "image") {
		t.Errorf("conflict %+v", c)
	}
	if src, _ := l.SourceOf("fedora-bootc-44"); src.Kind != KindFile {
		t.Errorf("fedora-bootc-44 comes from %+v", src)
	}
	if src, _ := l.SourceOf("fedora-silverblue"); src.Kind != KindEmbedded {
		t.Errorf("fedora-silverblue comes from %+v", src)
	}
	if w := l.Warnings(); len(w) != 1 || !strings.Contains(w[0], "edition fedora-bootc-44 from "+site+" replaces the one from embedded") {
		t.Errorf("warnings %q", w)
	}

	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"apiVersion":"uai.catalog/v1","editions":[{}]}`), 0o644)
	_, err = Open(ctxT(t), Options{Sources: []string{bad}, NoCache: true})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), `$.editions[0].id: required field "id" is missing`) {
		t.Errorf("invalid file: %v", err)
	}
	_, err = Open(ctxT(t), Options{Sources: []string{filepath.Join(dir, "missing.json")}, NoCache: true})
	if err == nil || !strings.Contains(err.Error(), "no such file") || IsDependency(err) {
		t.Errorf("missing file: %v", err)
	}
	_, err = Open(ctxT(t), Options{Keys: []string{filepath.Join(dir, "missing.pub")}, NoCache: true})
	if !errors.Is(err, ErrBadKey) {
		t.Errorf("missing key: %v", err)
	}
}

func slicesIndexID(c *Catalog, id string) int {
	for i, e := range c.Editions {
		if e.ID == id {
			return i
		}
	}
	return -1
}

func TestDefaultCacheDir(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "/tmp/xdg")
	if d := DefaultCacheDir(); d != "/tmp/xdg/uai" {
		t.Errorf("with XDG_CACHE_HOME: %s", d)
	}
	t.Setenv("XDG_CACHE_HOME", "relative") // not absolute: ignored, as the spec says
	t.Setenv("HOME", "/home/someone")
	want := "/home/someone/.cache/uai"
	if os.Geteuid() == 0 {
		want = "/var/cache/uai"
	}
	if d := DefaultCacheDir(); d != want {
		t.Errorf("without XDG_CACHE_HOME: %s; want %s", d, want)
	}
}

// TestCacheIgnoresDamage: a damaged or foreign entry is no entry.
func TestCacheIgnoresDamage(t *testing.T) {
	c := cache{dir: t.TempDir()}
	e := &cacheEntry{Location: "https://example.com/c.json", FetchedAt: time.Now(), Catalog: []byte("{}")}
	if err := c.store(e); err != nil {
		t.Fatal(err)
	}
	if got := c.load(e.Location); got == nil || string(got.Catalog) != "{}" {
		t.Fatalf("load = %+v", got)
	}
	if got := c.load("https://example.com/other.json"); got != nil {
		t.Errorf("another location has an entry: %+v", got)
	}
	os.WriteFile(c.path(e.Location), []byte("{not json"), 0o644)
	if got := c.load(e.Location); got != nil {
		t.Errorf("a damaged entry loads: %+v", got)
	}
	if err := (cache{dir: "/proc/uai-cannot-write"}).store(e); err == nil || !strings.Contains(err.Error(), "XDG_CACHE_HOME") {
		t.Errorf("unwritable cache: %v", err)
	}
}
