package answers

import (
	"fmt"
	"path"
	"strconv"
	"strings"
)

// Facts identify the machine for [[hosts]] entries.
type Facts struct {
	// MACs are the addresses of the machine's network interfaces.
	MACs []string
	// Serial and Product come from DMI (product_serial, product_name).
	Serial  string
	Product string
}

// Composed is the result of composing answer files.
type Composed struct {
	// Answers is the effective answer file; nil when Report has problems,
	// so an invalid file cannot be used by mistake.
	Answers *Answers
	Report  *Report
	// Files are the inputs, in the order they were composed.
	Files []string
	// Hosts describes the [[hosts]] entries that matched this machine.
	Hosts []string
}

// Compose reads every input (TOML or kickstart), merges them in order and
// applies the [[hosts]] entries that match facts. Merging: tables merge
// key by key and a later file wins; any other value, arrays and arrays of
// tables included ([[users]], kernel.args, [[hosts]]), is replaced whole
// by a later file that sets it.
func Compose(inputs []Input, facts Facts) Composed {
	c, merged := compose(inputs)
	if merged == nil {
		c.Report.finish(c.Files)
		return c
	}
	hostProblems := checkHosts(merged)
	c.Report.merge(hostProblems)
	matched := matchHosts(merged, facts)
	for _, i := range matched {
		c.Hosts = append(c.Hosts, describeHost(merged, i))
	}
	eff := applyHosts(merged, matched)
	a := finishAnswers(eff, c)
	if c.Report.OK() {
		c.Answers = a
	}
	c.Report.finish(c.Files)
	return c
}

// Validate composes inputs as Compose does for facts, and then once more
// for every [[hosts]] entry as if that entry matched, so a fleet file is
// checked for every machine it names. Problems found only with one entry
// say which.
func Validate(inputs []Input, facts Facts) Composed {
	c := Compose(inputs, facts)
	_, merged := compose(inputs)
	if merged == nil {
		return c
	}
	hosts, _ := merged.tree["hosts"].([]any)
	for i := range hosts {
		eff := applyHosts(merged, []int{i})
		probe := Composed{Report: &Report{}, Files: c.Files}
		finishAnswers(eff, probe)
		for _, p := range probe.Report.Problems {
			if hasProblem(c.Report, p) {
				continue
			}
			p.Message = fmt.Sprintf("with %s: %s", describeHost(merged, i), p.Message)
			c.Report.add(p)
		}
	}
	if !c.Report.OK() {
		c.Answers = nil
	}
	c.Report.finish(c.Files)
	return c
}

func hasProblem(r *Report, p Problem) bool {
	for _, q := range r.Problems {
		if q.File == p.File && q.Line == p.Line && q.Column == p.Column && q.Key == p.Key && strings.HasSuffix(q.Message, p.Message) {
			return true
		}
	}
	return false
}

// compose parses and merges the inputs; merged is nil when a file could
// not be read as TOML or kickstart at all.
func compose(inputs []Input) (Composed, *doc) {
	c := Composed{Report: &Report{}}
	if len(inputs) == 0 {
		c.Report.add(Problem{Message: "no answer file given"})
		return c, nil
	}
	var docs []*doc
	failed := false
	for _, in := range inputs {
		c.Files = append(c.Files, in.Name)
		var d *doc
		if in.Kickstart {
			d = parseKickstartDoc(in.Name, in.Data, c.Report)
		} else {
			d = parseTOML(in.Name, in.Data, c.Report)
		}
		if d == nil {
			failed = true
			continue
		}
		docs = append(docs, d)
	}
	if failed {
		return c, nil
	}
	merged := &doc{tree: map[string]any{}, locs: map[string]loc{}, bad: map[string]bool{}}
	if len(inputs) == 1 {
		merged.name = inputs[0].Name
	}
	for _, d := range docs {
		mergeDoc(merged, d.tree, d.locs, answersObject, "", "")
		for p := range d.bad {
			merged.bad[p] = true
			// A bad key in a [[hosts]] entry would be a bad key of the
			// effective answers on that host.
			if rest, ok := strings.CutPrefix(p, "hosts["); ok {
				if _, after, ok := strings.Cut(rest, "]."); ok {
					merged.bad[after] = true
				}
			}
		}
	}
	return c, merged
}

// mergeDoc merges src (whose paths start with srcPrefix) into dst at
// dstPrefix; src wins.
func mergeDoc(dst *doc, src map[string]any, srcLocs map[string]loc, o *object, dstPrefix, srcPrefix string) {
	target := dst.tree
	if dstPrefix != "" {
		target = lookupTree(dst.tree, dstPrefix)
	}
	if l, ok := srcLocs[srcPrefix]; ok && srcPrefix != "" {
		dst.locs[dstPrefix] = l
	}
	for k, v := range src {
		f, _ := o.lookup(k)
		dp, sp := join(dstPrefix, k), join(srcPrefix, k)
		if f.kind == kindObject || f.kind == kindStringMap {
			sub, ok := target[k].(map[string]any)
			if !ok {
				sub = map[string]any{}
				target[k] = sub
			}
			if f.kind == kindStringMap {
				for mk, mv := range v.(map[string]any) {
					sub[mk] = mv
					copyLocs(dst.locs, srcLocs, join(dp, mk), join(sp, mk))
				}
				if l, ok := srcLocs[sp]; ok {
					dst.locs[dp] = l
				}
				continue
			}
			mergeDoc(dst, v.(map[string]any), srcLocs, f.obj, dp, sp)
			continue
		}
		target[k] = deepCopy(v)
		copyLocs(dst.locs, srcLocs, dp, sp)
	}
}

// copyLocs replaces every location at or under dp by src's at or under sp.
func copyLocs(dst, src map[string]loc, dp, sp string) {
	for p := range dst {
		if p == dp || strings.HasPrefix(p, dp+".") || strings.HasPrefix(p, dp+"[") {
			delete(dst, p)
		}
	}
	for p, l := range src {
		if p == sp || strings.HasPrefix(p, sp+".") || strings.HasPrefix(p, sp+"[") {
			dst[dp+p[len(sp):]] = l
		}
	}
}

// lookupTree returns the table at a dotted path of plain keys, creating it.
func lookupTree(tree map[string]any, p string) map[string]any {
	for _, k := range strings.Split(p, ".") {
		sub, ok := tree[k].(map[string]any)
		if !ok {
			sub = map[string]any{}
			tree[k] = sub
		}
		tree = sub
	}
	return tree
}

func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		l := make([]any, len(v))
		for i, e := range v {
			l[i] = deepCopy(e)
		}
		return l
	}
	return v
}

func isMatchKey(k string) bool {
	for _, f := range hostMatchKeys {
		if f.name == k {
			return true
		}
	}
	return false
}

// checkHosts reports [[hosts]] entries that could never match or match by
// a malformed key.
func checkHosts(d *doc) *Report {
	rep := &Report{}
	hosts, _ := d.tree["hosts"].([]any)
	for i, h := range hosts {
		e := h.(map[string]any)
		p := index("hosts", i)
		n := 0
		for _, f := range hostMatchKeys {
			v, ok := e[f.name].(string)
			if !ok {
				continue
			}
			n++
			vp := join(p, f.name)
			switch f.name {
			case "mac":
				if !macRe.MatchString(v) {
					rep.add(locate(d.locs, d.name, vp, false, fmt.Sprintf("%q is not a MAC address; write six hex pairs, e.g. 52:54:00:12:34:56", v)))
				}
			case "serial":
				if strings.TrimSpace(v) == "" {
					rep.add(locate(d.locs, d.name, vp, false, "the serial is empty; give the machine's serial (/sys/class/dmi/id/product_serial) or remove the key"))
				}
			case "product":
				if _, err := path.Match(v, ""); err != nil || strings.TrimSpace(v) == "" {
					rep.add(locate(d.locs, d.name, vp, false, fmt.Sprintf("%q is not a valid shell glob; check its brackets", v)))
				}
			}
		}
		if n == 0 {
			rep.add(locate(d.locs, d.name, p, true, "this [[hosts]] entry has no match key, so it would apply to every machine; add mac, serial or product"))
		}
	}
	return rep
}

// matchHosts returns the indexes of the [[hosts]] entries facts match.
func matchHosts(d *doc, facts Facts) []int {
	hosts, _ := d.tree["hosts"].([]any)
	var out []int
	for i, h := range hosts {
		e := h.(map[string]any)
		n, ok := 0, true
		if v, has := e["mac"].(string); has {
			n++
			ok = ok && hasMAC(facts.MACs, v)
		}
		if v, has := e["serial"].(string); has {
			n++
			ok = ok && facts.Serial != "" && strings.TrimSpace(v) == strings.TrimSpace(facts.Serial)
		}
		if v, has := e["product"].(string); has {
			n++
			m, err := path.Match(v, strings.TrimSpace(facts.Product))
			ok = ok && facts.Product != "" && err == nil && m
		}
		if n > 0 && ok {
			out = append(out, i)
		}
	}
	return out
}

// NormalizeMAC writes a MAC address as lowercase pairs joined by colons.
func NormalizeMAC(s string) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), "-", ":"))
}

func hasMAC(macs []string, want string) bool {
	for _, m := range macs {
		if NormalizeMAC(m) == NormalizeMAC(want) {
			return true
		}
	}
	return false
}

func describeHost(d *doc, i int) string {
	hosts, _ := d.tree["hosts"].([]any)
	e, _ := hosts[i].(map[string]any)
	var keys []string
	for _, f := range hostMatchKeys {
		if v, ok := e[f.name].(string); ok {
			keys = append(keys, f.name+" "+strconv.Quote(v))
		}
	}
	return fmt.Sprintf("hosts[%d] (%s)", i, strings.Join(keys, ", "))
}

// applyHosts returns a copy of d with the matched entries merged over it,
// in order, and the [[hosts]] list removed: the effective answers.
func applyHosts(d *doc, matched []int) *doc {
	out := &doc{name: d.name, tree: deepCopy(d.tree).(map[string]any), locs: map[string]loc{}, bad: d.bad}
	for p, l := range d.locs {
		out.locs[p] = l
	}
	hosts, _ := d.tree["hosts"].([]any)
	for _, i := range matched {
		e := hosts[i].(map[string]any)
		over := map[string]any{}
		for k, v := range e {
			if !isMatchKey(k) {
				over[k] = v
			}
		}
		mergeDoc(out, over, d.locs, answersObject, "", index("hosts", i))
	}
	delete(out.tree, "hosts")
	for p := range out.locs {
		if p == "hosts" || strings.HasPrefix(p, "hosts[") {
			delete(out.locs, p)
		}
	}
	return out
}

// finishAnswers decodes the effective tree and validates it.
func finishAnswers(eff *doc, c Composed) *Answers {
	var a Answers
	decode(eff.tree, answersObject, &a)
	file := ""
	if len(c.Files) == 1 {
		file = c.Files[0]
	}
	rules := &Report{}
	v := &checker{rep: rules, locs: eff.locs, file: file, tree: eff.tree}
	v.validate(&a)
	for _, p := range rules.Problems {
		if !nearBad(p.path, eff.bad) {
			c.Report.add(p)
		}
	}
	return &a
}

// Parse reads one TOML answer file (no [[hosts]] facts): strict decoding
// (unknown keys and wrong types are problems with line:column) and
// validation. The answers are nil unless the report is OK.
func Parse(data []byte) (*Answers, *Report) {
	c := Compose([]Input{{Data: data}}, Facts{})
	return c.Answers, c.Report
}

// Encode writes a as a TOML answer file in the canonical order, leaving
// out what is unset. Secrets are written as they are: use Redacted first
// for anything that leaves the machine.
func Encode(a *Answers) []byte {
	var b strings.Builder
	writeTOML(&b, encode(a, answersObject), answersObject, "")
	return []byte(strings.TrimLeft(b.String(), "\n"))
}

// nearBad reports whether key is a bad path, inside one, or a table that
// holds one.
func nearBad(key string, bad map[string]bool) bool {
	for b := range bad {
		if key == b || strings.HasPrefix(key, b+".") || strings.HasPrefix(key, b+"[") ||
			strings.HasPrefix(b, key+".") || strings.HasPrefix(b, key+"[") {
			return true
		}
	}
	return false
}
