package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

// ErrInvalid is what a Report with problems wraps, so callers can map an
// invalid catalog to the "invalid input" exit code with errors.Is.
var ErrInvalid = errors.New("invalid catalog")

// Problem is one thing wrong with a catalog.
type Problem struct {
	// Path is a JSON path into the document, like "$.editions[3].image".
	Path string `json:"path"`
	// Message says what is wrong, with the offending value, and the fix.
	Message string `json:"message"`
}

func (p Problem) String() string { return p.Path + ": " + p.Message }

// Report lists every problem found in a catalog; an empty report is a valid
// catalog. Validation reports all problems at once so an author fixes a file
// in one pass, not one error per run.
type Report struct {
	Problems []Problem `json:"problems"`

	// dropped counts problems beyond maxProblems, which are counted but not
	// kept: a hostile or mangled 4 MiB catalog can have millions.
	dropped int
}

// maxProblems bounds a report. A real catalog with more problems than this
// needs fixing from the top anyway.
const maxProblems = 1000

// OK is true when there are no problems.
func (r *Report) OK() bool { return r == nil || len(r.Problems) == 0 }

// Error renders one line per problem.
func (r *Report) Error() string {
	if r.OK() {
		return ""
	}
	lines := make([]string, len(r.Problems))
	for i, p := range r.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.Is(err, ErrInvalid) recognise a report.
func (r *Report) Unwrap() error { return ErrInvalid }

// Err is nil when the report is OK and the report itself otherwise. Use it
// instead of converting a *Report to error, which would be a non-nil error
// even for an empty report.
func (r *Report) Err() error {
	if r.OK() {
		return nil
	}
	return r
}

func (r *Report) add(path, format string, args ...any) {
	if len(r.Problems) >= maxProblems {
		r.dropped++
		return
	}
	r.Problems = append(r.Problems, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

// Parse reads a catalog strictly and validates it. It never stops at the
// first problem: unknown, duplicate, missing and mistyped fields and every
// broken rule are all in the report. The catalog is nil unless the report is
// OK, so an invalid catalog cannot be used by mistake.
func Parse(data []byte) (*Catalog, *Report) {
	rep := &Report{}
	if len(data) > MaxSizeBytes {
		rep.add("$", "the catalog is larger than the limit of %d bytes; split it or remove editions", MaxSizeBytes)
		return nil, rep
	}
	if len(bytes.TrimSpace(data)) == 0 {
		rep.add("$", "the catalog is empty; write a JSON object with apiVersion %q and editions", APIVersion)
		return nil, rep
	}
	if c, ok := parseFast(data); ok {
		// Structurally clean: only the rules are left to check.
		normalize(&c)
		validate(&c, rep)
		if !rep.finish().OK() {
			return nil, rep
		}
		return &c, rep
	}
	return parseSlow(data, rep)
}

// parseSlow is Parse for a document the fast path gave up on: it finds and
// reports every structural problem with its path, then the rules.
func parseSlow(data []byte, rep *Report) (*Catalog, *Report) {
	// Pass 1: a generic tree, read token by token so that duplicate keys and
	// the exact path of every unknown or mistyped member can be reported.
	tree, ok := decodeTree(data, rep)
	if !ok {
		return nil, rep
	}
	top, isObj := tree.(*jsonObject)
	if !isObj {
		rep.add("$", "the catalog is a JSON %s; it must be an object with apiVersion and editions", jsonType(tree))
		return nil, rep
	}
	var structural Report
	bad := map[string]bool{}
	walkObject(top, catalogObject, "$", &structural, bad)
	if structural.dropped > 0 {
		// The document is a flood of structural errors; the rules would
		// only add noise, and decoding it twice more costs seconds.
		rep.Problems = append(rep.Problems, structural.Problems...)
		rep.dropped += structural.dropped
		return nil, rep.finish()
	}

	// Pass 2: the typed value. DisallowUnknownFields is a second guard: if
	// it fails where the walk saw nothing, the walk has a gap, and the
	// decoder's message is still better than silence.
	var c Catalog
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err := dec.Decode(&c)
	switch {
	case !structural.OK():
		// Decode what is left once the reported members are taken out, so
		// that the rules below see what the author wrote in the known
		// fields: encoding/json would otherwise let "ID" fill id, matching
		// names case-insensitively, and hide the real id's problems.
		c = Catalog{}
		if b, err := json.Marshal(prune(top, "$", bad)); err == nil {
			_ = json.Unmarshal(b, &c) // best effort; what failed is already reported
		}
	case err != nil:
		structural.add("$", "%v; fix the field it names", err)
	}
	normalize(&c)

	// Pass 3: the rules. Problems at a path that was already missing or
	// mistyped are dropped: "name must be a string" is the useful message,
	// "name is empty" after it is noise.
	var semantic Report
	validate(&c, &semantic)
	rep.Problems = append(rep.Problems, structural.Problems...)
	for _, p := range semantic.Problems {
		if !under(p.Path, bad) {
			rep.Problems = append(rep.Problems, p)
		}
	}
	rep.dropped += semantic.dropped
	if !rep.finish().OK() {
		return nil, rep
	}
	return &c, rep
}

// finish orders the problems by edition, cuts the list at maxProblems and
// adds a last problem saying that some were left out.
func (r *Report) finish() *Report {
	r.Problems = sortByEdition(r.Problems)
	if len(r.Problems) > maxProblems {
		r.dropped += len(r.Problems) - maxProblems
		r.Problems = r.Problems[:maxProblems]
	}
	if r.dropped > 0 {
		r.Problems = append(r.Problems, Problem{Path: "$", Message: fmt.Sprintf("more problems are not listed (the limit is %d); fix the ones above and read the catalog again", maxProblems)})
		r.dropped = 0
	}
	return r
}

// Validate checks a catalog built in Go (not read from JSON) against the
// same rules Parse applies.
func (c *Catalog) Validate() *Report {
	rep := &Report{}
	validate(c, rep)
	return rep.finish()
}

// Load reads and parses a local catalog file. Reading errors are returned as
// errors; what is wrong with the content is in the report.
func Load(path string) (*Catalog, *Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("open catalog: %w", err)
	}
	defer f.Close()
	// Read one byte past the limit so Parse can report the oversize file
	// without us reading a file of any size into memory.
	data, err := io.ReadAll(io.LimitReader(f, MaxSizeBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read catalog %s: %w", path, err)
	}
	c, rep := Parse(data)
	return c, rep, nil
}

// normalize makes empty optional lists nil, so that a parsed catalog equals
// itself after json.Marshal (which omits empty lists) and Parse again.
func normalize(c *Catalog) {
	for i := range c.Editions {
		e := &c.Editions[i]
		if len(e.Aliases) == 0 {
			e.Aliases = nil
		}
		if len(e.Kargs) == 0 {
			e.Kargs = nil
		}
	}
}

// under is true when path is, or is inside, one of the bad paths.
func under(path string, bad map[string]bool) bool {
	for p := path; ; {
		if bad[p] {
			return true
		}
		i := strings.LastIndexAny(p, ".[")
		if i <= 0 {
			return false
		}
		p = p[:i]
	}
}

// sortByEdition keeps catalog-level problems first and then groups problems
// by edition in document order, without reordering within a group. The
// index is computed once per problem, not once per comparison.
func sortByEdition(ps []Problem) []Problem {
	type keyed struct {
		idx int
		p   Problem
	}
	ks := make([]keyed, len(ps))
	for i, p := range ps {
		ks[i] = keyed{editionIndex(p.Path), p}
	}
	slices.SortStableFunc(ks, func(a, b keyed) int { return a.idx - b.idx })
	for i := range ks {
		ps[i] = ks[i].p
	}
	return ps
}

func editionIndex(path string) int {
	rest, ok := strings.CutPrefix(path, "$.editions[")
	if !ok {
		return -1
	}
	end := strings.IndexByte(rest, ']')
	if end < 0 {
		return -1
	}
	n, err := strconv.Atoi(rest[:end])
	if err != nil {
		return -1
	}
	return n
}

// jsonObject keeps member order so that problems come out in document order.
type jsonObject struct {
	keys []string
	vals map[string]any
}

// MarshalJSON writes the members in document order.
func (o *jsonObject) MarshalJSON() ([]byte, error) {
	m := make(ordered, len(o.keys))
	for i, k := range o.keys {
		m[i] = member{k, o.vals[k]}
	}
	return m.MarshalJSON()
}

// prune returns a copy of v without the members at bad paths; bad list items
// become null so that the indices of the others, and their paths, stay put.
func prune(v any, path string, bad map[string]bool) any {
	switch v := v.(type) {
	case *jsonObject:
		out := &jsonObject{vals: map[string]any{}}
		for _, k := range v.keys {
			p := memberPath(path, k)
			if bad[p] {
				continue
			}
			out.keys = append(out.keys, k)
			out.vals[k] = prune(v.vals[k], p, bad)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, item := range v {
			p := fmt.Sprintf("%s[%d]", path, i)
			if !bad[p] {
				out[i] = prune(item, p, bad)
			}
		}
		return out
	default:
		return v
	}
}

// memberPath is the JSON path of member k of the object at path.
func memberPath(path, k string) string {
	if plainKey(k) {
		return path + "." + k
	}
	return path + "[" + strconv.Quote(k) + "]"
}

// decodeTree reads data into jsonObject / []any / string / json.Number /
// bool / nil, reporting duplicate keys. It returns false on a syntax error
// (after reporting it), since nothing after that point can be trusted.
func decodeTree(data []byte, rep *Report) (any, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := readValue(dec, "$", 0, rep)
	if err != nil {
		rep.add("$", "%s", syntaxMessage(data, dec, err))
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		rep.add("$", "there is more after the catalog object (at %s); a catalog file holds exactly one JSON object", position(data, dec.InputOffset()))
		return nil, false
	}
	return v, true
}

var errTooDeep = errors.New("too deeply nested")

func readValue(dec *json.Decoder, path string, depth int, rep *Report) (any, error) {
	if depth > maxDepth {
		return nil, errTooDeep
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	d, isDelim := tok.(json.Delim)
	if !isDelim {
		return tok, nil
	}
	switch d {
	case '{':
		obj := &jsonObject{vals: map[string]any{}}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			key, _ := kt.(string) // the decoder only yields string keys
			childPath := memberPath(path, key)
			v, err := readValue(dec, childPath, depth+1, rep)
			if err != nil {
				return nil, err
			}
			if _, dup := obj.vals[key]; dup {
				// encoding/json keeps the last one silently; an author who
				// wrote a key twice meant only one of them.
				rep.add(childPath, "%q appears more than once in this object; keep one", key)
			} else {
				obj.keys = append(obj.keys, key)
			}
			obj.vals[key] = v
		}
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
		return obj, nil
	default: // '['
		var list []any
		for i := 0; dec.More(); i++ {
			v, err := readValue(dec, fmt.Sprintf("%s[%d]", path, i), depth+1, rep)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
		if list == nil {
			list = []any{}
		}
		return list, nil
	}
}

// plainKey is true for keys that read well in a dotted path.
func plainKey(k string) bool {
	if k == "" {
		return false
	}
	for _, r := range k {
		if !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func syntaxMessage(data []byte, dec *json.Decoder, err error) string {
	if errors.Is(err, errTooDeep) {
		return fmt.Sprintf("the document nests deeper than %d levels at %s; a catalog nests 4 levels", maxDepth, position(data, dec.InputOffset()))
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("not valid JSON at %s: %v; fix the syntax there", position(data, se.Offset), se)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "the JSON ends early (an unclosed object, array or string); complete it"
	}
	return fmt.Sprintf("not valid JSON at %s: %v; fix the syntax there", position(data, dec.InputOffset()), err)
}

// position turns a byte offset into "line L, column C" (1-based, columns in
// bytes), which is what an editor needs.
func position(data []byte, offset int64) string {
	if offset < 0 {
		offset = 0
	}
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	before := data[:offset]
	line := bytes.Count(before, []byte{'\n'}) + 1
	col := len(before) - bytes.LastIndexByte(before, '\n')
	return fmt.Sprintf("line %d, column %d", line, col)
}

func jsonType(v any) string {
	switch v := v.(type) {
	case *jsonObject:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	case nil:
		return "null"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// walkObject checks one object against its field table: unknown members,
// missing required members, and the JSON type of each member. Paths whose
// value is missing or of the wrong type go into bad.
func walkObject(o *jsonObject, spec *object, path string, rep *Report, bad map[string]bool) {
	if rep.dropped > 0 {
		return // the report is full; walking on only costs time
	}
	for _, k := range o.keys {
		p := memberPath(path, k)
		f := spec.field(k)
		if f == nil {
			bad[p] = true
			names := spec.names()
			rep.add(p, "unknown field %q%s; remove it (fields here: %s)", k, didYouMean(k, names), strings.Join(names, ", "))
			continue
		}
		walkValue(o.vals[k], f, p, rep, bad)
	}
	for _, f := range spec.fields {
		if _, ok := o.vals[f.name]; !ok && f.required {
			p := path + "." + f.name
			bad[p] = true
			rep.add(p, "required field %q is missing; add it: %s", f.name, hint(&f))
		}
	}
}

func walkValue(v any, f *field, path string, rep *Report, bad map[string]bool) {
	wrong := func(want string) {
		bad[path] = true
		rep.add(path, "%s must be %s, not %s; change its value", f.name, want, describe(v))
	}
	switch f.kind {
	case kindString:
		if _, ok := v.(string); !ok {
			wrong("a string")
		}
	case kindInt:
		n, ok := v.(json.Number)
		if !ok {
			wrong("a whole number")
			return
		}
		if _, err := strconv.ParseInt(n.String(), 10, 0); err != nil {
			bad[path] = true
			rep.add(path, "%s is %s, which is not a whole number in range; write digits only, like 10", f.name, n)
		}
	case kindStringList:
		list, ok := v.([]any)
		if !ok {
			wrong("a list of strings")
			return
		}
		for i, item := range list {
			if rep.dropped > 0 {
				return
			}
			if _, ok := item.(string); !ok {
				p := fmt.Sprintf("%s[%d]", path, i)
				bad[p] = true
				rep.add(p, "%s items must be strings, not %s; quote it or remove it", f.name, describe(item))
			}
		}
	case kindObject:
		o, ok := v.(*jsonObject)
		if !ok {
			wrong("an object")
			return
		}
		walkObject(o, f.obj, path, rep, bad)
	case kindObjectList:
		list, ok := v.([]any)
		if !ok {
			wrong("a list of objects")
			return
		}
		for i, item := range list {
			if rep.dropped > 0 {
				return
			}
			p := fmt.Sprintf("%s[%d]", path, i)
			o, ok := item.(*jsonObject)
			if !ok {
				bad[p] = true
				rep.add(p, "each of %s must be an object, not %s; write it as {...}", f.name, describe(item))
				continue
			}
			walkObject(o, f.obj, p, rep, bad)
		}
	}
}

// describe names a JSON value for a message, showing short scalars.
func describe(v any) string {
	switch v := v.(type) {
	case string:
		if len(v) > 40 {
			v = v[:40] + "..."
		}
		return fmt.Sprintf("the string %q", v)
	case json.Number:
		return "the number " + v.String()
	case bool:
		return fmt.Sprintf("%t", v)
	case nil:
		return "null"
	default:
		return "an " + jsonType(v)
	}
}

// didYouMean suggests a known field for a misspelt or miscased one, the
// common slip in hand-written JSON (encoding/json would even accept
// "minDiskGib" silently, matching case-insensitively).
func didYouMean(k string, names []string) string {
	for _, n := range names {
		if strings.EqualFold(n, k) || EditDistance(strings.ToLower(n), strings.ToLower(k)) <= len(n)/4 {
			return fmt.Sprintf(" (did you mean %q?)", n)
		}
	}
	return ""
}

// EditDistance is the Levenshtein distance of a and b, for the "did you
// mean" hints of the catalog's and the answer file's unknown keys. Strings
// longer than 64 bytes are never typos of a field name: 99, without the
// quadratic work.
func EditDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99 // not a typo of a field name; skip the quadratic work
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// hint says what a field takes, for the "missing" message.
func hint(f *field) string {
	switch f.kind {
	case kindString:
		switch {
		case f.constant != "":
			return strconv.Quote(f.constant)
		case len(f.enum) > 0:
			return "one of " + strings.Join(f.enum, ", ")
		}
		return "a string"
	case kindInt:
		return fmt.Sprintf("a whole number from %d to %d", f.min, f.max)
	case kindStringList:
		if len(f.enum) > 0 {
			return "a list of " + strings.Join(f.enum, ", ")
		}
		return "a list of strings"
	case kindObject:
		return "an object"
	default:
		return "a list of objects"
	}
}

// field finds a member's description; objects have at most a few dozen
// fields, so a scan beats building a map for every object read.
func (o *object) field(name string) *field {
	for i := range o.fields {
		if o.fields[i].name == name {
			return &o.fields[i]
		}
	}
	return nil
}

func (o *object) names() []string {
	names := make([]string, len(o.fields))
	for i, f := range o.fields {
		names[i] = f.name
	}
	return names
}
