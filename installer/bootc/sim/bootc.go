package sim

import (
	"fmt"
	"strconv"
	"strings"
)

// The flag tables below are bootc v1.16.9's clap structs
// (crates/lib/src/install.rs, install/baseline.rs, cli.rs) in declaration
// order, each with the first release that has it. Releases come from the
// bootc git history; the reference list in bootc.md ("first release
// containing each flag") is the source where the two overlap.

func vals(names ...string) []enumVal {
	out := make([]enumVal, len(names))
	for i, n := range names {
		out[i] = enumVal{name: n}
	}
	return out
}

// parseProgressFd is bootc's RawProgressFd::from_str.
func parseProgressFd(s string) error {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return rustParseIntError(s, err)
	}
	if n <= 2 {
		return fmt.Errorf("Cannot use fd %d for progress JSON", n)
	}
	return nil
}

func parseU32(s string) error {
	if _, err := strconv.ParseUint(s, 10, 32); err != nil {
		return rustParseIntError(s, err)
	}
	return nil
}

// rustParseIntError words a failed integer parse like Rust's ParseIntError.
func rustParseIntError(s string, err error) error {
	switch {
	case s == "":
		return fmt.Errorf("cannot parse integer from empty string")
	case strings.Contains(err.Error(), "out of range"):
		return fmt.Errorf("number too large to fit in target type")
	}
	return fmt.Errorf("invalid digit found in string")
}

// installSourceFlags is InstallSourceOpts.
var installSourceFlags = []flagDef{
	{long: "source-imgref", kind: kindOne, value: "SOURCE_IMGREF", since: v(0, 1, 6), help: "Install the system from an explicitly given source"},
}

// installTargetFlags is InstallTargetOpts.
var installTargetFlags = []flagDef{
	{long: "target-transport", kind: kindOne, value: "TARGET_TRANSPORT", since: v(0, 1, 0), help: "The transport; e.g. oci, oci-archive, containers-storage.  Defaults to `registry`"},
	{long: "target-imgref", kind: kindOne, value: "TARGET_IMGREF", since: v(0, 1, 0), help: "Specify the image to fetch for subsequent updates"},
	{long: "target-no-signature-verification", kind: kindBool, since: v(0, 1, 0), hidden: true, help: "This command line argument does nothing; it exists for compatibility"},
	{long: "enforce-container-sigpolicy", kind: kindBool, since: v(0, 1, 5), help: "This is the inverse of the previous `--target-no-signature-verification` (which is now a no-op)"},
	{long: "run-fetch-check", kind: kindBool, since: v(1, 1, 7), help: "Verify the image can be fetched from the bootc image"},
	{long: "skip-fetch-check", kind: kindBool, since: v(0, 1, 4), help: "Verify the image can be fetched from the bootc image"},
	{long: "experimental-unified-storage", kind: kindBool, since: v(1, 12, 0), hidden: true, help: "Use unified storage path to pull images (experimental)"},
}

// installConfigFlags is InstallConfigOpts.
var installConfigFlags = []flagDef{
	{long: "disable-selinux", kind: kindBool, since: v(0, 1, 0), help: "Disable SELinux in the target (installed) system"},
	{long: "karg", kind: kindMany, value: "KARG", since: v(0, 1, 0), help: "Add a kernel argument.  This option can be provided multiple times"},
	{long: "karg-delete", kind: kindMany, value: "KARG_DELETE", since: v(1, 15, 1), help: "Remove a kernel argument.  This option can be provided multiple times"},
	{long: "root-ssh-authorized-keys", kind: kindOne, value: "ROOT_SSH_AUTHORIZED_KEYS", since: v(0, 1, 7), help: "The path to an `authorized_keys` that will be injected into the `root` account"},
	{long: "generic-image", kind: kindBool, since: v(0, 1, 5), help: "Perform configuration changes suitable for a \"generic\" disk image"},
	{long: "bound-images", kind: kindOne, value: "BOUND_IMAGES", since: v(1, 1, 3), help: "How should logically bound images be retrieved",
		enum: []enumVal{{name: "stored"}, {name: "skip", hidden: true}, {name: "pull"}}},
	{long: "stateroot", kind: kindOne, value: "STATEROOT", since: v(0, 1, 16), help: "The stateroot name to use. Defaults to `default`"},
	{long: "bootupd-skip-boot-uuid", kind: kindBool, since: v(1, 13, 0), help: "Don't pass --write-uuid to bootupd during bootloader installation"},
	{long: "bootloader", kind: kindOne, value: "BOOTLOADER", since: v(1, 10, 0), help: "The bootloader to use",
		enum: []enumVal{{name: "grub", since: v(1, 10, 0)}, {name: "grub-cc", since: v(1, 16, 3)}, {name: "systemd", since: v(1, 10, 0)}, {name: "none", since: v(1, 13, 0)}}},
}

// installComposefsFlags is InstallComposefsOpts.
var installComposefsFlags = []flagDef{
	{long: "composefs-backend", kind: kindBool, since: v(1, 10, 0), help: "If true, composefs backend is used, else ostree backend is used"},
	{long: "allow-missing-verity", kind: kindBool, since: v(1, 14, 0), requires: "composefs-backend", help: "Make fs-verity validation optional in case the filesystem doesn't support it"},
	{long: "uki-addon", kind: kindMany, value: "UKI_ADDON", since: v(1, 10, 0), requires: "composefs-backend", help: "Name of the UKI addons to install without the \".efi.addon\" suffix"},
}

// toDiskBlockFlags is InstallBlockDeviceOpts.
var toDiskBlockFlags = []flagDef{
	{long: "wipe", kind: kindBool, since: v(0, 1, 0), help: "Automatically wipe all existing data on device"},
	{long: "block-setup", kind: kindOne, value: "BLOCK_SETUP", since: v(0, 1, 0), help: "Target root block device setup", enum: vals("direct", "tpm2-luks")},
	{long: "filesystem", kind: kindOne, value: "FILESYSTEM", since: v(0, 1, 0), help: "Target root filesystem type", enum: vals("xfs", "ext4", "btrfs")},
	{long: "root-size", kind: kindOne, value: "ROOT_SIZE", since: v(0, 1, 0), help: "Size of the root partition (default specifier: M).  Allowed specifiers: M (mebibytes), G (gibibytes), T (tebibytes)"},
}

// toFilesystemFlags is InstallTargetFilesystemOpts (without ROOT_PATH).
var toFilesystemFlags = []flagDef{
	{long: "root-mount-spec", kind: kindOne, value: "ROOT_MOUNT_SPEC", since: v(0, 1, 0), help: "Source device specification for the root filesystem.  For example, `UUID=2e9f4241-229b-4202-8429-62d2302382e1`"},
	{long: "boot-mount-spec", kind: kindOne, value: "BOOT_MOUNT_SPEC", since: v(0, 1, 0), help: "Mount specification for the /boot filesystem"},
	{long: "replace", kind: kindOne, value: "REPLACE", since: v(0, 1, 2), help: "Initialize the system in-place; at the moment, only one mode for this is implemented", enum: vals("wipe", "alongside")},
	{long: "acknowledge-destructive", kind: kindBool, since: v(0, 1, 11), help: "If the target is the running system's root filesystem, this will skip any warnings"},
	{long: "skip-finalize", kind: kindBool, since: v(0, 1, 10), help: "The default mode is to \"finalize\" the target filesystem by invoking `fstrim` and similar operations, and finally mounting it readonly"},
}

var viaLoopbackFlag = flagDef{long: "via-loopback", kind: kindBool, since: v(0, 1, 6), help: "Instead of targeting a block device, write to a file via loopback"}

var switchFlags = []flagDef{
	{long: "quiet", kind: kindBool, since: v(0, 1, 0), help: "Don't display progress"},
	{long: "apply", kind: kindBool, since: v(0, 1, 3), help: "Restart or reboot into the new target image"},
	{long: "soft-reboot", kind: kindOne, value: "SOFT_REBOOT", since: v(1, 7, 0), help: "Configure soft reboot behavior", enum: vals("required", "auto")},
	{long: "transport", kind: kindOne, value: "TRANSPORT", since: v(0, 1, 0), help: "The transport; e.g. registry, oci, oci-archive, docker-daemon, containers-storage.  Defaults to `registry`"},
	{long: "no-signature-verification", kind: kindBool, since: v(0, 1, 0), hidden: true, help: "This argument is deprecated and does nothing"},
	{long: "enforce-container-sigpolicy", kind: kindBool, since: v(0, 1, 5), help: "This is the inverse of the previous `--target-no-signature-verification` (which is now a no-op)"},
	{long: "mutate-in-place", kind: kindBool, since: v(0, 1, 6), hidden: true, help: "Don't create a new deployment, but directly mutate the booted state"},
	{long: "retain", kind: kindBool, since: v(0, 1, 0), help: "Retain reference to currently booted image"},
	{long: "experimental-unified-storage", kind: kindBool, since: v(1, 12, 0), hidden: true, help: "Use unified storage path to pull images (experimental)"},
	{long: "progress-fd", kind: kindOne, value: "PROGRESS_FD", since: v(1, 1, 4), hidden: true, parse: parseProgressFd, help: "File descriptor number which must refer to an open pipe"},
}

var statusFlags = []flagDef{
	{long: "json", kind: kindBool, since: v(0, 1, 0), hidden: true, help: "Output in JSON format"},
	{long: "format", kind: kindOne, value: "FORMAT", since: v(0, 1, 13), help: "The output format", enum: vals("humanreadable", "yaml", "json")},
	{long: "format-version", kind: kindOne, value: "FORMAT_VERSION", since: v(0, 1, 14), parse: parseU32, help: "The desired format version. There is currently one supported version, which is exposed as both `0` and `1`"},
	{long: "booted", kind: kindBool, since: v(0, 1, 0), help: "Only display status for the booted deployment"},
	{long: "verbose", short: 'v', kind: kindBool, since: v(1, 5, 0), help: "Include additional fields in human readable format"},
}

func concat(groups ...[]flagDef) []flagDef {
	var out []flagDef
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

// bootcCLI builds bootc's command tree. Real subcommands the simulator
// does not implement are present (so they are not "unrecognized") with a
// nil run.
func bootcCLI() *command {
	install := &command{
		path:  "bootc install",
		about: "Install the running container to a target",
		subs: []*command{
			{
				path:  "bootc install to-disk",
				about: "Install to the target block device",
				flags: concat(toDiskBlockFlags, installSourceFlags, installTargetFlags, installConfigFlags, []flagDef{viaLoopbackFlag}, installComposefsFlags),
				pos:   []posDef{{name: "DEVICE", required: true, help: "Target block device for installation.  The entire device will be wiped"}},
				run:   installToDisk,
			},
			{
				path:  "bootc install to-filesystem",
				about: "Install to an externally created filesystem structure",
				flags: concat(toFilesystemFlags, installSourceFlags, installTargetFlags, installConfigFlags, installComposefsFlags),
				pos:   []posDef{{name: "ROOT_PATH", required: true, help: "Path to the mounted root filesystem"}},
				run:   installToFilesystem,
			},
			{path: "bootc install to-existing-root", about: "Install to the host root filesystem", since: v(0, 1, 3)},
			{path: "bootc install reset", hidden: true, since: v(1, 11, 0)},
			{path: "bootc install finalize", about: "Execute this as the penultimate step of an installation using `install to-filesystem`", since: v(1, 1, 5)},
			{path: "bootc install ensure-completion", about: "Intended for use in environments that are performing an ostree-based installation, not bootc", since: v(0, 1, 10)},
			{
				path:  "bootc install print-configuration",
				about: "Output JSON to stdout that contains the merged installation configuration as it may be relevant to calling processes using `install to-filesystem` that in particular want to discover the desired root filesystem type from the container image",
				flags: []flagDef{{long: "all", kind: kindBool, since: v(1, 11, 0), help: "Print all configuration"}},
				run:   printConfiguration,
			},
		},
	}
	return &command{
		path:       "bootc",
		about:      "Deploy and transactionally in-place with bootable container images",
		hasVersion: true,
		subs: []*command{
			{path: "bootc upgrade", aliases: []string{"update"}, about: "Download and queue an updated container image to apply"},
			{
				path:  "bootc switch",
				about: "Target a new container image reference to boot",
				flags: switchFlags,
				pos:   []posDef{{name: "TARGET", required: true, help: "Target image to use for the next boot"}},
				run:   switchCmd,
			},
			{path: "bootc rollback", about: "Change the bootloader entry ordering; the deployment under `rollback` will be queued for the next boot, and the current will become rollback"},
			{path: "bootc edit", about: "Apply full changes to the host specification"},
			{
				path:  "bootc status",
				about: "Display status",
				flags: statusFlags,
				run:   statusCmd,
			},
			{path: "bootc usr-overlay", aliases: []string{"usroverlay"}, about: "Add a transient writable overlayfs on `/usr`", since: v(0, 1, 5)},
			install,
			{path: "bootc container", about: "Operations which can be executed as part of a container build"},
			{path: "bootc image", hidden: true},
			{path: "bootc loader-entries", about: "Operations on Boot Loader Specification (BLS) entries", since: v(1, 14, 0)},
			{path: "bootc state", hidden: true},
			{path: "bootc internals", hidden: true},
			{path: "bootc composefs-finalize-staged", hidden: true, since: v(1, 10, 0)},
			{path: "bootc config-diff", hidden: true, since: v(1, 10, 0)},
			{path: "bootc completion", hidden: true, since: v(1, 9, 0)},
		},
	}
}

// dispatch walks subcommands and runs the leaf the way clap would.
func dispatch(c *command, args []string, r *run) int {
	out, errw := r.env.Stdout, r.env.Stderr
	if len(c.subs) == 0 {
		if c.run == nil {
			fmt.Fprintf(errw, "error: simulator: `%s` exists in bootc but is not simulated; uai does not use it\n", c.path)
			return 1
		}
		m, o := c.parse(args, r.ver)
		switch {
		case o.help != "":
			fmt.Fprint(out, o.help)
			return 0
		case o.err != "":
			fmt.Fprint(errw, o.err)
			return 2
		}
		return c.run(r, m)
	}
	if len(args) == 0 {
		// clap's arg_required_else_help: help on stderr, status 2.
		fmt.Fprint(errw, c.help(r.ver))
		return 2
	}
	a := args[0]
	switch {
	case a == "-h" || a == "--help":
		fmt.Fprint(out, c.help(r.ver))
		return 0
	case (a == "-V" || a == "--version") && c.hasVersion:
		fmt.Fprintf(out, "bootc %s\n", r.ver)
		return 0
	case a == "help":
		target := c
		for _, name := range args[1:] {
			next := findSub(target, name, r.ver)
			if next == nil {
				fmt.Fprint(errw, clapError(fmt.Sprintf("unrecognized subcommand '%s'", name), nil, target.usage(r.ver, nil)))
				return 2
			}
			target = next
		}
		fmt.Fprint(out, target.help(r.ver))
		return 0
	case len(a) > 1 && a[0] == '-':
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		cands := []string{"help"}
		if c.hasVersion {
			cands = append(cands, "version")
		}
		var tips []string
		if strings.HasPrefix(a, "--") {
			if s := didYouMean(name, cands); s != "" {
				tips = append(tips, fmt.Sprintf("a similar argument exists: '--%s'", s))
			}
		} else {
			a = a[:2]
		}
		fmt.Fprint(errw, clapError(fmt.Sprintf("unexpected argument '%s' found", strings.SplitN(a, "=", 2)[0]), tips, c.usage(r.ver, nil)))
		return 2
	}
	sub := findSub(c, a, r.ver)
	if sub == nil {
		// clap suggests from every subcommand name and alias, hidden
		// ones and its own "help" included.
		var names []string
		for _, s := range c.subsAt(r.ver) {
			names = append(names, s.name())
			names = append(names, s.aliases...)
		}
		names = append(names, "help")
		var tips []string
		if s := didYouMean(a, names); s != "" {
			tips = append(tips, fmt.Sprintf("a similar subcommand exists: '%s'", s))
		}
		fmt.Fprint(errw, clapError(fmt.Sprintf("unrecognized subcommand '%s'", a), tips, c.usage(r.ver, nil)))
		return 2
	}
	return dispatch(sub, args[1:], r)
}

func findSub(c *command, name string, ver version) *command {
	for _, s := range c.subsAt(ver) {
		if s.name() == name || containsStr(s.aliases, name) {
			return s
		}
	}
	return nil
}
