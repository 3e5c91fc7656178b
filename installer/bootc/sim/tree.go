package sim

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// simKernel is the kernel version every simulated image ships.
const simKernel = "6.15.9-201.fc42.x86_64"

func hexSum(s string) string { return fmt.Sprintf("%x", sha256.Sum256([]byte(s))) }

// ImageDigest is the manifest digest the simulator reports for an image
// name: the digest the name pins (NAME@sha256:...), else the sha256 of the
// name, so tests can predict it.
func ImageDigest(image string) string {
	if _, d, ok := strings.Cut(image, "@"); ok && strings.HasPrefix(d, "sha256:") && len(d) == len("sha256:")+64 {
		return d
	}
	return "sha256:" + hexSum(image)
}

// CommitChecksum is the ostree commit the simulator deploys for an image
// name (the sha256 of its digest); the deployment directory is
// CHECKSUM.0.
func CommitChecksum(image string) string { return hexSum(ImageDigest(image)) }

// bootChecksum names the kernel+initramfs pair, which ostree keys
// separately from the commit.
func bootChecksum(image string) string { return hexSum("boot:" + ImageDigest(image)) }

// imageCreated is the image's org.opencontainers.image.created: fixed per
// image, like a real build timestamp.
func imageCreated(image string) time.Time {
	d := sha256.Sum256([]byte(image))
	return time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(int(d[0])<<8|int(d[1])) * time.Minute)
}

// imageTag returns the tag of a registry name, "" when it has none.
func imageTag(name string) string {
	n, _, _ := strings.Cut(name, "@")
	if i := strings.LastIndexByte(n, ':'); i > strings.LastIndexByte(n, '/') {
		return n[i+1:]
	}
	return ""
}

// imageBase is the last path component without tag or digest.
func imageBase(name string) string {
	n, _, _ := strings.Cut(name, "@")
	if i := strings.LastIndexByte(n, ':'); i > strings.LastIndexByte(n, '/') {
		n = n[:i]
	}
	return n[strings.LastIndexByte(n, '/')+1:]
}

func osID(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(imageBase(name)) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-' {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "linux"
	}
	return b.String()
}

func osVersion(name string) string {
	if t := imageTag(name); t != "" {
		return t
	}
	return "latest"
}

func prettyName(name string) string { return imageBase(name) + " " + osVersion(name) + " (simulated)" }

type deployInput struct {
	phys      string // host path of the physical root
	stateroot string
	source    string // image name installed
	digest    string
	labels    map[string]string // image labels; nil: the simulated images' own
	origin    string            // container-image-reference
	target    string            // target image name
	kargs     []string
	sshKeys   *string
	selinux   string
	kernel    string // the installer's uname -r
	now       time.Time
}

// writer creates files and directories under a root, stopping at the
// first error.
type writer struct {
	root string
	err  error
}

func (w *writer) dir(rel string, mode os.FileMode) {
	if w.err == nil {
		w.err = os.MkdirAll(filepath.Join(w.root, rel), mode)
	}
}

func (w *writer) file(rel, content string, mode os.FileMode) {
	if w.err != nil {
		return
	}
	p := filepath.Join(w.root, rel)
	if w.err = os.MkdirAll(filepath.Dir(p), 0o755); w.err == nil {
		w.err = os.WriteFile(p, []byte(content), mode)
		// FAT (the ESP) has no modes: the kernel ignores chmod there and
		// FUSE drivers refuse it, and bootupd never sets one.
		if w.err == nil && !strings.HasPrefix(rel, "boot/efi/") {
			w.err = os.Chmod(p, mode)
		}
	}
}

func (w *writer) symlink(target, rel string) {
	if w.err != nil {
		return
	}
	p := filepath.Join(w.root, rel)
	if _, err := os.Lstat(p); err == nil {
		return
	}
	if w.err = os.MkdirAll(filepath.Dir(p), 0o755); w.err == nil {
		w.err = os.Symlink(target, p)
	}
}

// writeRepo is `ostree admin init-fs --modern` plus bootc's repo config.
func writeRepo(phys string) error {
	w := &writer{root: phys}
	for _, d := range []string{"ostree/repo/objects", "ostree/repo/refs/heads", "ostree/repo/refs/remotes", "ostree/repo/tmp", "ostree/repo/extensions", "ostree/deploy"} {
		w.dir(d, 0o755)
	}
	w.file("ostree/repo/config", "[core]\nrepo_version=1\nmode=bare\n\n[sysroot]\nbootloader=none\nbootprefix=true\nreadonly=true\n", 0o644)
	return w.err
}

// writeDeployment writes what `ostree container image deploy` and bootc
// leave in the physical root: the stateroot, the checked-out deployment
// with its .origin beside it, the boot entry and kernel, and the aleph.
func writeDeployment(in deployInput) error {
	csum := CommitChecksum(in.source)
	bootcsum := bootChecksum(in.source)
	sr := "ostree/deploy/" + in.stateroot
	deploy := sr + "/deploy/" + csum + ".0"
	w := &writer{root: in.phys}
	w.dir(sr+"/var", 0o755)

	for _, d := range []string{"boot", "dev", "etc", "proc", "run", "sys", "sysroot", "tmp", "usr/bin", "usr/sbin", "usr/lib/ostree", "var"} {
		w.dir(deploy+"/"+d, 0o755)
	}
	for link, target := range map[string]string{
		"bin": "usr/bin", "sbin": "usr/sbin", "lib": "usr/lib", "lib64": "usr/lib64", "ostree": "sysroot/ostree",
		"root": "var/roothome", "home": "var/home", "mnt": "var/mnt", "opt": "var/opt", "srv": "var/srv",
	} {
		w.symlink(target, deploy+"/"+link)
	}
	w.file(deploy+"/usr/lib/os-release", fmt.Sprintf(
		"NAME=%q\nVERSION=%q\nID=%s\nVERSION_ID=%s\nPRETTY_NAME=%q\nOSTREE_VERSION='%s'\n",
		imageBase(in.source), osVersion(in.source)+" (simulated)", osID(in.source), osVersion(in.source), prettyName(in.source), osVersion(in.source)), 0o644)
	w.symlink("../usr/lib/os-release", deploy+"/etc/os-release")
	w.file(deploy+"/etc/passwd", "root:x:0:0:Super User:/root:/bin/bash\nbin:x:1:1:bin:/bin:/usr/sbin/nologin\n", 0o644)
	w.file(deploy+"/etc/group", "root:x:0:\nbin:x:1:\nwheel:x:10:\n", 0o644)
	w.file(deploy+"/etc/shadow", "root:!locked::0:99999:7:::\nbin:*:20000:0:99999:7:::\n", 0o000)
	w.file(deploy+"/usr/lib/ostree/prepare-root.conf", "[composefs]\nenabled = true\n", 0o644)
	w.file(deploy+"/usr/lib/modules/"+simKernel+"/vmlinuz", "simulated kernel "+simKernel+"\n", 0o755)
	w.file(deploy+"/usr/lib/modules/"+simKernel+"/initramfs.img", "simulated initramfs\n", 0o644)
	if in.sshKeys != nil {
		b64 := base64.StdEncoding.EncodeToString([]byte(*in.sshKeys))
		w.file(deploy+"/etc/tmpfiles.d/bootc-root-ssh.conf", "f~ /var/roothome/.ssh/authorized_keys 600 root root - "+b64+"\n", 0o644)
	}
	w.file(deploy+".origin", "[origin]\ncontainer-image-reference="+in.origin+"\n", 0o644)
	if w.err == nil {
		// Deployments are ordered by directory mtime (bootc's
		// find_newest_deployment_name), so stamp it with the run's clock.
		w.err = os.Chtimes(filepath.Join(in.phys, deploy), in.now, in.now)
	}

	// ostree's boot layout: /ostree/boot.1 -> boot.1.1, whose
	// STATEROOT/BOOTCSUM/0 points at the deployment; kernels and BLS
	// entries live under /boot (a separate filesystem or a directory).
	w.symlink("../../../deploy/"+in.stateroot+"/deploy/"+csum+".0", "ostree/boot.1.1/"+in.stateroot+"/"+bootcsum+"/0")
	w.symlink("boot.1.1", "ostree/boot.1")
	kdir := "boot/ostree/" + in.stateroot + "-" + bootcsum
	w.file(kdir+"/vmlinuz-"+simKernel, "simulated kernel "+simKernel+"\n", 0o755)
	w.file(kdir+"/initramfs-"+simKernel+".img", "simulated initramfs\n", 0o644)
	options := append(append([]string(nil), in.kargs...), "ostree=/ostree/boot.1/"+in.stateroot+"/"+bootcsum+"/0")
	w.file("boot/loader.1/entries/ostree-1.conf", fmt.Sprintf(
		"title %s (ostree:0)\nversion 1\noptions %s\nlinux /boot/%s/vmlinuz-%s\ninitrd /boot/%s/initramfs-%s.img\n",
		prettyName(in.source), strings.Join(options, " "), kdir[len("boot/"):], simKernel, kdir[len("boot/"):], simKernel), 0o644)
	w.symlink("loader.1", "boot/loader")

	tag := imageTag(in.source)
	var version any
	if tag != "" {
		version = tag
	}
	image := any(in.source)
	if strings.HasPrefix(in.source, "/tmp") {
		image = nil // bootc leaves out temporary local sources
	}
	labels := obj{{"containers.bootc", "1"}, {"ostree.bootable", "1"}}
	if in.labels != nil {
		labels = nil
		for k, v := range in.labels {
			labels = append(labels, kv{k, v})
		}
	}
	aleph := obj{
		{"digest", in.digest},
		{"kernel", in.kernel},
		{"labels", labels},
		{"selinux", in.selinux},
		{"target-image", in.target},
		{"timestamp", imageCreated(in.source).Format(time.RFC3339)},
		{"version", version},
	}
	if image != nil {
		aleph = append(aleph, kv{"image", image})
	}
	w.file(".bootc-aleph.json", canonJSON(aleph), 0o644)
	return w.err
}

// writeBootloader leaves the files bootupd (or bootctl) would, so a check
// such as Anaconda's "/boot/bootupd-state.json exists" passes.
func writeBootloader(phys, bootloader string) error {
	w := &writer{root: phys}
	_, err := os.Stat(filepath.Join(phys, "boot", "efi"))
	hasESP := err == nil
	switch bootloader {
	case "grub", "grub-cc":
		w.file("boot/bootupd-state.json", `{"installed":{"BIOS":{"meta":{"timestamp":"2026-08-01T00:00:00Z","version":"grub2-2.12-simulated"}},"EFI":{"meta":{"timestamp":"2026-08-01T00:00:00Z","version":"shim-15.8-simulated,grub2-2.12-simulated"}}},"static-configs":{"version":"simulated"}}`, 0o644)
		w.file("boot/grub2/grub.cfg", "# simulated static GRUB configuration (bootupd)\nblscfg\n", 0o644)
		if hasESP {
			for _, f := range []string{"EFI/fedora/shimx64.efi", "EFI/fedora/grubx64.efi", "EFI/BOOT/BOOTX64.EFI", "EFI/BOOT/fbx64.efi"} {
				w.file("boot/efi/"+f, "simulated "+filepath.Base(f)+"\n", 0o644)
			}
			w.file("boot/efi/EFI/fedora/grub.cfg", "# simulated: search for /boot and load its grub.cfg\n", 0o644)
		}
	case "systemd":
		if hasESP {
			w.file("boot/efi/EFI/systemd/systemd-bootx64.efi", "simulated systemd-boot\n", 0o644)
			w.file("boot/efi/EFI/BOOT/BOOTX64.EFI", "simulated systemd-boot\n", 0o644)
			w.file("boot/efi/loader/loader.conf", "timeout 3\n", 0o644)
		}
	}
	return w.err
}
