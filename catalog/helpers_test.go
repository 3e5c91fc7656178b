package catalog

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files, docs/catalog.schema.json, docs/catalog.example.json and the field reference in docs/catalog.md")

// testKey is a real ECDSA P-256 public key (the Universal Blue cosign key),
// so the sigstore cases exercise real key parsing.
const testKey = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEHLRpBfPRYiMl9wb7s6fx47PzzNWu\n3zyJgXhWEvxoOgwv9CpwjbvUwR9qHxNMWkJhuGE6cjDA2hpy1I6NbA+24Q==\n-----END PUBLIC KEY-----\n"

// validDoc is a small catalog that uses every field; the rule tests break
// it one rule at a time.
func validDoc() map[string]any {
	return map[string]any{
		"apiVersion": APIVersion,
		"editions": []any{
			map[string]any{
				"id":                "full",
				"name":              "Full Edition",
				"category":          "desktop",
				"description":       "An edition that sets every field.",
				"image":             "registry.example.com/acme/full:1.0",
				"aliases":           []any{"mirror.example.com/acme/full:1.0"},
				"digest":            "sha256:" + strings.Repeat("ab", 32),
				"arches":            []any{"amd64", "arm64"},
				"firmware":          []any{"uefi", "bios"},
				"minDiskGiB":        32,
				"minRAMMiB":         4096,
				"defaultFilesystem": "btrfs",
				"kargs":             []any{"quiet", "console=ttyS0,115200"},
				"signature":         map[string]any{"policy": "sigstore", "publicKey": testKey},
				"homepage":          "https://example.com/",
				"docs":              "https://example.com/docs",
				"maintainer":        "Acme",
				"maturity":          "incubating",
				"maturityNote":      "A note.",
				"source":            "Made up for tests.",
			},
			map[string]any{
				"id":                "minimal",
				"name":              "Minimal",
				"category":          "server",
				"description":       "Only the required fields.",
				"image":             "localhost:5000/minimal:2",
				"arches":            []any{"arm64"},
				"firmware":          []any{"uefi"},
				"minDiskGiB":        10,
				"minRAMMiB":         2048,
				"defaultFilesystem": "xfs",
				"signature":         map[string]any{"policy": "none"},
				"maturity":          "sandbox",
			},
		},
	}
}

func edition(doc map[string]any, i int) map[string]any {
	return doc["editions"].([]any)[i].(map[string]any)
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./catalog/ -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is out of date (run go test ./catalog/ -update and review the diff)\n--- got ---\n%s", path, got)
	}
}

// schemaChecker evaluates the subset of JSON Schema 2020-12 that Schema()
// emits, so the tests can hold the generated schema to the same documents
// and mistakes as the Go validator. An unknown keyword fails the test, so
// the schema cannot grow a keyword this checker silently ignores.
type schemaChecker struct {
	t    testing.TB
	root map[string]any
}

func newSchemaChecker(t testing.TB) *schemaChecker {
	var root map[string]any
	if err := json.Unmarshal(Schema(), &root); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	return &schemaChecker{t: t, root: root}
}

// accepts decodes doc and reports whether the schema accepts it.
func (sc *schemaChecker) accepts(doc []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return false
	}
	return sc.valid(sc.root, v)
}

func (sc *schemaChecker) valid(s any, v any) bool {
	switch s := s.(type) {
	case bool:
		return s
	case map[string]any:
		for kw, arg := range s {
			if !sc.keyword(s, kw, arg, v) {
				return false
			}
		}
		return true
	}
	sc.t.Fatalf("schema node %T", s)
	return false
}

func (sc *schemaChecker) keyword(s map[string]any, kw string, arg, v any) bool {
	obj, isObj := v.(map[string]any)
	arr, isArr := v.([]any)
	str, isStr := v.(string)
	num, isNum := v.(json.Number)
	switch kw {
	case "$schema", "title", "description", "$defs", "format", "then", "else":
		return true
	case "$ref":
		name, ok := strings.CutPrefix(arg.(string), "#/$defs/")
		def := sc.root["$defs"].(map[string]any)[name]
		if !ok || def == nil {
			sc.t.Fatalf("unresolvable $ref %v", arg)
		}
		return sc.valid(def, v)
	case "type":
		switch arg {
		case "object":
			return isObj
		case "array":
			return isArr
		case "string":
			return isStr
		case "integer":
			if !isNum {
				return false
			}
			_, err := strconv.ParseInt(num.String(), 10, 64)
			return err == nil
		}
		sc.t.Fatalf("type %v", arg)
	case "const":
		return reflect.DeepEqual(arg, v)
	case "enum":
		for _, e := range arg.([]any) {
			if reflect.DeepEqual(e, v) {
				return true
			}
		}
		return false
	case "pattern":
		return !isStr || regexp.MustCompile(arg.(string)).MatchString(str)
	case "minLength":
		return !isStr || len([]rune(str)) >= int(arg.(float64))
	case "maxLength":
		return !isStr || len([]rune(str)) <= int(arg.(float64))
	case "minimum", "maximum":
		if !isNum {
			return true
		}
		f, err := num.Float64()
		if err != nil {
			return false
		}
		if kw == "minimum" {
			return f >= arg.(float64)
		}
		return f <= arg.(float64)
	case "minItems":
		return !isArr || len(arr) >= int(arg.(float64))
	case "uniqueItems":
		if !isArr || arg != true {
			return true
		}
		for i := range arr {
			for j := range i {
				if reflect.DeepEqual(arr[i], arr[j]) {
					return false
				}
			}
		}
		return true
	case "items":
		for _, item := range arr {
			if !sc.valid(arg, item) {
				return false
			}
		}
		return true
	case "contains":
		if !isArr {
			return true
		}
		for _, item := range arr {
			if sc.valid(arg, item) {
				return true
			}
		}
		return false
	case "properties":
		for k, sub := range arg.(map[string]any) {
			if pv, ok := obj[k]; ok && !sc.valid(sub, pv) {
				return false
			}
		}
		return true
	case "required":
		for _, k := range arg.([]any) {
			if _, ok := obj[k.(string)]; isObj && !ok {
				return false
			}
		}
		return true
	case "additionalProperties":
		props, _ := s["properties"].(map[string]any)
		for k, pv := range obj {
			if _, ok := props[k]; !ok && !sc.valid(arg, pv) {
				return false
			}
		}
		return true
	case "not":
		return !sc.valid(arg, v)
	case "allOf":
		for _, sub := range arg.([]any) {
			if !sc.valid(sub, v) {
				return false
			}
		}
		return true
	case "if":
		if sc.valid(arg, v) {
			if then, ok := s["then"]; ok {
				return sc.valid(then, v)
			}
			return true
		}
		if els, ok := s["else"]; ok {
			return sc.valid(els, v)
		}
		return true
	}
	sc.t.Fatalf("the schema uses keyword %q, which the test checker does not know; teach it", kw)
	return false
}

func ExampleWriteTable() {
	c := &Catalog{APIVersion: APIVersion, Editions: []Edition{
		{ID: "fedora-bootc-44", Name: "Fedora bootc 44", Category: "server", Maturity: "graduated", Image: "quay.io/fedora/fedora-bootc:44"},
		{ID: "fedora-silverblue", Name: "Fedora Silverblue 44", Category: "desktop", Maturity: "graduated", Image: "quay.io/fedora/fedora-silverblue:44"},
	}}
	if err := WriteTable(os.Stdout, c); err != nil {
		fmt.Println(err)
	}
	// Output:
	// ID                 NAME                  CATEGORY  MATURITY   IMAGE
	// fedora-silverblue  Fedora Silverblue 44  desktop   graduated  quay.io/fedora/fedora-silverblue:44
	// fedora-bootc-44    Fedora bootc 44       server    graduated  quay.io/fedora/fedora-bootc:44
}
