package iso

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/universal-atomic-installer/uai/iso/internal/isofs"
)

// testRegistry serves go-containerregistry's in-process registry and
// pushes a bootable amd64 image and a two-platform index to it.
func testRegistry(t *testing.T) (host string, img v1.Image) {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host = strings.TrimPrefix(srv.URL, "http://")
	mk := func(arch string, labels map[string]string) v1.Image {
		i, err := random.Image(300<<10, 3)
		if err != nil {
			t.Fatal(err)
		}
		cf, _ := i.ConfigFile()
		cf = cf.DeepCopy()
		cf.OS, cf.Architecture = "linux", arch
		cf.Config.Labels = labels
		if i, err = mutate.ConfigFile(i, cf); err != nil {
			t.Fatal(err)
		}
		return i
	}
	img = mk("amd64", map[string]string{"containers.bootc": "1"})
	ref, _ := name.ParseReference(host + "/bootc/os:1")
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	arm := mk("arm64", map[string]string{"containers.bootc": "1"})
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
		mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}})
	iref, _ := name.ParseReference(host + "/bootc/multi:1")
	if err := remote.WriteIndex(iref, idx); err != nil {
		t.Fatal(err)
	}
	plain := mk("amd64", nil)
	pref, _ := name.ParseReference(host + "/apps/not-bootable:1")
	if err := remote.Write(pref, plain); err != nil {
		t.Fatal(err)
	}
	return host, img
}

func TestEmbedImages(t *testing.T) {
	host, img := testRegistry(t)
	want, _ := img.Digest()
	o := makeInputs(t).options()
	o.Images = []string{host + "/bootc/os:1", host + "/bootc/multi:1", host + "/apps/not-bootable:1"}
	var progress bytes.Buffer
	o.Progress = &progress
	out := filepath.Join(t.TempDir(), "offline.iso")
	res, err := Build(context.Background(), out, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Images) != 3 || res.Images[0].Digest != want.String() || res.Images[1].Digest != want.String() {
		t.Fatalf("embedded %+v; the multi-arch index must give the amd64 image %s", res.Images, want)
	}
	if !res.Images[0].Bootable || res.Images[2].Bootable {
		t.Errorf("bootable flags: %+v", res.Images)
	}
	for _, ref := range o.Images {
		if !strings.Contains(progress.String(), "pull "+ref) || !strings.Contains(progress.String(), "100%") {
			t.Errorf("no finished progress bar for %s in:\n%s", ref, progress.String())
		}
	}
	im, err := Open(out, false)
	if err != nil {
		t.Fatal(err)
	}
	got, err := im.Images(true)
	im.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Ref != o.Images[0] || !got[0].Verified || got[0].Platform != "linux/amd64" {
		t.Fatalf("images in the ISO: %+v", got)
	}
	// The layout is a real OCI layout: go-containerregistry reads it back.
	dir := t.TempDir()
	f, _ := os.Open(out)
	defer f.Close()
	vol, _ := isofs.Open(f)
	copyTree(t, vol, PathImages, dir)
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	back, err := p.Image(want)
	if err != nil {
		t.Fatalf("the layout does not hold %s: %v", want, err)
	}
	if d, _ := back.Digest(); d != want {
		t.Errorf("layout image digest %s", d)
	}

	// One flipped byte in a layer blob is found, and the blob named.
	m, _ := img.Manifest()
	layer := m.Layers[1].Digest
	e, err := vol.Lookup(PathImages + "/blobs/sha256/" + layer.Hex)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := os.OpenFile(out, os.O_RDWR, 0)
	b := make([]byte, 1)
	w.ReadAt(b, e.Offset()+100)
	b[0] ^= 1
	w.WriteAt(b, e.Offset()+100)
	w.Close()
	im, _ = Open(out, false)
	defer im.Close()
	if _, err := im.Images(false); err != nil {
		t.Errorf("listing without --verify reads no blobs, yet failed: %v", err)
	}
	if _, err := im.Images(true); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), layer.String()) {
		t.Fatalf("damaged layer: got %v, want ErrCorrupt naming %s", err, layer)
	}
}

func TestEmbedImageRegistryErrors(t *testing.T) {
	host, _ := testRegistry(t)
	o := makeInputs(t).options()
	o.Images = []string{host + "/bootc/missing:1"}
	_, err := Build(context.Background(), filepath.Join(t.TempDir(), "x.iso"), o)
	if !errors.Is(err, ErrRegistry) || !strings.Contains(err.Error(), "bootc/missing:1") {
		t.Fatalf("missing image: got %v", err)
	}
}

func copyTree(t *testing.T, vol *isofs.Volume, from, to string) {
	t.Helper()
	ents, err := vol.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		dst := filepath.Join(to, e.Name)
		if e.Dir {
			os.MkdirAll(dst, 0o755)
			copyTree(t, vol, from+"/"+e.Name, dst)
			continue
		}
		b, err := vol.ReadFile(from + "/" + e.Name)
		if err != nil {
			t.Fatal(err)
		}
		writeTestFile(t, dst, b)
	}
}
