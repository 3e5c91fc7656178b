package bootc

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseOriginSchemes(t *testing.T) {
	for _, tc := range []struct {
		ref  string
		want Origin
	}{
		{"ostree-unverified-registry:quay.io/x/y:44", Origin{Scheme: SchemeUnverifiedRegistry, Transport: "registry", Image: "quay.io/x/y:44"}},
		{"ostree-unverified-image:docker://quay.io/x/y:44", Origin{Scheme: SchemeUnverifiedImage, Transport: "registry", Image: "quay.io/x/y:44"}},
		{"ostree-unverified-image:registry:quay.io/x/y:44", Origin{Scheme: SchemeUnverifiedImage, Transport: "registry", Image: "quay.io/x/y:44"}},
		{"ostree-unverified-image:oci:/var/lib/img", Origin{Scheme: SchemeUnverifiedImage, Transport: "oci", Image: "/var/lib/img"}},
		{"ostree-unverified-image:containers-storage:localhost/x:1", Origin{Scheme: SchemeUnverifiedImage, Transport: "containers-storage", Image: "localhost/x:1"}},
		{"ostree-image-signed:docker://ghcr.io/ublue-os/bluefin:stable", Origin{Scheme: SchemeImageSigned, Transport: "registry", Image: "ghcr.io/ublue-os/bluefin:stable"}},
		{"ostree-image-signed:oci-archive:/a.tar", Origin{Scheme: SchemeImageSigned, Transport: "oci-archive", Image: "/a.tar"}},
		{"ostree-remote-registry:fedora:quay.io/fedora/fedora-coreos:stable", Origin{Scheme: SchemeRemoteRegistry, Transport: "registry", Image: "quay.io/fedora/fedora-coreos:stable", Remote: "fedora"}},
		{"ostree-remote-image:fedora:docker://quay.io/fedora/fedora-coreos:stable", Origin{Scheme: SchemeRemoteImage, Transport: "registry", Image: "quay.io/fedora/fedora-coreos:stable", Remote: "fedora"}},
		{"ostree-remote-image:myremote:registry:quay.io/exampleos/blah", Origin{Scheme: SchemeRemoteImage, Transport: "registry", Image: "quay.io/exampleos/blah", Remote: "myremote"}},
		// What bootc records when --target-imgref was given a transport:
		// parsed faithfully, the name keeps the bogus prefix.
		{"ostree-unverified-registry:registry:quay.io/fedora/fedora-bootc:rawhide", Origin{Scheme: SchemeUnverifiedRegistry, Transport: "registry", Image: "registry:quay.io/fedora/fedora-bootc:rawhide"}},
	} {
		data := "[origin]\ncontainer-image-reference=" + tc.ref + "\n"
		got, err := ParseOrigin([]byte(data))
		if err != nil {
			t.Errorf("ParseOrigin(%q): %v", tc.ref, err)
			continue
		}
		if got != tc.want {
			t.Errorf("ParseOrigin(%q) = %+v, want %+v", tc.ref, got, tc.want)
		}
	}
}

func TestOriginString(t *testing.T) {
	// String renders the canonical ostree-ext form, which for the long
	// registry forms is docker://.
	for in, want := range map[string]string{
		"ostree-unverified-registry:quay.io/x/y:44":                  "ostree-unverified-registry:quay.io/x/y:44",
		"ostree-unverified-image:registry:quay.io/x/y:44":            "ostree-unverified-image:docker://quay.io/x/y:44",
		"ostree-image-signed:docker://quay.io/x:1":                   "ostree-image-signed:docker://quay.io/x:1",
		"ostree-remote-registry:fedora:quay.io/f:1":                  "ostree-remote-registry:fedora:quay.io/f:1",
		"ostree-remote-image:myremote:registry:quay.io/exampleos/bl": "ostree-remote-image:myremote:docker://quay.io/exampleos/bl",
		"ostree-unverified-image:oci:/srv/img":                       "ostree-unverified-image:oci:/srv/img",
	} {
		o, err := ParseOriginRef(in)
		if err != nil {
			t.Fatalf("ParseOriginRef(%q): %v", in, err)
		}
		if o.String() != want {
			t.Errorf("String(%q) = %q, want %q", in, o.String(), want)
		}
		back, err := ParseOriginRef(o.String())
		if err != nil || back != o {
			t.Errorf("round trip of %q: %+v, %v", in, back, err)
		}
	}
	if (Origin{Scheme: SchemeUnverifiedRegistry}).Signed() || !(Origin{Scheme: SchemeImageSigned}).Signed() || !(Origin{Scheme: SchemeRemoteRegistry}).Signed() {
		t.Error("Signed() is wrong")
	}
}

func TestParseOriginKeyfile(t *testing.T) {
	data := "# written by ostree\n\n[origin]\n  container-image-reference = ostree-unverified-registry:quay.io/x/y:44  \n\n[kargs]\nfoo=bar\n"
	o, err := ParseOrigin([]byte(data))
	if err != nil || o.Image != "quay.io/x/y:44" {
		t.Fatalf("ParseOrigin = %+v, %v", o, err)
	}
	o, err = ParseOrigin([]byte("[origin]\ncontainer-image-reference=ostree-unverified-image:oci:/srv/my\\simage\n"))
	if err != nil || o.Image != "/srv/my image" {
		t.Errorf("escape: %+v, %v", o, err)
	}
}

func TestParseOriginRejects(t *testing.T) {
	for _, tc := range []struct {
		data, want string
	}{
		{"[origin]\nrefspec=fedora:fedora/41/x86_64/silverblue\n", `tracks the ostree refspec "fedora:fedora/41/x86_64/silverblue"`},
		{"[origin]\n", "has no container-image-reference in group [origin]"},
		{"", "has no container-image-reference"},
		{"[origin\ncontainer-image-reference=x\n", "not closed"},
		{"container-image-reference=x\n", "comes before any [group]"},
		{"[origin]\njunk\n", `"junk" is neither [group] nor key=value`},
		{"[origin]\ncontainer-image-reference=quay.io/x:1\n", `uses the unknown scheme "quay.io/x"`},
		{"[origin]\ncontainer-image-reference=nocolon\n", "has no ':'"},
		{"[origin]\ncontainer-image-reference=ostree-unverified-registry:\n", "names no image"},
		{"[origin]\ncontainer-image-reference=ostree-image-signed:quay.io/x:1\n", "has no known transport"},
		{"[origin]\ncontainer-image-reference=ostree-image-signed:docker:quay.io/x:1\n", `without "//"`},
		{"[origin]\ncontainer-image-reference=ostree-image-signed:ostree-image-signed:docker://q/x\n", "nests the scheme"},
		{"[origin]\ncontainer-image-reference=ostree-remote-registry:quay.io/x\n", "has no ostree remote"},
		{"[origin]\ncontainer-image-reference=ostree-remote-image::docker://q/x\n", "has no ostree remote"},
		{"[origin]\ncontainer-image-reference=ostree-remote-image:r:quay.io/x\n", "has no known transport"},
	} {
		_, err := ParseOrigin([]byte(tc.data))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseOrigin(%q) = %v, want error containing %q", tc.data, err, tc.want)
		}
	}
	_, err := ParseOrigin([]byte("[origin]\nrefspec=x:y\n"))
	if !errors.Is(err, ErrNoContainerOrigin) {
		t.Errorf("refspec origin: %v is not ErrNoContainerOrigin", err)
	}
}

func writeDeployment(t *testing.T, root, stateroot, name, origin string, mtime time.Time) string {
	t.Helper()
	dir := filepath.Join(root, "ostree", "deploy", stateroot, "deploy", name)
	if err := os.MkdirAll(filepath.Join(dir, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if origin != "" {
		if err := os.WriteFile(dir+".origin", []byte(origin), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chtimes(dir, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestFindDeployment(t *testing.T) {
	root := t.TempDir()
	a := strings.Repeat("a", 64)
	b := strings.Repeat("b", 64)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	writeDeployment(t, root, "default", a+".0", "[origin]\ncontainer-image-reference=ostree-unverified-registry:quay.io/old:1\n", t0)
	newest := writeDeployment(t, root, "default", b+".0", "[origin]\ncontainer-image-reference=ostree-image-signed:docker://quay.io/new:2\n", t0.Add(time.Hour))
	// Noise that must be ignored: not CHECKSUM.SERIAL, or not a directory.
	_ = os.MkdirAll(filepath.Join(root, "ostree", "deploy", "default", "deploy", "notadeployment"), 0o755)
	_ = os.WriteFile(filepath.Join(root, "ostree", "deploy", "default", "deploy", strings.Repeat("c", 64)+".0"), nil, 0o644)
	_ = os.MkdirAll(filepath.Join(root, "ostree", "deploy", "other", "var"), 0o755)

	d, err := FindDeployment(root)
	if err != nil {
		t.Fatal(err)
	}
	want := Deployment{
		Stateroot: "default", Checksum: b, Serial: 0, Dir: newest, OriginPath: newest + ".origin",
		Origin: Origin{Scheme: SchemeImageSigned, Transport: "registry", Image: "quay.io/new:2"}, Count: 2,
	}
	if d != want {
		t.Errorf("FindDeployment =\n%+v\nwant\n%+v", d, want)
	}
}

func TestFindDeploymentSerialBreaksTies(t *testing.T) {
	root := t.TempDir()
	c := strings.Repeat("c", 64)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	writeDeployment(t, root, "s", c+".10", "[origin]\ncontainer-image-reference=ostree-unverified-registry:quay.io/x:10\n", t0)
	writeDeployment(t, root, "s", c+".9", "[origin]\ncontainer-image-reference=ostree-unverified-registry:quay.io/x:9\n", t0)
	d, err := FindDeployment(root)
	if err != nil || d.Serial != 10 || d.Origin.Image != "quay.io/x:10" || d.Stateroot != "s" {
		t.Errorf("FindDeployment = %+v, %v; want serial 10", d, err)
	}
}

func TestFindDeploymentErrors(t *testing.T) {
	empty := t.TempDir()
	if _, err := FindDeployment(empty); !errors.Is(err, ErrNoDeployment) || !strings.Contains(err.Error(), "no ostree/deploy") {
		t.Errorf("empty root: %v", err)
	}
	noDeploy := t.TempDir()
	_ = os.MkdirAll(filepath.Join(noDeploy, "ostree", "deploy", "default", "deploy"), 0o755)
	if _, err := FindDeployment(noDeploy); !errors.Is(err, ErrNoDeployment) {
		t.Errorf("no deployments: %v", err)
	}
	noOrigin := t.TempDir()
	writeDeployment(t, noOrigin, "default", strings.Repeat("d", 64)+".0", "", time.Now())
	if d, err := FindDeployment(noOrigin); err == nil || !strings.Contains(err.Error(), "read origin") || d.Checksum == "" {
		t.Errorf("missing origin: %+v, %v", d, err)
	}
	badOrigin := t.TempDir()
	writeDeployment(t, badOrigin, "default", strings.Repeat("e", 64)+".0", "[origin]\nrefspec=a:b\n", time.Now())
	if _, err := FindDeployment(badOrigin); !errors.Is(err, ErrNoContainerOrigin) {
		t.Errorf("refspec origin: %v", err)
	}
}

func TestParseDeployName(t *testing.T) {
	h := strings.Repeat("f", 64)
	for name, ok := range map[string]bool{
		h + ".0": true, h + ".12": true, h: false, h + ".": false, h + ".-1": false, h + ".01": false,
		h + ".x": false, strings.Repeat("F", 64) + ".0": false, h[:63] + ".0": false, h + ".0.origin": false,
	} {
		if _, _, got := parseDeployName(name); got != ok {
			t.Errorf("parseDeployName(%q) = %v, want %v", name, got, ok)
		}
	}
}
