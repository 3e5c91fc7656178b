package catalog

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

type ruleCase struct {
	name string
	// edit breaks validDoc; raw replaces the whole document instead.
	edit func(doc map[string]any)
	raw  func() []byte
	path string
	msg  string // a substring of the one expected message
	// schema is true when the generated JSON Schema must reject the
	// document too (false for rules a schema cannot state).
	schema bool
}

func setEd(i int, key string, v any) func(map[string]any) {
	return func(doc map[string]any) { edition(doc, i)[key] = v }
}

func delEd(i int, key string) func(map[string]any) {
	return func(doc map[string]any) { delete(edition(doc, i), key) }
}

func setSig(i int, key string, v any) func(map[string]any) {
	return func(doc map[string]any) { edition(doc, i)["signature"].(map[string]any)[key] = v }
}

var ruleCases = []ruleCase{
	// Structure: unknown, missing and mistyped members.
	{name: "unknown top-level field", edit: func(d map[string]any) { d["kind"] = "Catalog" }, path: "$.kind", msg: `unknown field "kind"`, schema: true},
	{name: "unknown edition field", edit: setEd(0, "imageRef", "x"), path: "$.editions[0].imageRef", msg: `unknown field "imageRef"`, schema: true},
	{name: "field in the wrong case", edit: setEd(0, "minDiskGib", 32), path: "$.editions[0].minDiskGib", msg: `did you mean "minDiskGiB"`, schema: true},
	{name: "unknown signature field", edit: setSig(0, "keyless", true), path: "$.editions[0].signature.keyless", msg: `unknown field "keyless"`, schema: true},
	{name: "unknown field with odd name", edit: setEd(0, "a b", 1), path: `$.editions[0]["a b"]`, msg: `unknown field "a b"`, schema: true},
	{name: "missing apiVersion", edit: func(d map[string]any) { delete(d, "apiVersion") }, path: "$.apiVersion", msg: `required field "apiVersion" is missing; add it: "uai.catalog/v1"`, schema: true},
	{name: "missing editions", edit: func(d map[string]any) { delete(d, "editions") }, path: "$.editions", msg: `required field "editions" is missing`, schema: true},
	{name: "missing category", edit: delEd(0, "category"), path: "$.editions[0].category", msg: `required field "category" is missing; add it: one of desktop`, schema: true},
	{name: "missing signature policy", edit: setEd(1, "signature", map[string]any{}), path: "$.editions[1].signature.policy", msg: `required field "policy" is missing`, schema: true},
	{name: "string field holds a number", edit: setEd(0, "name", 5), path: "$.editions[0].name", msg: "name must be a string, not the number 5", schema: true},
	{name: "integer field holds a string", edit: setEd(0, "minDiskGiB", "32"), path: "$.editions[0].minDiskGiB", msg: `minDiskGiB must be a whole number, not the string "32"`, schema: true},
	{name: "integer field holds a fraction", edit: setEd(0, "minRAMMiB", 4096.5), path: "$.editions[0].minRAMMiB", msg: "minRAMMiB is 4096.5, which is not a whole number", schema: true},
	{name: "integer field overflows", edit: setEd(0, "minDiskGiB", json.Number("99999999999999999999")), path: "$.editions[0].minDiskGiB", msg: "not a whole number in range", schema: true},
	{name: "list field holds a string", edit: setEd(0, "arches", "amd64"), path: "$.editions[0].arches", msg: "arches must be a list of strings", schema: true},
	{name: "list item is not a string", edit: setEd(0, "arches", []any{"amd64", 7}), path: "$.editions[0].arches[1]", msg: "arches items must be strings, not the number 7", schema: true},
	{name: "null value", edit: setEd(0, "homepage", nil), path: "$.editions[0].homepage", msg: "homepage must be a string, not null", schema: true},
	{name: "edition is not an object", edit: func(d map[string]any) { d["editions"] = append(d["editions"].([]any), 5) }, path: "$.editions[2]", msg: "each of editions must be an object, not the number 5", schema: true},
	{name: "signature is not an object", edit: setEd(0, "signature", "none"), path: "$.editions[0].signature", msg: "signature must be an object", schema: true},
	{name: "editions is not a list", edit: func(d map[string]any) { d["editions"] = map[string]any{} }, path: "$.editions", msg: "editions must be a list of objects", schema: true},

	// Catalog rules.
	{name: "apiVersion from the future", edit: func(d map[string]any) { d["apiVersion"] = "uai.catalog/v2" }, path: "$.apiVersion", msg: `apiVersion "uai.catalog/v2" is not supported`, schema: true},
	{name: "no editions", edit: func(d map[string]any) { d["editions"] = []any{} }, path: "$.editions", msg: "the catalog has no editions; add at least one", schema: true},

	// id.
	{name: "id with capitals", edit: setEd(0, "id", "Full"), path: "$.editions[0].id", msg: `id "Full" is not valid`, schema: true},
	{name: "id starting with a hyphen", edit: setEd(0, "id", "-full"), path: "$.editions[0].id", msg: `id "-full" is not valid`, schema: true},
	{name: "id too long", edit: setEd(0, "id", strings.Repeat("a", 64)), path: "$.editions[0].id", msg: "at most 63", schema: true},
	{name: "id empty", edit: setEd(0, "id", ""), path: "$.editions[0].id", msg: "id is empty", schema: true},
	{name: "id used twice", edit: setEd(1, "id", "full"), path: "$.editions[1].id", msg: `id "full" is already used by $.editions[0]`},

	// Free text.
	{name: "name blank", edit: setEd(0, "name", "  "), path: "$.editions[0].name", msg: "name is empty", schema: true},
	{name: "description empty", edit: setEd(0, "description", ""), path: "$.editions[0].description", msg: "description is empty", schema: true},
	{name: "name with a terminal escape", edit: setEd(0, "name", "\x1b[31mRed"), path: "$.editions[0].name", msg: "control character U+001B", schema: true},
	{name: "description with a line break", edit: setEd(0, "description", "one\ntwo"), path: "$.editions[0].description", msg: "control character U+000A", schema: true},
	{name: "maintainer with a C1 control", edit: setEd(0, "maintainer", "Acme\u009b2J"), path: "$.editions[0].maintainer", msg: "control character U+009B", schema: true},
	{name: "maturityNote with a tab", edit: setEd(0, "maturityNote", "a\tb"), path: "$.editions[0].maturityNote", msg: "control character U+0009", schema: true},
	{name: "source with a control character", edit: setEd(0, "source", "a\x07"), path: "$.editions[0].source", msg: "control character U+0007", schema: true},

	// category, defaultFilesystem, maturity.
	{name: "unknown category", edit: setEd(0, "category", "laptop"), path: "$.editions[0].category", msg: `category "laptop" is not one of desktop, server, iot, cloud, container-host, gaming`, schema: true},
	{name: "unknown filesystem", edit: setEd(0, "defaultFilesystem", "zfs"), path: "$.editions[0].defaultFilesystem", msg: `defaultFilesystem "zfs" is not one of xfs, ext4, btrfs`, schema: true},
	{name: "unknown maturity", edit: setEd(0, "maturity", "stable"), path: "$.editions[0].maturity", msg: `maturity "stable" is not one of sandbox, incubating, graduated`, schema: true},

	// image.
	{name: "image with docker transport", edit: setEd(0, "image", "docker://quay.io/fedora/fedora-bootc:44"), path: "$.editions[0].image", msg: `starts with the transport "docker://"; write the bare reference "quay.io/fedora/fedora-bootc:44"`, schema: true},
	{name: "image with registry transport", edit: setEd(0, "image", "registry:quay.io/fedora/fedora-bootc:44"), path: "$.editions[0].image", msg: `transport "registry:"`, schema: true},
	{name: "image with two transports", edit: setEd(0, "image", "ostree-image-signed:docker://quay.io/x/y:1"), path: "$.editions[0].image", msg: `transport "ostree-image-signed:docker://"; write the bare reference "quay.io/x/y:1"`, schema: true},
	{name: "image with whitespace", edit: setEd(0, "image", "quay.io/fedora/fedora-bootc:44 --karg=x"), path: "$.editions[0].image", msg: "contains whitespace", schema: true},
	{name: "image with a semicolon", edit: setEd(0, "image", "quay.io/fedora/fedora-bootc:44;reboot"), path: "$.editions[0].image", msg: `contains ';'`, schema: true},
	{name: "image with command substitution", edit: setEd(0, "image", "quay.io/$(reboot)/x:1"), path: "$.editions[0].image", msg: `contains '$'`, schema: true},
	{name: "image with a digest", edit: setEd(0, "image", "quay.io/fedora/fedora-bootc:44@sha256:"+strings.Repeat("0", 64)), path: "$.editions[0].image", msg: `carries a digest; keep the tag here ("quay.io/fedora/fedora-bootc:44")`, schema: true},
	{name: "image without registry host", edit: setEd(0, "image", "fedora/fedora-bootc:44"), path: "$.editions[0].image", msg: `does not start with a registry host`, schema: true},
	{name: "image that is a short name", edit: setEd(0, "image", "fedora:44"), path: "$.editions[0].image", msg: `like "docker.io/library/fedora:44"`, schema: true},
	{name: "image without tag", edit: setEd(0, "image", "quay.io/fedora/fedora-bootc"), path: "$.editions[0].image", msg: "has no tag", schema: true},
	{name: "image with capitals", edit: setEd(0, "image", "quay.io/Fedora/fedora-bootc:44"), path: "$.editions[0].image", msg: `write "quay.io/fedora/fedora-bootc:44"`, schema: true},
	{name: "image with an empty path component", edit: setEd(0, "image", "quay.io/fedora//bootc:44"), path: "$.editions[0].image", msg: "is not a valid image reference", schema: true},
	{name: "image with a bad tag", edit: setEd(0, "image", "quay.io/fedora/bootc:-44"), path: "$.editions[0].image", msg: "is not a valid image reference", schema: true},
	{name: "image too long", edit: setEd(0, "image", "quay.io/"+strings.Repeat("a", 600)+":1"), path: "$.editions[0].image", msg: "more than 512", schema: true},
	{name: "image empty", edit: setEd(0, "image", ""), path: "$.editions[0].image", msg: "image is empty", schema: true},

	// aliases.
	{name: "alias with a transport", edit: setEd(0, "aliases", []any{"docker://ghcr.io/x/y:1"}), path: "$.editions[0].aliases[0]", msg: `alias "docker://ghcr.io/x/y:1" starts with the transport`, schema: true},
	{name: "alias repeats the image", edit: setEd(0, "aliases", []any{"registry.example.com/acme/full:1.0"}), path: "$.editions[0].aliases[0]", msg: "is the image itself"},
	{name: "alias listed twice", edit: setEd(0, "aliases", []any{"ghcr.io/x/y:1", "ghcr.io/x/y:1"}), path: "$.editions[0].aliases[1]", msg: "listed twice", schema: true},
	{name: "alias with a digest", edit: setEd(0, "aliases", []any{"ghcr.io/x/y:1@sha256:" + strings.Repeat("0", 64)}), path: "$.editions[0].aliases[0]", msg: "aliases are tags only", schema: true},

	// digest.
	{name: "digest in capitals", edit: setEd(0, "digest", "sha256:"+strings.Repeat("AB", 32)), path: "$.editions[0].digest", msg: "64 lowercase hex digits", schema: true},
	{name: "digest too short", edit: setEd(0, "digest", "sha256:abc"), path: "$.editions[0].digest", msg: `digest "sha256:abc" is not valid`, schema: true},
	{name: "digest with another algorithm", edit: setEd(0, "digest", "sha512:"+strings.Repeat("ab", 32)), path: "$.editions[0].digest", msg: "is not valid", schema: true},

	// arches and firmware.
	{name: "arches empty", edit: setEd(0, "arches", []any{}), path: "$.editions[0].arches", msg: "arches is empty; list at least one of amd64, arm64, ppc64le, s390x", schema: true},
	{name: "arch in kernel spelling", edit: setEd(1, "arches", []any{"aarch64"}), path: "$.editions[1].arches[0]", msg: `arch "aarch64" is the kernel's name; write the OCI name "arm64"`, schema: true},
	{name: "unknown arch", edit: setEd(1, "arches", []any{"riscv64"}), path: "$.editions[1].arches[0]", msg: `arch "riscv64" is not one of amd64, arm64, ppc64le, s390x`, schema: true},
	{name: "arch listed twice", edit: setEd(1, "arches", []any{"arm64", "arm64"}), path: "$.editions[1].arches[1]", msg: `arch "arm64" is listed twice`, schema: true},
	{name: "firmware empty", edit: setEd(1, "firmware", []any{}), path: "$.editions[1].firmware", msg: "firmware is empty", schema: true},
	{name: "unknown firmware", edit: setEd(1, "firmware", []any{"efi"}), path: "$.editions[1].firmware[0]", msg: `firmware "efi" is not one of uefi, bios`, schema: true},
	{name: "firmware listed twice", edit: setEd(1, "firmware", []any{"uefi", "uefi"}), path: "$.editions[1].firmware[1]", msg: "listed twice", schema: true},
	{name: "bios without amd64", edit: setEd(1, "firmware", []any{"uefi", "bios"}), path: "$.editions[1].firmware[1]", msg: `firmware "bios" needs amd64 in arches`, schema: true},

	// Sizes.
	{name: "disk minimum zero", edit: setEd(0, "minDiskGiB", 0), path: "$.editions[0].minDiskGiB", msg: "minDiskGiB 0 is outside 1..1048576", schema: true},
	{name: "disk minimum negative", edit: setEd(0, "minDiskGiB", -5), path: "$.editions[0].minDiskGiB", msg: "minDiskGiB -5 is outside", schema: true},
	{name: "disk minimum absurd", edit: setEd(0, "minDiskGiB", maxDiskGiB+1), path: "$.editions[0].minDiskGiB", msg: "is outside 1..1048576", schema: true},
	{name: "RAM minimum too small", edit: setEd(0, "minRAMMiB", 128), path: "$.editions[0].minRAMMiB", msg: "minRAMMiB 128 is outside 256..16777216", schema: true},
	{name: "RAM minimum absurd", edit: setEd(0, "minRAMMiB", maxRAMMiB+1), path: "$.editions[0].minRAMMiB", msg: "is outside 256..16777216", schema: true},

	// kargs.
	{name: "karg empty", edit: setEd(0, "kargs", []any{""}), path: "$.editions[0].kargs[0]", msg: "karg is empty", schema: true},
	{name: "karg with a space", edit: setEd(0, "kargs", []any{"quiet splash"}), path: "$.editions[0].kargs[0]", msg: "give each argument as its own item", schema: true},
	{name: "karg for dracut live boot", edit: setEd(0, "kargs", []any{"rd.live.image"}), path: "$.editions[0].kargs[0]", msg: "configures the installer (rd.live.*)", schema: true},
	{name: "karg for Anaconda", edit: setEd(0, "kargs", []any{"quiet", "inst.ks=https://example.com/ks"}), path: "$.editions[0].kargs[1]", msg: "configures the installer (inst.*)", schema: true},
	{name: "karg for uai", edit: setEd(0, "kargs", []any{"uai.answers=/a.toml"}), path: "$.editions[0].kargs[0]", msg: "configures the installer (uai.*)", schema: true},
	{name: "karg that reads as an option", edit: setEd(0, "kargs", []any{"--wipe"}), path: "$.editions[0].kargs[0]", msg: "would read as an option", schema: true},
	{name: "karg with a control character", edit: setEd(0, "kargs", []any{"a\x00b"}), path: "$.editions[0].kargs[0]", msg: "control character", schema: true},

	// signature.
	{name: "unknown signature policy", edit: setSig(0, "policy", "gpg"), path: "$.editions[0].signature.policy", msg: `signature policy "gpg" is not one of none, sigstore`, schema: true},
	{name: "sigstore without key", edit: func(d map[string]any) { delete(edition(d, 0)["signature"].(map[string]any), "publicKey") }, path: "$.editions[0].signature.publicKey", msg: `policy "sigstore" needs publicKey`, schema: true},
	{name: "none with a key", edit: setSig(0, "policy", "none"), path: "$.editions[0].signature.publicKey", msg: `publicKey is set but policy is "none"`, schema: true},
	{name: "key without PEM armour", edit: setSig(0, "publicKey", "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE"), path: "$.editions[0].signature.publicKey", msg: "publicKey is not a PEM block", schema: true},
	{name: "private key pasted", edit: setSig(0, "publicKey", "-----BEGIN PRIVATE KEY-----\nMFkw\n-----END PRIVATE KEY-----\n"), path: "$.editions[0].signature.publicKey", msg: `is a PEM "PRIVATE KEY" block`, schema: true},
	{name: "key with trailing text", edit: setSig(0, "publicKey", testKey+"and more"), path: "$.editions[0].signature.publicKey", msg: "text after the END line"},
	{name: "key with broken base64", edit: setSig(0, "publicKey", "-----BEGIN PUBLIC KEY-----\nnot base64!\n-----END PUBLIC KEY-----\n"), path: "$.editions[0].signature.publicKey", msg: "not a well-formed PEM block"},
	{name: "key that is not a key", edit: setSig(0, "publicKey", "-----BEGIN PUBLIC KEY-----\naGVsbG8=\n-----END PUBLIC KEY-----\n"), path: "$.editions[0].signature.publicKey", msg: "does not decode as a public key"},

	// Links.
	{name: "homepage over http", edit: setEd(0, "homepage", "http://example.com/"), path: "$.editions[0].homepage", msg: `homepage "http://example.com/" is not an https URL`, schema: true},
	{name: "homepage without scheme", edit: setEd(0, "homepage", "example.com"), path: "$.editions[0].homepage", msg: "is not an https URL", schema: true},
	{name: "docs with credentials", edit: setEd(0, "docs", "https://user:secret@example.com/"), path: "$.editions[0].docs", msg: `docs "https://user:xxxxx@example.com/" carries user information`, schema: true},
	{name: "http homepage with credentials", edit: setEd(0, "homepage", "http://user:secret@example.com/"), path: "$.editions[0].homepage", msg: `homepage "http://user:xxxxx@example.com/" is not an https URL`, schema: true},
	{name: "docs with a space", edit: setEd(0, "docs", "https://example.com/a b"), path: "$.editions[0].docs", msg: "contains whitespace", schema: true},

	// Documents that are not a catalog object at all.
	{name: "syntax error", raw: func() []byte { return []byte("{\"apiVersion\": \"uai.catalog/v1\",\n  \"editions\": [}") }, path: "$", msg: "not valid JSON at line 2, column 16"},
	{name: "truncated", raw: func() []byte { return []byte(`{"apiVersion": "uai`) }, path: "$", msg: "JSON"},
	{name: "key written twice", raw: func() []byte {
		b := string(mustJSON(&testing.T{}, validDoc()))
		return []byte(strings.Replace(b, `"name":"Full Edition"`, `"name":"Full Edition","name":"Other"`, 1))
	}, path: "$.editions[0].name", msg: `"name" appears more than once`},
	{name: "data after the object", raw: func() []byte { return append(mustJSON(&testing.T{}, validDoc()), "{}"...) }, path: "$", msg: "there is more after the catalog object"},
	{name: "empty document", raw: func() []byte { return []byte(" \n") }, path: "$", msg: "the catalog is empty"},
	{name: "top level is a list", raw: func() []byte { return []byte("[]") }, path: "$", msg: "the catalog is a JSON array"},
	{name: "nesting bomb", raw: func() []byte { return []byte(`{"x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + "}") }, path: "$", msg: "nests deeper than 32 levels"},
	{name: "oversize document", raw: func() []byte { return []byte(strings.Repeat(" ", MaxSizeBytes+1)) }, path: "$", msg: "larger than the limit of 4194304 bytes"},
}

func (rc ruleCase) doc(t *testing.T) []byte {
	if rc.raw != nil {
		return rc.raw()
	}
	d := validDoc()
	rc.edit(d)
	return mustJSON(t, d)
}

func TestValidDocParses(t *testing.T) {
	c, rep := Parse(mustJSON(t, validDoc()))
	if !rep.OK() {
		t.Fatalf("the fixture is invalid:\n%s", rep.Error())
	}
	if c == nil || len(c.Editions) != 2 || c.Editions[0].Signature.PublicKey != testKey {
		t.Fatalf("parsed catalog = %+v", c)
	}
	if !newSchemaChecker(t).accepts(mustJSON(t, validDoc())) {
		t.Fatal("the schema rejects the valid fixture")
	}
}

// TestEveryRule breaks one rule at a time and expects exactly one problem,
// at the exact path, saying what is wrong.
func TestEveryRule(t *testing.T) {
	sc := newSchemaChecker(t)
	for _, rc := range ruleCases {
		t.Run(rc.name, func(t *testing.T) {
			doc := rc.doc(t)
			c, rep := Parse(doc)
			if c != nil {
				t.Error("Parse returned a catalog for an invalid document")
			}
			if len(rep.Problems) != 1 {
				t.Fatalf("want exactly 1 problem at %s, got %d:\n%s", rc.path, len(rep.Problems), rep.Error())
			}
			p := rep.Problems[0]
			if p.Path != rc.path {
				t.Errorf("path = %s, want %s (message: %s)", p.Path, rc.path, p.Message)
			}
			if !strings.Contains(p.Message, rc.msg) {
				t.Errorf("message = %q\nwant it to contain %q", p.Message, rc.msg)
			}
			if r, _ := utf8.DecodeRuneInString(p.Message); unicode.IsUpper(r) {
				t.Errorf("message starts with a capital: %q", p.Message)
			}
			if !strings.Contains(p.Message, ";") {
				t.Errorf("message does not say the fix after a semicolon: %q", p.Message)
			}
			if rc.schema && sc.accepts(doc) {
				t.Errorf("the JSON Schema accepts a document the validator rejects")
			}
		})
	}
}

// TestRuleCasesCoverEveryField makes a new field in the table come with at
// least one failing case.
func TestRuleCasesCoverEveryField(t *testing.T) {
	for _, o := range []*object{catalogObject, editionObject, signatureObject} {
		for _, f := range o.fields {
			covered := false
			for _, rc := range ruleCases {
				if strings.HasSuffix(rc.path, "."+f.name) || strings.Contains(rc.path, "."+f.name+"[") {
					covered = true
				}
			}
			if !covered {
				t.Errorf("no rule case has a path at field %q of %s", f.name, o.name)
			}
		}
	}
}

func TestAllProblemsAreReported(t *testing.T) {
	d := validDoc()
	d["apiVersion"] = "v1"                                 // 1
	edition(d, 0)["imagee"] = "x"                          // 2: unknown field
	edition(d, 0)["image"] = "quay.io/fedora/fedora-bootc" // 3: no tag
	edition(d, 1)["id"] = "full"                           // 4: duplicate id
	edition(d, 1)["kargs"] = []any{"inst.text"}            // 5: installer-only karg
	_, rep := Parse(mustJSON(t, d))
	want := []string{
		"$.apiVersion",
		"$.editions[0].imagee",
		"$.editions[0].image",
		"$.editions[1].id",
		"$.editions[1].kargs[0]",
	}
	var got []string
	for _, p := range rep.Problems {
		got = append(got, p.Path)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("paths = %v\nwant    %v\n%s", got, want, rep.Error())
	}
	if n := strings.Count(rep.Error(), "\n") + 1; n != 5 {
		t.Errorf("Error() has %d lines, want 5:\n%s", n, rep.Error())
	}
}

func TestReport(t *testing.T) {
	var nilRep *Report
	if !nilRep.OK() || nilRep.Err() != nil {
		t.Error("a nil report must be OK")
	}
	ok := &Report{}
	if !ok.OK() || ok.Err() != nil || ok.Error() != "" {
		t.Error("an empty report must be OK with no error")
	}
	_, bad := Parse([]byte(`{"apiVersion":"x","editions":[]}`))
	err := bad.Err()
	if err == nil || !errors.Is(err, ErrInvalid) {
		t.Fatalf("Err() = %v; want an error wrapping ErrInvalid", err)
	}
	want := "$.apiVersion: apiVersion \"x\" is not supported by this uai; set it to \"uai.catalog/v1\"\n" +
		"$.editions: the catalog has no editions; add at least one"
	if err.Error() != want {
		t.Errorf("Error() =\n%s\nwant\n%s", err, want)
	}
}

func TestMistypedFieldDoesNotMaskOtherRules(t *testing.T) {
	// "ID" is unknown (the walk says so), and encoding/json alone would
	// have let it fill id; the real id "Bad" must still be checked.
	d := validDoc()
	edition(d, 0)["id"] = "Bad"
	edition(d, 0)["ID"] = "good"
	_, rep := Parse(mustJSON(t, d))
	var paths []string
	for _, p := range rep.Problems {
		paths = append(paths, p.Path)
	}
	if strings.Join(paths, " ") != "$.editions[0].ID $.editions[0].id" {
		t.Fatalf("paths = %v\n%s", paths, rep.Error())
	}
}

func TestValidateGoValue(t *testing.T) {
	c := Embedded()
	if rep := c.Validate(); !rep.OK() {
		t.Fatalf("embedded catalog fails Validate:\n%s", rep.Error())
	}
	c.Editions[2].Image = "fedora:44"
	c.Editions[5].Firmware = nil
	rep := c.Validate()
	if len(rep.Problems) != 2 || rep.Problems[0].Path != "$.editions[2].image" || rep.Problems[1].Path != "$.editions[5].firmware" {
		t.Fatalf("problems:\n%s", rep.Error())
	}
}

func TestEmptyOptionalListsRoundTrip(t *testing.T) {
	d := validDoc()
	edition(d, 0)["kargs"] = []any{}
	edition(d, 0)["aliases"] = []any{}
	c, rep := Parse(mustJSON(t, d))
	if !rep.OK() {
		t.Fatal(rep.Error())
	}
	if c.Editions[0].Kargs != nil || c.Editions[0].Aliases != nil {
		t.Errorf("empty lists should parse as nil so the catalog survives json.Marshal: %#v %#v", c.Editions[0].Kargs, c.Editions[0].Aliases)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	if err := os.WriteFile(good, mustJSON(t, validDoc()), 0o644); err != nil {
		t.Fatal(err)
	}
	c, rep, err := Load(good)
	if err != nil || !rep.OK() || c == nil || c.Editions[1].ID != "minimal" {
		t.Fatalf("Load(good) = %v, %v, %v", c, rep, err)
	}

	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"apiVersion":"uai.catalog/v1","editions":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	c, rep, err = Load(bad)
	if err != nil || c != nil || len(rep.Problems) != 1 || rep.Problems[0].Path != "$.editions" {
		t.Fatalf("Load(bad) = %v, %v, %v", c, rep, err)
	}

	_, _, err = Load(filepath.Join(dir, "missing.json"))
	if !errors.Is(err, os.ErrNotExist) || !strings.HasPrefix(err.Error(), "open catalog: ") {
		t.Fatalf("Load(missing) error = %v; want a wrapped os.ErrNotExist", err)
	}

	huge := filepath.Join(dir, "huge.json")
	if err := os.WriteFile(huge, []byte(strings.Repeat(" ", MaxSizeBytes+10)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, rep, err = Load(huge)
	if err != nil || len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0].Message, "larger than the limit") {
		t.Fatalf("Load(huge) = %v, %v", rep, err)
	}
}

func TestStripTransport(t *testing.T) {
	for _, tc := range []struct{ in, bare, transport string }{
		{"quay.io/a/b:1", "quay.io/a/b:1", ""},
		{"docker://quay.io/a/b:1", "quay.io/a/b:1", "docker://"},
		{"containers-storage:quay.io/a/b:1", "quay.io/a/b:1", "containers-storage:"},
		{"ostree-unverified-registry:quay.io/a/b:1", "quay.io/a/b:1", "ostree-unverified-registry:"},
		{"oci:5000/a:1", "oci:5000/a:1", ""}, // a host called oci with a port
		{"localhost:5000/a:1", "localhost:5000/a:1", ""},
	} {
		bare, tr := stripTransport(tc.in)
		if bare != tc.bare || tr != tc.transport {
			t.Errorf("stripTransport(%q) = %q, %q; want %q, %q", tc.in, bare, tr, tc.bare, tc.transport)
		}
	}
}

func TestValidImageRefs(t *testing.T) {
	for _, ref := range []string{
		"quay.io/fedora/fedora-bootc:44",
		"ghcr.io/ublue-os/bazzite:stable-44.20260908",
		"localhost/x:1",
		"localhost:5000/x/y/z:latest",
		"registry:5000/a_b/c__d/e--f:v1.2.3",
		"registry.example.com:8443/a/b:1",
		"127.0.0.1:5000/a:1",
	} {
		if msg := checkImageRef("image", ref); msg != "" {
			t.Errorf("%s: %s", ref, msg)
		}
	}
}

// TestSecretsStayOutOfMessages: a URL password in a catalog must not be
// echoed into the report, which reaches terminals and logs.
func TestSecretsStayOutOfMessages(t *testing.T) {
	for _, u := range []string{"https://user:hunter2@example.com/", "http://user:hunter2@example.com/", "ftp://user:hunter2@example.com/"} {
		d := validDoc()
		edition(d, 0)["docs"] = u
		_, rep := Parse(mustJSON(t, d))
		if rep.OK() || strings.Contains(rep.Error(), "hunter2") {
			t.Errorf("docs %q: report leaks or misses the password:\n%s", u, rep.Error())
		}
	}
}

// TestProblemFlood: a mangled catalog can have millions of problems; the
// report keeps the first maxProblems, in order, and says it stopped.
func TestProblemFlood(t *testing.T) {
	for name, doc := range map[string]string{
		"structural": `{"apiVersion":"uai.catalog/v1","editions":[` + strings.Repeat(`{},`, 3000) + `{}]}`,
		"semantic":   `{"apiVersion":"uai.catalog/v1","editions":[{"arches":[` + strings.Repeat(`"amd64",`, 3000) + `"amd64"]}]}`,
	} {
		_, rep := Parse([]byte(doc))
		if len(rep.Problems) != maxProblems+1 {
			t.Fatalf("%s: %d problems, want %d", name, len(rep.Problems), maxProblems+1)
		}
		last := rep.Problems[maxProblems]
		if last.Path != "$" || !strings.Contains(last.Message, "more problems are not listed") {
			t.Errorf("%s: last problem = %+v", name, last)
		}
		if first := rep.Problems[0]; !strings.HasPrefix(first.Path, "$.editions[0].") {
			t.Errorf("%s: first problem = %+v; want the first edition's", name, first)
		}
	}
}
