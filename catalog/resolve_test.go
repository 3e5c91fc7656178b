package catalog

import (
	"encoding/base64"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

var now = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func fresh(arch string) image {
	return image{arch: arch, labels: bootc, created: now.Add(-72 * time.Hour)}
}

// world is one registry with the images every resolution test needs.
type world struct {
	host                          string
	index                         string            // index digest of bootc/os:44
	child                         map[string]string // child digests of bootc/os:44
	single, ostree, bootcTrue     string
	plain, stale, epoch, bootcOff string
}

func newWorld(t testing.TB, host string) world {
	t.Helper()
	w := world{host: host}
	w.index, w.child = pushIndex(t, host+"/bootc/os:44", fresh("amd64"), fresh("arm64"))
	w.single = pushImage(t, host+"/bootc/os:44-amd64", fresh("amd64"))
	w.ostree = pushImage(t, host+"/bootc/ostree:1", image{arch: "amd64", labels: map[string]string{"ostree.bootable": "true"}, created: now.Add(-time.Hour)})
	w.bootcTrue = pushImage(t, host+"/bootc/truthy:1", image{arch: "amd64", labels: map[string]string{"containers.bootc": "true"}, created: now.Add(-time.Hour)})
	w.plain = pushImage(t, host+"/library/nginx:1", image{arch: "amd64", labels: map[string]string{"maintainer": "someone"}, created: now.Add(-time.Hour)})
	w.bootcOff = pushImage(t, host+"/bootc/off:1", image{arch: "amd64", labels: map[string]string{"containers.bootc": "0"}, created: now.Add(-time.Hour)})
	w.stale = pushImage(t, host+"/bootc/old:1", image{arch: "amd64", labels: bootc, created: now.Add(-200 * 24 * time.Hour)})
	w.epoch = pushImage(t, host+"/bootc/epoch:1", image{arch: "amd64", labels: bootc, created: time.Unix(0, 0)})
	return w
}

func resolveOpts(arch string) ResolveOptions {
	o := quick()
	o.Arch, o.Now = arch, func() time.Time { return now }
	return o
}

// TestResolve covers every outcome of a resolution against one registry,
// each with its error kind and the words that make the message useful.
func TestResolve(t *testing.T) {
	w := newWorld(t, newRegistry(t, nil))
	testResolve(t, w)
}

func testResolve(t *testing.T, w world) {
	type tc struct {
		name, ref, arch, pin string
		kind                 error
		msg                  []string
		check                func(t *testing.T, info ImageInfo)
	}
	cases := []tc{
		{name: "index amd64", ref: w.host + "/bootc/os:44", arch: "amd64", check: func(t *testing.T, info ImageInfo) {
			if info.Digest != w.child["amd64"] || info.IndexDigest != w.index {
				t.Errorf("digest %s index %s; want %s and %s", info.Digest, info.IndexDigest, w.child["amd64"], w.index)
			}
			if strings.Join(info.Arches, ",") != "amd64,arm64/v8" || info.Arch != "amd64" {
				t.Errorf("arches %v arch %s", info.Arches, info.Arch)
			}
			if info.DigestRef != w.host+"/bootc/os@"+w.child["amd64"] {
				t.Errorf("digest ref %s", info.DigestRef)
			}
			if !info.Bootable || info.BootableLabel != "containers.bootc=1" || info.Layers != 2 || info.Stale || len(info.Warnings) != 0 {
				t.Errorf("info %+v", info)
			}
			// Two random layers of 2048 bytes compress to about that much
			// each, plus a config of a few hundred bytes.
			if info.SizeBytes < 2048 || info.SizeBytes > 16384 {
				t.Errorf("size %d", info.SizeBytes)
			}
			if !info.Created.Equal(now.Add(-72 * time.Hour)) {
				t.Errorf("created %s", info.Created)
			}
		}},
		{name: "index arm64", ref: w.host + "/bootc/os:44", arch: "arm64", check: func(t *testing.T, info ImageInfo) {
			if info.Digest != w.child["arm64"] || info.Arch != "arm64" {
				t.Errorf("digest %s arch %s; want %s", info.Digest, info.Arch, w.child["arm64"])
			}
		}},
		{name: "index lacks arch", ref: w.host + "/bootc/os:44", arch: "s390x", kind: ErrWrongArch,
			msg: []string{"not built for this architecture (s390x)", "linux amd64 or arm64/v8 only", "pick an edition built for s390x"}},
		{name: "single manifest", ref: w.host + "/bootc/os:44-amd64", arch: "amd64", check: func(t *testing.T, info ImageInfo) {
			if info.Digest != w.single || info.IndexDigest != "" || info.Arches != nil {
				t.Errorf("info %+v", info)
			}
		}},
		{name: "single manifest wrong arch", ref: w.host + "/bootc/os:44-amd64", arch: "arm64", kind: ErrWrongArch,
			msg: []string{"built for linux/amd64", "pick an edition built for arm64"}},
		{name: "ostree.bootable=true", ref: w.host + "/bootc/ostree:1", arch: "amd64", check: func(t *testing.T, info ImageInfo) {
			if info.BootableLabel != "ostree.bootable=true" {
				t.Errorf("bootable label %q", info.BootableLabel)
			}
		}},
		{name: "containers.bootc=true", ref: w.host + "/bootc/truthy:1", arch: "amd64", check: func(t *testing.T, info ImageInfo) {
			if info.BootableLabel != "containers.bootc=true" {
				t.Errorf("bootable label %q", info.BootableLabel)
			}
		}},
		{name: "not bootc", ref: w.host + "/library/nginx:1", arch: "amd64", kind: ErrNotBootable,
			msg: []string{"is not bootable", "neither the label containers.bootc=1 nor ostree.bootable=true", "it has 1 other labels", "FROM a bootc base image"}},
		{name: "containers.bootc=0", ref: w.host + "/bootc/off:1", arch: "amd64", kind: ErrNotBootable,
			msg: []string{`containers.bootc="0"`}},
		{name: "missing tag", ref: w.host + "/bootc/os:45", arch: "amd64", kind: ErrNotFound,
			msg: []string{"image " + w.host + "/bootc/os:45 not found in registry " + w.host, "MANIFEST_UNKNOWN", "check the repository and the tag"}},
		{name: "missing repository", ref: w.host + "/nobody/nothing:1", arch: "amd64", kind: ErrNotFound},
		{name: "pinned index digest", ref: w.host + "/bootc/os:44", arch: "arm64", pin: w.index, check: func(t *testing.T, info ImageInfo) {
			if info.PinnedDigest != w.index || info.TagDigest != w.index || info.Digest != w.child["arm64"] || len(info.Warnings) != 0 {
				t.Errorf("info %+v", info)
			}
		}},
		{name: "pinned child digest", ref: w.host + "/bootc/os:44", arch: "amd64", pin: w.child["amd64"], check: func(t *testing.T, info ImageInfo) {
			if info.Digest != w.child["amd64"] || info.IndexDigest != "" || len(info.Warnings) != 0 {
				t.Errorf("info %+v", info)
			}
		}},
		{name: "pinned, tag moved on", ref: w.host + "/bootc/os:44-amd64", arch: "amd64", pin: w.child["amd64"], check: func(t *testing.T, info ImageInfo) {
			// The tag names another build (w.single) than the pin.
			if info.Digest != w.child["amd64"] || info.TagDigest != w.single {
				t.Errorf("info %+v", info)
			}
			if len(info.Warnings) != 1 || !strings.Contains(info.Warnings[0], "tag 44-amd64 now points at "+w.single) || !strings.Contains(info.Warnings[0], "pinned image is the one installed") {
				t.Errorf("warnings %q", info.Warnings)
			}
		}},
		{name: "pinned digest unknown", ref: w.host + "/bootc/os:44", arch: "amd64", pin: "sha256:" + strings.Repeat("0", 64), kind: ErrNotFound,
			msg: []string{"not found in registry"}},
		{name: "digest in ref", ref: w.host + "/bootc/os@" + w.single, arch: "amd64", check: func(t *testing.T, info ImageInfo) {
			if info.Digest != w.single {
				t.Errorf("digest %s", info.Digest)
			}
		}},
		{name: "digest in ref and another pinned", ref: w.host + "/bootc/os@" + w.single, arch: "amd64", pin: w.index, kind: ErrDigestMismatch,
			msg: []string{"drop one of them"}},
		{name: "stale", ref: w.host + "/bootc/old:1", arch: "amd64", check: func(t *testing.T, info ImageInfo) {
			if !info.Stale || len(info.Warnings) != 1 || !strings.Contains(info.Warnings[0], "was built 200 days ago") || !strings.Contains(info.Warnings[0], "longer than 90 days") {
				t.Errorf("stale %v warnings %q", info.Stale, info.Warnings)
			}
		}},
		{name: "no build time", ref: w.host + "/bootc/epoch:1", arch: "amd64", check: func(t *testing.T, info ImageInfo) {
			if info.Stale || len(info.Warnings) != 1 || !strings.Contains(info.Warnings[0], "records no real build time") {
				t.Errorf("stale %v warnings %q", info.Stale, info.Warnings)
			}
		}},
		{name: "bare name", ref: "fedora-bootc", kind: ErrBadRef, msg: []string{`does not start with a registry host`, `docker.io/library/fedora-bootc`}},
		{name: "bare name with tag", ref: "fedora-bootc:44", kind: ErrBadRef, msg: []string{`does not start with a registry host`}},
		{name: "transport", ref: "docker://" + w.host + "/bootc/os:44", kind: ErrBadRef, msg: []string{`starts with the transport "docker://"`}},
		{name: "no tag", ref: w.host + "/bootc/os", kind: ErrBadRef, msg: []string{"has no tag"}},
		{name: "bad digest", ref: w.host + "/bootc/os@sha256:abc", kind: ErrBadRef, msg: []string{`has the digest "sha256:abc"`}},
		{name: "bad pin", ref: w.host + "/bootc/os:44", pin: "sha256:xyz", kind: ErrBadRef, msg: []string{"pinned digest"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := resolveOpts(c.arch)
			o.Digest = c.pin
			info, err := ResolveImage(ctxT(t), c.ref, o)
			if c.kind == nil {
				if err != nil {
					t.Fatalf("resolve %s: %v", c.ref, err)
				}
				c.check(t, info)
				return
			}
			if !errors.Is(err, c.kind) {
				t.Fatalf("error = %v; want %v", err, c.kind)
			}
			checkMessage(t, err, c.msg...)
		})
	}
}

// checkMessage: lowercase, names the object, contains want, says a fix.
func checkMessage(t *testing.T, err error, want ...string) {
	t.Helper()
	msg := err.Error()
	if msg == "" || strings.ToLower(msg[:1]) != msg[:1] {
		t.Errorf("message does not start lowercase: %q", msg)
	}
	if !strings.Contains(msg, "; ") {
		t.Errorf("message does not say the fix after a semicolon: %q", msg)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("message %q\nlacks %q", msg, w)
		}
	}
}

func TestResolveEdition(t *testing.T) {
	host := newRegistry(t, nil)
	idx, children := pushIndex(t, host+"/bootc/os:44", fresh("amd64"), fresh("arm64"))
	e := Edition{ID: "os", Image: host + "/bootc/os:44", Digest: idx}
	info, err := ResolveEdition(ctxT(t), e, resolveOpts("arm64"))
	if err != nil || info.PinnedDigest != idx || info.Digest != children["arm64"] {
		t.Fatalf("info %+v, err %v", info, err)
	}
}

// TestResolveNetworkFailures: a registry that is not there, one that stalls
// in the middle of an answer, one that drops the connection there, and one
// that is busy and then answers.
func TestResolveNetworkFailures(t *testing.T) {
	t.Run("unreachable", func(t *testing.T) {
		o := resolveOpts("amd64")
		_, err := ResolveImage(ctxT(t), closedAddr(t)+"/bootc/os:44", o)
		if !errors.Is(err, ErrUnreachable) || errors.Is(err, ErrTimeout) || !IsDependency(err) {
			t.Fatalf("error = %v; want ErrUnreachable", err)
		}
		checkMessage(t, err, "unreachable", "connection refused", "(tried 3 times)", "check the network")
	})
	t.Run("stalls mid-response", func(t *testing.T) {
		var hits atomic.Int32
		host := newRegistry(t, midResponse(isManifestGet, false, &hits))
		pushIndex(t, host+"/bootc/os:44", fresh("amd64"))
		o := resolveOpts("amd64")
		o.Timeout = 700 * time.Millisecond
		start := time.Now()
		_, err := ResolveImage(ctxT(t), host+"/bootc/os:44", o)
		if !errors.Is(err, ErrTimeout) || !errors.Is(err, ErrUnreachable) {
			t.Fatalf("error = %v; want ErrTimeout", err)
		}
		checkMessage(t, err, "registry "+host+" timed out", "700ms")
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("gave up after %s; the timeout is 700ms", d)
		}
		if hits.Load() != 1 {
			t.Errorf("%d stalled requests; a timeout ends the resolution", hits.Load())
		}
	})
	t.Run("drops mid-response", func(t *testing.T) {
		var hits atomic.Int32
		host := newRegistry(t, midResponse(isManifestGet, true, &hits))
		pushIndex(t, host+"/bootc/os:44", fresh("amd64"))
		_, err := ResolveImage(ctxT(t), host+"/bootc/os:44", resolveOpts("amd64"))
		if !errors.Is(err, ErrUnreachable) || errors.Is(err, ErrTimeout) {
			t.Fatalf("error = %v; want ErrUnreachable", err)
		}
		checkMessage(t, err, "dropped in the middle of the answer", "(tried 3 times)")
		if hits.Load() != 3 {
			t.Errorf("%d attempts; want 3", hits.Load())
		}
	})
	t.Run("busy then answers", func(t *testing.T) {
		var busy atomic.Int32
		busy.Store(2)
		host := newRegistry(t, func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if isManifestGet(r) && busy.Add(-1) >= 0 {
					http.Error(w, `{"errors":[{"code":"UNAVAILABLE","message":"busy"}]}`, http.StatusServiceUnavailable)
					return
				}
				next.ServeHTTP(w, r)
			})
		})
		_, children := pushIndex(t, host+"/bootc/os:44", fresh("amd64"))
		info, err := ResolveImage(ctxT(t), host+"/bootc/os:44", resolveOpts("amd64"))
		if err != nil || info.Digest != children["amd64"] {
			t.Fatalf("info %+v err %v; want success on the third attempt", info, err)
		}
	})
	t.Run("busy throughout", func(t *testing.T) {
		host := newRegistry(t, func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if isManifestGet(r) {
					w.WriteHeader(http.StatusBadGateway)
					return
				}
				next.ServeHTTP(w, r)
			})
		})
		_, err := ResolveImage(ctxT(t), host+"/bootc/os:44", resolveOpts("amd64"))
		if !errors.Is(err, ErrUnreachable) {
			t.Fatalf("error = %v; want ErrUnreachable", err)
		}
		checkMessage(t, err, "answered 502", "(tried 3 times)", "try again later")
	})
}

// TestResolveDigestMismatch: a registry (or a proxy) that changes a
// manifest is caught when the manifest is fetched by digest.
func TestResolveDigestMismatch(t *testing.T) {
	var tamper atomic.Bool
	host := newRegistry(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !tamper.Load() || !isManifestGet(r) {
				next.ServeHTTP(w, r)
				return
			}
			rec := &recorder{header: http.Header{}}
			next.ServeHTTP(rec, r)
			for k, v := range rec.header {
				w.Header()[k] = v
			}
			// Same meaning, other bytes: only the digest can tell.
			body := strings.Replace(string(rec.body), `"schemaVersion":2`, `"schemaVersion": 2`, 1)
			if body == string(rec.body) {
				panic("the tampering changed nothing")
			}
			w.Header().Del("Content-Length")
			w.WriteHeader(rec.status)
			w.Write([]byte(body))
		})
	})
	d := pushImage(t, host+"/bootc/os:44", fresh("amd64"))
	tamper.Store(true)
	o := resolveOpts("amd64")
	o.Digest = d
	_, err := ResolveImage(ctxT(t), host+"/bootc/os:44", o)
	if !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("error = %v; want ErrDigestMismatch", err)
	}
	checkMessage(t, err, "does not hash to its digest", "do not use it")
}

// recorder is a minimal ResponseWriter that keeps what it is given.
type recorder struct {
	header http.Header
	status int
	body   []byte
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(s int)   { r.status = s }
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.body = append(r.body, b...)
	return len(b), nil
}

// TestResolveAuth: a registry that wants a login refuses anonymous
// resolution with ErrUnauthorized, and resolves with the credentials of
// REGISTRY_AUTH_FILE through the default keychain.
func TestResolveAuth(t *testing.T) {
	const user, pass = "bootc", "s3cret-pass"
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	host := newRegistry(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != want {
				w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				w.Write([]byte(`{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`))
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	img := fresh("amd64").build(t)
	if err := remote.Write(mustRef(t, host+"/private/os:1"), img, remote.WithAuth(&authn.Basic{Username: user, Password: pass})); err != nil {
		t.Fatal(err)
	}

	_, err := ResolveImage(ctxT(t), host+"/private/os:1", resolveOpts("amd64"))
	if !errors.Is(err, ErrUnauthorized) || IsDependency(err) {
		t.Fatalf("error = %v; want ErrUnauthorized", err)
	}
	checkMessage(t, err, "access denied", "podman login "+host, "REGISTRY_AUTH_FILE")
	if strings.Contains(err.Error(), pass) {
		t.Fatal("the message leaks the password")
	}

	// The default keychain, isolated from the user's own files.
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	t.Setenv("DOCKER_CONFIG", "")
	t.Setenv("XDG_RUNTIME_DIR", "")
	t.Setenv("XDG_CONFIG_HOME", dir)
	auth := filepath.Join(dir, "auth.json")
	if err := os.WriteFile(auth, []byte(`{"auths":{"`+host+`":{"auth":"`+base64.StdEncoding.EncodeToString([]byte(user+":"+pass))+`"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("REGISTRY_AUTH_FILE", auth)
	o := resolveOpts("amd64")
	o.Keychain = nil // the default: authn.DefaultKeychain
	info, err := ResolveImage(ctxT(t), host+"/private/os:1", o)
	if err != nil || info.Digest != digestOfImage(t, img) {
		t.Fatalf("with REGISTRY_AUTH_FILE: info %+v err %v", info, err)
	}
}

// TestResolveReferrersRegistry: the in-process registry with the referrers
// API resolves the same (a sanity check that options do not matter).
func TestResolveReferrersRegistry(t *testing.T) {
	host := newRegistry(t, nil, registry.WithReferrersSupport(true))
	_, children := pushIndex(t, host+"/bootc/os:44", fresh("amd64"))
	info, err := ResolveImage(ctxT(t), host+"/bootc/os:44", resolveOpts("amd64"))
	if err != nil || info.Digest != children["amd64"] {
		t.Fatalf("info %+v err %v", info, err)
	}
}
