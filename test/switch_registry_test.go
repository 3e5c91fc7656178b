package test

import (
	"runtime"
	"strings"
	"testing"

	"github.com/universal-atomic-installer/uai/test/internal/ocitest"
)

// swPush pushes a small image for this machine's architecture with the
// given labels to ref and returns its manifest digest.
func swPush(t *testing.T, ref string, labels map[string]string) string {
	t.Helper()
	img := ocitest.Image(t, 1024, 2, ocitest.Platform("linux", runtime.GOARCH), ocitest.Labels(labels))
	return ocitest.Push(t, ref, img).String()
}

// Without --image-facts the target is looked up in its registry (here
// go-containerregistry's registry on loopback): a bootable image is
// switched to with its digest and size in the plan, one without the bootc
// label is refused before bootc runs.
func TestSwitchChecksTheRegistry(t *testing.T) {
	host := ocitest.Registry(t)
	good := host + "/uai-test/bootable:1"
	bad := host + "/uai-test/plain:1"
	digest := swPush(t, good, map[string]string{"containers.bootc": "1", "org.opencontainers.image.version": "44.1"})
	swPush(t, bad, map[string]string{"org.opencontainers.image.title": "not an OS"})

	h := swBooted(t, swFrom)
	// No registry credentials of whoever runs the test.
	env := []string{"HOME=" + t.TempDir(), "DOCKER_CONFIG=" + t.TempDir(), "REGISTRY_AUTH_FILE=/nonexistent"}
	r := h.uai(env, "switch", good, "--yes", "--progress=json")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	evs, res := swEvents(t, r.stdout)
	var facts bool
	for _, e := range evs {
		if e.Plan != nil && e.Plan.Facts != nil {
			f := e.Plan.Facts
			facts = f.Digest == digest && f.Bootable && f.SizeBytes > 0 && f.Arch == runtime.GOARCH && f.Version == "44.1"
			for _, w := range e.Plan.Warnings {
				if w.Code == "not-checked" {
					t.Errorf("the plan says it was not checked: %+v", w)
				}
			}
		}
	}
	if !facts || !res.Staged || res.Image != good {
		t.Errorf("facts from the registry %v, result %+v", facts, res)
	}
	r = h.uai(env, "switch", bad, "--yes", "--progress=json")
	_, res = swEvents(t, r.stdout)
	if r.code != 2 || !strings.Contains(res.Error, "is not a bootable container") {
		t.Errorf("not bootable: exit %d, %+v", r.code, res)
	}
	r = h.uai(env, "switch", host+"/uai-test/missing:1", "--yes", "--progress=json")
	_, res = swEvents(t, r.stdout)
	if r.code != 2 || !strings.Contains(res.Error, "look up "+host+"/uai-test/missing:1") {
		t.Errorf("missing: exit %d, %+v", r.code, res)
	}
	if st := h.status(); st.Status.Staged.Ref() != good {
		t.Errorf("staged %q", st.Status.Staged.Ref())
	}
}
