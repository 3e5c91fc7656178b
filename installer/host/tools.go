package host

// Tool is the logical name of an external program. Every program uai runs
// is named here and nowhere else.
type Tool string

// Every external program uai runs.
const (
	Bootc     Tool = "bootc"
	Podman    Tool = "podman"
	MkfsFat   Tool = "mkfs.fat"
	MkfsXFS   Tool = "mkfs.xfs"
	MkfsExt4  Tool = "mkfs.ext4"
	MkfsBtrfs Tool = "mkfs.btrfs"
	Mount     Tool = "mount"
	Umount    Tool = "umount"
	Losetup   Tool = "losetup"
	Partx     Tool = "partx"
	Udevadm   Tool = "udevadm"
	Fusefat   Tool = "fusefat"
	Sync      Tool = "sync"
	Wipefs    Tool = "wipefs"
	// Cryptsetup formats, opens and closes LUKS2 volumes.
	Cryptsetup Tool = "cryptsetup"
	// SystemdCryptenroll enrols a TPM2 into a LUKS2 volume.
	SystemdCryptenroll Tool = "systemd-cryptenroll"
	// Efibootmgr lists the firmware's boot entries after a UEFI install.
	Efibootmgr Tool = "efibootmgr"
)

var packages = map[Tool]string{
	Bootc:     "bootc",
	Podman:    "podman",
	MkfsFat:   "dosfstools",
	MkfsXFS:   "xfsprogs",
	MkfsExt4:  "e2fsprogs",
	MkfsBtrfs: "btrfs-progs",
	Mount:     "mount",
	Umount:    "mount",
	Losetup:   "mount",
	Partx:     "util-linux",
	Udevadm:   "udev",
	Fusefat:   "fusefat",
	Sync:      "coreutils",
	Wipefs:    "util-linux",
	// Debian 12 ships systemd-cryptenroll in systemd itself; later
	// releases split it into systemd-cryptsetup.
	Cryptsetup:         "cryptsetup-bin",
	SystemdCryptenroll: "systemd",
	Efibootmgr:         "efibootmgr",
}

// Package is the Debian package that ships the tool, for error messages.
func (t Tool) Package() string {
	if p, ok := packages[t]; ok {
		return p
	}
	return string(t)
}

// MkfsFor returns the mkfs tool for a root filesystem type.
func MkfsFor(fs string) (Tool, bool) {
	switch fs {
	case "xfs":
		return MkfsXFS, true
	case "ext4":
		return MkfsExt4, true
	case "btrfs":
		return MkfsBtrfs, true
	}
	return "", false
}
