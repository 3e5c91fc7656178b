package rebase

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// containersPolicy is the part of containers-policy.json(5) that decides
// whether pulls from a registry are verified.
type containersPolicy struct {
	Default    []policyRequirement                       `json:"default"`
	Transports map[string]map[string][]policyRequirement `json:"transports"`
}

type policyRequirement struct {
	Type string `json:"type"`
}

// policyVerdict is what the policy does with one image.
type policyVerdict struct {
	// Verified is true when a signature requirement (sigstoreSigned or
	// signedBy) applies, so --enforce-container-sigpolicy can be used.
	Verified bool
	// Scope is the policy scope that decided ("" for the default).
	Scope string
	// Problem is set when the policy could not be read.
	Problem string
}

// readPolicy reads the containers policy at path; a missing file is an
// empty policy, as containers/image has no default either.
func readPolicy(path string) (*containersPolicy, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return &containersPolicy{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the containers policy %s: %w", path, err)
	}
	var p containersPolicy
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("parse the containers policy %s: %w", path, err)
	}
	return &p, nil
}

// verdict finds the requirements for a registry image the way
// containers/image does for the docker transport: the most specific scope
// wins (repo:tag, repo, each parent namespace, the host), else the default.
func (p *containersPolicy) verdict(ref string) policyVerdict {
	if p == nil {
		return policyVerdict{}
	}
	scopes := p.Transports["docker"]
	for _, scope := range policyScopes(ref) {
		if reqs, ok := scopes[scope]; ok {
			return policyVerdict{Verified: signed(reqs), Scope: scope}
		}
	}
	return policyVerdict{Verified: signed(p.Default)}
}

func signed(reqs []policyRequirement) bool {
	if len(reqs) == 0 {
		return false
	}
	for _, r := range reqs {
		if r.Type != "sigstoreSigned" && r.Type != "signedBy" {
			return false
		}
	}
	return true
}

// policyScopes lists the scopes that apply to ref, most specific first:
// "ghcr.io/ublue-os/aurora:stable", "ghcr.io/ublue-os/aurora",
// "ghcr.io/ublue-os", "ghcr.io".
func policyScopes(ref string) []string {
	name := ref
	if i := strings.IndexByte(name, '@'); i >= 0 {
		name = name[:i]
	}
	var out []string
	if i := strings.LastIndexByte(name, ':'); i > strings.LastIndexByte(name, '/') {
		out = append(out, name)
		name = name[:i]
	}
	for {
		out = append(out, name)
		i := strings.LastIndexByte(name, '/')
		if i < 0 {
			return out
		}
		name = name[:i]
	}
}
