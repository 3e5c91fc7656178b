package rebase

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/universal-atomic-installer/uai/catalog"
	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/installer/host"
)

func targetByID(t *testing.T, ov *Overview, id string) Target {
	t.Helper()
	for _, tg := range ov.Targets {
		if tg.Edition == id {
			return tg
		}
	}
	t.Fatalf("no target %s in %d targets", id, len(ov.Targets))
	return Target{}
}

func TestOverviewMatchesTheBootedEditionAndListsTargets(t *testing.T) {
	e, _ := seeded(t, "quay.io/fedora/fedora-silverblue:44")
	e.Arch = "arm64" // Silverblue, Kinoite and Bazzite are amd64 only
	ov, err := e.Overview(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b := ov.Booted
	if b.Edition != "fedora-silverblue" || b.MatchedBy != "ref" || b.Category != "desktop" || b.Version != "44" || ov.Staged != nil || ov.RpmOstree {
		t.Fatalf("booted %+v", b)
	}
	if len(ov.Targets) != len(catalog.Embedded().Editions)-1 {
		t.Errorf("%d targets; every edition but the booted one is listed", len(ov.Targets))
	}
	seenUnavailable := false
	for _, tg := range ov.Targets {
		if tg.Edition == "fedora-silverblue" {
			t.Error("the booted edition is offered as a target")
		}
		if !tg.Available {
			seenUnavailable = true
		} else if seenUnavailable {
			t.Errorf("available %s listed after an unavailable edition", tg.Edition)
		}
	}
	k := targetByID(t, ov, "fedora-kinoite")
	if k.Available || !strings.Contains(k.Reason, "this machine is arm64") {
		t.Errorf("kinoite on arm64: %+v", k)
	}
	srv := targetByID(t, ov, "fedora-bootc-44")
	if !srv.Available || warningCodes(srv.Warnings) != "leaves-desktop,unsigned" {
		t.Errorf("desktop to server: %+v", srv.Warnings)
	}
	if c := srv.Changes[0]; c.What != "category" || c.From != "desktop" || c.To != "server" {
		t.Errorf("changes %+v", srv.Changes)
	}
	old := targetByID(t, ov, "fedora-bootc-43")
	if warningCodes(old.Warnings) != "leaves-desktop,major-release,unsigned" || !strings.Contains(old.Warnings[1].Message, "44 to 43: a downgrade") {
		t.Errorf("an older release: %+v", old.Warnings)
	}
	cs := targetByID(t, ov, "centos-stream-10")
	if warningCodes(cs.Warnings) != "leaves-desktop,major-release,unsigned" || !strings.Contains(cs.Warnings[1].Message, "another distribution release, 44 to 10") {
		t.Errorf("another distribution: %+v", cs.Warnings)
	}
	if k := targetByID(t, ov, "fedora-sway-atomic"); k.Available || len(k.Warnings) != 1 {
		t.Errorf("desktop to desktop of the same release warns only of the signature: %+v", k)
	}
	bl := targetByID(t, ov, "bluefin-lts")
	if warningCodes(bl.Warnings) != "community,unsigned" || !strings.Contains(bl.Warnings[0].Message, "Project Bluefin") {
		t.Errorf("community: %+v", bl.Warnings)
	}
	alma := targetByID(t, ov, "almalinux-bootc-10")
	if !strings.Contains(warningCodes(alma.Warnings), "sandbox") || !strings.Contains(warningCodes(alma.Warnings), "unverified-first") {
		t.Errorf("sandbox, signed: %+v", alma.Warnings)
	}
}

func TestOverviewOfFixtures(t *testing.T) {
	cat := catalog.Embedded()
	// A pinned edition whose digest is the one of the local-oci fixture:
	// an offline install of it is recognised by digest.
	cat.Editions = append(cat.Editions, catalog.Edition{ID: "pinned-stream9", Name: "Pinned Stream 9", Category: "server",
		Image: "quay.io/example/pinned:stream9", Digest: "sha256:47e5ed613a970b6574bfa954ab25bb6e85656552899aa518b5961d9645102b38",
		Arches: []string{"amd64"}, Signature: catalog.Signature{Policy: catalog.PolicyNone}, Maturity: "graduated"})
	cases := []struct {
		fixture, edition, by string
		rpmOstree            bool
		note                 string
	}{
		{"booted-only", "centos-stream-9", "ref", false, ""},
		{"local-oci", "pinned-stream9", "digest", false, "a local oci image, as after an offline install"},
		{"rpm-ostree-origin", "", "", true, "follows an ostree ref, not a container image"},
		{"staged", "", "", false, "is not in the catalog"},
		{"booted-rollback", "fedora-bootc-44", "ref", false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.fixture, func(t *testing.T) {
			e := &Engine{Runner: statusRunner(t, tc.fixture), Catalog: cat, Arch: "amd64", PolicyPath: filepath.Join(t.TempDir(), "none")}
			ov, err := e.Overview(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if ov.Booted.Edition != tc.edition || ov.Booted.MatchedBy != tc.by || ov.RpmOstree != tc.rpmOstree {
				t.Errorf("booted %+v rpm-ostree %v", ov.Booted, ov.RpmOstree)
			}
			if tc.note != "" && !strings.Contains(strings.Join(ov.Notes, "\n"), tc.note) {
				t.Errorf("notes %q lack %q", ov.Notes, tc.note)
			}
		})
	}
	// The staged fixture: the staged entry is named as such.
	e := &Engine{Runner: statusRunner(t, "staged"), Catalog: cat, Arch: "amd64"}
	ov, err := e.Overview(context.Background())
	if err != nil || ov.Staged == nil || !strings.Contains(strings.Join(ov.Notes, "\n"), "quay.io/example/someimage:latest is staged for the next boot") {
		t.Fatalf("staged: %v %+v", err, ov)
	}
	// An alias names its edition.
	e = &Engine{Runner: statusRunner(t, "booted-only"), Arch: "amd64", Catalog: &catalog.Catalog{Editions: []catalog.Edition{{
		ID: "c9", Name: "C9", Category: "server", Image: "quay.io/centos/c9:latest", Aliases: []string{"quay.io/centos-bootc/centos-bootc:stream9"}, Arches: []string{"amd64"}}}}}
	if ov, err := e.Overview(context.Background()); err != nil || ov.Booted.MatchedBy != "alias" || ov.Booted.Edition != "c9" {
		t.Fatalf("alias: %v %+v", err, ov)
	}
}

func TestOverviewRefusesHostsBootcDoesNotManage(t *testing.T) {
	e := &Engine{Runner: statusRunner(t, "staged-rollback"), Catalog: catalog.Embedded()}
	_, err := e.Overview(context.Background())
	if installer.ClassOf(err) != installer.ClassEnvironment || !strings.Contains(err.Error(), "not booted via bootc") {
		t.Errorf("booted null: %v", err)
	}
	e.Runner = &host.Recorder{Respond: func(host.Command, host.LineFunc) error { return &host.NotFoundError{Tool: host.Bootc, Path: "PATH"} }}
	_, err = e.Overview(context.Background())
	if installer.ClassOf(err) != installer.ClassEnvironment || !strings.Contains(err.Error(), "--demo") {
		t.Errorf("no bootc: %v", err)
	}
	e.Runner = &host.Recorder{Respond: func(host.Command, host.LineFunc) error {
		return &host.ExitError{Command: "bootc", Code: 1, Stderr: "error: Querying root privilege: This command must be executed as the root user"}
	}}
	_, err = e.Overview(context.Background())
	if installer.ClassOf(err) != installer.ClassEnvironment || !strings.Contains(err.Error(), "as root") {
		t.Errorf("not root: %v", err)
	}
	e.Runner = &host.Recorder{Respond: func(_ host.Command, on host.LineFunc) error {
		on(host.Stdout, "apiVersion: org.containers.bootc/v1")
		return nil
	}}
	if _, err = e.Overview(context.Background()); installer.ClassOf(err) != installer.ClassEnvironment || !strings.Contains(err.Error(), "too old") {
		t.Errorf("YAML: %v", err)
	}
}

func TestPolicyVerdict(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "policy.json")
	if err := os.WriteFile(p, []byte(`{"default":[{"type":"insecureAcceptAnything"}],"transports":{"docker":{
		"ghcr.io/ublue-os":[{"type":"sigstoreSigned","keyPath":"/etc/pki/containers/ublue-os.pub"}],
		"ghcr.io/ublue-os/bazzite":[{"type":"insecureAcceptAnything"}],
		"quay.io/fedora/fedora-coreos:stable":[{"type":"signedBy","keyType":"GPGKeys"}]}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	pol, err := readPolicy(p)
	if err != nil {
		t.Fatal(err)
	}
	for ref, want := range map[string]bool{
		"ghcr.io/ublue-os/aurora:stable":      true,
		"ghcr.io/ublue-os/bazzite:stable":     false, // the more specific scope wins
		"quay.io/fedora/fedora-coreos:stable": true,
		"quay.io/fedora/fedora-coreos:next":   false,
		"quay.io/fedora/fedora-bootc:44":      false,
	} {
		if got := pol.verdict(ref); got.Verified != want {
			t.Errorf("%s: %+v, want verified %v", ref, got, want)
		}
	}
	if got := policyScopes("ghcr.io/a/b:1@sha256:00"); strings.Join(got, " ") != "ghcr.io/a/b:1 ghcr.io/a/b ghcr.io/a ghcr.io" {
		t.Errorf("scopes %q", got)
	}
	if pol, err := readPolicy(filepath.Join(dir, "missing")); err != nil || pol.verdict("x/y:1").Verified {
		t.Errorf("missing policy: %v %+v", err, pol)
	}
	if err := os.WriteFile(p, []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readPolicy(p); err == nil || !strings.Contains(err.Error(), "parse the containers policy") {
		t.Errorf("broken policy: %v", err)
	}
	var nilPolicy *containersPolicy
	if nilPolicy.verdict("a/b:1").Verified {
		t.Error("no policy verifies nothing")
	}
}

func TestMajorRelease(t *testing.T) {
	for in, want := range map[string]string{
		"44.20260820.0": "44", "stream9.20240807.0": "9", "stream10": "10", "43": "43", "v2": "2",
		"20231230.1": "", "stable": "", "": "", "latest": "", "rawhide": "",
	} {
		if got := majorRelease(in); got != want {
			t.Errorf("majorRelease(%q) = %q, want %q", in, got, want)
		}
	}
	if imageTag("quay.io/a/b:44@sha256:00") != "44" || imageTag("localhost:5000/a/b") != "" {
		t.Error("imageTag")
	}
	if !sameFamily("quay.io/fedora/fedora-bootc:43", "quay.io/fedora/fedora-kinoite:44") || sameFamily("quay.io/fedora/x:1", "quay.io/centos-bootc/y:2") || sameFamily("", "x") {
		t.Error("sameFamily")
	}
}

func TestFactsFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "facts.json")
	if err := os.WriteFile(p, []byte(`{"quay.io/a/b:1":{"digest":"sha256:01","arch":"amd64","bootable":true,"size_bytes":5}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	check, err := FactsFile(p)
	if err != nil {
		t.Fatal(err)
	}
	f, err := check(context.Background(), "quay.io/a/b:1", "amd64")
	if err != nil || f.Ref != "quay.io/a/b:1" || !f.Bootable || f.SizeBytes != 5 {
		t.Errorf("facts %+v %v", f, err)
	}
	if _, err := check(context.Background(), "quay.io/a/c:1", "amd64"); err == nil || !strings.Contains(err.Error(), "not in the facts file") {
		t.Errorf("unknown ref: %v", err)
	}
	if _, err := FactsFile(filepath.Join(t.TempDir(), "nope")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}
