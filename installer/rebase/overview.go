package rebase

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/universal-atomic-installer/uai/catalog"
	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/installer/bootc"
	"github.com/universal-atomic-installer/uai/installer/host"
)

// Overview is the machine as bootc status describes it, matched to the
// catalog, with the editions it can switch to.
type Overview struct {
	Booted   *Deployment `json:"booted"`
	Staged   *Deployment `json:"staged,omitempty"`
	Rollback *Deployment `json:"rollback,omitempty"`
	// Spec is the image the host follows for updates ("" for none).
	Spec string `json:"spec,omitempty"`
	// RpmOstree is set on an rpm-ostree system in a state bootc does not
	// fully manage (layered packages, or an ostree origin).
	RpmOstree bool `json:"rpm_ostree,omitempty"`
	// RollbackQueued means the next boot goes to the rollback.
	RollbackQueued bool `json:"rollback_queued,omitempty"`
	// Notes explain the state in sentences, for people.
	Notes   []string `json:"notes,omitempty"`
	Targets []Target `json:"targets"`
	// Host is bootc's document as read.
	Host *bootc.Host `json:"-"`
	// policy is the containers signature policy, read once.
	policy *containersPolicy
	// bootedEdition is the catalog entry of the booted image, if any.
	bootedEdition *catalog.Edition
}

// Deployment is one of bootc's deployments, named as people know it.
type Deployment struct {
	// Image is the reference as bootc shows it: the bare name for the
	// registry transport, TRANSPORT:NAME otherwise; "" for an ostree origin.
	Image     string `json:"image,omitempty"`
	Transport string `json:"transport,omitempty"`
	Signature string `json:"signature,omitempty"`
	Digest    string `json:"digest,omitempty"`
	Version   string `json:"version,omitempty"`
	Arch      string `json:"arch,omitempty"`
	// Timestamp is the image's creation time, when bootc knows it.
	Timestamp *time.Time `json:"timestamp,omitempty"`
	// Edition and EditionName are the catalog edition this is, matched by
	// MatchedBy: "ref", "alias" or "digest".
	Edition     string `json:"edition,omitempty"`
	EditionName string `json:"edition_name,omitempty"`
	Category    string `json:"category,omitempty"`
	MatchedBy   string `json:"matched_by,omitempty"`
	// OstreeOrigin is set for a deployment that tracks an ostree ref.
	OstreeOrigin bool `json:"ostree_origin,omitempty"`
	// Checksum is the ostree commit, which names an ostree origin.
	Checksum     string `json:"checksum,omitempty"`
	Incompatible bool   `json:"incompatible,omitempty"`
	Pinned       bool   `json:"pinned,omitempty"`
	DownloadOnly bool   `json:"download_only,omitempty"`
}

// Label names the deployment for a person: the edition's name if known,
// else the image, else the ostree commit.
func (d *Deployment) Label() string {
	switch {
	case d == nil:
		return "none"
	case d.EditionName != "":
		return d.EditionName
	case d.Image != "":
		return d.Image
	case d.Checksum != "":
		return "ostree commit " + shortHash(d.Checksum)
	}
	return "an ostree deployment"
}

// Target is an edition the machine could switch to, and what that changes.
type Target struct {
	Edition  string `json:"edition,omitempty"`
	Name     string `json:"name"`
	Category string `json:"category,omitempty"`
	Image    string `json:"image"`
	// Available is false when this machine cannot run it; Reason says why.
	Available bool      `json:"available"`
	Reason    string    `json:"reason,omitempty"`
	Changes   []Change  `json:"changes,omitempty"`
	Warnings  []Warning `json:"warnings,omitempty"`
	// entry is the catalog edition; nil for a ref outside the catalog.
	entry *catalog.Edition
}

// Change is one thing that differs between the booted system and a target.
type Change struct {
	What string `json:"what"`
	From string `json:"from,omitempty"`
	To   string `json:"to"`
}

// Warning is a risk the user should accept knowingly. Code is stable.
type Warning struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Warning codes (docs/switch.md).
const (
	WarnLeavesDesktop   = "leaves-desktop"
	WarnMajorRelease    = "major-release"
	WarnCommunity       = "community"
	WarnSandbox         = "sandbox"
	WarnUnsigned        = "unsigned"
	WarnUnverifiedFirst = "unverified-first"
	WarnNotInCatalog    = "not-in-catalog"
	WarnNotChecked      = "not-checked"
	WarnDigestMoved     = "digest-moved"
	WarnLookup          = "lookup-note"
	WarnLayered         = "layered-packages"
	WarnLocalOrigin     = "local-origin"
)

// Overview reads bootc status and matches it to the catalog. It refuses a
// machine bootc does not manage, with the reason.
func (e *Engine) Overview(ctx context.Context) (*Overview, error) {
	h, err := e.readStatus(ctx)
	if err != nil {
		return nil, err
	}
	if !h.IsBootc() {
		return nil, installer.Errorf(installer.ClassEnvironment,
			"uai switch changes the edition of an installed bootc or rpm-ostree system; to install one, use uai install",
			"this system is not booted via bootc: bootc status shows no booted deployment")
	}
	if h.Status.ReadOnly {
		return nil, installer.Errorf(installer.ClassEnvironment,
			"run uai switch on the installed system after booting it",
			"this system runs from read-only media (bootc status says readOnly), such as a live ISO")
	}
	pol, perr := readPolicy(e.policyPath())
	ov := &Overview{
		Host:           h,
		Booted:         e.deployment(h.Status.Booted),
		Staged:         e.deployment(h.Status.Staged),
		Rollback:       e.deployment(h.Status.Rollback),
		RpmOstree:      h.RpmOstree(),
		RollbackQueued: h.Status.RollbackQueued,
		policy:         pol,
	}
	if h.Spec.Image != nil {
		ov.Spec = h.Spec.Image.String()
	}
	if id := ov.Booted.Edition; id != "" {
		if ed, ok := e.catalog().Lookup(id); ok {
			ov.bootedEdition = &ed
		}
	}
	ov.Notes = e.notes(ov)
	if perr != nil {
		ov.Notes = append(ov.Notes, fmt.Sprintf("%v; signed editions are switched to unverified", perr))
	}
	for _, ed := range e.catalog().Editions {
		if ed.ID == ov.Booted.Edition {
			continue
		}
		ov.Targets = append(ov.Targets, e.target(ov, ed))
	}
	// Editions this machine cannot run go last, keeping catalog order.
	slices.SortStableFunc(ov.Targets, func(a, b Target) int {
		switch {
		case a.Available == b.Available:
			return 0
		case a.Available:
			return -1
		}
		return 1
	})
	return ov, nil
}

func (e *Engine) readStatus(ctx context.Context) (*bootc.Host, error) {
	var out strings.Builder
	err := e.Runner.Run(ctx, e.command(bootc.StatusCommand()), func(s host.Stream, line string) {
		if s == host.Stdout {
			out.WriteString(line)
			out.WriteByte('\n')
		}
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, installer.Classify(installer.ClassAborted, err)
		}
		var nf *host.NotFoundError
		if errors.As(err, &nf) {
			return nil, installer.Errorf(installer.ClassEnvironment,
				"run uai switch on an installed bootc or rpm-ostree system (bootc ships in the image), or try it with --demo",
				"read bootc status: %w", err)
		}
		return nil, installer.Errorf(installer.ClassEnvironment, rootFix(err), "read bootc status: %w", err)
	}
	h, err := bootc.ParseStatus([]byte(out.String()))
	if err != nil {
		return nil, installer.Errorf(installer.ClassEnvironment, "", "%w", err)
	}
	return h, nil
}

// rootFix is the fix for bootc's refusal of an unprivileged user.
func rootFix(err error) string {
	if notRoot(err) {
		return "run uai switch as root (sudo uai switch ...)"
	}
	return "run the command above by hand to see bootc's full message"
}

// deployment names a boot entry and matches it to the catalog: by
// reference (the edition's image or an alias) and by pinned digest.
func (e *Engine) deployment(b *bootc.BootEntry) *Deployment {
	if b == nil {
		return nil
	}
	d := &Deployment{OstreeOrigin: b.OstreeOrigin(), Incompatible: b.Incompatible, Pinned: b.Pinned, DownloadOnly: b.DownloadOnly}
	if b.Ostree != nil {
		d.Checksum = b.Ostree.Checksum
	}
	if b.Image == nil {
		return d
	}
	i := b.Image
	d.Image, d.Transport, d.Signature = i.Image.String(), i.Image.Transport, i.Image.Signature.String()
	d.Digest, d.Version, d.Arch, d.Timestamp = i.ImageDigest, i.Version, i.Architecture, i.Timestamp
	if ed, by := e.matchEdition(i.Image, i.ImageDigest); ed != nil {
		d.Edition, d.EditionName, d.Category, d.MatchedBy = ed.ID, ed.Name, ed.Category, by
	}
	return d
}

func (e *Engine) matchEdition(ref bootc.ImageReference, digest string) (*catalog.Edition, string) {
	if e.Catalog == nil {
		return nil, ""
	}
	if ref.Transport == bootc.TransportRegistry || ref.Transport == "" {
		name, _, _ := strings.Cut(ref.Image, "@")
		for i := range e.Catalog.Editions {
			ed := &e.Catalog.Editions[i]
			if ed.Image == name {
				return ed, "ref"
			}
			if slices.Contains(ed.Aliases, name) {
				return ed, "alias"
			}
		}
	}
	// A pinned digest identifies the edition whatever the transport, e.g.
	// an oci: origin left by an offline install of a pinned edition.
	for i := range e.Catalog.Editions {
		ed := &e.Catalog.Editions[i]
		if ed.Digest != "" && ed.Digest == digest {
			return ed, "digest"
		}
	}
	return nil, ""
}

func (e *Engine) notes(ov *Overview) []string {
	var n []string
	b := ov.Booted
	switch {
	case b.OstreeOrigin:
		n = append(n, "The booted deployment follows an ostree ref, not a container image: a classic rpm-ostree install. bootc switch moves it to a container image.")
	case b.Edition == "":
		n = append(n, fmt.Sprintf("The booted image %s is not in the catalog, so uai cannot say what category or release it is.", b.Image))
	case b.MatchedBy == "alias":
		n = append(n, fmt.Sprintf("The booted image %s is an alias of the catalog's %s (%s).", b.Image, b.EditionName, ov.bootedEdition.Image))
	}
	if b.Incompatible {
		n = append(n, "The booted deployment carries rpm-ostree changes (layered packages or overrides); rpm-ostree manages it, and bootc switch does not carry them over.")
	}
	if b.Transport != "" && b.Transport != bootc.TransportRegistry {
		n = append(n, fmt.Sprintf("Updates come from %s, a local %s image, as after an offline install; after a switch they come from the registry.", b.Image, b.Transport))
	}
	if ov.Staged != nil {
		n = append(n, fmt.Sprintf("%s is staged for the next boot; a switch replaces it.", ov.Staged.Label()))
	}
	if ov.RollbackQueued {
		n = append(n, "A rollback is queued: the next boot starts the rollback deployment.")
	}
	return n
}

// graphical categories start a desktop session; leaving them leaves the
// user at a text login.
var graphical = []string{"desktop", "gaming"}

// target describes switching to edition ed.
func (e *Engine) target(ov *Overview, ed catalog.Edition) Target {
	t := Target{Edition: ed.ID, Name: ed.Name, Category: ed.Category, Image: ed.Image, Available: true, entry: &ed}
	if !slices.Contains(ed.Arches, e.arch()) {
		t.Available = false
		t.Reason = fmt.Sprintf("built for %s; this machine is %s", strings.Join(ed.Arches, ", "), e.arch())
	}
	from := ov.bootedEdition
	if from != nil && from.Category != ed.Category {
		t.Changes = append(t.Changes, Change{What: "category", From: from.Category, To: ed.Category})
	} else if from == nil {
		t.Changes = append(t.Changes, Change{What: "category", To: ed.Category})
	}
	if ov.Booted.Image != ed.Image {
		t.Changes = append(t.Changes, Change{What: "image", From: ov.Booted.Image, To: ed.Image})
	}
	t.Warnings = e.warnings(ov, &ed, ed.Image, "")
	return t
}

// warnings are the risks of moving from the booted system to ref (of
// edition ed, nil outside the catalog). version is the target's version
// label when a look-up found one.
func (e *Engine) warnings(ov *Overview, ed *catalog.Edition, ref, version string) []Warning {
	var w []Warning
	add := func(code, format string, a ...any) {
		w = append(w, Warning{Code: code, Message: fmt.Sprintf(format, a...)})
	}
	from := ov.bootedEdition
	name := ref
	if ed != nil {
		name = ed.Name
	}
	if ed != nil && from != nil && slices.Contains(graphical, from.Category) && !slices.Contains(graphical, ed.Category) {
		add(WarnLeavesDesktop, "%s is a %s edition and %s is a %s image without a graphical desktop: after the reboot the machine starts to a text login.", from.Name, from.Category, ed.Name, ed.Category)
	}
	fromMajor := majorRelease(ov.Booted.Version)
	if fromMajor == "" {
		fromMajor = majorRelease(imageTag(ov.Booted.Image))
	}
	toMajor := majorRelease(version)
	if toMajor == "" {
		toMajor = majorRelease(imageTag(ref))
	}
	if fromMajor != "" && toMajor != "" && fromMajor != toMajor {
		f, _ := strconv.Atoi(fromMajor)
		t, _ := strconv.Atoi(toMajor)
		switch {
		case t < f && sameFamily(ov.Booted.Image, ref):
			add(WarnMajorRelease, "This goes back a major release, %s to %s: a downgrade. Data and settings written by the newer release may not work with the older one.", fromMajor, toMajor)
		case sameFamily(ov.Booted.Image, ref):
			add(WarnMajorRelease, "This moves to another major release, %s to %s. /etc is merged with the new defaults; read the release notes for what changes.", fromMajor, toMajor)
		default:
			add(WarnMajorRelease, "This moves to another distribution release, %s to %s: packages, defaults and configuration formats differ. /etc is merged with the new defaults.", fromMajor, toMajor)
		}
	}
	switch {
	case ed == nil:
		add(WarnNotInCatalog, "%s is not in the catalog: uai knows nothing about who builds it or how it is signed.", ref)
	case strings.Contains(strings.ToLower(ed.MaturityNote), "community"):
		who := ed.Maintainer
		if who == "" {
			who = "its community"
		}
		add(WarnCommunity, "%s is a community edition maintained by %s, outside the base distribution's release process.", ed.Name, who)
	}
	if ed != nil && ed.Maturity == "sandbox" {
		add(WarnSandbox, "%s is a sandbox edition: %s", ed.Name, strings.TrimSpace(ed.MaturityNote))
	}
	switch {
	case ed == nil || ed.Signature.Policy != catalog.PolicySigstore:
		add(WarnUnsigned, "The catalog pins no signing key for %s: the image is trusted as the registry serves it (over TLS), not by signature.", name)
	case !ov.policy.verdict(ref).Verified:
		add(WarnUnverifiedFirst, "%s is signed, but this machine's containers policy (%s) does not verify it yet, so this switch is unverified. The new image brings its own policy: after the reboot, run `bootc switch --enforce-container-sigpolicy %s` to verify every later update.", name, e.policyPath(), ref)
	}
	if ov.Booted.Incompatible {
		add(WarnLayered, "Packages layered with rpm-ostree, overrides and removals are not carried over by bootc switch; install them again afterwards, or switch with --method=rpm-ostree to keep them.")
	}
	return w
}

// majorRelease is the leading number of a version or tag: "44" of
// "44.20260820.0", "9" of "stream9.20240807.0", "10" of "stream10".
// Date-like versions (CoreOS's 20231230.1) and names ("stable") give "".
func majorRelease(v string) string {
	v = strings.TrimPrefix(strings.TrimPrefix(v, "stream"), "v")
	end := 0
	for end < len(v) && v[end] >= '0' && v[end] <= '9' {
		end++
	}
	if end == 0 || end > 3 {
		return ""
	}
	return v[:end]
}

// imageTag is the tag of a reference, "" without one.
func imageTag(ref string) string {
	name, _, _ := strings.Cut(ref, "@")
	if i := strings.LastIndexByte(name, ':'); i > strings.LastIndexByte(name, '/') {
		return name[i+1:]
	}
	return ""
}

// sameFamily guesses that two images are releases of one distribution
// when they live in the same registry namespace (quay.io/fedora/...,
// quay.io/centos-bootc/...), which is how the catalog's publishers lay
// them out.
func sameFamily(a, b string) bool {
	ns := func(r string) string {
		if i := strings.LastIndexByte(r, '/'); i >= 0 {
			return r[:i]
		}
		return r
	}
	return a != "" && ns(a) == ns(b)
}

func shortHash(s string) string {
	s = strings.TrimPrefix(s, "sha256:")
	if len(s) > 12 {
		return s[:12]
	}
	return s
}
