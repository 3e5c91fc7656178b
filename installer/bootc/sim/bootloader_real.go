package sim

// This file is the only place the simulator installs a real, bootable boot
// loader, and only when UAI_SIM_REAL_BOOTLOADER names a directory. The
// end-to-end tests' live system sets it so that the disk a simulated
// install wrote boots afterwards under UEFI, the way bootupd (or bootctl)
// leaves an ESP: systemd-boot as the fallback loader, one Boot Loader
// Specification entry per deployment, and the kernel and initramfs beside
// them. Without the knob nothing here runs.

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// RealBootloaderEnv names a directory holding systemd-bootx64.efi, vmlinuz
// and initrd.img; RealBootloaderKargsEnv adds kernel arguments to every
// entry (a serial console, for example).
const (
	RealBootloaderEnv      = "UAI_SIM_REAL_BOOTLOADER"
	RealBootloaderKargsEnv = "UAI_SIM_REAL_BOOTLOADER_KARGS"
)

// MainWithRealBootloader is Main, then, after a successful `bootc install
// to-filesystem` (run directly or through `podman run IMAGE bootc ...`)
// and with UAI_SIM_REAL_BOOTLOADER set, a real boot loader install into
// the target's ESP. A failure there fails the run, as a bootupd failure
// fails bootc.
func MainWithRealBootloader(tool string, args []string, env Env) int {
	env = env.withDefaults()
	code := Main(tool, args, env)
	dir := env.Getenv(RealBootloaderEnv)
	if code != 0 || dir == "" {
		return code
	}
	target, ok := toFilesystemTarget(args)
	if !ok {
		return code
	}
	entries, err := InstallRealBootloader(target, dir, strings.Fields(env.Getenv(RealBootloaderKargsEnv)))
	if err != nil {
		fmt.Fprintf(env.Stderr, "error: Installing bootloader: %v\n", err)
		return 1
	}
	fmt.Fprintf(env.Stdout, "Installed: systemd-boot with %d entries (real boot loader, %s=%s)\n", len(entries), RealBootloaderEnv, dir)
	return 0
}

// toFilesystemTarget finds the target root of an install to-filesystem
// command line: its last argument, the positional ROOT_PATH.
func toFilesystemTarget(args []string) (string, bool) {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "install" && args[i+1] == "to-filesystem" && (i == 0 || args[i-1] == "bootc" || args[i-1] == "/usr/bin/bootc") {
			last := args[len(args)-1]
			if strings.HasPrefix(last, "-") || i+1 == len(args)-1 {
				return "", false
			}
			return last, true
		}
	}
	return "", false
}

// InstallRealBootloader writes systemd-boot and one entry per Boot Loader
// Specification entry the install left under ROOT/boot/loader/entries into
// the ESP mounted at ROOT/boot/efi; it returns the entry file names.
func InstallRealBootloader(root, srcDir string, extraKargs []string) ([]string, error) {
	esp := filepath.Join(root, "boot", "efi")
	if st, err := os.Stat(esp); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("no ESP at %s: mount it there first", esp)
	}
	bls, err := filepath.Glob(filepath.Join(root, "boot", "loader", "entries", "*.conf"))
	if err != nil || len(bls) == 0 {
		return nil, fmt.Errorf("no boot entries under %s/boot/loader/entries: the deployment is missing", root)
	}
	sort.Strings(bls)
	loader := filepath.Join(srcDir, "systemd-bootx64.efi")
	for _, dst := range []string{"EFI/systemd/systemd-bootx64.efi", "EFI/BOOT/BOOTX64.EFI"} {
		if err := copyFile(loader, filepath.Join(esp, dst)); err != nil {
			return nil, err
		}
	}
	var names []string
	for _, p := range bls {
		title, options, err := readBLS(p)
		if err != nil {
			return nil, err
		}
		name := strings.TrimSuffix(filepath.Base(p), ".conf")
		for _, f := range []string{"vmlinuz", "initrd.img"} {
			if err := copyFile(filepath.Join(srcDir, f), filepath.Join(esp, "uai", name, f)); err != nil {
				return nil, err
			}
		}
		entry := fmt.Sprintf("title %s\nlinux /uai/%s/vmlinuz\ninitrd /uai/%s/initrd.img\noptions %s\n",
			title, name, name, strings.Join(append(strings.Fields(options), extraKargs...), " "))
		if err := writeFileAll(filepath.Join(esp, "loader", "entries", name+".conf"), []byte(entry)); err != nil {
			return nil, err
		}
		names = append(names, name+".conf")
	}
	if err := writeFileAll(filepath.Join(esp, "loader", "loader.conf"), []byte("default "+names[0]+"\ntimeout 0\n")); err != nil {
		return nil, err
	}
	return names, nil
}

func readBLS(p string) (title, options string, err error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return "", "", fmt.Errorf("read boot entry: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch k {
		case "title":
			title = v
		case "options":
			options = v
		}
	}
	if options == "" {
		return "", "", fmt.Errorf("boot entry %s has no options line", p)
	}
	return title, options, nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("real boot loader source: %w", err)
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	return out.Close()
}

func writeFileAll(p string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, b, 0o644)
}
