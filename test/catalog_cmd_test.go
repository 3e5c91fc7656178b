package test

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"aead.dev/minisign"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/universal-atomic-installer/uai/catalog"
	"github.com/universal-atomic-installer/uai/test/internal/ocitest"
)

// runUAIEnv runs uai with extra environment variables (a private cache,
// a CA file for the test server).
func runUAIEnv(t *testing.T, env []string, args ...string) runResult {
	t.Helper()
	cmd := exec.Command(uaiBin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Env = append(append(os.Environ(), "NO_COLOR=1"), env...)
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run uai %v: %v", args, err)
	}
	return runResult{code: code, stdout: out.String(), stderr: errb.String()}
}

func wantCode(t *testing.T, r runResult, code int, args string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("uai %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", args, r.code, code, r.stdout, r.stderr)
	}
}

func wantIn(t *testing.T, what, s string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(s, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, s)
		}
	}
}

var (
	testPub    = filepath.Join("..", "catalog", "testdata", "keys", "test.pub")
	fixture    = filepath.Join("..", "catalog", "testdata", "signed", "catalog.json")
	fixtureSig = fixture + ".minisig"
)

func TestCatalogCmdEmbedded(t *testing.T) {
	r := runUAI(t, "catalog", "list")
	wantCode(t, r, 0, "catalog list")
	wantIn(t, "catalog list", r.stdout, "ID ", " FITS", "fedora-bootc-44", "from the catalog built into uai, ")
	if r.stderr != "" {
		t.Errorf("warnings for the embedded catalog: %s", r.stderr)
	}

	r = runUAI(t, "catalog", "list", "--json")
	wantCode(t, r, 0, "catalog list --json")
	c, rep := catalog.Parse([]byte(r.stdout))
	if !rep.OK() || !reflect.DeepEqual(c, catalog.Embedded()) {
		t.Errorf("catalog list --json is not the embedded catalog, readable again: %s", rep.Error())
	}

	r = runUAI(t, "catalog", "show", "fedora-bootc-44", "--json")
	wantCode(t, r, 0, "catalog show --json")
	var show struct {
		Edition catalog.Edition
		Fits    *bool
		Source  catalog.Source
	}
	if err := json.Unmarshal([]byte(r.stdout), &show); err != nil || show.Edition.Image != "quay.io/fedora/fedora-bootc:44" || show.Fits == nil || show.Source.Kind != catalog.KindEmbedded {
		t.Errorf("catalog show --json: %v\n%s", err, r.stdout)
	}
	r = runUAI(t, "catalog", "show", "fedora-bootc-44")
	wantCode(t, r, 0, "catalog show")
	wantIn(t, "catalog show", r.stdout, "image        quay.io/fedora/fedora-bootc:44", "fits ", "from         the catalog built into uai")

	r = runUAI(t, "catalog", "show", "fedora-nope")
	wantCode(t, r, 2, "catalog show fedora-nope")
	wantIn(t, "stderr", r.stderr, `edition "fedora-nope" is not in the catalog`, "pick one of: ")
}

func TestCatalogCmdValidate(t *testing.T) {
	dir := t.TempDir()
	r := runUAI(t, "catalog", "validate", fixture)
	wantCode(t, r, 0, "catalog validate")
	wantIn(t, "stdout", r.stdout, "a valid uai.catalog/v1 catalog with 2 editions")

	bad := writeFile(t, dir, "bad.json", `{"apiVersion":"uai.catalog/v1","editions":[{"id":"X","imagee":"quay.io/a/b:1"}]}`)
	r = runUAI(t, "catalog", "validate", bad)
	wantCode(t, r, 2, "catalog validate bad.json")
	wantIn(t, "stdout", r.stdout, bad+`: $.editions[0].imagee: unknown field "imagee" (did you mean "image"?)`, bad+`: $.editions[0].name: required field "name" is missing`)
	if r.stderr != "" {
		t.Errorf("the report is the output; stderr has %q", r.stderr)
	}

	r = runUAI(t, "catalog", "validate", "--json", bad)
	wantCode(t, r, 2, "catalog validate --json bad.json")
	var res struct {
		File     string
		Valid    bool
		Problems []catalog.Problem
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || res.Valid || len(res.Problems) < 5 || res.Problems[0].Path == "" {
		t.Errorf("validate --json: %v\n%s", err, r.stdout)
	}

	r = runUAI(t, "catalog", "validate", filepath.Join(dir, "missing.json"))
	wantCode(t, r, 2, "catalog validate missing.json")
	wantIn(t, "stderr", r.stderr, "no such file")
}

// tlsCatalog serves the signed fixture over TLS; the uai binary trusts its
// certificate through SSL_CERT_FILE.
type tlsCatalog struct {
	*httptest.Server
	env []string
	sig []byte
}

func newTLSCatalog(t *testing.T, signed bool) *tlsCatalog {
	t.Helper()
	data, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	tc := &tlsCatalog{}
	if signed {
		if tc.sig, err = os.ReadFile(fixtureSig); err != nil {
			t.Fatal(err)
		}
	}
	tc.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/catalog.json":
			w.Header().Set("ETag", `"fixture"`)
			w.Write(data)
		case r.URL.Path == "/catalog.json.minisig" && tc.sig != nil:
			w.Write(tc.sig)
		default:
			http.NotFound(w, r)
		}
	}))
	tc.Config.ErrorLog = log.New(io.Discard, "", 0)
	tc.StartTLS()
	t.Cleanup(tc.Close)
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tc.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	tc.env = []string{"SSL_CERT_FILE=" + ca, "XDG_CACHE_HOME=" + filepath.Join(dir, "cache")}
	return tc
}

// TestCatalogCmdRemote: a signed https catalog through the binary, then
// the same offline (cached copy, then embedded), each with its warning and
// exit 0; unsigned catalogs need --insecure-catalog.
func TestCatalogCmdRemote(t *testing.T) {
	tc := newTLSCatalog(t, true)
	url := tc.URL + "/catalog.json"
	args := []string{"catalog", "list", "--catalog", url, "--catalog-key", testPub}
	r := runUAIEnv(t, tc.env, args...)
	wantCode(t, r, 0, "catalog list --catalog "+url)
	wantIn(t, "stdout", r.stdout, "site-kiosk", "from "+url+" (network), signed by key ")

	r = runUAIEnv(t, tc.env, append(args[:len(args):len(args)], "--json")...)
	wantCode(t, r, 0, "catalog list --json")
	if c, rep := catalog.Parse([]byte(r.stdout)); !rep.OK() || len(c.Editions) != 2 {
		t.Errorf("list --json: %s", rep.Error())
	}

	r = runUAIEnv(t, tc.env, "catalog", "list", "--catalog", url)
	wantCode(t, r, 2, "catalog list without the key")
	wantIn(t, "stderr", r.stderr, "signed by a key uai does not trust", "--catalog-key")

	r = runUAIEnv(t, tc.env, "catalog", "show", "fedora-bootc-44", "--catalog", "embedded", "--catalog", url, "--catalog-key", testPub)
	wantCode(t, r, 0, "catalog show with two catalogs")
	wantIn(t, "stdout", r.stdout, "registry.example.com/fedora/fedora-bootc:44", "from         "+url)
	wantIn(t, "stderr", r.stderr, "uai: warning: edition fedora-bootc-44 from "+url+" replaces the one from embedded (", "reorder --catalog")

	tc.Close()
	r = runUAIEnv(t, tc.env, args...)
	wantCode(t, r, 0, "catalog list, server down")
	wantIn(t, "stdout", r.stdout, "site-kiosk", "(cached copy, ")
	wantIn(t, "stderr", r.stderr, "uai: warning: ", "unreachable", "using the copy cached")

	env := append(tc.env[:1:1], "XDG_CACHE_HOME="+t.TempDir())
	r = runUAIEnv(t, env, args...)
	wantCode(t, r, 0, "catalog list, server down, no cache")
	wantIn(t, "stdout", r.stdout, "fedora-silverblue", "the catalog built into uai, in place of "+url)
	wantIn(t, "stderr", r.stderr, "there is no cached copy, so the catalog built into uai is used instead")

	unsigned := newTLSCatalog(t, false)
	uurl := unsigned.URL + "/catalog.json"
	r = runUAIEnv(t, unsigned.env, "catalog", "list", "--catalog", uurl, "--catalog-key", testPub)
	wantCode(t, r, 2, "catalog list, unsigned")
	wantIn(t, "stderr", r.stderr, "is not signed", "--insecure-catalog")
	r = runUAIEnv(t, unsigned.env, "catalog", "list", "--catalog", uurl, "--insecure-catalog")
	wantCode(t, r, 0, "catalog list, unsigned, --insecure-catalog")
	wantIn(t, "stderr", r.stderr, "without a verified signature (--insecure-catalog)")

	r = runUAI(t, "catalog", "list", "--catalog", "http://example.com/catalog.json")
	wantCode(t, r, 2, "catalog list --catalog http://")
	wantIn(t, "stderr", r.stderr, "plain http is not accepted; use https://")
}

// testRegistry starts an in-process registry with bootable, plain and
// multi-arch images, and returns its host.
func testRegistry(t *testing.T) (host string, index string, amd64 string) {
	t.Helper()
	host = ocitest.Registry(t)
	mk := func(arch string, labels map[string]string) v1.Image {
		return ocitest.Image(t, 1024, 1, ocitest.Platform("linux", arch), ocitest.Labels(labels),
			ocitest.Created(time.Now().Add(-time.Hour)))
	}
	bootable := map[string]string{"containers.bootc": "1"}
	a, b := mk("amd64", bootable), mk("arm64", bootable)
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: a, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: b, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}})
	r, _ := name.ParseReference(host + "/bootc/os:44")
	if err := remote.WriteIndex(r, idx); err != nil {
		t.Fatal(err)
	}
	ocitest.Push(t, host+"/library/nginx:1", mk("amd64", map[string]string{"maintainer": "someone"}))
	d, _ := idx.Digest()
	ad, _ := a.Digest()
	return host, d.String(), ad.String()
}

// TestCatalogCmdResolve: resolve through the binary, by reference and by
// edition id, and the exit codes of the failures.
func TestCatalogCmdResolve(t *testing.T) {
	host, index, amd64 := testRegistry(t)
	env := []string{"XDG_CACHE_HOME=" + t.TempDir(), "HOME=" + t.TempDir(), "DOCKER_CONFIG=", "REGISTRY_AUTH_FILE="}
	ref := host + "/bootc/os:44"

	r := runUAIEnv(t, env, "catalog", "resolve", ref, "--arch", "amd64")
	wantCode(t, r, 0, "catalog resolve "+ref)
	wantIn(t, "stdout", r.stdout, "digest    "+amd64+" (linux/amd64)", "index     "+index+" (amd64, arm64)", "bootable  yes (containers.bootc=1)", "pull      "+host+"/bootc/os@"+amd64)

	r = runUAIEnv(t, env, "catalog", "resolve", ref, "--arch", "arm64", "--json")
	wantCode(t, r, 0, "catalog resolve --json")
	var info catalog.ImageInfo
	if err := json.Unmarshal([]byte(r.stdout), &info); err != nil || info.Arch != "arm64" || info.IndexDigest != index || info.Digest == amd64 || !info.Bootable {
		t.Errorf("resolve --json: %v\n%s", err, r.stdout)
	}

	// An edition of a local catalog, pinned to the index.
	doc := map[string]any{"apiVersion": catalog.APIVersion, "editions": []any{map[string]any{
		"id": "test-os", "name": "Test OS", "category": "server", "description": "A test edition.",
		"image": ref, "digest": index, "arches": []string{"amd64", "arm64"}, "firmware": []string{"uefi"},
		"minDiskGiB": 10, "minRAMMiB": 1024, "defaultFilesystem": "xfs", "signature": map[string]any{"policy": "none"}, "maturity": "sandbox",
	}}}
	b, _ := json.Marshal(doc)
	file := writeFile(t, t.TempDir(), "catalog.json", string(b))
	r = runUAIEnv(t, env, "catalog", "resolve", "test-os", "--catalog", file, "--arch", "amd64", "--json")
	wantCode(t, r, 0, "catalog resolve test-os")
	var res struct {
		Edition string
		catalog.ImageInfo
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || res.Edition != "test-os" || res.PinnedDigest != index || res.Digest != amd64 {
		t.Errorf("resolve test-os: %v\n%s", err, r.stdout)
	}

	for _, c := range []struct {
		ref  string
		code int
		want []string
	}{
		{host + "/library/nginx:1", 2, []string{"is not bootable", "containers.bootc=1"}},
		{host + "/bootc/os:45", 2, []string{"not found in registry " + host}},
		{ref + "", 2, []string{"not built for this architecture (s390x)"}},
		{"fedora-bootc", 2, []string{`does not start with a registry host`}},
		{"fedora-bootc:44", 2, []string{`does not start with a registry host`}},
		{closedPort(t) + "/bootc/os:44", 5, []string{"unreachable", "connection refused"}},
	} {
		args := []string{"catalog", "resolve", c.ref}
		if c.ref == ref {
			args = append(args, "--arch", "s390x")
		}
		r := runUAIEnv(t, env, args...)
		wantCode(t, r, c.code, strings.Join(args, " "))
		wantIn(t, "stderr", r.stderr, append(c.want, "uai: error: ")...)
	}
}

// TestCatalogCmdOCI: a signed catalog stored as an OCI artifact.
func TestCatalogCmdOCI(t *testing.T) {
	host, _, _ := testRegistry(t)
	data, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := os.ReadFile(fixtureSig)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := catalog.PublishOCI(t.Context(), host+"/uai/catalog:1", data, sig, catalog.Options{}); err != nil {
		t.Fatal(err)
	}
	env := []string{"XDG_CACHE_HOME=" + t.TempDir()}
	loc := "oci://" + host + "/uai/catalog:1"
	r := runUAIEnv(t, env, "catalog", "list", "--catalog", loc, "--catalog-key", testPub)
	wantCode(t, r, 0, "catalog list --catalog "+loc)
	wantIn(t, "stdout", r.stdout, "site-kiosk", "from "+loc+" (network), signed by key ")

	if _, err := catalog.PublishOCI(t.Context(), host+"/uai/catalog:unsigned", data, nil, catalog.Options{}); err != nil {
		t.Fatal(err)
	}
	r = runUAIEnv(t, env, "catalog", "list", "--catalog", "oci://"+host+"/uai/catalog:unsigned", "--catalog-key", testPub)
	wantCode(t, r, 2, "catalog list, unsigned artifact")
	wantIn(t, "stderr", r.stderr, "is not signed")

	// The test key signs what the fixture's signature says it signs.
	var key minisign.PublicKey
	pub, _ := os.ReadFile(testPub)
	if err := key.UnmarshalText(pub); err != nil || !minisign.Verify(key, data, sig) {
		t.Fatalf("the fixture's signature does not verify with the test key: %v", err)
	}
}

func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}
