package catalog

import (
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// ociOptions are Open options for an oci:// catalog in a test registry.
func ociOptions(t testing.TB, loc string) Options {
	return Options{
		Sources:  []string{loc},
		Keys:     []string{"testdata/keys/test.pub"},
		CacheDir: t.TempDir(),
		Keychain: anonymous,
		Timeout:  5 * time.Second,
		Backoff:  10 * time.Millisecond,
	}
}

// blobCounter counts blob GETs, to see that an unchanged catalog is not
// downloaded again.
func blobCounter(n *atomic.Int32) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/") {
				n.Add(1)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// TestOCICatalog: a catalog pushed as an artifact with its signature as a
// second layer; the next run sees the same manifest digest and fetches no
// blob; the artifact's manifest has the documented shape.
func TestOCICatalog(t *testing.T) {
	var blobs atomic.Int32
	host := newRegistry(t, blobCounter(&blobs))
	key, priv := testKeyPair(t, "test")
	data := signedCatalog(t)
	ref := host + "/uai/catalog:1"
	digest, err := PublishOCI(ctxT(t), ref, data, sign(priv, data), Options{Keychain: anonymous})
	if err != nil {
		t.Fatal(err)
	}

	o := ociOptions(t, "oci://"+ref)
	blobs.Store(0)
	l, err := Open(ctxT(t), o)
	if err != nil {
		t.Fatal(err)
	}
	s := l.Sources[0]
	if s.Kind != KindNetwork || s.SignedBy != key.ID || s.Editions != 2 || s.NotModified || blobs.Load() != 2 {
		t.Fatalf("source %+v, %d blobs fetched", s, blobs.Load())
	}
	blobs.Store(0)
	l, err = Open(ctxT(t), o)
	if err != nil || !l.Sources[0].NotModified || blobs.Load() != 0 || l.Sources[0].SignedBy != key.ID {
		t.Fatalf("second run: %v, source %+v, %d blobs fetched", err, l.Sources[0], blobs.Load())
	}

	desc, err := remote.Get(mustRef(t, ref))
	if err != nil {
		t.Fatal(err)
	}
	if desc.Digest.String() != digest {
		t.Errorf("PublishOCI returned %s; the registry has %s", digest, desc.Digest)
	}
	m, err := v1.ParseManifest(strings.NewReader(string(desc.Manifest)))
	if err != nil {
		t.Fatal(err)
	}
	if m.ArtifactType != ArtifactType || m.Config.MediaType != EmptyConfigMediaType || m.Config.Size != 2 || len(m.Layers) != 2 ||
		m.Layers[0].MediaType != CatalogMediaType || m.Layers[1].MediaType != SignatureMediaType ||
		m.Layers[0].Annotations["org.opencontainers.image.title"] != "catalog.json" {
		t.Errorf("manifest %s", desc.Manifest)
	}
}

// TestOCIReferrerSignature: the signature attached as a referrer, on a
// registry with the referrers API and on one with only the tag scheme; a
// second referrer by an unknown key does not get in the way.
func TestOCIReferrerSignature(t *testing.T) {
	for _, referrers := range []bool{true, false} {
		t.Run(map[bool]string{true: "referrers API", false: "tag fallback"}[referrers], func(t *testing.T) {
			var opts []registry.Option
			if referrers {
				opts = append(opts, registry.WithReferrersSupport(true))
			}
			host := newRegistry(t, nil, opts...)
			testReferrerSignature(t, host)
		})
	}
}

func testReferrerSignature(t *testing.T, host string) {
	key, priv := testKeyPair(t, "test")
	_, otherPriv := testKeyPair(t, "other")
	data := signedCatalog(t)
	ref := host + "/uai/catalog:2"
	if _, err := PublishOCI(ctxT(t), ref, data, nil, Options{Keychain: anonymous}); err != nil {
		t.Fatal(err)
	}
	o := ociOptions(t, "oci://"+ref)
	if _, err := Open(ctxT(t), o); !errors.Is(err, ErrUnsigned) {
		t.Fatalf("before signing: %v; want ErrUnsigned", err)
	}
	if _, err := AttachOCISignature(ctxT(t), ref, sign(otherPriv, data), Options{Keychain: anonymous}); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctxT(t), o); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("signed by another key only: %v; want ErrUnknownKey", err)
	}
	if _, err := AttachOCISignature(ctxT(t), ref, sign(priv, data), Options{Keychain: anonymous}); err != nil {
		t.Fatal(err)
	}
	l, err := Open(ctxT(t), o)
	if err != nil || l.Sources[0].SignedBy != key.ID {
		t.Fatalf("signed: %v, %+v", err, l)
	}
}

func TestOCIRefusals(t *testing.T) {
	host := newRegistry(t, nil)
	pushImage(t, host+"/bootc/os:44", fresh("amd64"))
	for _, c := range []struct {
		name, loc string
		kind      error
		msg       string
	}{
		{"an image, not a catalog", "oci://" + host + "/bootc/os:44", ErrInvalid, "is not a uai catalog artifact"},
		{"missing tag", "oci://" + host + "/uai/catalog:404", ErrNotFound, "not found in registry"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Open(ctxT(t), ociOptions(t, c.loc))
			if !errors.Is(err, c.kind) {
				t.Fatalf("error = %v; want %v", err, c.kind)
			}
			checkMessage(t, err, c.msg)
		})
	}
	t.Run("registry down", func(t *testing.T) {
		o := ociOptions(t, "oci://"+closedAddr(t)+"/uai/catalog:1")
		l, err := Open(ctxT(t), o)
		if err != nil {
			t.Fatal(err)
		}
		s := l.Sources[0]
		if s.Kind != KindEmbedded || !strings.Contains(s.Warnings[0], "connection refused (tried 3 times)") {
			t.Fatalf("source %+v", s)
		}
	})
}
