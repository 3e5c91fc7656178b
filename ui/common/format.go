package common

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
)

// Bytes renders a size in binary units: "64 GiB", "59.6 GiB", "512 MiB".
func Bytes(b uint64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	v := float64(b)
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%d B", b)
	}
	s := fmt.Sprintf("%.1f", v)
	s = strings.TrimSuffix(s, ".0")
	return s + " " + units[i]
}

// Duration renders a duration for people: "0.4s", "12s", "1m23s", "1h02m".
func Duration(d time.Duration) string {
	switch {
	case d < 0:
		d = 0
		fallthrough
	case d < 10*time.Second:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9@%+=:,./_-]+$`)

// ShellJoin joins argv so that pasting it into a shell runs exactly it.
func ShellJoin(argv []string) string {
	out := make([]string, len(argv))
	for i, a := range argv {
		if shellSafe.MatchString(a) {
			out[i] = a
			continue
		}
		out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(out, " ")
}

// Wrap breaks plain text into lines of at most width cells at spaces, and
// cuts inside a word only when the word alone is too long (a digest, a
// path). Unlike ansi.Wrap it never breaks at hyphens, which would split
// image refs and flags such as --target-imgref. Style the lines after
// wrapping.
func Wrap(s string, width int) []string {
	width = max(width, 1)
	var out []string
	for _, para := range strings.Split(s, "\n") {
		line := ""
		for _, word := range strings.Fields(para) {
			for ansi.StringWidth(word) > width {
				if line != "" {
					out = append(out, line)
					line = ""
				}
				head := ansi.Truncate(word, width, "")
				out = append(out, head)
				word = word[len(head):]
			}
			switch {
			case word == "":
			case line == "":
				line = word
			case ansi.StringWidth(line)+1+ansi.StringWidth(word) <= width:
				line += " " + word
			default:
				out = append(out, line)
				line = word
			}
		}
		out = append(out, line)
	}
	return out
}

// WrapStyled wraps plain text and styles each line.
func WrapStyled(s string, width int, style func(...string) string) []string {
	lines := Wrap(s, width)
	for i, l := range lines {
		lines[i] = style(l)
	}
	return lines
}

// WrapCommand lays argv out in lines of at most width cells, breaking
// between arguments and ending each broken line with a backslash, so that the
// lines pasted into a shell still run exactly argv. An argument too long
// for a line by itself (an image ref with a digest) is split with a bare
// backslash-newline, which the shell removes, so the word reads back
// whole; its continued lines start at column 0 because an indent would
// become part of the word. A quoted argument cannot be split that way and
// is left long.
func WrapCommand(argv []string, width int) []string {
	const cont, indent = " \\", "  "
	width = max(width, 12)
	w := ansi.StringWidth
	var out []string
	line := ""
	for _, raw := range argv {
		a := ShellJoin([]string{raw})
		if line != "" && w(line)+1+w(a)+len(cont) <= width {
			line += " " + a
			continue
		}
		if line != "" {
			out = append(out, line+cont)
		}
		line = a
		if len(out) > 0 {
			line = indent + a
		}
		if !shellSafe.MatchString(raw) {
			continue
		}
		for w(line)+len(cont) > width {
			out = append(out, line[:width-1]+"\\")
			line = line[width-1:]
		}
	}
	return append(out, line)
}

// Truncate cuts s to width cells. The tail is plain ASCII because the
// Linux console font may lack "…".
func Truncate(s string, width int) string {
	if width < 1 {
		return ""
	}
	return ansi.Truncate(s, width, "...")
}

// Pad fills s with spaces to width cells (never cutting it).
func Pad(s string, width int) string {
	if w := ansi.StringWidth(s); w < width {
		return s + strings.Repeat(" ", width-w)
	}
	return s
}

// Fit cuts or pads s to exactly width cells.
func Fit(s string, width int) string {
	return Pad(Truncate(s, width), width)
}

// KeyValue renders "label  value" with the label column width lw and the
// value wrapped under itself, so long refs and digests stay whole.
func KeyValue(label, value string, lw, width int, labelStyle func(...string) string) []string {
	vw := max(width-lw, 10)
	lines := Wrap(value, vw)
	out := make([]string, len(lines))
	for i, l := range lines {
		lab := strings.Repeat(" ", lw)
		if i == 0 {
			lab = labelStyle(Pad(label, lw))
		}
		out[i] = lab + l
	}
	return out
}

// Lines returns exactly height lines from content, cutting or padding.
func Lines(content string, height int) []string {
	lines := strings.Split(content, "\n")
	if len(lines) > height {
		lines = lines[:height]
	}
	for len(lines) < height {
		lines = append(lines, "")
	}
	return lines
}

// Width is the display width of s in cells, escape codes excluded.
func Width(s string) int { return ansi.StringWidth(s) }

// Strength rates a password or passphrase for the hint under its field:
// 0 weak, 1 fair, 2 strong, with the words to show. It is a hint, not a
// rule: length counts most, and several kinds of character help.
func Strength(p string) (int, string) {
	n := len([]rune(p))
	var lower, upper, digit, other bool
	for _, r := range p {
		switch {
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= '0' && r <= '9':
			digit = true
		default:
			other = true
		}
	}
	kinds := 0
	for _, k := range []bool{lower, upper, digit, other} {
		if k {
			kinds++
		}
	}
	switch {
	case n == 0:
		return 0, "empty"
	case n >= 16 || (n >= 12 && kinds >= 3):
		return 2, fmt.Sprintf("strong (%d characters)", n)
	case n >= 12 || (n >= 10 && kinds >= 2):
		return 1, fmt.Sprintf("fair (%d characters); longer is stronger, several words work well", n)
	}
	return 0, fmt.Sprintf("weak (%d characters); use 12 or more, or several words", n)
}
