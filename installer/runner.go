package installer

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/universal-atomic-installer/uai/installer/bootc"
	"github.com/universal-atomic-installer/uai/installer/host"
)

// The runners: how bootc runs (Plan.Runner).
const (
	// RunnerPodman runs the image's own bootc in a privileged podman
	// container of the image (bootc.md §1.4, the documented invocation).
	RunnerPodman = "podman"
	// RunnerHost runs the live system's bootc with --source-imgref, as
	// Anaconda does: the image streams into the target instead of into the
	// live system's container storage (RAM on a live ISO).
	RunnerHost = "host"
)

// DefaultMediumImagesDir is where a live ISO carries images as OCI
// layouts, one directory per image.
const DefaultMediumImagesDir = "/run/initramfs/live/images"

// DefaultImageSizeEstimate stands in for the image's size when the plan
// does not know it (no catalog.ImageInfo): 3 GiB, about a desktop bootc
// image's compressed size. The RAM rule compares twice this with the
// machine's memory.
const DefaultImageSizeEstimate = 3 << 30

// RunnerFacts is what the runner choice depends on besides the request.
// Resolve stays pure: the front-end gathers these (GatherRunnerFacts) and
// passes them in (ResolveWith). The zero value chooses podman.
type RunnerFacts struct {
	// MemTotalBytes is the live system's RAM (MemTotal); 0 is unknown,
	// and then the RAM rule does not apply.
	MemTotalBytes uint64
	// ImageSizeBytes is the image's size (catalog.ImageInfo.SizeBytes);
	// 0 means unknown, DefaultImageSizeEstimate is used.
	ImageSizeBytes int64
	// MediumImages maps an image ref (as the catalog names it, tag or
	// digest) to an OCI layout directory on the install medium holding it.
	MediumImages map[string]string
	// NoHostBootc is set when the live system has no bootc: the host
	// runner is never chosen then.
	NoHostBootc bool
}

// ResolveOptions are the inputs of ResolveWith beyond the request.
type ResolveOptions struct {
	Runner RunnerFacts
	// CopyNetwork copies the live system's NetworkManager profiles to the
	// target (Plan.CopyNetwork); CopyUAI copies the uai binary to the
	// target's /var/usrlocal/bin/uai (Plan.CopyUAI). Both off by default.
	CopyNetwork bool
	CopyUAI     bool
}

// runnerChoice is the chosen runner, why, and the --source-imgref the
// host runner installs from.
type runnerChoice struct {
	runner, reason, source string
}

// chooseRunner applies the rules of docs/engine.md ("Choosing the
// runner"): the image on the medium -> host runner from oci:; little RAM
// for the image -> host runner from registry:; otherwise podman.
func chooseRunner(f RunnerFacts, image, runImage string, demo bool) runnerChoice {
	if f.NoHostBootc {
		return runnerChoice{runner: RunnerPodman, reason: "the live system has no bootc, so the image's own bootc runs under podman"}
	}
	for _, ref := range []string{runImage, image} {
		if dir, ok := f.MediumImages[ref]; ok && dir != "" {
			return runnerChoice{runner: RunnerHost, source: bootc.TransportOCI + ":" + dir,
				reason: "the image is on the install medium as an OCI layout (" + dir + "): the live system's bootc installs it from there, no network and no copy into RAM"}
		}
	}
	size, estimated := f.ImageSizeBytes, ""
	if size <= 0 {
		size, estimated = DefaultImageSizeEstimate, " (estimated; the image's size is not known)"
	}
	if f.MemTotalBytes > 0 && f.MemTotalBytes < 2*uint64(size) {
		return runnerChoice{runner: RunnerHost, source: bootc.TransportRegistry + ":" + runImage,
			reason: fmt.Sprintf("the machine has %s of RAM, less than twice the image's %s%s: podman would hold the whole image in the live system's memory, so the live system's bootc streams it from the registry into the target",
				HumanBytes(f.MemTotalBytes), HumanBytes(uint64(size)), estimated)}
	}
	reason := "the image's own bootc installs itself, so its install config, SELinux policy and bootloader come from the image"
	if demo {
		reason = "demo: the built-in simulator stands in for podman and bootc (simulated bootc)"
	}
	return runnerChoice{runner: RunnerPodman, reason: reason}
}

// GatherRunnerFacts reads the live system's RAM (/proc/meminfo), the OCI
// layouts in mediumDir (DefaultMediumImagesDir when empty; a missing
// directory is no medium images) and whether bootc is there (locate may
// be nil: then it is assumed). imageSize is catalog.ImageInfo.SizeBytes,
// 0 when the image was not resolved.
func GatherRunnerFacts(mediumDir string, imageSize int64, locate Locator) RunnerFacts {
	f := RunnerFacts{ImageSizeBytes: imageSize, MemTotalBytes: memTotal("/proc/meminfo")}
	if mediumDir == "" {
		mediumDir = DefaultMediumImagesDir
	}
	f.MediumImages, _ = ScanMediumImages(mediumDir)
	if locate != nil {
		if _, err := locate.Resolve(host.Bootc); err != nil {
			f.NoHostBootc = true
		}
	}
	return f
}

func memTotal(path string) uint64 {
	fh, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			fields := strings.Fields(v)
			if len(fields) > 0 {
				if kb, err := strconv.ParseUint(fields[0], 10, 64); err == nil {
					return kb << 10
				}
			}
		}
	}
	return 0
}

// ScanMediumImages lists the OCI layouts under dir, one per directory,
// by the image ref their index names (the annotation
// org.opencontainers.image.ref.name, as `skopeo copy docker://REF
// oci:DIR:REF` writes it). A layout must hold exactly one manifest, so
// that --source-imgref oci:DIR is unambiguous; others are skipped.
func ScanMediumImages(dir string) (map[string]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the medium's images in %s: %w", dir, err)
	}
	out := map[string]string{}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		layout := filepath.Join(dir, e.Name())
		b, err := os.ReadFile(filepath.Join(layout, "index.json"))
		if err != nil {
			continue
		}
		var idx struct {
			Manifests []struct {
				Annotations map[string]string `json:"annotations"`
			} `json:"manifests"`
		}
		if json.Unmarshal(b, &idx) != nil || len(idx.Manifests) != 1 {
			continue
		}
		if ref := idx.Manifests[0].Annotations["org.opencontainers.image.ref.name"]; ref != "" {
			out[ref] = layout
		}
	}
	return out, nil
}

// hostPrepareRoot is the file bootc reads from the running root when it
// installs with --source-imgref (bootc#1438; bootc.md §1.4), and what
// Anaconda writes there.
const (
	hostPrepareRoot        = "etc/ostree/prepare-root.conf"
	hostPrepareRootContent = "[ostree]\nsysroot=/sysroot\n"
)

// prepareHost applies the host runner's workarounds to the live system
// before bootc runs: /etc/ostree/prepare-root.conf when it is absent (the
// engine removes it again in cleanup), and a note when the live system
// has no SELinux policy for bootc to label the target with. Nothing is
// written in demo mode.
func (r *run) prepareHost() error {
	root := r.e.liveRoot()
	conf := filepath.Join(root, hostPrepareRoot)
	if _, err := os.Stat(conf); err == nil {
		r.log(StepBootc, "info", "live system: /"+hostPrepareRoot+" exists; bootc reads it (bootc#1438)")
	} else if r.p.Simulated {
		r.log(StepBootc, "info", "demo: would write /"+hostPrepareRoot+" on the live system (bootc#1438); not done")
	} else {
		if err := os.MkdirAll(filepath.Dir(conf), 0o755); err != nil {
			return fmt.Errorf("live system: make %s: %w", filepath.Dir(conf), err)
		}
		if err := writeAtomic(conf, []byte(hostPrepareRootContent), 0o644); err != nil {
			return fmt.Errorf("live system: write %s for bootc (bootc#1438): %w", conf, err)
		}
		r.wroteHostConf = conf
		r.log(StepBootc, "info", "live system: wrote /"+hostPrepareRoot+" ([ostree] sysroot=/sysroot) for bootc (bootc#1438); removed after the install")
	}
	if _, err := os.Stat(filepath.Join(root, "etc/selinux/config")); err != nil {
		r.log(StepBootc, "warning", "live system: no SELinux policy (/etc/selinux/config); bootc labels the target from the live system's policy (bootc#1438), so the installed system may need a relabel (touch /.autorelabel)")
	}
	return nil
}

// undoHost removes what prepareHost wrote.
func (r *run) undoHost() error {
	if r.wroteHostConf == "" {
		return nil
	}
	if err := os.Remove(r.wroteHostConf); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("live system: remove %s: %w", r.wroteHostConf, err)
	}
	r.wroteHostConf = ""
	return nil
}

func (e *Engine) liveRoot() string {
	if e.LiveRoot != "" {
		return e.LiveRoot
	}
	return "/"
}

// probeHost is probe for the host runner: the live system's bootc is the
// one that installs, so it is asked (its install config is read from the
// live system's /, bootc.md §1.4).
func (r *run) probeHost(ctx context.Context) error {
	p := r.p
	if len(p.Command) < 3 || p.Command[0] != string(host.Bootc) || p.Command[1] != "install" {
		return nil
	}
	runBootc := func(what string, args ...string) (string, error) {
		var out strings.Builder
		c := host.Command{Tool: host.Bootc, Args: args}
		r.log(StepPreflight, "cmd", "$ "+c.String())
		err := r.e.Runner.Run(ctx, c, func(s host.Stream, line string) {
			if s == host.Stdout {
				out.WriteString(line + "\n")
				return
			}
			r.log(StepPreflight, string(s), line)
		})
		if err != nil {
			return "", Errorf(ClassDependency, "check the live system's bootc (bootc --version), or install with the podman runner",
				"probe %s of the live system's bootc: %w", what, err)
		}
		return out.String(), nil
	}
	help, err := runBootc("the install flags", "install", p.Method, "--help")
	if err != nil {
		return err
	}
	pr := ImageProbe{Flags: bootc.ParseHelpFlags(help)}
	if !pr.Flags["source-imgref"] {
		return Errorf(ClassDependency, "update the live system's bootc, or install with the podman runner",
			"the live system's bootc does not list --source-imgref in `bootc install %s --help`; it cannot install an image it does not run in", p.Method)
	}
	conf, err := runBootc("the install config", "install", "print-configuration")
	if err != nil {
		return err
	}
	if err := ParseInstallConfig([]byte(conf), &pr); err != nil {
		return Errorf(ClassDependency, "", "live system's bootc: %w", err)
	}
	r.probed = &pr
	r.log(StepPreflight, "info", fmt.Sprintf("live system's bootc: %d install flags; root filesystem default %s; block setups %s",
		len(pr.Flags), orDash(pr.RootFSType), orDash(strings.Join(pr.Block, ","))))
	args, notes, err := AdaptInstallArgs(p.Command[2:], pr.Flags)
	for _, n := range notes {
		r.log(StepPreflight, "info", n)
	}
	if err != nil {
		return Errorf(ClassInvalidInput, "", "live system's bootc: %w", err)
	}
	r.command = append(slices.Clone(p.Command[:2]), args...)
	if !slices.Equal(r.command, p.Command) {
		r.log(StepPreflight, "info", "the handoff command for this bootc: "+strings.Join(r.command, " "))
	}
	return nil
}

// Copies from the live system into the installed one, each only when the
// plan asks (Plan.CopyNetwork, Plan.CopyUAI).
const (
	// nmConnectionsDir holds NetworkManager's keyfile profiles, on the
	// live system and in the target's /etc alike.
	nmConnectionsDir = "etc/NetworkManager/system-connections"
	// uaiTargetPath is where uai lands in the target's /var, so that
	// `uai switch` is there after the first boot (/usr/local is
	// /var/usrlocal on an ostree system).
	uaiTargetPath = "usrlocal/bin/uai"
)

// copyExtras runs at the end of the configure step, once the deployment
// is known.
func (r *run) copyExtras() error {
	if r.dep == nil || (!r.p.CopyNetwork && !r.p.CopyUAI) {
		return nil
	}
	if r.p.CopyNetwork {
		if err := r.copyNetwork(); err != nil {
			return err
		}
	}
	if r.p.CopyUAI {
		src := r.e.SelfPath
		if src == "" {
			exe, err := SelfExe()
			if err != nil {
				return err
			}
			src = exe
		}
		dst := filepath.Join(r.p.TargetDir, "ostree", "deploy", r.dep.Stateroot, "var", uaiTargetPath)
		b, err := os.ReadFile(src)
		if err != nil {
			return fmt.Errorf("read the uai binary %s: %w", src, err)
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("make %s: %w", filepath.Dir(dst), err)
		}
		if err := writeAtomic(dst, b, 0o755); err != nil {
			return fmt.Errorf("copy uai to the installed system: %w", err)
		}
		r.log(StepConfigure, "info", "copied uai to /var/"+uaiTargetPath+" (/usr/local/bin/uai on the installed system)")
	}
	return nil
}

// copyNetwork copies the live system's *.nmconnection profiles (regular
// files only; Wi-Fi keys inside, so mode 0600 and never logged) into the
// deployment's /etc.
func (r *run) copyNetwork() error {
	src := filepath.Join(r.e.liveRoot(), nmConnectionsDir)
	entries, err := os.ReadDir(src)
	if errors.Is(err, fs.ErrNotExist) {
		r.log(StepConfigure, "info", "network: the live system has no NetworkManager profiles to copy")
		return nil
	}
	if err != nil {
		return fmt.Errorf("read the live system's network profiles in %s: %w", src, err)
	}
	dst := filepath.Join(r.dep.Dir, nmConnectionsDir)
	var copied []string
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.HasSuffix(e.Name(), ".nmconnection") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return fmt.Errorf("read the network profile %s: %w", e.Name(), err)
		}
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return fmt.Errorf("make %s: %w", dst, err)
		}
		if err := writeAtomic(filepath.Join(dst, e.Name()), b, 0o600); err != nil {
			return fmt.Errorf("copy the network profile %s: %w", e.Name(), err)
		}
		copied = append(copied, strings.TrimSuffix(e.Name(), ".nmconnection"))
	}
	r.log(StepConfigure, "info", fmt.Sprintf("network: copied %d NetworkManager profile(s) from the live system: %s", len(copied), orDash(strings.Join(copied, ", "))))
	return nil
}
