package sim

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"regexp"
	"strings"
	"syscall"
)

// DefaultGraphRoot is containers-storage's default graphroot, where the
// host's images live (overlay-images/images.json).
const DefaultGraphRoot = "/var/lib/containers/storage"

// defaultRunRoot is containers-storage's default runroot; it only shows up
// in the store spec of error messages.
const defaultRunRoot = "/run/containers/storage"

// The media types containers/image's oci transport accepts in an index.
const (
	mediaOCIManifest    = "application/vnd.oci.image.manifest.v1+json"
	mediaOCIIndex       = "application/vnd.oci.image.index.v1+json"
	mediaDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	mediaDockerList     = "application/vnd.docker.distribution.manifest.list.v2+json"
)

// ociRefNameAnnotation names a manifest in an OCI layout's index; it is
// what `oci:DIR:REF` looks REF up by.
const ociRefNameAnnotation = "org.opencontainers.image.ref.name"

// The error chains bootc (through ostree-ext and the skopeo proxy) wraps
// around containers/image errors, as seen in bootc's own reports.
const (
	openImageCtx     = "Creating ostree deployment: Pulling: Creating importer: failed to invoke method OpenImage: failed to invoke method OpenImage: "
	fetchManifestCtx = "Creating ostree deployment: Preparing import: Fetching manifest: "
)

// sourceImage is what the simulator learned about an install source.
type sourceImage struct {
	digest string            // manifest digest
	labels map[string]string // config labels; nil when not read
}

// resolveSource reads the image an explicit --source-imgref names, the way
// containers/image would open it, and returns its real manifest digest.
// registry: (and the transports the simulator does not model) keep the
// predictable ImageDigest of the name: there is no network here.
func (r *run) resolveSource(transport, name string) (sourceImage, error) {
	switch transport {
	case "oci":
		return r.resolveOCI(name)
	case "containers-storage":
		return r.resolveStorage(name)
	}
	return sourceImage{digest: ImageDigest(name)}, nil
}

// visiblePath maps a path as bootc sees it to a path of this machine:
// inside a podman container only bind mounts are visible.
func (r *run) visiblePath(p string) (string, bool) {
	return fsView{c: r.env.Container}.host(p)
}

// readVisibleFile reads p as bootc sees it; errors name p, not the host
// path it maps to, as they would from inside the container.
func (r *run) readVisibleFile(p string) ([]byte, error) {
	hp, ok := r.visiblePath(p)
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: p, Err: syscall.ENOENT}
	}
	data, err := os.ReadFile(hp)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, &fs.PathError{Op: pe.Op, Path: p, Err: pe.Err}
		}
		return nil, err
	}
	return data, nil
}

type ociDescriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

type ociIndex struct {
	Manifests []ociDescriptor `json:"manifests"`
}

type ociManifest struct {
	MediaType string        `json:"mediaType"`
	Config    ociDescriptor `json:"config"`
}

type ociConfig struct {
	Config struct {
		Labels map[string]string `json:"Labels"`
	} `json:"config"`
}

// resolveOCI is containers/image's oci transport: DIR[:REF], split at the
// first colon (a layout's path cannot contain one), REF matched against
// the org.opencontainers.image.ref.name annotations of index.json.
func (r *run) resolveOCI(name string) (sourceImage, error) {
	dir, ref, _ := strings.Cut(name, ":")
	src := "oci:" + name
	if dir == "" {
		return sourceImage{}, fmt.Errorf(openImageCtx+"Invalid image %s: the OCI layout path is empty", src)
	}
	if err := r.ociDirExists(dir); err != nil {
		return sourceImage{}, errors.New(openImageCtx + err.Error())
	}
	indexPath := path.Join(dir, "index.json")
	data, err := r.readVisibleFile(indexPath)
	if err != nil {
		return sourceImage{}, errors.New(openImageCtx + err.Error())
	}
	var index ociIndex
	if err := json.Unmarshal(data, &index); err != nil {
		return sourceImage{}, fmt.Errorf(openImageCtx+"parsing %s: %v", indexPath, err)
	}
	desc, err := pickOCIManifest(index, ref)
	if err != nil {
		return sourceImage{}, errors.New(openImageCtx + err.Error())
	}
	switch desc.MediaType {
	case mediaOCIIndex, mediaDockerList:
		return sourceImage{}, fmt.Errorf(fetchManifestCtx+"simulator: %s names an image index (%s, a multi-platform image); this simulator supports single-platform OCI layouts only: write the layout for one platform", src, desc.Digest)
	}

	manifestBlob, err := r.readBlob(dir, desc)
	if err != nil {
		return sourceImage{}, fmt.Errorf(fetchManifestCtx+"failed to invoke method GetManifest: %v", err)
	}
	var m ociManifest
	if err := json.Unmarshal(manifestBlob, &m); err != nil {
		return sourceImage{}, fmt.Errorf(fetchManifestCtx+"failed to invoke method GetManifest: parsing manifest %s: %v", desc.Digest, err)
	}
	if m.Config.Digest == "" {
		return sourceImage{}, fmt.Errorf(fetchManifestCtx+"failed to invoke method GetManifest: manifest %s has no config", desc.Digest)
	}
	configBlob, err := r.readBlob(dir, m.Config)
	if err != nil {
		return sourceImage{}, fmt.Errorf(fetchManifestCtx+"failed to invoke method GetFullConfig: %v", err)
	}
	var cfg ociConfig
	if err := json.Unmarshal(configBlob, &cfg); err != nil {
		return sourceImage{}, fmt.Errorf(fetchManifestCtx+"failed to invoke method GetFullConfig: parsing config %s: %v", m.Config.Digest, err)
	}
	if !bootable(cfg.Config.Labels) {
		// ostree-ext's require_bootable.
		return sourceImage{}, errors.New(fetchManifestCtx + "Target image does not have ostree.bootable label")
	}
	return sourceImage{digest: desc.Digest, labels: cfg.Config.Labels}, nil
}

// ociDirExists is the check containers/image makes while resolving DIR:
// a missing DIR is fine as long as its parent exists (index.json is then
// what is missing); a missing parent fails its lstat.
func (r *run) ociDirExists(dir string) error {
	hp, ok := r.visiblePath(dir)
	if ok {
		if _, err := os.Lstat(hp); err == nil || !errors.Is(err, fs.ErrNotExist) {
			return nil
		}
	}
	// Walk down from the root to the first component that is missing.
	clean := path.Clean(dir)
	if !path.IsAbs(clean) {
		return nil
	}
	cur := "/"
	for _, c := range strings.Split(strings.TrimPrefix(path.Dir(clean), "/"), "/") {
		if c == "" {
			continue
		}
		cur = path.Join(cur, c)
		hc, ok := r.visiblePath(cur)
		if !ok {
			// Above every bind mount: the container has its own tree
			// there, which the simulator takes to exist.
			continue
		}
		if _, err := os.Lstat(hc); errors.Is(err, fs.ErrNotExist) {
			return &fs.PathError{Op: "lstat", Path: cur, Err: syscall.ENOENT}
		}
	}
	return nil
}

// pickOCIManifest is containers/image's getManifestDescriptor.
func pickOCIManifest(index ociIndex, ref string) (ociDescriptor, error) {
	if ref == "" {
		if len(index.Manifests) != 1 {
			return ociDescriptor{}, fmt.Errorf("more than one image in oci, choose an image (the layout holds %d manifests; name one as oci:DIR:REF)", len(index.Manifests))
		}
		return index.Manifests[0], nil
	}
	var unsupported []string
	for _, d := range index.Manifests {
		if d.Annotations[ociRefNameAnnotation] != ref {
			continue
		}
		switch d.MediaType {
		case mediaOCIManifest, mediaOCIIndex, mediaDockerManifest, mediaDockerList:
			return d, nil
		}
		unsupported = append(unsupported, d.MediaType)
	}
	if len(unsupported) > 0 {
		return ociDescriptor{}, fmt.Errorf("reference %q matches unsupported manifest MIME types %q", ref, unsupported)
	}
	return ociDescriptor{}, fmt.Errorf("no descriptor found for reference %q", ref)
}

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// readBlob reads a blob of the layout at dir and checks it against the
// descriptor's digest: a corrupt medium must not install.
func (r *run) readBlob(dir string, d ociDescriptor) ([]byte, error) {
	alg, hexd, _ := strings.Cut(d.Digest, ":")
	if alg != "sha256" || !sha256Hex.MatchString(hexd) {
		return nil, fmt.Errorf("unsupported or invalid digest %q (this simulator reads sha256 blobs only)", d.Digest)
	}
	p := path.Join(dir, "blobs", "sha256", hexd)
	data, err := r.readVisibleFile(p)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != hexd {
		return nil, fmt.Errorf("blob %s does not match its digest %s (its content hashes to sha256:%s): the OCI layout is corrupt", p, d.Digest, got)
	}
	return data, nil
}

// bootable says whether image labels mark a bootc image:
// containers.bootc=1 or ostree.bootable=1/true.
func bootable(labels map[string]string) bool {
	if labels["containers.bootc"] == "1" {
		return true
	}
	switch labels["ostree.bootable"] {
	case "1", "true":
		return true
	}
	return false
}

// storageImage is one record of containers-storage's images.json.
type storageImage struct {
	ID      string   `json:"id"`
	Names   []string `json:"names"`
	Digest  string   `json:"digest"`
	Digests []string `json:"digests"`
}

// resolveStorage is containers/image's containers-storage transport:
// [driver@graphroot+runroot]REF, REF a name, NAME@DIGEST or an image ID,
// looked up in the graphroot's overlay-images/images.json.
func (r *run) resolveStorage(name string) (sourceImage, error) {
	driver, graphRoot, runRoot := "overlay", r.env.GraphRoot, defaultRunRoot
	if graphRoot == "" {
		graphRoot = DefaultGraphRoot
	}
	ref := name
	if strings.HasPrefix(name, "[") {
		spec, rest, ok := strings.Cut(name[1:], "]")
		if !ok {
			return sourceImage{}, fmt.Errorf(openImageCtx+"Invalid image containers-storage:%s: the store specification opens '[' but never closes it", name)
		}
		ref = rest
		if d, root, ok := strings.Cut(spec, "@"); ok {
			driver, spec = d, root
		}
		if g, rr, ok := strings.Cut(spec, "+"); ok {
			graphRoot, runRoot = g, rr
		} else if spec != "" {
			graphRoot = spec
		}
		if i := strings.IndexByte(runRoot, ':'); i >= 0 {
			runRoot = runRoot[:i] // driver options
		}
	}
	norm, id := normalizeStorageRef(ref)
	display := fmt.Sprintf("[%s@%s+%s]%s", driver, graphRoot, runRoot, norm)
	notFound := fmt.Errorf(openImageCtx+"reference %q does not resolve to an image ID: identifier is not an image", display)
	if ref == "" {
		return sourceImage{}, notFound
	}

	data, err := r.readVisibleFile(path.Join(graphRoot, driver+"-images", "images.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return sourceImage{}, notFound
	}
	if err != nil {
		return sourceImage{}, errors.New(openImageCtx + err.Error())
	}
	var images []storageImage
	if err := json.Unmarshal(data, &images); err != nil {
		return sourceImage{}, fmt.Errorf(openImageCtx+"parsing %s: %v", path.Join(graphRoot, driver+"-images", "images.json"), err)
	}
	img, ok := findStorageImage(images, norm, id)
	if !ok {
		return sourceImage{}, notFound
	}
	digest := img.Digest
	if digest == "" && len(img.Digests) > 0 {
		digest = img.Digests[0]
	}
	if digest == "" {
		return sourceImage{}, fmt.Errorf(openImageCtx+"simulator: image %s in %s records no manifest digest", img.ID, graphRoot)
	}
	return sourceImage{digest: digest}, nil
}

// normalizeStorageRef turns REF into the name containers-storage records
// (docker.io/library/ for short names, :latest when untagged), or returns
// the image ID REF names.
func normalizeStorageRef(ref string) (name, id string) {
	if sha256Hex.MatchString(ref) {
		return ref, ref
	}
	if n, i, ok := strings.Cut(ref, "@"); ok && sha256Hex.MatchString(i) {
		// NAME@ID
		ref, id = n, i
	}
	n, digest, _ := strings.Cut(ref, "@")
	first, _, hasSlash := strings.Cut(n, "/")
	if !hasSlash || !(strings.ContainsAny(first, ".:") || first == "localhost") {
		if !hasSlash {
			n = "library/" + n
		}
		n = "docker.io/" + n
	}
	if digest == "" {
		if i := strings.LastIndexByte(n, ':'); i <= strings.LastIndexByte(n, '/') {
			n += ":latest"
		}
		return n, id
	}
	return n + "@" + digest, id
}

func findStorageImage(images []storageImage, name, id string) (storageImage, bool) {
	if id != "" {
		for _, img := range images {
			if img.ID == id {
				return img, true
			}
		}
		return storageImage{}, false
	}
	repo, digest, byDigest := strings.Cut(name, "@")
	repo = stripTag(repo)
	for _, img := range images {
		for _, n := range img.Names {
			if n == name {
				return img, true
			}
			if byDigest {
				// NAME@DIGEST: the repository holds an image with that
				// manifest digest.
				nrepo, _, _ := strings.Cut(n, "@")
				if stripTag(nrepo) == repo && (img.Digest == digest || containsStr(img.Digests, digest)) {
					return img, true
				}
			}
		}
	}
	return storageImage{}, false
}

// stripTag drops a :TAG from a repository name.
func stripTag(n string) string {
	if i := strings.LastIndexByte(n, ':'); i > strings.LastIndexByte(n, '/') {
		return n[:i]
	}
	return n
}
