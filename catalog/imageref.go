package catalog

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// transports are the prefixes that podman, skopeo, bootc and rpm-ostree put
// in front of a reference. The catalog holds the bare reference because it is
// also bootc's --target-imgref, which takes none; uai adds the transport it
// needs at install time.
var transports = []string{
	"docker", "docker-archive", "docker-daemon", "oci", "oci-archive", "containers-storage", "dir",
	"registry", "ostree-image-signed", "ostree-unverified-registry", "ostree-unverified-image",
	"ostree-remote-image", "ostree-remote-registry",
}

// checkImageRef returns "" for a valid reference and otherwise one message
// naming the value, what is wrong and the fix. what is "image" or "alias".
// The most specific diagnosis wins; matchImage (the same pattern the schema
// states, imagePattern) is the final word.
func checkImageRef(what, ref string) string { return checkRefText(what, ref, false) }

// checkRef checks a reference a user asks uai to resolve, or the reference
// of an oci:// catalog: like an edition's image, except that a digest may
// follow the tag or replace it (host/repo@sha256:..., host/repo:tag@sha256:...).
func checkRef(ref string) string { return checkRefText("image", ref, true) }

func checkRefText(what, ref string, digestOK bool) string {
	if ref == "" {
		return fmt.Sprintf("%s is empty; give a fully qualified reference like %q", what, "quay.io/fedora/fedora-bootc:44")
	}
	if len(ref) > maxImageLen {
		return fmt.Sprintf("%s is %d characters long, more than %d; use a shorter reference", what, len(ref), maxImageLen)
	}
	if bare, transport := stripTransport(ref); transport != "" {
		return fmt.Sprintf("%s %q starts with the transport %q; write the bare reference %q (uai adds the transport itself)", what, ref, transport, bare)
	}
	if i := strings.IndexFunc(ref, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }); i >= 0 {
		return fmt.Sprintf("%s %q contains whitespace or a control character; remove it", what, ref)
	}
	// Anything outside the reference alphabet is refused by name: a "$(",
	// ";" or "`" in a ref from a remote catalog must never get near argv.
	if i := strings.IndexFunc(ref, func(r rune) bool { return !refRune(r) }); i >= 0 {
		r, _ := utf8.DecodeRuneInString(ref[i:])
		return fmt.Sprintf("%s %q contains %q, which cannot appear in an image reference; remove it", what, ref, r)
	}
	tagOptional := false
	if name, dig, ok := strings.Cut(ref, "@"); ok && digestOK {
		if !matchDigest(dig) {
			return fmt.Sprintf("%s %q has the digest %q; write %q and 64 lowercase hex digits after the @", what, ref, dig, "sha256:")
		}
		// The rest of the checks read the name; a digest makes the tag
		// optional.
		ref, tagOptional = name, true
	} else if ok {
		if what == "alias" {
			return fmt.Sprintf("alias %q carries a digest; aliases are tags only, write %q", ref, name)
		}
		return fmt.Sprintf("image %q carries a digest; keep the tag here (%q) and move %q to the digest field", ref, name, dig)
	}
	host, rest, hasSlash := strings.Cut(ref, "/")
	if !hasSlash || !strings.ContainsAny(host, ".:") && host != "localhost" {
		return fmt.Sprintf("%s %q does not start with a registry host (no registry is assumed); write it in full, like %q", what, ref, "docker.io/"+withLibrary(ref))
	}
	lastSlash := strings.LastIndexByte(rest, '/')
	repo, tag, hasTag := strings.Cut(rest[lastSlash+1:], ":")
	repo = rest[:lastSlash+1] + repo
	if !hasTag && !tagOptional {
		return fmt.Sprintf("%s %q has no tag; add one, like %q (a release number such as :44 is steadier than :latest)", what, ref, ref+":latest")
	}
	if repo != strings.ToLower(repo) {
		lower := host + "/" + strings.ToLower(repo)
		if hasTag {
			lower += ":" + tag
		}
		return fmt.Sprintf("%s %q has capital letters in the repository path; registries use lowercase, write %q", what, ref, lower)
	}
	if !hasTag {
		ref += ":latest" // the pattern wants a tag; any tag checks the name
	}
	if !matchImage(ref) {
		return fmt.Sprintf("%s %q is not a valid image reference; write host/namespace/name:tag, like %q", what, ref, "quay.io/fedora/fedora-bootc:44")
	}
	return ""
}

// withLibrary mimics how docker expands a short name, for the suggestion.
func withLibrary(ref string) string {
	if strings.Contains(ref, "/") {
		return ref
	}
	return "library/" + ref
}

func refRune(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	switch r {
	case '.', '_', '-', '/', ':', '@':
		return true
	}
	return false
}

// stripTransport removes every transport prefix ("ostree-image-signed:
// docker://" is two) and returns the bare reference and what was removed.
func stripTransport(ref string) (bare, transport string) {
	bare = ref
	for {
		if i := strings.Index(bare, "://"); i > 0 && !strings.Contains(bare[:i], "/") {
			transport += bare[:i+3]
			bare = bare[i+3:]
			continue
		}
		if i := strings.IndexByte(bare, ':'); i > 0 && slices.Contains(transports, bare[:i]) && !isPort(bare[i+1:]) {
			transport += bare[:i+1]
			bare = bare[i+1:]
			continue
		}
		return bare, transport
	}
}

// isPort is true when s starts with a port number followed by "/" or the
// end, so "oci:5000/x" reads as a host named oci with a port.
func isPort(s string) bool {
	n := strings.IndexByte(s, '/')
	if n < 0 {
		n = len(s)
	}
	if n == 0 {
		return false
	}
	for _, r := range s[:n] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// matchImage is imagePattern's match, written out by hand: the regexp
// backtracker made image checks a quarter of validating a large catalog.
// TestMatchersAgreeWithPatterns and FuzzFastPath hold it to the pattern.
func matchImage(ref string) bool {
	host, rest, ok := strings.Cut(ref, "/")
	if !ok || !matchRegistryHost(host) {
		return false
	}
	colon := strings.LastIndexByte(rest, ':')
	if colon < 0 || strings.LastIndexByte(rest, '/') > colon {
		return false
	}
	path, tag := rest[:colon], rest[colon+1:]
	for comp := range strings.SplitSeq(path, "/") {
		if !matchPathComponent(comp) {
			return false
		}
	}
	return matchTag(tag)
}

// matchRegistryHost: localhost or a dotted name, each with an optional
// port, or a single label with a port.
func matchRegistryHost(h string) bool {
	name, port, hasPort := strings.Cut(h, ":")
	if hasPort && !allDigits(port) {
		return false
	}
	if name == "localhost" {
		return true
	}
	if !hasPort && !strings.Contains(name, ".") {
		return false
	}
	for l := range strings.SplitSeq(name, ".") {
		if !matchHostLabel(l) {
			return false
		}
	}
	return true
}

func matchHostLabel(l string) bool {
	if l == "" || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := 0; i < len(l); i++ {
		if c := l[i]; !(isAlnum(c) || c == '-') {
			return false
		}
	}
	return true
}

// matchPathComponent: lowercase alphanumeric runs joined by one ".", one
// "_", "__" or any number of "-".
func matchPathComponent(c string) bool {
	i := 0
	for {
		start := i
		for i < len(c) && (c[i] >= 'a' && c[i] <= 'z' || c[i] >= '0' && c[i] <= '9') {
			i++
		}
		if i == start {
			return false
		}
		if i == len(c) {
			return true
		}
		switch {
		case c[i] == '.':
			i++
		case strings.HasPrefix(c[i:], "__"):
			i += 2
		case c[i] == '_':
			i++
		case c[i] == '-':
			for i < len(c) && c[i] == '-' {
				i++
			}
		default:
			return false
		}
	}
}

func matchTag(t string) bool {
	if t == "" || len(t) > 128 || t[0] == '.' || t[0] == '-' {
		return false
	}
	for i := 0; i < len(t); i++ {
		if c := t[i]; !(isAlnum(c) || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
