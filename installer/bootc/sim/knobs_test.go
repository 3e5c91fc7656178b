package sim

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/universal-atomic-installer/uai/installer/bootc"
)

// UAI_SIM_ORIGIN records another origin; the install itself succeeds, as
// it does when a real bootc loses the target ref.
func TestOriginKnob(t *testing.T) {
	tg := newTarget(t)
	r := runSim("bootc", tg.env(t, map[string]string{"UAI_SIM_ORIGIN": "ostree-unverified-image:oci:/run/install/repo/container"}),
		"install", "to-filesystem", "--target-imgref", testImage, tg.root)
	expect(t, r, 0, "Installation complete!")
	d, err := bootc.FindDeployment(tg.root)
	if err != nil {
		t.Fatal(err)
	}
	if d.Origin.Transport != "oci" || d.Origin.Image != "/run/install/repo/container" {
		t.Errorf("origin %+v", d.Origin)
	}
}

// fillFilesystem leaves no block free: the next small write fails with
// ENOSPC. A tmpfs of its own keeps the test from filling a real disk.
func TestFillFilesystem(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("mounting a small tmpfs needs root")
		}
		t.Skip("SKIPPED LOUDLY: mounting a small tmpfs needs root")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=4m"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mount tmpfs: %v", err)
		}
		t.Skipf("SKIPPED LOUDLY: mount tmpfs: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, 0) })
	if err := fillFilesystem(filepath.Join(dir, "ostree/repo/objects/ff/fill.file")); err != nil {
		t.Fatal(err)
	}
	err := os.WriteFile(filepath.Join(dir, "hostname"), []byte(strings.Repeat("x", 4096)), 0o644)
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("write after fill: %v, want ENOSPC", err)
	}
}
