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

// DefaultMediumImagesDir is where a live ISO carries its images: each
// subdirectory holding an OCI layout (index.json) is read, and `uai iso
// build --embed-image` writes one layout, images/oci, holding every
// embedded image.
const DefaultMediumImagesDir = "/run/initramfs/live/images"

// DefaultGraphroot is where containers-storage keeps its images (the
// graphroot of /etc/containers/storage.conf).
const DefaultGraphroot = "/var/lib/containers/storage"

// DefaultImageSizeEstimate stands in for the image's size when the plan
// does not know it (no catalog.ImageInfo): 3 GiB, about a desktop bootc
// image's compressed size. The RAM rule compares twice this with the
// machine's memory.
const DefaultImageSizeEstimate = 3 << 30

// The runner a request asks for (Request.Runner, [source] runner).
const (
	// RunnerAuto lets the rules of chooseRunner decide; "" means the same.
	RunnerAuto = "auto"
)

// refAnnotation names an image in an OCI layout's index: its full
// reference, the way containers/image looks `oci:DIR:REF` up.
const refAnnotation = "org.opencontainers.image.ref.name"

// MediumImage is one image manifest in an OCI layout on the medium.
type MediumImage struct {
	// Layout is the layout's directory (the one holding index.json).
	Layout string
	// Ref is the manifest's org.opencontainers.image.ref.name annotation,
	// the full image ref (localhost:5000/x:1).
	Ref string
	// Digest is the manifest's digest (sha256:...).
	Digest string
}

// SourceImgref is the --source-imgref that installs this image:
// oci:LAYOUT:REF (containers/image's syntax).
func (m MediumImage) SourceImgref() string {
	return bootc.TransportOCI + ":" + m.Layout + ":" + m.Ref
}

// StoredImage is one image in containers-storage
// (GRAPHROOT/overlay-images/images.json).
type StoredImage struct {
	ID    string   `json:"id"`
	Names []string `json:"names"`
	// Digest is the manifest digest the image was pulled as; Digests
	// lists every one it is known by (newer containers/storage).
	Digest  string   `json:"digest"`
	Digests []string `json:"digests"`
}

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
	// MediumImages are the image manifests in the OCI layouts on the
	// install medium (ScanMediumImages).
	MediumImages []MediumImage
	// StoredImages are the images in the live system's containers-storage
	// (ReadStoredImages), whose graphroot is Graphroot.
	StoredImages []StoredImage
	Graphroot    string
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
// host runner installs from; medium is the image on the install medium
// when that is where it installs from.
type runnerChoice struct {
	runner, reason, source string
	medium                 *MediumImage
}

// runnerWant is what chooseRunner decides for: the request's runner and
// transport, and the image by its catalog ref, the ref it runs as (the
// pinned digest when there is one) and that digest.
type runnerWant struct {
	runner    string // "", auto, podman or host
	transport string // "", registry, oci, oci-archive, containers-storage
	image     string // the catalog's ref (or the request's image)
	runImage  string // repo@sha256:... when pinned, else image
	digest    string // the pinned digest, "" when not pinned
	// pinnedBy says who pinned digest, for the reason: "the catalog
	// pins" when empty.
	pinnedBy string
	demo     bool
}

// pinnedDigest is the digest of a digest-pinned ref, or "".
func pinnedDigest(ref string) string {
	if _, d, ok := strings.Cut(ref, "@"); ok {
		return d
	}
	return ""
}

// mediumMatch finds the image on the medium: the run image's ref, then its
// pinned digest under whatever tag, then the catalog's tag. A tag whose
// manifest is not the pinned digest is not used: stale says why.
func mediumMatch(imgs []MediumImage, w runnerWant) (m MediumImage, ok bool, stale string) {
	for _, mi := range imgs {
		if mi.Ref == w.runImage {
			return mi, true, ""
		}
	}
	if w.digest != "" {
		for _, mi := range imgs {
			if mi.Digest == w.digest {
				return mi, true, ""
			}
		}
	}
	for _, mi := range imgs {
		if mi.Ref != w.image {
			continue
		}
		if w.digest == "" {
			return mi, true, ""
		}
		stale = fmt.Sprintf("the install medium holds %s as %s (%s), but %s %s, so the image comes from the registry; ",
			mi.Ref, mi.Digest, mi.Layout, orStr(w.pinnedBy, "the catalog pins"), w.digest)
	}
	return MediumImage{}, false, stale
}

// storedMatch finds the image in containers-storage: by a name when the
// image is not pinned (or the stored image is the pinned digest), or by
// the pinned digest.
func storedMatch(imgs []StoredImage, w runnerWant) (StoredImage, bool) {
	for _, si := range imgs {
		hasDigest := w.digest != "" && (si.Digest == w.digest || slices.Contains(si.Digests, w.digest))
		named := slices.Contains(si.Names, w.runImage) || slices.Contains(si.Names, w.image)
		if hasDigest || (named && w.digest == "") {
			return si, true
		}
	}
	return StoredImage{}, false
}

// chooseRunner applies the rules of docs/engine.md ("Choosing the
// runner"), in order: no bootc on the live system -> podman; the runner
// the request names; the image on the medium -> host from oci:; the image
// in containers-storage -> podman, no pull; little RAM for the image ->
// host from registry:; otherwise podman. A source transport other than
// registry installs from there with the host runner.
func chooseRunner(f RunnerFacts, w runnerWant) (runnerChoice, error) {
	switch w.runner {
	case "", RunnerAuto, RunnerPodman, RunnerHost:
	default:
		return runnerChoice{}, Errorf(ClassInvalidInput, "use auto, podman or host", "runner %q is not known", w.runner)
	}
	chosen := ""
	if w.runner == RunnerPodman || w.runner == RunnerHost {
		chosen = "chosen by the answers or the --runner flag (runner = " + w.runner + "): "
	}
	noBootc := func() error {
		return Errorf(ClassEnvironment, "install bootc on the live system, or set runner = \"auto\" or \"podman\" ([source] runner, --runner)",
			"the host runner was asked for, but the live system has no bootc (bootc is not on PATH) to run it")
	}
	switch w.transport {
	case "oci", "oci-archive":
		if w.runner == RunnerPodman {
			return runnerChoice{}, Errorf(ClassInvalidInput, "set runner = \"auto\" or \"host\", or install from a registry",
				"source.transport %q installs with the live system's bootc (--source-imgref), and runner = \"podman\" was asked for", w.transport)
		}
		if f.NoHostBootc {
			return runnerChoice{}, Errorf(ClassEnvironment, "install bootc on the live system, or install from a registry",
				"source.transport %q needs the live system's bootc (--source-imgref %s:%s), and the live system has no bootc (bootc is not on PATH)", w.transport, w.transport, w.image)
		}
		return runnerChoice{runner: RunnerHost, source: w.transport + ":" + w.image,
			reason: chosen + "the image is the " + map[string]string{"oci": "OCI layout", "oci-archive": "OCI archive"}[w.transport] + " " + w.image + " (source.transport = " + w.transport + "): the live system's bootc installs it from there"}, nil
	case "containers-storage":
		if w.runner != RunnerPodman && !f.NoHostBootc {
			return runnerChoice{runner: RunnerHost, source: "containers-storage:" + w.image,
				reason: chosen + "the image " + w.image + " is in the live system's containers-storage (source.transport = containers-storage): the live system's bootc installs it from there"}, nil
		}
		if w.runner == RunnerHost {
			return runnerChoice{}, noBootc()
		}
		return runnerChoice{runner: RunnerPodman,
			reason: orStr(chosen, "the live system has no bootc, so ") + "the image's own bootc runs under podman from the live system's containers-storage (source.transport = containers-storage), no pull"}, nil
	}
	if w.runner == RunnerPodman {
		return runnerChoice{runner: RunnerPodman, reason: chosen + "the image's own bootc runs under podman, so its install config, SELinux policy and bootloader come from the image"}, nil
	}
	if f.NoHostBootc {
		if w.runner == RunnerHost {
			return runnerChoice{}, noBootc()
		}
		return runnerChoice{runner: RunnerPodman, reason: "the live system has no bootc, so the image's own bootc runs under podman"}, nil
	}
	m, onMedium, stale := mediumMatch(f.MediumImages, w)
	if onMedium {
		how := "the image is on the install medium as " + m.Ref + " (" + m.Digest + ") in the OCI layout " + m.Layout
		return runnerChoice{runner: RunnerHost, source: m.SourceImgref(), medium: &m,
			reason: chosen + how + ": the live system's bootc installs it from there, no network and no copy into RAM"}, nil
	}
	if w.runner == RunnerHost {
		return runnerChoice{runner: RunnerHost, source: bootc.TransportRegistry + ":" + w.runImage,
			reason: chosen + stale + "the live system's bootc streams the image from the registry into the target"}, nil
	}
	if si, ok := storedMatch(f.StoredImages, w); ok {
		name := w.runImage
		if len(si.Names) > 0 && w.digest == "" {
			name = si.Names[0]
		}
		return runnerChoice{runner: RunnerPodman,
			reason: fmt.Sprintf("%sthe image %s is in the live system's containers-storage (%s, image %s): podman runs it from there, nothing is pulled",
				stale, name, orStr(f.Graphroot, DefaultGraphroot), shortID(si.ID))}, nil
	}
	size, estimated := f.ImageSizeBytes, ""
	if size <= 0 {
		size, estimated = DefaultImageSizeEstimate, " (estimated; the image's size is not known)"
	}
	if f.MemTotalBytes > 0 && f.MemTotalBytes < 2*uint64(size) {
		return runnerChoice{runner: RunnerHost, source: bootc.TransportRegistry + ":" + w.runImage,
			reason: fmt.Sprintf("%sthe machine has %s of RAM, less than twice the image's %s%s: podman would hold the whole image in the live system's memory, so the live system's bootc streams it from the registry into the target",
				stale, HumanBytes(f.MemTotalBytes), HumanBytes(uint64(size)), estimated)}, nil
	}
	reason := "the image's own bootc installs itself, so its install config, SELinux policy and bootloader come from the image"
	if w.demo {
		reason = "demo: the built-in simulator stands in for podman and bootc (simulated bootc)"
	}
	return runnerChoice{runner: RunnerPodman, reason: stale + reason}, nil
}

func orStr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// GatherRunnerFacts reads the live system's RAM (/proc/meminfo), the OCI
// layouts under mediumDir (a missing directory is no medium images;
// "" reads none), the images in containers-storage under graphroot (""
// reads none) and whether bootc is there (locate may be nil: then it is
// assumed). imageSize is catalog.ImageInfo.SizeBytes, 0 when the image
// was not resolved. Session.Plan passes the defaults
// (DefaultMediumImagesDir, DefaultGraphroot) outside demo mode.
func GatherRunnerFacts(mediumDir string, imageSize int64, locate Locator, graphroot string) RunnerFacts {
	f := RunnerFacts{ImageSizeBytes: imageSize, MemTotalBytes: memTotal("/proc/meminfo")}
	if mediumDir != "" {
		f.MediumImages, _ = ScanMediumImages(mediumDir)
	}
	if graphroot != "" {
		f.Graphroot = graphroot
		f.StoredImages, _ = ReadStoredImages(graphroot)
	}
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

// ScanMediumImages lists the image manifests of the OCI layouts under
// dir: every subdirectory holding an index.json (`uai iso build` writes
// one, oci, with every embedded image). Each manifest entry named by an
// org.opencontainers.image.ref.name annotation is one MediumImage;
// entries without it, and image indexes (multi-arch; the ISO embeds one
// platform), are skipped. A missing dir is no images, not an error.
func ScanMediumImages(dir string) ([]MediumImage, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the medium's images in %s: %w", dir, err)
	}
	var out []MediumImage
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
				MediaType   string            `json:"mediaType"`
				Digest      string            `json:"digest"`
				Annotations map[string]string `json:"annotations"`
			} `json:"manifests"`
		}
		if json.Unmarshal(b, &idx) != nil {
			continue
		}
		for _, m := range idx.Manifests {
			switch m.MediaType {
			case "application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json":
				continue
			}
			if ref := m.Annotations[refAnnotation]; ref != "" && m.Digest != "" {
				out = append(out, MediumImage{Layout: layout, Ref: ref, Digest: m.Digest})
			}
		}
	}
	return out, nil
}

// ReadStoredImages reads the images of the containers-storage at
// graphroot (its overlay-images/images.json). No store is no images.
func ReadStoredImages(graphroot string) ([]StoredImage, error) {
	p := filepath.Join(graphroot, "overlay-images", "images.json")
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the images in containers-storage: %w", err)
	}
	var out []StoredImage
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("read the images in containers-storage: %s: %w", p, err)
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
