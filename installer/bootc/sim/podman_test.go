package sim

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/universal-atomic-installer/uai/installer/bootc"
)

// documentedRun is exactly what uai builds: bootc.PodmanRunArgs around
// bootc.InstallArgs.
func documentedRun(t *testing.T, root string, spec bootc.InstallSpec) []string {
	t.Helper()
	spec.Method, spec.Target = bootc.MethodToFilesystem, root
	if spec.TargetImgref == "" {
		spec.TargetImgref = testImage
	}
	args, err := bootc.InstallArgs(spec)
	if err != nil {
		t.Fatal(err)
	}
	run := bootc.PodmanRun{Image: testImage, Binds: []string{bootc.SameBind(root)}}
	if err := run.Validate(); err != nil {
		t.Fatal(err)
	}
	return bootc.PodmanRunArgs(run, args)
}

// without drops the argv elements equal to drop (a "-v" before a dropped
// bind goes too).
func without(args []string, drop string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		if args[i] == drop {
			if len(out) > 0 && (out[len(out)-1] == "-v" || out[len(out)-1] == "--security-opt") {
				out = out[:len(out)-1]
			}
			continue
		}
		out = append(out, args[i])
	}
	return out
}

func podmanEnv(t *testing.T, tg target, knobs map[string]string) Env {
	e := fakeEnv(t, knobs)
	e.MountInfoPath = tg.mountinfo
	return e
}

func TestPodmanRunsTheDocumentedInstall(t *testing.T) {
	tg := newTarget(t)
	args := documentedRun(t, tg.root, bootc.InstallSpec{Kargs: []string{"console=ttyS0"}, Stateroot: "fedora"})
	r := runSim("podman", podmanEnv(t, tg, nil), args...)
	expect(t, r, 0, "Installing image: docker://quay.io/fedora/fedora-bootc:42\nDigest: "+ImageDigest(testImage)+"\n", "Installation complete!\n")
	if !strings.HasPrefix(r.stderr, "Trying to pull quay.io/fedora/fedora-bootc:42...\nGetting image source signatures\nCopying blob sha256:") {
		t.Errorf("pull lines: %q", r.stderr)
	}
	d, err := bootc.FindDeployment(tg.root)
	if err != nil {
		t.Fatal(err)
	}
	if d.Stateroot != "fedora" || d.Origin.Image != testImage || d.Origin.Scheme != bootc.SchemeUnverifiedRegistry {
		t.Errorf("deployment %+v", d)
	}
}

// TestPodmanPrivileges removes each documented privilege in turn.
func TestPodmanPrivileges(t *testing.T) {
	for _, tc := range []struct{ drop, want string }{
		{"--privileged", "error: Installing to filesystem: Querying root privilege: The container must be executed with full privileges (e.g. --privileged flag)\n"},
		{"--pid=host", "error: Installing to filesystem: This command must be run with the podman --pid=host flag\n"},
		{"--ipc=host", "simulator (strict): podman run lacks --ipc=host from bootc's documented invocation"},
		{"/dev:/dev", "podman run lacks -v /dev:/dev from"},
		{"/var/lib/containers:/var/lib/containers", "podman run lacks -v /var/lib/containers:/var/lib/containers from"},
		{"label=type:unconfined_t", "podman run lacks --security-opt label=type:unconfined_t from"},
	} {
		t.Run(tc.drop, func(t *testing.T) {
			tg := newTarget(t)
			args := without(documentedRun(t, tg.root, bootc.InstallSpec{}), tc.drop)
			r := runSim("podman", podmanEnv(t, tg, nil), args...)
			expect(t, r, 1, tc.want)
			if strings.Contains(r.stdout, "Installing image") {
				t.Error("bootc started installing without the privilege")
			}
			if got := treeFiles(t, tg.root); len(got) != 2 {
				t.Errorf("target changed: %q", got)
			}
		})
	}
	t.Run("rootless", func(t *testing.T) {
		tg := newTarget(t)
		env := podmanEnv(t, tg, nil)
		env.Getuid = func() int { return 1000 }
		expect(t, runSim("podman", env, documentedRun(t, tg.root, bootc.InstallSpec{})...), 1,
			"error: Installing to filesystem: /proc/1 is owned by 65534, not zero; this command must be run in the root user namespace (e.g. not rootless podman)\n")
	})
}

func TestPodmanTargetBind(t *testing.T) {
	t.Run("not bind-mounted", func(t *testing.T) {
		tg := newTarget(t)
		args := without(documentedRun(t, tg.root, bootc.InstallSpec{}), bootc.SameBind(tg.root))
		expect(t, runSim("podman", podmanEnv(t, tg, nil), args...), 1,
			"error: Installing to filesystem: Opening target root directory "+tg.root+": No such file or directory (os error 2)\n")
	})
	t.Run("bound elsewhere", func(t *testing.T) {
		tg := newTarget(t)
		args := documentedRun(t, "/mnt/target", bootc.InstallSpec{})
		for i, a := range args {
			if a == "/mnt/target:/mnt/target" {
				args[i] = tg.root + ":/mnt/target"
			}
		}
		expect(t, runSim("podman", podmanEnv(t, tg, nil), args...), 1,
			"simulator (strict): the target /mnt/target is bind-mounted from "+tg.root+"; bind it at the same path")
	})
	t.Run("a parent directory bound at the same path", func(t *testing.T) {
		tg := newTarget(t)
		args := documentedRun(t, tg.root, bootc.InstallSpec{})
		for i, a := range args {
			if a == bootc.SameBind(tg.root) {
				args[i] = bootc.SameBind(filepath.Dir(tg.root))
			}
		}
		// podman binds recursively, so ROOT is still a mount point inside
		// the container and the install works.
		expect(t, runSim("podman", podmanEnv(t, tg, nil), args...), 0, "Installation complete!")
	})
	t.Run("bind of a plain host directory", func(t *testing.T) {
		// The bind itself is a mount point in the container, so bootc
		// goes on and sees the host filesystem holding the directory: here
		// ext4 on /dev/sda1, the host root. (On a live ISO it is overlay,
		// which bootc refuses.)
		dir := filepath.Join(t.TempDir(), "plain")
		mustMkdir(t, filepath.Join(dir, "boot"))
		tg := target{root: dir, mountinfo: writeMountInfo(t, nil)}
		r := runSim("podman", podmanEnv(t, tg, nil), documentedRun(t, dir, bootc.InstallSpec{})...)
		expect(t, r, 1, "Found empty directory: boot")
	})
}

func TestPodmanCLI(t *testing.T) {
	env := fakeEnv(t, nil)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--version"}, 0, "podman version 5.6.2\n"},
		{[]string{"version"}, 0, "Version:      5.6.2"},
		{nil, 125, "Error: missing command 'podman COMMAND'"},
		{[]string{"frob"}, 125, "Error: unrecognized command `podman frob`\nTry 'podman --help' for more information\n"},
		{[]string{"--frob"}, 125, "Error: unknown flag: --frob\nSee 'podman --help'\n"},
		{[]string{"images"}, 125, "`podman images` is not simulated"},
		{[]string{"run", "--foo", testImage, "bootc", "--version"}, 125, "Error: unknown flag: --foo\nSee 'podman run --help'\n"},
		{[]string{"run", "--device=/dev/vda", testImage}, 125, "Error: unknown flag: --device\n"},
		{[]string{"run", "-x", testImage}, 125, "Error: unknown shorthand flag: 'x' in -x\n"},
		{[]string{"run", "-itx", testImage}, 125, "Error: unknown shorthand flag: 'x' in -itx\n"},
		{[]string{"run", "--rm"}, 125, "Error: requires at least 1 arg(s), only received 0\n"},
		{[]string{"run", "--name"}, 125, "Error: flag needs an argument: --name\n"},
		{[]string{"run", "-v"}, 125, "Error: flag needs an argument: 'v' in -v\n"},
		{[]string{"run", "--rm=maybe", testImage}, 125, `Error: invalid argument "maybe" for "--rm" flag: strconv.ParseBool: parsing "maybe": invalid syntax`},
		{[]string{"run", "quay.io/x:1;reboot", "bootc"}, 125, "Error: invalid reference format\n"},
		{[]string{"run", "quay.io/x:1$(id)", "bootc"}, 125, "Error: invalid reference format\n"},
		{[]string{"run", "quay.io/X/y:1", "bootc"}, 125, "Error: invalid reference format: repository name must be lowercase\n"},
		{[]string{"run", "fedora-bootc:42", "bootc"}, 125, `Error: short-name "fedora-bootc:42" did not resolve to an alias`},
		{[]string{"run", "-v", "/nonexistent/dir:/x", testImage, "bootc"}, 125, "Error: statfs /nonexistent/dir: no such file or directory\n"},
		{[]string{"run", "-v", "/dev:dev", testImage, "bootc"}, 125, `Error: invalid container path "dev", must be an absolute path`},
		{[]string{"run", "-v", "/dev:/dev:bogus", testImage, "bootc"}, 125, `Error: invalid option type "bogus"`},
		{[]string{"run", "--pull=sometimes", testImage, "bootc"}, 125, `Error: invalid pull policy "sometimes"`},
		{[]string{"run", "--rm", testImage, "cat", "/etc/os-release"}, 127, "executable file `cat` not found in $PATH"},
		{[]string{"run", "--rm", "--pull=never", testImage}, 125, "default command (init) is not simulated"},
		{[]string{"run", "--rm", "-it", "--pull=never", "-e", "A=1", "--env=B", "--net=host", "--network", "host", "--name", "x", "-v/dev:/dev", testImage, "bootc", "--version"}, 0, "bootc 1.16.9\n"},
		{[]string{"run", "--rm", "--pull", "never", testImage, "bootc", "install", "to-filesystem", "--wipe", "/x"}, 2, "error: unexpected argument '--wipe' found"},
		{[]string{"run", "--rm", "--pull=never", testImage, "bootc", "status", "--format=json"}, 0, `"booted":null`},
		{[]string{"run", "--rm", "--pull=never", testImage, "bootc", "install", "print-configuration"}, 0, `{"block":null`},
		{[]string{"run", "--rm", "--pull=never", testImage, "bootc", "switch", "quay.io/x:1"}, 1, "error: Switching: Detected container; this command requires a booted host system.\n"},
		{[]string{"run", "--rm", "--pull=never", testImage, "bootc", "install", "to-filesystem", "--source-imgref", "registry:" + testImage, "/x"}, 1, "Opening target root directory /x: No such file or directory (os error 2)"},
		{[]string{"pull", testImage}, 0, "Writing manifest to image destination\n"},
		{[]string{"pull", "quay.io/x/y"}, 0, "Trying to pull quay.io/x/y:latest..."},
		{[]string{"pull", "quay.io/x;y"}, 125, "Error: invalid reference format\n"},
	} {
		r := runSim("podman", env, tc.args...)
		expect(t, r, tc.code, tc.want)
		if tc.code == 125 && !strings.HasPrefix(r.stderr, "Error: ") && !strings.Contains(r.stderr, "\nError: ") {
			t.Errorf("podman %q: 125 without an Error: line\n%s", tc.args, r)
		}
	}
	if r := runSim("podman", env, "pull", testImage); r.stdout != strings.TrimPrefix(ImageDigest(testImage), "sha256:")+"\n" {
		t.Errorf("podman pull prints the image ID on stdout: %s", r)
	}
	if r := runSim("podman", env, "run", "--rm", "--pull=never", testImage, "bootc", "--version"); strings.Contains(r.stderr, "Trying to pull") {
		t.Error("--pull=never pulled")
	}
}

func TestPodmanPassesKnobsAndEnvIntoTheContainer(t *testing.T) {
	tg := newTarget(t)
	args := documentedRun(t, tg.root, bootc.InstallSpec{})
	// -e reaches the bootc inside, as it would a real container.
	withEnv := append([]string{args[0], "-e", "UAI_SIM_FAIL=bootloader"}, args[1:]...)
	expect(t, runSim("podman", podmanEnv(t, tg, nil), withEnv...), 1, "error: Installing to filesystem: Installing bootloader: simulated failure (UAI_SIM_FAIL=bootloader)\n")

	tg = newTarget(t)
	args = documentedRun(t, tg.root, bootc.InstallSpec{})
	expect(t, runSim("podman", podmanEnv(t, tg, map[string]string{"UAI_SIM_FAIL": "pull"}), args...), 125, "Error: initializing source docker://quay.io/fedora/fedora-bootc:42: simulated failure (UAI_SIM_FAIL=pull)\n")
}

func TestPodmanRootSSHKeysMustBeVisibleInTheContainer(t *testing.T) {
	tg := newTarget(t)
	keys := filepath.Join(t.TempDir(), "keys")
	mustWrite(t, keys, "ssh-ed25519 AAAA k\n")
	args := documentedRun(t, tg.root, bootc.InstallSpec{RootSSHAuthorizedKeys: keys})
	expect(t, runSim("podman", podmanEnv(t, tg, nil), args...), 1, "error: Installing to filesystem: Reading "+keys+": No such file or directory (os error 2)\n")

	run := bootc.PodmanRun{Image: testImage, Binds: []string{bootc.SameBind(tg.root), filepath.Dir(keys) + ":/run/uai"}}
	inst, _ := bootc.InstallArgs(bootc.InstallSpec{Method: bootc.MethodToFilesystem, Target: tg.root, TargetImgref: testImage, RootSSHAuthorizedKeys: "/run/uai/keys"})
	expect(t, runSim("podman", podmanEnv(t, tg, nil), bootc.PodmanRunArgs(run, inst)...), 0, "Injected: etc/tmpfiles.d/bootc-root-ssh.conf")
}

// TestPodmanRunsAPinnedImage: uai runs the digest-pinned image and records
// the tag for updates; bootc reports the pinned digest.
func TestPodmanRunsAPinnedImage(t *testing.T) {
	tg := newTarget(t)
	digest := "sha256:" + strings.Repeat("ab", 32)
	pinned := "quay.io/fedora/fedora-bootc@" + digest
	args, err := bootc.InstallArgs(bootc.InstallSpec{Method: bootc.MethodToFilesystem, Target: tg.root, TargetImgref: testImage})
	if err != nil {
		t.Fatal(err)
	}
	r := runSim("podman", podmanEnv(t, tg, nil), bootc.PodmanRunArgs(bootc.PodmanRun{Image: pinned, Binds: []string{bootc.SameBind(tg.root)}}, args)...)
	expect(t, r, 0, "Installing image: docker://"+testImage+"\nDigest: "+digest+"\n", "Trying to pull "+pinned+"...")
	d, err := bootc.FindDeployment(tg.root)
	if err != nil || d.Origin.Image != testImage || d.Checksum != CommitChecksum(pinned) {
		t.Errorf("%+v %v", d, err)
	}
	if !strings.Contains(mustRead(t, filepath.Join(tg.root, ".bootc-aleph.json")), `"digest":"`+digest+`"`) {
		t.Error("aleph digest is not the pinned one")
	}
}
