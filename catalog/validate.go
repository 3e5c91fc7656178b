package catalog

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The patterns idPattern, digestPattern and imagePattern are in the schema.
// The validator checks them with the hand-written matchers matchID,
// matchDigest and matchImage, many times faster than the regexp engine on a
// large catalog; the tests hold each matcher to its compiled pattern.

// matchID is idPattern's match.
func matchID(id string) bool {
	if id == "" || id[0] == '-' {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// matchDigest is digestPattern's match.
func matchDigest(d string) bool {
	hex, ok := strings.CutPrefix(d, "sha256:")
	if !ok || len(hex) != 64 {
		return false
	}
	for i := 0; i < len(hex); i++ {
		if c := hex[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// plainText is true for printable ASCII, which holds no control character:
// the common case, checked without decoding runes.
func plainText(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// validate applies every v1 rule to c and adds one problem per broken rule.
func validate(c *Catalog, rep *Report) {
	switch c.APIVersion {
	case APIVersion:
	case "":
		rep.add("$.apiVersion", "apiVersion is empty; set it to %q", APIVersion)
	default:
		rep.add("$.apiVersion", "apiVersion %q is not supported by this uai; set it to %q", c.APIVersion, APIVersion)
	}
	if len(c.Editions) == 0 {
		rep.add("$.editions", "the catalog has no editions; add at least one")
	}
	firstID := make(map[string]int, len(c.Editions))
	// Editions of one project share a signing key; parsing a key is the
	// dearest rule, so each distinct key is checked once.
	keyMsgs := map[string]string{}
	for i := range c.Editions {
		validateEdition(&c.Editions[i], i, firstID, keyMsgs, rep)
	}
}

// validateEdition checks edition i; firstID maps each id seen so far to the
// index that first used it, keyMsgs each public key checked so far to its
// problem ("" for none).
func validateEdition(e *Edition, i int, firstID map[string]int, keyMsgs map[string]string, rep *Report) {
	p := "$.editions[" + strconv.Itoa(i) + "]"
	switch j, dup := firstID[e.ID]; {
	case e.ID == "":
		rep.add(p+".id", "id is empty; give the edition a short id like %q", "fedora-bootc-44")
	case len(e.ID) > maxIDLen || !matchID(e.ID):
		rep.add(p+".id", "id %q is not valid; use at most %d lowercase letters, digits and hyphens, starting with a letter or digit", e.ID, maxIDLen)
	case dup:
		rep.add(p+".id", "id %q is already used by $.editions[%d]; give each edition its own id", e.ID, j)
	default:
		firstID[e.ID] = i
	}

	text(rep, loc{p, "name"}, e.Name, true)
	text(rep, loc{p, "description"}, e.Description, true)
	text(rep, loc{p, "maintainer"}, e.Maintainer, false)
	text(rep, loc{p, "maturityNote"}, e.MaturityNote, false)
	text(rep, loc{p, "source"}, e.Source, false)

	oneOf(rep, loc{p, "category"}, "category", e.Category, allowedCategories)

	if msg := checkImageRef("image", e.Image); msg != "" {
		rep.add(p+".image", "%s", msg)
	}
	for i, a := range e.Aliases {
		ap := func() string { return fmt.Sprintf("%s.aliases[%d]", p, i) }
		switch msg := checkImageRef("alias", a); {
		case msg != "":
			rep.add(ap(), "%s", msg)
		case a == e.Image:
			rep.add(ap(), "alias %q is the image itself; remove it", a)
		case slices.Contains(e.Aliases[:i], a):
			rep.add(ap(), "alias %q is listed twice; remove one", a)
		}
	}

	if e.Digest != "" && !matchDigest(e.Digest) {
		rep.add(p+".digest", "digest %q is not valid; write %q followed by 64 lowercase hex digits, or leave digest out", e.Digest, "sha256:")
	}

	list(rep, loc{p, "arches"}, "arch", e.Arches, allowedArches)
	list(rep, loc{p, "firmware"}, "firmware", e.Firmware, allowedFirmware)
	if i := slices.Index(e.Firmware, FirmwareBIOS); i >= 0 && len(e.Arches) > 0 && !slices.Contains(e.Arches, "amd64") {
		rep.add(fmt.Sprintf("%s.firmware[%d]", p, i), "firmware %q needs amd64 in arches (legacy BIOS boot exists only on x86_64); add amd64 or remove bios", FirmwareBIOS)
	}

	if e.MinDiskGiB < minDiskGiB || e.MinDiskGiB > maxDiskGiB {
		rep.add(p+".minDiskGiB", "minDiskGiB %d is outside %d..%d; set the smallest disk the edition installs on, in GiB", e.MinDiskGiB, minDiskGiB, maxDiskGiB)
	}
	if e.MinRAMMiB < minRAMMiB || e.MinRAMMiB > maxRAMMiB {
		rep.add(p+".minRAMMiB", "minRAMMiB %d is outside %d..%d; set the smallest memory the edition runs in, in MiB", e.MinRAMMiB, minRAMMiB, maxRAMMiB)
	}

	oneOf(rep, loc{p, "defaultFilesystem"}, "defaultFilesystem", e.DefaultFilesystem, allowedFilesystems)

	for i, k := range e.Kargs {
		if msg := checkKarg(k); msg != "" {
			rep.add(fmt.Sprintf("%s.kargs[%d]", p, i), "%s", msg)
		}
	}

	validateSignature(e.Signature, loc{p, "signature"}, keyMsgs, rep)

	httpsURL(rep, loc{p, "homepage"}, e.Homepage)
	httpsURL(rep, loc{p, "docs"}, e.Docs)

	oneOf(rep, loc{p, "maturity"}, "maturity", e.Maturity, allowedMaturities)
}

// loc is the JSON path of member member of the object at base, joined
// only when a problem is reported: a valid catalog of a thousand editions
// would otherwise build some fifteen thousand path strings for nothing.
type loc struct{ base, member string }

func (l loc) String() string { return l.base + "." + l.member }

// text checks a free-text field. Control characters are refused because
// catalogs come from the network and these strings reach a terminal: an
// escape sequence in a name could rewrite the screen the user confirms on.
func text(rep *Report, at loc, s string, required bool) {
	name := at.member
	if required && strings.TrimSpace(s) == "" {
		rep.add(at.String(), "%s is empty; write one", name)
		return
	}
	if plainText(s) {
		return
	}
	if i := strings.IndexFunc(s, unicode.IsControl); i >= 0 {
		r, _ := utf8.DecodeRuneInString(s[i:])
		rep.add(at.String(), "%s contains the control character %U; remove it (and write %s as one line)", name, r, name)
	}
}

func oneOf(rep *Report, at loc, name, v string, allowed []string) {
	if slices.Contains(allowed, v) {
		return
	}
	if v == "" {
		rep.add(at.String(), "%s is empty; use one of %s", name, strings.Join(allowed, ", "))
		return
	}
	rep.add(at.String(), "%s %q is not one of %s; use one of those", name, v, strings.Join(allowed, ", "))
}

// archAliases are the kernel (uname) names people write for OCI arches.
var archAliases = map[string]string{"x86_64": "amd64", "aarch64": "arm64", "x86-64": "amd64", "arm64v8": "arm64"}

func list(rep *Report, at loc, item string, vs, allowed []string) {
	name := at.member
	if len(vs) == 0 {
		rep.add(at.String(), "%s is empty; list at least one of %s", name, strings.Join(allowed, ", "))
		return
	}
	for i, v := range vs {
		ip := func() string { return at.String() + "[" + strconv.Itoa(i) + "]" }
		switch {
		case archAliases[v] != "" && name == "arches":
			rep.add(ip(), "arch %q is the kernel's name; write the OCI name %q", v, archAliases[v])
		case !slices.Contains(allowed, v):
			rep.add(ip(), "%s %q is not one of %s; use one of those", item, v, strings.Join(allowed, ", "))
		case slices.Contains(vs[:i], v):
			rep.add(ip(), "%s %q is listed twice; remove one", item, v)
		}
	}
}

func checkKarg(k string) string {
	switch {
	case k == "":
		return "karg is empty; remove the empty item"
	case strings.IndexFunc(k, unicode.IsSpace) >= 0:
		return fmt.Sprintf("karg %q contains whitespace; give each argument as its own item", k)
	case strings.IndexFunc(k, unicode.IsControl) >= 0:
		return fmt.Sprintf("karg %q contains a control character; remove it", k)
	case strings.HasPrefix(k, "-"):
		return fmt.Sprintf("karg %q starts with %q and would read as an option; remove the dash", k, "-")
	}
	for _, pre := range installerOnlyKargPrefixes {
		if strings.HasPrefix(k, pre) {
			return fmt.Sprintf("karg %q configures the installer (%s*), not the installed system; remove it", k, pre)
		}
	}
	return ""
}

func validateSignature(s Signature, at loc, keyMsgs map[string]string, rep *Report) {
	p := at.String

	switch s.Policy {
	case PolicyNone:
		if s.PublicKey != "" {
			rep.add(p()+".publicKey", "publicKey is set but policy is %q; remove the key or set policy to %q", PolicyNone, PolicySigstore)
		}
	case PolicySigstore:
		if s.PublicKey == "" {
			rep.add(p()+".publicKey", "policy %q needs publicKey, the cosign public key in PEM form; paste the project's cosign.pub", PolicySigstore)
			return
		}
		msg, seen := keyMsgs[s.PublicKey]
		if !seen {
			msg = checkPublicKey(s.PublicKey)
			keyMsgs[s.PublicKey] = msg
		}
		if msg != "" {
			rep.add(p()+".publicKey", "%s", msg)
		}
	default:
		oneOf(rep, loc{p(), "policy"}, "signature policy", s.Policy, allowedPolicies)
	}
}

func checkPublicKey(key string) string {
	if !strings.HasPrefix(strings.TrimSpace(key), "-----BEGIN ") {
		return `publicKey is not a PEM block; paste the cosign.pub file as it is, from "-----BEGIN PUBLIC KEY-----" to the END line, with newlines written as \n`
	}
	block, rest := pem.Decode([]byte(key))
	if block == nil {
		return `publicKey is not a well-formed PEM block (check the BEGIN and END lines and the base64 between them); paste the cosign.pub file unchanged`
	}
	if block.Type != "PUBLIC KEY" {
		return fmt.Sprintf("publicKey is a PEM %q block; a cosign public key is a %q block (cosign.pub, never the private key)", block.Type, "PUBLIC KEY")
	}
	if strings.TrimSpace(string(rest)) != "" {
		return "publicKey has text after the END line; keep exactly one PEM block"
	}
	if _, err := x509.ParsePKIXPublicKey(block.Bytes); err != nil {
		// The ASN.1 detail in err helps nobody who pasted a file.
		return "publicKey does not decode as a public key (PKIX); paste the cosign.pub file unchanged"
	}
	return ""
}

func httpsURL(rep *Report, at loc, s string) {
	if s == "" || simpleHTTPS(s) {
		return
	}
	checkURL(rep, at, s)
}

// checkURL is the full check of a link that simpleHTTPS could not pass.
func checkURL(rep *Report, at loc, s string) {
	name := at.member
	if strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		rep.add(at.String(), "%s %q contains whitespace or a control character; encode spaces as %%20", name, s)
		return
	}
	u, err := url.Parse(s)
	if err != nil {
		rep.add(at.String(), "%s is not an https URL; write it as https://host/path", name)
		return
	}
	// Messages show the URL with any password masked: the report reaches
	// terminals and logs, where secrets must not.
	if u.Scheme != "https" || u.Host == "" || u.Opaque != "" {
		rep.add(at.String(), "%s %q is not an https URL; write it as https://host/path", name, u.Redacted())
		return
	}
	if u.User != nil {
		rep.add(at.String(), "%s %q carries user information before the host; remove everything between %q and %q", name, u.Redacted(), "https://", "@")
	}
}

// simpleHTTPS is true for "https://host/path" made only of letters,
// digits and "-._~/", with a host: url.Parse accepts every such URL with
// scheme https, that host and no user information, so the full check
// below could only agree. It spares url.Parse for nearly every real link.
func simpleHTTPS(s string) bool {
	rest, ok := strings.CutPrefix(s, "https://")
	if !ok || rest == "" || rest[0] == '/' {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if c := rest[i]; !(isAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
			return false
		}
	}
	return true
}
