package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/universal-atomic-installer/uai/installer/bootc/sim"
)

// The real boot loader the end-to-end live system's fake bootc installs:
// systemd-boot as the fallback loader, and one entry per deployment entry
// with the kernel and initramfs beside it. The VM boot of scenario i proves
// it boots; this checks the files without a VM.
func TestInstallRealBootloader(t *testing.T) {
	root, src := t.TempDir(), t.TempDir()
	write := func(p, s string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(src, "systemd-bootx64.efi"), "MZ systemd-boot")
	write(filepath.Join(src, "vmlinuz"), "kernel")
	write(filepath.Join(src, "initrd.img"), "initramfs")
	if err := os.MkdirAll(filepath.Join(root, "boot", "efi"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := sim.InstallRealBootloader(root, src, nil); err == nil || !strings.Contains(err.Error(), "no boot entries") {
		t.Fatalf("without a deployment: got %v", err)
	}
	write(filepath.Join(root, "boot", "loader.1", "entries", "ostree-1.conf"),
		"title Fedora (ostree:0)\nversion 1\noptions root=UUID=abcd rw ostree=/ostree/boot.1/default/x/0\nlinux /boot/ostree/x/vmlinuz\n")
	if err := os.Symlink("loader.1", filepath.Join(root, "boot", "loader")); err != nil {
		t.Fatal(err)
	}
	names, err := sim.InstallRealBootloader(root, src, []string{"console=ttyS0,115200"})
	if err != nil {
		t.Fatal(err)
	}
	esp := filepath.Join(root, "boot", "efi")
	if len(names) != 1 || names[0] != "ostree-1.conf" {
		t.Fatalf("entries %v", names)
	}
	entry, _ := os.ReadFile(filepath.Join(esp, "loader", "entries", "ostree-1.conf"))
	want := "title Fedora (ostree:0)\nlinux /uai/ostree-1/vmlinuz\ninitrd /uai/ostree-1/initrd.img\noptions root=UUID=abcd rw ostree=/ostree/boot.1/default/x/0 console=ttyS0,115200\n"
	if string(entry) != want {
		t.Errorf("entry:\n%s\nwant:\n%s", entry, want)
	}
	for dst, srcName := range map[string]string{"EFI/BOOT/BOOTX64.EFI": "systemd-bootx64.efi", "EFI/systemd/systemd-bootx64.efi": "systemd-bootx64.efi", "uai/ostree-1/vmlinuz": "vmlinuz", "uai/ostree-1/initrd.img": "initrd.img"} {
		a, _ := os.ReadFile(filepath.Join(src, srcName))
		b, err := os.ReadFile(filepath.Join(esp, dst))
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("%s: %v", dst, err)
		}
	}
	if conf, _ := os.ReadFile(filepath.Join(esp, "loader", "loader.conf")); string(conf) != "default ostree-1.conf\ntimeout 0\n" {
		t.Errorf("loader.conf %q", conf)
	}
}

// Without the knob the e2e fakes are exactly the fakes of test/fakes.
func TestMainWithRealBootloaderNeedsTheKnob(t *testing.T) {
	var a, b bytes.Buffer
	env := func(out *bytes.Buffer) sim.Env {
		return sim.Env{Stdout: out, Stderr: out, Getenv: func(string) string { return "" }}
	}
	ca := sim.Main("bootc", []string{"--version"}, env(&a))
	cb := sim.MainWithRealBootloader("bootc", []string{"--version"}, env(&b))
	if ca != cb || a.String() != b.String() || a.Len() == 0 {
		t.Fatalf("Main: %d %q; MainWithRealBootloader: %d %q", ca, a.String(), cb, b.String())
	}
}
