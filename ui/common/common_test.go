package common

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
)

func TestBytes(t *testing.T) {
	cases := map[uint64]string{
		0:                       "0 B",
		512:                     "512 B",
		1 << 20:                 "1 MiB",
		600 << 20:               "600 MiB",
		64 << 30:                "64 GiB",
		64<<30 - 1<<20:          "64 GiB", // 63.999 rounds to one decimal
		(127 << 30) + (1 << 29): "127.5 GiB",
		2 << 40:                 "2 TiB",
	}
	for in, want := range cases {
		if got := Bytes(in); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", in, got, want)
		}
	}
}

func TestDuration(t *testing.T) {
	cases := map[time.Duration]string{
		-time.Second:                      "0.0s",
		400 * time.Millisecond:            "0.4s",
		12 * time.Second:                  "12s",
		83 * time.Second:                  "1m23s",
		2*time.Hour + 3*time.Minute + 4e9: "2h03m",
	}
	for in, want := range cases {
		if got := Duration(in); got != want {
			t.Errorf("Duration(%s) = %q, want %q", in, got, want)
		}
	}
}

func TestShellJoin(t *testing.T) {
	cases := []struct {
		argv []string
		want string
	}{
		{[]string{"podman", "run", "--security-opt", "label=type:unconfined_t", "-v", "/dev:/dev"}, "podman run --security-opt label=type:unconfined_t -v /dev:/dev"},
		{[]string{"echo", "with space"}, "echo 'with space'"},
		{[]string{"echo", "it's"}, `echo 'it'\''s'`},
		{[]string{"echo", "$HOME", "a;b", `"q"`}, `echo '$HOME' 'a;b' '"q"'`},
		{[]string{"echo", ""}, "echo ''"},
		{[]string{"quay.io/fedora/fedora-bootc@sha256:0123abcd"}, "quay.io/fedora/fedora-bootc@sha256:0123abcd"},
	}
	for _, tc := range cases {
		if got := ShellJoin(tc.argv); got != tc.want {
			t.Errorf("ShellJoin(%q) = %s, want %s", tc.argv, got, tc.want)
		}
	}
}

func TestWrap(t *testing.T) {
	cases := []struct {
		in    string
		width int
		want  []string
	}{
		{"quay.io/fedora/fedora-bootc:44 is long", 31, []string{"quay.io/fedora/fedora-bootc:44", "is long"}},
		{"--target-imgref never splits at hyphens", 20, []string{"--target-imgref", "never splits at", "hyphens"}},
		{"sha256:0123456789abcdef", 10, []string{"sha256:012", "3456789abc", "def"}},
		{"a\nb c", 10, []string{"a", "b c"}},
		{"", 10, []string{""}},
	}
	for _, tc := range cases {
		got := Wrap(tc.in, tc.width)
		if !slices.Equal(got, tc.want) {
			t.Errorf("Wrap(%q, %d) = %q, want %q", tc.in, tc.width, got, tc.want)
		}
		for _, l := range got {
			if ansi.StringWidth(l) > tc.width {
				t.Errorf("Wrap(%q, %d) made a line of %d cells", tc.in, tc.width, ansi.StringWidth(l))
			}
		}
	}
}

// TestWrapCommand checks that wrapped lines, joined as a shell would join
// continued lines, give back the exact command.
func TestWrapCommand(t *testing.T) {
	argv := []string{
		"podman", "run", "--rm", "--security-opt", "label=type:unconfined_t", "-v", "/var/lib/containers:/var/lib/containers",
		"quay.io/fedora/fedora-bootc@sha256:4f9a1c2b3d4e5f60718293a4b5c6d7e8f90123456789abcdef0123456789abcd",
		"bootc", "install", "to-filesystem", "/run/uai/target",
	}
	lines := WrapCommand(argv, 40)
	if len(lines) < 3 {
		t.Fatalf("not wrapped: %q", lines)
	}
	for i, l := range lines {
		if ansi.StringWidth(l) > 40 {
			t.Errorf("line %d is %d cells: %q", i, ansi.StringWidth(l), l)
		}
		if last := i == len(lines)-1; last == strings.HasSuffix(l, `\`) {
			t.Errorf("line %d continuation mark wrong: %q", i, l)
		}
	}
	// The shell drops each backslash-newline, then splits at blanks.
	joined := strings.Fields(strings.ReplaceAll(strings.Join(lines, "\n"), "\\\n", ""))
	if !slices.Equal(joined, argv) {
		t.Errorf("wrapped command reads back as %q from\n%s", joined, strings.Join(lines, "\n"))
	}
}

func TestScrollFollowKeepsFocusOutOfTheIndicators(t *testing.T) {
	const total, height = 30, 8
	var s Scroll
	lines := make([]string, total)
	for i := range lines {
		lines[i] = "line " + string(rune('A'+i))
	}
	visible := func() []string {
		return strings.Split(s.Render(lines, height, func(x ...string) string { return strings.Join(x, "") }), "\n")
	}
	// Walk down and back up; the focused line must always be shown as
	// itself, never hidden under "more lines" or outside the window.
	order := make([]int, 0, 2*total)
	for i := range total {
		order = append(order, i)
	}
	for i := total - 1; i >= 0; i-- {
		order = append(order, i)
	}
	for _, focus := range order {
		s.Follow(focus, focus, height, total)
		v := visible()
		if len(v) != height {
			t.Fatalf("window has %d lines, want %d", len(v), height)
		}
		if !slices.Contains(v, lines[focus]) {
			t.Fatalf("focus %d not visible at offset %d: %q", focus, s.Offset, v)
		}
	}
	s.Follow(0, 0, height, total)
	if v := visible(); v[0] != lines[0] || !strings.Contains(v[height-1], "23 more lines below") {
		t.Errorf("top window = %q", v)
	}
	s.Follow(total-1, total-1, height, total)
	if v := visible(); v[height-1] != lines[total-1] || !strings.Contains(v[0], "23 more lines above") {
		t.Errorf("bottom window = %q", v)
	}
}

func TestLinesPadsAndCuts(t *testing.T) {
	if got := Lines("a\nb\nc", 2); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("cut: %q", got)
	}
	if got := Lines("a", 3); !slices.Equal(got, []string{"a", "", ""}) {
		t.Errorf("pad: %q", got)
	}
}
