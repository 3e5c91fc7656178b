package installer

import (
	"strings"
	"testing"
)

// A plan that installs from the medium says so in Plan.Medium; a request
// pinned to another build (Request.Digest, the registry's) is planned
// from the registry, the edition's ref still what the system follows and
// its settings kept; pinned to the medium's own build it still comes
// from the medium.
func TestResolveMediumAndRegistryPin(t *testing.T) {
	medium := "sha256:" + strings.Repeat("cd", 32)
	registry := "sha256:" + strings.Repeat("ab", 32)
	facts := RunnerFacts{MemTotalBytes: 64 << 30, MediumImages: []MediumImage{
		{Layout: "/run/initramfs/live/images/oci", Ref: "quay.io/fedora/fedora-bootc:44", Digest: medium}}}
	base := Request{EditionID: "fedora-bootc-44", DiskPath: "/var/tmp/disk.img", Demo: true, Arch: "amd64"}
	resolve := func(r Request) *Plan {
		t.Helper()
		p, err := ResolveWith(r, testDisks(), testCatalog(), ResolveOptions{Runner: facts})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}

	p := resolve(base)
	want := PlanMedium{Ref: "quay.io/fedora/fedora-bootc:44", Digest: medium, Layout: "/run/initramfs/live/images/oci"}
	if p.Medium == nil || *p.Medium != want || p.Runner != RunnerHost {
		t.Fatalf("from the medium: runner %s, medium %+v", p.Runner, p.Medium)
	}
	if !strings.Contains(p.Text(), "Source    the install medium: quay.io/fedora/fedora-bootc:44 ("+medium+")\n") {
		t.Errorf("Text lacks the source line:\n%s", p.Text())
	}

	r := base
	r.Digest = registry
	pinned := resolve(r)
	cmd := strings.Join(pinned.Command, " ")
	if pinned.Medium != nil || pinned.Edition.Digest != registry || pinned.TargetRef != "quay.io/fedora/fedora-bootc:44" ||
		pinned.Edition.ID != "fedora-bootc-44" || pinned.Filesystem != p.Filesystem || strings.Join(pinned.Kargs, " ") != strings.Join(p.Kargs, " ") {
		t.Errorf("pinned to the registry's build: %+v", pinned)
	}
	if pinned.Runner != RunnerPodman || !strings.Contains(cmd, "quay.io/fedora/fedora-bootc@"+registry) ||
		!strings.Contains(cmd, "--target-imgref=quay.io/fedora/fedora-bootc:44") {
		t.Errorf("runner %s, command %s", pinned.Runner, cmd)
	}
	if !strings.Contains(pinned.RunnerReason, "but the user chose the registry's build "+registry+", so the image comes from the registry") {
		t.Errorf("reason %q", pinned.RunnerReason)
	}
	if strings.Contains(pinned.Text(), "Source    ") {
		t.Errorf("a registry plan names the medium as its source:\n%s", pinned.Text())
	}

	r.Digest = medium
	if same := resolve(r); same.Medium == nil || same.Medium.Digest != medium {
		t.Errorf("pinned to the medium's own build: medium %+v", same.Medium)
	}

	for _, bad := range []Request{
		{Image: "quay.io/x/y:1", Digest: registry, DiskPath: "/var/tmp/disk.img", Demo: true},
		{EditionID: "fedora-bootc-44", Digest: "sha256:nope", DiskPath: "/var/tmp/disk.img", Demo: true},
	} {
		if _, err := ResolveWith(bad, testDisks(), testCatalog(), ResolveOptions{Runner: facts}); ClassOf(err) != ClassInvalidInput {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}
