package sim

import (
	"fmt"
	"strings"
	"testing"
)

func leaf(t *testing.T, path string) *command {
	t.Helper()
	c := bootcCLI()
	for _, w := range strings.Fields(path)[1:] {
		c = findSub(c, w, v(99, 0, 0))
		if c == nil {
			t.Fatalf("no command %q", path)
		}
	}
	return c
}

func parseAt(t *testing.T, path, ver string, args ...string) parseOutcome {
	t.Helper()
	vv, err := parseVersion(ver)
	if err != nil {
		t.Fatal(err)
	}
	_, o := leaf(t, path).parse(args, vv)
	return o
}

// TestEveryDocumentedFlagIsAccepted walks bootc.md §1.1-1.3 (install) and
// §2 (switch, status), each flag in both --flag value and --flag=value
// form where it takes a value.
func TestEveryDocumentedFlagIsAccepted(t *testing.T) {
	shared := [][]string{
		{"--source-imgref", "containers-storage:" + testImage},
		{"--target-transport", "registry"},
		{"--target-imgref", testImage},
		{"--enforce-container-sigpolicy"},
		{"--run-fetch-check"},
		{"--skip-fetch-check"},
		{"--disable-selinux"},
		{"--karg", "console=ttyS0", "--karg", "nosmt"},
		{"--karg-delete", "rhgb", "--karg-delete", "quiet"},
		{"--root-ssh-authorized-keys", "/keys"},
		{"--generic-image"},
		{"--bound-images", "stored"},
		{"--bound-images", "pull"},
		{"--bound-images", "skip"}, // hidden value, still accepted
		{"--stateroot", "test-stateroot"},
		{"--bootupd-skip-boot-uuid"},
		{"--bootloader", "grub"},
		{"--bootloader", "grub-cc"},
		{"--bootloader", "systemd"},
		{"--bootloader", "none"},
		{"--composefs-backend"},
		{"--composefs-backend", "--allow-missing-verity"},
		{"--composefs-backend", "--uki-addon", "a", "--uki-addon", "b"},
		{"--target-no-signature-verification"}, // hidden
		{"--experimental-unified-storage"},     // hidden
	}
	cases := map[string][][]string{
		"bootc install to-disk": append([][]string{
			{"--wipe"}, {"--block-setup", "direct"}, {"--block-setup", "tpm2-luks"},
			{"--filesystem", "xfs"}, {"--filesystem", "ext4"}, {"--filesystem", "btrfs"},
			{"--root-size", "20G"}, {"--via-loopback"},
		}, shared...),
		"bootc install to-filesystem": append([][]string{
			{"--root-mount-spec", "UUID=2e9f4241-229b-4202-8429-62d2302382e1"}, {"--root-mount-spec", ""},
			{"--boot-mount-spec", "UUID=x"}, {"--boot-mount-spec", ""},
			{"--replace", "wipe"}, {"--replace", "alongside"}, {"--acknowledge-destructive"}, {"--skip-finalize"},
		}, shared...),
		"bootc switch": {
			{"--transport", "registry"}, {"--transport", "oci"}, {"--apply"}, {"--apply", "--soft-reboot", "required"},
			{"--soft-reboot", "auto"}, {"--enforce-container-sigpolicy"}, {"--retain"}, {"--quiet"},
			{"--progress-fd", "3"}, {"--mutate-in-place"}, {"--no-signature-verification"}, {"--experimental-unified-storage"},
		},
		"bootc status": {
			{"--format", "humanreadable"}, {"--format", "yaml"}, {"--format", "json"},
			{"--format-version", "0"}, {"--format-version", "1"}, {"--booted"}, {"-v"}, {"--verbose"}, {"--json"},
			{"--format=json", "--format-version=1", "--booted", "-v"},
		},
	}
	positional := map[string][]string{
		"bootc install to-disk": {"/dev/vda"}, "bootc install to-filesystem": {"/mnt/target"},
		"bootc switch": {testImage}, "bootc status": nil,
	}
	for path, flagSets := range cases {
		for _, args := range flagSets {
			forms := [][]string{args}
			if eq := equalsForm(args); eq != nil {
				forms = append(forms, eq)
			}
			for _, form := range forms {
				all := append(append([]string(nil), form...), positional[path]...)
				if o := parseAt(t, path, DefaultBootcVersion, all...); o.err != "" || o.help != "" {
					t.Errorf("%s %q rejected:\n%s", path, all, o.err)
				}
			}
		}
	}
}

// equalsForm turns "--flag value" pairs into "--flag=value".
func equalsForm(args []string) []string {
	var out []string
	changed := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "--") && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
			out = append(out, a+"="+args[i+1])
			i++
			changed = true
			continue
		}
		out = append(out, a)
	}
	if !changed {
		return nil
	}
	return out
}

func TestMethodOnlyFlagsAreRejectedOnTheOtherMethod(t *testing.T) {
	for _, tc := range []struct{ path, flag, target string }{
		{"bootc install to-filesystem", "--wipe", "/mnt/t"},
		{"bootc install to-filesystem", "--filesystem=xfs", "/mnt/t"},
		{"bootc install to-filesystem", "--block-setup=direct", "/mnt/t"},
		{"bootc install to-filesystem", "--root-size=10G", "/mnt/t"},
		{"bootc install to-filesystem", "--via-loopback", "/mnt/t"},
		{"bootc install to-disk", "--root-mount-spec=UUID=1", "/dev/vda"},
		{"bootc install to-disk", "--boot-mount-spec=UUID=1", "/dev/vda"},
		{"bootc install to-disk", "--replace=wipe", "/dev/vda"},
		{"bootc install to-disk", "--skip-finalize", "/dev/vda"},
		{"bootc install to-disk", "--acknowledge-destructive", "/dev/vda"},
	} {
		o := parseAt(t, tc.path, DefaultBootcVersion, tc.flag, tc.target)
		name, _, _ := strings.Cut(tc.flag, "=")
		if !strings.HasPrefix(o.err, fmt.Sprintf("error: unexpected argument '%s' found\n", name)) {
			t.Errorf("%s %s: got %q", tc.path, tc.flag, o.err)
		}
	}
}

// TestFlagsFollowTheirFirstRelease checks the "first release containing
// each flag" list: the release before rejects the flag as unknown, the
// release itself accepts it.
func TestFlagsFollowTheirFirstRelease(t *testing.T) {
	for _, tc := range []struct {
		path  string
		args  []string
		since string
		want  string // the error an older bootc prints
	}{
		{"bootc switch", []string{"--progress-fd", "3", testImage}, "1.1.4", "unexpected argument '--progress-fd' found"},
		{"bootc install to-filesystem", []string{"--run-fetch-check", "/t"}, "1.1.7", "unexpected argument '--run-fetch-check' found"},
		{"bootc switch", []string{"--soft-reboot", "auto", testImage}, "1.7.0", "unexpected argument '--soft-reboot' found"},
		{"bootc install to-filesystem", []string{"--bootloader", "grub", "/t"}, "1.10.0", "unexpected argument '--bootloader' found"},
		{"bootc install to-disk", []string{"--composefs-backend", "/d"}, "1.10.0", "unexpected argument '--composefs-backend' found"},
		{"bootc install to-filesystem", []string{"--bootupd-skip-boot-uuid", "/t"}, "1.13.0", "unexpected argument '--bootupd-skip-boot-uuid' found"},
		{"bootc install to-filesystem", []string{"--bootloader", "none", "/t"}, "1.13.0", "invalid value 'none' for '--bootloader <BOOTLOADER>'\n  [possible values: grub, systemd]"},
		{"bootc install to-filesystem", []string{"--karg-delete", "quiet", "/t"}, "1.15.1", "unexpected argument '--karg-delete' found"},
		{"bootc install to-disk", []string{"--bootloader", "grub-cc", "/d"}, "1.16.3", "invalid value 'grub-cc' for '--bootloader <BOOTLOADER>'\n  [possible values: grub, systemd, none]"},
		{"bootc install to-filesystem", []string{"--stateroot", "s", "/t"}, "0.1.16", "unexpected argument '--stateroot' found"},
		{"bootc install to-filesystem", []string{"--bound-images", "pull", "/t"}, "1.1.3", "unexpected argument '--bound-images' found"},
		{"bootc install to-filesystem", []string{"--source-imgref", "oci:/x", "/t"}, "0.1.6", "unexpected argument '--source-imgref' found"},
		{"bootc install to-disk", []string{"--via-loopback", "/d"}, "0.1.6", "unexpected argument '--via-loopback' found"},
		{"bootc install to-filesystem", []string{"--allow-missing-verity", "--composefs-backend", "/t"}, "1.14.0", "unexpected argument '--allow-missing-verity' found"},
		{"bootc status", []string{"-v"}, "1.5.0", "unexpected argument '-v' found"},
		{"bootc status", []string{"--format", "json"}, "0.1.13", "unexpected argument '--format' found"},
	} {
		before := previous(t, tc.since)
		if o := parseAt(t, tc.path, tc.since, tc.args...); o.err != "" {
			t.Errorf("%s %q at %s rejected:\n%s", tc.path, tc.args, tc.since, o.err)
		}
		if o := parseAt(t, tc.path, before, tc.args...); !strings.Contains(o.err, tc.want) {
			t.Errorf("%s %q at %s: got %q, want %q", tc.path, tc.args, before, o.err, tc.want)
		}
	}
}

func previous(t *testing.T, s string) string {
	vv, err := parseVersion(s)
	if err != nil {
		t.Fatal(err)
	}
	if vv[2] > 0 {
		vv[2]--
	} else {
		vv[1], vv[2] = vv[1]-1, 99
	}
	return vv.String()
}

// TestOldBootcViaMain runs an old release end to end: the flag it lacks
// fails with clap's exit status 2, the flags it has work.
func TestOldBootcViaMain(t *testing.T) {
	tg := newTarget(t)
	env := tg.env(t, nil)
	env.Version = "1.1.0"
	expect(t, runSim("bootc", env, "install", "to-filesystem", "--run-fetch-check", tg.root), 2, "error: unexpected argument '--run-fetch-check' found")
	expect(t, runSim("bootc", env, "install", "to-filesystem", "--skip-fetch-check", "--target-imgref", testImage, tg.root), 0, "Installation complete!")
	r := runSim("bootc", env, "--version")
	if r.stdout != "bootc 1.1.0\n" {
		t.Errorf("--version: %s", r)
	}
	env.Version = "one.two"
	expect(t, runSim("bootc", env, "status"), 1, `bootc version "one.two" is not MAJOR.MINOR[.PATCH]`)
}

func TestInstallFlagsViaMainDoNotTripTheParser(t *testing.T) {
	// A to-filesystem run per flag with real side effects: none may be a
	// clap error (2); the install either completes or fails on bootc's own
	// terms (1).
	for _, args := range [][]string{
		{"--target-imgref=" + testImage}, {"--target-transport=registry"}, {"--enforce-container-sigpolicy"},
		{"--run-fetch-check"}, {"--skip-fetch-check"}, {"--disable-selinux"}, {"--karg=a", "--karg=b"},
		{"--karg-delete=a"}, {"--generic-image"}, {"--bound-images=pull"}, {"--stateroot=s"},
		{"--bootupd-skip-boot-uuid"}, {"--bootloader=grub-cc"}, {"--composefs-backend"},
		{"--root-mount-spec=LABEL=root"}, {"--boot-mount-spec="}, {"--replace=alongside"},
		{"--acknowledge-destructive"}, {"--skip-finalize"}, {"--target-no-signature-verification"},
		{"--experimental-unified-storage"},
	} {
		tg := newTarget(t)
		r := runSim("bootc", tg.env(t, nil), append(append([]string{"install", "to-filesystem"}, args...), tg.root)...)
		if r.code != 0 {
			t.Errorf("%q:\n%s", args, r)
		}
	}
}
