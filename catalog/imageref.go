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
// The most specific diagnosis wins; imageRE (the same pattern the schema
// states) is the final word.
func checkImageRef(what, ref string) string {
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
	if name, dig, ok := strings.Cut(ref, "@"); ok {
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
	if !hasTag {
		return fmt.Sprintf("%s %q has no tag; add one, like %q (a release number such as :44 is steadier than :latest)", what, ref, ref+":latest")
	}
	if repo != strings.ToLower(repo) {
		return fmt.Sprintf("%s %q has capital letters in the repository path; registries use lowercase, write %q", what, ref, host+"/"+strings.ToLower(repo)+":"+tag)
	}
	if !imageRE.MatchString(ref) {
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
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-/:@", r)
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
