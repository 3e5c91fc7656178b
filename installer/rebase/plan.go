package rebase

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/universal-atomic-installer/uai/catalog"
	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/installer/bootc"
	"github.com/universal-atomic-installer/uai/installer/host"
)

// Plan is a checked switch, ready to confirm and run.
type Plan struct {
	Target Target `json:"target"`
	// Ref is the image to switch to, without a transport; the system
	// updates from it afterwards.
	Ref  string      `json:"ref"`
	From *Deployment `json:"from,omitempty"`
	// Staged is the deployment waiting for the next boot, which the
	// switch replaces.
	Staged *Deployment `json:"staged,omitempty"`
	// Facts is what the look-up found; nil when none was made.
	Facts *ImageFacts `json:"facts,omitempty"`
	// Method is how the switch runs; a bootc plan on an rpm-ostree system
	// may still end as rpm-ostree when bootc refuses (MethodAuto).
	Method Method `json:"method"`
	// EnforceSigPolicy passes --enforce-container-sigpolicy: the edition
	// is signed and this machine's policy verifies it.
	EnforceSigPolicy bool `json:"enforce_sigpolicy,omitempty"`
	// Command is the command that will run, for people and logs.
	Command []string `json:"command"`
	// RebaseRef is rpm-ostree's spelling of Ref, for an rpm-ostree rebase.
	RebaseRef string `json:"rebase_ref,omitempty"`
	// RpmOstree marks a switch of an rpm-ostree system.
	RpmOstree bool      `json:"rpm_ostree,omitempty"`
	Warnings  []Warning `json:"warnings,omitempty"`
	// Keeps and Drops say what survives the switch and what does not.
	Keeps []string `json:"keeps,omitempty"`
	Drops []string `json:"drops,omitempty"`
	// Layered are the rpm-ostree packages bootc switch leaves behind.
	Layered   []string `json:"layered,omitempty"`
	Simulated bool     `json:"simulated,omitempty"`
	// fallback is set when MethodAuto may fall back to rpm-ostree.
	fallback bool
}

// WarningCodes lists the plan's warning codes.
func (p *Plan) WarningCodes() []string {
	out := make([]string, len(p.Warnings))
	for i, w := range p.Warnings {
		out[i] = w.Code
	}
	return out
}

// Find resolves what the user asked for, an edition id or an image ref,
// against the overview's targets. A ref of a catalog edition (or of an
// alias) is that edition.
func (e *Engine) Find(ov *Overview, want string) (Target, error) {
	want = strings.TrimSpace(want)
	cat := e.catalog()
	if ed, ok := cat.Lookup(want); ok {
		if ed.ID == ov.Booted.Edition {
			return e.target(ov, ed), nil
		}
		for _, t := range ov.Targets {
			if t.Edition == ed.ID {
				return t, nil
			}
		}
	}
	if err := bootc.ValidateImageRef(want); err != nil {
		hint := "run `uai catalog list` for the editions, or give a full image ref such as quay.io/fedora/fedora-bootc:44"
		if close := closeEditions(cat, want); len(close) > 0 {
			hint = "did you mean " + strings.Join(close, " or ") + "? " + hint
		}
		if !strings.ContainsAny(want, "/:.") {
			return Target{}, installer.Errorf(installer.ClassInvalidInput, hint, "%q is not an edition in the catalog", want)
		}
		return Target{}, installer.Errorf(installer.ClassInvalidInput, "", "%q is neither a catalog edition nor a usable image ref: %w", want, err)
	}
	for _, ed := range cat.Editions {
		if ed.Image == want || slices.Contains(ed.Aliases, want) {
			return e.Find(ov, ed.ID)
		}
	}
	return Target{Name: want, Image: want, Available: true, Warnings: e.warnings(ov, nil, want, "")}, nil
}

func (e *Engine) catalog() *catalog.Catalog {
	if e.Catalog == nil {
		return &catalog.Catalog{}
	}
	return e.Catalog
}

// closeEditions are ids that contain what was typed, or the other way round.
func closeEditions(cat *catalog.Catalog, want string) []string {
	w := strings.ToLower(want)
	var out []string
	for _, ed := range cat.Editions {
		if w != "" && (strings.Contains(ed.ID, w) || strings.Contains(w, ed.ID)) {
			out = append(out, ed.ID)
		}
	}
	if len(out) > 3 {
		out = out[:3]
	}
	return out
}

// Plan checks a switch to want (an edition id or an image ref) and
// returns what would run. It refuses a target this machine cannot boot:
// another architecture, or an image without the bootc label.
func (e *Engine) Plan(ctx context.Context, ov *Overview, want string) (*Plan, error) {
	t, err := e.Find(ov, want)
	if err != nil {
		return nil, err
	}
	if !t.Available {
		return nil, installer.Errorf(installer.ClassInvalidInput, "pick an edition built for this machine (uai switch lists them)",
			"edition %s cannot run here: %s", t.Edition, t.Reason)
	}
	p := &Plan{Target: t, Ref: t.Image, From: ov.Booted, Staged: ov.Staged, RpmOstree: ov.RpmOstree, Simulated: e.Simulated, Method: MethodBootc}
	if e.method() == MethodRpmOstree {
		p.Method = MethodRpmOstree
	}
	p.fallback = e.method() == MethodAuto && ov.RpmOstree
	version := ""
	if e.Check == nil {
		p.Warnings = append(p.Warnings, Warning{Code: WarnNotChecked, Message: fmt.Sprintf("%s was not looked up before switching (no registry check in this build): bootc finds out whether it is bootable while pulling it.", p.Ref)})
	} else {
		facts, err := e.Check(ctx, p.Ref, e.arch())
		if err != nil {
			if ctx.Err() != nil {
				return nil, installer.Classify(installer.ClassAborted, err)
			}
			var ie *installer.Error
			if errors.As(err, &ie) {
				return nil, err
			}
			return nil, installer.Errorf(installer.ClassDependency, "check the network and the image ref, then retry",
				"look up %s: %w", p.Ref, err)
		}
		p.Facts = &facts
		version = facts.Version
		if facts.Arch != "" && facts.Arch != e.arch() {
			return nil, installer.Errorf(installer.ClassInvalidInput, "pick an image built for "+e.arch(),
				"image %s is built for %s; this machine is %s", p.Ref, facts.Arch, e.arch())
		}
		if !facts.Bootable {
			return nil, installer.Errorf(installer.ClassInvalidInput, "pick a bootc image (the catalog lists them)",
				"image %s is not a bootable container: its labels carry neither containers.bootc=1 nor ostree.bootable=true, so bootc cannot boot it", p.Ref)
		}
		for _, n := range facts.Notes {
			p.Warnings = append(p.Warnings, Warning{Code: WarnLookup, Message: n})
		}
		if ed := t.entry; ed != nil && ed.Digest != "" && facts.Digest != "" && facts.Digest != ed.Digest {
			p.Warnings = append(p.Warnings, Warning{Code: WarnDigestMoved, Message: fmt.Sprintf("The registry serves %s for %s, not the digest the catalog pins (%s): the image was rebuilt since the catalog was made.", shortHash(facts.Digest), p.Ref, shortHash(ed.Digest))})
		}
	}
	// The look-up's version label can say more than the tag ("stable").
	p.Warnings = append(p.Warnings, e.warnings(ov, t.entry, p.Ref, version)...)
	if ed := t.entry; ed != nil && ed.Signature.Policy == catalog.PolicySigstore {
		p.EnforceSigPolicy = ov.policy.verdict(p.Ref).Verified
	}
	origin := bootc.Origin{Scheme: bootc.SchemeUnverifiedRegistry, Transport: bootc.TransportRegistry, Image: p.Ref}
	if p.EnforceSigPolicy {
		origin.Scheme = bootc.SchemeImageSigned
	}
	p.RebaseRef = origin.String()
	if p.RpmOstree {
		p.Layered = e.layeredPackages(ctx)
	}
	p.Keeps, p.Drops = keepsAndDrops(p)
	switch p.Method {
	case MethodRpmOstree:
		p.Command = append([]string{string(RpmOstree)}, rebaseArgs(p)...)
	default:
		c, err := bootc.SwitchCommand(bootc.SwitchOptions{Image: p.Ref, EnforceSigPolicy: p.EnforceSigPolicy})
		if err != nil {
			return nil, installer.Errorf(installer.ClassInvalidInput, "", "%w", err)
		}
		p.Command = append([]string{string(c.Tool)}, c.Args...)
	}
	return p, nil
}

func rebaseArgs(p *Plan) []string { return []string{"rebase", p.RebaseRef} }

// keepsAndDrops says what a switch carries over. bootc stages a new
// deployment from the image alone; /etc is merged three-way and /var is
// not touched, as for every ostree deployment.
func keepsAndDrops(p *Plan) (keeps, drops []string) {
	keeps = []string{
		"/var: home directories, containers, Flatpak apps and other data stay as they are",
		"/etc: your changes are merged onto the new image's defaults",
		"the booted deployment stays as the rollback until the next switch or update",
	}
	if p.Method == MethodRpmOstree {
		keeps = append(keeps, "packages layered with rpm-ostree: rpm-ostree rebase layers them onto the new image")
		return keeps, nil
	}
	drops = []string{"everything under /usr comes from the new image: programs of the old one are gone"}
	if p.RpmOstree && p.From != nil && p.From.Incompatible {
		what := "packages layered with rpm-ostree, overrides and removals"
		if len(p.Layered) > 0 {
			what += " (" + strings.Join(p.Layered, ", ") + ")"
		}
		drops = append(drops, what+": bootc switch does not carry them over")
	}
	return keeps, drops
}

// rpmOstreeStatus is the part of `rpm-ostree status --json` that lists
// local changes of a deployment.
type rpmOstreeStatus struct {
	Deployments []struct {
		Booted                  bool     `json:"booted"`
		RequestedPackages       []string `json:"requested-packages"`
		RequestedLocalPackages  []string `json:"requested-local-packages"`
		RequestedBaseRemovals   []string `json:"requested-base-removals"`
		RequestedBaseLocalRepls []string `json:"requested-base-local-replacements"`
	} `json:"deployments"`
}

// layeredPackages asks rpm-ostree what the booted deployment layers on
// its image. It is best effort: without rpm-ostree the plan says so in
// general words instead.
func (e *Engine) layeredPackages(ctx context.Context) []string {
	var out strings.Builder
	err := e.Runner.Run(ctx, e.command(host.Command{Tool: RpmOstree, Args: []string{"status", "--json", "--booted"}}), func(s host.Stream, l string) {
		if s == host.Stdout {
			out.WriteString(l)
			out.WriteByte('\n')
		}
	})
	if err != nil {
		return nil
	}
	var st rpmOstreeStatus
	if json.Unmarshal([]byte(out.String()), &st) != nil {
		return nil
	}
	var pk []string
	for _, d := range st.Deployments {
		if !d.Booted {
			continue
		}
		pk = append(pk, d.RequestedPackages...)
		pk = append(pk, d.RequestedLocalPackages...)
		for _, r := range d.RequestedBaseRemovals {
			pk = append(pk, "-"+r)
		}
		for _, r := range d.RequestedBaseLocalRepls {
			pk = append(pk, "~"+r)
		}
	}
	return pk
}

// FactsFile reads a JSON object of image facts keyed by ref and returns a
// Checker that answers from it: an offline look-up for machines without
// registry access, and the tests' stand-in for a registry.
func FactsFile(path string) (Checker, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the image facts file: %w", err)
	}
	var table map[string]ImageFacts
	if err := json.Unmarshal(data, &table); err != nil {
		return nil, fmt.Errorf("parse the image facts file %s: %w; it is a JSON object of ref -> {digest, arch, size_bytes, bootable, version}", path, err)
	}
	return func(_ context.Context, ref, _ string) (ImageFacts, error) {
		f, ok := table[ref]
		if !ok {
			return ImageFacts{}, fmt.Errorf("image %s is not in the facts file %s", ref, path)
		}
		f.Ref = ref
		return f, nil
	}, nil
}
