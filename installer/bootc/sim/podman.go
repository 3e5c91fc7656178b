package sim

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/universal-atomic-installer/uai/installer/bootc"
)

// podman's own failures exit 125; a command that cannot be found in the
// image exits 127; otherwise the container's status passes through.
const (
	podmanErrExit    = 125
	podmanNotFound   = 127
	podmanRunHelpRef = "See 'podman run --help'"
	podmanGraphRoot  = "/var/lib/containers"
)

type podmanFlag struct {
	long  string
	short byte
	bool  bool
	multi bool
}

// podmanRunFlags are the `podman run` flags uai's invocations can use. The
// real CLI has many more; they are refused here so a new flag in uai is a
// conscious addition to the simulator too.
var podmanRunFlags = []podmanFlag{
	{long: "rm", bool: true},
	{long: "privileged", bool: true},
	{long: "interactive", short: 'i', bool: true},
	{long: "tty", short: 't', bool: true},
	{long: "pid"},
	{long: "ipc"},
	{long: "volume", short: 'v', multi: true},
	{long: "security-opt", multi: true},
	{long: "env", short: 'e', multi: true},
	{long: "network"},
	{long: "net"},
	{long: "name"},
	{long: "pull"},
}

var podmanVolumeOptions = []string{
	"ro", "rw", "z", "Z", "O", "U", "shared", "rshared", "slave", "rslave", "private", "rprivate",
	"bind", "rbind", "exec", "noexec", "dev", "nodev", "suid", "nosuid", "idmap",
}

func podmanMain(args []string, env Env) int {
	errw := env.Stderr
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(errw, "Error: "+format+"\n", a...)
		return code
	}
	if len(args) == 0 {
		return fail(podmanErrExit, "missing command 'podman COMMAND'\nTry 'podman --help' for more information")
	}
	switch args[0] {
	case "--version", "-v":
		fmt.Fprintf(env.Stdout, "podman version %s\n", env.PodmanVersion)
		return 0
	case "version":
		fmt.Fprintf(env.Stdout, "Client:       Podman Engine\nVersion:      %s\nAPI Version:  %s\nOS/Arch:      linux/%s\n", env.PodmanVersion, env.PodmanVersion, ociArch())
		return 0
	case "run":
		return podmanRun(args[1:], env)
	case "pull":
		if len(args) != 2 {
			return fail(podmanErrExit, "requires exactly 1 arg(s), only received %d", len(args)-1)
		}
		ref, err := normalizeRef(args[1])
		if err != nil {
			return fail(podmanErrExit, "%v", err)
		}
		r := &run{env: env}
		if err := r.pullLines(ref); err != nil {
			return fail(podmanErrExit, "%v", err)
		}
		fmt.Fprintln(env.Stdout, strings.TrimPrefix(ImageDigest(ref), "sha256:"))
		return 0
	case "images", "ps", "inspect", "image", "rmi", "create", "start", "exec", "build", "info", "login", "logout", "save", "load", "tag", "push", "container", "system":
		return fail(podmanErrExit, "simulator: `podman %s` is not simulated; uai only uses podman run, pull and --version", args[0])
	}
	if strings.HasPrefix(args[0], "-") {
		return fail(podmanErrExit, "unknown flag: %s\nSee 'podman --help'", strings.SplitN(args[0], "=", 2)[0])
	}
	return fail(podmanErrExit, "unrecognized command `podman %s`\nTry 'podman --help' for more information", args[0])
}

// podmanRunArgs is a parsed `podman run`.
type podmanRunArgs struct {
	vals  map[string][]string
	image string
	cmd   []string
}

// parsePodmanRun follows pflag with interspersed flags off: flags end at
// the first positional, the image; everything after is the command.
func parsePodmanRun(args []string) (podmanRunArgs, error) {
	p := podmanRunArgs{vals: map[string][]string{}}
	byLong := map[string]podmanFlag{}
	byShort := map[byte]podmanFlag{}
	for _, f := range podmanRunFlags {
		byLong[f.long] = f
		if f.short != 0 {
			byShort[f.short] = f
		}
	}
	setBool := func(f podmanFlag, val, shown string) error {
		if val == "" {
			val = "true"
		}
		if _, err := strconv.ParseBool(val); err != nil {
			return fmt.Errorf("invalid argument %q for %q flag: strconv.ParseBool: parsing %q: invalid syntax\n%s", val, shown, val, podmanRunHelpRef)
		}
		p.vals[f.long] = append(p.vals[f.long], val)
		return nil
	}
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			i++
			break
		}
		if len(a) < 2 || a[0] != '-' {
			break
		}
		if strings.HasPrefix(a, "--") {
			name, val, hasEq := strings.Cut(a[2:], "=")
			f, ok := byLong[name]
			if !ok {
				return p, fmt.Errorf("unknown flag: --%s\n%s", name, podmanRunHelpRef)
			}
			if f.bool {
				if err := setBool(f, val, "--"+name); err != nil {
					return p, err
				}
				continue
			}
			if !hasEq {
				if i+1 >= len(args) {
					return p, fmt.Errorf("flag needs an argument: --%s\n%s", name, podmanRunHelpRef)
				}
				i++
				val = args[i]
			}
			p.vals[f.long] = append(p.vals[f.long], val)
			continue
		}
		for j := 1; j < len(a); j++ {
			f, ok := byShort[a[j]]
			if !ok {
				return p, fmt.Errorf("unknown shorthand flag: '%c' in %s\n%s", a[j], a, podmanRunHelpRef)
			}
			if f.bool {
				val := ""
				if j+1 < len(a) && a[j+1] == '=' {
					val, j = a[j+2:], len(a)
				}
				if err := setBool(f, val, "--"+f.long); err != nil {
					return p, err
				}
				continue
			}
			val := strings.TrimPrefix(a[j+1:], "=")
			if val == "" {
				if i+1 >= len(args) {
					return p, fmt.Errorf("flag needs an argument: '%c' in %s\n%s", a[j], a, podmanRunHelpRef)
				}
				i++
				val = args[i]
			}
			p.vals[f.long] = append(p.vals[f.long], val)
			break
		}
	}
	if i >= len(args) {
		return p, errors.New("requires at least 1 arg(s), only received 0")
	}
	p.image, p.cmd = args[i], args[i+1:]
	return p, nil
}

func (p podmanRunArgs) boolean(long string) bool {
	v := p.vals[long]
	if len(v) == 0 {
		return false
	}
	b, _ := strconv.ParseBool(v[len(v)-1])
	return b
}

func (p podmanRunArgs) last(long string) string {
	if v := p.vals[long]; len(v) > 0 {
		return v[len(v)-1]
	}
	return ""
}

// normalizeRef checks an image name the way containers/image does and
// adds the implicit :latest.
func normalizeRef(ref string) (string, error) {
	err := bootc.ValidateImageRef(ref)
	var re *bootc.RefError
	if errors.As(err, &re) && strings.Contains(re.Problem, "neither a tag nor a digest") {
		ref += ":latest"
		err = bootc.ValidateImageRef(ref)
	}
	if errors.As(err, &re) {
		switch {
		case strings.Contains(re.Problem, "not fully qualified"):
			return "", fmt.Errorf("short-name %q did not resolve to an alias and no unqualified-search registries are defined in \"/etc/containers/registries.conf\"", ref)
		case strings.Contains(re.Problem, "capital letters"):
			return "", errors.New("invalid reference format: repository name must be lowercase")
		case strings.Contains(re.Problem, "transport"):
			// podman run takes docker:// and friends; uai never passes them.
			return "", fmt.Errorf("simulator: image %q carries a transport; uai passes plain registry refs", ref)
		}
		return "", errors.New("invalid reference format")
	}
	return ref, err
}

// pullLines prints what podman prints to stderr while pulling.
func (r *run) pullLines(ref string) error {
	r.warn("Trying to pull %s...", ref)
	r.warn("Getting image source signatures")
	if err := r.stage("pull", false); err != nil {
		return fmt.Errorf("initializing source docker://%s: %v", ref, err)
	}
	for _, l := range simLayers(ref) {
		r.warn("Copying blob sha256:%s", hexSum(ref+":blob:"+l.id))
	}
	r.warn("Copying config sha256:%s", hexSum(ref+":config"))
	r.warn("Writing manifest to image destination")
	return nil
}

func podmanRun(args []string, env Env) int {
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(env.Stderr, "Error: "+format+"\n", a...)
		return code
	}
	p, err := parsePodmanRun(args)
	if err != nil {
		return fail(podmanErrExit, "%v", err)
	}
	ref, err := normalizeRef(p.image)
	if err != nil {
		return fail(podmanErrExit, "%v", err)
	}
	c := &Container{
		Image:        p.image,
		Privileged:   p.boolean("privileged"),
		PIDHost:      p.last("pid") == "host",
		IPCHost:      p.last("ipc") == "host",
		SecurityOpts: p.vals["security-opt"],
		Env:          map[string]string{},
	}
	if uid := env.Getuid(); uid != 0 {
		// Rootless podman: /proc/1 belongs to an unmapped uid.
		c.Rootless, c.HostUID = true, 65534
	}
	for _, vol := range p.vals["volume"] {
		b, isBind, err := parseVolume(vol)
		if err != nil {
			return fail(podmanErrExit, "%v", err)
		}
		if isBind {
			c.Binds = append(c.Binds, b)
		}
	}
	for _, e := range p.vals["env"] {
		k, val, ok := strings.Cut(e, "=")
		if !ok {
			val = env.Getenv(k)
		}
		c.Env[k] = val
	}
	switch pull := p.last("pull"); pull {
	case "", "missing", "always", "newer":
		r := &run{env: env}
		if err := r.pullLines(ref); err != nil {
			return fail(podmanErrExit, "%v", err)
		}
	case "never":
	default:
		return fail(podmanErrExit, "invalid pull policy %q", pull)
	}
	if len(p.cmd) == 0 {
		return fail(podmanErrExit, "simulator: the image's default command (init) is not simulated; run bootc explicitly")
	}
	if p.cmd[0] != "bootc" && p.cmd[0] != "/usr/bin/bootc" {
		return fail(podmanNotFound, "crun: executable file `%s` not found in $PATH: No such file or directory: OCI runtime attempted to invoke a command that was not found", p.cmd[0])
	}
	inner := env
	inner.InContainer = true
	inner.Container = c
	inner.Image = p.image
	ver, err := parseVersion(inner.Version)
	if err != nil {
		fmt.Fprintf(env.Stderr, "error: simulator: %v\n", err)
		return 1
	}
	return dispatch(bootcCLI(), p.cmd[1:], &run{env: inner, ver: ver})
}

// parseVolume reads -v SRC:DST[:OPTIONS]. An absolute SRC is a bind mount
// and must exist; anything else is a named volume.
func parseVolume(v string) (Bind, bool, error) {
	parts := strings.Split(v, ":")
	if len(parts) > 3 || parts[0] == "" {
		return Bind{}, false, fmt.Errorf("incorrect volume format %q, should be [host-dir:]ctr-dir[:option]", v)
	}
	if len(parts) == 1 {
		if !filepath.IsAbs(parts[0]) {
			return Bind{}, false, fmt.Errorf("invalid container path %q, must be an absolute path", parts[0])
		}
		return Bind{}, false, nil // anonymous volume
	}
	src, dst := parts[0], parts[1]
	if !filepath.IsAbs(dst) {
		return Bind{}, false, fmt.Errorf("invalid container path %q, must be an absolute path", dst)
	}
	opts := ""
	if len(parts) == 3 {
		opts = parts[2]
		for _, o := range strings.Split(opts, ",") {
			if !containsStr(podmanVolumeOptions, o) {
				return Bind{}, false, fmt.Errorf("invalid option type %q", o)
			}
		}
	}
	if !filepath.IsAbs(src) {
		return Bind{}, false, nil // named volume
	}
	// podman's own storage always exists where podman runs, even on a
	// machine where only this simulator does.
	if _, err := os.Stat(src); err != nil && filepath.Clean(src) != podmanGraphRoot {
		return Bind{}, false, fmt.Errorf("statfs %s: no such file or directory", src)
	}
	return Bind{Host: filepath.Clean(src), Container: filepath.Clean(dst), Options: opts}, true, nil
}
