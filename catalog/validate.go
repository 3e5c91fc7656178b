package catalog

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

var (
	idRE     = regexp.MustCompile(idPattern)
	digestRE = regexp.MustCompile(digestPattern)
	imageRE  = regexp.MustCompile(imagePattern)
)

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
	firstID := map[string]int{}
	for i := range c.Editions {
		validateEdition(&c.Editions[i], i, firstID, rep)
	}
}

// validateEdition checks edition i; firstID maps each id seen so far to the
// index that first used it.
func validateEdition(e *Edition, i int, firstID map[string]int, rep *Report) {
	p := fmt.Sprintf("$.editions[%d]", i)
	switch j, dup := firstID[e.ID]; {
	case e.ID == "":
		rep.add(p+".id", "id is empty; give the edition a short id like %q", "fedora-bootc-44")
	case len(e.ID) > maxIDLen || !idRE.MatchString(e.ID):
		rep.add(p+".id", "id %q is not valid; use at most %d lowercase letters, digits and hyphens, starting with a letter or digit", e.ID, maxIDLen)
	case dup:
		rep.add(p+".id", "id %q is already used by $.editions[%d]; give each edition its own id", e.ID, j)
	default:
		firstID[e.ID] = i
	}

	text(rep, p+".name", "name", e.Name, true)
	text(rep, p+".description", "description", e.Description, true)
	text(rep, p+".maintainer", "maintainer", e.Maintainer, false)
	text(rep, p+".maturityNote", "maturityNote", e.MaturityNote, false)
	text(rep, p+".source", "source", e.Source, false)

	oneOf(rep, p+".category", "category", e.Category, allowedCategories)

	if msg := checkImageRef("image", e.Image); msg != "" {
		rep.add(p+".image", "%s", msg)
	}
	seen := map[string]bool{}
	for i, a := range e.Aliases {
		ap := fmt.Sprintf("%s.aliases[%d]", p, i)
		switch msg := checkImageRef("alias", a); {
		case msg != "":
			rep.add(ap, "%s", msg)
		case a == e.Image:
			rep.add(ap, "alias %q is the image itself; remove it", a)
		case seen[a]:
			rep.add(ap, "alias %q is listed twice; remove one", a)
		}
		seen[a] = true
	}

	if e.Digest != "" && !digestRE.MatchString(e.Digest) {
		rep.add(p+".digest", "digest %q is not valid; write %q followed by 64 lowercase hex digits, or leave digest out", e.Digest, "sha256:")
	}

	list(rep, p+".arches", "arches", "arch", e.Arches, allowedArches)
	list(rep, p+".firmware", "firmware", "firmware", e.Firmware, allowedFirmware)
	if i := slices.Index(e.Firmware, FirmwareBIOS); i >= 0 && len(e.Arches) > 0 && !slices.Contains(e.Arches, "amd64") {
		rep.add(fmt.Sprintf("%s.firmware[%d]", p, i), "firmware %q needs amd64 in arches (legacy BIOS boot exists only on x86_64); add amd64 or remove bios", FirmwareBIOS)
	}

	if e.MinDiskGiB < minDiskGiB || e.MinDiskGiB > maxDiskGiB {
		rep.add(p+".minDiskGiB", "minDiskGiB %d is outside %d..%d; set the smallest disk the edition installs on, in GiB", e.MinDiskGiB, minDiskGiB, maxDiskGiB)
	}
	if e.MinRAMMiB < minRAMMiB || e.MinRAMMiB > maxRAMMiB {
		rep.add(p+".minRAMMiB", "minRAMMiB %d is outside %d..%d; set the smallest memory the edition runs in, in MiB", e.MinRAMMiB, minRAMMiB, maxRAMMiB)
	}

	oneOf(rep, p+".defaultFilesystem", "defaultFilesystem", e.DefaultFilesystem, allowedFilesystems)

	for i, k := range e.Kargs {
		if msg := checkKarg(k); msg != "" {
			rep.add(fmt.Sprintf("%s.kargs[%d]", p, i), "%s", msg)
		}
	}

	validateSignature(e.Signature, p+".signature", rep)

	httpsURL(rep, p+".homepage", "homepage", e.Homepage)
	httpsURL(rep, p+".docs", "docs", e.Docs)

	oneOf(rep, p+".maturity", "maturity", e.Maturity, allowedMaturities)
}

// text checks a free-text field. Control characters are refused because
// catalogs come from the network and these strings reach a terminal: an
// escape sequence in a name could rewrite the screen the user confirms on.
func text(rep *Report, path, name, s string, required bool) {
	if required && strings.TrimSpace(s) == "" {
		rep.add(path, "%s is empty; write one", name)
		return
	}
	if i := strings.IndexFunc(s, unicode.IsControl); i >= 0 {
		r, _ := utf8.DecodeRuneInString(s[i:])
		rep.add(path, "%s contains the control character %U; remove it (and write %s as one line)", name, r, name)
	}
}

func oneOf(rep *Report, path, name, v string, allowed []string) {
	if slices.Contains(allowed, v) {
		return
	}
	if v == "" {
		rep.add(path, "%s is empty; use one of %s", name, strings.Join(allowed, ", "))
		return
	}
	rep.add(path, "%s %q is not one of %s; use one of those", name, v, strings.Join(allowed, ", "))
}

// archAliases are the kernel (uname) names people write for OCI arches.
var archAliases = map[string]string{"x86_64": "amd64", "aarch64": "arm64", "x86-64": "amd64", "arm64v8": "arm64"}

func list(rep *Report, path, name, item string, vs, allowed []string) {
	if len(vs) == 0 {
		rep.add(path, "%s is empty; list at least one of %s", name, strings.Join(allowed, ", "))
		return
	}
	seen := map[string]bool{}
	for i, v := range vs {
		ip := fmt.Sprintf("%s[%d]", path, i)
		switch {
		case archAliases[v] != "" && name == "arches":
			rep.add(ip, "arch %q is the kernel's name; write the OCI name %q", v, archAliases[v])
		case !slices.Contains(allowed, v):
			rep.add(ip, "%s %q is not one of %s; use one of those", item, v, strings.Join(allowed, ", "))
		case seen[v]:
			rep.add(ip, "%s %q is listed twice; remove one", item, v)
		}
		seen[v] = true
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

func validateSignature(s Signature, p string, rep *Report) {
	switch s.Policy {
	case PolicyNone:
		if s.PublicKey != "" {
			rep.add(p+".publicKey", "publicKey is set but policy is %q; remove the key or set policy to %q", PolicyNone, PolicySigstore)
		}
	case PolicySigstore:
		if s.PublicKey == "" {
			rep.add(p+".publicKey", "policy %q needs publicKey, the cosign public key in PEM form; paste the project's cosign.pub", PolicySigstore)
			return
		}
		if msg := checkPublicKey(s.PublicKey); msg != "" {
			rep.add(p+".publicKey", "%s", msg)
		}
	default:
		oneOf(rep, p+".policy", "signature policy", s.Policy, allowedPolicies)
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

func httpsURL(rep *Report, path, name, s string) {
	if s == "" {
		return
	}
	if strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		rep.add(path, "%s %q contains whitespace or a control character; encode spaces as %%20", name, s)
		return
	}
	u, err := url.Parse(s)
	if err != nil {
		rep.add(path, "%s is not an https URL; write it as https://host/path", name)
		return
	}
	// Messages show the URL with any password masked: the report reaches
	// terminals and logs, where secrets must not.
	shown := u.Redacted()
	if u.Scheme != "https" || u.Host == "" || u.Opaque != "" {
		rep.add(path, "%s %q is not an https URL; write it as https://host/path", name, shown)
		return
	}
	if u.User != nil {
		rep.add(path, "%s %q carries user information before the host; remove everything between %q and %q", name, shown, "https://", "@")
	}
}
