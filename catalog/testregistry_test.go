package catalog

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"aead.dev/minisign"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Helpers shared by the tests that talk to registries and servers.

// anonymous keeps the tests away from the credentials of whoever runs them.
var anonymous = authn.NewMultiKeychain()

// newRegistry starts go-containerregistry's in-process registry. wrap, when
// not nil, puts a handler in front of it (a stall, a drop, a login).
func newRegistry(t testing.TB, wrap func(http.Handler) http.Handler, opts ...registry.Option) string {
	t.Helper()
	var h http.Handler = registry.New(append([]registry.Option{registry.Logger(log.New(io.Discard, "", 0))}, opts...)...)
	if wrap != nil {
		h = wrap(h)
	}
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return strings.TrimPrefix(s.URL, "http://")
}

// image describes a test image.
type image struct {
	arch    string
	labels  map[string]string
	created time.Time
}

var bootc = map[string]string{"containers.bootc": "1", "ostree.bootable": "true", "org.opencontainers.image.title": "test"}

// build makes a small random image with the given config.
func (im image) build(t testing.TB) v1.Image {
	t.Helper()
	img, err := random.Image(2048, 2)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", im.arch
	cf.Config.Labels = im.labels
	cf.Created = v1.Time{Time: im.created}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	return mutate.ConfigMediaType(img, types.OCIConfigJSON)
}

func mustRef(t testing.TB, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func digestOfImage(t testing.TB, img v1.Image) string {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

// pushImage pushes one image and returns its manifest digest.
func pushImage(t testing.TB, ref string, im image) string {
	t.Helper()
	img := im.build(t)
	if err := remote.Write(mustRef(t, ref), img); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	return digestOfImage(t, img)
}

// pushIndex pushes a multi-arch index with one image per image and returns
// the index digest and the child digests by arch.
func pushIndex(t testing.TB, ref string, ims ...image) (string, map[string]string) {
	t.Helper()
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	children := map[string]string{}
	for _, im := range ims {
		img := im.build(t)
		children[im.arch] = digestOfImage(t, img)
		p := &v1.Platform{OS: "linux", Architecture: im.arch}
		if im.arch == "arm64" {
			p.Variant = "v8"
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: p}})
	}
	if err := remote.WriteIndex(mustRef(t, ref), idx); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	d, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String(), children
}

// testKey loads a test key pair from testdata/keys.
func testKeyPair(t testing.TB, name string) (Key, minisign.PrivateKey) {
	t.Helper()
	k, err := ParseKey(filepath.Join("testdata", "keys", name+".pub"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join("testdata", "keys", name+".key"))
	if err != nil {
		t.Fatal(err)
	}
	var priv minisign.PrivateKey
	if err := priv.UnmarshalText(data); err != nil {
		t.Fatal(err)
	}
	return k, priv
}

func sign(priv minisign.PrivateKey, data []byte) []byte {
	return minisign.SignWithComments(priv, data, "timestamp:1767225600\tfile:catalog.json", "signature from a test key")
}

// signedCatalog is the signed fixture: testdata/signed/catalog.json.
func signedCatalog(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "signed", "catalog.json"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// catalogServer serves a catalog and its signature over TLS and counts the
// requests. Its fields may be changed between requests.
type catalogServer struct {
	*httptest.Server
	catalog, sig atomic.Value // []byte; a nil sig answers 404
	etag         atomic.Value // string; "" sends none
	// fail makes the next n catalog requests answer status.
	fail     atomic.Int32
	status   int
	requests atomic.Int32 // catalog.json requests
	notMod   atomic.Int32 // 304 answers
}

func newCatalogServer(t testing.TB, catalog, sig []byte) *catalogServer {
	t.Helper()
	cs := &catalogServer{status: http.StatusServiceUnavailable}
	cs.catalog.Store(catalog)
	cs.sig.Store(sig)
	cs.etag.Store(`"v1"`)
	cs.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/catalog.json":
			cs.requests.Add(1)
			if cs.fail.Load() > 0 {
				cs.fail.Add(-1)
				http.Error(w, "busy", cs.status)
				return
			}
			etag := cs.etag.Load().(string)
			if etag != "" {
				w.Header().Set("ETag", etag)
				if r.Header.Get("If-None-Match") == etag {
					cs.notMod.Add(1)
					w.WriteHeader(http.StatusNotModified)
					return
				}
			}
			w.Write(cs.catalog.Load().([]byte))
		case "/catalog.json.minisig":
			sig := cs.sig.Load().([]byte)
			if sig == nil {
				http.NotFound(w, r)
				return
			}
			w.Write(sig)
		default:
			http.NotFound(w, r)
		}
	}))
	// The untrusted-certificate test makes the server log a handshake
	// error; that is the point, not noise for the test output.
	cs.Config.ErrorLog = log.New(io.Discard, "", 0)
	cs.StartTLS()
	t.Cleanup(cs.Close)
	return cs
}

func (cs *catalogServer) url() string { return cs.URL + "/catalog.json" }

// options are Open options for tests: the server's TLS client, a private
// cache, the test key, short timeouts and backoff.
func (cs *catalogServer) options(t testing.TB, cacheDir string) Options {
	return Options{
		Sources:   []string{cs.url()},
		Keys:      []string{filepath.Join("testdata", "keys", "test.pub")},
		CacheDir:  cacheDir,
		Transport: cs.Client().Transport,
		Timeout:   2 * time.Second,
		Attempts:  3,
		Backoff:   10 * time.Millisecond,
		Keychain:  anonymous,
	}
}

// midResponse wraps a handler: for requests that match, it sends the status
// line, the headers and the first half of the body the inner handler would
// send, and then either stalls until the client gives up (drop false) or
// closes the connection (drop true).
func midResponse(match func(*http.Request) bool, drop bool, hits *atomic.Int32) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !match(r) {
				next.ServeHTTP(w, r)
				return
			}
			hits.Add(1)
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			body := rec.Body.Bytes()
			conn, buf, err := http.NewResponseController(w).Hijack()
			if err != nil {
				panic(err)
			}
			defer conn.Close()
			fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\n", rec.Code, http.StatusText(rec.Code))
			rec.Header().Set("Content-Length", fmt.Sprint(len(body)))
			rec.Header().Write(buf)
			buf.WriteString("\r\n")
			buf.Write(body[:len(body)/2])
			buf.Flush()
			if drop {
				return
			}
			// Stall: wait for the client to close its end (or for a
			// minute, far beyond any test's timeout).
			conn.SetReadDeadline(time.Now().Add(time.Minute))
			io.Copy(io.Discard, bufio.NewReader(conn))
		})
	}
}

// isManifestGet matches manifest GETs (not HEADs).
func isManifestGet(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/manifests/")
}

// closedAddr returns a loopback address nobody listens on.
func closedAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// quick are resolve options for tests: no credentials, short waits.
func quick() ResolveOptions {
	return ResolveOptions{Arch: "amd64", Keychain: anonymous, Timeout: 5 * time.Second, Attempts: 3, Backoff: 10 * time.Millisecond}
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
