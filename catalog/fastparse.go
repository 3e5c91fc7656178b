package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// The fast path reads a clean catalog (valid JSON, only known members, each
// once, each of the right JSON type, every required member present) in one
// pass straight into the Go value. At the first thing that is not clean it
// gives up, and Parse runs the slow path, which builds a tree token by token
// and reports every problem with its path. So the fast path never decides
// what is wrong; it only has to agree with the slow path on what is clean,
// which TestFastPathAgreesWithSlowPath and FuzzFastPath check.
//
// Why bother: a 1,000-edition catalog took about 55 ms through the token
// reader (encoding/json's Decoder.Token allocates per token and builds an
// error value at the end of every scalar); the fast path takes a few.

// fastSetter decodes one member's value into the value being built.
type fastSetter[T any] func(s *fastScanner, v *T) bool

// fastObject is the fast path's view of one object of the field table:
// setters in the table's order, and the bit mask of required members.
type fastObject[T any] struct {
	names    []string
	setters  []fastSetter[T]
	required uint64
}

// newFastObject pairs the setters with the field table. It panics when the
// two disagree, so a field added to one and not the other fails every test
// at once instead of sending valid catalogs down the slow path (or, worse,
// letting the fast path accept a member the table does not know).
func newFastObject[T any](spec *object, setters map[string]fastSetter[T]) *fastObject[T] {
	if len(spec.fields) > 64 {
		panic("catalog: the fast path tracks at most 64 members per object")
	}
	fo := &fastObject[T]{}
	for i, f := range spec.fields {
		set, ok := setters[f.name]
		if !ok {
			panic(fmt.Sprintf("catalog: the fast path has no setter for %s.%s", spec.name, f.name))
		}
		fo.names = append(fo.names, f.name)
		fo.setters = append(fo.setters, set)
		if f.required {
			fo.required |= 1 << i
		}
	}
	if len(setters) != len(spec.fields) {
		panic(fmt.Sprintf("catalog: the fast path has setters for members of %s that the field table lacks", spec.name))
	}
	return fo
}

var (
	fastSignature = newFastObject(signatureObject, map[string]fastSetter[Signature]{
		"policy":    fastString(func(v *Signature) *string { return &v.Policy }),
		"publicKey": fastString(func(v *Signature) *string { return &v.PublicKey }),
	})
	fastEdition = newFastObject(editionObject, map[string]fastSetter[Edition]{
		"id":                fastString(func(e *Edition) *string { return &e.ID }),
		"name":              fastString(func(e *Edition) *string { return &e.Name }),
		"category":          fastString(func(e *Edition) *string { return &e.Category }),
		"description":       fastString(func(e *Edition) *string { return &e.Description }),
		"image":             fastString(func(e *Edition) *string { return &e.Image }),
		"aliases":           fastStrings(func(e *Edition) *[]string { return &e.Aliases }),
		"digest":            fastString(func(e *Edition) *string { return &e.Digest }),
		"arches":            fastStrings(func(e *Edition) *[]string { return &e.Arches }),
		"firmware":          fastStrings(func(e *Edition) *[]string { return &e.Firmware }),
		"minDiskGiB":        fastInt(func(e *Edition) *int { return &e.MinDiskGiB }),
		"minRAMMiB":         fastInt(func(e *Edition) *int { return &e.MinRAMMiB }),
		"defaultFilesystem": fastString(func(e *Edition) *string { return &e.DefaultFilesystem }),
		"kargs":             fastStrings(func(e *Edition) *[]string { return &e.Kargs }),
		"signature": func(s *fastScanner, e *Edition) bool {
			return readFastObject(s, fastSignature, &e.Signature)
		},
		"homepage":     fastString(func(e *Edition) *string { return &e.Homepage }),
		"docs":         fastString(func(e *Edition) *string { return &e.Docs }),
		"maintainer":   fastString(func(e *Edition) *string { return &e.Maintainer }),
		"maturity":     fastString(func(e *Edition) *string { return &e.Maturity }),
		"maturityNote": fastString(func(e *Edition) *string { return &e.MaturityNote }),
		"source":       fastString(func(e *Edition) *string { return &e.Source }),
	})
	fastCatalog = newFastObject(catalogObject, map[string]fastSetter[Catalog]{
		"apiVersion": fastString(func(c *Catalog) *string { return &c.APIVersion }),
		"editions": func(s *fastScanner, c *Catalog) bool {
			// Like encoding/json: an empty list is an empty, non-nil slice.
			// Sized by counting id keys: growing a slice of a thousand
			// editions copied it about ten times.
			c.Editions = make([]Edition, 0, min(bytes.Count(s.data, []byte(`"id"`)), len(s.data)/64))
			return s.list(func() bool {
				c.Editions = append(c.Editions, Edition{})
				return readFastObject(s, fastEdition, &c.Editions[len(c.Editions)-1])
			})
		},
	})
)

func fastString[T any](field func(*T) *string) fastSetter[T] {
	return func(s *fastScanner, v *T) bool {
		str, ok := s.str()
		*field(v) = str
		return ok
	}
}

func fastStrings[T any](field func(*T) *[]string) fastSetter[T] {
	return func(s *fastScanner, v *T) bool {
		out := []string{}
		ok := s.list(func() bool {
			str, ok := s.str()
			out = append(out, str)
			return ok
		})
		*field(v) = out
		return ok
	}
}

func fastInt[T any](field func(*T) *int) fastSetter[T] {
	return func(s *fastScanner, v *T) bool {
		n, ok := s.int()
		*field(v) = n
		return ok
	}
}

// parseFast decodes data when it is clean; ok is false otherwise, and then
// c is meaningless.
func parseFast(data []byte) (c Catalog, ok bool) {
	s := &fastScanner{data: data, text: string(data)}
	s.ws()
	if !readFastObject(s, fastCatalog, &c) {
		return Catalog{}, false
	}
	s.ws()
	return c, s.pos == len(s.data)
}

// readFastObject reads one object of the kind fo describes into v.
func readFastObject[T any](s *fastScanner, fo *fastObject[T], v *T) bool {
	if !s.consume('{') {
		return false
	}
	var seen uint64
	s.ws()
	if s.peek() == '}' {
		s.pos++
		return fo.required == 0
	}
	for {
		key, ok := s.key()
		if !ok {
			return false
		}
		i := fo.index(key)
		if i < 0 || seen&(1<<i) != 0 {
			return false // unknown or duplicate: the slow path names it
		}
		seen |= 1 << i
		s.ws()
		if !s.consume(':') {
			return false
		}
		s.ws()
		if !fo.setters[i](s, v) {
			return false
		}
		s.ws()
		switch s.next() {
		case ',':
			s.ws()
		case '}':
			return seen&fo.required == fo.required
		default:
			return false
		}
	}
}

func (fo *fastObject[T]) index(key []byte) int {
	for i, n := range fo.names {
		if n == string(key) { // no allocation: the compiler compares in place
			return i
		}
	}
	return -1
}

// fastScanner walks the bytes of a JSON document.
type fastScanner struct {
	data []byte
	pos  int
	// text is data as one string. String values without escapes are
	// slices of it: one copy of the document instead of an allocation
	// per value (twenty per edition). The strings keep the document
	// alive, which costs no more than the catalog itself.
	text string
}

func (s *fastScanner) ws() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

func (s *fastScanner) peek() byte {
	if s.pos < len(s.data) {
		return s.data[s.pos]
	}
	return 0
}

func (s *fastScanner) next() byte {
	b := s.peek()
	s.pos++
	return b
}

func (s *fastScanner) consume(b byte) bool {
	if s.peek() != b {
		return false
	}
	s.pos++
	return true
}

// list reads "[item, item]" calling item for each element.
func (s *fastScanner) list(item func() bool) bool {
	if !s.consume('[') {
		return false
	}
	s.ws()
	if s.consume(']') {
		return true
	}
	for {
		if !item() {
			return false
		}
		s.ws()
		switch s.next() {
		case ',':
			s.ws()
		case ']':
			return true
		default:
			return false
		}
	}
}

// rawString finds the string at pos and returns its bytes between the
// quotes, whether it has escapes, and whether it has non-ASCII bytes.
func (s *fastScanner) rawString() (raw []byte, escaped, nonASCII, ok bool) {
	if !s.consume('"') {
		return nil, false, false, false
	}
	start := s.pos
	for {
		// Skip the plain bytes with a table lookup; most of a catalog is
		// the inside of strings.
		for s.pos < len(s.data) && !stringSpecial[s.data[s.pos]] {
			s.pos++
		}
		if s.pos >= len(s.data) { // past the end: a trailing backslash skips two
			return nil, false, false, false
		}
		switch c := s.data[s.pos]; {
		case c == '"':
			raw = s.data[start:s.pos]
			s.pos++
			return raw, escaped, nonASCII, true
		case c == '\\':
			escaped = true
			s.pos += 2
		case c < 0x20:
			return nil, false, false, false // a raw control character is a syntax error
		default:
			nonASCII = true
			s.pos++
		}
	}
}

// stringSpecial marks the bytes that end a run of plain string content.
var stringSpecial = func() (t [256]bool) {
	for c := range t {
		t[c] = c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf
	}
	return t
}()

// key reads an object key. Keys with escapes or non-ASCII bytes are never
// field names as written, so they go to the slow path, which compares them
// exactly as encoding/json would.
func (s *fastScanner) key() ([]byte, bool) {
	raw, escaped, nonASCII, ok := s.rawString()
	if !ok || escaped || nonASCII {
		return nil, false
	}
	return raw, true
}

// str reads a string value with encoding/json's semantics: escapes are
// decoded by encoding/json itself (they are rare in catalogs), and invalid
// UTF-8, which encoding/json would silently replace, goes to the slow path.
func (s *fastScanner) str() (string, bool) {
	start := s.pos
	raw, escaped, nonASCII, ok := s.rawString()
	switch {
	case !ok:
		return "", false
	case nonASCII && !utf8.Valid(raw):
		return "", false
	case escaped:
		if out, ok := unescape(raw); ok {
			return out, true
		}
		// \u escapes (surrogate pairs, invalid ones) are left to
		// encoding/json, so that they decode exactly as it decodes them.
		var out string
		if err := json.Unmarshal(s.data[start:s.pos], &out); err != nil {
			return "", false
		}
		return out, true
	}
	return s.text[s.pos-1-len(raw) : s.pos-1], true
}

// unescape decodes the one-character escapes; PEM keys in catalogs are
// full of "\n". It reports false for \u escapes and anything unknown.
func unescape(raw []byte) (string, bool) {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i == len(raw) {
			return "", false
		}
		switch raw[i] {
		case '"', '\\', '/':
			out = append(out, raw[i])
		case 'n':
			out = append(out, '\n')
		case 't':
			out = append(out, '\t')
		case 'r':
			out = append(out, '\r')
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		default:
			return "", false
		}
	}
	return string(out), true
}

// int reads a whole number in int range written as JSON digits; fractions,
// exponents and anything out of range go to the slow path, which says why.
func (s *fastScanner) int() (int, bool) {
	start := s.pos
	if s.peek() == '-' {
		s.pos++
	}
	switch c := s.peek(); {
	case c == '0':
		s.pos++
	case c >= '1' && c <= '9':
		for c := s.peek(); c >= '0' && c <= '9'; c = s.peek() {
			s.pos++
		}
	default:
		return 0, false
	}
	switch s.peek() {
	case '.', 'e', 'E', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return 0, false // a fraction, an exponent, or a leading zero ("01")
	}
	n, err := strconv.ParseInt(string(s.data[start:s.pos]), 10, 0)
	if err != nil {
		return 0, false
	}
	return int(n), true
}
