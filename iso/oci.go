package iso

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/universal-atomic-installer/uai/iso/internal/isofs"
)

// ErrRegistry means pulling an image from its registry failed.
var ErrRegistry = errors.New("registry")

// RefAnnotation names an image in the OCI layout: its full reference, the
// way `oci:/path/to/images/oci:REF` (containers/image) looks it up.
const RefAnnotation = "org.opencontainers.image.ref.name"

// EmbeddedImage is one image in the ISO's OCI layout.
type EmbeddedImage struct {
	Ref      string `json:"ref"`
	Digest   string `json:"digest"`
	Size     int64  `json:"size"`
	Platform string `json:"platform,omitempty"`
	// Bootable says the image carries containers.bootc=1 or
	// ostree.bootable, the labels bootable images have.
	Bootable bool `json:"bootable"`
	Verified bool `json:"verified,omitempty"`
}

// qualified reports whether a reference names its registry: a bare
// "fedora-bootc" silently means Docker Hub's library, which is never what
// an installer medium should carry.
func qualified(ref string) bool {
	first, _, ok := strings.Cut(ref, "/")
	return ok && (strings.ContainsAny(first, ".:") || first == "localhost")
}

// pullImages pulls refs into an OCI layout at dir, verifying every blob it
// wrote against its digest, and returns the images and their bytes.
func pullImages(ctx context.Context, dir string, o BuildOptions) ([]EmbeddedImage, int64, error) {
	plat := o.Platform
	if plat == "" {
		plat = "linux/amd64"
	}
	platform, err := v1.ParsePlatform(plat)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: platform %q: %v", ErrInvalid, plat, err)
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return nil, 0, fmt.Errorf("create the OCI layout: %w", err)
	}
	base := o.Transport
	if base == nil {
		base = remote.DefaultTransport
	}
	var out []EmbeddedImage
	var total int64
	seen := map[string]bool{}
	for _, s := range o.Images {
		if seen[s] {
			return nil, 0, fmt.Errorf("%w: --embed-image %s is given twice", ErrInvalid, s)
		}
		seen[s] = true
		if !qualified(s) {
			return nil, 0, fmt.Errorf("%w: --embed-image %q names no registry; write it in full, e.g. quay.io/fedora/fedora-bootc:44", ErrInvalid, s)
		}
		ref, err := name.ParseReference(s)
		if err != nil {
			return nil, 0, fmt.Errorf("%w: --embed-image %q: %v", ErrInvalid, s, err)
		}
		counter := &countingTransport{base: base}
		img, err := remote.Image(ref, remote.WithContext(ctx), remote.WithPlatform(*platform),
			remote.WithTransport(counter), remote.WithAuthFromKeychain(authn.DefaultKeychain))
		if err != nil {
			return nil, 0, fmt.Errorf("%w: pull %s: %v; check the reference and the network", ErrRegistry, s, err)
		}
		m, err := img.Manifest()
		if err != nil {
			return nil, 0, fmt.Errorf("%w: read the manifest of %s: %v", ErrRegistry, s, err)
		}
		size := m.Config.Size
		for _, l := range m.Layers {
			size += l.Size
		}
		bar := newProgressBar(o.Progress, "pull "+s, size)
		counter.bar = bar
		err = p.AppendImage(img, layout.WithPlatform(*platform), layout.WithAnnotations(map[string]string{RefAnnotation: s}))
		bar.finish(err == nil)
		if err != nil {
			return nil, 0, fmt.Errorf("%w: pull %s into the OCI layout: %v", ErrRegistry, s, err)
		}
		d, err := img.Digest()
		if err != nil {
			return nil, 0, fmt.Errorf("%w: digest of %s: %v", ErrRegistry, s, err)
		}
		// Verify what landed on disk, blob by blob, independently of the
		// checks the registry client made while streaming.
		ei, n, err := verifyImage(dirBlobs(dir), s, d.String())
		if err != nil {
			return nil, 0, err
		}
		ei.Platform = plat
		total += n
		out = append(out, ei)
	}
	return out, total, nil
}

// blobOpener opens a blob of a layout by digest.
type blobOpener func(digest string) (io.ReadCloser, error)

func dirBlobs(dir string) blobOpener {
	return func(digest string) (io.ReadCloser, error) {
		algo, hexd, ok := strings.Cut(digest, ":")
		if !ok || algo != "sha256" || len(hexd) != 64 {
			return nil, fmt.Errorf("unsupported digest %q", digest)
		}
		return os.Open(filepath.Join(dir, "blobs", algo, hexd))
	}
}

// readVerified reads a blob and checks its digest and size; keep returns
// its bytes (manifests and configs), otherwise they are only hashed.
func readVerified(open blobOpener, ref, what string, d v1.Descriptor, keep bool) ([]byte, error) {
	rc, err := open(d.Digest.String())
	if err != nil {
		return nil, fmt.Errorf("%w: image %s: %s blob %s is missing from the layout: %v; pull it again", ErrCorrupt, ref, what, d.Digest, err)
	}
	defer rc.Close()
	h := sha256.New()
	var data []byte
	var n int64
	if keep {
		data, err = io.ReadAll(io.TeeReader(rc, h))
		n = int64(len(data))
	} else {
		n, err = io.Copy(h, rc)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: read %s blob %s of %s: %v", ErrCorrupt, what, d.Digest, ref, err)
	}
	return data, checkBlob(ref, what, d, n, h.Sum(nil))
}

func checkBlob(ref, what string, d v1.Descriptor, n int64, sum []byte) error {
	got := "sha256:" + hex.EncodeToString(sum)
	if got != d.Digest.String() {
		return fmt.Errorf("%w: image %s: %s blob %s hashes to %s; the embedded image is damaged, rebuild the ISO", ErrCorrupt, ref, what, d.Digest, got)
	}
	if d.Size > 0 && n != d.Size {
		return fmt.Errorf("%w: image %s: %s blob %s has %d bytes, its descriptor says %d; rebuild the ISO", ErrCorrupt, ref, what, d.Digest, n, d.Size)
	}
	return nil
}

// verifyImage checks the manifest, config and every layer of one image
// against their digests and returns its description and byte count.
func verifyImage(open blobOpener, ref, digest string) (EmbeddedImage, int64, error) {
	h, err := v1.NewHash(digest)
	if err != nil {
		return EmbeddedImage{}, 0, fmt.Errorf("%w: image %s: digest %q: %v", ErrCorrupt, ref, digest, err)
	}
	mb, err := readVerified(open, ref, "manifest", v1.Descriptor{Digest: h}, true)
	if err != nil {
		return EmbeddedImage{}, 0, err
	}
	m, err := v1.ParseManifest(bytes.NewReader(mb))
	if err != nil {
		return EmbeddedImage{}, 0, fmt.Errorf("%w: image %s: manifest: %v", ErrCorrupt, ref, err)
	}
	cb, err := readVerified(open, ref, "config", m.Config, true)
	if err != nil {
		return EmbeddedImage{}, 0, err
	}
	var cfg v1.ConfigFile
	if err := json.Unmarshal(cb, &cfg); err != nil {
		return EmbeddedImage{}, 0, fmt.Errorf("%w: image %s: config: %v", ErrCorrupt, ref, err)
	}
	total := int64(len(mb)) + m.Config.Size
	for _, l := range m.Layers {
		if _, err := readVerified(open, ref, "layer", l, false); err != nil {
			return EmbeddedImage{}, 0, err
		}
		total += l.Size
	}
	labels := cfg.Config.Labels
	bootable := labels["containers.bootc"] == "1" || labels["ostree.bootable"] != ""
	plat := ""
	if cfg.OS != "" {
		plat = cfg.OS + "/" + cfg.Architecture
	}
	return EmbeddedImage{Ref: ref, Digest: digest, Size: total - int64(len(mb)), Bootable: bootable, Platform: plat, Verified: true}, total, nil
}

// Images lists the images embedded in a uai ISO; with verify every blob
// is read and checked against its digest.
func (im *Image) Images(verify bool) ([]EmbeddedImage, error) {
	return listImages(im.vol, im.name, verify)
}

func listImages(vol *isofs.Volume, name string, verify bool) ([]EmbeddedImage, error) {
	idx, err := vol.ReadFile(PathImages + "/index.json")
	if errors.Is(err, isofs.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the image index of %s: %w", name, err)
	}
	im, err := v1.ParseIndexManifest(bytes.NewReader(idx))
	if err != nil {
		return nil, fmt.Errorf("%w: the image index of %s: %v", ErrCorrupt, name, err)
	}
	open := func(digest string) (io.ReadCloser, error) {
		algo, hexd, _ := strings.Cut(digest, ":")
		sr, _, err := vol.Open(PathImages + "/blobs/" + algo + "/" + hexd)
		if err != nil {
			return nil, err
		}
		return io.NopCloser(sr), nil
	}
	var out []EmbeddedImage
	for _, d := range im.Manifests {
		ref := d.Annotations[RefAnnotation]
		if !d.MediaType.IsImage() {
			return nil, fmt.Errorf("%w: %s embeds %s as %s; uai embeds single-platform images only", ErrCorrupt, name, ref, d.MediaType)
		}
		ei := EmbeddedImage{Ref: ref, Digest: d.Digest.String()}
		if d.Platform != nil {
			ei.Platform = d.Platform.OS + "/" + d.Platform.Architecture
		}
		if verify {
			v, _, err := verifyImage(open, ref, d.Digest.String())
			if err != nil {
				return nil, err
			}
			v.Platform = ei.Platform
			ei = v
		}
		out = append(out, ei)
	}
	return out, nil
}

// countingTransport counts the bytes of blob downloads for the progress
// bar: remote.WithProgress reports nothing on pulls.
type countingTransport struct {
	base http.RoundTripper
	bar  *progressBar
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.base.RoundTrip(r)
	if err == nil && r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/") && c.bar != nil {
		resp.Body = &countingBody{ReadCloser: resp.Body, bar: c.bar}
	}
	return resp, err
}

type countingBody struct {
	io.ReadCloser
	bar *progressBar
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.bar.add(int64(n))
	return n, err
}

// progressBar draws "label [####    ] 42% 1.2/3.0 MiB" on one line,
// redrawn at most five times a second (layers download concurrently).
type progressBar struct {
	w     io.Writer
	label string
	total int64
	done  atomic.Int64
	stop  chan struct{}
	wg    sync.WaitGroup
}

func newProgressBar(w io.Writer, label string, total int64) *progressBar {
	b := &progressBar{w: w, label: label, total: total, stop: make(chan struct{})}
	if w == nil {
		return b
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-b.stop:
				return
			case <-t.C:
				b.draw("\r")
			}
		}
	}()
	return b
}

func (b *progressBar) add(n int64) { b.done.Add(n) }

func (b *progressBar) draw(prefix string) {
	done, total := b.done.Load(), b.total
	if done > total {
		total = done
	}
	frac := 1.0
	if total > 0 {
		frac = float64(done) / float64(total)
	}
	const width = 30
	n := int(frac * width)
	fmt.Fprintf(b.w, "%s%s [%s%s] %3d%% %s/%s", prefix, b.label, strings.Repeat("#", n), strings.Repeat(" ", width-n), int(frac*100), mib(done), mib(total))
}

func (b *progressBar) finish(ok bool) {
	if b.w == nil {
		return
	}
	close(b.stop)
	b.wg.Wait()
	if ok {
		// Cached or already-present blobs are not downloaded again; the
		// image is complete all the same.
		b.done.Store(b.total)
	}
	b.draw("\r")
	fmt.Fprintln(b.w)
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
