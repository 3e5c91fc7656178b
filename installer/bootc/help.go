package bootc

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// helpFlagRe matches an option line of clap's help output:
// "      --karg <KARG>" or "  -h, --help".
var helpFlagRe = regexp.MustCompile(`^\s+(?:-[A-Za-z0-9], )?--([a-z0-9][a-z0-9-]*)`)

// ParseHelpFlags returns the long flags (without "--") a bootc
// `install to-filesystem --help` (or to-disk) lists. The flags a bootc
// accepts depend on its version, which is the image's, so uai probes the
// image's own help before building argv. Hidden flags never appear, and
// InstallArgs never emits one.
func ParseHelpFlags(help string) map[string]bool {
	out := map[string]bool{}
	for _, line := range strings.Split(help, "\n") {
		if m := helpFlagRe.FindStringSubmatch(line); m != nil {
			out[m[1]] = true
		}
	}
	return out
}

// CheckFlagsSupported reports the flags in argv (as InstallArgs builds it)
// that the probed help does not list, so an old image's bootc never sees a
// flag it would reject with exit status 2.
func CheckFlagsSupported(argv []string, supported map[string]bool) error {
	var missing []string
	seen := map[string]bool{}
	for _, a := range argv {
		name, ok := strings.CutPrefix(a, "--")
		if !ok || name == "" {
			continue
		}
		name, _, _ = strings.Cut(name, "=")
		if !supported[name] && !seen[name] {
			seen[name] = true
			missing = append(missing, "--"+name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	sort.Strings(missing)
	return fmt.Errorf("the image's bootc does not support %s; leave the option out or pick an image with a newer bootc", strings.Join(missing, ", "))
}
