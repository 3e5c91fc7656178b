package catalog

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// parseSlowOnly is Parse without the fast path.
func parseSlowOnly(data []byte) (*Catalog, *Report) {
	rep := &Report{}
	if len(data) > MaxSizeBytes || len(bytes.TrimSpace(data)) == 0 {
		return Parse(data) // the size checks come before both paths
	}
	return parseSlow(data, rep)
}

// agree checks that Parse (fast path first) and the slow path alone give
// the same catalog and the same report for data.
func agree(t *testing.T, name string, data []byte) {
	t.Helper()
	c1, r1 := Parse(data)
	c2, r2 := parseSlowOnly(data)
	if !reflect.DeepEqual(c1, c2) {
		t.Errorf("%s: the fast path decodes\n%+v\nthe slow path\n%+v", name, c1, c2)
	}
	if !reflect.DeepEqual(r1.Problems, r2.Problems) {
		t.Errorf("%s: the fast path reports\n%s\nthe slow path\n%s", name, r1.Error(), r2.Error())
	}
}

// edgeDocs are documents at the edges of what the fast path accepts.
func edgeDocs(t testing.TB) map[string][]byte {
	valid := string(mustJSON(t, validDoc()))
	sub := func(old, new string) []byte {
		if !strings.Contains(valid, old) {
			t.Fatalf("the fixture lacks %q", old)
		}
		return []byte(strings.Replace(valid, old, new, 1))
	}
	return map[string][]byte{
		"valid":                      []byte(valid),
		"indented":                   func() []byte { var b bytes.Buffer; _ = indent(&b, valid); return b.Bytes() }(),
		"escapes":                    sub(`"name":"Full Edition"`, `"name":"Full \"Edition\" \\ \/ \u00e9 \ud83d\ude00"`),
		"lone surrogate":             sub(`"name":"Full Edition"`, `"name":"Full \ud800 Edition"`),
		"escaped key":                sub(`"name":"Full Edition"`, `"n\u0061me":"Full Edition"`),
		"tab and newline escapes":    sub(`"maturityNote":"A note."`, `"maturityNote":"A\tnote\n"`),
		"raw control character":      sub(`"maturityNote":"A note."`, "\"maturityNote\":\"A\tnote.\""),
		"invalid utf-8":              sub(`"maturityNote":"A note."`, "\"maturityNote\":\"A \xff note.\""),
		"invalid escape":             sub(`"maturityNote":"A note."`, `"maturityNote":"A \q note."`),
		"negative zero":              sub(`"minDiskGiB":32`, `"minDiskGiB":-0`),
		"negative":                   sub(`"minDiskGiB":32`, `"minDiskGiB":-32`),
		"exponent":                   sub(`"minDiskGiB":32`, `"minDiskGiB":3.2e1`),
		"fraction":                   sub(`"minDiskGiB":32`, `"minDiskGiB":32.0`),
		"leading zero":               sub(`"minDiskGiB":32`, `"minDiskGiB":032`),
		"huge":                       sub(`"minDiskGiB":32`, `"minDiskGiB":99999999999999999999`),
		"null":                       sub(`"minDiskGiB":32`, `"minDiskGiB":null`),
		"bool":                       sub(`"minDiskGiB":32`, `"minDiskGiB":true`),
		"duplicate key":              sub(`"minDiskGiB":32`, `"minDiskGiB":32,"minDiskGiB":33`),
		"case-folded key":            sub(`"minDiskGiB":32`, `"mindiskgib":32`),
		"empty kargs":                sub(`"kargs":["quiet","console=ttyS0,115200"]`, `"kargs":[]`),
		"empty arches":               sub(`"arches":["amd64","arm64"]`, `"arches":[]`),
		"empty signature":            sub(`"signature":{"policy":"none"}`, `"signature":{}`),
		"no editions":                []byte(`{"apiVersion":"uai.catalog/v1","editions":[]}`),
		"empty object":               []byte(`{}`),
		"array":                      []byte(`[]`),
		"trailing garbage":           []byte(valid + "x"),
		"trailing whitespace":        []byte(valid + " \n\t\r"),
		"second object":              []byte(valid + valid),
		"byte order mark":            append([]byte("\xef\xbb\xbf"), valid...),
		"truncated":                  []byte(valid[:len(valid)/2]),
		"trailing comma":             sub(`"arches":["amd64","arm64"]`, `"arches":["amd64","arm64",]`),
		"missing colon":              sub(`"minDiskGiB":32`, `"minDiskGiB" 32`),
		"unknown member":             sub(`"minDiskGiB":32`, `"minDiskGiB":32,"x":1`),
		"nested list in string list": sub(`"arches":["amd64","arm64"]`, `"arches":[["amd64"]]`),
		"edition is a string":        []byte(`{"apiVersion":"uai.catalog/v1","editions":["x"]}`),
	}
}

func indent(b *bytes.Buffer, s string) error { return json.Indent(b, []byte(s), "", "\t") }

// TestFastPathAgreesWithSlowPath runs every document the tests know through
// both paths: the rule cases, the fuzz seeds, the edge documents, the
// embedded catalog and the benchmark catalog.
func TestFastPathAgreesWithSlowPath(t *testing.T) {
	for _, rc := range ruleCases {
		agree(t, "rule "+rc.name, rc.doc(t))
	}
	for name, doc := range edgeDocs(t) {
		agree(t, "edge "+name, doc)
	}
	for name, doc := range fuzzSeeds(t) {
		agree(t, "seed "+name, doc)
	}
	agree(t, "embedded", EmbeddedJSON())
	agree(t, "bench", benchCatalog(50))
}

// TestFastPathIsTaken: valid catalogs must not fall to the slow path, or
// the benchmark's promise is empty.
func TestFastPathIsTaken(t *testing.T) {
	for name, doc := range map[string][]byte{
		"embedded": EmbeddedJSON(), "bench": benchCatalog(100), "fixture": mustJSON(t, validDoc()),
		"escapes": edgeDocs(t)["escapes"], "indented": edgeDocs(t)["indented"], "empty kargs": edgeDocs(t)["empty kargs"],
	} {
		if _, ok := parseFast(doc); !ok {
			t.Errorf("%s: the fast path gave up on a clean catalog", name)
		}
	}
	for _, name := range []string{"duplicate key", "case-folded key", "null", "fraction", "trailing garbage", "invalid utf-8", "escaped key"} {
		if _, ok := parseFast(edgeDocs(t)[name]); ok {
			t.Errorf("%s: the fast path accepted what only the slow path can report", name)
		}
	}
}

// fuzzSeeds reads the seed corpus of FuzzParse.
func fuzzSeeds(t testing.TB) map[string][]byte {
	dir := filepath.Join("testdata", "fuzz", "FuzzParse")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		_, lit, ok := strings.Cut(string(raw), "\n")
		lit = strings.TrimSpace(lit)
		if !ok || !strings.HasPrefix(lit, "[]byte(") || !strings.HasSuffix(lit, ")") {
			t.Fatalf("%s is not a go test fuzz v1 file with one []byte", e.Name())
		}
		s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lit, "[]byte("), ")"))
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		out[e.Name()] = []byte(s)
	}
	return out
}

// FuzzFastPath: for any input, the fast path and the slow path agree, and
// the hand-written matchers agree with the patterns they stand for. (One
// target for both keeps the fuzz stage of make test short.)
func FuzzFastPath(f *testing.F) {
	for _, doc := range edgeDocs(f) {
		f.Add(doc)
	}
	f.Add(EmbeddedJSON())
	for _, s := range matcherSamples {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		agree(t, "fuzz", data)
		checkMatchers(t, string(data))
	})
}

// The patterns the hand-written matchers stand for.
var (
	idRE     = regexp.MustCompile(idPattern)
	digestRE = regexp.MustCompile(digestPattern)
	imageRE  = regexp.MustCompile(imagePattern)
)

// matcherSamples are near misses for the id, digest, image and URL
// matchers.
var matcherSamples = []string{
	"", "a", "-a", "a-", "a--b", "A", "fedora-bootc-44", "a_b", "a.b",
	"sha256:" + strings.Repeat("a", 64), "sha256:" + strings.Repeat("A", 64), "sha256:" + strings.Repeat("a", 63), "sha512:" + strings.Repeat("a", 64),
	"quay.io/fedora/fedora-bootc:44", "localhost/x:1", "localhost:5000/x:1", "registry:5000/x:1", "registry/x:1", "a.b/c", "a.b/c:",
	"a.b/c:.x", "a.b/c:-x", "a.b/c:_x", "a.b/C:1", "a.b/c__d:1", "a.b/c___d:1", "a.b/c--d:1", "a.b/c.-d:1", "a.b/c/:1", "a.b//c:1",
	"-a.b/c:1", "a-.b/c:1", "a..b/c:1", "a.b:/c:1", "a.b:x/c:1", "a.b/c:1:2", "a.b/c:" + strings.Repeat("t", 128), "a.b/c:" + strings.Repeat("t", 129),
	"https://example.com", "https://example.com/", "https:///x", "https://a@b.c/", "https://a.b/c?d", "https://a.b/%20", "https://a.b:443/", "https://a b/",
}

func checkMatchers(t *testing.T, s string) {
	t.Helper()
	if matchID(s) != idRE.MatchString(s) {
		t.Errorf("matchID(%q) = %v; the pattern says %v", s, matchID(s), idRE.MatchString(s))
	}
	if matchDigest(s) != digestRE.MatchString(s) {
		t.Errorf("matchDigest(%q) = %v; the pattern says %v", s, matchDigest(s), digestRE.MatchString(s))
	}
	if matchImage(s) != imageRE.MatchString(s) {
		t.Errorf("matchImage(%q) = %v; the pattern says %v", s, matchImage(s), imageRE.MatchString(s))
	}
	if simpleHTTPS(s) {
		var rep Report
		checkURL(&rep, loc{"$", "homepage"}, s)
		if !rep.OK() {
			t.Errorf("simpleHTTPS(%q) passes a link the full check refuses: %s", s, rep.Error())
		}
	}
}

func TestMatchersAgreeWithPatterns(t *testing.T) {
	samples := append([]string{}, matcherSamples...)
	for _, e := range Embedded().Editions {
		samples = append(samples, e.ID, e.Image, e.Digest, e.Homepage, e.Docs)
		samples = append(samples, e.Aliases...)
	}
	for _, s := range samples {
		checkMatchers(t, s)
	}
}
