package catalog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Media types of a catalog stored in an OCI registry (oci:// sources). The
// catalog is an OCI 1.1 artifact: an image manifest whose artifactType is
// ArtifactType, whose config is the empty descriptor, and whose layers are
// catalog.json (CatalogMediaType) and, optionally, its minisign signature
// (SignatureMediaType). The signature may instead be attached later as a
// referrer: a manifest with artifactType SignatureArtifactType, the catalog
// manifest as its subject, and the signature as its one layer. Registries
// without the referrers API get the referrers tag scheme (sha256-<hex>),
// which go-containerregistry, oras and uai all follow.
const (
	ArtifactType          = "application/vnd.uai.catalog.v1+json"
	CatalogMediaType      = "application/vnd.uai.catalog.v1+json"
	SignatureMediaType    = "application/vnd.uai.catalog.signature.v1.minisig"
	SignatureArtifactType = SignatureMediaType
	// EmptyConfigMediaType is the OCI 1.1 empty config ("{}").
	EmptyConfigMediaType = "application/vnd.oci.empty.v1+json"
)

// maxReferrers bounds how many signature referrers are tried: a key
// rotation attaches a second one; hundreds are an attack on the client.
const maxReferrers = 16

// fetchOCI gets a catalog artifact, with retries of network failures. An
// unchanged manifest digest means the cached copy is current, and no blob
// is fetched.
func (l *loader) fetchOCI(ctx context.Context, sp sourceSpec, cached *cacheEntry) (fetched, error) {
	ref, err := name.ParseReference(sp.ref, name.StrictValidation)
	if err != nil {
		return fetched{}, fmt.Errorf("catalog source %q: %w: %v", sp.raw, ErrBadSource, err)
	}
	var last error
	for attempt := 1; ; attempt++ {
		f, err := l.fetchOCIOnce(ctx, sp, ref, cached)
		if err == nil {
			return f, nil
		}
		last = err
		if !retryable(err) || ctx.Err() != nil || attempt >= l.o.Attempts {
			break
		}
		if err := sleep(ctx, backoff(l.o.Backoff, attempt)); err != nil {
			return fetched{}, err
		}
	}
	if retryable(last) && l.o.Attempts > 1 {
		return fetched{}, withAttempts(last, l.o.Attempts)
	}
	return fetched{}, last
}

func (l *loader) fetchOCIOnce(ctx context.Context, sp sourceSpec, ref name.Reference, cached *cacheEntry) (fetched, error) {
	ctx, cancel := context.WithTimeout(ctx, l.o.Timeout)
	defer cancel()
	what := "catalog " + sp.shown
	opts := registryOptions(ctx, l.o.Transport, l.o.Keychain)
	puller, err := remote.NewPuller(opts...)
	if err != nil {
		return fetched{}, fmt.Errorf("%s: %w", what, err)
	}
	opts = append(opts, remote.Reuse(puller))
	desc, err := remote.Get(ref, opts...)
	if err != nil {
		return fetched{}, registryError(what, ref, l.o.Timeout, err)
	}
	digest := desc.Digest.String()
	if cached != nil && cached.ManifestDigest == digest {
		return fetched{catalog: cached.Catalog, signature: cached.Signature, notModified: true, manifestDigest: digest}, nil
	}
	if desc.MediaType != types.OCIManifestSchema1 {
		return fetched{}, fmt.Errorf("%s is a %s, not a catalog artifact: %w; push the catalog as described in docs/catalog-sources.md", what, desc.MediaType, ErrInvalid)
	}
	m, err := v1.ParseManifest(bytes.NewReader(desc.Manifest))
	if err != nil {
		return fetched{}, fmt.Errorf("%s: the manifest does not parse (%v): %w; push the catalog again", what, err, ErrInvalid)
	}
	if m.ArtifactType != ArtifactType && string(m.Config.MediaType) != ArtifactType {
		return fetched{}, fmt.Errorf("%s is not a uai catalog artifact (artifactType %q, config %q): %w; push it with artifactType %q as described in docs/catalog-sources.md", what, m.ArtifactType, m.Config.MediaType, ErrInvalid, ArtifactType)
	}
	var catLayer, sigLayer *v1.Descriptor
	for i := range m.Layers {
		switch m.Layers[i].MediaType {
		case CatalogMediaType:
			if catLayer != nil {
				return fetched{}, fmt.Errorf("%s has two catalog layers: %w; push one catalog per artifact", what, ErrInvalid)
			}
			catLayer = &m.Layers[i]
		case SignatureMediaType:
			sigLayer = &m.Layers[i]
		}
	}
	if catLayer == nil {
		return fetched{}, fmt.Errorf("%s has no layer of type %s: %w; push catalog.json as that layer", what, CatalogMediaType, ErrInvalid)
	}
	repo := ref.Context()
	data, err := fetchBlob(what, repo, *catLayer, l.o.Timeout, opts)
	if err != nil {
		return fetched{}, err
	}
	var sig []byte
	if sigLayer != nil {
		if sig, err = fetchBlob(what, repo, *sigLayer, l.o.Timeout, opts); err != nil {
			return fetched{}, err
		}
	} else if sig, err = l.referrerSignature(what, repo.Digest(digest), data, opts); err != nil {
		return fetched{}, err
	}
	return fetched{catalog: data, signature: sig, manifestDigest: digest}, nil
}

// fetchBlob reads one small blob; go-containerregistry checks its digest.
func fetchBlob(what string, repo name.Repository, d v1.Descriptor, timeout time.Duration, opts []remote.Option) ([]byte, error) {
	if d.Size > MaxSizeBytes {
		return nil, fmt.Errorf("%s: the %s layer is %d bytes, more than the limit of %d: %w; split the catalog", what, d.MediaType, d.Size, MaxSizeBytes, ErrInvalid)
	}
	ref := repo.Digest(d.Digest.String())
	layer, err := remote.Layer(ref, opts...)
	if err != nil {
		return nil, registryError(what, ref, timeout, err)
	}
	rc, err := layer.Compressed()
	if err != nil {
		return nil, registryError(what, ref, timeout, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, MaxSizeBytes+1))
	if err != nil {
		return nil, registryError(what, ref, timeout, err)
	}
	return data, nil
}

// referrerSignature looks for signatures attached to the catalog manifest
// and returns the first one that verifies with a trusted key, or else the
// first one (whose check then explains the problem), or nil.
func (l *loader) referrerSignature(what string, subject name.Digest, data []byte, opts []remote.Option) ([]byte, error) {
	// No server-side filter: some registries (go-containerregistry's own)
	// describe a referrer by its config type instead of its artifactType,
	// and a filter would hide the signature. The manifest decides.
	idx, err := remote.Referrers(subject, opts...)
	if err != nil {
		return nil, registryError(what, subject, l.o.Timeout, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, registryError(what, subject, l.o.Timeout, err)
	}
	var first []byte
	tried := 0
	for _, d := range im.Manifests {
		switch d.ArtifactType {
		case SignatureArtifactType, EmptyConfigMediaType, "":
		default:
			continue // another kind of referrer (an SBOM, a cosign signature)
		}
		if tried++; tried > maxReferrers {
			break
		}
		ref := subject.Context().Digest(d.Digest.String())
		desc, err := remote.Get(ref, opts...)
		if err != nil {
			return nil, registryError(what, ref, l.o.Timeout, err)
		}
		m, err := v1.ParseManifest(bytes.NewReader(desc.Manifest))
		if err != nil || m.ArtifactType != SignatureArtifactType && string(m.Config.MediaType) != SignatureArtifactType {
			continue
		}
		for _, layer := range m.Layers {
			if layer.MediaType != SignatureMediaType {
				continue
			}
			sig, err := fetchBlob(what, subject.Context(), layer, l.o.Timeout, opts)
			if err != nil {
				return nil, err
			}
			if _, err := verify(what, data, sig, l.keys); err == nil {
				return sig, nil
			}
			if first == nil {
				first = sig
			}
		}
	}
	return first, nil
}

// PublishOCI pushes a catalog to ref (registry/repo:tag) as a catalog
// artifact, with its minisign signature as a second layer when sig is not
// nil, and returns the manifest digest. It uses o.Transport, o.Keychain
// and o.Timeout.
func PublishOCI(ctx context.Context, ref string, catalogJSON, sig []byte, o Options) (string, error) {
	layers := []blob{{CatalogMediaType, catalogJSON, "catalog.json"}}
	if sig != nil {
		layers = append(layers, blob{SignatureMediaType, sig, "catalog.json.minisig"})
	}
	return pushArtifact(ctx, ref, ArtifactType, layers, nil, o)
}

// AttachOCISignature pushes sig as a referrer of the catalog artifact at ref
// (a tag or a digest) and returns the referrer's manifest digest.
func AttachOCISignature(ctx context.Context, ref string, sig []byte, o Options) (string, error) {
	o = o.withDefaults()
	r, err := name.ParseReference(ref, name.StrictValidation)
	if err != nil {
		return "", fmt.Errorf("catalog %s: %w: %v", ref, ErrBadRef, err)
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	desc, err := remote.Head(r, registryOptions(ctx, o.Transport, o.Keychain)...)
	if err != nil {
		return "", registryError("catalog "+ref, r, o.Timeout, err)
	}
	subject := &v1.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size}
	return pushArtifact(ctx, r.Context().String(), SignatureArtifactType, []blob{{SignatureMediaType, sig, "catalog.json.minisig"}}, subject, o)
}

type blob struct {
	mediaType types.MediaType
	data      []byte
	title     string
}

// pushArtifact writes an OCI 1.1 artifact manifest with the empty config.
// A repository without a tag or digest (a referrer) is pushed by digest.
func pushArtifact(ctx context.Context, ref, artifactType string, layers []blob, subject *v1.Descriptor, o Options) (string, error) {
	o = o.withDefaults()
	a := &artifact{blobs: map[v1.Hash]blob{}}
	empty := blob{EmptyConfigMediaType, []byte("{}"), ""}
	cfgDesc := a.add(empty)
	cfgDesc.Data = empty.data
	m := v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, ArtifactType: artifactType, Config: cfgDesc, Subject: subject}
	for _, b := range layers {
		d := a.add(b)
		d.Annotations = map[string]string{"org.opencontainers.image.title": b.title}
		m.Layers = append(m.Layers, d)
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	a.manifest = raw
	digest, _, err := v1.SHA256(bytes.NewReader(raw))
	if err != nil {
		return "", err
	}
	var r name.Reference
	if repo, err := name.NewRepository(ref, name.StrictValidation); err == nil && subject != nil {
		r = repo.Digest(digest.String())
	} else if r, err = name.ParseReference(ref, name.StrictValidation); err != nil {
		return "", fmt.Errorf("catalog %s: %w: %v", ref, ErrBadRef, err)
	}
	img, err := partial.CompressedToImage(a)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	if err := remote.Write(r, img, registryOptions(ctx, o.Transport, o.Keychain)...); err != nil {
		return "", registryError("catalog "+ref, r, o.Timeout, err)
	}
	return digest.String(), nil
}

// artifact is the smallest v1.Image go-containerregistry can push: the
// manifest as written, and its blobs.
type artifact struct {
	manifest []byte
	blobs    map[v1.Hash]blob
}

func (a *artifact) add(b blob) v1.Descriptor {
	h, size, _ := v1.SHA256(bytes.NewReader(b.data)) // reading memory cannot fail
	a.blobs[h] = b
	return v1.Descriptor{MediaType: b.mediaType, Digest: h, Size: size}
}

func (a *artifact) RawConfigFile() ([]byte, error)      { return []byte("{}"), nil }
func (a *artifact) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }
func (a *artifact) RawManifest() ([]byte, error)        { return a.manifest, nil }

func (a *artifact) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	b, ok := a.blobs[h]
	if !ok {
		return nil, errors.New("artifact has no blob " + h.String())
	}
	return static.NewLayer(b.data, b.mediaType), nil
}
