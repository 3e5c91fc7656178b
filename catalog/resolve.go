package catalog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// ImageInfo is what a registry says about an image for this machine.
type ImageInfo struct {
	// Ref is the reference as asked; Digest the manifest digest of the
	// platform-specific image ("sha256:…").
	Ref    string `json:"ref"`
	Digest string `json:"digest"`
	// DigestRef is the repository pinned to Digest
	// (registry/repo@sha256:…): what to pull, so that what is installed is
	// exactly what was resolved.
	DigestRef string `json:"digest_ref"`
	// IndexDigest is the digest of the multi-arch index, when there is one.
	IndexDigest string `json:"index_digest,omitempty"`
	// Arches are the linux architectures the index offers.
	Arches []string `json:"arches,omitempty"`
	Arch   string   `json:"arch"`
	// MediaType is the media type of what Ref names (an index or a
	// manifest).
	MediaType string `json:"media_type"`
	// SizeBytes is the total compressed size (layers + config).
	SizeBytes int64             `json:"size_bytes"`
	Layers    int               `json:"layers"`
	Created   time.Time         `json:"created"`
	Labels    map[string]string `json:"labels,omitempty"`
	// Bootable is true when the labels mark a bootc image
	// (containers.bootc=1/true or ostree.bootable=true/1); BootableLabel
	// names the label that did.
	Bootable      bool   `json:"bootable"`
	BootableLabel string `json:"bootable_label,omitempty"`
	// PinnedDigest is the pinned digest that was resolved and verified;
	// TagDigest is where the tag points now (they differ once the tag has
	// moved on, which is a warning, not an error).
	PinnedDigest string `json:"pinned_digest,omitempty"`
	TagDigest    string `json:"tag_digest,omitempty"`
	// Stale is true when the image is older than ResolveOptions.MaxAge: a
	// health signal for an edition whose builds have stopped.
	Stale bool `json:"stale"`
	// Warnings are for the user: a stale image, a moved tag, an unknown
	// build time.
	Warnings []string `json:"warnings,omitempty"`
}

// ResolveOptions tunes image resolution.
type ResolveOptions struct {
	// Arch is the OCI architecture wanted; empty means this machine's.
	Arch string
	// Digest pins the image ("sha256:…", an edition's digest): the pinned
	// manifest (or index) is resolved and verified, and the tag is only
	// checked for having moved.
	Digest string
	// MaxAge is the age beyond which an image is stale; 0 means
	// DefaultMaxImageAge, a negative value turns the check off.
	MaxAge time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Transport replaces the HTTP transport (tests, proxies).
	Transport http.RoundTripper
	// Keychain provides registry credentials; default
	// authn.DefaultKeychain, which reads the docker config
	// ($DOCKER_CONFIG/config.json or ~/.docker/config.json) and, when there
	// is none, $REGISTRY_AUTH_FILE or the containers auth.json.
	Keychain authn.Keychain
	// Timeout bounds the whole resolution, retries included; 0 means a
	// default (60 s).
	Timeout time.Duration
	// Attempts (default 3) and Backoff (default 500 ms, doubling up to
	// 5 s) govern retries after a network failure or a 429/5xx answer.
	Attempts int
	Backoff  time.Duration
}

// DefaultMaxImageAge is the age beyond which an image counts as stale.
// Maintained bootc images are rebuilt at least weekly; three months
// without a build means nobody is shipping fixes.
const DefaultMaxImageAge = 90 * 24 * time.Hour

const defaultResolveTimeout = 60 * time.Second

func (o ResolveOptions) withDefaults() ResolveOptions {
	if o.Arch == "" {
		o.Arch = runtime.GOARCH
	}
	if o.MaxAge == 0 {
		o.MaxAge = DefaultMaxImageAge
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Transport == nil {
		o.Transport = remote.DefaultTransport
	}
	if o.Keychain == nil {
		o.Keychain = authn.DefaultKeychain
	}
	if o.Timeout <= 0 {
		o.Timeout = defaultResolveTimeout
	}
	if o.Attempts <= 0 {
		o.Attempts = defaultAttempts
	}
	o.Attempts = min(o.Attempts, maxAttempts)
	if o.Backoff <= 0 {
		o.Backoff = defaultBackoff
	}
	return o
}

// CheckRef returns nil when ResolveImage accepts ref: fully qualified
// (a registry host first; a bare "fedora-bootc" would mean docker.io to
// most tools), with a tag, a digest or both, and no transport prefix.
// The error wraps ErrBadRef and says the fix.
func CheckRef(ref string) error {
	if msg := checkRef(ref); msg != "" {
		return fmt.Errorf("%w: %s", ErrBadRef, msg)
	}
	return nil
}

// ResolveEdition resolves an edition's image with its pinned digest.
func ResolveEdition(ctx context.Context, e Edition, o ResolveOptions) (ImageInfo, error) {
	if o.Digest == "" {
		o.Digest = e.Digest
	}
	return ResolveImage(ctx, e.Image, o)
}

// ResolveImage asks the registry about ref, a fully qualified reference
// (registry/repo:tag, registry/repo@sha256:…, or both): the digest of the
// image for o.Arch (through the index, when there is one), its size,
// build time and labels. It refuses what bootc would refuse to install:
// an image without this architecture (listing the ones it has), and one
// without the containers.bootc or ostree.bootable label. Errors wrap one of
// ErrBadRef, ErrNotFound, ErrUnauthorized, ErrWrongArch, ErrNotBootable,
// ErrDigestMismatch, ErrUnreachable or ErrTimeout.
func ResolveImage(ctx context.Context, ref string, o ResolveOptions) (ImageInfo, error) {
	o = o.withDefaults()
	if err := CheckRef(ref); err != nil {
		return ImageInfo{}, err
	}
	if o.Digest != "" && !matchDigest(o.Digest) {
		return ImageInfo{}, fmt.Errorf("image %s: %w: the pinned digest %q is not %q and 64 lowercase hex digits; fix the edition's digest", ref, ErrBadRef, o.Digest, "sha256:")
	}
	parsed, err := name.ParseReference(ref, name.StrictValidation)
	if err != nil {
		return ImageInfo{}, fmt.Errorf("image %s: %w: %v; write registry/repository:tag", ref, ErrBadRef, err)
	}
	if d, ok := parsed.(name.Digest); ok && o.Digest != "" && d.DigestStr() != o.Digest {
		return ImageInfo{}, fmt.Errorf("image %s: %w: the reference names %s but %s is pinned; drop one of them", ref, ErrDigestMismatch, d.DigestStr(), o.Digest)
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	var last error
	for attempt := 1; ; attempt++ {
		info, err := resolveOnce(ctx, ref, parsed, o)
		if err == nil {
			return info, nil
		}
		last = err
		if !retryable(err) || ctx.Err() != nil || attempt >= o.Attempts {
			break
		}
		if err := sleep(ctx, backoff(o.Backoff, attempt)); err != nil {
			break
		}
	}
	if ctx.Err() != nil && !errors.Is(last, ErrTimeout) && !errors.Is(last, context.Canceled) {
		// The deadline fell during a backoff pause or between requests.
		return ImageInfo{}, fmt.Errorf("image %s: registry %s %w: no answer within %s (last: %v); check the network, or try again", ref, parsed.Context().RegistryStr(), ErrTimeout, o.Timeout, last)
	}
	if retryable(last) && o.Attempts > 1 {
		return ImageInfo{}, withAttempts(last, o.Attempts)
	}
	return ImageInfo{}, last
}

func resolveOnce(ctx context.Context, ref string, parsed name.Reference, o ResolveOptions) (ImageInfo, error) {
	what := "image " + ref
	repo := parsed.Context()
	target := parsed
	if o.Digest != "" {
		target = repo.Digest(o.Digest)
	}
	opts := registryOptions(ctx, o.Transport, o.Keychain)
	// One puller: the registry ping and the token exchange happen once,
	// not once per request.
	puller, err := remote.NewPuller(opts...)
	if err != nil {
		return ImageInfo{}, fmt.Errorf("%s: %w", what, err)
	}
	opts = append(opts, remote.Reuse(puller))
	fail := func(r name.Reference, err error) (ImageInfo, error) {
		return ImageInfo{}, registryError(what, r, o.Timeout, err)
	}

	desc, err := remote.Get(target, opts...)
	if err != nil {
		return fail(target, err)
	}
	info := ImageInfo{Ref: ref, Arch: o.Arch, MediaType: string(desc.MediaType)}
	var img v1.Image
	switch {
	case desc.MediaType == types.DockerManifestSchema1 || desc.MediaType == types.DockerManifestSchema1Signed:
		return ImageInfo{}, fmt.Errorf("%s is a Docker schema 1 image, a format from before bootc: %w; rebuild it, or pick a current image", what, ErrNotBootable)
	case desc.MediaType.IsIndex():
		info.IndexDigest = desc.Digest.String()
		idx, err := desc.ImageIndex()
		if err != nil {
			return fail(target, err)
		}
		im, err := idx.IndexManifest()
		if err != nil {
			return fail(target, err)
		}
		child, arches := pickPlatform(im, o.Arch)
		info.Arches = arches
		if child == nil {
			return ImageInfo{}, fmt.Errorf("%s is %w (%s): it is published for %s; pick an edition built for %s", what, ErrWrongArch, o.Arch, archList(arches), o.Arch)
		}
		if !child.MediaType.IsImage() {
			return ImageInfo{}, fmt.Errorf("%s: the %s entry of its index is a %s, not an image manifest: %w; ask the publisher to fix the index", what, o.Arch, child.MediaType, ErrNotBootable)
		}
		cref := repo.Digest(child.Digest.String())
		if img, err = remote.Image(cref, opts...); err != nil {
			return fail(cref, err)
		}
	case desc.MediaType.IsImage():
		if img, err = desc.Image(); err != nil {
			return fail(target, err)
		}
	default:
		return ImageInfo{}, fmt.Errorf("%s is a %s, not a container image: %w; give the reference of a bootc image", what, desc.MediaType, ErrNotBootable)
	}

	digest, err := img.Digest()
	if err != nil {
		return fail(target, err)
	}
	manifest, err := img.Manifest()
	if err != nil {
		return fail(target, err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return fail(repo.Digest(manifest.Config.Digest.String()), err)
	}
	info.Digest = digest.String()
	info.DigestRef = repo.Digest(info.Digest).String()
	if cfg.Architecture != o.Arch || cfg.OS != "linux" {
		// The image's own config decides, as it does for bootc, even when
		// an index entry claimed otherwise.
		return ImageInfo{}, fmt.Errorf("%s is %w (%s): it is built for %s/%s; pick an edition built for %s", what, ErrWrongArch, o.Arch, cfg.OS, cfg.Architecture, o.Arch)
	}
	info.Labels = maps.Clone(cfg.Config.Labels)
	info.BootableLabel = bootableLabel(info.Labels)
	info.Bootable = info.BootableLabel != ""
	if !info.Bootable {
		return ImageInfo{}, fmt.Errorf("%s is %w: its config has neither the label containers.bootc=1 nor ostree.bootable=true (%s), so bootc would refuse it; pick an image built FROM a bootc base image", what, ErrNotBootable, describeLabels(info.Labels))
	}
	info.SizeBytes = manifest.Config.Size
	for _, l := range manifest.Layers {
		info.SizeBytes += l.Size
	}
	info.Layers = len(manifest.Layers)
	info.Created = cfg.Created.Time.UTC()
	now := o.Now()
	switch age := now.Sub(info.Created); {
	case info.Created.Year() < 2000:
		info.Warnings = append(info.Warnings, fmt.Sprintf("%s records no real build time (created %s), so its age cannot be checked", what, info.Created.Format(time.DateOnly)))
	case o.MaxAge > 0 && age > o.MaxAge:
		info.Stale = true
		info.Warnings = append(info.Warnings, fmt.Sprintf("%s was built %s ago (%s), longer than %s: the edition may no longer get fixes; check its homepage before installing", what, humanAge(age), info.Created.Format(time.DateOnly), humanAge(o.MaxAge)))
	}
	if o.Digest != "" {
		info.PinnedDigest = o.Digest
		if tag, ok := parsed.(name.Tag); ok {
			info.TagDigest, info.Warnings = checkTag(ctx, what, tag, o, info, opts)
		}
	}
	return info, nil
}

// checkTag reports where the tag of a pinned image points now. A tag that
// has moved on is normal for a rebuilt edition; the warning says that the
// pinned image is still what gets installed. A tag naming an index that
// still lists the pinned image has not moved.
func checkTag(ctx context.Context, what string, tag name.Tag, o ResolveOptions, info ImageInfo, opts []remote.Option) (string, []string) {
	warnings := info.Warnings
	desc, err := remote.Get(tag, opts...)
	if err != nil {
		return "", append(warnings, fmt.Sprintf("%s: could not check where tag %s points now: %v", what, tag.TagStr(), registryError(what, tag, o.Timeout, err)))
	}
	now := desc.Digest.String()
	if now == o.Digest || now == info.Digest {
		return now, warnings
	}
	if desc.MediaType.IsIndex() {
		if im, err := v1.ParseIndexManifest(bytes.NewReader(desc.Manifest)); err == nil {
			for _, m := range im.Manifests {
				if d := m.Digest.String(); d == o.Digest || d == info.Digest {
					return now, warnings
				}
			}
		}
	}
	return now, append(warnings, fmt.Sprintf("%s: tag %s now points at %s, not at the pinned %s; the pinned image is the one installed, and updates follow the tag", what, tag.TagStr(), now, o.Digest))
}

// pickPlatform finds the linux image for arch in an index and lists the
// linux architectures it has. Entries without a platform or with
// "unknown" (build attestations) are not images to install.
func pickPlatform(im *v1.IndexManifest, arch string) (*v1.Descriptor, []string) {
	var (
		child  *v1.Descriptor
		arches []string
	)
	for i := range im.Manifests {
		p := im.Manifests[i].Platform
		if p == nil || p.OS != "linux" || p.Architecture == "" || p.Architecture == "unknown" {
			continue
		}
		a := p.Architecture
		if p.Variant != "" {
			a += "/" + p.Variant
		}
		if !slices.Contains(arches, a) {
			arches = append(arches, a)
		}
		if child == nil && p.Architecture == arch {
			child = &im.Manifests[i]
		}
	}
	return child, arches
}

func archList(arches []string) string {
	if len(arches) == 0 {
		return "no linux architecture at all"
	}
	return "linux " + orList(arches) + " only"
}

// bootableLabel returns the label that marks a bootc image, as
// "name=value", or "". bootc's own check needs either label; the values are
// the ones real images carry.
func bootableLabel(labels map[string]string) string {
	for _, k := range []string{"containers.bootc", "ostree.bootable"} {
		if v, ok := labels[k]; ok && (v == "1" || strings.EqualFold(v, "true")) {
			return k + "=" + v
		}
	}
	return ""
}

// describeLabels summarises the labels an image has, for the not-bootable
// message: the two that matter, if present with other values, then the
// count of the rest.
func describeLabels(labels map[string]string) string {
	var parts []string
	for _, k := range []string{"containers.bootc", "ostree.bootable"} {
		if v, ok := labels[k]; ok {
			parts = append(parts, fmt.Sprintf("%s=%q", k, v))
		}
	}
	if len(labels) == 0 {
		return "it has no labels"
	}
	if len(parts) == 0 {
		return fmt.Sprintf("it has %d other labels", len(labels))
	}
	return "it has " + strings.Join(parts, " and ")
}
