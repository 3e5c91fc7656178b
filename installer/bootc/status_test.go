package bootc

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// describeHost renders everything ParseStatus read, one fact a line, so a
// golden file shows a field that was dropped or misread.
func describeHost(h *Host) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion %s kind %s name %s\n", h.APIVersion, h.Kind, h.Metadata.Name)
	if h.Spec.Image == nil {
		b.WriteString("spec.image null\n")
	} else {
		fmt.Fprintf(&b, "spec.image %s (transport %s, signature %q)\n", h.Spec.Image.Image, h.Spec.Image.Transport, h.Spec.Image.Signature.String())
	}
	fmt.Fprintf(&b, "spec.bootOrder %s\n", h.Spec.BootOrder)
	fmt.Fprintf(&b, "type %q rollbackQueued %t readOnly %t usrOverlay %v\n", h.Status.Type, h.Status.RollbackQueued, h.Status.ReadOnly, h.Status.UsrOverlay != nil)
	fmt.Fprintf(&b, "IsBootc %t RpmOstree %t\n", h.IsBootc(), h.RpmOstree())
	for _, s := range []struct {
		name string
		e    *BootEntry
	}{{"staged", h.Status.Staged}, {"booted", h.Status.Booted}, {"rollback", h.Status.Rollback}} {
		if s.e == nil {
			fmt.Fprintf(&b, "%s: null\n", s.name)
			continue
		}
		e := s.e
		fmt.Fprintf(&b, "%s: ref %q ostreeOrigin %t incompatible %t pinned %t downloadOnly %t softReboot %t store %q\n",
			s.name, e.Ref(), e.OstreeOrigin(), e.Incompatible, e.Pinned, e.DownloadOnly, e.SoftRebootCapable, e.Store)
		if i := e.Image; i != nil {
			ts := "null"
			if i.Timestamp != nil {
				ts = i.Timestamp.UTC().Format(time.RFC3339Nano)
			}
			fmt.Fprintf(&b, "  image %s transport %s signature %q\n  version %q timestamp %s arch %s\n  digest %s\n",
				i.Image.Image, i.Image.Transport, i.Image.Signature.String(), i.Version, ts, i.Architecture, i.ImageDigest)
		}
		if c := e.CachedUpdate; c != nil {
			fmt.Fprintf(&b, "  cachedUpdate %s version %q digest %s\n", c.Image.Image, c.Version, c.ImageDigest)
		}
		if o := e.Ostree; o != nil {
			fmt.Fprintf(&b, "  ostree %s %s.%d\n", o.Stateroot, o.Checksum, o.DeploySerial)
		}
	}
	return b.String()
}

func TestParseStatusFixtures(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "status", "*.json"))
	if err != nil || len(files) < 10 {
		t.Fatalf("fixtures: %v %v", files, err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			h, err := ParseStatus(data)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("status", name+".golden"), describeHost(h))
		})
	}
}

// The facts each named shape exists for, checked outright so that a
// golden rewritten in haste cannot hide them.
func TestParseStatusShapes(t *testing.T) {
	load := func(name string) *Host {
		t.Helper()
		data, err := os.ReadFile(filepath.Join("testdata", "status", name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		h, err := ParseStatus(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return h
	}
	h := load("booted-only")
	if !h.IsBootc() || h.RpmOstree() || h.Status.Staged != nil || h.Status.Rollback != nil ||
		h.Status.Booted.Ref() != "quay.io/centos-bootc/centos-bootc:stream9" || h.Status.Booted.Image.Version != "stream9.20240807.0" ||
		h.Status.Booted.Image.Timestamp != nil || h.Status.Booted.Image.Architecture != "arm64" {
		t.Errorf("booted-only: %s", describeHost(h))
	}
	h = load("staged")
	if h.Status.Staged == nil || h.Status.Staged.Image.ImageDigest == h.Status.Booted.Image.ImageDigest ||
		h.Spec.Image.Signature == nil || h.Spec.Image.Signature.Kind != SignatureInsecure ||
		h.Status.Staged.Image.Timestamp.Nanosecond() != 420_000_000 {
		t.Errorf("staged: %s", describeHost(h))
	}
	h = load("booted-rollback")
	if h.Status.Rollback == nil || h.Status.Rollback.Ref() != "quay.io/fedora/fedora-bootc:43" || h.Status.Booted.Ref() != "quay.io/fedora/fedora-bootc:44" || h.Status.Booted.Ostree.DeploySerial != 1 {
		t.Errorf("booted-rollback: %s", describeHost(h))
	}
	h = load("rpm-ostree-origin")
	if !h.Status.Booted.OstreeOrigin() || !h.RpmOstree() || h.Status.Type != "" || h.Status.Staged.Ref() != "quay.io/centos-bootc/centos-bootc:stream9" {
		t.Errorf("rpm-ostree-origin: %s", describeHost(h))
	}
	h = load("incompatible")
	if h.Spec.Image != nil || !h.Status.Staged.Incompatible || !h.RpmOstree() {
		t.Errorf("incompatible: %s", describeHost(h))
	}
	h = load("local-oci")
	if b := h.Status.Booted.Image.Image; b.Transport != TransportOCI || b.String() != "oci:/var/mnt/osupdate" {
		t.Errorf("local-oci: %s", describeHost(h))
	}
	h = load("ostree-remote")
	if s := h.Spec.Image.Signature; s == nil || s.Kind != SignatureOstreeRemote || s.OstreeRemote != "fedora" || s.String() != "ostreeRemote:fedora" {
		t.Errorf("ostree-remote: %s", describeHost(h))
	}
	h = load("staged-rollback")
	if h.IsBootc() || h.RpmOstree() || h.Status.Rollback == nil {
		t.Errorf("staged-rollback (booted null): %s", describeHost(h))
	}
	h = load("cached-update")
	if c := h.Status.Booted.CachedUpdate; c == nil || c.Version != "stream9.20240901.0" {
		t.Errorf("cached-update: %s", describeHost(h))
	}
	h = load("download-only")
	if !h.Status.Staged.DownloadOnly {
		t.Errorf("download-only: %s", describeHost(h))
	}
}

// A signature written back is what bootc wrote.
func TestImageSignatureRoundTrip(t *testing.T) {
	for _, in := range []string{`"insecure"`, `"containerPolicy"`, `{"ostreeRemote":"fedora"}`} {
		var s ImageSignature
		if err := json.Unmarshal([]byte(in), &s); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		out, err := json.Marshal(s)
		if err != nil || string(out) != in {
			t.Errorf("%s came back as %s (%v)", in, out, err)
		}
	}
	for _, in := range []string{`"sigstore"`, `{"remote":"x"}`, `3`} {
		var s ImageSignature
		if err := json.Unmarshal([]byte(in), &s); err == nil {
			t.Errorf("%s was accepted as %+v", in, s)
		}
	}
}

func TestParseStatusRefusesOtherDocuments(t *testing.T) {
	cases := map[string]string{
		"": "printed nothing",
		"apiVersion: org.containers.bootc/v1\nkind: BootcHost\n":                                                                                  "where JSON was expected",
		`{"apiVersion":"org.containers.bootc/v1alpha1","kind":"BootcHost"}`:                                                                       `apiVersion "org.containers.bootc/v1alpha1"`,
		`{"apiVersion":"org.containers.bootc/v1","kind":"Pod"}`:                                                                                   `kind "Pod"`,
		`{"apiVersion":"org.containers.bootc/v1","kind":"BootcHost","status":{"booted":{"image":{"image":{"image":"","transport":"registry"}}}}}`: "names no image",
	}
	for in, want := range cases {
		_, err := ParseStatus([]byte(in))
		if err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, ErrNotStatus) {
			t.Errorf("ParseStatus(%q) = %v, want an ErrNotStatus saying %q", in, err, want)
		}
	}
	if _, err := ParseStatus([]byte(`{"apiVersion":`)); err == nil || errors.Is(err, ErrNotStatus) {
		t.Errorf("broken JSON: %v", err)
	}
	null := `{"apiVersion":"org.containers.bootc/v1","kind":"BootcHost","metadata":{"name":"host"},"spec":{"image":null,"bootOrder":"default"},"status":{"staged":null,"booted":null,"rollback":null,"rollbackQueued":false,"type":null}}`
	h, err := ParseStatus([]byte(null))
	if err != nil || h.IsBootc() || h.RpmOstree() {
		t.Errorf("spec-v1-null: %v %+v", err, h)
	}
}

func TestStatusCommand(t *testing.T) {
	if got := StatusCommand().String(); got != "bootc status --format=json --format-version=1" {
		t.Errorf("got %s", got)
	}
}
