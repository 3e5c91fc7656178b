package installer

import (
	"strings"
	"testing"
)

func flagSet(names ...string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}

func TestAdaptInstallArgs(t *testing.T) {
	args := []string{"to-filesystem", "--karg=quiet", "--target-imgref=quay.io/x/y:1", "/run/uai/target"}
	newer := flagSet("karg", "target-imgref", "run-fetch-check", "skip-fetch-check")
	got, notes, err := AdaptInstallArgs(args, newer)
	if err != nil || strings.Join(got, " ") != strings.Join(args, " ") || len(notes) != 0 {
		t.Errorf("bootc >= 1.1.7: %q %q %v", got, notes, err)
	}
	old := flagSet("karg", "target-imgref", "skip-fetch-check")
	got, notes, err = AdaptInstallArgs(args, old)
	want := "to-filesystem --karg=quiet --target-imgref=quay.io/x/y:1 --skip-fetch-check /run/uai/target"
	if err != nil || strings.Join(got, " ") != want || len(notes) != 1 {
		t.Errorf("bootc < 1.1.7: %q %q %v", got, notes, err)
	}
	if args[3] != "/run/uai/target" {
		t.Error("the plan's argv was changed in place")
	}
	_, _, err = AdaptInstallArgs(args, flagSet("target-imgref", "run-fetch-check"))
	if err == nil || !strings.Contains(err.Error(), "does not support --karg") {
		t.Errorf("missing flag: %v", err)
	}
}

func TestParseInstallConfig(t *testing.T) {
	var p ImageProbe
	if err := ParseInstallConfig([]byte(`{"block":null,"filesystem":null,"root-fs-type":null,"stateroot":null}`), &p); err != nil || p.RootFSType != "" || p.Block != nil {
		t.Errorf("base image: %+v %v", p, err)
	}
	p = ImageProbe{}
	if err := ParseInstallConfig([]byte(`{"block":["direct","tpm2-luks"],"filesystem":{"root":{"type":"btrfs"}},"root-fs-type":null}`), &p); err != nil || p.RootFSType != "btrfs" || len(p.Block) != 2 {
		t.Errorf("configured image: %+v %v", p, err)
	}
	if err := ParseInstallConfig([]byte(`not json`), &p); err == nil {
		t.Error("garbage accepted")
	}
}

func TestBootcArgsIndex(t *testing.T) {
	cmd := []string{"podman", "run", "--rm", "-v", "/dev:/dev", "img:1", "bootc", "install", "to-filesystem", "/t"}
	if i := bootcArgsIndex(cmd); i != 7 || cmd[i-2] != "img:1" {
		t.Errorf("index %d", i)
	}
	if i := bootcArgsIndex([]string{"bootc", "status"}); i != -1 {
		t.Errorf("index %d for a non-install command", i)
	}
}
