package ui

import (
	"fmt"
	"strings"
	"testing"

	"github.com/universal-atomic-installer/uai/catalog"
	"github.com/universal-atomic-installer/uai/installer"
)

// The builds of quay.io/fedora/fedora-bootc:44 in these tests: the one on
// the install medium, and the one the fake registry resolves the tag to.
var (
	mediumDigest   = "sha256:" + strings.Repeat("cd", 32)
	registryDigest = "sha256:" + strings.Repeat("ab", 32)
)

// onMedium puts fedora-bootc's image on the install medium as the build
// digest.
func onMedium(digest string) func(*fakeBackend) {
	return func(f *fakeBackend) {
		f.medium = &installer.PlanMedium{Ref: "quay.io/fedora/fedora-bootc:44", Digest: digest, Layout: "/run/initramfs/live/images/oci"}
	}
}

const registryNotice = "The registry has"

// lastChoice is the last request the review screen planned.
func lastChoice(t *testing.T, f *fakeBackend) installer.Request {
	t.Helper()
	c := f.planChoices()
	if len(c) == 0 {
		t.Fatal("nothing was planned")
	}
	return c[len(c)-1]
}

// Online, with another build in the registry than on the medium, the
// review says so; u plans again pinned to the registry's build, the
// edition kept, and the new plan comes from the registry.
func TestReviewMediumUseRegistry(t *testing.T) {
	f := newFake()
	onMedium(mediumDigest)(f)
	h := newHarness(t, f, demo, 80, 24)
	h.toSummary("demo-disk.img")
	p := h.m.summary.Plan()
	if p == nil || p.Medium == nil || p.Runner != installer.RunnerHost {
		t.Fatalf("plan does not install from the medium: %+v", p)
	}
	h.WantView("The install medium's build (sha256:cdcdcdcdcdcd) is installed.", "sha256:abababababab, built 2026-03-02: press u to install that instead.",
		"u registry's build · pgdn page down · ? help · q quit")

	h.PressIdle("u")
	h.wantScreen(ScreenSummary)
	r := lastChoice(t, f)
	if r.EditionID != "fedora-bootc" || r.Digest != registryDigest || r.Image != "" || r.TargetRef != "" {
		t.Errorf("re-planned with %+v; want the edition pinned to %s", r, registryDigest)
	}
	if got := h.m.Request(); got.Digest != registryDigest {
		t.Errorf("the root's request has Digest %q, want %s (answers export, the failure screen)", got.Digest, registryDigest)
	}
	p = h.m.summary.Plan()
	if p == nil || p.Medium != nil {
		t.Fatalf("the new plan still installs from the medium: %+v", p)
	}
	if p.Edition.Digest != registryDigest || p.TargetRef != "quay.io/fedora/fedora-bootc:44" {
		t.Errorf("new plan: digest %q, target ref %q", p.Edition.Digest, p.TargetRef)
	}
	h.WantView("pinned: exactly this image is installed")
	if !strings.Contains(p.RunnerReason, "the user chose the registry's build") {
		t.Errorf("runner reason %q", p.RunnerReason)
	}
	h.WantNoView(registryNotice, "registry's build")

	// u means nothing any more; enter installs the registry's plan.
	n := len(f.planChoices())
	h.PressIdle("u")
	if len(f.planChoices()) != n {
		t.Error("u planned again although the plan no longer comes from the medium")
	}
	h.Press("enter")
	h.Until("the install", func() bool { return len(f.installedPlans()) > 0 })
	if ps := f.installedPlans(); len(ps) == 0 || ps[0] != p {
		t.Errorf("installed %v, want the registry's plan", ps)
	}
}

// While the confirmation field has the keyboard, u is a letter of the
// disk's name and ctrl+r takes the registry's build; the typed
// confirmation is still demanded of the new plan.
func TestReviewMediumUseRegistryWhileConfirming(t *testing.T) {
	f := newFake()
	onMedium(mediumDigest)(f)
	h := newHarness(t, f, Options{}, 80, 24)
	h.toSummary("sdb")
	h.WantView("press ctrl+r to install that instead.", "ctrl+r registry's build")
	n := len(f.planChoices())
	h.PressIdle("u")
	if len(f.planChoices()) != n || h.m.summary.Plan().Medium == nil {
		t.Fatal("u re-planned while the confirmation field had the keyboard")
	}
	h.PressIdle("ctrl+r")
	if r := lastChoice(t, f); r.Digest != registryDigest || !r.Wipe {
		t.Errorf("re-planned with Digest %q, Wipe %v", r.Digest, r.Wipe)
	}
	if p := h.m.summary.Plan(); p == nil || p.Medium != nil {
		t.Fatalf("the new plan still installs from the medium: %+v", p)
	}
	if !h.m.summary.Capturing() {
		t.Error("the new plan does not ask for the typed confirmation")
	}
}

// A custom image is pinned in its ref: the registry's DigestRef is
// installed, and the installed system follows the ref as typed.
func TestUseRegistryCustomImage(t *testing.T) {
	m := Model{req: installer.Request{Image: "quay.io/x/y:1"}, chosenEdition: catalog.Edition{Name: "quay.io/x/y:1", Image: "quay.io/x/y:1"},
		image: &catalog.ImageInfo{Digest: registryDigest, DigestRef: "quay.io/x/y@" + registryDigest}}
	m.useRegistry()
	if m.req.Image != "quay.io/x/y@"+registryDigest || m.req.TargetRef != "quay.io/x/y:1" || m.req.Digest != "" {
		t.Errorf("request %+v", m.req)
	}
}

// No notice when the medium holds the registry's build, nor offline (no
// resolved image): the medium's build is installed, u does nothing.
func TestReviewMediumNoNotice(t *testing.T) {
	for _, tc := range []struct {
		name string
		fake func(*fakeBackend)
	}{
		{"same digest", onMedium(registryDigest)},
		{"offline", func(f *fakeBackend) {
			onMedium(mediumDigest)(f)
			f.images["quay.io/fedora/fedora-bootc:44"] = imageAnswer{err: fmt.Errorf("image quay.io/fedora/fedora-bootc:44: %w", catalog.ErrUnreachable)}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			tc.fake(f)
			h := newHarness(t, f, demo, 80, 24)
			h.toSummary("demo-disk.img")
			if p := h.m.summary.Plan(); p == nil || p.Medium == nil {
				t.Fatalf("plan does not install from the medium: %+v", p)
			}
			h.WantView("the install medium's build: installed from there")
			h.WantNoView(registryNotice, "registry's build")
			n := len(f.planChoices())
			h.PressIdle("u")
			h.wantScreen(ScreenSummary)
			if len(f.planChoices()) != n || h.m.summary.Plan().Medium == nil {
				t.Error("u planned again without a registry build to offer")
			}
		})
	}
}

// Plain mode asks the same at the review: y plans again pinned to the
// registry's build; the default keeps the medium's.
func TestPlainMediumRegistryBuild(t *testing.T) {
	answers := func(useRegistry string) []string {
		return []string{
			"", "", // language, keyboard
			"",         // network: online, continue
			"1",        // Fedora bootc (online: resolved)
			"1",        // demo-disk.img
			"", "", "", // storage: xfs, all the space, no encryption
			"", "", "root", testKey, // accounts: root with a key
			useRegistry,
			"y", // install now
			"exit",
		}
	}
	t.Run("default keeps the medium", func(t *testing.T) {
		f := newFake()
		onMedium(mediumDigest)(f)
		out, res := runPlain(t, f, demo, answers("")...)
		wantLines(t, out, "The install medium's build ("+mediumDigest+") is installed. The registry has "+registryDigest+", built 2026-03-02.",
			"Install the registry's build instead? (y/N)", "Source    the install medium: quay.io/fedora/fedora-bootc:44")
		ps := f.installedPlans()
		if res.Result.ExitCode != 0 || len(ps) != 1 || ps[0].Medium == nil || ps[0].Medium.Digest != mediumDigest {
			t.Errorf("installed %+v (outcome %+v), want the medium's build", ps, res)
		}
		if res.Request.Digest != "" {
			t.Errorf("request pinned to %q", res.Request.Digest)
		}
	})
	t.Run("y takes the registry's build", func(t *testing.T) {
		f := newFake()
		onMedium(mediumDigest)(f)
		out, res := runPlain(t, f, demo, answers("y")...)
		wantLines(t, out, "Install the registry's build instead? (y/N)", "Digest    "+registryDigest)
		ps := f.installedPlans()
		if res.Result.ExitCode != 0 || len(ps) != 1 || ps[0].Medium != nil || ps[0].Edition.Digest != registryDigest ||
			ps[0].TargetRef != "quay.io/fedora/fedora-bootc:44" {
			t.Errorf("installed %+v (outcome %+v), want the registry's build", ps, res)
		}
		if r := res.Request; r.EditionID != "fedora-bootc" || r.Digest != registryDigest {
			t.Errorf("request %+v", r)
		}
	})
	t.Run("offline: not asked", func(t *testing.T) {
		f := newFake()
		onMedium(mediumDigest)(f)
		f.images["quay.io/fedora/fedora-bootc:44"] = imageAnswer{err: fmt.Errorf("image quay.io/fedora/fedora-bootc:44: %w", catalog.ErrUnreachable)}
		a := answers("")
		a = append(a[:len(a)-3], a[len(a)-2:]...) // no question to answer
		out, _ := runPlain(t, f, demo, a...)
		if strings.Contains(out, "registry's build") {
			t.Errorf("asked offline:\n%s", out)
		}
		if ps := f.installedPlans(); len(ps) != 1 || ps[0].Medium == nil {
			t.Errorf("installed %+v, want the medium's build", ps)
		}
	})
}
