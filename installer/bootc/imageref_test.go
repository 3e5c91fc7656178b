package bootc

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateImageRefAccepts(t *testing.T) {
	for _, ref := range []string{
		"quay.io/fedora/fedora-bootc:42",
		"quay.io/centos-bootc/centos-bootc:stream10",
		"ghcr.io/ublue-os/bazzite:stable",
		"localhost/my-os:latest",
		"localhost:5000/bootc/feas-os:42",
		"127.0.0.1:5000/x:1",
		"registry.example.com/a/b/c__d.e-f--g:v1.2_3",
		"quay.io/x/y@sha256:" + strings.Repeat("a", 64),
		"quay.io/x/y:44@sha256:" + strings.Repeat("0123456789abcdef", 4),
	} {
		if err := ValidateImageRef(ref); err != nil {
			t.Errorf("ValidateImageRef(%q) = %v, want nil", ref, err)
		}
	}
}

func TestValidateImageRefRejects(t *testing.T) {
	for _, tc := range []struct {
		ref, want string
	}{
		{"", "is empty"},
		{"quay.io/x:" + strings.Repeat("a", 600), "over the limit of 512"},
		{"quay.io/x y:1", "whitespace at byte 9"},
		{"quay.io/x\ty:1", "whitespace"},
		{"quay.io/x\x07:1", "the character '\\a'"},
		{"quay.io/é:1", "the character 'é'"},
		{"quay.io/x:1;rm -rf /", "contains ';'"},
		{"quay.io/x:1;reboot", "contains ';', a shell metacharacter"},
		{"quay.io/x:1|cat", "'|'"},
		{"quay.io/x:1&", "'&'"},
		{"quay.io/$x:1", "'$'"},
		{"quay.io/`x`:1", "'`'"},
		{"quay.io/'x':1", `'\''`},
		{`quay.io/"x":1`, `'"'`},
		{`quay.io/x\:1`, `'\\'`},
		{"quay.io/x:1>f", "'>'"},
		{"quay.io/x:1<f", "'<'"},
		{"quay.io/(x):1", "'('"},
		{"quay.io/{x}:1", "'{'"},
		{"quay.io/x*:1", "'*'"},
		{"quay.io/x?:1", "'?'"},
		{"quay.io/x!:1", "'!'"},
		{"quay.io/[x]:1", "'['"},
		{"registry:quay.io/x:1", `starts with the transport "registry:"`},
		{"docker://quay.io/x:1", `starts with the transport "docker://"`},
		{"containers-storage:quay.io/x:1", `transport "containers-storage:"`},
		{"oci:/srv/image", `transport "oci:"`},
		{"ostree-unverified-registry:quay.io/x:1", `transport "ostree-unverified-registry:"`},
		{"fedora-bootc:42", "not fully qualified"},
		{"fedora/fedora-bootc:42", "not fully qualified"},
		{"quay.io", "not fully qualified"},
		{"-bad.io/x:1", "registry host"},
		{"quay..io/x:1", "registry host"},
		{"quay.io:port/x:1", "registry host"},
		{"quay.io//x:1", "empty path component"},
		{"quay.io/x/:1", "empty path component"},
		{"quay.io/Fedora/x:1", "capital letters"},
		{"quay.io/x.-y:1", "path component \"x.-y\""},
		{"quay.io/_x:1", "path component"},
		{"quay.io/x:.1", `tag ".1"`},
		{"quay.io/x:" + strings.Repeat("a", 129), "not a valid tag"},
		{"quay.io/x:", "not a valid tag"},
		{"quay.io/x", "neither a tag nor a digest"},
		{"quay.io:443/x", "neither a tag nor a digest"},
		{"quay.io/x@sha256:abc", "64 lowercase hex"},
		{"quay.io/x@sha256:" + strings.Repeat("A", 64), "64 lowercase hex"},
		{"quay.io/x@sha512:" + strings.Repeat("a", 128), "not a sha256 digest"},
	} {
		err := ValidateImageRef(tc.ref)
		if err == nil {
			t.Errorf("ValidateImageRef(%q) = nil, want error containing %q", tc.ref, tc.want)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ValidateImageRef(%q) = %q, want it to contain %q", tc.ref, err, tc.want)
		}
		if !errors.Is(err, ErrInvalidImageRef) {
			t.Errorf("ValidateImageRef(%q): errors.Is(err, ErrInvalidImageRef) is false", tc.ref)
		}
		if msg := err.Error(); !strings.HasPrefix(msg, "image ref ") || !strings.Contains(msg, "; ") {
			t.Errorf("ValidateImageRef(%q) = %q, want `image ref ... PROBLEM; FIX`", tc.ref, msg)
		}
	}
}

func TestSplitTransport(t *testing.T) {
	for _, tc := range []struct {
		in, transport, name string
		ok                  bool
	}{
		{"registry:quay.io/x:1", "registry", "quay.io/x:1", true},
		{"docker://quay.io/x:1", "registry", "quay.io/x:1", true},
		{"docker:quay.io/x:1", "docker", "quay.io/x:1", true},
		{"oci:/srv/img:tag", "oci", "/srv/img:tag", true},
		{"oci-archive:/a.tar", "oci-archive", "/a.tar", true},
		{"docker-archive:/a.tar", "docker-archive", "/a.tar", true},
		{"containers-storage:[overlay@/a+/b]x", "containers-storage", "[overlay@/a+/b]x", true},
		{"dir:/d", "dir", "/d", true},
		{"docker-daemon:x:1", "docker-daemon", "x:1", true},
		{"ostree-image-signed:docker://q.io/x", "ostree-image-signed", "docker://q.io/x", true},
		{"quay.io/x:1", "", "quay.io/x:1", false},
		{"localhost:5000/x:1", "", "localhost:5000/x:1", false},
		{"x", "", "x", false},
	} {
		tr, name, ok := SplitTransport(tc.in)
		if tr != tc.transport || name != tc.name || ok != tc.ok {
			t.Errorf("SplitTransport(%q) = %q, %q, %v; want %q, %q, %v", tc.in, tr, name, ok, tc.transport, tc.name, tc.ok)
		}
	}
}
