package sim

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// installStages are the UAI_SIM_FAIL stages of bootc install.
var installStages = []string{"prepare", "ostree", "deploy", "bootloader", "finalize"}

// imgRef is ostree-ext's OstreeImageReference: signature mode, transport
// and name.
type imgRef struct {
	signed    bool // ostree-image-signed (container policy) vs unverified
	transport string
	name      string
}

func transportPrefix(t string) string {
	if t == "registry" {
		return "docker://"
	}
	return t + ":"
}

// String is the origin form (Display without '#').
func (i imgRef) String() string {
	switch {
	case i.signed:
		return "ostree-image-signed:" + transportPrefix(i.transport) + i.name
	case i.transport == "registry":
		return "ostree-unverified-registry:" + i.name
	}
	return "ostree-unverified-image:" + transportPrefix(i.transport) + i.name
}

// Alt is the "{:#}" form bootc prints in "Installing image:".
func (i imgRef) Alt() string {
	if !i.signed && i.transport == "registry" {
		return "docker://" + i.name
	}
	return i.String()
}

// parseTransport is containers-image-proxy's Transport::try_from.
func parseTransport(s string) (string, error) {
	name, rest, _ := strings.Cut(s, ":")
	switch name {
	case "registry", "oci", "oci-archive", "docker-archive", "containers-storage", "dir", "docker-daemon":
		return name, nil
	case "docker":
		if strings.HasPrefix(rest, "//") {
			return "registry", nil
		}
		return "", fmt.Errorf("Missing // in docker:// in %s", s)
	}
	return "", fmt.Errorf("Invalid transport: %s", name)
}

// parseProxyImageRef is containers-image-proxy's ImageReference::try_from.
func parseProxyImageRef(s string) (transport, name string, err error) {
	t, n, ok := strings.Cut(s, ":")
	if !ok {
		return "", "", fmt.Errorf("Missing ':' in %s", s)
	}
	switch t {
	case "registry", "docker":
		transport = "registry"
	case "oci", "oci-archive", "docker-archive", "containers-storage", "dir", "docker-daemon":
		transport = t
	default:
		return "", "", fmt.Errorf("Invalid transport: %s", t)
	}
	if t == "docker" {
		var found bool
		if n, found = strings.CutPrefix(n, "//"); !found {
			return "", "", fmt.Errorf("Missing // in docker:// in %s", s)
		}
	}
	if n == "" {
		return "", "", fmt.Errorf("Invalid empty name in %s", s)
	}
	return transport, n, nil
}

// installState is what bootc's prepare_install gathers.
type installState struct {
	sourceTransport string
	sourceName      string
	digest          string
	labels          map[string]string // the source's config labels; nil when not read
	target          imgRef
	stateroot       string
	kargs           []string // install config kargs, then --karg
	kargDeletes     []string
	bootloader      string // "" until resolved after the deploy
	selinux         string // aleph form: enabled or force-target-disabled
	sshKeys         *string
	rootFS          string
}

// fsView answers path questions as bootc sees the filesystem: on the
// host, or inside the podman container through its bind mounts.
type fsView struct {
	mounts []mount
	c      *Container
}

func (r *run) view() (fsView, error) {
	mounts, err := readMountInfo(r.env.MountInfoPath)
	if err != nil {
		return fsView{}, fmt.Errorf("simulator: reading mount table: %v", err)
	}
	return fsView{mounts: mounts, c: r.env.Container}, nil
}

// bindFor returns the bind mount a container path lives under.
func (v fsView) bindFor(p string) (Bind, bool) {
	var best Bind
	ok := false
	for _, b := range v.c.Binds {
		if under(p, b.Container) && (!ok || len(b.Container) >= len(best.Container)) {
			best, ok = b, true
		}
	}
	return best, ok
}

// host maps a path bootc uses to the host path; false when the container
// cannot see it (nothing is bind-mounted there).
func (v fsView) host(p string) (string, bool) {
	p = filepath.Clean(p)
	if v.c == nil {
		return p, true
	}
	b, ok := v.bindFor(p)
	if !ok {
		return "", false
	}
	rel, _ := filepath.Rel(b.Container, p)
	return filepath.Join(b.Host, rel), true
}

func canonical(p string) string {
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return p
}

func (v fsView) isMountPoint(p string) bool {
	p = filepath.Clean(p)
	if v.c != nil {
		for _, b := range v.c.Binds {
			if b.Container == p {
				return true
			}
		}
	}
	hp, ok := v.host(p)
	if !ok {
		return false
	}
	_, ok = mountAt(v.mounts, canonical(hp))
	return ok
}

func (v fsView) mountOf(p string) (mount, bool) {
	hp, ok := v.host(p)
	if !ok {
		return mount{}, false
	}
	return mountContaining(v.mounts, canonical(hp))
}

// requireRoot is bootc's cli::require_root.
func (r *run) requireRoot(inContainer bool) error {
	uid := r.env.Getuid()
	privileged := uid == 0
	if c := r.env.Container; c != nil {
		// podman runs the container's process as root (mapped, when
		// rootless); its capabilities come from --privileged.
		uid, privileged = 0, c.Privileged
	}
	switch {
	case uid != 0 && inContainer:
		return errors.New("Querying root privilege: The user inside the container from which you are running this command must be root")
	case uid != 0:
		return errors.New("Querying root privilege: This command must be executed as the root user")
	case !privileged && inContainer:
		return errors.New("Querying root privilege: The container must be executed with full privileges (e.g. --privileged flag)")
	case !privileged:
		return errors.New("Querying root privilege: This command requires full root privileges (CAP_SYS_ADMIN)")
	}
	return nil
}

// strictCheck refuses a podman run that lacks part of bootc's documented
// invocation even where the real bootc would not notice, so uai can never
// regress to a command line that only works by accident.
func (c *Container) strictCheck() error {
	var missing []string
	if !c.IPCHost {
		missing = append(missing, "--ipc=host")
	}
	for _, p := range []string{"/dev", "/var/lib/containers"} {
		found := false
		for _, b := range c.Binds {
			found = found || (b.Host == p && b.Container == p)
		}
		if !found {
			missing = append(missing, "-v "+p+":"+p)
		}
	}
	if !containsStr(c.SecurityOpts, "label=type:unconfined_t") {
		missing = append(missing, "--security-opt label=type:unconfined_t")
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("simulator (strict): podman run lacks %s from bootc's documented invocation; add it (this bootc might not notice, but uai must pass the documented privileges)", strings.Join(missing, ", "))
}

// prepare is bootc's prepare_install: privilege and source checks, the
// target reference, and the first output lines.
func (r *run) prepare(m *matches, targetFS string) (*installState, error) {
	st := &installState{}
	cfg := r.env.ImageConfig
	if src := m.get("source-imgref"); src == "" {
		if !r.env.InContainer {
			return nil, errors.New("Either --source-imgref must be defined or this command must be executed inside a podman container.")
		}
		if err := r.requireRoot(true); err != nil {
			return nil, err
		}
		if c := r.env.Container; c != nil {
			if !c.PIDHost {
				return nil, errors.New("This command must be run with the podman --pid=host flag")
			}
			if c.Rootless {
				return nil, fmt.Errorf("/proc/1 is owned by %d, not zero; this command must be run in the root user namespace (e.g. not rootless podman)", c.HostUID)
			}
			if err := c.strictCheck(); err != nil {
				return nil, err
			}
		}
		image := r.env.Image
		if c := r.env.Container; c != nil && c.Image != "" {
			image = c.Image
		}
		if image == "" {
			return nil, errors.New("Gathering source info from container env: Invalid empty imageid")
		}
		st.sourceTransport, st.sourceName = "containers-storage", image
		st.digest = ImageDigest(image)
	} else {
		if err := r.requireRoot(false); err != nil {
			return nil, err
		}
		t, name, err := parseProxyImageRef(src)
		if err != nil {
			return nil, fmt.Errorf("Creating source info from a given imageref: %v", err)
		}
		st.sourceTransport, st.sourceName = t, name
	}

	enforce := m.has("enforce-container-sigpolicy")
	st.bootloader = m.get("bootloader")
	st.stateroot = m.get("stateroot")
	if cfg != nil {
		st.kargs = append(st.kargs, cfg.Kargs...)
		if st.bootloader == "" {
			st.bootloader = cfg.Bootloader
		}
		if st.stateroot == "" {
			st.stateroot = cfg.Stateroot
		}
	}
	if st.stateroot == "" {
		st.stateroot = "default"
	}
	st.kargs = append(st.kargs, m.all("karg")...)
	st.kargDeletes = m.all("karg-delete")

	tt := m.get("target-transport")
	if tt == "" {
		tt = "registry"
	}
	transport, err := parseTransport(tt)
	if err != nil {
		return nil, err
	}
	// bootc takes --target-imgref verbatim as the name: a "registry:"
	// prefix here ends up inside the origin (bootc-dev/bootc#1933).
	name := m.get("target-imgref")
	if name == "" {
		name = st.sourceName
	}
	st.target = imgRef{signed: enforce, transport: transport, name: name}

	if m.has("composefs-backend") && st.bootloader == "none" {
		return nil, errors.New("Bootloader set to none is not supported with the composefs backend")
	}
	st.selinux = "enabled"
	if m.has("disable-selinux") {
		r.say("notice: Target has SELinux enabled, overriding to disable")
		st.selinux = "force-target-disabled"
	}
	r.say("Installing image: %s", st.target.Alt())
	if st.sourceTransport == "containers-storage" && m.get("source-imgref") == "" {
		r.say("Digest: %s", st.digest)
	}

	st.rootFS = targetFS
	if st.rootFS == "" && cfg != nil {
		st.rootFS = cfg.RootFSType
	}
	if st.rootFS == "" && r.ver.atLeast(v(1, 14, 0)) {
		return nil, errors.New("No root filesystem specified")
	}

	if p := m.get("root-ssh-authorized-keys"); p != "" {
		data, err := r.readVisible(p)
		if err != nil {
			return nil, fmt.Errorf("Reading %s: %s", p, ioErr(err))
		}
		keys := string(data)
		st.sshKeys = &keys
	}
	if m.get("source-imgref") != "" {
		// bootc opens the source only when it pulls, after initializing
		// the ostree layout; the simulator checks it here, before it
		// writes anything, with the error bootc would end with.
		src, err := r.resolveSource(st.sourceTransport, st.sourceName)
		if err != nil {
			return nil, err
		}
		st.digest, st.labels = src.digest, src.labels
	}
	if err := r.stage("prepare", false); err != nil {
		return nil, err
	}
	return st, nil
}

// readVisible reads a file as bootc sees it (inside the container, a path
// exists only under a bind mount).
func (r *run) readVisible(p string) ([]byte, error) {
	v := fsView{c: r.env.Container}
	hp, ok := v.host(p)
	if !ok {
		return nil, syscall.ENOENT
	}
	return os.ReadFile(hp)
}

func installToFilesystem(r *run, m *matches) int {
	if err := r.checkFailKnob(installStages...); err != nil {
		fmt.Fprintf(r.env.Stderr, "error: %v\n", err)
		return 1
	}
	if err := r.toFilesystem(m); err != nil {
		fmt.Fprintf(r.env.Stderr, "error: Installing to filesystem: %v\n", err)
		return 1
	}
	r.say("Installation complete!")
	return 0
}

func (r *run) toFilesystem(m *matches) error {
	rootPath := m.pos[0]
	view, err := r.view()
	if err != nil {
		return err
	}
	if view.c != nil {
		if b, ok := view.bindFor(filepath.Clean(rootPath)); ok && b.Host != b.Container {
			return fmt.Errorf("simulator (strict): the target %s is bind-mounted from %s; bind it at the same path (-v %s:%s) so the paths bootc records are the host's", rootPath, b.Host, b.Host, b.Host)
		}
	}
	hostRoot, visible := view.host(rootPath)
	if !visible {
		return fmt.Errorf("Opening target root directory %s: %s", rootPath, ioErr(syscall.ENOENT))
	}
	fi, err := os.Stat(hostRoot)
	if err != nil {
		return fmt.Errorf("Opening target root directory %s: %s", rootPath, ioErr(err))
	}
	if !fi.IsDir() {
		return fmt.Errorf("Opening target root directory %s: %s", rootPath, ioErr(syscall.ENOTDIR))
	}
	if canonical(hostRoot) == "/" {
		return fmt.Errorf("simulator: refusing to install over this machine's root filesystem %s; mount a scratch filesystem and target that", rootPath)
	}
	if !view.isMountPoint(rootPath) {
		return fmt.Errorf("Not a mountpoint: %s", rootPath)
	}
	if !fi.IsDir() {
		return fmt.Errorf("Not a directory: %s", rootPath)
	}
	phys := rootPath
	if _, err := os.Stat(filepath.Join(hostRoot, "sysroot", "ostree")); err == nil {
		phys = filepath.Join(rootPath, "sysroot")
		if !view.isMountPoint(phys) {
			return fmt.Errorf("Not a mountpoint: %s", phys)
		}
	}
	hostPhys, _ := view.host(phys)
	rootMount, _ := view.mountOf(phys)
	switch rootMount.FSType {
	case "xfs", "ext4", "btrfs":
	default:
		return fmt.Errorf("Unknown filesystem: %s", rootMount.FSType)
	}

	st, err := r.prepare(m, rootMount.FSType)
	if err != nil {
		return err
	}

	replace := m.get("replace")
	switch replace {
	case "wipe":
		r.say("Wiping contents of root")
		if err := removeAllNoXdev(view, phys, hostPhys); err != nil {
			return err
		}
	case "alongside":
		// bootc empties /boot (but the loader dirs) and the ESP here; the
		// simulator leaves them, which only matters for reinstalls.
	default:
		if err := requireEmptyRootdir(view, phys, hostPhys); err != nil {
			return fmt.Errorf("Verifying empty rootfs: %w", err)
		}
	}

	rootSpec := m.opt("root-mount-spec")
	if rootSpec == nil && r.env.ImageConfig != nil {
		rootSpec = r.env.ImageConfig.RootMountSpec
	}
	var rootflags []string
	if rootSpec == nil {
		s := "UUID=" + r.uuidOf(rootMount.Source)
		rootSpec = &s
		if rootMount.FSType == "btrfs" {
			if sv, ok := mountOption(rootMount, "subvol"); ok {
				rootflags = append(rootflags, "rootflags=subvol="+sv)
			}
		}
	}

	bootPath := filepath.Join(rootPath, "boot")
	hostBoot, _ := view.host(bootPath)
	_, statErr := os.Lstat(hostBoot)
	bootExists := statErr == nil
	if !bootExists && r.ver.less(v(1, 13, 0)) {
		return errors.New("No /boot directory found in root; this is is currently required")
	}
	bootSpec := m.opt("boot-mount-spec")
	if bootSpec == nil && r.env.ImageConfig != nil {
		bootSpec = r.env.ImageConfig.BootMountSpec
	}
	if bootSpec == nil && bootExists && view.isMountPoint(bootPath) {
		if bm, ok := view.mountOf(bootPath); ok {
			s := "UUID=" + r.uuidOf(bm.Source)
			bootSpec = &s
		}
	}
	var kargs []string
	if *rootSpec != "" {
		kargs = append(append(kargs, "root="+*rootSpec), rootflags...)
	}
	kargs = append(kargs, "rw")
	hasBoot := bootSpec != nil && *bootSpec != ""
	if hasBoot {
		kargs = append(kargs, "boot="+*bootSpec)
	}
	skipFinalize := replace == "alongside" || m.has("skip-finalize")
	return r.installImpl(st, hostPhys, kargs, hasBoot, skipFinalize, true)
}

func (r *run) uuidOf(source string) string {
	if u, ok := r.env.UUIDOf(source); ok && u != "" {
		return u
	}
	return placeholderUUID(source)
}

// requireEmptyRootdir is bootc's require_empty_rootdir: only lost+found
// and directories that are, or hold only, mount points.
func requireEmptyRootdir(v fsView, dir, hostDir string) error {
	ents, err := os.ReadDir(hostDir)
	if err != nil {
		return errors.New(ioErr(err))
	}
	for _, e := range ents {
		name := e.Name()
		if name == "lost+found" {
			continue
		}
		if !e.IsDir() {
			return fmt.Errorf("Non-empty root filesystem; found %q", name)
		}
		if err := requireOnlyMounts(v, filepath.Join(dir, name), filepath.Join(hostDir, name), name); err != nil {
			return fmt.Errorf("Requiring directory contains only mount points: %w", err)
		}
	}
	return nil
}

func requireOnlyMounts(v fsView, dir, hostDir, display string) error {
	if v.isMountPoint(dir) {
		return nil
	}
	ents, err := os.ReadDir(hostDir)
	if err != nil {
		return errors.New(ioErr(err))
	}
	if len(ents) == 0 {
		return fmt.Errorf("Found empty directory: %s", display)
	}
	for _, e := range ents {
		if e.Name() == "lost+found" {
			continue
		}
		if !e.IsDir() {
			return fmt.Errorf("Found entry in %s: %s", display, e.Name())
		}
		if err := requireOnlyMounts(v, filepath.Join(dir, e.Name()), filepath.Join(hostDir, e.Name()), e.Name()); err != nil {
			return err
		}
	}
	return nil
}

// removeAllNoXdev is bootc's remove_all_in_dir_no_xdev with mount_err:
// --replace=wipe deletes everything but refuses to cross a mount point.
func removeAllNoXdev(v fsView, dir, hostDir string) error {
	ents, err := os.ReadDir(hostDir)
	if err != nil {
		return errors.New(ioErr(err))
	}
	for _, e := range ents {
		p, hp := filepath.Join(dir, e.Name()), filepath.Join(hostDir, e.Name())
		if e.IsDir() {
			if v.isMountPoint(p) {
				return fmt.Errorf("Found unexpected mount point %q", e.Name())
			}
			if err := removeAllNoXdev(v, p, hp); err != nil {
				return err
			}
		}
		if err := os.Remove(hp); err != nil {
			return errors.New(ioErr(err))
		}
	}
	return nil
}

// installImpl is install_to_filesystem_impl plus install_with_sysroot:
// the ostree layout, the deployment, the bootloader and finalization.
// write is false for to-disk, whose target the simulator never writes.
func (r *run) installImpl(st *installState, hostPhys string, kargs []string, hasBoot, skipFinalize, write bool) error {
	if st.selinux == "force-target-disabled" {
		kargs = append(kargs, "selinux=0")
	}
	kargs = append(kargs, st.kargs...)
	kargs = deleteKargs(kargs, st.kargDeletes)

	reuse := false
	if write {
		_, err := os.Stat(filepath.Join(hostPhys, "ostree", "repo"))
		reuse = err == nil
	}
	if reuse {
		r.say("Reusing extant ostree layout")
	} else {
		r.say("Initializing ostree layout")
		if err := r.stage("ostree", false); err != nil {
			return fmt.Errorf("Creating ostree deployment: Initializing ostree layout: %v", err)
		}
		if write {
			if err := writeRepo(hostPhys); err != nil {
				return fmt.Errorf("Creating ostree deployment: %v", err)
			}
		}
	}

	r.pause()
	fmt.Fprint(r.env.Stderr, "Deploying container image...")
	start := time.Now()
	if err := r.stage("deploy", true); err != nil {
		fmt.Fprintln(r.env.Stderr)
		return fmt.Errorf("Creating ostree deployment: Performing deployment: %v", err)
	}
	if write {
		origin := st.target.String()
		if o := r.getenv("UAI_SIM_ORIGIN"); o != "" {
			// A fault: the origin an install from a local source records
			// when the target ref is lost (ostree-rs-ext#512).
			origin = o
		}
		if err := writeDeployment(deployInput{
			phys: hostPhys, stateroot: st.stateroot, source: st.sourceName, digest: st.digest, labels: st.labels,
			origin: origin, target: st.target.name, kargs: kargs, sshKeys: st.sshKeys,
			selinux: st.selinux, kernel: r.env.Kernel, now: r.env.Now(),
		}); err != nil {
			fmt.Fprintln(r.env.Stderr)
			return fmt.Errorf("Creating ostree deployment: %v", err)
		}
	}
	r.pause()
	fmt.Fprintf(r.env.Stderr, "done (%s)\n", humanDuration(time.Since(start)+r.env.Delay))
	if st.sshKeys != nil {
		r.say("Injected: etc/tmpfiles.d/bootc-root-ssh.conf")
	}

	bl := st.bootloader
	if bl == "" {
		// The simulated images ship bootupctl, so bootc picks grub.
		bl = "grub"
	}
	r.say("Bootloader: %s", bl)
	if err := r.stage("bootloader", false); err != nil {
		return fmt.Errorf("Installing bootloader: %v", err)
	}
	switch bl {
	case "grub", "grub-cc":
		r.say("Installing bootloader via bootupd")
	case "systemd":
		r.say("Installing bootloader via systemd-boot")
	}
	if write {
		if err := writeBootloader(hostPhys, bl); err != nil {
			return fmt.Errorf("Installing bootloader: %v", err)
		}
		if r.getenv("UAI_SIM_FILL") == "1" {
			// An image that just fits: its objects take every free block
			// of the root filesystem, so the next write there fails.
			if err := fillFilesystem(filepath.Join(hostPhys, "ostree", "repo", "objects", "ff", "uai-sim-fill.file")); err != nil {
				return fmt.Errorf("Creating ostree deployment: %v", err)
			}
		}
	}

	if !skipFinalize {
		if err := r.stage("finalize", false); err != nil {
			return fmt.Errorf("Trimming root: %v", err)
		}
		fsnames := []string{"root"}
		if hasBoot {
			fsnames = append(fsnames, "boot")
		}
		for _, fs := range fsnames {
			r.say("Trimming %s", fs)
			r.say("Finalizing filesystem %s", fs)
		}
	}
	return nil
}

// deleteKargs drops every karg whose key (or whole KEY=VALUE) is listed.
func deleteKargs(kargs, deletes []string) []string {
	if len(deletes) == 0 {
		return kargs
	}
	var out []string
	for _, k := range kargs {
		key, _, _ := strings.Cut(k, "=")
		if !containsStr(deletes, k) && !containsStr(deletes, key) {
			out = append(out, k)
		}
	}
	return out
}

// humanDuration is indicatif's HumanDuration for short spans.
func humanDuration(d time.Duration) string {
	s := int(d.Round(time.Second) / time.Second)
	switch {
	case s == 1:
		return "1 second"
	case s < 60:
		return fmt.Sprintf("%d seconds", s)
	case s < 120:
		return "1 minute"
	}
	return fmt.Sprintf("%d minutes", s/60)
}

// fillFilesystem takes every free block of the filesystem holding path:
// one fallocate of what statfs reports free (fast, nothing is written
// through to a sparse backing file), then small writes until ENOSPC; the
// ENOSPC that ends it is the point, not an error.
func fillFilesystem(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	var st syscall.Statfs_t
	if err := syscall.Statfs(filepath.Dir(path), &st); err != nil {
		return err
	}
	off := int64(0)
	for free := int64(st.Bavail) * st.Bsize; free > 1<<20; free /= 2 {
		if err := syscall.Fallocate(int(f.Fd()), 0, off, free); err == nil {
			off += free
		} else if !errors.Is(err, syscall.ENOSPC) {
			return err
		}
	}
	if _, err := f.Seek(off, 0); err != nil {
		return err
	}
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				return err
			}
			break
		}
	}
	if err := f.Sync(); err != nil && !errors.Is(err, syscall.ENOSPC) {
		return err
	}
	return nil
}
