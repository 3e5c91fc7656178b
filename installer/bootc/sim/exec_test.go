package sim

import (
	"bytes"
	"errors"
	"go/build"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/universal-atomic-installer/uai/installer/bootc"
)

// buildFakes compiles test/fakes/bootc and test/fakes/podman into a temp
// directory, as the tests that run uai as a real process do.
func buildFakes(t *testing.T) (bootcBin, podmanBin string) {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(build.Default.GOROOT, "bin", "go")
	}
	dir := t.TempDir()
	cmd := exec.Command(goBin, "build", "-o", dir+string(os.PathSeparator),
		"github.com/universal-atomic-installer/uai/test/fakes/bootc",
		"github.com/universal-atomic-installer/uai/test/fakes/podman")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return filepath.Join(dir, "bootc"), filepath.Join(dir, "podman")
}

// procEnv is a clean environment for the fakes: no UAI_SIM_* leaks in
// from whoever runs the tests.
func procEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "UAI_SIM_") {
			env = append(env, kv)
		}
	}
	return append(append(env, "UAI_SIM_DELAY=0", "UAI_SIM_UID=0"), extra...)
}

func runProc(t *testing.T, bin string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

func TestFakeBinaries(t *testing.T) {
	bootcBin, podmanBin := buildFakes(t)

	r := runProc(t, bootcBin, procEnv(), "--version")
	if r.code != 0 || r.stdout != "bootc 1.16.9\n" {
		t.Errorf("bootc --version: %s", r)
	}
	r = runProc(t, bootcBin, procEnv("UAI_SIM_BOOTC_VERSION=1.1.0"), "install", "to-filesystem", "--bootloader=grub", "/mnt/target")
	expect(t, r, 2, "error: unexpected argument '--bootloader' found\n")
	r = runProc(t, podmanBin, procEnv(), "run", "--frob", testImage)
	if r.code != 125 || r.stderr != "Error: unknown flag: --frob\nSee 'podman run --help'\n" {
		t.Errorf("podman unknown flag: %s", r)
	}
	if r := runProc(t, podmanBin, procEnv(), "--version"); r.stdout != "podman version 5.6.2\n" {
		t.Errorf("podman --version: %s", r)
	}

	t.Run("bootc in the documented container", func(t *testing.T) {
		tg := newTarget(t)
		env := procEnv("UAI_SIM_MOUNTINFO="+tg.mountinfo, "UAI_SIM_IN_CONTAINER=1", "UAI_SIM_IMAGE="+testImage)
		r := runProc(t, bootcBin, env, "install", "to-filesystem", "--target-imgref", testImage, tg.root)
		expect(t, r, 0, "Installation complete!\n")
		if d, err := bootc.FindDeployment(tg.root); err != nil || d.Origin.Image != testImage {
			t.Errorf("%+v %v", d, err)
		}
	})
	t.Run("podman runs bootc in-process", func(t *testing.T) {
		tg := newTarget(t)
		args, _ := bootc.InstallArgs(bootc.InstallSpec{Method: bootc.MethodToFilesystem, Target: tg.root, TargetImgref: testImage})
		argv := bootc.PodmanRunArgs(bootc.PodmanRun{Image: testImage, Binds: []string{bootc.SameBind(tg.root)}}, args)
		r := runProc(t, podmanBin, procEnv("UAI_SIM_MOUNTINFO="+tg.mountinfo), argv...)
		expect(t, r, 0, "Trying to pull "+testImage+"...", "Installation complete!\n")
		if _, err := bootc.FindDeployment(tg.root); err != nil {
			t.Error(err)
		}
	})
	t.Run("fault injection", func(t *testing.T) {
		tg := newTarget(t)
		env := procEnv("UAI_SIM_MOUNTINFO="+tg.mountinfo, "UAI_SIM_IN_CONTAINER=1", "UAI_SIM_IMAGE="+testImage, "UAI_SIM_FAIL=deploy")
		r := runProc(t, bootcBin, env, "install", "to-filesystem", tg.root)
		expect(t, r, 1)
		lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
		if lines[len(lines)-1] != "error: Installing to filesystem: Creating ostree deployment: Performing deployment: simulated failure (UAI_SIM_FAIL=deploy)" {
			t.Errorf("stderr: %q", r.stderr)
		}
		// The ostree layout was created before the failure, as a real
		// half-done install leaves it.
		if _, err := os.Stat(filepath.Join(tg.root, "ostree/repo/config")); err != nil {
			t.Error(err)
		}
	})
	t.Run("hang until killed", func(t *testing.T) {
		tg := newTarget(t)
		cmd := exec.Command(bootcBin, "install", "to-filesystem", tg.root)
		cmd.Env = procEnv("UAI_SIM_MOUNTINFO="+tg.mountinfo, "UAI_SIM_IN_CONTAINER=1", "UAI_SIM_IMAGE="+testImage, "UAI_SIM_HANG=1")
		var out bytes.Buffer
		cmd.Stdout = &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			t.Fatalf("exited while it should hang: %v\n%s", err, out.String())
		case <-time.After(500 * time.Millisecond):
		}
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGTERM {
				t.Errorf("want death by SIGTERM, got %v", err)
			}
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatal("SIGTERM did not end the hang")
		}
		if !strings.Contains(out.String(), "Initializing ostree layout") {
			t.Errorf("stdout before the hang: %q", out.String())
		}
	})
}
