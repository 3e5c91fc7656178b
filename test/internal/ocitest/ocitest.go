// Package ocitest gives tests small random container images, labelled
// bootable or not, and the places uai finds images in: an OCI layout as
// on an install medium, and an in-process registry.
package ocitest

import (
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// RefNameAnnotation names each manifest of the layout uai's ISO builder
// writes by its full reference.
const RefNameAnnotation = "org.opencontainers.image.ref.name"

// BootcLabels are the labels of a bootc image.
func BootcLabels() map[string]string {
	return map[string]string{"containers.bootc": "1", "ostree.bootable": "1"}
}

// Option changes the config of an image Image makes.
type Option func(*v1.ConfigFile)

// Labels adds labels to the image's config (over any set before).
func Labels(labels map[string]string) Option {
	return func(cf *v1.ConfigFile) {
		if cf.Config.Labels == nil {
			cf.Config.Labels = map[string]string{}
		}
		for k, v := range labels {
			cf.Config.Labels[k] = v
		}
	}
}

// Platform sets the image's OS and architecture.
func Platform(os, arch string) Option {
	return func(cf *v1.ConfigFile) { cf.OS, cf.Architecture = os, arch }
}

// Created sets the image's creation time.
func Created(t time.Time) Option {
	return func(cf *v1.ConfigFile) { cf.Created = v1.Time{Time: t} }
}

// Image is a random image of layers layers of size bytes each. Without
// options it is random.Image's image as is; with some, its config is
// changed by them in order.
func Image(tb testing.TB, size, layers int64, opts ...Option) v1.Image {
	tb.Helper()
	img, err := random.Image(size, layers)
	if err != nil {
		tb.Fatal(err)
	}
	if len(opts) == 0 {
		return img
	}
	cf, err := img.ConfigFile()
	if err != nil {
		tb.Fatal(err)
	}
	cf = cf.DeepCopy()
	for _, o := range opts {
		o(cf)
	}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		tb.Fatal(err)
	}
	return img
}

// BootableImage is Image labelled bootable (BootcLabels), then changed by
// opts.
func BootableImage(tb testing.TB, size, layers int64, opts ...Option) v1.Image {
	tb.Helper()
	return Image(tb, size, layers, append([]Option{Labels(BootcLabels())}, opts...)...)
}

// Entry is an image stored in a layout under a ref.
type Entry struct {
	Ref   string
	Image v1.Image
}

// WriteLayout writes an OCI layout at dir the way `uai iso build
// --embed-image` does: one manifest per entry, in order, annotated with
// its full ref. It returns the manifest digests by ref.
func WriteLayout(tb testing.TB, dir string, entries ...Entry) map[string]string {
	tb.Helper()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		tb.Fatal(err)
	}
	digests := map[string]string{}
	for _, e := range entries {
		if err := p.AppendImage(e.Image, layout.WithAnnotations(map[string]string{RefNameAnnotation: e.Ref})); err != nil {
			tb.Fatal(err)
		}
		d, err := e.Image.Digest()
		if err != nil {
			tb.Fatal(err)
		}
		digests[e.Ref] = d.String()
	}
	return digests
}

// Registry serves go-containerregistry's in-process registry on loopback
// for the rest of the test and returns its host:port.
func Registry(tb testing.TB) string {
	tb.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	tb.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// Push writes img to ref (anonymously) and returns its manifest digest.
func Push(tb testing.TB, ref string, img v1.Image) v1.Hash {
	tb.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		tb.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		tb.Fatalf("push %s: %v", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		tb.Fatal(err)
	}
	return d
}
