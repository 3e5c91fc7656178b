package installer

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/universal-atomic-installer/uai/installer/bootc"
	"github.com/universal-atomic-installer/uai/installer/host"
)

// ImageProbe is what the image's own bootc says about itself: the install
// flags its version has and the defaults of its install config.
type ImageProbe struct {
	// Flags are the long flags `bootc install to-filesystem --help` lists.
	Flags map[string]bool
	// RootFSType is the image's default root filesystem ("" when the image
	// sets none, as Fedora and CentOS base images do).
	RootFSType string
	// Block is the block setups the image allows for to-disk (nil when it
	// ships no install config: then any is accepted).
	Block []string
}

// installConfig is the part of `bootc install print-configuration` uai
// reads (kebab-case keys, null for what is unset).
type installConfig struct {
	Block      []string `json:"block"`
	RootFSType *string  `json:"root-fs-type"`
	Filesystem *struct {
		Root *struct {
			Type *string `json:"type"`
		} `json:"root"`
	} `json:"filesystem"`
}

// ParseInstallConfig reads print-configuration's JSON into p.
func ParseInstallConfig(data []byte, p *ImageProbe) error {
	var c installConfig
	if err := json.Unmarshal(data, &c); err != nil {
		return fmt.Errorf("parse bootc install print-configuration output: %w", err)
	}
	p.Block = c.Block
	switch {
	case c.RootFSType != nil:
		p.RootFSType = *c.RootFSType
	case c.Filesystem != nil && c.Filesystem.Root != nil && c.Filesystem.Root.Type != nil:
		p.RootFSType = *c.Filesystem.Root.Type
	}
	return nil
}

// bootcArgsIndex finds where bootc's own argv starts in a podman command
// (the element after "bootc"); -1 when cmd does not run bootc install.
func bootcArgsIndex(cmd []string) int {
	for i := 1; i+1 < len(cmd); i++ {
		if cmd[i] == "bootc" && cmd[i+1] == "install" {
			return i + 1
		}
	}
	return -1
}

// AdaptInstallArgs fits bootc argv (as InstallArgs built it) to the flags
// the probed bootc has. bootc before 1.1.7 fetched the target ref during
// install by default (bootc.md §1.3): that needs the network an offline
// install lacks, so such a bootc gets --skip-fetch-check. Any flag the
// plan needs that the version lacks is an error, reported before any disk
// is touched.
func AdaptInstallArgs(args []string, flags map[string]bool) ([]string, []string, error) {
	out := slices.Clone(args)
	var notes []string
	if !flags["run-fetch-check"] && flags["skip-fetch-check"] && !slices.Contains(out, "--skip-fetch-check") {
		// Insert before the positional ROOT_PATH/DEVICE.
		out = slices.Insert(out, len(out)-1, "--skip-fetch-check")
		notes = append(notes, "the image's bootc predates 1.1.7 and would fetch the target ref during install: adding --skip-fetch-check")
	}
	if err := bootc.CheckFlagsSupported(out[:len(out)-1], flags); err != nil {
		return nil, notes, err
	}
	return out, notes, nil
}

// probe asks the image's bootc for its flags and install config, and
// adapts the command to them. It runs in preflight, before any write.
func (r *run) probe(ctx context.Context) error {
	p := r.p
	i := bootcArgsIndex(p.Command)
	if i < 0 {
		return nil
	}
	image := p.Command[i-2]
	runBootc := func(what string, args ...string) (string, error) {
		var out strings.Builder
		c := host.Command{Tool: host.Podman, Args: append([]string{"run", "--rm", image, "bootc"}, args...)}
		r.log(StepPreflight, "cmd", "$ "+c.String())
		err := r.e.Runner.Run(ctx, c, func(s host.Stream, line string) {
			if s == host.Stdout {
				out.WriteString(line + "\n")
				return
			}
			r.log(StepPreflight, string(s), line)
		})
		if err != nil {
			return "", Errorf(ClassDependency, "check that the image can be pulled and runs bootc (podman run --rm "+image+" bootc --version)",
				"probe %s of image %s: %w", what, image, err)
		}
		return out.String(), nil
	}
	help, err := runBootc("the install flags", "install", p.Method, "--help")
	if err != nil {
		return err
	}
	pr := ImageProbe{Flags: bootc.ParseHelpFlags(help)}
	if len(pr.Flags) == 0 {
		return Errorf(ClassDependency, "pick an image with bootc 1.1 or newer", "image %s: `bootc install %s --help` listed no flags; its bootc cannot install", image, p.Method)
	}
	conf, err := runBootc("the install config", "install", "print-configuration")
	if err != nil {
		return err
	}
	if err := ParseInstallConfig([]byte(conf), &pr); err != nil {
		return Errorf(ClassDependency, "", "image %s: %w", image, err)
	}
	r.probed = &pr
	r.log(StepPreflight, "info", fmt.Sprintf("image bootc: %d install flags; root filesystem default %s; block setups %s",
		len(pr.Flags), orDash(pr.RootFSType), orDash(strings.Join(pr.Block, ","))))
	if pr.RootFSType != "" && pr.RootFSType != p.Filesystem {
		r.log(StepPreflight, "info", fmt.Sprintf("the image prefers %s for root; the plan makes %s (set [storage] filesystem to follow the image)", pr.RootFSType, p.Filesystem))
	}
	args, notes, err := AdaptInstallArgs(p.Command[i+1:], pr.Flags)
	for _, n := range notes {
		r.log(StepPreflight, "info", n)
	}
	if err != nil {
		return Errorf(ClassInvalidInput, "", "image %s: %w", image, err)
	}
	r.command = append(slices.Clone(p.Command[:i+1]), args...)
	if !slices.Equal(r.command, p.Command) {
		r.log(StepPreflight, "info", "the handoff command for this bootc: "+strings.Join(r.command, " "))
	}
	return nil
}
