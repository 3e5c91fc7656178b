package catalog

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// needProgram fails in CI, where make installs every test package, and
// skips loudly elsewhere.
func needProgram(t testing.TB, prog, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(prog)
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is missing; CI must install the Debian package %s", prog, pkg)
	}
	t.Skipf("SKIPPED LOUDLY: %s is missing; apt-get install %s to run this test", prog, pkg)
	return ""
}

// startDockerRegistry runs Debian's docker-registry (distribution 2.8) on
// a free loopback port with a minimal config: the packaged one listens on
// all interfaces and wants htpasswd auth. It returns host:port.
func startDockerRegistry(t testing.TB) string {
	t.Helper()
	bin := needProgram(t, "docker-registry", "docker-registry")
	dir := t.TempDir()
	addr := closedAddr(t)
	config := fmt.Sprintf(`version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
`, filepath.Join(dir, "data"), addr)
	cfg := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfg, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd := exec.Command(bin, "serve", cfg)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		// SIGTERM starts a graceful drain of several seconds; the data is
		// scratch, so do not wait for it.
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-exited
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case err := <-exited:
			t.Fatalf("docker-registry exited (%v):\n%s", err, out.String())
		default:
		}
		resp, err := http.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return addr
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("docker-registry did not answer on %s within 15s:\n%s", addr, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDockerRegistry runs the resolution table against Debian's
// docker-registry with images pushed by the test, then the failure modes
// through a proxy in front of it, then catalogs stored as OCI artifacts
// (distribution 2.8 has no referrers API: the tag scheme is used), and
// cross-checks with skopeo.
func TestDockerRegistry(t *testing.T) {
	host := startDockerRegistry(t)
	w := newWorld(t, host)
	t.Run("table", func(t *testing.T) { testResolve(t, w) })
	t.Run("oci catalog", func(t *testing.T) {
		key, priv := testKeyPair(t, "test")
		data := signedCatalog(t)
		if _, err := PublishOCI(ctxT(t), host+"/uai/catalog:1", data, sign(priv, data), Options{Keychain: anonymous}); err != nil {
			t.Fatal(err)
		}
		l, err := Open(ctxT(t), ociOptions(t, "oci://"+host+"/uai/catalog:1"))
		if err != nil || l.Sources[0].SignedBy != key.ID {
			t.Fatalf("%v %+v", err, l)
		}
	})
	t.Run("oci catalog with a referrer signature", func(t *testing.T) { testReferrerSignature(t, host) })

	target, _ := url.Parse("http://" + host)
	proxied := func(wrap func(http.Handler) http.Handler) string {
		s := httptest.NewServer(wrap(httputil.NewSingleHostReverseProxy(target)))
		t.Cleanup(s.Close)
		return strings.TrimPrefix(s.URL, "http://")
	}
	t.Run("stalls mid-response", func(t *testing.T) {
		var hits atomic.Int32
		h := proxied(midResponse(isManifestGet, false, &hits))
		o := resolveOpts("amd64")
		o.Timeout = 700 * time.Millisecond
		_, err := ResolveImage(ctxT(t), h+"/bootc/os:44", o)
		if !isKind(err, ErrTimeout) {
			t.Fatalf("error = %v; want ErrTimeout", err)
		}
		checkMessage(t, err, "timed out")
	})
	t.Run("drops mid-response", func(t *testing.T) {
		var hits atomic.Int32
		h := proxied(midResponse(isManifestGet, true, &hits))
		_, err := ResolveImage(ctxT(t), h+"/bootc/os:44", resolveOpts("amd64"))
		if !isKind(err, ErrUnreachable) || isKind(err, ErrTimeout) || hits.Load() != 3 {
			t.Fatalf("error = %v after %d attempts; want ErrUnreachable after 3", err, hits.Load())
		}
		checkMessage(t, err, "dropped in the middle of the answer")
	})

	t.Run("skopeo agrees", func(t *testing.T) {
		skopeo := needProgram(t, "skopeo", "skopeo")
		run := func(args ...string) []byte {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, skopeo, append([]string{"--override-os", "linux"}, args...)...).Output()
			if err != nil {
				t.Fatalf("skopeo %v: %v", args, err)
			}
			return out
		}
		raw := run("inspect", "--tls-verify=false", "--raw", "docker://"+host+"/bootc/os:44")
		sum := sha256.Sum256(raw)
		if d := "sha256:" + hex.EncodeToString(sum[:]); d != w.index {
			t.Errorf("skopeo's index digest %s; uai resolved %s", d, w.index)
		}
		var index struct {
			Manifests []struct {
				Digest   string
				Platform struct{ Architecture string }
			}
		}
		if err := json.Unmarshal(raw, &index); err != nil {
			t.Fatal(err)
		}
		for _, arch := range []string{"amd64", "arm64"} {
			info, err := ResolveImage(ctxT(t), host+"/bootc/os:44", resolveOpts(arch))
			if err != nil {
				t.Fatal(err)
			}
			listed := false
			for _, m := range index.Manifests {
				listed = listed || m.Platform.Architecture == arch && m.Digest == info.Digest
			}
			if !listed {
				t.Errorf("%s: skopeo's raw index does not list %s for %s", arch, info.Digest, arch)
			}
			var sk struct {
				Digest       string
				Architecture string
				Created      time.Time
				Labels       map[string]string
			}
			if err := json.Unmarshal(run("--override-arch", arch, "inspect", "--tls-verify=false", "docker://"+host+"/bootc/os:44"), &sk); err != nil {
				t.Fatal(err)
			}
			// skopeo's Digest is the top-level (index) digest.
			if sk.Digest != info.IndexDigest || sk.Architecture != arch || !sk.Created.Equal(info.Created) || fmt.Sprint(sk.Labels) != fmt.Sprint(info.Labels) {
				t.Errorf("%s: skopeo says %s %s %s %v; uai says %s %s %v", arch, sk.Digest, sk.Architecture, sk.Created, sk.Labels, info.IndexDigest, info.Created, info.Labels)
			}
		}
	})
}

func isKind(err, kind error) bool { return errors.Is(err, kind) }
