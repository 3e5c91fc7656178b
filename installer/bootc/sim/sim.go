// Package sim is a strict simulator of the bootc and podman command lines, for uai's demo mode and for tests where the real programs cannot run.
package sim

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The simulator accepts exactly the flags bootc (per release) and podman
// accept for the commands uai runs, rejects everything else the way they
// do, enforces bootc's install preconditions, and writes a small but
// realistic ostree deployment tree. It never opens a block device: a
// to-disk DEVICE must be a regular file.

// DefaultBootcVersion is the bootc release simulated unless told otherwise.
const DefaultBootcVersion = "1.16.9"

// DefaultPodmanVersion is what `podman --version` reports.
const DefaultPodmanVersion = "5.6.2"

// Env is everything the simulator takes from the outside world. Zero
// fields get the defaults noted.
type Env struct {
	Stdout, Stderr io.Writer // default io.Discard
	// Getuid is the caller's uid (default os.Getuid); bootc install needs 0.
	Getuid func() int
	// MountInfoPath is read to decide what is a mount point (default
	// /proc/self/mountinfo). Tests write a fake one.
	MountInfoPath string
	// InContainer says bootc runs inside a podman container of the image
	// being installed. The podman simulator sets it, with Container.
	InContainer bool
	// Container describes that container; nil with InContainer means the
	// documented full-privilege invocation with every path visible.
	Container *Container
	// Image is the image the container runs (the install source when no
	// --source-imgref is given); Container.Image wins when set.
	Image string
	// Version is the bootc release to simulate (default DefaultBootcVersion);
	// flags newer than it are rejected like any unknown flag.
	Version string
	// PodmanVersion is reported by podman --version.
	PodmanVersion string
	// Now stamps the simulated host state (default time.Now).
	Now func() time.Time
	// Delay is slept before each output line so a UI sees progress; 0 in
	// tests.
	Delay time.Duration
	// Getenv reads the UAI_SIM_* knobs (default os.Getenv).
	Getenv func(string) string
	// Done, when closed, ends a UAI_SIM_HANG; nil blocks until the process
	// is killed.
	Done <-chan struct{}
	// StateDir holds the simulated booted host (host.json) that status and
	// switch use; empty means "not booted via bootc".
	StateDir string
	// Root is the filesystem root `switch --mutate-in-place` edits
	// (Root/sysroot/ostree/deploy); default "/".
	Root string
	// UUIDOf maps a mount source to its filesystem UUID (default: look it
	// up in /dev/disk/by-uuid). When it fails a stable placeholder derived
	// from the source is used.
	UUIDOf func(source string) (string, bool)
	// ImageConfig is the image's /usr/lib/bootc/install configuration; nil
	// means none, as in the stock Fedora and CentOS bootc images.
	ImageConfig *InstallConfig
	// OpenFD opens --progress-fd N for writing (default: fd N of this
	// process, which must be a pipe).
	OpenFD func(fd int) (io.WriteCloser, error)
	// Kernel is the installer's `uname -r`, recorded in .bootc-aleph.json.
	Kernel string
	// GraphRoot is the containers-storage graphroot a
	// --source-imgref containers-storage:REF is looked up in
	// (GraphRoot/overlay-images/images.json); default DefaultGraphRoot.
	GraphRoot string
}

// Container is what `podman run` set up for the bootc inside it.
type Container struct {
	Image        string
	Privileged   bool
	PIDHost      bool
	IPCHost      bool
	Binds        []Bind
	SecurityOpts []string
	// Env holds the -e/--env variables.
	Env map[string]string
	// Rootless is true when podman ran as a non-root user; HostUID is then
	// the owner of /proc/1 as the container sees it.
	Rootless bool
	HostUID  int
}

// Bind is one -v HOST:CONTAINER[:OPTIONS] bind mount.
type Bind struct {
	Host, Container, Options string
}

// InstallConfig is the subset of bootc's [install] configuration that
// changes what the simulator does.
type InstallConfig struct {
	// RootFSType is [install.filesystem.root] type: xfs, ext4 or btrfs.
	RootFSType string
	// Block lists the allowed to-disk block setups; empty means ["direct"].
	Block         []string
	Kargs         []string
	Stateroot     string
	RootMountSpec *string
	BootMountSpec *string
	Bootloader    string
}

// DefaultEnv is the environment of a real process: os.Stdout/os.Stderr,
// the real uid and mountinfo, and these knobs:
//
//	UAI_SIM_BOOTC_VERSION   bootc release to simulate (1.16.9)
//	UAI_SIM_PODMAN_VERSION  podman version to report
//	UAI_SIM_MOUNTINFO       mountinfo file to read instead of /proc/self/mountinfo
//	UAI_SIM_UID             uid to pretend to have
//	UAI_SIM_IN_CONTAINER=1  act as bootc inside the documented podman run
//	UAI_SIM_IMAGE           image that container runs
//	UAI_SIM_DELAY           pause before each output line (Go duration; 250ms)
//	UAI_SIM_STATE_DIR       simulated booted-host state for status and switch
//	UAI_SIM_ROOT            root for switch --mutate-in-place (/)
//	UAI_SIM_ROOT_FS_TYPE    the image's install config root filesystem type
//	UAI_SIM_GRAPHROOT       containers-storage graphroot (/var/lib/containers/storage)
func DefaultEnv() Env {
	e := Env{
		Stdout:        os.Stdout,
		Stderr:        os.Stderr,
		Getuid:        os.Getuid,
		MountInfoPath: "/proc/self/mountinfo",
		Version:       DefaultBootcVersion,
		PodmanVersion: DefaultPodmanVersion,
		Now:           time.Now,
		Delay:         250 * time.Millisecond,
		Getenv:        os.Getenv,
		Root:          "/",
		UUIDOf:        uuidFromDevDisk,
		OpenFD:        openPipeFD,
		Kernel:        unameRelease(),
		GraphRoot:     DefaultGraphRoot,
	}
	if s := os.Getenv("UAI_SIM_BOOTC_VERSION"); s != "" {
		e.Version = s
	}
	if s := os.Getenv("UAI_SIM_PODMAN_VERSION"); s != "" {
		e.PodmanVersion = s
	}
	if s := os.Getenv("UAI_SIM_MOUNTINFO"); s != "" {
		e.MountInfoPath = s
	}
	if s := os.Getenv("UAI_SIM_UID"); s != "" {
		if uid, err := strconv.Atoi(s); err == nil {
			e.Getuid = func() int { return uid }
		}
	}
	e.InContainer = os.Getenv("UAI_SIM_IN_CONTAINER") == "1"
	e.Image = os.Getenv("UAI_SIM_IMAGE")
	if s := os.Getenv("UAI_SIM_DELAY"); s != "" {
		if d, err := time.ParseDuration(s); err == nil {
			e.Delay = d
		}
	}
	e.StateDir = os.Getenv("UAI_SIM_STATE_DIR")
	if s := os.Getenv("UAI_SIM_ROOT"); s != "" {
		e.Root = s
	}
	if s := os.Getenv("UAI_SIM_ROOT_FS_TYPE"); s != "" {
		e.ImageConfig = &InstallConfig{RootFSType: s}
	}
	if s := os.Getenv("UAI_SIM_GRAPHROOT"); s != "" {
		e.GraphRoot = s
	}
	return e
}

func (e Env) withDefaults() Env {
	if e.Stdout == nil {
		e.Stdout = io.Discard
	}
	if e.Stderr == nil {
		e.Stderr = io.Discard
	}
	if e.Getuid == nil {
		e.Getuid = os.Getuid
	}
	if e.MountInfoPath == "" {
		e.MountInfoPath = "/proc/self/mountinfo"
	}
	if e.Version == "" {
		e.Version = DefaultBootcVersion
	}
	if e.PodmanVersion == "" {
		e.PodmanVersion = DefaultPodmanVersion
	}
	if e.Now == nil {
		e.Now = time.Now
	}
	if e.Getenv == nil {
		e.Getenv = os.Getenv
	}
	if e.Root == "" {
		e.Root = "/"
	}
	if e.UUIDOf == nil {
		e.UUIDOf = uuidFromDevDisk
	}
	if e.OpenFD == nil {
		e.OpenFD = openPipeFD
	}
	if e.Kernel == "" {
		e.Kernel = "6.12.38+deb13-amd64"
	}
	if e.GraphRoot == "" {
		e.GraphRoot = DefaultGraphRoot
	}
	return e
}

// Main runs tool ("bootc" or "podman") with args and returns the exit
// status the real program would.
//
// Two knobs, read through Env.Getenv (so the bootc inside a simulated
// podman run sees them too, as well as -e variables), inject faults:
//
//	UAI_SIM_FAIL=<stage>  fail at that stage with bootc's "error: ..." line
//	                      and exit 1; stages: prepare, ostree, deploy,
//	                      bootloader, finalize (install), pull, stage
//	                      (switch), pull (podman, exit 125)
//	UAI_SIM_HANG=1        block in the deploy (install) or pull (switch)
//	                      stage until killed, or until Env.Done is closed
//	UAI_SIM_FILL=1        install an image that fills the root filesystem
//	                      to the last block (install still succeeds)
//	UAI_SIM_ORIGIN=REF    record REF (e.g. ostree-unverified-image:oci:/x)
//	                      as the deployment's origin (install succeeds)
//
// DefaultEnv documents the knobs that configure the environment.
func Main(tool string, args []string, env Env) int {
	env = env.withDefaults()
	switch tool {
	case "bootc":
		ver, err := parseVersion(env.Version)
		if err != nil {
			fmt.Fprintf(env.Stderr, "error: simulator: %v\n", err)
			return 1
		}
		r := &run{env: env, ver: ver}
		return dispatch(bootcCLI(), args, r)
	case "podman":
		return podmanMain(args, env)
	}
	fmt.Fprintf(env.Stderr, "error: simulator: unknown tool %q; simulate bootc or podman\n", tool)
	return 2
}

// run is one bootc invocation in progress.
type run struct {
	env Env
	ver version
}

// say prints a stdout line after the configured delay, so a UI reading
// the stream sees the install advance.
func (r *run) say(format string, a ...any) {
	r.pause()
	fmt.Fprintf(r.env.Stdout, format+"\n", a...)
}

// warn prints a stderr line the same way.
func (r *run) warn(format string, a ...any) {
	r.pause()
	fmt.Fprintf(r.env.Stderr, format+"\n", a...)
}

func (r *run) pause() {
	if r.env.Delay > 0 {
		time.Sleep(r.env.Delay)
	}
}

// getenv reads a knob; inside a container the -e variables come first.
func (r *run) getenv(k string) string {
	if c := r.env.Container; c != nil {
		if v, ok := c.Env[k]; ok {
			return v
		}
	}
	return r.env.Getenv(k)
}

// stage is a named point where UAI_SIM_FAIL can make the run fail and
// UAI_SIM_HANG can make it block.
func (r *run) stage(name string, hang bool) error {
	if hang && r.getenv("UAI_SIM_HANG") == "1" {
		if r.env.Done == nil {
			// Sleep rather than block on nothing: the Go runtime would
			// call an idle process deadlocked and exit, where a hung
			// program must wait for its signal.
			for {
				time.Sleep(time.Hour)
			}
		}
		<-r.env.Done
		return fmt.Errorf("simulated hang at stage %s ended", name)
	}
	if r.getenv("UAI_SIM_FAIL") == name {
		return fmt.Errorf("simulated failure (UAI_SIM_FAIL=%s)", name)
	}
	return nil
}

// checkFailKnob refuses a UAI_SIM_FAIL value no stage of this command
// knows, so a typo in a fault test cannot pass silently.
func (r *run) checkFailKnob(stages ...string) error {
	v := r.getenv("UAI_SIM_FAIL")
	if v == "" || containsStr(stages, v) {
		return nil
	}
	return fmt.Errorf("simulator: UAI_SIM_FAIL=%q names no stage of this command; use one of %s", v, strings.Join(stages, ", "))
}

// ioErr renders an OS error the way Rust's std::io::Error displays it:
// "No such file or directory (os error 2)".
func ioErr(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		msg := errno.Error()
		if msg != "" {
			msg = strings.ToUpper(msg[:1]) + msg[1:]
		}
		return fmt.Sprintf("%s (os error %d)", msg, int(errno))
	}
	return err.Error()
}

func unameRelease() string {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		return ""
	}
	var b strings.Builder
	for _, c := range u.Release {
		if c == 0 {
			break
		}
		b.WriteByte(byte(c))
	}
	return b.String()
}
