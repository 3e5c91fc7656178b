package bootc

import (
	"strings"
	"testing"
)

func strp(s string) *string { return &s }

func TestInstallArgsGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec InstallSpec
	}{
		{"to-filesystem-minimal", InstallSpec{
			Method: MethodToFilesystem, Target: "/mnt/target", TargetImgref: "quay.io/fedora/fedora-bootc:42",
		}},
		{"to-filesystem-full", InstallSpec{
			Method: MethodToFilesystem, Target: "/mnt/target",
			TargetImgref: "quay.io/fedora/fedora-bootc:42", TargetTransport: "registry",
			SourceImgref:          "containers-storage:[overlay@/var/lib/containers/storage+/run/containers/storage]quay.io/fedora/fedora-bootc:42",
			Kargs:                 []string{"rd.luks.uuid=luks-1234", "console=ttyS0,115200n8", `quiet="a b"`},
			RootSSHAuthorizedKeys: "/run/uai/authorized_keys", Stateroot: "fedora", Bootloader: "grub",
			GenericImage: true, EnforceSigPolicy: true, RunFetchCheck: true, DisableSelinux: true,
			RootMountSpec: strp("UUID=2e9f4241-229b-4202-8429-62d2302382e1"), BootMountSpec: strp("UUID=0e2f"),
			Replace: "wipe",
		}},
		{"to-filesystem-dps", InstallSpec{
			Method: MethodToFilesystem, Target: "/mnt/target", TargetImgref: "quay.io/fedora/fedora-bootc:42",
			RootMountSpec: strp(""), BootMountSpec: strp(""), Bootloader: "systemd",
		}},
		{"to-filesystem-old-bootc", InstallSpec{
			Method: MethodToFilesystem, Target: "/mnt/target", TargetImgref: "quay.io/centos-bootc/centos-bootc:stream9",
			SkipFetchCheck: true,
		}},
		{"to-filesystem-host-runner", InstallSpec{
			Method: MethodToFilesystem, Target: "/mnt/sysimage", TargetImgref: "quay.io/fedora/fedora-bootc:rawhide",
			SourceImgref: "registry:quay.io/fedora/fedora-bootc:rawhide", Stateroot: "test-stateroot", Bootloader: "grub",
			Kargs: []string{"root=UUID=0000"},
		}},
		{"to-filesystem-oci-target", InstallSpec{
			Method: MethodToFilesystem, Target: "/mnt/target", TargetTransport: "oci", TargetImgref: "/var/lib/uai/image",
			SourceImgref: "oci:/run/media/iso/container",
		}},
		{"to-disk", InstallSpec{
			Method: MethodToDisk, Target: "/dev/vda", TargetImgref: "quay.io/fedora/fedora-bootc:42",
			Wipe: true, Filesystem: "btrfs", RootSize: "20G", BlockSetup: "tpm2-luks",
			Kargs: []string{"nosmt"}, Bootloader: "grub-cc",
		}},
		{"to-disk-loopback", InstallSpec{
			Method: MethodToDisk, Target: "/output/disk.raw", TargetImgref: "quay.io/fedora/fedora-bootc:42",
			Filesystem: "xfs", ViaLoopback: true, GenericImage: true,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args, err := InstallArgs(tc.spec)
			if err != nil {
				t.Fatalf("InstallArgs: %v", err)
			}
			if args[0] != "install" || args[1] != tc.spec.Method || args[len(args)-1] != tc.spec.Target {
				t.Errorf("argv %q: want install METHOD ... TARGET", args)
			}
			golden(t, "install/"+tc.name+".golden", strings.Join(args, "\n")+"\n")
		})
	}
}

// TestInstallArgsRejects has one failing case per validation rule.
func TestInstallArgsRejects(t *testing.T) {
	ok := func() InstallSpec {
		return InstallSpec{Method: MethodToFilesystem, Target: "/mnt/target", TargetImgref: "quay.io/fedora/fedora-bootc:42"}
	}
	disk := func() InstallSpec {
		return InstallSpec{Method: MethodToDisk, Target: "/dev/vda", TargetImgref: "quay.io/fedora/fedora-bootc:42", Filesystem: "xfs"}
	}
	for _, tc := range []struct {
		name string
		mut  func(*InstallSpec)
		base func() InstallSpec
		want string
	}{
		{"method", func(s *InstallSpec) { s.Method = "to-existing-root" }, ok, `method "to-existing-root" is not an install method; use to-filesystem or to-disk`},
		{"no target", func(s *InstallSpec) { s.Target = "" }, ok, "no target given"},
		{"relative target", func(s *InstallSpec) { s.Target = "mnt/target" }, ok, `target "mnt/target" is not an absolute path`},
		{"host root", func(s *InstallSpec) { s.Target = "/" }, ok, `target "/" is the running system's root`},
		{"newline target", func(s *InstallSpec) { s.Target = "/mnt/a\nb" }, ok, "newline or NUL"},
		{"target registry:", func(s *InstallSpec) { s.TargetImgref = "registry:quay.io/x:1" }, ok, `--target-imgref "registry:quay.io/x:1" carries the transport "registry"`},
		{"target docker://", func(s *InstallSpec) { s.TargetImgref = "docker://quay.io/x:1" }, ok, `carries the transport "registry", which bootc would record`},
		{"target unqualified", func(s *InstallSpec) { s.TargetImgref = "fedora-bootc:42" }, ok, "--target-imgref: image ref \"fedora-bootc:42\" is not fully qualified"},
		{"target metachar", func(s *InstallSpec) { s.TargetImgref = "quay.io/x:1;reboot" }, ok, "shell metacharacter"},
		{"target transport enum", func(s *InstallSpec) { s.TargetTransport = "ftp" }, ok, `--target-transport="ftp" is not a value bootc accepts`},
		{"oci target path", func(s *InstallSpec) { s.TargetTransport = "oci"; s.TargetImgref = "/srv/a b" }, ok, "--target-imgref \"/srv/a b\" contains whitespace"},
		{"source without transport", func(s *InstallSpec) { s.SourceImgref = "quay.io/x:1" }, ok, `--source-imgref "quay.io/x:1" has no transport; prefix one`},
		{"source ostree scheme", func(s *InstallSpec) { s.SourceImgref = "ostree-unverified-registry:quay.io/x:1" }, ok, "has no transport"},
		{"source docker: without //", func(s *InstallSpec) { s.SourceImgref = "docker:quay.io/x:1" }, ok, `uses "docker:" without "//"`},
		{"source empty name", func(s *InstallSpec) { s.SourceImgref = "registry:" }, ok, "names no image after the transport"},
		{"source registry bad ref", func(s *InstallSpec) { s.SourceImgref = "registry:quay.io/X:1" }, ok, "--source-imgref: image ref \"quay.io/X:1\""},
		{"source store spec unclosed", func(s *InstallSpec) { s.SourceImgref = "containers-storage:[overlay@/a" }, ok, "never closes it"},
		{"source store spec no image", func(s *InstallSpec) { s.SourceImgref = "containers-storage:[overlay@/a]" }, ok, "names no image after the store spec"},
		{"source store metachar", func(s *InstallSpec) { s.SourceImgref = "containers-storage:x;y" }, ok, "shell metacharacter"},
		{"source oci whitespace", func(s *InstallSpec) { s.SourceImgref = "oci:/a b" }, ok, "contains whitespace"},
		{"empty karg", func(s *InstallSpec) { s.Kargs = []string{""} }, ok, "--karg is empty"},
		{"karg newline", func(s *InstallSpec) { s.Kargs = []string{"a\nb"} }, ok, "--karg \"a\\nb\" contains a newline"},
		{"karg no key", func(s *InstallSpec) { s.Kargs = []string{"=x"} }, ok, "has no key"},
		{"karg several", func(s *InstallSpec) { s.Kargs = []string{"quiet splash"} }, ok, "holds several arguments; pass each as its own --karg"},
		{"karg unbalanced quote", func(s *InstallSpec) { s.Kargs = []string{`a="b`} }, ok, "unbalanced"},
		{"ssh keys relative", func(s *InstallSpec) { s.RootSSHAuthorizedKeys = "keys" }, ok, "--root-ssh-authorized-keys \"keys\" is not an absolute path"},
		{"stateroot", func(s *InstallSpec) { s.Stateroot = "../etc" }, ok, `--stateroot "../etc" is not a valid ostree stateroot name`},
		{"bootloader enum", func(s *InstallSpec) { s.Bootloader = "lilo" }, ok, `--bootloader="lilo" is not a value bootc accepts; use one of grub, grub-cc, systemd, none`},
		{"fetch check both", func(s *InstallSpec) { s.RunFetchCheck, s.SkipFetchCheck = true, true }, ok, "contradict each other"},
		{"wipe on to-filesystem", func(s *InstallSpec) { s.Wipe = true }, ok, "--wipe exists only on to-disk"},
		{"filesystem on to-filesystem", func(s *InstallSpec) { s.Filesystem = "xfs" }, ok, "--filesystem exists only on to-disk"},
		{"block-setup on to-filesystem", func(s *InstallSpec) { s.BlockSetup = "direct" }, ok, "--block-setup exists only on to-disk"},
		{"root-size on to-filesystem", func(s *InstallSpec) { s.RootSize = "10G" }, ok, "--root-size exists only on to-disk"},
		{"via-loopback on to-filesystem", func(s *InstallSpec) { s.ViaLoopback = true }, ok, "--via-loopback exists only on to-disk"},
		{"replace enum", func(s *InstallSpec) { s.Replace = "all" }, ok, `--replace="all" is not a value bootc accepts; use one of wipe, alongside`},
		{"root mount spec whitespace", func(s *InstallSpec) { s.RootMountSpec = strp("UUID=a b") }, ok, "--root-mount-spec \"UUID=a b\" contains whitespace"},
		{"boot mount spec whitespace", func(s *InstallSpec) { s.BootMountSpec = strp("LABEL=a\tb") }, ok, "--boot-mount-spec"},
		{"root-mount-spec on to-disk", func(s *InstallSpec) { s.RootMountSpec = strp("") }, disk, "--root-mount-spec exists only on to-filesystem"},
		{"boot-mount-spec on to-disk", func(s *InstallSpec) { s.BootMountSpec = strp("UUID=1") }, disk, "--boot-mount-spec exists only on to-filesystem"},
		{"replace on to-disk", func(s *InstallSpec) { s.Replace = "wipe" }, disk, "--replace exists only on to-filesystem"},
		{"filesystem enum", func(s *InstallSpec) { s.Filesystem = "zfs" }, disk, `--filesystem="zfs" is not a value bootc accepts; use one of xfs, ext4, btrfs`},
		{"block-setup enum", func(s *InstallSpec) { s.BlockSetup = "luks" }, disk, `--block-setup="luks" is not a value bootc accepts; use one of direct, tpm2-luks`},
		{"root-size unit", func(s *InstallSpec) { s.RootSize = "20GB" }, disk, `--root-size "20GB" is not a size bootc parses`},
		{"root-size negative", func(s *InstallSpec) { s.RootSize = "-1" }, disk, "--root-size"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.base()
			if _, err := InstallArgs(s); err != nil {
				t.Fatalf("base spec must be valid: %v", err)
			}
			tc.mut(&s)
			args, err := InstallArgs(s)
			if err == nil {
				t.Fatalf("InstallArgs = %q, want error containing %q", args, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
			if args != nil {
				t.Errorf("argv %q returned alongside an error", args)
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "bootc install") || !strings.Contains(line, "; ") {
					t.Errorf("message %q: want `bootc install... PROBLEM; FIX`", line)
				}
			}
		})
	}
}

func TestInstallArgsReportsEveryProblem(t *testing.T) {
	_, err := InstallArgs(InstallSpec{
		Method: MethodToFilesystem, Target: "rel", TargetImgref: "registry:quay.io/x:1",
		Wipe: true, Filesystem: "xfs", Bootloader: "lilo",
	})
	if err == nil {
		t.Fatal("want an error")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 5 {
		t.Errorf("want 5 problems, got %d:\n%s", len(lines), err)
	}
	// Deterministic order: the same input gives the same report.
	_, again := InstallArgs(InstallSpec{
		Method: MethodToFilesystem, Target: "rel", TargetImgref: "registry:quay.io/x:1",
		Wipe: true, Filesystem: "xfs", Bootloader: "lilo",
	})
	if again.Error() != err.Error() {
		t.Errorf("report order changed between runs:\n%s\n---\n%s", err, again)
	}
}
