package bootc

import (
	"strings"
	"testing"
)

const oldHelp = `Install to the target filesystem

Usage: bootc install to-filesystem [OPTIONS] <ROOT_PATH>

Arguments:
  <ROOT_PATH>
          Path to the mounted root filesystem

Options:
      --root-mount-spec <ROOT_MOUNT_SPEC>
          Source device specification for the root filesystem
      --replace <REPLACE>
          [possible values: wipe, alongside]
      --target-imgref <TARGET_IMGREF>
      --skip-fetch-check
      --karg <KARG>
      --stateroot <STATEROOT>
  -h, --help
          Print help (see a summary with '-h')
`

func TestParseHelpFlags(t *testing.T) {
	got := ParseHelpFlags(oldHelp)
	for _, f := range []string{"root-mount-spec", "replace", "target-imgref", "skip-fetch-check", "karg", "stateroot", "help"} {
		if !got[f] {
			t.Errorf("flag %q not found", f)
		}
	}
	if got["ROOT_PATH"] || got["possible"] || len(got) != 7 {
		t.Errorf("unexpected flags: %v", got)
	}
}

func TestCheckFlagsSupported(t *testing.T) {
	supported := ParseHelpFlags(oldHelp)
	args, err := InstallArgs(InstallSpec{Method: MethodToFilesystem, Target: "/mnt/t", TargetImgref: "quay.io/x:1", Kargs: []string{"a", "b"}, Stateroot: "s", SkipFetchCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckFlagsSupported(args, supported); err != nil {
		t.Errorf("all flags are in the help, got %v", err)
	}
	args, _ = InstallArgs(InstallSpec{Method: MethodToFilesystem, Target: "/mnt/t", TargetImgref: "quay.io/x:1", Bootloader: "grub", RunFetchCheck: true, Kargs: []string{"a", "b"}})
	err = CheckFlagsSupported(args, supported)
	if err == nil || !strings.Contains(err.Error(), "does not support --bootloader, --run-fetch-check; leave the option out") {
		t.Errorf("CheckFlagsSupported = %v", err)
	}
}
