package bootc

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Origin is the container image an ostree deployment updates from, read
// from its .origin keyfile (key container-image-reference of [origin]).
type Origin struct {
	// Scheme is the ostree-ext signature scheme as written:
	// ostree-unverified-registry, ostree-unverified-image,
	// ostree-image-signed, ostree-remote-registry or ostree-remote-image.
	Scheme string
	// Transport is the containers-image transport; docker:// is reported
	// as "registry", the name bootc status uses.
	Transport string
	// Image is the name after the transport, e.g. quay.io/x/y:44. A name
	// that itself starts with "registry:" is what bootc records when
	// --target-imgref was given a transport; callers should compare Image
	// with the ref they asked for rather than trust it.
	Image string
	// Remote is the ostree remote whose keyring verifies the image, for
	// the ostree-remote-* schemes.
	Remote string
}

// Origin schemes of ostree-ext (crates/ostree-ext/src/container/mod.rs).
const (
	SchemeUnverifiedRegistry = "ostree-unverified-registry"
	SchemeUnverifiedImage    = "ostree-unverified-image"
	SchemeImageSigned        = "ostree-image-signed"
	SchemeRemoteRegistry     = "ostree-remote-registry"
	SchemeRemoteImage        = "ostree-remote-image"
)

// ErrNoContainerOrigin means the deployment tracks something other than a
// container image (a plain ostree refspec, as pre-container Silverblue did).
var ErrNoContainerOrigin = errors.New("origin has no container-image-reference")

// String renders the origin the way ostree-ext writes it.
func (o Origin) String() string {
	ir := transportPrefix(o.Transport) + o.Image
	switch o.Scheme {
	case SchemeUnverifiedRegistry:
		return o.Scheme + ":" + o.Image
	case SchemeRemoteRegistry:
		return o.Scheme + ":" + o.Remote + ":" + o.Image
	case SchemeRemoteImage:
		return o.Scheme + ":" + o.Remote + ":" + ir
	}
	return o.Scheme + ":" + ir
}

// Signed reports whether updates are verified (container policy or an
// ostree remote keyring) rather than merely policy-honouring.
func (o Origin) Signed() bool {
	return o.Scheme != SchemeUnverifiedRegistry && o.Scheme != SchemeUnverifiedImage
}

func transportPrefix(t string) string {
	if t == TransportRegistry {
		return "docker://"
	}
	return t + ":"
}

// ParseOrigin reads an ostree deployment .origin keyfile.
func ParseOrigin(data []byte) (Origin, error) {
	kf, err := parseKeyfile(data)
	if err != nil {
		return Origin{}, fmt.Errorf("origin keyfile: %w", err)
	}
	ref, ok := kf["origin"]["container-image-reference"]
	if !ok {
		if spec, has := kf["origin"]["refspec"]; has {
			return Origin{}, fmt.Errorf("origin tracks the ostree refspec %q: %w; rebase it to a container image first (bootc switch)", spec, ErrNoContainerOrigin)
		}
		return Origin{}, fmt.Errorf("origin keyfile: %w in group [origin]; this is not a bootc or rpm-ostree container deployment", ErrNoContainerOrigin)
	}
	return ParseOriginRef(ref)
}

// ParseOriginRef parses one ostree-ext image reference, e.g.
// "ostree-unverified-registry:quay.io/x/y:44" or
// "ostree-remote-image:fedora:docker://quay.io/fedora/fedora-coreos:stable".
func ParseOriginRef(ref string) (Origin, error) {
	bad := func(format string, a ...any) (Origin, error) {
		return Origin{}, fmt.Errorf("origin reference %q %s", ref, fmt.Sprintf(format, a...))
	}
	scheme, rest, ok := strings.Cut(ref, ":")
	if !ok {
		return bad("has no ':'; expected SCHEME:[REMOTE:]TRANSPORT:IMAGE")
	}
	o := Origin{Scheme: scheme}
	var err error
	switch scheme {
	case SchemeUnverifiedRegistry:
		o.Transport, o.Image = TransportRegistry, rest
	case SchemeRemoteRegistry, SchemeRemoteImage:
		remote, after, found := strings.Cut(rest, ":")
		if !found || remote == "" {
			return bad("has no ostree remote after %q; expected %s:REMOTE:...", scheme+":", scheme)
		}
		o.Remote = remote
		if scheme == SchemeRemoteRegistry {
			o.Transport, o.Image = TransportRegistry, after
		} else if o.Transport, o.Image, err = splitImageRef(after); err != nil {
			return bad("%v", err)
		}
	case SchemeUnverifiedImage, SchemeImageSigned:
		if o.Transport, o.Image, err = splitImageRef(rest); err != nil {
			return bad("%v", err)
		}
	default:
		return bad("uses the unknown scheme %q; expected one of %s", scheme, strings.Join([]string{
			SchemeUnverifiedRegistry, SchemeUnverifiedImage, SchemeImageSigned, SchemeRemoteRegistry, SchemeRemoteImage}, ", "))
	}
	if o.Image == "" {
		return bad("names no image; expected an image after the transport")
	}
	return o, nil
}

// splitImageRef parses TRANSPORT:NAME as containers-image-proxy does.
func splitImageRef(s string) (transport, name string, err error) {
	t, n, ok := SplitTransport(s)
	switch {
	case !ok:
		return "", "", fmt.Errorf("has no known transport before %q; expected e.g. docker://IMAGE or oci:PATH", s)
	case t == "docker":
		return "", "", fmt.Errorf("writes \"docker:\" without \"//\" in %q; expected docker://IMAGE", s)
	case strings.HasPrefix(t, "ostree-"):
		return "", "", fmt.Errorf("nests the scheme %q; expected a transport", t)
	}
	return t, n, nil
}

// parseKeyfile reads the GKeyFile subset ostree writes: [group] lines,
// key=value lines, '#' comments, and the \s \n \t \r \\ escapes.
func parseKeyfile(data []byte) (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	group := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
			continue
		case strings.HasPrefix(line, "["):
			if !strings.HasSuffix(line, "]") {
				return nil, fmt.Errorf("line %d: group header %q is not closed with ']'", n, line)
			}
			group = line[1 : len(line)-1]
			if out[group] == nil {
				out[group] = map[string]string{}
			}
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("line %d: %q is neither [group] nor key=value", n, line)
		}
		if group == "" {
			return nil, fmt.Errorf("line %d: key %q comes before any [group]", n, strings.TrimSpace(k))
		}
		out[group][strings.TrimSpace(k)] = unescapeKeyfile(strings.TrimSpace(v))
	}
	return out, sc.Err()
}

func unescapeKeyfile(v string) string {
	if !strings.Contains(v, `\`) {
		return v
	}
	r := strings.NewReplacer(`\s`, " ", `\n`, "\n", `\t`, "\t", `\r`, "\r", `\\`, `\`)
	return r.Replace(v)
}

// Deployment is one ostree deployment under ROOT/ostree/deploy.
type Deployment struct {
	// Stateroot is the ostree "osname", e.g. default.
	Stateroot string
	// Checksum is the 64-hex ostree commit the deployment checks out.
	Checksum string
	// Serial tells apart deployments of the same commit.
	Serial int
	// Dir is the deployment's root directory:
	// ROOT/ostree/deploy/STATEROOT/deploy/CHECKSUM.SERIAL
	Dir string
	// OriginPath is Dir + ".origin" (ostree keeps it beside the directory).
	OriginPath string
	Origin     Origin
	// Count is how many deployments the root holds in all stateroots; a
	// fresh install has exactly one.
	Count int
}

// ErrNoDeployment means ROOT holds no ostree deployment.
var ErrNoDeployment = errors.New("no ostree deployment")

// FindDeployment finds the newest deployment under
// ROOT/ostree/deploy/*/deploy/ (by directory mtime, then serial, as bootc's
// switch --mutate-in-place picks it) and reads its origin. ROOT is the
// physical root, e.g. the mounted target right after `bootc install`.
func FindDeployment(root string) (Deployment, error) {
	base := filepath.Join(root, "ostree", "deploy")
	staterootDirs, err := os.ReadDir(base)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return Deployment{}, fmt.Errorf("find deployment in %s: %w (no ostree/deploy); check that bootc install ran against this root", root, ErrNoDeployment)
		}
		return Deployment{}, fmt.Errorf("find deployment in %s: %w", root, err)
	}
	type cand struct {
		d     Deployment
		mtime int64
	}
	var cands []cand
	for _, sr := range staterootDirs {
		if !sr.IsDir() {
			continue
		}
		deployDir := filepath.Join(base, sr.Name(), "deploy")
		ents, err := os.ReadDir(deployDir)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return Deployment{}, fmt.Errorf("find deployment in %s: %w", root, err)
		}
		for _, e := range ents {
			csum, serial, ok := parseDeployName(e.Name())
			if !ok || !e.IsDir() {
				continue
			}
			info, err := e.Info()
			if err != nil {
				return Deployment{}, fmt.Errorf("find deployment in %s: %w", root, err)
			}
			dir := filepath.Join(deployDir, e.Name())
			cands = append(cands, cand{
				d:     Deployment{Stateroot: sr.Name(), Checksum: csum, Serial: serial, Dir: dir, OriginPath: dir + ".origin"},
				mtime: info.ModTime().UnixNano(),
			})
		}
	}
	if len(cands) == 0 {
		return Deployment{}, fmt.Errorf("find deployment in %s: %w under ostree/deploy/*/deploy; check that bootc install finished", root, ErrNoDeployment)
	}
	sort.SliceStable(cands, func(i, j int) bool {
		if cands[i].mtime != cands[j].mtime {
			return cands[i].mtime < cands[j].mtime
		}
		if cands[i].d.Serial != cands[j].d.Serial {
			return cands[i].d.Serial < cands[j].d.Serial
		}
		return cands[i].d.Dir < cands[j].d.Dir
	})
	d := cands[len(cands)-1].d
	d.Count = len(cands)
	data, err := os.ReadFile(d.OriginPath)
	if err != nil {
		return d, fmt.Errorf("deployment %s: read origin: %w; the install did not finish writing it, reinstall", d.Dir, err)
	}
	if d.Origin, err = ParseOrigin(data); err != nil {
		return d, fmt.Errorf("deployment %s: %w", d.Dir, err)
	}
	return d, nil
}

// parseDeployName splits "CHECKSUM.SERIAL" (64 lowercase hex, a dot, a
// decimal serial).
func parseDeployName(name string) (checksum string, serial int, ok bool) {
	csum, ser, found := strings.Cut(name, ".")
	if !found || len(csum) != 64 || strings.Trim(csum, "0123456789abcdef") != "" {
		return "", 0, false
	}
	n, err := strconv.Atoi(ser)
	if err != nil || n < 0 || strconv.Itoa(n) != ser {
		return "", 0, false
	}
	return csum, n, true
}
