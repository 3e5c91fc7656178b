package sim

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/universal-atomic-installer/uai/installer/bootc"
)

// The refs uai writes into the medium's layout: full references, the
// org.opencontainers.image.ref.name of each manifest.
const (
	mediumRef  = "localhost:5000/x:1"
	mediumRef2 = "quay.io/fedora/fedora-bootc:42"
)

var bootcLabels = map[string]string{"containers.bootc": "1", "ostree.bootable": "1"}

// labelledImage is a random single-platform image whose config carries
// labels.
func labelledImage(t *testing.T, labels map[string]string) v1.Image {
	t.Helper()
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	img, err = mutate.Config(img, v1.Config{Labels: labels})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

type layoutEntry struct {
	ref string // "" leaves the ref.name annotation out
	img v1.Image
	idx v1.ImageIndex // appended instead of img when set
}

// writeLayout writes an OCI layout at dir the way uai's ISO builder does:
// one manifest per image, annotated with its full reference.
func writeLayout(t *testing.T, dir string, entries ...layoutEntry) layout.Path {
	t.Helper()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		var opts []layout.Option
		if e.ref != "" {
			opts = append(opts, layout.WithAnnotations(map[string]string{ociRefNameAnnotation: e.ref}))
		}
		if e.idx != nil {
			err = p.AppendIndex(e.idx, opts...)
		} else {
			err = p.AppendImage(e.img, opts...)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func digestOf(t *testing.T, img v1.Image) v1.Hash {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func readAleph(t *testing.T, root string) map[string]any {
	t.Helper()
	var aleph map[string]any
	if err := json.Unmarshal([]byte(mustRead(t, filepath.Join(root, ".bootc-aleph.json"))), &aleph); err != nil {
		t.Fatal(err)
	}
	return aleph
}

// hostRunner is tg's environment for the live system's own bootc: no
// container, the source given with --source-imgref.
func hostRunner(t *testing.T, tg target) Env {
	env := tg.env(t, nil)
	env.InContainer, env.Image = false, ""
	return env
}

// TestOCISource: --source-imgref oci:DIR[:REF] opens the layout the way
// containers/image does, refuses what it would refuse (and a corrupt or
// non-bootable image), and records the manifest's real digest.
func TestOCISource(t *testing.T) {
	const ctxOpen = "error: Installing to filesystem: Creating ostree deployment: Pulling: Creating importer: failed to invoke method OpenImage: failed to invoke method OpenImage: "
	const ctxFetch = "error: Installing to filesystem: Creating ostree deployment: Preparing import: Fetching manifest: "
	for _, tc := range []struct {
		name string
		// build writes the medium under base and returns the
		// --source-imgref and the digest a successful install records.
		build func(t *testing.T, base string) (src, digest string)
		code  int
		want  string // BASE stands for the medium's directory
	}{
		{name: "ref among several manifests", code: 0, want: "Installation complete!",
			build: func(t *testing.T, base string) (string, string) {
				a, b := labelledImage(t, bootcLabels), labelledImage(t, bootcLabels)
				writeLayout(t, filepath.Join(base, "images/oci"), layoutEntry{ref: mediumRef2, img: a}, layoutEntry{ref: mediumRef, img: b})
				return "oci:" + base + "/images/oci:" + mediumRef, digestOf(t, b).String()
			}},
		{name: "single manifest without ref", code: 0, want: "Installation complete!",
			build: func(t *testing.T, base string) (string, string) {
				a := labelledImage(t, bootcLabels)
				writeLayout(t, filepath.Join(base, "img"), layoutEntry{img: a})
				return "oci:" + base + "/img", digestOf(t, a).String()
			}},
		{name: "ostree.bootable=true alone is bootable", code: 0, want: "Installation complete!",
			build: func(t *testing.T, base string) (string, string) {
				a := labelledImage(t, map[string]string{"ostree.bootable": "true"})
				writeLayout(t, filepath.Join(base, "img"), layoutEntry{ref: mediumRef, img: a})
				return "oci:" + base + "/img:" + mediumRef, digestOf(t, a).String()
			}},
		{name: "containers.bootc=1 alone is bootable", code: 0, want: "Installation complete!",
			build: func(t *testing.T, base string) (string, string) {
				a := labelledImage(t, map[string]string{"containers.bootc": "1"})
				writeLayout(t, filepath.Join(base, "img"), layoutEntry{ref: mediumRef, img: a})
				return "oci:" + base + "/img:" + mediumRef, digestOf(t, a).String()
			}},
		{name: "missing directory", code: 1,
			want: ctxOpen + "open BASE/nope/index.json: no such file or directory\n",
			build: func(t *testing.T, base string) (string, string) {
				return "oci:" + base + "/nope:" + mediumRef, ""
			}},
		{name: "missing parent directory", code: 1,
			want: ctxOpen + "lstat BASE/run: no such file or directory\n",
			build: func(t *testing.T, base string) (string, string) {
				return "oci:" + base + "/run/initramfs/live/images/oci:" + mediumRef, ""
			}},
		{name: "directory without index.json", code: 1,
			want: ctxOpen + "open BASE/empty/index.json: no such file or directory\n",
			build: func(t *testing.T, base string) (string, string) {
				mustMkdir(t, filepath.Join(base, "empty"))
				return "oci:" + base + "/empty:" + mediumRef, ""
			}},
		{name: "unknown ref", code: 1,
			want: ctxOpen + `no descriptor found for reference "localhost:5000/x:2"` + "\n",
			build: func(t *testing.T, base string) (string, string) {
				writeLayout(t, filepath.Join(base, "img"), layoutEntry{ref: mediumRef, img: labelledImage(t, bootcLabels)})
				return "oci:" + base + "/img:localhost:5000/x:2", ""
			}},
		{name: "layout path with a colon", code: 1,
			want: ctxOpen + "open BASE/img/index.json: no such file or directory\n",
			build: func(t *testing.T, base string) (string, string) {
				// oci:DIR:REF splits at the first colon: a path with a
				// colon in it cannot name a layout.
				writeLayout(t, filepath.Join(base, "img:1"), layoutEntry{img: labelledImage(t, bootcLabels)})
				return "oci:" + base + "/img:1", ""
			}},
		{name: "several manifests without ref", code: 1,
			want: ctxOpen + "more than one image in oci, choose an image (the layout holds 2 manifests; name one as oci:DIR:REF)\n",
			build: func(t *testing.T, base string) (string, string) {
				writeLayout(t, filepath.Join(base, "img"), layoutEntry{ref: mediumRef, img: labelledImage(t, bootcLabels)},
					layoutEntry{ref: mediumRef2, img: labelledImage(t, bootcLabels)})
				return "oci:" + base + "/img", ""
			}},
		{name: "empty layout", code: 1,
			want: ctxOpen + "more than one image in oci, choose an image (the layout holds 0 manifests; name one as oci:DIR:REF)\n",
			build: func(t *testing.T, base string) (string, string) {
				writeLayout(t, filepath.Join(base, "img"))
				return "oci:" + base + "/img", ""
			}},
		{name: "multi-platform index", code: 1,
			want: "supports single-platform OCI layouts only",
			build: func(t *testing.T, base string) (string, string) {
				idx, err := random.Index(64, 1, 2)
				if err != nil {
					t.Fatal(err)
				}
				writeLayout(t, filepath.Join(base, "img"), layoutEntry{ref: mediumRef, idx: idx})
				d, _ := idx.Digest()
				return "oci:" + base + "/img:" + mediumRef, d.String()
			}},
		{name: "manifest blob missing", code: 1,
			build: func(t *testing.T, base string) (string, string) {
				a := labelledImage(t, bootcLabels)
				writeLayout(t, filepath.Join(base, "img"), layoutEntry{ref: mediumRef, img: a})
				d := digestOf(t, a)
				if err := os.Remove(filepath.Join(base, "img/blobs/sha256", d.Hex)); err != nil {
					t.Fatal(err)
				}
				return "oci:" + base + "/img:" + mediumRef, d.Hex
			},
			want: ctxFetch + "failed to invoke method GetManifest: open BASE/img/blobs/sha256/DIGEST: no such file or directory\n"},
		{name: "manifest blob corrupt", code: 1,
			build: func(t *testing.T, base string) (string, string) {
				a := labelledImage(t, bootcLabels)
				writeLayout(t, filepath.Join(base, "img"), layoutEntry{ref: mediumRef, img: a})
				d := digestOf(t, a)
				p := filepath.Join(base, "img/blobs/sha256", d.Hex)
				b := []byte(mustRead(t, p))
				b[len(b)-2] ^= 1
				if err := os.WriteFile(p, b, 0o644); err != nil {
					t.Fatal(err)
				}
				return "oci:" + base + "/img:" + mediumRef, d.Hex
			},
			want: ctxFetch + "failed to invoke method GetManifest: blob BASE/img/blobs/sha256/DIGEST does not match its digest sha256:DIGEST (its content hashes to sha256:"},
		{name: "config blob missing", code: 1,
			build: func(t *testing.T, base string) (string, string) {
				a := labelledImage(t, bootcLabels)
				writeLayout(t, filepath.Join(base, "img"), layoutEntry{ref: mediumRef, img: a})
				cd, err := a.ConfigName()
				if err != nil {
					t.Fatal(err)
				}
				if err := os.Remove(filepath.Join(base, "img/blobs/sha256", cd.Hex)); err != nil {
					t.Fatal(err)
				}
				return "oci:" + base + "/img:" + mediumRef, cd.Hex
			},
			want: ctxFetch + "failed to invoke method GetFullConfig: open BASE/img/blobs/sha256/DIGEST: no such file or directory\n"},
		{name: "not bootable", code: 1,
			want: ctxFetch + "Target image does not have ostree.bootable label\n",
			build: func(t *testing.T, base string) (string, string) {
				writeLayout(t, filepath.Join(base, "img"), layoutEntry{ref: mediumRef, img: labelledImage(t, map[string]string{"containers.bootc": "0", "ostree.bootable": "no"})})
				return "oci:" + base + "/img:" + mediumRef, ""
			}},
		{name: "no labels at all", code: 1,
			want: ctxFetch + "Target image does not have ostree.bootable label\n",
			build: func(t *testing.T, base string) (string, string) {
				writeLayout(t, filepath.Join(base, "img"), layoutEntry{ref: mediumRef, img: labelledImage(t, nil)})
				return "oci:" + base + "/img:" + mediumRef, ""
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := t.TempDir()
			src, digest := tc.build(t, base)
			tg := newTarget(t)
			r := runSim("bootc", hostRunner(t, tg), "install", "to-filesystem", "--source-imgref", src, "--target-imgref", testImage, tg.root)
			r.stderr = strings.ReplaceAll(r.stderr, base, "BASE")
			if tc.code != 0 && digest != "" {
				r.stderr = strings.ReplaceAll(r.stderr, digest, "DIGEST")
			}
			expect(t, r, tc.code, tc.want)
			if tc.code != 0 {
				if _, err := os.Stat(filepath.Join(tg.root, "ostree")); err == nil {
					t.Error("a refused install created ostree/")
				}
				if lines := strings.Split(strings.TrimSpace(r.stderr), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], "error: Installing to filesystem: ") {
					t.Errorf("stderr is not one bootc error line: %q", r.stderr)
				}
				return
			}
			aleph := readAleph(t, tg.root)
			if aleph["digest"] != digest {
				t.Errorf("aleph digest = %v, want the layout's manifest digest %s", aleph["digest"], digest)
			}
			if digest == ImageDigest(strings.TrimPrefix(src, "oci:")) {
				t.Error("the recorded digest is the simulator's synthetic one")
			}
			d, err := bootc.FindDeployment(tg.root)
			if err != nil {
				t.Fatal(err)
			}
			if d.Origin.Transport != "registry" || d.Origin.Image != testImage {
				t.Errorf("origin %+v", d.Origin)
			}
		})
	}
}

// TestOCISourceAlephLabels: the aleph records the source's own labels.
func TestOCISourceAlephLabels(t *testing.T) {
	base := t.TempDir()
	img := labelledImage(t, map[string]string{"containers.bootc": "1", "org.opencontainers.image.version": "42.1"})
	writeLayout(t, filepath.Join(base, "oci"), layoutEntry{ref: mediumRef, img: img})
	tg := newTarget(t)
	r := runSim("bootc", hostRunner(t, tg), "install", "to-filesystem", "--source-imgref", "oci:"+base+"/oci:"+mediumRef, "--target-imgref", testImage, tg.root)
	expect(t, r, 0, "Installing image: docker://"+testImage+"\n")
	labels, _ := readAleph(t, tg.root)["labels"].(map[string]any)
	if labels["org.opencontainers.image.version"] != "42.1" || labels["containers.bootc"] != "1" || labels["ostree.bootable"] != nil {
		t.Errorf("aleph labels = %v", labels)
	}
}

// TestOCISourceInContainer: inside a podman container bootc sees the
// layout only through a bind mount.
func TestOCISourceInContainer(t *testing.T) {
	base := t.TempDir()
	img := labelledImage(t, bootcLabels)
	writeLayout(t, filepath.Join(base, "oci"), layoutEntry{ref: mediumRef, img: img})
	for _, tc := range []struct {
		name  string
		binds []Bind
		code  int
		want  string
	}{
		{"bound", []Bind{{Host: base, Container: "/medium"}}, 0, "Installation complete!"},
		{"not bound", nil, 1, "failed to invoke method OpenImage: open /medium/oci/index.json: no such file or directory\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tg := newTarget(t)
			env := tg.env(t, nil)
			binds := append([]Bind{{Host: "/dev", Container: "/dev"}, {Host: "/var/lib/containers", Container: "/var/lib/containers"}, {Host: tg.root, Container: tg.root}}, tc.binds...)
			env.Container = &Container{Image: testImage, Privileged: true, PIDHost: true, IPCHost: true, Binds: binds, SecurityOpts: []string{"label=type:unconfined_t"}}
			r := runSim("bootc", env, "install", "to-filesystem", "--source-imgref", "oci:/medium/oci:"+mediumRef, "--target-imgref", testImage, tg.root)
			expect(t, r, tc.code, tc.want)
			if tc.code == 0 {
				if got := readAleph(t, tg.root)["digest"]; got != digestOf(t, img).String() {
					t.Errorf("aleph digest %v", got)
				}
			}
		})
	}
}

// TestOCISourceToDisk: to-disk opens the source the same way.
func TestOCISourceToDisk(t *testing.T) {
	base := t.TempDir()
	writeLayout(t, filepath.Join(base, "oci"), layoutEntry{ref: mediumRef, img: labelledImage(t, bootcLabels)})
	env := fakeEnv(t, nil)
	r := runSim("bootc", env, "install", "to-disk", "--via-loopback", "--filesystem=xfs", "--source-imgref=oci:"+base+"/oci:"+mediumRef, diskImage(t, 8<<30, 0, false))
	expect(t, r, 0, "Installing image: docker://"+base+"/oci:"+mediumRef+"\nBlock setup: direct")
	r = runSim("bootc", env, "install", "to-disk", "--via-loopback", "--filesystem=xfs", "--source-imgref=oci:"+base+"/oci:"+mediumRef2, diskImage(t, 8<<30, 0, false))
	expect(t, r, 1, "error: Installing to disk: Creating ostree deployment: Pulling: Creating importer: failed to invoke method OpenImage: failed to invoke method OpenImage: no descriptor found for reference \"quay.io/fedora/fedora-bootc:42\"\n")
}

// writeImagesJSON writes containers-storage's image records under
// graphroot.
func writeImagesJSON(t *testing.T, graphroot string, images []storageImage) {
	t.Helper()
	b, err := json.Marshal(images)
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(graphroot, "overlay-images/images.json"), string(b))
}

// TestContainersStorageSource: --source-imgref containers-storage:REF is
// looked up in the graphroot's images.json and records its digest.
func TestContainersStorageSource(t *testing.T) {
	const ctxOpen = "error: Installing to filesystem: Creating ostree deployment: Pulling: Creating importer: failed to invoke method OpenImage: failed to invoke method OpenImage: "
	id := strings.Repeat("ab", 32)
	digest := "sha256:" + strings.Repeat("cd", 32)
	otherID, otherDigest := strings.Repeat("12", 32), "sha256:"+strings.Repeat("34", 32)
	images := []storageImage{
		{ID: otherID, Names: []string{"docker.io/library/fedora:latest"}, Digest: otherDigest},
		{ID: id, Names: []string{"quay.io/fedora/fedora-bootc:42", "localhost/mine:latest"}, Digest: digest, Digests: []string{digest}},
	}
	for _, tc := range []struct {
		name     string
		ref      string // GRAPH stands for the graphroot
		noImages bool
		code     int
		want     string // GRAPH stands for the graphroot
		digest   string
	}{
		{name: "by name", ref: testImage, code: 0, want: "Installation complete!", digest: digest},
		{name: "localhost name without tag", ref: "localhost/mine", code: 0, want: "Installation complete!", digest: digest},
		{name: "short name", ref: "fedora", code: 0, want: "Installation complete!", digest: otherDigest},
		{name: "by id", ref: id, code: 0, want: "Installation complete!", digest: digest},
		{name: "name at digest", ref: "quay.io/fedora/fedora-bootc@" + digest, code: 0, want: "Installation complete!", digest: digest},
		{name: "store spec", ref: "[overlay@GRAPH+/run/containers/storage]" + testImage, code: 0, want: "Installation complete!", digest: digest},
		{name: "unknown name", ref: "quay.io/fedora/fedora-bootc:41", code: 1,
			want: ctxOpen + `reference "[overlay@GRAPH+/run/containers/storage]quay.io/fedora/fedora-bootc:41" does not resolve to an image ID: identifier is not an image` + "\n"},
		{name: "unknown short name", ref: "mine", code: 1,
			want: `reference "[overlay@GRAPH+/run/containers/storage]docker.io/library/mine:latest" does not resolve to an image ID`},
		{name: "digest of another image", ref: "quay.io/fedora/fedora-bootc@" + otherDigest, code: 1,
			want: `does not resolve to an image ID: identifier is not an image`},
		{name: "empty store", ref: testImage, noImages: true, code: 1,
			want: ctxOpen + `reference "[overlay@GRAPH+/run/containers/storage]quay.io/fedora/fedora-bootc:42" does not resolve to an image ID: identifier is not an image` + "\n"},
		{name: "store spec names another store", ref: "[overlay@/nonexistent/storage+/run/containers/storage]" + testImage, code: 1,
			want: `reference "[overlay@/nonexistent/storage+/run/containers/storage]quay.io/fedora/fedora-bootc:42" does not resolve to an image ID`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			graph := filepath.Join(t.TempDir(), "storage")
			if !tc.noImages {
				writeImagesJSON(t, graph, images)
			}
			tg := newTarget(t)
			env := hostRunner(t, tg)
			env.GraphRoot = graph
			ref := strings.ReplaceAll(tc.ref, "GRAPH", graph)
			r := runSim("bootc", env, "install", "to-filesystem", "--source-imgref", "containers-storage:"+ref, "--target-imgref", testImage, tg.root)
			r.stderr = strings.ReplaceAll(r.stderr, graph, "GRAPH")
			expect(t, r, tc.code, tc.want)
			if tc.code != 0 {
				if _, err := os.Stat(filepath.Join(tg.root, "ostree")); err == nil {
					t.Error("a refused install created ostree/")
				}
				return
			}
			if got := readAleph(t, tg.root)["digest"]; got != tc.digest {
				t.Errorf("aleph digest = %v, want %s", got, tc.digest)
			}
		})
	}
}

// TestGraphRootDefault: without Env.GraphRoot the lookup goes to
// containers-storage's default graphroot.
func TestGraphRootDefault(t *testing.T) {
	if e := (Env{}).withDefaults(); e.GraphRoot != DefaultGraphRoot || DefaultGraphRoot != "/var/lib/containers/storage" {
		t.Errorf("GraphRoot default %q", e.GraphRoot)
	}
	t.Setenv("UAI_SIM_GRAPHROOT", "/tmp/graph")
	if e := DefaultEnv(); e.GraphRoot != "/tmp/graph" {
		t.Errorf("UAI_SIM_GRAPHROOT: %q", e.GraphRoot)
	}
	t.Setenv("UAI_SIM_GRAPHROOT", "")
	if e := DefaultEnv(); e.GraphRoot != DefaultGraphRoot {
		t.Errorf("DefaultEnv GraphRoot %q", e.GraphRoot)
	}
}

// TestRegistrySourceKeepsItsPredictableDigest: no network, so registry:
// keeps the digest the simulator derives from the name.
func TestRegistrySourceKeepsItsPredictableDigest(t *testing.T) {
	tg := newTarget(t)
	r := runSim("bootc", hostRunner(t, tg), "install", "to-filesystem", "--source-imgref", "registry:"+testImage, tg.root)
	expect(t, r, 0, "Installation complete!")
	if got := readAleph(t, tg.root)["digest"]; got != ImageDigest(testImage) {
		t.Errorf("aleph digest %v", got)
	}
}
