package sim

import (
	"fmt"
	"strconv"
	"strings"
)

// version is a bootc release, compared numerically.
type version [3]int

func v(major, minor, patch int) version { return version{major, minor, patch} }

// parseVersion accepts "1.16.9", "v1.16.9" and "1.16" (patch 0).
func parseVersion(s string) (version, error) {
	parts := strings.Split(strings.TrimPrefix(s, "v"), ".")
	if len(parts) < 2 || len(parts) > 3 {
		return version{}, fmt.Errorf("bootc version %q is not MAJOR.MINOR[.PATCH]; use e.g. 1.16.9", s)
	}
	var out version
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return version{}, fmt.Errorf("bootc version %q is not MAJOR.MINOR[.PATCH]; use e.g. 1.16.9", s)
		}
		out[i] = n
	}
	return out, nil
}

func (a version) less(b version) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// atLeast reports whether a is b or newer.
func (a version) atLeast(b version) bool { return !a.less(b) }

func (a version) String() string { return fmt.Sprintf("%d.%d.%d", a[0], a[1], a[2]) }
