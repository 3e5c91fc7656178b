package sim

import (
	"fmt"
	"strings"
)

// This file reproduces the parts of clap 4 (the Rust argument parser bootc
// uses) whose behaviour a caller can observe: which tokens are accepted,
// the wording and layout of its errors, exit status 2, and --help. The
// wording follows clap_builder's RichFormatter.

type argKind int

const (
	kindBool argKind = iota // ArgAction::SetTrue: no value, at most once
	kindOne                 // ArgAction::Set: one value, at most once
	kindMany                // ArgAction::Append: repeatable
)

// enumVal is one value of a clap ValueEnum, available since a release.
type enumVal struct {
	name   string
	since  version
	hidden bool
}

// flagDef is one long (and optional short) option.
type flagDef struct {
	long  string
	short byte
	kind  argKind
	// value is the placeholder clap derives from the field name.
	value string
	enum  []enumVal
	// since is the first bootc release that has the flag; older releases
	// reject it as an unexpected argument.
	since  version
	hidden bool
	help   string
	// requires names another flag that must be present too.
	requires string
	// parse is clap's value parser; its error follows "invalid value".
	parse func(string) error
}

type posDef struct {
	name     string
	required bool
	help     string
}

// command is one clap (sub)command.
type command struct {
	path    string // e.g. "bootc install to-filesystem"
	about   string
	flags   []flagDef
	pos     []posDef
	subs    []*command
	aliases []string
	since   version
	hidden  bool
	// run is nil for real bootc commands the simulator does not implement.
	run func(r *run, m *matches) int
	// hasVersion adds -V/--version (bootc's top level).
	hasVersion bool
}

func (c *command) name() string { return c.path[strings.LastIndexByte(c.path, ' ')+1:] }

// matches is what a successful parse produced.
type matches struct {
	vals map[string][]string
	pos  []string
}

func (m *matches) has(long string) bool     { _, ok := m.vals[long]; return ok }
func (m *matches) all(long string) []string { return m.vals[long] }

// get returns the flag's value, or "" when it was not given.
func (m *matches) get(long string) string {
	if v := m.vals[long]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// opt returns the flag's value, or nil when it was not given; for flags
// where the empty string means something (--root-mount-spec=).
func (m *matches) opt(long string) *string {
	if v := m.vals[long]; len(v) > 0 {
		return &v[0]
	}
	return nil
}

// flagsAt returns the flags release ver has, in declaration order.
func (c *command) flagsAt(ver version) []flagDef {
	var out []flagDef
	for _, f := range c.flags {
		if ver.atLeast(f.since) {
			out = append(out, f)
		}
	}
	return out
}

func (c *command) subsAt(ver version) []*command {
	var out []*command
	for _, s := range c.subs {
		if ver.atLeast(s.since) {
			out = append(out, s)
		}
	}
	return out
}

func (f flagDef) display() string {
	if f.kind == kindBool {
		return "--" + f.long
	}
	return "--" + f.long + " <" + f.value + ">"
}

func (f flagDef) valuesAt(ver version) (all, visible []string) {
	for _, e := range f.enum {
		if ver.atLeast(e.since) {
			all = append(all, e.name)
			if !e.hidden {
				visible = append(visible, e.name)
			}
		}
	}
	return all, visible
}

func (p posDef) display() string {
	if p.required {
		return "<" + p.name + ">"
	}
	return "[" + p.name + "]"
}

// usage renders clap's usage line: the full form when nothing was used,
// otherwise the "smart" form listing the arguments given plus the
// required ones.
func (c *command) usage(ver version, used map[string]bool) string {
	if len(c.subs) > 0 {
		return c.path + " <COMMAND>"
	}
	parts := []string{c.path}
	if len(used) == 0 {
		for _, f := range c.flagsAt(ver) {
			if !f.hidden {
				parts = append(parts, "[OPTIONS]")
				break
			}
		}
		for _, p := range c.pos {
			parts = append(parts, p.display())
		}
		return strings.Join(parts, " ")
	}
	for _, f := range c.flagsAt(ver) {
		if used[f.long] && !f.hidden {
			parts = append(parts, f.display())
		}
	}
	for _, p := range c.pos {
		if p.required || used["<"+p.name+">"] {
			parts = append(parts, p.display())
		}
	}
	return strings.Join(parts, " ")
}

// clapError renders one clap error in RichFormatter layout.
func clapError(msg string, tips []string, usage string) string {
	var b strings.Builder
	b.WriteString("error: " + msg)
	if len(tips) > 0 {
		b.WriteString("\n")
		for _, t := range tips {
			b.WriteString("\n  tip: " + t)
		}
	}
	if usage != "" {
		b.WriteString("\n\nUsage: " + usage)
	}
	b.WriteString("\n\nFor more information, try '--help'.\n")
	return b.String()
}

// parseOutcome tells the caller what to print and how to exit.
type parseOutcome struct {
	help string // non-empty: print to stdout, exit 0
	err  string // non-empty: print to stderr, exit 2
}

// parse parses a leaf command's arguments the way clap does.
func (c *command) parse(args []string, ver version) (*matches, parseOutcome) {
	m := &matches{vals: map[string][]string{}}
	flags := c.flagsAt(ver)
	byLong := map[string]*flagDef{}
	byShort := map[byte]*flagDef{}
	for i := range flags {
		byLong[flags[i].long] = &flags[i]
		if flags[i].short != 0 {
			byShort[flags[i].short] = &flags[i]
		}
	}
	// used drives clap's "smart" usage line: the arguments given so far.
	used := map[string]bool{}
	failWith := func(usage, msg string, tips ...string) (*matches, parseOutcome) {
		return nil, parseOutcome{err: clapError(msg, tips, usage)}
	}
	smart := func() string { return c.usage(ver, used) }
	full := func() string { return c.usage(ver, nil) }
	trailingTip := func(arg string) []string {
		if len(c.pos) == 0 {
			return nil
		}
		return []string{fmt.Sprintf("to pass '%s' as a value, use '-- %s'", arg, arg)}
	}
	emptyValue := func(f *flagDef) string {
		msg := fmt.Sprintf("a value is required for '%s' but none was supplied", f.display())
		if all, visible := f.valuesAt(ver); all != nil {
			msg += "\n  [possible values: " + strings.Join(visible, ", ") + "]"
		}
		return clapError(msg, nil, "")
	}
	// set records one occurrence; a non-empty return is the error text.
	set := func(f *flagDef, val string) string {
		if _, seen := m.vals[f.long]; seen && f.kind != kindMany {
			return clapError(fmt.Sprintf("the argument '%s' cannot be used multiple times", f.display()), nil, full())
		}
		if f.kind != kindBool {
			if all, visible := f.valuesAt(ver); all != nil {
				if val == "" {
					return emptyValue(f)
				}
				if !containsStr(all, val) {
					var tips []string
					if s := didYouMean(val, visible); s != "" {
						tips = append(tips, fmt.Sprintf("a similar value exists: '%s'", s))
					}
					return clapError(fmt.Sprintf("invalid value '%s' for '%s'\n  [possible values: %s]", val, f.display(), strings.Join(visible, ", ")), tips, "")
				}
			}
			if f.parse != nil {
				if err := f.parse(val); err != nil {
					return clapError(fmt.Sprintf("invalid value '%s' for '%s': %v", val, f.display(), err), nil, "")
				}
			}
		}
		m.vals[f.long] = append(m.vals[f.long], val)
		used[f.long] = true
		return ""
	}
	isFlagLike := func(s string) bool { return len(s) > 1 && s[0] == '-' }

	// pending is an option still waiting for its value when the next token
	// turned out to be a flag: clap parses that token first and complains
	// about the empty option only if nothing else went wrong.
	pending := ""
	trailing := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case trailing || !isFlagLike(a):
			if len(m.pos) >= len(c.pos) {
				return failWith(full(), fmt.Sprintf("unexpected argument '%s' found", a))
			}
			m.pos = append(m.pos, a)
			used["<"+c.pos[len(m.pos)-1].name+">"] = true
		case a == "--":
			trailing = true
		case strings.HasPrefix(a, "--"):
			name, val, hasEq := strings.Cut(a[2:], "=")
			if name == "help" {
				return nil, parseOutcome{help: c.help(ver)}
			}
			f := byLong[name]
			if f == nil {
				// clap's keymap order: the declared flags, then its own --help.
				var cands []string
				for _, fl := range flags {
					cands = append(cands, fl.long)
				}
				cands = append(cands, "help")
				if s := didYouMean(name, cands); s != "" {
					// clap records the suggested argument, so it shows up
					// in the usage line.
					used[s] = true
					return failWith(smart(), fmt.Sprintf("unexpected argument '--%s' found", name), fmt.Sprintf("a similar argument exists: '--%s'", s))
				}
				return failWith(smart(), fmt.Sprintf("unexpected argument '--%s' found", name), trailingTip("--"+name)...)
			}
			if f.kind == kindBool && hasEq {
				used[f.long] = true
				return failWith(smart(), fmt.Sprintf("unexpected value '%s' for '%s' found; no more were expected", val, f.display()))
			}
			if f.kind != kindBool && !hasEq {
				if i+1 >= len(args) || isFlagLike(args[i+1]) {
					used[f.long] = true
					if pending == "" {
						pending = emptyValue(f)
					}
					continue
				}
				i++
				val = args[i]
			}
			if e := set(f, val); e != "" {
				return nil, parseOutcome{err: e}
			}
		default: // one or more short flags: -v, -h, -vh
			for j := 1; j < len(a); j++ {
				ch := a[j]
				if ch == 'h' {
					return nil, parseOutcome{help: c.help(ver)}
				}
				f := byShort[ch]
				if f == nil {
					return failWith(full(), fmt.Sprintf("unexpected argument '-%c' found", ch), trailingTip(fmt.Sprintf("-%c", ch))...)
				}
				val := ""
				if f.kind != kindBool {
					val = strings.TrimPrefix(a[j+1:], "=")
					if val == "" {
						if i+1 >= len(args) {
							return nil, parseOutcome{err: emptyValue(f)}
						}
						i++
						val = args[i]
					}
					j = len(a)
				}
				if e := set(f, val); e != "" {
					return nil, parseOutcome{err: e}
				}
			}
		}
	}
	if pending != "" {
		return nil, parseOutcome{err: pending}
	}

	var missing []string
	for _, f := range flags {
		if f.requires != "" && m.has(f.long) && !m.has(f.requires) {
			if rf := byLong[f.requires]; rf != nil {
				missing = append(missing, rf.display())
			}
		}
	}
	for i, p := range c.pos {
		if p.required && i >= len(m.pos) {
			missing = append(missing, p.display())
		}
	}
	if len(missing) > 0 {
		return failWith(smart(), "the following required arguments were not provided:\n  "+strings.Join(missing, "\n  "))
	}
	return m, parseOutcome{}
}

// help renders clap's long help (--help). Hidden flags and values newer
// than ver are left out, which is what a caller probing the image's bootc
// relies on.
func (c *command) help(ver version) string {
	var b strings.Builder
	if c.about != "" {
		b.WriteString(c.about + "\n\n")
	}
	b.WriteString("Usage: " + c.usage(ver, nil) + "\n")
	if subs := c.subsAt(ver); len(subs) > 0 {
		b.WriteString("\nCommands:\n")
		width := len("help")
		for _, s := range subs {
			if !s.hidden {
				width = max(width, len(s.name()))
			}
		}
		for _, s := range subs {
			if !s.hidden {
				fmt.Fprintf(&b, "  %-*s  %s\n", width, s.name(), s.about)
			}
		}
		fmt.Fprintf(&b, "  %-*s  %s\n", width, "help", "Print this message or the help of the given subcommand(s)")
		b.WriteString("\nOptions:\n")
		if c.hasVersion {
			b.WriteString("  -h, --help     Print help (see more with '--help')\n  -V, --version  Print version\n")
		} else {
			b.WriteString("  -h, --help  Print help (see more with '--help')\n")
		}
		return b.String()
	}
	if len(c.pos) > 0 {
		b.WriteString("\nArguments:\n")
		for _, p := range c.pos {
			fmt.Fprintf(&b, "  %s\n          %s\n\n", p.display(), p.help)
		}
	} else {
		b.WriteString("\n")
	}
	b.WriteString("Options:\n")
	for _, f := range c.flagsAt(ver) {
		if f.hidden {
			continue
		}
		lead := "      "
		if f.short != 0 {
			lead = fmt.Sprintf("  -%c, ", f.short)
		}
		fmt.Fprintf(&b, "%s%s\n          %s\n", lead, f.display(), f.help)
		if _, visible := f.valuesAt(ver); visible != nil {
			fmt.Fprintf(&b, "\n          [possible values: %s]\n", strings.Join(visible, ", "))
		}
		b.WriteString("\n")
	}
	b.WriteString("  -h, --help\n          Print help (see a summary with '-h')\n")
	return b.String()
}

// didYouMean is clap's suggestion: the candidate with the highest Jaro
// similarity above 0.7 (later candidates win ties), or "".
func didYouMean(v string, candidates []string) string {
	best, bestScore := "", 0.7
	for _, c := range candidates {
		if s := jaro(v, c); s > 0.7 && s >= bestScore {
			best, bestScore = c, s
		}
	}
	return best
}

// jaro is strsim::jaro, which clap uses for suggestions.
func jaro(a, b string) float64 {
	ar, br := []rune(a), []rune(b)
	switch {
	case len(ar) == 0 && len(br) == 0:
		return 1
	case len(ar) == 0 || len(br) == 0:
		return 0
	}
	searchRange := max(len(ar), len(br))/2 - 1
	if searchRange < 0 {
		searchRange = 0
	}
	aFlags := make([]bool, len(ar))
	bFlags := make([]bool, len(br))
	matched := 0
	for i, ac := range ar {
		lo := max(0, i-searchRange)
		hi := min(len(br), i+searchRange+1)
		for j := lo; j < hi; j++ {
			if !bFlags[j] && ac == br[j] {
				aFlags[i], bFlags[j] = true, true
				matched++
				break
			}
		}
	}
	if matched == 0 {
		return 0
	}
	transpositions, k := 0, 0
	for i, ac := range ar {
		if !aFlags[i] {
			continue
		}
		for !bFlags[k] {
			k++
		}
		if ac != br[k] {
			transpositions++
		}
		k++
	}
	m := float64(matched)
	return (m/float64(len(ar)) + m/float64(len(br)) + (m-float64(transpositions/2))/m) / 3
}

func containsStr(xs []string, x string) bool {
	for _, s := range xs {
		if s == x {
			return true
		}
	}
	return false
}
