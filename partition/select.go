package partition

import (
	"fmt"
	"math/big"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Transports are the values Disk.Transport takes, and a selector accepts.
var Transports = []string{"nvme", "sata", "scsi", "usb", "virtio", "mmc", "loop", "file"}

// selectorKeys are the compact form's keys in their canonical order.
var selectorKeys = []string{"path", "by_id", "serial", "wwn", "model", "min_size", "max_size", "transport",
	"rotational", "removable", "empty", "largest", "smallest", "allow_boot_medium"}

// IsZero reports whether no rule is set.
func (s Selector) IsZero() bool { return s.String() == "" }

// String renders the selector in the compact form ParseSelector reads,
// keys in a fixed order: "serial=S5GX,min_size=100GiB,largest".
func (s Selector) String() string {
	var out []string
	add := func(k, v string) {
		if v != "" {
			out = append(out, k+"="+quoteValue(v))
		}
	}
	flag := func(k string, v bool) {
		if v {
			out = append(out, k)
		}
	}
	tri := func(k string, v *bool) {
		if v != nil {
			out = append(out, k+"="+strconv.FormatBool(*v))
		}
	}
	add("path", s.Path)
	add("by_id", s.ByID)
	add("serial", s.Serial)
	add("wwn", s.WWN)
	add("model", s.Model)
	add("min_size", s.MinSize)
	add("max_size", s.MaxSize)
	add("transport", s.Transport)
	tri("rotational", s.Rotational)
	tri("removable", s.Removable)
	flag("empty", s.Empty)
	flag("largest", s.Largest)
	flag("smallest", s.Smallest)
	flag("allow_boot_medium", s.AllowBootMedium)
	return strings.Join(out, ",")
}

func quoteValue(v string) string {
	if strings.ContainsAny(v, `,"`) || strings.TrimSpace(v) != v {
		return strconv.Quote(v)
	}
	return v
}

// ParseSelector reads the compact form: comma-separated key=value pairs,
// flags as bare keys ("largest" is "largest=true"), values with commas
// in double quotes (model="A, B*"). "size=100GiB..2TB" sets both bounds.
// Keys may use - or _ (min-size, min_size).
func ParseSelector(text string) (Selector, error) {
	var s Selector
	fields, err := splitCompact(text)
	if err != nil {
		return s, err
	}
	seen := map[string]bool{}
	for _, f := range fields {
		k, v, hasValue := strings.Cut(f, "=")
		k = strings.ReplaceAll(strings.ToLower(strings.TrimSpace(k)), "-", "_")
		v = strings.TrimSpace(v)
		if uq, err := strconv.Unquote(v); err == nil && strings.HasPrefix(v, `"`) {
			v = uq
		}
		if k == "" {
			continue
		}
		if seen[k] {
			return s, fmt.Errorf("selector %q sets %s twice; give each rule once", text, k)
		}
		seen[k] = true
		needValue := func() error {
			if !hasValue || v == "" {
				return fmt.Errorf("selector %q: %s needs a value (%s=...)", text, k, k)
			}
			return nil
		}
		boolValue := func() (bool, error) {
			if !hasValue {
				return true, nil
			}
			b, err := parseBool(v)
			if err != nil {
				return false, fmt.Errorf("selector %q: %s=%s: %w", text, k, v, err)
			}
			return b, nil
		}
		switch k {
		case "path", "by_id", "serial", "wwn", "model", "min_size", "max_size", "transport", "size":
			if err := needValue(); err != nil {
				return s, err
			}
		}
		if (k == "min_size" || k == "max_size") && seen["size"] {
			return s, fmt.Errorf("selector %q sets size and min_size/max_size; use one", text)
		}
		switch k {
		case "path":
			s.Path = v
		case "by_id":
			s.ByID = v
		case "serial":
			s.Serial = v
		case "wwn":
			s.WWN = v
		case "model":
			s.Model = v
		case "min_size":
			s.MinSize = v
		case "max_size":
			s.MaxSize = v
		case "size":
			lo, hi, ok := strings.Cut(v, "..")
			if !ok {
				return s, fmt.Errorf("selector %q: size=%s is not a range; write size=MIN..MAX (either side may be empty) or use min_size/max_size", text, v)
			}
			if seen["min_size"] || seen["max_size"] {
				return s, fmt.Errorf("selector %q sets size and min_size/max_size; use one", text)
			}
			s.MinSize, s.MaxSize = strings.TrimSpace(lo), strings.TrimSpace(hi)
		case "transport":
			s.Transport = v
		case "rotational", "removable":
			b, err := boolValue()
			if err != nil {
				return s, err
			}
			if k == "rotational" {
				s.Rotational = &b
			} else {
				s.Removable = &b
			}
		case "empty", "largest", "smallest", "allow_boot_medium":
			b, err := boolValue()
			if err != nil {
				return s, err
			}
			switch k {
			case "empty":
				s.Empty = b
			case "largest":
				s.Largest = b
			case "smallest":
				s.Smallest = b
			default:
				s.AllowBootMedium = b
			}
		default:
			return s, fmt.Errorf("selector %q: unknown rule %q; the rules are %s (and size=MIN..MAX)", text, k, strings.Join(selectorKeys, ", "))
		}
	}
	if err := s.Validate(); err != nil {
		return s, err
	}
	return s, nil
}

// splitCompact splits on commas outside double quotes.
func splitCompact(text string) ([]string, error) {
	var out []string
	var cur strings.Builder
	quoted, escaped := false, false
	for _, r := range text {
		switch {
		case escaped:
			escaped = false
		case r == '\\' && quoted:
			escaped = true
		case r == '"':
			quoted = !quoted
		case r == ',' && !quoted:
			out = append(out, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteRune(r)
	}
	if quoted {
		return nil, fmt.Errorf("selector %q has an unclosed double quote", text)
	}
	return append(out, cur.String()), nil
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true", "yes", "1", "on":
		return true, nil
	case "false", "no", "0", "off":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean; use true or false", v)
}

// Validate checks every value: sizes parse, the range is not empty, the
// transport is known, and largest and smallest are not both set.
func (s Selector) Validate() error {
	var problems []string
	var lo, hi uint64
	var err error
	if s.MinSize != "" {
		if lo, err = ParseSize(s.MinSize); err != nil {
			problems = append(problems, "min_size: "+err.Error())
		}
	}
	if s.MaxSize != "" {
		if hi, err = ParseSize(s.MaxSize); err != nil {
			problems = append(problems, "max_size: "+err.Error())
		}
	}
	if s.MinSize != "" && s.MaxSize != "" && lo > 0 && hi > 0 && lo > hi {
		problems = append(problems, fmt.Sprintf("min_size %s is larger than max_size %s, so no disk can match", s.MinSize, s.MaxSize))
	}
	if s.Transport != "" && !contains(Transports, s.Transport) {
		problems = append(problems, fmt.Sprintf("transport %q is not one of %s", s.Transport, strings.Join(Transports, ", ")))
	}
	if s.Largest && s.Smallest {
		problems = append(problems, "largest and smallest are both set; keep one")
	}
	if s.Model != "" {
		if _, err := path.Match(s.Model, ""); err != nil {
			problems = append(problems, fmt.Sprintf("model %q is not a valid glob: %v", s.Model, err))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("disk selector %s is invalid: %s", s.String(), strings.Join(problems, "; "))
	}
	return nil
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// sizeUnits: SI units are decimal (what disk vendors print), IEC units and
// single letters are binary (as bootc --root-size and lsblk read them).
var sizeUnits = map[string]uint64{
	"": 1, "b": 1,
	"k": 1 << 10, "kib": 1 << 10, "kb": 1e3,
	"m": 1 << 20, "mib": 1 << 20, "mb": 1e6,
	"g": 1 << 30, "gib": 1 << 30, "gb": 1e9,
	"t": 1 << 40, "tib": 1 << 40, "tb": 1e12,
	"p": 1 << 50, "pib": 1 << 50, "pb": 1e15,
}

// ParseSize reads a size: a number (decimals allowed) and a unit. KB, MB,
// GB, TB, PB are powers of 1000; KiB, MiB, GiB, TiB, PiB and the single
// letters K, M, G, T, P are powers of 1024; no unit means bytes. Units
// are case-insensitive. "100GiB", "2TB", "1.5T", "512M".
func ParseSize(text string) (uint64, error) {
	t := strings.TrimSpace(text)
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	mult, ok := sizeUnits[unit]
	if num == "" || !ok {
		return 0, fmt.Errorf("size %q is not a size; write a number and a unit such as 100GiB, 2TB or 512M", text)
	}
	r, ok := new(big.Rat).SetString(num)
	if !ok {
		return 0, fmt.Errorf("size %q is not a size; write a number and a unit such as 100GiB, 2TB or 512M", text)
	}
	r.Mul(r, new(big.Rat).SetInt(new(big.Int).SetUint64(mult)))
	n := new(big.Int).Quo(r.Num(), r.Denom())
	if !n.IsUint64() {
		return 0, fmt.Errorf("size %q is too large", text)
	}
	return n.Uint64(), nil
}

// Check is one rule's verdict on one disk.
type Check struct {
	Rule   string `json:"rule"`
	Pass   bool   `json:"pass"`
	Detail string `json:"detail,omitempty"`
}

// Candidate is one disk in an Explain: every rule it passed or failed.
type Candidate struct {
	Disk    string  `json:"disk"`
	Summary string  `json:"summary"`
	Matched bool    `json:"matched"`
	Checks  []Check `json:"checks"`
}

// Explain is the report of one selection: every disk, and for each the
// verdict of every rule, so a mismatch says why.
type Explain struct {
	Selector   string      `json:"selector"`
	Matched    []string    `json:"matched"`
	Candidates []Candidate `json:"candidates"`
}

// SelectError is a selection that did not match exactly one disk.
type SelectError struct {
	Explain Explain
	reason  string
}

// Reason is the verdict alone, without the per-disk report.
func (e *SelectError) Reason() string { return e.reason }

func (e *SelectError) Error() string {
	return e.reason + "; every disk and why:\n" + strings.TrimRight(e.Explain.String(), "\n")
}

// Select returns the one disk that passes every rule of s. The boot
// medium never matches unless s.AllowBootMedium, nor does a disk refused
// for another reason (mounted, held, read-only...): largest and smallest
// choose among usable disks only. When no disk or several match, the
// error lists every disk with each rule it passed or failed.
func Select(disks []Disk, s Selector) (Disk, Explain, error) {
	ex := Explain{Selector: s.String(), Matched: []string{}}
	if ex.Selector == "" {
		ex.Selector = "(no rules)"
	}
	if err := s.Validate(); err != nil {
		return Disk{}, ex, err
	}
	var lo, hi uint64
	if s.MinSize != "" {
		lo, _ = ParseSize(s.MinSize)
	}
	if s.MaxSize != "" {
		hi, _ = ParseSize(s.MaxSize)
	}
	sorted := append([]Disk(nil), disks...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Path < sorted[j].Path })
	pass := make([]bool, len(sorted))
	for i, d := range sorted {
		c := Candidate{Disk: d.Path, Summary: summary(d)}
		add := func(rule string, ok bool, detail string) {
			c.Checks = append(c.Checks, Check{Rule: rule, Pass: ok, Detail: detail})
		}
		if s.Path != "" {
			ok := d.Path == s.Path || contains(d.ByID, s.Path) || contains(d.ByPath, s.Path)
			add("path="+s.Path, ok, "the disk is "+d.Path+links(d))
		}
		if s.ByID != "" {
			ok := false
			for _, l := range d.ByID {
				ok = ok || l == s.ByID || filepath.Base(l) == s.ByID
			}
			detail := "it has no /dev/disk/by-id link"
			if len(d.ByID) > 0 {
				detail = "its by-id links are " + strings.Join(baseNames(d.ByID), ", ")
			}
			add("by_id="+s.ByID, ok, detail)
		}
		if s.Serial != "" {
			add("serial="+s.Serial, d.Serial != "" && strings.EqualFold(strings.TrimSpace(d.Serial), strings.TrimSpace(s.Serial)), orNone("its serial is ", d.Serial, "it reports no serial"))
		}
		if s.WWN != "" {
			add("wwn="+s.WWN, d.WWN != "" && normWWN(d.WWN) == normWWN(s.WWN), orNone("its WWN is ", d.WWN, "it reports no WWN"))
		}
		if s.Model != "" {
			ok, _ := path.Match(strings.ToLower(s.Model), strings.ToLower(d.Model))
			add("model="+s.Model, ok && d.Model != "", orNone("its model is ", d.Model, "it reports no model"))
		}
		if s.MinSize != "" {
			add("min_size="+s.MinSize, d.SizeBytes >= lo, "it has "+humanBytes(d.SizeBytes))
		}
		if s.MaxSize != "" {
			add("max_size="+s.MaxSize, d.SizeBytes <= hi, "it has "+humanBytes(d.SizeBytes))
		}
		if s.Transport != "" {
			add("transport="+s.Transport, d.Transport == s.Transport, orNone("its transport is ", d.Transport, "its transport is unknown"))
		}
		if s.Rotational != nil {
			add("rotational="+strconv.FormatBool(*s.Rotational), d.Rotational == *s.Rotational, yesNo(d.Rotational, "it is rotational", "it is not rotational (SSD or flash)"))
		}
		if s.Removable != nil {
			add("removable="+strconv.FormatBool(*s.Removable), d.Removable == *s.Removable, yesNo(d.Removable, "it is removable", "it is not removable"))
		}
		if s.Empty {
			add("empty", d.Empty(), contentSummary(d))
		}
		if d.BootMedium() {
			detail := strings.Join(bootReasons(d), "; ")
			if s.AllowBootMedium {
				add("not the boot medium", true, "allowed: "+detail)
			} else {
				add("not the boot medium", false, detail+" (allow_boot_medium overrides)")
			}
		} else {
			add("not the boot medium", true, "")
		}
		if r := d.RefusalsExceptBootMedium(); len(r) > 0 {
			add("usable", false, strings.Join(r, "; "))
		} else {
			add("usable", true, "")
		}
		pass[i] = true
		for _, ch := range c.Checks {
			pass[i] = pass[i] && ch.Pass
		}
		ex.Candidates = append(ex.Candidates, c)
	}
	if s.Largest || s.Smallest {
		rule := "largest"
		if s.Smallest {
			rule = "smallest"
		}
		var best uint64
		found := false
		for i, d := range sorted {
			if pass[i] && (!found || (s.Largest && d.SizeBytes > best) || (s.Smallest && d.SizeBytes < best)) {
				best, found = d.SizeBytes, true
			}
		}
		for i, d := range sorted {
			c := &ex.Candidates[i]
			switch {
			case !pass[i]:
				c.Checks = append(c.Checks, Check{Rule: rule, Pass: false, Detail: "not compared: it failed another rule"})
			case d.SizeBytes == best:
				c.Checks = append(c.Checks, Check{Rule: rule, Pass: true, Detail: humanBytes(d.SizeBytes) + " is the " + rule + " of the disks left"})
			default:
				pass[i] = false
				c.Checks = append(c.Checks, Check{Rule: rule, Pass: false, Detail: fmt.Sprintf("%s; the %s disk left has %s", humanBytes(d.SizeBytes), rule, humanBytes(best))})
			}
		}
	}
	var matched []Disk
	for i, d := range sorted {
		if pass[i] {
			ex.Candidates[i].Matched = true
			ex.Matched = append(ex.Matched, d.Path)
			matched = append(matched, d)
		}
	}
	switch len(matched) {
	case 1:
		return matched[0], ex, nil
	case 0:
		reason := fmt.Sprintf("disk selector %s matches none of the %d disks", ex.Selector, len(disks))
		if len(disks) == 0 {
			reason = fmt.Sprintf("disk selector %s matches nothing: no disks were found", ex.Selector)
		}
		return Disk{}, ex, &SelectError{Explain: ex, reason: reason}
	}
	return Disk{}, ex, &SelectError{Explain: ex, reason: fmt.Sprintf("disk selector %s matches %d disks (%s) and must match exactly one; add a rule that tells them apart, such as serial, wwn or by_id",
		ex.Selector, len(matched), strings.Join(ex.Matched, ", "))}
}

// String renders the report for people: one block per disk, one line
// per rule, plain ASCII so it reads on a serial console.
func (e Explain) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "selector: %s\n", e.Selector)
	for _, c := range e.Candidates {
		verdict := "no match"
		if c.Matched {
			verdict = "MATCH"
		}
		fmt.Fprintf(&b, "%s  %s  -> %s\n", c.Disk, c.Summary, verdict)
		w := 0
		for _, ch := range c.Checks {
			w = max(w, len(ch.Rule))
		}
		for _, ch := range c.Checks {
			mark := "pass"
			if !ch.Pass {
				mark = "FAIL"
			}
			line := fmt.Sprintf("    %s  %-*s  %s", mark, w, ch.Rule, ch.Detail)
			b.WriteString(strings.TrimRight(line, " ") + "\n")
		}
	}
	if len(e.Candidates) == 0 {
		b.WriteString("(no disks)\n")
	}
	return b.String()
}

func summary(d Disk) string {
	parts := []string{humanBytes(d.SizeBytes)}
	if d.Model != "" {
		parts = append(parts, d.Model)
	}
	if d.Serial != "" {
		parts = append(parts, "serial "+d.Serial)
	}
	if d.Transport != "" {
		parts = append(parts, d.Transport)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func links(d Disk) string {
	all := append(append([]string(nil), d.ByID...), d.ByPath...)
	if len(all) == 0 {
		return ""
	}
	return " (links: " + strings.Join(baseNames(all), ", ") + ")"
}

func baseNames(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = filepath.Base(p)
	}
	return out
}

func orNone(prefix, v, none string) string {
	if v == "" {
		return none
	}
	return prefix + v
}

func yesNo(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

func bootReasons(d Disk) []string {
	var out []string
	for _, r := range d.Refusals {
		if strings.HasPrefix(r, bootMediumPrefix) {
			out = append(out, r)
		}
	}
	return out
}

// contentSummary says what is on a disk in a few words.
func contentSummary(d Disk) string {
	switch {
	case d.Empty():
		return "it is empty"
	case d.Table != "":
		return fmt.Sprintf("it holds a %s table with %d partitions", d.Table, len(d.Partitions))
	case d.Filesystem != "":
		return "it holds a " + d.Filesystem + " filesystem on the whole disk"
	case d.GPT != nil:
		return "it holds a damaged GPT: " + d.GPT.Explanation
	}
	return "it is not empty"
}

// normWWN makes WWN spellings comparable: sysfs says "naa.5000c500a1b2c3d4"
// or "eui.0025...", by-id says "wwn-0x5000c500a1b2c3d4".
func normWWN(w string) string {
	w = strings.ToLower(strings.TrimSpace(w))
	for _, p := range []string{"wwn-", "naa.", "eui.", "t10.", "0x"} {
		w = strings.TrimPrefix(w, p)
	}
	return w
}
