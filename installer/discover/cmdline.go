// Package discover finds the answer file on the live system: a flag, the kernel command line, the live medium, or a labelled volume, each tried in turn and logged.
package discover

import (
	"fmt"
	"os"
	"strings"
)

// DefaultCmdline is where the kernel's command line is read from.
const DefaultCmdline = "/proc/cmdline"

// Arg is one kernel command-line argument: key=value, or a bare key.
type Arg struct {
	Key      string
	Value    string
	HasValue bool
}

// Cmdline is a parsed kernel command line, in order.
type Cmdline []Arg

// maxCmdline bounds what is parsed; the kernel's own limit is a few KiB
// (COMMAND_LINE_SIZE), so anything longer is not a command line.
const maxCmdline = 64 << 10

// ParseCmdline splits a kernel command line as the kernel and systemd do:
// arguments are separated by whitespace, double quotes group (and are
// removed), and each argument is key=value or a bare key.
func ParseCmdline(s string) Cmdline {
	if len(s) > maxCmdline {
		s = s[:maxCmdline]
	}
	var out Cmdline
	var b strings.Builder
	inQuote, inArg := false, false
	flush := func() {
		if !inArg {
			return
		}
		word := b.String()
		b.Reset()
		inArg = false
		k, v, has := strings.Cut(word, "=")
		if k == "" {
			return
		}
		out = append(out, Arg{Key: k, Value: v, HasValue: has})
	}
	// Bytes, not runes: the separators are ASCII, and a byte that is not
	// UTF-8 must reach the value as it is.
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			inQuote = !inQuote
			inArg = true
		case !inQuote && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			flush()
		default:
			b.WriteByte(c)
			inArg = true
		}
	}
	flush()
	return out
}

// ReadCmdline reads and parses the command line at path.
func ReadCmdline(path string) (Cmdline, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the kernel command line: %w", err)
	}
	return ParseCmdline(string(b)), nil
}

// Values returns the values of every key=value argument named key, in
// order; an argument given without a value yields "".
func (c Cmdline) Values(key string) []string {
	var out []string
	for _, a := range c {
		if a.Key == key {
			out = append(out, a.Value)
		}
	}
	return out
}

// Has reports whether key appears, with or without a value. A value of 0,
// no, off or false turns a flag off, as systemd reads booleans.
func (c Cmdline) Has(key string) bool {
	on := false
	for _, a := range c {
		if a.Key != key {
			continue
		}
		on = true
		if a.HasValue {
			switch strings.ToLower(a.Value) {
			case "0", "no", "off", "false":
				on = false
			}
		}
	}
	return on
}

// Autoinstall is the kernel argument that confirms an unattended install,
// as subiquity's autoinstall does: the answer file may then write a disk
// even without confirm = true.
const Autoinstall = "uai.autoinstall"
