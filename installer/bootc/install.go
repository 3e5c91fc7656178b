package bootc

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// InstallSpec is one `bootc install to-filesystem` or `bootc install
// to-disk` invocation. The zero value of every optional field means "leave
// the flag out and let bootc (or the image's install config) decide".
type InstallSpec struct {
	// Method is MethodToFilesystem or MethodToDisk.
	Method string
	// Target is ROOT_PATH (to-filesystem: the mounted root) or DEVICE
	// (to-disk). Always an absolute path.
	Target string

	// TargetImgref is what the installed system updates from: a plain
	// registry ref with no transport (--target-imgref).
	TargetImgref string
	// TargetTransport is --target-transport; empty means bootc's default,
	// registry.
	TargetTransport string
	// SourceImgref installs from an explicit source instead of the podman
	// container bootc runs in; it needs a transport, e.g.
	// "containers-storage:quay.io/x:1" (--source-imgref).
	SourceImgref string

	Kargs []string
	// RootSSHAuthorizedKeys is a path as bootc sees it (inside the
	// container when bootc runs under podman).
	RootSSHAuthorizedKeys string
	Stateroot             string
	// Bootloader is grub, grub-cc, systemd or none.
	Bootloader       string
	GenericImage     bool
	EnforceSigPolicy bool
	// RunFetchCheck makes bootc >= 1.1.7 fetch the target manifest at
	// install time; SkipFetchCheck is for older bootc, where the check ran
	// by default (a no-op since 1.1.7). Setting both is refused.
	RunFetchCheck  bool
	SkipFetchCheck bool
	DisableSelinux bool

	// to-disk only.
	Wipe        bool
	BlockSetup  string // direct or tpm2-luks
	Filesystem  string // xfs, ext4 or btrfs
	RootSize    string // e.g. 20G; bootc's default unit is MiB
	ViaLoopback bool   // DEVICE is a regular file

	// to-filesystem only. A pointer because the empty string is meaningful:
	// --root-mount-spec= omits root= (DPS auto-discovery) and
	// --boot-mount-spec= omits boot=.
	RootMountSpec *string
	BootMountSpec *string
	// Replace is wipe or alongside; empty requires an empty target.
	Replace string
}

// Value enums as bootc v1.16.9 spells them.
var (
	Bootloaders  = []string{"grub", "grub-cc", "systemd", "none"}
	BlockSetups  = []string{"direct", "tpm2-luks"}
	Filesystems  = []string{"xfs", "ext4", "btrfs"}
	ReplaceModes = []string{"wipe", "alongside"}
	// TargetTransports are the transports worth recording for updates.
	TargetTransports = []string{TransportRegistry, TransportOCI, TransportOCIArchive, TransportContainersStorage}
)

var (
	rootSizeRe  = regexp.MustCompile(`^[0-9]+(M|MiB|G|GiB|T|TiB)?$`)
	stateRootRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
)

// InstallArgs returns the argv after the program name:
//
//	install METHOD [method flags] [source/target flags] [config flags] TARGET
//
// in bootc's own declaration order (the order of its --help):
//
//	to-disk:       --wipe --block-setup --filesystem --root-size
//	to-filesystem: --root-mount-spec --boot-mount-spec --replace
//	both:          --source-imgref --target-transport --target-imgref
//	               --enforce-container-sigpolicy --run-fetch-check
//	               --skip-fetch-check --disable-selinux --karg...
//	               --root-ssh-authorized-keys --generic-image --stateroot
//	               --bootloader
//	to-disk:       --via-loopback
//
// Values use the --flag=value form so a value can never be read as a flag.
// Every problem in the spec is reported, joined, not just the first.
func InstallArgs(s InstallSpec) ([]string, error) {
	if errs := s.validate(); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	args := []string{"install", s.Method}
	flag := func(name, value string) { args = append(args, "--"+name+"="+value) }
	boolFlag := func(name string, on bool) {
		if on {
			args = append(args, "--"+name)
		}
	}
	opt := func(name, value string) {
		if value != "" {
			flag(name, value)
		}
	}
	switch s.Method {
	case MethodToDisk:
		boolFlag("wipe", s.Wipe)
		opt("block-setup", s.BlockSetup)
		opt("filesystem", s.Filesystem)
		opt("root-size", s.RootSize)
	case MethodToFilesystem:
		if s.RootMountSpec != nil {
			flag("root-mount-spec", *s.RootMountSpec)
		}
		if s.BootMountSpec != nil {
			flag("boot-mount-spec", *s.BootMountSpec)
		}
		opt("replace", s.Replace)
	}
	opt("source-imgref", s.SourceImgref)
	opt("target-transport", s.TargetTransport)
	opt("target-imgref", s.TargetImgref)
	boolFlag("enforce-container-sigpolicy", s.EnforceSigPolicy)
	boolFlag("run-fetch-check", s.RunFetchCheck)
	boolFlag("skip-fetch-check", s.SkipFetchCheck)
	boolFlag("disable-selinux", s.DisableSelinux)
	for _, k := range s.Kargs {
		flag("karg", k)
	}
	opt("root-ssh-authorized-keys", s.RootSSHAuthorizedKeys)
	boolFlag("generic-image", s.GenericImage)
	opt("stateroot", s.Stateroot)
	opt("bootloader", s.Bootloader)
	if s.Method == MethodToDisk {
		boolFlag("via-loopback", s.ViaLoopback)
	}
	return append(args, s.Target), nil
}

func (s InstallSpec) validate() []error {
	var errs []error
	fail := func(format string, a ...any) { errs = append(errs, fmt.Errorf("bootc install: "+format, a...)) }
	oneOf := func(flag, v string, allowed []string) {
		if v != "" && !contains(allowed, v) {
			fail("--%s=%q is not a value bootc accepts; use one of %s", flag, v, strings.Join(allowed, ", "))
		}
	}

	switch s.Method {
	case MethodToFilesystem, MethodToDisk:
	default:
		fail("method %q is not an install method; use %s or %s", s.Method, MethodToFilesystem, MethodToDisk)
	}
	switch {
	case s.Target == "":
		fail("no target given; set the mounted root (to-filesystem) or the device (to-disk)")
	case !filepath.IsAbs(s.Target):
		fail("target %q is not an absolute path; give the full path so bootc cannot read it as a flag or resolve it elsewhere", s.Target)
	case filepath.Clean(s.Target) == "/" && s.Method == MethodToFilesystem:
		fail("target \"/\" is the running system's root; mount the new root elsewhere, e.g. /mnt/target")
	case strings.ContainsAny(s.Target, "\n\x00"):
		fail("target %q contains a newline or NUL; use a plain path", s.Target)
	}

	transport := s.TargetTransport
	if transport == "" {
		transport = TransportRegistry
	}
	oneOf("target-transport", s.TargetTransport, TargetTransports)
	if s.TargetImgref != "" {
		if t, name, ok := SplitTransport(s.TargetImgref); ok {
			fail("--target-imgref %q carries the transport %q, which bootc would record as part of the name and break updates; pass %q (and --target-transport if it is not registry)", s.TargetImgref, t, name)
		} else if transport == TransportRegistry {
			if err := ValidateImageRef(s.TargetImgref); err != nil {
				errs = append(errs, fmt.Errorf("bootc install --target-imgref: %w", err))
			}
		} else if err := checkPathLike("--target-imgref", s.TargetImgref); err != nil {
			errs = append(errs, err)
		}
	}
	if s.SourceImgref != "" {
		if err := validateSourceImgref(s.SourceImgref); err != nil {
			errs = append(errs, err)
		}
	}

	for _, k := range s.Kargs {
		if err := validateKarg(k); err != nil {
			errs = append(errs, err)
		}
	}
	if p := s.RootSSHAuthorizedKeys; p != "" && (!filepath.IsAbs(p) || strings.ContainsAny(p, "\n\x00")) {
		fail("--root-ssh-authorized-keys %q is not an absolute path; give the path of the authorized_keys file as bootc sees it", p)
	}
	if s.Stateroot != "" && !stateRootRe.MatchString(s.Stateroot) {
		fail("--stateroot %q is not a valid ostree stateroot name; use letters, digits, '.', '_' or '-' (at most 64, not starting with '.' or '-')", s.Stateroot)
	}
	oneOf("bootloader", s.Bootloader, Bootloaders)
	if s.RunFetchCheck && s.SkipFetchCheck {
		fail("--run-fetch-check and --skip-fetch-check contradict each other; pick run for bootc >= 1.1.7, skip for older bootc")
	}

	diskOnly := map[string]bool{
		"--wipe": s.Wipe, "--block-setup": s.BlockSetup != "", "--filesystem": s.Filesystem != "",
		"--root-size": s.RootSize != "", "--via-loopback": s.ViaLoopback,
	}
	fsOnly := map[string]bool{
		"--root-mount-spec": s.RootMountSpec != nil, "--boot-mount-spec": s.BootMountSpec != nil, "--replace": s.Replace != "",
	}
	switch s.Method {
	case MethodToFilesystem:
		for _, f := range sortedTrue(diskOnly) {
			fail("%s exists only on to-disk; drop it (to-filesystem uses the filesystem you mounted)", f)
		}
		oneOf("replace", s.Replace, ReplaceModes)
		for _, m := range []struct {
			flag string
			spec *string
		}{{"--root-mount-spec", s.RootMountSpec}, {"--boot-mount-spec", s.BootMountSpec}} {
			if m.spec != nil && strings.ContainsAny(*m.spec, " \t\n\x00") {
				fail("%s %q contains whitespace; use UUID=..., LABEL=... or a device path, or the empty string to omit it", m.flag, *m.spec)
			}
		}
	case MethodToDisk:
		for _, f := range sortedTrue(fsOnly) {
			fail("%s exists only on to-filesystem; drop it (to-disk creates its own filesystems)", f)
		}
		oneOf("block-setup", s.BlockSetup, BlockSetups)
		oneOf("filesystem", s.Filesystem, Filesystems)
		if s.RootSize != "" && !rootSizeRe.MatchString(s.RootSize) {
			fail("--root-size %q is not a size bootc parses; use a whole number with an optional M, MiB, G, GiB, T or TiB (e.g. 20G)", s.RootSize)
		}
	}
	return errs
}

// validateSourceImgref applies containers-image-proxy's rule (a transport
// prefix is required) plus our own hygiene on the name.
func validateSourceImgref(ref string) error {
	t, name, ok := SplitTransport(ref)
	switch {
	case !ok || strings.HasPrefix(t, "ostree-"):
		return fmt.Errorf("bootc install: --source-imgref %q has no transport; prefix one, e.g. registry:%s or containers-storage:%s", ref, ref, ref)
	case t == "docker":
		return fmt.Errorf("bootc install: --source-imgref %q uses \"docker:\" without \"//\"; write docker://%s or registry:%s", ref, name, name)
	case name == "":
		return fmt.Errorf("bootc install: --source-imgref %q names no image after the transport; add the image", ref)
	}
	switch t {
	case TransportRegistry:
		if err := ValidateImageRef(name); err != nil {
			return fmt.Errorf("bootc install --source-imgref: %w", err)
		}
	case TransportContainersStorage:
		// An optional [driver@graphroot+runroot:options] store spec comes
		// first; brackets are legal there and nowhere else.
		img := name
		if rest, found := strings.CutPrefix(name, "["); found {
			spec, after, closed := strings.Cut(rest, "]")
			if !closed {
				return fmt.Errorf("bootc install: --source-imgref %q opens a store spec '[' but never closes it; write containers-storage:[driver@root+runroot]IMAGE", ref)
			}
			if err := checkPathLike("--source-imgref store spec", spec); err != nil {
				return err
			}
			img = after
		}
		if img == "" {
			return fmt.Errorf("bootc install: --source-imgref %q names no image after the store spec; add the image name or ID", ref)
		}
		if err := checkPathLike("--source-imgref", img); err != nil {
			return err
		}
	default:
		if err := checkPathLike("--source-imgref", name); err != nil {
			return err
		}
	}
	return nil
}

// checkPathLike is the hygiene every free-form value gets: one argv word
// a shell would not reinterpret if someone copies the command line.
func checkPathLike(what, v string) error {
	if i := strings.IndexFunc(v, func(r rune) bool { return r <= ' ' || r == 0x7f }); i >= 0 {
		return fmt.Errorf("bootc install: %s %q contains whitespace or a control character; use a path or name without them", what, v)
	}
	if i := strings.IndexAny(v, strings.ReplaceAll(strings.ReplaceAll(shellMeta, "[", ""), "]", "")); i >= 0 {
		return fmt.Errorf("bootc install: %s %q contains %q, a shell metacharacter; remove it", what, v, v[i])
	}
	return nil
}

// validateKarg accepts KEY or KEY=VALUE; whitespace is allowed only inside
// double quotes (KEY="a b"), as the kernel command line parser reads it.
func validateKarg(k string) error {
	switch {
	case k == "":
		return errors.New("bootc install: --karg is empty; drop it or give KEY[=VALUE]")
	case strings.ContainsAny(k, "\n\x00"):
		return fmt.Errorf("bootc install: --karg %q contains a newline or NUL; give one KEY[=VALUE]", k)
	case strings.HasPrefix(k, "="):
		return fmt.Errorf("bootc install: --karg %q has no key; give KEY[=VALUE]", k)
	}
	quoted := false
	for _, r := range k {
		switch {
		case r == '"':
			quoted = !quoted
		case (r == ' ' || r == '\t') && !quoted:
			return fmt.Errorf("bootc install: --karg %q holds several arguments; pass each as its own --karg, or quote a value with spaces as KEY=\"a b\"", k)
		}
	}
	if quoted {
		return fmt.Errorf("bootc install: --karg %q has an unbalanced '\"'; close the quote", k)
	}
	return nil
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// sortedTrue returns the set keys in order, so every run reports the same
// messages in the same order.
func sortedTrue(m map[string]bool) []string {
	var out []string
	for k, v := range m {
		if v {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
