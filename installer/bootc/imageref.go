package bootc

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// MaxImageRefLen bounds an image ref. Real refs are far shorter (the
// registry grammar caps the name at 255); the limit keeps a pasted blob
// out of argv, logs and origins.
const MaxImageRefLen = 512

// ErrInvalidImageRef is matched (errors.Is) by every *RefError.
var ErrInvalidImageRef = errors.New("invalid image ref")

// RefError says what is wrong with an image ref and how to fix it.
type RefError struct {
	Ref     string
	Problem string
	Fix     string
}

func (e *RefError) Error() string {
	return fmt.Sprintf("image ref %q %s; %s", shorten(e.Ref), e.Problem, e.Fix)
}

// Is makes errors.Is(err, ErrInvalidImageRef) true.
func (e *RefError) Is(target error) bool { return target == ErrInvalidImageRef }

func shorten(s string) string {
	const keep = 60
	if len(s) <= keep {
		return s
	}
	return s[:keep] + "..."
}

// shellMeta are the characters a POSIX shell gives meaning to. None can
// appear in a registry image ref, and refusing them by name beats a
// generic "invalid character" when someone pastes a command line.
const shellMeta = ";|&$`'\"\\<>(){}[]*?!#~^"

const exampleRef = "quay.io/fedora/fedora-bootc:42"

// SplitTransport splits a containers-image style reference into its
// transport and name: "registry:quay.io/x:1" and "docker://quay.io/x:1"
// both give ("registry", "quay.io/x:1", true). A plain name such as
// "quay.io/x:1" or "localhost:5000/x:1" gives ("", ref, false).
// ostree-ext schemes ("ostree-unverified-registry:...") are reported as
// their scheme name so callers can refuse them too.
func SplitTransport(ref string) (transport, name string, ok bool) {
	if rest, found := strings.CutPrefix(ref, "docker://"); found {
		return TransportRegistry, rest, true
	}
	prefix, rest, found := strings.Cut(ref, ":")
	if !found {
		return "", ref, false
	}
	for _, t := range transports {
		if prefix == t {
			return t, rest, true
		}
	}
	if prefix == "docker" || strings.HasPrefix(prefix, "ostree-") {
		return prefix, rest, true
	}
	return "", ref, false
}

// ValidateImageRef checks that ref is a fully qualified registry image
// reference without a transport: HOST/PATH[:TAG][@sha256:HEX] with a tag,
// a digest or both, HOST holding a dot or a port or being localhost. It is
// the form bootc wants for --target-imgref and `bootc switch`, and what a
// catalog must carry.
func ValidateImageRef(ref string) error {
	bad := func(problem, fix string) error { return &RefError{Ref: ref, Problem: problem, Fix: fix} }
	if ref == "" {
		return bad("is empty", "give a fully qualified ref such as "+exampleRef)
	}
	if len(ref) > MaxImageRefLen {
		return bad(fmt.Sprintf("is %d bytes long, over the limit of %d", len(ref), MaxImageRefLen), "use a shorter tag or a digest")
	}
	for i, r := range ref {
		switch {
		case unicode.IsSpace(r):
			return bad(fmt.Sprintf("contains whitespace at byte %d", i), "remove it; a ref is one word")
		case unicode.IsControl(r) || r > unicode.MaxASCII:
			return bad(fmt.Sprintf("contains the character %q at byte %d", r, i), "use only ASCII letters, digits and . _ - / : @")
		case strings.ContainsRune(shellMeta, r):
			return bad(fmt.Sprintf("contains %q, a shell metacharacter that is never part of an image ref", r), "remove it")
		}
	}
	if t, name, ok := SplitTransport(ref); ok {
		prefix := ref[:len(ref)-len(name)]
		return bad(fmt.Sprintf("starts with the transport %q", prefix), fmt.Sprintf("drop it and give the plain ref %q (uai adds the transport; a %s: prefix here breaks later updates)", name, t))
	}

	name, digest, hasDigest := strings.Cut(ref, "@")
	if hasDigest {
		if err := checkDigest(digest); err != nil {
			return bad(err.Error(), "copy the full digest, e.g. @sha256:<64 lowercase hex digits>")
		}
	}
	tag := ""
	if i := strings.LastIndexByte(name, ':'); i > strings.LastIndexByte(name, '/') {
		name, tag = name[:i], name[i+1:]
		if !validTag(tag) {
			return bad(fmt.Sprintf("has the tag %q, which is not a valid tag", tag), "a tag is 1 to 128 letters, digits, '_', '.' or '-' and does not start with '.' or '-'")
		}
	}
	host, path, hasPath := strings.Cut(name, "/")
	if !hasPath || !(strings.ContainsAny(host, ".:") || host == "localhost") {
		return bad("is not fully qualified (it names no registry host)", "prefix the registry host, e.g. "+exampleRef)
	}
	if !validHost(host) {
		return bad(fmt.Sprintf("has the registry host %q, which is not a valid host[:port]", host), "fix the host name, e.g. quay.io or localhost:5000")
	}
	for _, comp := range strings.Split(path, "/") {
		if comp == "" {
			return bad("has an empty path component", "remove the doubled or trailing '/'")
		}
		if strings.ToLower(comp) != comp {
			return bad(fmt.Sprintf("has the path component %q with capital letters", comp), "registry repository paths are lowercase; write "+strings.ToLower(comp))
		}
		if !validPathComponent(comp) {
			return bad(fmt.Sprintf("has the path component %q, which is not valid", comp), "use lowercase letters and digits joined by single '.', '_', '__' or '-'")
		}
	}
	if tag == "" && !hasDigest {
		return bad("has neither a tag nor a digest", "add one, e.g. :latest or @sha256:<digest>, so the install is reproducible")
	}
	return nil
}

func checkDigest(d string) error {
	hexPart, ok := strings.CutPrefix(d, "sha256:")
	if !ok {
		return fmt.Errorf("has the digest %q, which is not a sha256 digest", d)
	}
	if len(hexPart) != 64 || strings.Trim(hexPart, "0123456789abcdef") != "" {
		return fmt.Errorf("has the digest %q, which is not sha256: followed by 64 lowercase hex digits", d)
	}
	return nil
}

func validTag(t string) bool {
	if t == "" || len(t) > 128 || t[0] == '.' || t[0] == '-' {
		return false
	}
	for _, r := range t {
		if !(isAlnum(r) || r == '_' || r == '.' || r == '-') {
			return false
		}
	}
	return true
}

func validHost(h string) bool {
	name, port, hasPort := strings.Cut(h, ":")
	if hasPort && (port == "" || strings.Trim(port, "0123456789") != "") {
		return false
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(isAlnum(r) || r == '-') {
				return false
			}
		}
	}
	return true
}

// validPathComponent follows the distribution grammar:
// [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*
func validPathComponent(c string) bool {
	i := 0
	alnumRun := func() bool {
		start := i
		for i < len(c) && (c[i] >= 'a' && c[i] <= 'z' || c[i] >= '0' && c[i] <= '9') {
			i++
		}
		return i > start
	}
	if !alnumRun() {
		return false
	}
	for i < len(c) {
		switch {
		case strings.HasPrefix(c[i:], "__"):
			i += 2
		case c[i] == '.' || c[i] == '_':
			i++
		case c[i] == '-':
			for i < len(c) && c[i] == '-' {
				i++
			}
		default:
			return false
		}
		if !alnumRun() {
			return false
		}
	}
	return true
}

func isAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}
