package catalog

// The field table below is the one description of the v1 format. The strict
// decoder walks it to find unknown, missing and mistyped fields, Schema turns
// it into docs/catalog.schema.json, and a test checks it against the struct
// tags, so the three cannot drift apart. Rules that need more than one field
// or real parsing (unique ids, PEM keys, URLs) live in validate.go.

// Allowed values. The order of categories is the display order of the
// listing.
var (
	allowedCategories  = []string{"desktop", "server", "iot", "cloud", "container-host", "gaming"}
	allowedMaturities  = []string{"sandbox", "incubating", "graduated"}
	allowedArches      = []string{"amd64", "arm64", "ppc64le", "s390x"}
	allowedFirmware    = []string{FirmwareUEFI, FirmwareBIOS}
	allowedFilesystems = []string{"xfs", "ext4", "btrfs"}
	allowedPolicies    = []string{PolicyNone, PolicySigstore}

	// installerOnlyKargPrefixes are arguments that configure the live
	// installer (dracut live boot, Anaconda, uai itself); on the installed
	// system they are at best noise and at worst start an installer again.
	installerOnlyKargPrefixes = []string{"rd.live.", "inst.", "uai."}
)

// Bounds. The upper bounds exist so that MinDiskBytes and MinRAMBytes cannot
// overflow, not because such machines are expected.
const (
	maxIDLen    = 63
	minDiskGiB  = 1
	maxDiskGiB  = 1 << 20 // 1 PiB
	minRAMMiB   = 256
	maxRAMMiB   = 1 << 24 // 16 TiB
	maxImageLen = 512
	maxDepth    = 32 // a v1 catalog nests 4 deep; deeper input is hostile
)

// MaxSizeBytes is the largest catalog Parse reads. A catalog may come from
// the network into a live system's RAM; 1,000 editions take about 0.6 MiB.
const MaxSizeBytes = 4 << 20

// Patterns shared by the validator and the schema. They use only syntax
// that Go's RE2 and ECMA-262 (JSON Schema) read alike.
const (
	idPattern     = `^[a-z0-9][a-z0-9-]*$`
	digestPattern = `^sha256:[0-9a-f]{64}$`

	hostLabel     = `[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?`
	registryHost  = `(?:(?:localhost|` + hostLabel + `(?:\.` + hostLabel + `)+)(?::[0-9]+)?|` + hostLabel + `:[0-9]+)`
	pathComponent = `[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*`
	tagPattern    = `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`
	imagePattern  = `^` + registryHost + `(?:/` + pathComponent + `)+:` + tagPattern + `$`

	// Schema-only approximations of rules the validator checks in code.
	noControlPattern = `^[^\x00-\x1f\x7f-\x9f]*$`
	notBlankPattern  = `\S`
	kargPattern      = `^[^\s\x00-\x1f\x7f-\x9f-][^\s\x00-\x1f\x7f-\x9f]*$`
	kargForbidden    = `^(?:rd\.live\.|inst\.|uai\.)`
	httpsPattern     = `^https://[^\s/@]+(?:[/?#]\S*)?$`
	pemKeyPattern    = `^\s*-----BEGIN PUBLIC KEY-----`
)

type kind int

const (
	kindString kind = iota
	kindInt
	kindStringList
	kindObject
	kindObjectList
)

// field describes one JSON member: its type, whether it must be present, and
// the constraints the schema states. For a string list the string
// constraints apply to each item.
type field struct {
	name     string
	kind     kind
	required bool
	doc      string

	constant   string
	enum       []string
	pattern    string
	notPattern string
	format     string
	minLen     int
	maxLen     int

	min, max int

	minItems int
	unique   bool

	obj *object
}

// object is a JSON object with a fixed set of members; rules holds schema
// keywords for conditions between members.
type object struct {
	name   string
	title  string
	doc    string
	fields []field
	rules  ordered
}

var signatureObject = &object{
	name:  "signature",
	title: "Signature policy",
	doc:   "How the installed system verifies updates of this image.",
	fields: []field{
		{name: "policy", kind: kindString, required: true, enum: allowedPolicies,
			doc: `"none": no verification is configured. "sigstore": the image is signed with cosign and publicKey is the key that must have signed it.`},
		{name: "publicKey", kind: kindString, pattern: pemKeyPattern,
			doc: `The cosign public key as a PEM "PUBLIC KEY" block (the cosign.pub file, newlines as \n). Required with "sigstore", forbidden with "none".`},
	},
	rules: ordered{{"allOf", []any{
		ordered{
			{"if", ordered{{"properties", ordered{{"policy", ordered{{"const", PolicySigstore}}}}}}},
			{"then", ordered{{"required", []string{"publicKey"}}}},
		},
		ordered{
			{"if", ordered{{"properties", ordered{{"policy", ordered{{"const", PolicyNone}}}}}}},
			{"then", ordered{{"not", ordered{{"required", []string{"publicKey"}}}}}},
		},
	}}},
}

var editionObject = &object{
	name:  "edition",
	title: "Edition",
	doc:   "One installable bootc image.",
	fields: []field{
		{name: "id", kind: kindString, required: true, pattern: idPattern, maxLen: maxIDLen,
			doc: "Stable identifier for the command line and answer files: lowercase letters, digits and hyphens, starting with a letter or digit, at most 63 characters. Unique within the catalog."},
		{name: "name", kind: kindString, required: true, pattern: notBlankPattern, notPattern: `[\x00-\x1f\x7f-\x9f]`,
			doc: "Display name."},
		{name: "category", kind: kindString, required: true, enum: allowedCategories,
			doc: "What the edition is for; the listing groups by it."},
		{name: "description", kind: kindString, required: true, pattern: notBlankPattern, notPattern: `[\x00-\x1f\x7f-\x9f]`,
			doc: "One paragraph for the edition picker, without line breaks."},
		{name: "image", kind: kindString, required: true, pattern: imagePattern, maxLen: maxImageLen,
			doc: "Fully qualified image reference: registry host (with a dot or a port, or localhost), repository and tag, no transport prefix and no digest (quay.io/fedora/fedora-bootc:44). It is also bootc's --target-imgref, so the installed system updates from it."},
		{name: "aliases", kind: kindStringList, pattern: imagePattern, maxLen: maxImageLen, unique: true,
			doc: "Other references that publish the same edition (an older namespace, a mirror), in the same form as image. Used to recognise an installed system; never installed instead of image."},
		{name: "digest", kind: kindString, pattern: digestPattern,
			doc: `Optional pin of one manifest: "sha256:" and 64 lowercase hex digits. The tag in image stays the update source.`},
		{name: "arches", kind: kindStringList, required: true, enum: allowedArches, minItems: 1, unique: true,
			doc: "OCI architecture names the image is published for."},
		{name: "firmware", kind: kindStringList, required: true, enum: allowedFirmware, minItems: 1, unique: true,
			doc: `Firmware the installed system boots with. "bios" (legacy boot) is only valid when arches includes amd64.`},
		{name: "minDiskGiB", kind: kindInt, required: true, min: minDiskGiB, max: maxDiskGiB,
			doc: "Smallest target disk, in GiB."},
		{name: "minRAMMiB", kind: kindInt, required: true, min: minRAMMiB, max: maxRAMMiB,
			doc: "Smallest memory, in MiB."},
		{name: "defaultFilesystem", kind: kindString, required: true, enum: allowedFilesystems,
			doc: "Root filesystem uai formats unless the user picks another."},
		{name: "kargs", kind: kindStringList, pattern: kargPattern, notPattern: kargForbidden,
			doc: `Extra kernel arguments for the installed system, one per item: no whitespace, no leading "-", and none of the installer-only prefixes rd.live., inst., uai.`},
		{name: "signature", kind: kindObject, required: true, obj: signatureObject,
			doc: "Signature policy."},
		{name: "homepage", kind: kindString, pattern: httpsPattern, format: "uri",
			doc: "Project home page; an https URL."},
		{name: "docs", kind: kindString, pattern: httpsPattern, format: "uri",
			doc: "Installation or user documentation; an https URL."},
		{name: "maintainer", kind: kindString, notPattern: `[\x00-\x1f\x7f-\x9f]`,
			doc: "Who builds and publishes the image."},
		{name: "maturity", kind: kindString, required: true, enum: allowedMaturities,
			doc: "sandbox: experimental, may break or vanish. incubating: community-built or an unusual install path; works, with caveats in maturityNote. graduated: official images with a supported install path."},
		{name: "maturityNote", kind: kindString, notPattern: `[\x00-\x1f\x7f-\x9f]`,
			doc: "Why the edition has its maturity: caveats a user should read before installing."},
		{name: "source", kind: kindString, notPattern: `[\x00-\x1f\x7f-\x9f]`,
			doc: "Where the image reference, tags, architectures and key were confirmed, and what is inferred rather than confirmed."},
	},
	rules: ordered{
		{"if", ordered{
			{"properties", ordered{{"firmware", ordered{{"contains", ordered{{"const", FirmwareBIOS}}}}}}},
			{"required", []string{"firmware"}},
		}},
		{"then", ordered{
			{"properties", ordered{{"arches", ordered{{"contains", ordered{{"const", "amd64"}}}}}}},
		}},
	},
}

var catalogObject = &object{
	name:  "catalog",
	title: "uai catalog v1",
	doc:   "The editions uai can install. Generated from the Go field table in package catalog; the Go validator is authoritative where a schema cannot say enough (unique ids, PEM keys, URL parsing).",
	fields: []field{
		{name: "apiVersion", kind: kindString, required: true, constant: APIVersion,
			doc: `Format version; exactly "uai.catalog/v1".`},
		{name: "editions", kind: kindObjectList, required: true, minItems: 1, obj: editionObject,
			doc: "The editions, at least one; ids are unique."},
	},
}
