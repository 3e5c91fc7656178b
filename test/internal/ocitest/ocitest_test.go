package ocitest

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

func TestImageOptions(t *testing.T) {
	if cf, err := Image(t, 64, 1).ConfigFile(); err != nil || len(cf.Config.Labels) != 0 {
		t.Errorf("a plain image: labels %v, %v", cf.Config.Labels, err)
	}
	when := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	img := BootableImage(t, 64, 2, Platform("linux", "arm64"), Created(when), Labels(map[string]string{"x": "y", "ostree.bootable": "true"}))
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"containers.bootc": "1", "ostree.bootable": "true", "x": "y"}
	if len(cf.Config.Labels) != len(want) {
		t.Errorf("labels %v, want %v", cf.Config.Labels, want)
	}
	for k, v := range want {
		if cf.Config.Labels[k] != v {
			t.Errorf("label %s=%q, want %q", k, cf.Config.Labels[k], v)
		}
	}
	if cf.OS != "linux" || cf.Architecture != "arm64" || !cf.Created.Time.Equal(when) {
		t.Errorf("platform %s/%s, created %v", cf.OS, cf.Architecture, cf.Created.Time)
	}
	if ls, _ := img.Layers(); len(ls) != 2 {
		t.Errorf("%d layers, want 2", len(ls))
	}
	// BootcLabels is a fresh map each time: changing one changes no image.
	BootcLabels()["containers.bootc"] = "0"
	if BootcLabels()["containers.bootc"] != "1" {
		t.Error("BootcLabels is shared")
	}
}

func TestWriteLayout(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "oci")
	a, b := BootableImage(t, 64, 1), Image(t, 64, 1)
	digests := WriteLayout(t, dir, Entry{"quay.io/x/a:1", a}, Entry{"localhost:5000/b:2", b})
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Manifests) != 2 {
		t.Fatalf("%d manifests, want 2", len(m.Manifests))
	}
	for i, ref := range []string{"quay.io/x/a:1", "localhost:5000/b:2"} {
		d := m.Manifests[i]
		if d.Annotations[RefNameAnnotation] != ref || d.Digest.String() != digests[ref] {
			t.Errorf("manifest %d: %s %v, want %s %s", i, d.Digest, d.Annotations, ref, digests[ref])
		}
	}
}

func TestPush(t *testing.T) {
	ref := Registry(t) + "/ocitest/os:1"
	d := Push(t, ref, BootableImage(t, 64, 1))
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(r)
	if err != nil {
		t.Fatal(err)
	}
	got, err := img.Digest()
	if err != nil || got != d {
		t.Errorf("pulled %s (%v), pushed %s", got, err, d)
	}
	if cf, err := img.ConfigFile(); err != nil || cf.Config.Labels["containers.bootc"] != "1" {
		t.Errorf("pulled an image without the bootc label (%v)", err)
	}
}
