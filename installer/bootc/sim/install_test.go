package sim

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/universal-atomic-installer/uai/installer/bootc"
)

// TestToFilesystemWritesWhatFindDeploymentReads is the contract between
// the simulator and the installer's read-back.
func TestToFilesystemWritesWhatFindDeploymentReads(t *testing.T) {
	tg := newTarget(t)
	r := runSim("bootc", tg.env(t, nil), "install", "to-filesystem",
		"--karg=console=ttyS0,115200n8", "--karg", "rd.luks.uuid=luks-1",
		"--target-imgref", testImage, tg.root)
	expect(t, r, 0, "Installation complete!")
	golden(t, "to-filesystem.stdout", strings.ReplaceAll(r.stdout, tg.root, "ROOT"))
	if !strings.HasPrefix(r.stderr, "Deploying container image...done (") {
		t.Errorf("stderr = %q, want the deploy spinner line", r.stderr)
	}

	d, err := bootc.FindDeployment(tg.root)
	if err != nil {
		t.Fatal(err)
	}
	want := bootc.Deployment{
		Stateroot: "default", Checksum: CommitChecksum(testImage), Serial: 0,
		Dir:        filepath.Join(tg.root, "ostree/deploy/default/deploy", CommitChecksum(testImage)+".0"),
		OriginPath: filepath.Join(tg.root, "ostree/deploy/default/deploy", CommitChecksum(testImage)+".0.origin"),
		Origin:     bootc.Origin{Scheme: bootc.SchemeUnverifiedRegistry, Transport: "registry", Image: testImage},
		Count:      1,
	}
	if d != want {
		t.Errorf("FindDeployment =\n%+v\nwant\n%+v", d, want)
	}
	if fi, err := os.Stat(d.Dir); err != nil || !fi.ModTime().Equal(time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("deployment mtime is not Env.Now: %v %v", fi.ModTime(), err)
	}
	if got := mustRead(t, d.OriginPath); got != "[origin]\ncontainer-image-reference=ostree-unverified-registry:"+testImage+"\n" {
		t.Errorf("origin file = %q", got)
	}

	bls := mustRead(t, filepath.Join(tg.root, "boot/loader/entries/ostree-1.conf"))
	golden(t, "to-filesystem.bls", bls)
	for _, w := range []string{
		"options root=UUID=2e9f4241-229b-4202-8429-62d2302382e1 rw boot=UUID=0e2f8c4e-8d6a-4f5b-9b51-3c1f2a7d9e10 console=ttyS0,115200n8 rd.luks.uuid=luks-1 ostree=/ostree/boot.1/default/",
		"title fedora-bootc 42 (simulated) (ostree:0)",
	} {
		if !strings.Contains(bls, w) {
			t.Errorf("BLS entry lacks %q:\n%s", w, bls)
		}
	}
	// Every path the BLS entry names exists on the target.
	for _, line := range strings.Split(bls, "\n") {
		if k, p, _ := strings.Cut(line, " "); k == "linux" || k == "initrd" {
			if _, err := os.Stat(filepath.Join(tg.root, p)); err != nil {
				t.Errorf("BLS %s %s: %v", k, p, err)
			}
		}
		if strings.HasPrefix(line, "options ") {
			ostreeArg := line[strings.Index(line, "ostree=")+len("ostree="):]
			if fi, err := os.Stat(filepath.Join(tg.root, ostreeArg)); err != nil || !fi.IsDir() {
				t.Errorf("ostree= %s does not resolve to the deployment: %v", ostreeArg, err)
			}
		}
	}

	var aleph map[string]any
	if err := json.Unmarshal([]byte(mustRead(t, filepath.Join(tg.root, ".bootc-aleph.json"))), &aleph); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]any{
		"image": testImage, "target-image": testImage, "digest": ImageDigest(testImage),
		"kernel": "6.1.0-test-amd64", "selinux": "enabled", "version": "42",
	} {
		if aleph[k] != v {
			t.Errorf("aleph %s = %v, want %v", k, aleph[k], v)
		}
	}
	for _, p := range []string{
		"ostree/repo/config", "ostree/deploy/default/var", "boot/bootupd-state.json", "boot/efi/EFI/BOOT/BOOTX64.EFI",
		filepath.Join("ostree/deploy/default/deploy", CommitChecksum(testImage)+".0", "etc/passwd"),
		filepath.Join("ostree/deploy/default/deploy", CommitChecksum(testImage)+".0", "etc/os-release"),
		filepath.Join("ostree/deploy/default/deploy", CommitChecksum(testImage)+".0", "usr/lib/modules", simKernel, "vmlinuz"),
	} {
		if _, err := os.Stat(filepath.Join(tg.root, p)); err != nil {
			t.Errorf("tree lacks %s: %v", p, err)
		}
	}
	if !strings.Contains(mustRead(t, filepath.Join(tg.root, "ostree/repo/config")), "bootprefix=true") {
		t.Error("repo config lacks sysroot.bootprefix=true")
	}
}

// TestToFilesystemTargetRules has one case per precondition bootc checks
// on ROOT_PATH before it writes anything.
func TestToFilesystemTargetRules(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    []targetOpt
		prepare func(t *testing.T, root string)
		version string
		args    []string
		code    int
		want    string
	}{
		{name: "not a mount point", prepare: func(t *testing.T, root string) {}, code: 1,
			args: []string{"SUBDIR"}, want: "error: Installing to filesystem: Not a mountpoint: ROOT/sub\n"},
		{name: "missing directory", code: 1, args: []string{"MISSING"},
			want: "error: Installing to filesystem: Opening target root directory ROOT/missing: No such file or directory (os error 2)\n"},
		{name: "stray file", prepare: func(t *testing.T, root string) { mustWrite(t, filepath.Join(root, "README"), "x") }, code: 1,
			want: "error: Installing to filesystem: Verifying empty rootfs: Non-empty root filesystem; found \"README\"\n"},
		{name: "empty directory", prepare: func(t *testing.T, root string) { mustMkdir(t, filepath.Join(root, "home")) }, code: 1,
			want: "error: Installing to filesystem: Verifying empty rootfs: Requiring directory contains only mount points: Found empty directory: home\n"},
		{name: "file below a directory", prepare: func(t *testing.T, root string) { mustWrite(t, filepath.Join(root, "var/lib/x"), "x") }, code: 1,
			want: "error: Installing to filesystem: Verifying empty rootfs: Requiring directory contains only mount points: Found entry in lib: x\n"},
		{name: "file in unmounted boot", opts: []targetOpt{withoutSeparateBoot()},
			prepare: func(t *testing.T, root string) { mustWrite(t, filepath.Join(root, "boot/grub"), "x") }, code: 1,
			want: "Found entry in boot: grub"},
		{name: "empty unmounted boot", opts: []targetOpt{withoutSeparateBoot()}, code: 1,
			want: "error: Installing to filesystem: Verifying empty rootfs: Requiring directory contains only mount points: Found empty directory: boot\n"},
		{name: "lost+found and nested mount points are fine", opts: []targetOpt{withMount("var/lib/containers", "xfs")},
			prepare: func(t *testing.T, root string) { mustMkdir(t, filepath.Join(root, "lost+found")) }, code: 0, want: "Installation complete!"},
		{name: "no boot before 1.13", opts: []targetOpt{withoutBootDir()}, version: "1.12.1", code: 1,
			want: "error: Installing to filesystem: No /boot directory found in root; this is is currently required\n"},
		{name: "no boot is fine since 1.13", opts: []targetOpt{withoutBootDir()}, version: "1.13.0", code: 0, want: "Installation complete!"},
		{name: "unsupported filesystem", opts: []targetOpt{withRootFS("vfat", "")}, code: 1,
			want: "error: Installing to filesystem: Unknown filesystem: vfat\n"},
		{name: "live overlay", opts: []targetOpt{withRootFS("overlay", "")}, code: 1, want: "Unknown filesystem: overlay"},
		{name: "regular file", code: 1, args: []string{"FILE"}, want: "Opening target root directory ROOT/file: Not a directory (os error 20)\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tg := newTarget(t, tc.opts...)
			if tc.prepare != nil {
				tc.prepare(t, tg.root)
			}
			env := tg.env(t, nil)
			if tc.version != "" {
				env.Version = tc.version
			}
			path := tg.root
			if len(tc.args) > 0 {
				switch tc.args[0] {
				case "SUBDIR":
					path = filepath.Join(tg.root, "sub")
					mustMkdir(t, path)
				case "MISSING":
					path = filepath.Join(tg.root, "missing")
				case "FILE":
					path = filepath.Join(tg.root, "file")
					mustWrite(t, path, "x")
				}
			}
			before := treeFiles(t, tg.root)
			r := runSim("bootc", env, "install", "to-filesystem", "--target-imgref", testImage, path)
			r.stderr = strings.ReplaceAll(r.stderr, tg.root, "ROOT")
			expect(t, r, tc.code, tc.want)
			if tc.code != 0 {
				if after := treeFiles(t, tg.root); strings.Join(after, "\n") != strings.Join(before, "\n") {
					t.Errorf("a refused install changed the target:\nbefore %q\nafter  %q", before, after)
				}
				if r.stdout != "" && strings.Contains(tc.want, "Installing to filesystem: Not") {
					t.Errorf("stdout before a path error: %q", r.stdout)
				}
			}
		})
	}
}

func TestToFilesystemPrivilegeAndSource(t *testing.T) {
	for _, tc := range []struct {
		name string
		mut  func(*Env)
		args []string
		code int
		want string
	}{
		{"not root in container", func(e *Env) { e.Getuid = func() int { return 1000 } }, nil, 1,
			"error: Installing to filesystem: Querying root privilege: The user inside the container from which you are running this command must be root\n"},
		{"not root on host", func(e *Env) { e.Getuid = func() int { return 1000 }; e.InContainer = false },
			[]string{"--source-imgref", "registry:" + testImage}, 1,
			"error: Installing to filesystem: Querying root privilege: This command must be executed as the root user\n"},
		{"neither source nor container", func(e *Env) { e.InContainer = false }, nil, 1,
			"error: Installing to filesystem: Either --source-imgref must be defined or this command must be executed inside a podman container.\n"},
		{"no image id", func(e *Env) { e.Image = "" }, nil, 1,
			"error: Installing to filesystem: Gathering source info from container env: Invalid empty imageid\n"},
		{"source without transport", func(e *Env) { e.InContainer = false }, []string{"--source-imgref", testImage}, 1,
			"error: Installing to filesystem: Creating source info from a given imageref: Invalid transport: quay.io/fedora/fedora-bootc\n"},
		{"source without colon", func(e *Env) { e.InContainer = false }, []string{"--source-imgref", "quay.io/x"}, 1,
			"Creating source info from a given imageref: Missing ':' in quay.io/x\n"},
		{"source docker: without slashes", func(e *Env) { e.InContainer = false }, []string{"--source-imgref", "docker:quay.io/x:1"}, 1,
			"Missing // in docker:// in docker:quay.io/x:1"},
		{"source empty name", func(e *Env) { e.InContainer = false }, []string{"--source-imgref", "oci:"}, 1,
			"Invalid empty name in oci:"},
		{"bad target transport", nil, []string{"--target-transport", "ftp"}, 1,
			"error: Installing to filesystem: Invalid transport: ftp\n"},
		{"host runner", func(e *Env) { e.InContainer = false }, []string{"--source-imgref", "registry:" + testImage}, 0,
			"Installing image: docker://quay.io/fedora/fedora-bootc:42\nInitializing ostree layout"},
		{"missing authorized_keys", nil, []string{"--root-ssh-authorized-keys", "/nonexistent/keys"}, 1,
			"error: Installing to filesystem: Reading /nonexistent/keys: No such file or directory (os error 2)\n"},
		{"composefs with no bootloader", nil, []string{"--composefs-backend", "--bootloader=none"}, 1,
			"Bootloader set to none is not supported with the composefs backend"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tg := newTarget(t)
			env := tg.env(t, nil)
			if tc.mut != nil {
				tc.mut(&env)
			}
			args := append(append([]string{"install", "to-filesystem"}, tc.args...), tg.root)
			r := runSim("bootc", env, args...)
			expect(t, r, tc.code, tc.want)
			if tc.code == 0 {
				if _, err := bootc.FindDeployment(tg.root); err != nil {
					t.Error(err)
				}
			} else if _, err := os.Stat(filepath.Join(tg.root, "ostree")); err == nil {
				t.Error("a refused install created ostree/")
			}
		})
	}
}

// TestTargetImgrefWithTransportIsRecordedVerbatim reproduces
// bootc-dev/bootc#1933: bootc accepts a transport in --target-imgref and
// writes a broken origin, which uai's read-back must catch.
func TestTargetImgrefWithTransportIsRecordedVerbatim(t *testing.T) {
	tg := newTarget(t)
	env := tg.env(t, nil)
	env.InContainer = false
	r := runSim("bootc", env, "install", "to-filesystem", "--source-imgref=registry:"+testImage, "--target-imgref=registry:"+testImage, tg.root)
	expect(t, r, 0, "Installing image: docker://registry:quay.io/fedora/fedora-bootc:42\n")
	d, err := bootc.FindDeployment(tg.root)
	if err != nil {
		t.Fatal(err)
	}
	if d.Origin.Image != "registry:"+testImage || d.Origin.Image == testImage {
		t.Errorf("origin image = %q; want the broken registry:%s", d.Origin.Image, testImage)
	}
	if !strings.Contains(mustRead(t, d.OriginPath), "container-image-reference=ostree-unverified-registry:registry:quay.io/") {
		t.Errorf("origin = %q", mustRead(t, d.OriginPath))
	}
}

func TestToFilesystemOptions(t *testing.T) {
	t.Run("enforce-container-sigpolicy", func(t *testing.T) {
		tg := newTarget(t)
		r := runSim("bootc", tg.env(t, nil), "install", "to-filesystem", "--enforce-container-sigpolicy", tg.root)
		expect(t, r, 0, "Installing image: ostree-image-signed:docker://quay.io/fedora/fedora-bootc:42\n")
		d, err := bootc.FindDeployment(tg.root)
		if err != nil || d.Origin.Scheme != bootc.SchemeImageSigned || d.Origin.Image != testImage {
			t.Errorf("origin %+v, %v", d.Origin, err)
		}
	})
	t.Run("oci target transport", func(t *testing.T) {
		tg := newTarget(t)
		r := runSim("bootc", tg.env(t, nil), "install", "to-filesystem", "--target-transport=oci", "--target-imgref=/var/lib/img", tg.root)
		expect(t, r, 0, "Installing image: ostree-unverified-image:oci:/var/lib/img\n")
		d, _ := bootc.FindDeployment(tg.root)
		if d.Origin.Transport != "oci" || d.Origin.Image != "/var/lib/img" {
			t.Errorf("origin %+v", d.Origin)
		}
	})
	t.Run("dps root and no boot karg", func(t *testing.T) {
		tg := newTarget(t)
		r := runSim("bootc", tg.env(t, nil), "install", "to-filesystem", "--root-mount-spec=", "--boot-mount-spec=", "--stateroot", "fedora", tg.root)
		expect(t, r, 0)
		if strings.Contains(r.stdout, "Trimming boot") {
			t.Error("boot finalized although --boot-mount-spec= omitted it")
		}
		bls := mustRead(t, filepath.Join(tg.root, "boot/loader/entries/ostree-1.conf"))
		if !strings.Contains(bls, "options rw ostree=/ostree/boot.1/fedora/") {
			t.Errorf("BLS: %s", bls)
		}
		if d, _ := bootc.FindDeployment(tg.root); d.Stateroot != "fedora" {
			t.Errorf("stateroot %q", d.Stateroot)
		}
	})
	t.Run("label root spec, btrfs ignored", func(t *testing.T) {
		tg := newTarget(t, withRootFS("btrfs", "rw,subvol=/root"))
		r := runSim("bootc", tg.env(t, nil), "install", "to-filesystem", "--root-mount-spec=LABEL=root", tg.root)
		expect(t, r, 0)
		if bls := mustRead(t, filepath.Join(tg.root, "boot/loader/entries/ostree-1.conf")); !strings.Contains(bls, "options root=LABEL=root rw boot=") || strings.Contains(bls, "rootflags") {
			t.Errorf("BLS: %s", bls)
		}
	})
	t.Run("btrfs subvolume", func(t *testing.T) {
		tg := newTarget(t, withRootFS("btrfs", "rw,subvol=/root"))
		r := runSim("bootc", tg.env(t, nil), "install", "to-filesystem", tg.root)
		expect(t, r, 0)
		if bls := mustRead(t, filepath.Join(tg.root, "boot/loader/entries/ostree-1.conf")); !strings.Contains(bls, "root=UUID=2e9f4241-229b-4202-8429-62d2302382e1 rootflags=subvol=/root rw") {
			t.Errorf("BLS: %s", bls)
		}
	})
	t.Run("no separate boot", func(t *testing.T) {
		tg := newTarget(t, withoutBootDir())
		r := runSim("bootc", tg.env(t, nil), "install", "to-filesystem", tg.root)
		expect(t, r, 0)
		if bls := mustRead(t, filepath.Join(tg.root, "boot/loader/entries/ostree-1.conf")); strings.Contains(bls, "boot=") {
			t.Errorf("boot= karg without a /boot filesystem: %s", bls)
		}
	})
	t.Run("placeholder uuid", func(t *testing.T) {
		tg := newTarget(t)
		env := tg.env(t, nil)
		env.UUIDOf = func(string) (string, bool) { return "", false }
		expect(t, runSim("bootc", env, "install", "to-filesystem", tg.root), 0)
		bls := mustRead(t, filepath.Join(tg.root, "boot/loader/entries/ostree-1.conf"))
		if !strings.Contains(bls, "root=UUID="+placeholderUUID("/dev/vda3")+" ") || len(placeholderUUID("x")) != 36 {
			t.Errorf("BLS: %s", bls)
		}
	})
	t.Run("disable selinux and karg-delete", func(t *testing.T) {
		tg := newTarget(t)
		r := runSim("bootc", tg.env(t, nil), "install", "to-filesystem", "--disable-selinux", "--karg=quiet", "--karg=splash", "--karg-delete=quiet", tg.root)
		expect(t, r, 0, "notice: Target has SELinux enabled, overriding to disable\nInstalling image:")
		bls := mustRead(t, filepath.Join(tg.root, "boot/loader/entries/ostree-1.conf"))
		if !strings.Contains(bls, " selinux=0 splash ostree=") || strings.Contains(bls, "quiet") {
			t.Errorf("BLS: %s", bls)
		}
		if !strings.Contains(mustRead(t, filepath.Join(tg.root, ".bootc-aleph.json")), `"selinux":"force-target-disabled"`) {
			t.Error("aleph selinux state")
		}
	})
	t.Run("root ssh keys", func(t *testing.T) {
		tg := newTarget(t)
		keys := filepath.Join(t.TempDir(), "authorized_keys")
		mustWrite(t, keys, "ssh-ed25519 AAAA test\n")
		r := runSim("bootc", tg.env(t, nil), "install", "to-filesystem", "--root-ssh-authorized-keys", keys, tg.root)
		expect(t, r, 0, "Injected: etc/tmpfiles.d/bootc-root-ssh.conf\nBootloader: grub")
		d, _ := bootc.FindDeployment(tg.root)
		conf := mustRead(t, filepath.Join(d.Dir, "etc/tmpfiles.d/bootc-root-ssh.conf"))
		if conf != "f~ /var/roothome/.ssh/authorized_keys 600 root root - c3NoLWVkMjU1MTkgQUFBQSB0ZXN0Cg==\n" {
			t.Errorf("tmpfiles = %q", conf)
		}
	})
	t.Run("systemd-boot", func(t *testing.T) {
		tg := newTarget(t)
		r := runSim("bootc", tg.env(t, nil), "install", "to-filesystem", "--bootloader=systemd", tg.root)
		expect(t, r, 0, "Bootloader: systemd\nInstalling bootloader via systemd-boot\n")
		if _, err := os.Stat(filepath.Join(tg.root, "boot/efi/EFI/systemd/systemd-bootx64.efi")); err != nil {
			t.Error(err)
		}
	})
	t.Run("no bootloader, skip finalize", func(t *testing.T) {
		tg := newTarget(t)
		r := runSim("bootc", tg.env(t, nil), "install", "to-filesystem", "--bootloader=none", "--skip-finalize", tg.root)
		expect(t, r, 0, "Bootloader: none\nInstallation complete!\n")
		if strings.Contains(r.stdout, "Installing bootloader") || strings.Contains(r.stdout, "Trimming") {
			t.Errorf("stdout: %s", r.stdout)
		}
	})
	t.Run("image install config", func(t *testing.T) {
		tg := newTarget(t)
		env := tg.env(t, nil)
		empty := ""
		env.ImageConfig = &InstallConfig{Kargs: []string{"nosmt"}, Stateroot: "myos", RootMountSpec: &empty}
		expect(t, runSim("bootc", env, "install", "to-filesystem", "--karg=quiet", tg.root), 0)
		d, _ := bootc.FindDeployment(tg.root)
		bls := mustRead(t, filepath.Join(tg.root, "boot/loader/entries/ostree-1.conf"))
		if d.Stateroot != "myos" || !strings.Contains(bls, "options rw boot=UUID=0e2f8c4e-8d6a-4f5b-9b51-3c1f2a7d9e10 nosmt quiet ostree=") {
			t.Errorf("stateroot %q, BLS %s", d.Stateroot, bls)
		}
	})
}

func TestToFilesystemReplace(t *testing.T) {
	t.Run("wipe removes content", func(t *testing.T) {
		tg := newTarget(t, withoutSeparateBoot())
		mustWrite(t, filepath.Join(tg.root, "etc/old"), "x")
		mustWrite(t, filepath.Join(tg.root, "boot/vmlinuz-old"), "x")
		r := runSim("bootc", tg.env(t, nil), "install", "to-filesystem", "--replace=wipe", tg.root)
		expect(t, r, 0, "Wiping contents of root\n")
		for _, p := range []string{"etc/old", "boot/vmlinuz-old"} {
			if _, err := os.Stat(filepath.Join(tg.root, p)); err == nil {
				t.Errorf("%s survived --replace=wipe", p)
			}
		}
	})
	t.Run("wipe refuses to cross a mount point", func(t *testing.T) {
		tg := newTarget(t)
		mustWrite(t, filepath.Join(tg.root, "boot/efi/keep"), "x")
		r := runSim("bootc", tg.env(t, nil), "install", "to-filesystem", "--replace=wipe", tg.root)
		expect(t, r, 1, "error: Installing to filesystem: Found unexpected mount point \"boot\"\n")
		if _, err := os.Stat(filepath.Join(tg.root, "boot/efi/keep")); err != nil {
			t.Error("a file on another filesystem was removed")
		}
	})
	t.Run("alongside keeps files and skips finalize", func(t *testing.T) {
		tg := newTarget(t)
		mustWrite(t, filepath.Join(tg.root, "home/user/file"), "x")
		r := runSim("bootc", tg.env(t, nil), "install", "to-filesystem", "--replace=alongside", tg.root)
		expect(t, r, 0)
		if strings.Contains(r.stdout, "Trimming") {
			t.Error("alongside must skip finalization")
		}
		if _, err := os.Stat(filepath.Join(tg.root, "home/user/file")); err != nil {
			t.Error(err)
		}
	})
	t.Run("reinstall reuses the ostree layout", func(t *testing.T) {
		tg := newTarget(t)
		expect(t, runSim("bootc", tg.env(t, nil), "install", "to-filesystem", tg.root), 0)
		r := runSim("bootc", tg.env(t, nil), "install", "to-filesystem", tg.root)
		expect(t, r, 1, "Non-empty root filesystem; found \".bootc-aleph.json\"")
		r = runSim("bootc", tg.env(t, nil), "install", "to-filesystem", "--replace=alongside", tg.root)
		expect(t, r, 0, "Reusing extant ostree layout\n")
	})
}

func TestInstallStagesFailAndHang(t *testing.T) {
	for _, stage := range installStages {
		t.Run(stage, func(t *testing.T) {
			tg := newTarget(t)
			r := runSim("bootc", tg.env(t, map[string]string{"UAI_SIM_FAIL": stage}), "install", "to-filesystem", tg.root)
			expect(t, r, 1, "simulated failure (UAI_SIM_FAIL="+stage+")")
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			if last := lines[len(lines)-1]; !strings.HasPrefix(last, "error: Installing to filesystem: ") {
				t.Errorf("last stderr line %q is not bootc's error line", last)
			}
			if strings.Contains(r.stdout, "Installation complete!") {
				t.Error("failed install claimed completion")
			}
		})
	}
	t.Run("unknown stage", func(t *testing.T) {
		tg := newTarget(t)
		r := runSim("bootc", tg.env(t, map[string]string{"UAI_SIM_FAIL": "deploi"}), "install", "to-filesystem", tg.root)
		expect(t, r, 1, `UAI_SIM_FAIL="deploi" names no stage`)
	})
	t.Run("hang until done", func(t *testing.T) {
		tg := newTarget(t)
		env := tg.env(t, map[string]string{"UAI_SIM_HANG": "1"})
		done := make(chan struct{})
		env.Done = done
		finished := make(chan result)
		go func() { finished <- runSim("bootc", env, "install", "to-filesystem", tg.root) }()
		select {
		case r := <-finished:
			t.Fatalf("returned without hanging: %s", r)
		case <-time.After(200 * time.Millisecond):
		}
		close(done)
		r := <-finished
		expect(t, r, 1, "simulated hang at stage deploy ended")
	})
}

func TestPrintConfiguration(t *testing.T) {
	env := fakeEnv(t, nil)
	r := runSim("bootc", env, "install", "print-configuration")
	want := `{"block":null,"boot-mount-spec":null,"bootloader":null,"bootupd":null,"discoverable-partitions":null,"enforce-container-sigpolicy":null,"filesystem":null,"match-architectures":null,"ostree":null,"root-fs-type":null,"root-mount-spec":null,"stateroot":null}`
	if r.code != 0 || r.stdout != want {
		t.Errorf("no config:\n%s\nwant stdout %s", r, want)
	}
	env.ImageConfig = &InstallConfig{RootFSType: "xfs"}
	r = runSim("bootc", env, "install", "print-configuration")
	want = `{"block":["direct"],"boot-mount-spec":null,"bootloader":null,"bootupd":null,"discoverable-partitions":null,"enforce-container-sigpolicy":null,"filesystem":{"root":{"type":"xfs"}},"match-architectures":null,"ostree":null,"root-fs-type":"xfs","root-mount-spec":null,"stateroot":null}`
	if r.stdout != want {
		t.Errorf("xfs config:\n%s\nwant stdout %s", r, want)
	}
	env.ImageConfig.Kargs = []string{"nosmt"}
	if r := runSim("bootc", env, "install", "print-configuration"); strings.Contains(r.stdout, "kargs") {
		t.Error("kargs shown without --all")
	}
	if r := runSim("bootc", env, "install", "print-configuration", "--all"); !strings.Contains(r.stdout, `"kargs":["nosmt"]`) {
		t.Errorf("--all: %s", r)
	}
	env.Version = "1.10.0"
	expect(t, runSim("bootc", env, "install", "print-configuration", "--all"), 2, "unexpected argument '--all' found")
}

// TestRefusesThisMachinesRoot: the simulator never writes over "/" (real
// bootc would, after a 20 s warning). Even if the refusal broke, the empty
// root check would stop it before any write.
func TestRefusesThisMachinesRoot(t *testing.T) {
	env := fakeEnv(t, nil)
	env.InContainer, env.Image = true, testImage
	r := runSim("bootc", env, "install", "to-filesystem", "--acknowledge-destructive", "/")
	expect(t, r, 1, "error: Installing to filesystem: simulator: refusing to install over this machine's root filesystem /;")
	if r.stdout != "" {
		t.Errorf("stdout: %q", r.stdout)
	}
}

func TestDefaultEnvKnobs(t *testing.T) {
	for k, v := range map[string]string{
		"UAI_SIM_BOOTC_VERSION": "1.2.3", "UAI_SIM_PODMAN_VERSION": "4.3.1", "UAI_SIM_MOUNTINFO": "/tmp/mi",
		"UAI_SIM_UID": "0", "UAI_SIM_IN_CONTAINER": "1", "UAI_SIM_IMAGE": testImage, "UAI_SIM_DELAY": "10ms",
		"UAI_SIM_STATE_DIR": "/tmp/state", "UAI_SIM_ROOT": "/tmp/root", "UAI_SIM_ROOT_FS_TYPE": "btrfs",
	} {
		t.Setenv(k, v)
	}
	e := DefaultEnv()
	if e.Version != "1.2.3" || e.PodmanVersion != "4.3.1" || e.MountInfoPath != "/tmp/mi" || e.Getuid() != 0 ||
		!e.InContainer || e.Image != testImage || e.Delay != 10*time.Millisecond || e.StateDir != "/tmp/state" ||
		e.Root != "/tmp/root" || e.ImageConfig == nil || e.ImageConfig.RootFSType != "btrfs" || e.Stdout != os.Stdout {
		t.Errorf("DefaultEnv = %+v", e)
	}
	t.Setenv("UAI_SIM_IN_CONTAINER", "")
	t.Setenv("UAI_SIM_ROOT_FS_TYPE", "")
	t.Setenv("UAI_SIM_DELAY", "")
	if e := DefaultEnv(); e.InContainer || e.ImageConfig != nil || e.Delay != 250*time.Millisecond || e.Now == nil || e.OpenFD == nil {
		t.Errorf("defaults: %+v", e)
	}
}
