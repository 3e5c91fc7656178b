package answers

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pelletier/go-toml/v2"

	"github.com/pelletier/go-toml/v2/unstable"
	"github.com/universal-atomic-installer/uai/catalog"
)

// A file is read in three passes. go-toml decodes it into a generic tree
// (syntax, duplicate keys); the parser's syntax tree gives every key and
// value its line and column; then the tree is walked against the field
// table, so every unknown and mistyped key is reported, not just the
// first. Composition and per-host overrides work on these trees, which
// know which keys a file set (a Go struct cannot tell false from unset).

// loc is where a key and its value are written.
type loc struct {
	file             string
	keyLine, keyCol  int
	valLine, valCol  int
	kickstartCommand string
}

// doc is one parsed file: its tree and where each path came from. Paths
// are TOML keys joined with "." and array indexes in brackets:
// "users[1].name".
type doc struct {
	name string
	tree map[string]any
	locs map[string]loc
	// bad are the paths the strict walk reported and removed; rules about
	// them (or the tables holding them) would only repeat the problem.
	bad map[string]bool
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

func index(prefix string, i int) string { return prefix + "[" + strconv.Itoa(i) + "]" }

// parseTOML reads one TOML answer file into a doc, adding every problem to
// rep. The doc is nil when the file is not TOML at all.
func parseTOML(name string, data []byte, rep *Report) *doc {
	if len(data) > MaxSizeBytes {
		rep.add(Problem{File: name, Message: fmt.Sprintf("the file is larger than %d bytes; an answer file is a few KiB, check its source", MaxSizeBytes)})
		return nil
	}
	if !utf8.Valid(data) {
		line := 1 + bytes.Count(data[:firstInvalidUTF8(data)], []byte("\n"))
		rep.add(Problem{File: name, Line: line, Column: 1, Message: "the file is not UTF-8 text; save it as UTF-8"})
		return nil
	}
	var tree map[string]any
	if err := toml.Unmarshal(data, &tree); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, col := de.Position()
			rep.add(Problem{File: name, Line: row, Column: col, Key: strings.Join(de.Key(), "."), Message: syntaxMessage(de)})
		} else {
			rep.add(Problem{File: name, Message: err.Error() + "; fix the TOML syntax (see docs/answers.md)"})
		}
		return nil
	}
	if tree == nil {
		tree = map[string]any{}
	}
	d := &doc{name: name, tree: tree, locs: positions(name, data)}
	d.walk(tree, answersObject, "", rep)
	return d
}

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}

func syntaxMessage(de *toml.DecodeError) string {
	msg := strings.TrimPrefix(de.Error(), "toml: ")
	return msg + "; fix the TOML syntax (see docs/answers.md)"
}

// lineIndex turns byte offsets into 1-based line and column numbers.
type lineIndex []int

func newLineIndex(data []byte) lineIndex {
	li := lineIndex{0}
	for i, c := range data {
		if c == '\n' {
			li = append(li, i+1)
		}
	}
	return li
}

func (li lineIndex) at(offset int) (line, col int) {
	i := sort.Search(len(li), func(i int) bool { return li[i] > offset }) - 1
	if i < 0 {
		i = 0
	}
	return i + 1, offset - li[i] + 1
}

// positions maps every key path of a valid TOML document to where it is
// written. It mirrors TOML's table rules: [a.b] opens a table, [[a]]
// appends to an array of tables, and a header through an array of tables
// means its last element.
func positions(name string, data []byte) (locs map[string]loc) {
	locs = map[string]loc{}
	defer func() {
		// The document already decoded, so the parser cannot fail; if the
		// syntax tree ever surprises us, positions are a nicety, not a
		// reason to crash.
		if recover() != nil {
			locs = map[string]loc{}
		}
	}()
	li := newLineIndex(data)
	at := func(n *unstable.Node) (int, int, bool) {
		if n == nil || n.Raw.Length == 0 && n.Raw.Offset == 0 && n.Kind != unstable.Key {
			return 0, 0, false
		}
		l, c := li.at(int(n.Raw.Offset))
		return l, c, true
	}
	arrays := map[string]int{}
	resolve := func(parts []string) string {
		p := ""
		for _, k := range parts {
			p = join(p, k)
			if n, ok := arrays[p]; ok {
				p = index(p, n-1)
			}
		}
		return p
	}
	keyOf := func(n *unstable.Node) ([]string, *unstable.Node) {
		var parts []string
		var first *unstable.Node
		it := n.Key()
		for it.Next() {
			k := it.Node()
			if first == nil {
				first = k
			}
			parts = append(parts, string(k.Data))
		}
		return parts, first
	}
	var value func(path string, v *unstable.Node, kl, kc int, depth int)
	value = func(path string, v *unstable.Node, kl, kc int, depth int) {
		l := locs[path]
		l.file, l.keyLine, l.keyCol = name, kl, kc
		if vl, vc, ok := at(v); ok {
			l.valLine, l.valCol = vl, vc
		} else {
			l.valLine, l.valCol = kl, kc
		}
		locs[path] = l
		if depth > 32 {
			return
		}
		switch v.Kind {
		case unstable.Array:
			i := 0
			it := v.Children()
			for it.Next() {
				c := it.Node()
				if c.Kind == unstable.Comment {
					continue
				}
				cl, cc, ok := at(c)
				if !ok {
					cl, cc = l.valLine, l.valCol
				}
				value(index(path, i), c, cl, cc, depth+1)
				i++
			}
		case unstable.InlineTable:
			it := v.Children()
			for it.Next() {
				kv := it.Node()
				if kv.Kind != unstable.KeyValue {
					continue
				}
				parts, first := keyOf(kv)
				kl2, kc2, _ := at(first)
				p := path
				for _, k := range parts[:len(parts)-1] {
					p = join(p, k)
					setKey(locs, p, name, kl2, kc2)
				}
				value(join(p, parts[len(parts)-1]), kv.Value(), kl2, kc2, depth+1)
			}
		}
	}

	var p unstable.Parser
	p.Reset(data)
	prefix := ""
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table:
			parts, first := keyOf(e)
			l, c, _ := at(first)
			prefix = resolve(parts)
			setKey(locs, prefix, name, l, c)
		case unstable.ArrayTable:
			parts, first := keyOf(e)
			l, c, _ := at(first)
			base := join(resolve(parts[:len(parts)-1]), parts[len(parts)-1])
			n := arrays[base]
			arrays[base] = n + 1
			setKey(locs, base, name, l, c)
			prefix = index(base, n)
			setKey(locs, prefix, name, l, c)
		case unstable.KeyValue:
			parts, first := keyOf(e)
			l, c, _ := at(first)
			path := prefix
			for _, k := range parts[:len(parts)-1] {
				path = join(path, k)
				setKey(locs, path, name, l, c)
			}
			value(join(path, parts[len(parts)-1]), e.Value(), l, c, 0)
		}
	}
	return locs
}

func setKey(locs map[string]loc, path, file string, l, c int) {
	if _, ok := locs[path]; ok {
		return
	}
	locs[path] = loc{file: file, keyLine: l, keyCol: c, valLine: l, valCol: c}
}

// problem builds a problem at path: at the value (onKey false) or the key.
// A path that was never written points at the nearest table that was.
func (d *doc) problem(path string, onKey bool, msg string) Problem {
	return locate(d.locs, d.name, path, onKey, msg)
}

func locate(locs map[string]loc, file, path string, onKey bool, msg string) Problem {
	p := Problem{File: file, Key: path, Message: msg, path: path}
	for q := path; ; q = parentPath(q) {
		if l, ok := locs[q]; ok {
			p.File = l.file
			if l.kickstartCommand != "" {
				p.Key = l.kickstartCommand
			}
			if onKey || q != path {
				p.Line, p.Column = l.keyLine, l.keyCol
			} else {
				p.Line, p.Column = l.valLine, l.valCol
			}
			return p
		}
		if q == "" {
			return p
		}
	}
}

func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

// tomlType names a decoded value's TOML type, as the author wrote it.
func tomlType(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case bool:
		return "boolean"
	case int64:
		return "integer"
	case float64:
		return "float"
	case []any:
		return "array"
	case map[string]any:
		return "table"
	case time.Time, toml.LocalDateTime:
		return "date-time"
	case toml.LocalDate:
		return "date"
	case toml.LocalTime:
		return "time"
	}
	return fmt.Sprintf("%T", v)
}

func kindWant(f field) string {
	switch f.kind {
	case kindString:
		return "a string"
	case kindBool:
		return "true or false"
	case kindInt:
		return "a whole number"
	case kindStringList:
		return "an array of strings"
	case kindStringMap:
		return "a table of strings"
	case kindObject:
		return "a table"
	case kindObjectList:
		return "an array of tables"
	}
	return "?"
}

// walk checks tree against o, reporting and removing every unknown or
// mistyped key, so the rest decodes and is validated in the same run.
func (d *doc) walk(tree map[string]any, o *object, path string, rep *Report) {
	keys := make([]string, 0, len(tree))
	for k := range tree {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := tree[k]
		p := join(path, k)
		f, ok := o.lookup(k)
		if !ok {
			rep.add(d.problem(p, true, unknownKey(k, p, o)))
			delete(tree, k)
			continue
		}
		if !d.checkType(f, v, p, rep) {
			delete(tree, k)
			if d.bad == nil {
				d.bad = map[string]bool{}
			}
			d.bad[p] = true
			continue
		}
		switch f.kind {
		case kindObject:
			d.walk(v.(map[string]any), f.obj, p, rep)
		case kindObjectList:
			for i, e := range v.([]any) {
				d.walk(e.(map[string]any), f.obj, index(p, i), rep)
			}
		}
	}
}

func unknownKey(k, p string, o *object) string {
	msg := fmt.Sprintf("unknown key %q; remove it or check its spelling", p)
	if s := suggest(k, o); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	} else if _, ok := answersObject.lookup(k); ok && o != answersObject {
		msg += fmt.Sprintf(" (%s belongs at the top level of the file)", k)
	}
	return msg + " (see docs/answers.md)"
}

// suggest returns the known key closest to k, if it is a likely typo.
func suggest(k string, o *object) string {
	// Short keys are a letter or two apart from other short keys
	// ("home", "name"); only a near miss is worth suggesting.
	limit := 2
	if len(k) <= 5 {
		limit = 1
	}
	best, bestD := "", limit+1
	for _, f := range o.fields {
		if d := catalog.EditDistance(strings.ToLower(k), f.name); d < bestD {
			best, bestD = f.name, d
		}
	}
	return best
}

func (d *doc) checkType(f field, v any, p string, rep *Report) bool {
	wrong := func(at string, got any, want string) bool {
		msg := fmt.Sprintf("expected %s, found a TOML %s; change the value's type", want, tomlType(got))
		if f.kind == kindObjectList && tomlType(got) == "table" {
			msg = fmt.Sprintf("expected an array of tables, found a single table; write [[%s]] instead of [%s]", p, p)
		}
		rep.add(d.problem(at, false, msg))
		return false
	}
	switch f.kind {
	case kindString:
		if _, ok := v.(string); !ok {
			return wrong(p, v, kindWant(f))
		}
	case kindBool:
		if _, ok := v.(bool); !ok {
			return wrong(p, v, kindWant(f))
		}
	case kindInt:
		if _, ok := v.(int64); !ok {
			return wrong(p, v, kindWant(f))
		}
	case kindStringList:
		l, ok := v.([]any)
		if !ok {
			if _, isStr := v.(string); isStr {
				rep.add(d.problem(p, false, fmt.Sprintf("expected an array of strings, found a TOML string; write %s = [\"...\"]", f.name)))
				return false
			}
			return wrong(p, v, kindWant(f))
		}
		good := true
		for i, e := range l {
			if _, ok := e.(string); !ok {
				good = wrong(index(p, i), e, "a string") && good
			}
		}
		return good
	case kindStringMap:
		m, ok := v.(map[string]any)
		if !ok {
			return wrong(p, v, kindWant(f))
		}
		good := true
		for k, e := range m {
			if _, ok := e.(string); !ok {
				good = wrong(join(p, k), e, "a string") && good
			}
		}
		return good
	case kindObject:
		if _, ok := v.(map[string]any); !ok {
			return wrong(p, v, kindWant(f))
		}
	case kindObjectList:
		l, ok := v.([]any)
		if !ok {
			return wrong(p, v, kindWant(f))
		}
		good := true
		for i, e := range l {
			if _, ok := e.(map[string]any); !ok {
				good = wrong(index(p, i), e, "a table") && good
			}
		}
		return good
	}
	return true
}

// decode fills dst (a pointer to a struct) from a checked tree.
func decode(tree map[string]any, o *object, dst any) {
	decodeValue(tree, o, reflect.ValueOf(dst).Elem())
}

func decodeValue(tree map[string]any, o *object, dst reflect.Value) {
	for _, f := range o.fields {
		v, ok := tree[f.name]
		if !ok {
			continue
		}
		sf, ok := fieldByTag(dst, f.name)
		if !ok {
			continue // hosts: applied before decoding, not a struct field
		}
		switch f.kind {
		case kindString:
			sf.SetString(v.(string))
		case kindBool:
			setScalar(sf, reflect.ValueOf(v.(bool)))
		case kindInt:
			n := v.(int64)
			setScalar(sf, reflect.ValueOf(int(clampInt(n))))
		case kindStringList:
			l := v.([]any)
			s := make([]string, len(l))
			for i, e := range l {
				s[i] = e.(string)
			}
			sf.Set(reflect.ValueOf(s))
		case kindStringMap:
			m := map[string]string{}
			for k, e := range v.(map[string]any) {
				m[k] = e.(string)
			}
			sf.Set(reflect.ValueOf(m))
		case kindObject:
			decodeValue(v.(map[string]any), f.obj, sf)
		case kindObjectList:
			l := v.([]any)
			s := reflect.MakeSlice(sf.Type(), len(l), len(l))
			for i, e := range l {
				decodeValue(e.(map[string]any), f.obj, s.Index(i))
			}
			sf.Set(s)
		}
	}
}

// clampInt keeps an out-of-range TOML integer from wrapping into a valid
// looking int; the validator reports the range.
func clampInt(n int64) int64 {
	const lim = 1 << 31
	if n > lim {
		return lim
	}
	if n < -lim {
		return -lim
	}
	return n
}

func setScalar(sf reflect.Value, v reflect.Value) {
	if sf.Kind() == reflect.Pointer {
		p := reflect.New(sf.Type().Elem())
		p.Elem().Set(v)
		sf.Set(p)
		return
	}
	sf.Set(v)
}

// fieldByTag finds the struct field whose toml tag is name, looking into
// embedded structs (the [disk] table embeds partition.Selector).
func fieldByTag(v reflect.Value, name string) (reflect.Value, bool) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if sf.Anonymous && sf.Type.Kind() == reflect.Struct {
			if f, ok := fieldByTag(v.Field(i), name); ok {
				return f, true
			}
			continue
		}
		tag, _, _ := strings.Cut(sf.Tag.Get("toml"), ",")
		if tag == name {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

// encode turns a struct into a tree, leaving out zero values, so that an
// encoded file says only what was chosen.
func encode(src any, o *object) map[string]any {
	return encodeValue(reflect.ValueOf(src), o)
}

func encodeValue(v reflect.Value, o *object) map[string]any {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return map[string]any{}
		}
		v = v.Elem()
	}
	out := map[string]any{}
	for _, f := range o.fields {
		sf, ok := fieldByTag(v, f.name)
		if !ok {
			continue
		}
		if sf.Kind() == reflect.Pointer {
			if sf.IsNil() {
				continue
			}
			sf = sf.Elem()
		} else if sf.IsZero() {
			continue
		}
		switch f.kind {
		case kindString:
			out[f.name] = sf.String()
		case kindBool:
			out[f.name] = sf.Bool()
		case kindInt:
			out[f.name] = sf.Int()
		case kindStringList:
			if sf.Len() == 0 {
				continue
			}
			l := make([]any, sf.Len())
			for i := range l {
				l[i] = sf.Index(i).String()
			}
			out[f.name] = l
		case kindStringMap:
			if sf.Len() == 0 {
				continue
			}
			m := map[string]any{}
			for _, k := range sf.MapKeys() {
				m[k.String()] = sf.MapIndex(k).String()
			}
			out[f.name] = m
		case kindObject:
			if sub := encodeValue(sf, f.obj); len(sub) > 0 {
				out[f.name] = sub
			}
		case kindObjectList:
			if sf.Len() == 0 {
				continue
			}
			l := make([]any, sf.Len())
			for i := range l {
				l[i] = encodeValue(sf.Index(i), f.obj)
			}
			out[f.name] = l
		}
	}
	return out
}

// bareKey matches keys TOML allows without quotes.
var bareKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func tomlKey(k string) string {
	if bareKey.MatchString(k) {
		return k
	}
	return tomlString(k)
}

// tomlString quotes s as a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\u%04X`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

func tomlValue(v any) string {
	switch v := v.(type) {
	case string:
		return tomlString(v)
	case bool:
		return strconv.FormatBool(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case int:
		return strconv.Itoa(v)
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = tomlValue(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = tomlKey(k) + " = " + tomlValue(v[k])
		}
		return "{ " + strings.Join(parts, ", ") + " }"
	}
	return fmt.Sprintf("%q", fmt.Sprint(v))
}

// writeTOML writes tree in the field table's order: plain keys first, then
// tables, then arrays of tables, which is the order TOML needs.
func writeTOML(b *strings.Builder, tree map[string]any, o *object, header string) {
	for _, f := range o.fields {
		v, ok := tree[f.name]
		if !ok || f.kind == kindObject || f.kind == kindObjectList {
			continue
		}
		fmt.Fprintf(b, "%s = %s\n", tomlKey(f.name), tomlValue(v))
	}
	for _, f := range o.fields {
		v, ok := tree[f.name]
		if !ok {
			continue
		}
		h := join(header, f.name)
		switch f.kind {
		case kindObject:
			sub := v.(map[string]any)
			if hasPlainKeys(sub, f.obj) {
				fmt.Fprintf(b, "\n[%s]\n", h)
			}
			writeTOML(b, sub, f.obj, h)
		case kindObjectList:
			for _, e := range v.([]any) {
				fmt.Fprintf(b, "\n[[%s]]\n", h)
				writeTOML(b, e.(map[string]any), f.obj, h)
			}
		}
	}
}

func hasPlainKeys(tree map[string]any, o *object) bool {
	for _, f := range o.fields {
		if _, ok := tree[f.name]; ok && f.kind != kindObject && f.kind != kindObjectList {
			return true
		}
	}
	return false
}
