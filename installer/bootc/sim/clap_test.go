package sim

import (
	"math"
	"strings"
	"testing"

	"github.com/universal-atomic-installer/uai/installer/bootc"
)

// TestClapErrors pins the exact text and exit status of clap's errors.
func TestClapErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		out  string // exact stderr
	}{
		{"unknown flag with suggestion", []string{"install", "to-filesystem", "--kargs", "x", "/mnt/t"},
			"error: unexpected argument '--kargs' found\n\n  tip: a similar argument exists: '--karg'\n\nUsage: bootc install to-filesystem --karg <KARG> <ROOT_PATH>\n\nFor more information, try '--help'.\n"},
		{"unknown flag without suggestion", []string{"install", "to-filesystem", "--wipe", "/mnt/t"},
			"error: unexpected argument '--wipe' found\n\n  tip: to pass '--wipe' as a value, use '-- --wipe'\n\nUsage: bootc install to-filesystem [OPTIONS] <ROOT_PATH>\n\nFor more information, try '--help'.\n"},
		{"smart usage lists what was given", []string{"install", "to-filesystem", "--stateroot", "s", "/mnt/t", "--xyzzy"},
			"error: unexpected argument '--xyzzy' found\n\n  tip: to pass '--xyzzy' as a value, use '-- --xyzzy'\n\nUsage: bootc install to-filesystem --stateroot <STATEROOT> <ROOT_PATH>\n\nFor more information, try '--help'.\n"},
		{"unknown short flag", []string{"install", "to-filesystem", "-x", "/mnt/t"},
			"error: unexpected argument '-x' found\n\n  tip: to pass '-x' as a value, use '-- -x'\n\nUsage: bootc install to-filesystem [OPTIONS] <ROOT_PATH>\n\nFor more information, try '--help'.\n"},
		{"missing positional", []string{"install", "to-filesystem"},
			"error: the following required arguments were not provided:\n  <ROOT_PATH>\n\nUsage: bootc install to-filesystem [OPTIONS] <ROOT_PATH>\n\nFor more information, try '--help'.\n"},
		{"missing device", []string{"install", "to-disk", "--wipe"},
			"error: the following required arguments were not provided:\n  <DEVICE>\n\nUsage: bootc install to-disk --wipe <DEVICE>\n\nFor more information, try '--help'.\n"},
		{"extra positional", []string{"install", "to-filesystem", "/a", "/b"},
			"error: unexpected argument '/b' found\n\nUsage: bootc install to-filesystem [OPTIONS] <ROOT_PATH>\n\nFor more information, try '--help'.\n"},
		{"invalid enum value", []string{"install", "to-disk", "--filesystem", "zfs", "/dev/vda"},
			"error: invalid value 'zfs' for '--filesystem <FILESYSTEM>'\n  [possible values: xfs, ext4, btrfs]\n\n  tip: a similar value exists: 'xfs'\n\nFor more information, try '--help'.\n"},
		{"invalid enum value, no suggestion", []string{"install", "to-filesystem", "--replace=all", "/mnt/t"},
			"error: invalid value 'all' for '--replace <REPLACE>'\n  [possible values: wipe, alongside]\n\nFor more information, try '--help'.\n"},
		{"hidden enum value not listed", []string{"install", "to-filesystem", "--bound-images=fetch", "/mnt/t"},
			"error: invalid value 'fetch' for '--bound-images <BOUND_IMAGES>'\n  [possible values: stored, pull]\n\nFor more information, try '--help'.\n"},
		{"empty enum value", []string{"install", "to-disk", "--block-setup=", "/dev/vda"},
			"error: a value is required for '--block-setup <BLOCK_SETUP>' but none was supplied\n  [possible values: direct, tpm2-luks]\n\nFor more information, try '--help'.\n"},
		{"missing value at end", []string{"install", "to-filesystem", "/mnt/t", "--stateroot"},
			"error: a value is required for '--stateroot <STATEROOT>' but none was supplied\n\nFor more information, try '--help'.\n"},
		{"value looks like an unknown flag", []string{"install", "to-filesystem", "--karg", "--wipe", "/mnt/t"},
			"error: unexpected argument '--wipe' found\n\n  tip: to pass '--wipe' as a value, use '-- --wipe'\n\nUsage: bootc install to-filesystem --karg <KARG> <ROOT_PATH>\n\nFor more information, try '--help'.\n"},
		{"value looks like a known flag", []string{"install", "to-filesystem", "--karg", "--generic-image", "/mnt/t"},
			"error: a value is required for '--karg <KARG>' but none was supplied\n\nFor more information, try '--help'.\n"},
		{"repeated single-value flag", []string{"install", "to-filesystem", "--stateroot=a", "--stateroot=b", "/mnt/t"},
			"error: the argument '--stateroot <STATEROOT>' cannot be used multiple times\n\nUsage: bootc install to-filesystem [OPTIONS] <ROOT_PATH>\n\nFor more information, try '--help'.\n"},
		{"repeated bool flag", []string{"install", "to-disk", "--wipe", "--wipe", "/dev/vda"},
			"error: the argument '--wipe' cannot be used multiple times\n\nUsage: bootc install to-disk [OPTIONS] <DEVICE>\n\nFor more information, try '--help'.\n"},
		{"bool flag with value", []string{"install", "to-disk", "--wipe=true", "/dev/vda"},
			"error: unexpected value 'true' for '--wipe' found; no more were expected\n\nUsage: bootc install to-disk --wipe <DEVICE>\n\nFor more information, try '--help'.\n"},
		{"requires", []string{"install", "to-disk", "--uki-addon", "x", "/dev/vda"},
			"error: the following required arguments were not provided:\n  --composefs-backend\n\nUsage: bootc install to-disk --uki-addon <UKI_ADDON> <DEVICE>\n\nFor more information, try '--help'.\n"},
		{"progress fd below 3", []string{"switch", "--progress-fd", "1", testImage},
			"error: invalid value '1' for '--progress-fd <PROGRESS_FD>': Cannot use fd 1 for progress JSON\n\nFor more information, try '--help'.\n"},
		{"progress fd not a number", []string{"switch", "--progress-fd=three", testImage},
			"error: invalid value 'three' for '--progress-fd <PROGRESS_FD>': invalid digit found in string\n\nFor more information, try '--help'.\n"},
		{"negative format version is a flag to clap", []string{"status", "--format-version", "-1"},
			"error: unexpected argument '-1' found\n\nUsage: bootc status [OPTIONS]\n\nFor more information, try '--help'.\n"},
		{"format version not a number", []string{"status", "--format-version=v1"},
			"error: invalid value 'v1' for '--format-version <FORMAT_VERSION>': invalid digit found in string\n\nFor more information, try '--help'.\n"},
		{"status format", []string{"status", "--format", "xml"},
			"error: invalid value 'xml' for '--format <FORMAT>'\n  [possible values: humanreadable, yaml, json]\n\n  tip: a similar value exists: 'yaml'\n\nFor more information, try '--help'.\n"},
		{"unrecognized subcommand", []string{"install", "to-dsk"},
			"error: unrecognized subcommand 'to-dsk'\n\n  tip: a similar subcommand exists: 'to-disk'\n\nUsage: bootc install <COMMAND>\n\nFor more information, try '--help'.\n"},
		{"unrecognized top-level", []string{"frobnicate"},
			"error: unrecognized subcommand 'frobnicate'\n\nUsage: bootc <COMMAND>\n\nFor more information, try '--help'.\n"},
		{"top-level flag", []string{"--verison"},
			"error: unexpected argument '--verison' found\n\n  tip: a similar argument exists: '--version'\n\nUsage: bootc <COMMAND>\n\nFor more information, try '--help'.\n"},
		{"switch without target", []string{"switch", "--apply"},
			"error: the following required arguments were not provided:\n  <TARGET>\n\nUsage: bootc switch --apply <TARGET>\n\nFor more information, try '--help'.\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runSim("bootc", fakeEnv(t, nil), tc.args...)
			if r.code != 2 || r.stderr != tc.out || r.stdout != "" {
				t.Errorf("got %s\nwant stderr:\n%s", r, tc.out)
			}
		})
	}
}

func TestClapHelpAndVersion(t *testing.T) {
	env := fakeEnv(t, nil)
	r := runSim("bootc", env, "install", "to-filesystem", "--help")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("--help: %s", r)
	}
	golden(t, "help-to-filesystem-1.16.9.txt", r.stdout)
	listed := bootc.ParseHelpFlags(r.stdout)
	for _, hidden := range []string{"target-no-signature-verification", "experimental-unified-storage"} {
		if listed[hidden] {
			t.Errorf("help lists the hidden --%s", hidden)
		}
	}
	// The installer probes help to learn the flags: every visible flag of
	// the table must be listed, and nothing else.
	want := map[string]bool{"help": true}
	for _, f := range leaf(t, "bootc install to-filesystem").flags {
		if !f.hidden {
			want[f.long] = true
		}
	}
	if len(listed) != len(want) {
		t.Errorf("help lists %d flags, the table has %d visible", len(listed), len(want))
	}
	for f := range want {
		if !listed[f] {
			t.Errorf("help does not list --%s", f)
		}
	}
	if !strings.Contains(r.stdout, "[possible values: stored, pull]") {
		t.Error("help shows the hidden bound-images value skip")
	}
	if h := runSim("bootc", env, "install", "to-filesystem", "/mnt/x", "-h"); h.stdout != r.stdout {
		t.Error("-h differs from --help")
	}

	env.Version = "1.1.0"
	old := runSim("bootc", env, "install", "to-disk", "--help")
	golden(t, "help-to-disk-1.1.0.txt", old.stdout)
	for _, absent := range []string{"--bootloader", "--run-fetch-check", "--karg-delete", "--composefs-backend"} {
		if strings.Contains(old.stdout, absent) {
			t.Errorf("1.1.0 help lists %s", absent)
		}
	}
	for _, present := range []string{"--wipe", "--filesystem <FILESYSTEM>", "--skip-fetch-check", "--via-loopback", "[possible values: xfs, ext4, btrfs]"} {
		if !strings.Contains(old.stdout, present) {
			t.Errorf("1.1.0 help lacks %s", present)
		}
	}

	env.Version = DefaultBootcVersion
	top := runSim("bootc", env)
	if top.code != 2 || top.stdout != "" || !strings.Contains(top.stderr, "Usage: bootc <COMMAND>") {
		t.Errorf("bare bootc: %s", top)
	}
	if h := runSim("bootc", env, "help", "install", "to-disk"); h.code != 0 || !strings.HasPrefix(h.stdout, "Install to the target block device\n\nUsage: bootc install to-disk [OPTIONS] <DEVICE>\n") {
		t.Errorf("bootc help install to-disk: %s", h)
	}
	if v := runSim("bootc", env, "-V"); v.stdout != "bootc 1.16.9\n" || v.code != 0 {
		t.Errorf("-V: %s", v)
	}
	if s := runSim("bootc", env, "install"); s.code != 2 || !strings.Contains(s.stderr, "print-configuration") || strings.Contains(s.stderr, "  reset") {
		t.Errorf("bare bootc install: %s", s)
	}
	expect(t, runSim("bootc", env, "upgrade"), 1, "`bootc upgrade` exists in bootc but is not simulated")
	expect(t, runSim("bootc", env, "update"), 1, "`bootc upgrade` exists in bootc but is not simulated")
	expect(t, runSim("bootc", env, "install", "to-existing-root"), 1, "not simulated")
	expect(t, runSim("nosuchtool", env), 2, "unknown tool")
}

// TestJaro checks the port against strsim's published values.
func TestJaro(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want float64
	}{
		{"", "", 1}, {"", "a", 0}, {"a", "a", 1},
		{"dwayne", "duane", 0.822},
		{"martha", "marhta", 0.944},
		{"dixon", "dicksonx", 0.767},
		{"jellyfish", "smellyfish", 0.896},
		{"Friedrich Nietzsche", "Jean-Paul Sartre", 0.392},
	} {
		if got := jaro(tc.a, tc.b); math.Abs(got-tc.want) > 0.001 {
			t.Errorf("jaro(%q, %q) = %.4f, want %.3f", tc.a, tc.b, got, tc.want)
		}
	}
	if s := didYouMean("kargs", []string{"karg", "karg-delete", "stateroot"}); s != "karg" {
		t.Errorf("didYouMean = %q", s)
	}
	if s := didYouMean("zzz", []string{"karg"}); s != "" {
		t.Errorf("didYouMean = %q, want none", s)
	}
}
