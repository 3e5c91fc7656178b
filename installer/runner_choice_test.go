package installer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"
)

// Every rule of the runner choice, in order, with the reason it gives.
func TestChooseRunner(t *testing.T) {
	const img = "quay.io/fedora/fedora-bootc:44"
	pin := "sha256:" + strings.Repeat("ab", 32)
	other := "sha256:" + strings.Repeat("cd", 32)
	pinned := "quay.io/fedora/fedora-bootc@" + pin
	onMedium := func(ref, digest string) []MediumImage {
		return []MediumImage{{Layout: "/m/oci", Ref: "localhost:5000/unrelated:1", Digest: "sha256:" + strings.Repeat("ef", 32)}, {Layout: "/m/oci", Ref: ref, Digest: digest}}
	}
	stored := []StoredImage{{ID: strings.Repeat("12", 32), Names: []string{img}, Digest: pin}}
	for _, c := range []struct {
		name           string
		f              RunnerFacts
		want           runnerWant
		runner, source string
		reason         string
	}{
		{"no facts", RunnerFacts{}, runnerWant{image: img, runImage: img}, RunnerPodman, "", "the image's own bootc"},
		{"plenty of RAM", RunnerFacts{MemTotalBytes: 16 << 30, ImageSizeBytes: 3 << 30}, runnerWant{image: img, runImage: pinned, digest: pin}, RunnerPodman, "", "the image's own bootc"},
		{"little RAM", RunnerFacts{MemTotalBytes: 4 << 30, ImageSizeBytes: 3 << 30}, runnerWant{image: img, runImage: pinned, digest: pin}, RunnerHost, "registry:" + pinned, "has 4 GiB of RAM, less than twice the image's 3 GiB"},
		{"exactly twice", RunnerFacts{MemTotalBytes: 6 << 30, ImageSizeBytes: 3 << 30}, runnerWant{image: img, runImage: img}, RunnerPodman, "", "the image's own bootc"},
		{"size unknown", RunnerFacts{MemTotalBytes: 5 << 30}, runnerWant{image: img, runImage: pinned, digest: pin}, RunnerHost, "registry:" + pinned, "3 GiB (estimated"},
		{"no host bootc", RunnerFacts{MemTotalBytes: 1 << 30, MediumImages: onMedium(img, pin), NoHostBootc: true}, runnerWant{image: img, runImage: img}, RunnerPodman, "", "has no bootc"},
		{"medium by tag", RunnerFacts{MemTotalBytes: 64 << 30, MediumImages: onMedium(img, other)}, runnerWant{image: img, runImage: img},
			RunnerHost, "oci:/m/oci:" + img, "on the install medium as " + img + " (" + other + ") in the OCI layout /m/oci"},
		{"medium by tag, digest agrees", RunnerFacts{MediumImages: onMedium(img, pin)}, runnerWant{image: img, runImage: pinned, digest: pin}, RunnerHost, "oci:/m/oci:" + img, "on the install medium"},
		{"medium by digest ref", RunnerFacts{MediumImages: onMedium(pinned, pin)}, runnerWant{image: img, runImage: pinned, digest: pin}, RunnerHost, "oci:/m/oci:" + pinned, "on the install medium"},
		{"medium by digest under another tag", RunnerFacts{MediumImages: onMedium("localhost:5000/fedora-bootc:44", pin)}, runnerWant{image: img, runImage: pinned, digest: pin},
			RunnerHost, "oci:/m/oci:localhost:5000/fedora-bootc:44", "as localhost:5000/fedora-bootc:44 (" + pin + ")"},
		{"medium stale digest", RunnerFacts{MemTotalBytes: 64 << 30, MediumImages: onMedium(img, other)}, runnerWant{image: img, runImage: pinned, digest: pin},
			RunnerPodman, "", "the install medium holds " + img + " as " + other + " (/m/oci), but the catalog pins " + pin + ", so the image comes from the registry; the image's own bootc"},
		{"medium stale digest, little RAM", RunnerFacts{MemTotalBytes: 2 << 30, MediumImages: onMedium(img, other)}, runnerWant{image: img, runImage: pinned, digest: pin},
			RunnerHost, "registry:" + pinned, "but the catalog pins " + pin + ", so the image comes from the registry; the machine has 2 GiB"},
		{"in containers-storage", RunnerFacts{MemTotalBytes: 1 << 30, StoredImages: stored, Graphroot: "/gr"}, runnerWant{image: img, runImage: pinned, digest: pin},
			RunnerPodman, "", "the image " + pinned + " is in the live system's containers-storage (/gr, image 121212121212): podman runs it from there, nothing is pulled"},
		{"in containers-storage by tag", RunnerFacts{MemTotalBytes: 1 << 30, StoredImages: stored}, runnerWant{image: img, runImage: img},
			RunnerPodman, "", "the image " + img + " is in the live system's containers-storage (" + DefaultGraphroot + ", image 121212121212)"},
		{"containers-storage holds another digest", RunnerFacts{MemTotalBytes: 1 << 30, StoredImages: []StoredImage{{ID: "x", Names: []string{img}, Digest: other}}}, runnerWant{image: img, runImage: pinned, digest: pin},
			RunnerHost, "registry:" + pinned, "has 1 GiB of RAM"},
		{"medium wins over containers-storage", RunnerFacts{MediumImages: onMedium(img, pin), StoredImages: stored}, runnerWant{image: img, runImage: img}, RunnerHost, "oci:/m/oci:" + img, "on the install medium"},
		{"explicit podman", RunnerFacts{MemTotalBytes: 1 << 30, MediumImages: onMedium(img, pin)}, runnerWant{runner: RunnerPodman, image: img, runImage: img},
			RunnerPodman, "", "chosen by the answers or the --runner flag (runner = podman)"},
		{"explicit podman without host bootc", RunnerFacts{NoHostBootc: true}, runnerWant{runner: RunnerPodman, image: img, runImage: img}, RunnerPodman, "", "chosen by the answers"},
		{"explicit host, from the medium", RunnerFacts{MediumImages: onMedium(img, pin)}, runnerWant{runner: RunnerHost, image: img, runImage: img},
			RunnerHost, "oci:/m/oci:" + img, "chosen by the answers or the --runner flag (runner = host): the image is on the install medium"},
		{"explicit host, from the registry", RunnerFacts{MemTotalBytes: 64 << 30, StoredImages: stored}, runnerWant{runner: RunnerHost, image: img, runImage: pinned, digest: pin},
			RunnerHost, "registry:" + pinned, "chosen by the answers or the --runner flag (runner = host): the live system's bootc streams"},
		{"explicit auto", RunnerFacts{}, runnerWant{runner: RunnerAuto, image: img, runImage: img}, RunnerPodman, "", "the image's own bootc"},
		{"transport oci", RunnerFacts{}, runnerWant{transport: "oci", image: "/srv/layout", runImage: "/srv/layout"}, RunnerHost, "oci:/srv/layout", "the OCI layout /srv/layout (source.transport = oci)"},
		{"transport oci-archive", RunnerFacts{}, runnerWant{transport: "oci-archive", image: "/srv/os.tar", runImage: "/srv/os.tar"}, RunnerHost, "oci-archive:/srv/os.tar", "the OCI archive /srv/os.tar"},
		{"transport containers-storage", RunnerFacts{}, runnerWant{transport: "containers-storage", image: img, runImage: img}, RunnerHost, "containers-storage:" + img, "in the live system's containers-storage"},
		{"transport containers-storage without host bootc", RunnerFacts{NoHostBootc: true}, runnerWant{transport: "containers-storage", image: img, runImage: img}, RunnerPodman, "", "no pull"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := chooseRunner(c.f, c.want)
			if err != nil {
				t.Fatal(err)
			}
			if got.runner != c.runner || got.source != c.source || !strings.Contains(got.reason, c.reason) {
				t.Errorf("got %+v\nwant %s %q %q", got, c.runner, c.source, c.reason)
			}
		})
	}
}

// What the runner choice refuses, and with which class.
func TestChooseRunnerRefuses(t *testing.T) {
	const img = "quay.io/fedora/fedora-bootc:44"
	for _, c := range []struct {
		name  string
		f     RunnerFacts
		want  runnerWant
		class Class
		says  string
	}{
		{"host without host bootc", RunnerFacts{NoHostBootc: true}, runnerWant{runner: RunnerHost, image: img, runImage: img}, ClassEnvironment, "the live system has no bootc"},
		{"unknown runner", RunnerFacts{}, runnerWant{runner: "docker", image: img, runImage: img}, ClassInvalidInput, `runner "docker" is not known`},
		{"oci without host bootc", RunnerFacts{NoHostBootc: true}, runnerWant{transport: "oci", image: "/l", runImage: "/l"}, ClassEnvironment, "needs the live system's bootc"},
		{"oci with podman", RunnerFacts{}, runnerWant{runner: RunnerPodman, transport: "oci", image: "/l", runImage: "/l"}, ClassInvalidInput, `runner = "podman" was asked for`},
		{"containers-storage, host without bootc", RunnerFacts{NoHostBootc: true}, runnerWant{runner: RunnerHost, transport: "containers-storage", image: img, runImage: img}, ClassEnvironment, "no bootc"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := chooseRunner(c.f, c.want)
			if err == nil {
				t.Fatalf("chose %+v", got)
			}
			if ClassOf(err) != c.class || !strings.Contains(err.Error(), c.says) {
				t.Errorf("class %v, error %v", ClassOf(err), err)
			}
		})
	}
}

// A request's runner and transport reach the plan: the host runner's
// command for a forced runner, and the source for an OCI layout.
func TestResolveRunnerRequest(t *testing.T) {
	req := Request{EditionID: "fedora-bootc-44", DiskPath: "/var/tmp/disk.img", Demo: true, Arch: "amd64", Runner: RunnerHost}
	p, err := ResolveWith(req, testDisks(), testCatalog(), ResolveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cmd := strings.Join(p.Command, " ")
	if p.Runner != RunnerHost || !strings.Contains(cmd, "--source-imgref=registry:quay.io/fedora/fedora-bootc:44") || !strings.Contains(p.RunnerReason, "chosen by the answers") {
		t.Errorf("forced host: %s %q %s", p.Runner, p.RunnerReason, cmd)
	}
	req = Request{Image: "/srv/layout", Transport: "oci", TargetRef: "quay.io/example/os:1", DiskPath: "/var/tmp/disk.img", Demo: true, Arch: "amd64"}
	p, err = ResolveWith(req, testDisks(), testCatalog(), ResolveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cmd = strings.Join(p.Command, " ")
	if p.Runner != RunnerHost || !strings.Contains(cmd, "--source-imgref=oci:/srv/layout --target-imgref=quay.io/example/os:1") {
		t.Errorf("oci transport: %s %s", p.Runner, cmd)
	}
	req.TargetRef = ""
	if _, err := ResolveWith(req, testDisks(), testCatalog(), ResolveOptions{}); ClassOf(err) != ClassInvalidInput {
		t.Errorf("oci without target ref: %v", err)
	}
}

// writeLayout writes an OCI layout with go-containerregistry: one
// random image per ref, annotated with the ref, and one image index
// annotated too (which ScanMediumImages must skip).
func writeLayout(t *testing.T, dir string, refs ...string) map[string]string {
	t.Helper()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	digests := map[string]string{}
	for _, ref := range refs {
		img, err := random.Image(512, 1)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{refAnnotation: ref})); err != nil {
			t.Fatal(err)
		}
		d, _ := img.Digest()
		digests[ref] = d.String()
	}
	idx, err := random.Index(256, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendIndex(idx, layout.WithAnnotations(map[string]string{refAnnotation: "localhost:5000/multi:1"})); err != nil {
		t.Fatal(err)
	}
	// An entry without a name is not an image anyone can ask for.
	anon, _ := random.Image(64, 1)
	if err := p.AppendImage(anon); err != nil {
		t.Fatal(err)
	}
	return digests
}

func TestScanMediumImages(t *testing.T) {
	dir := t.TempDir()
	refs := []string{"localhost:5000/x:1", "quay.io/fedora/fedora-bootc:44", "quay.io/fedora/fedora-bootc@sha256:" + strings.Repeat("0", 64)}
	digests := writeLayout(t, filepath.Join(dir, "oci"), refs...)
	extra := writeLayout(t, filepath.Join(dir, "more"), "ghcr.io/example/os:stable")
	if err := os.MkdirAll(filepath.Join(dir, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "broken-index.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "broken"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "broken", "index.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ScanMediumImages(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[MediumImage]bool{{Layout: filepath.Join(dir, "more"), Ref: "ghcr.io/example/os:stable", Digest: extra["ghcr.io/example/os:stable"]}: true}
	for _, r := range refs {
		want[MediumImage{Layout: filepath.Join(dir, "oci"), Ref: r, Digest: digests[r]}] = true
	}
	if len(got) != len(want) {
		t.Errorf("got %d images, want %d: %+v", len(got), len(want), got)
	}
	for _, m := range got {
		if !want[m] {
			t.Errorf("unexpected %+v", m)
		}
		if m.Ref == "localhost:5000/multi:1" {
			t.Errorf("an image index was taken: %+v", m)
		}
	}
	if s := (MediumImage{Layout: "/run/initramfs/live/images/oci", Ref: "localhost:5000/x:1"}).SourceImgref(); s != "oci:/run/initramfs/live/images/oci:localhost:5000/x:1" {
		t.Errorf("source imgref %q", s)
	}
	if got, err := ScanMediumImages(filepath.Join(dir, "none")); err != nil || len(got) != 0 {
		t.Errorf("a missing directory: %v %v", got, err)
	}

	// The scanned layout drives the choice: the ref, the digest under
	// another tag, and a stale tag.
	scanned := RunnerFacts{MediumImages: got, MemTotalBytes: 64 << 30}
	d := digests["localhost:5000/x:1"]
	for _, c := range []struct {
		want           runnerWant
		runner, source string
	}{
		{runnerWant{image: "localhost:5000/x:1", runImage: "localhost:5000/x:1"}, RunnerHost, "oci:" + filepath.Join(dir, "oci") + ":localhost:5000/x:1"},
		{runnerWant{image: "registry.example/x:1", runImage: "registry.example/x@" + d, digest: d}, RunnerHost, "oci:" + filepath.Join(dir, "oci") + ":localhost:5000/x:1"},
		{runnerWant{image: "quay.io/fedora/fedora-bootc:44", runImage: "quay.io/fedora/fedora-bootc@sha256:" + strings.Repeat("9", 64), digest: "sha256:" + strings.Repeat("9", 64)}, RunnerPodman, ""},
		{runnerWant{image: "localhost:5000/multi:1", runImage: "localhost:5000/multi:1"}, RunnerPodman, ""},
	} {
		ch, err := chooseRunner(scanned, c.want)
		if err != nil || ch.runner != c.runner || ch.source != c.source {
			t.Errorf("%+v: got %+v %v, want %s %s", c.want, ch, err, c.runner, c.source)
		}
	}
}

// Unreadable medium directories are an error; a file where the directory
// should be too.
func TestScanMediumImagesNotADir(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ScanMediumImages(f); err == nil {
		t.Error("a file as the medium directory was read as no images")
	}
}

func TestReadStoredImages(t *testing.T) {
	root := t.TempDir()
	if got, err := ReadStoredImages(root); err != nil || got != nil {
		t.Fatalf("no store: %v %v", got, err)
	}
	if err := os.MkdirAll(filepath.Join(root, "overlay-images"), 0o700); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(root, "overlay-images", "images.json")
	// As containers/storage writes it (trimmed): names are full refs.
	data := `[{"id":"5c1b9d5b1a6f","digest":"sha256:aa","names":["quay.io/fedora/fedora-bootc:44"],"layer":"l1","metadata":"{}","big-data-names":["manifest"],"created":"2026-01-01T00:00:00Z"},` +
		`{"id":"77","digest":"sha256:bb","digests":["sha256:bb","sha256:cc"],"names":["localhost/x:1","localhost/x:latest"]}]`
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := ReadStoredImages(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != "5c1b9d5b1a6f" || got[0].Names[0] != "quay.io/fedora/fedora-bootc:44" || got[0].Digest != "sha256:aa" || got[1].Digests[1] != "sha256:cc" {
		t.Errorf("got %+v", got)
	}
	// Matching by a second digest a stored image is known by.
	if _, ok := storedMatch(got, runnerWant{image: "registry/x:1", runImage: "registry/x@sha256:cc", digest: "sha256:cc"}); !ok {
		t.Error("not found by its second digest")
	}
	if err := os.WriteFile(p, []byte("["), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadStoredImages(root); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("a broken images.json: %v", err)
	}
}

// Demo plans read neither this machine's RAM nor its containers-storage,
// and the medium only from an explicit directory.
func TestSessionRunnerFactsDemo(t *testing.T) {
	gr := t.TempDir()
	if err := os.MkdirAll(filepath.Join(gr, "overlay-images"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(gr, "overlay-images", "images.json"), []byte(`[{"id":"1","names":["quay.io/fedora/fedora-bootc:44"]}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	s := &Session{Graphroot: gr}
	f := s.RunnerFacts(Request{Demo: true})
	if f.MemTotalBytes != 0 || f.StoredImages != nil || f.MediumImages != nil {
		t.Errorf("demo facts depend on this machine: %+v", f)
	}
	f = s.RunnerFacts(Request{})
	if len(f.StoredImages) != 1 || f.Graphroot != gr {
		t.Errorf("real facts: %+v", f)
	}
	if _, err := os.Stat("/proc/meminfo"); err == nil && f.MemTotalBytes == 0 {
		t.Errorf("real facts have no RAM")
	}
	med := t.TempDir()
	writeLayout(t, filepath.Join(med, "oci"), "quay.io/fedora/fedora-bootc:44")
	s = &Session{MediumImagesDir: med}
	if f := s.RunnerFacts(Request{Demo: true, ImageSizeBytes: 7}); len(f.MediumImages) != 1 || f.ImageSizeBytes != 7 {
		t.Errorf("demo with an explicit medium: %+v", f)
	}
}
