package partition

import (
	"fmt"
	"strings"
)

// Partition type GUIDs the plans use (upper-case, as GPT tools print them).
const (
	TypeBIOSBoot      = "21686148-6449-6E6F-744E-656564454649"
	TypeESP           = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
	TypeXBOOTLDR      = "BC13C2FF-59E6-4262-A352-B275FD6F7172"
	TypeRootAMD64     = "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709"
	TypeRootARM64     = "B921B045-1DF0-41C3-AF44-4C6F280D3FAE"
	TypeLinuxFS       = "0FC63DAF-8483-4772-8E79-3D69D8477DE4"
	TypeLinuxSwap     = "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F"
	TypeLinuxLUKS     = "CA7D7CCB-63ED-4C53-861C-1742536059CC"
	TypeLinuxLVM      = "E6D6D379-F507-44C2-A23C-238F2A3DF928"
	TypeMSBasicData   = "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7"
	TypeMSReserved    = "E3C9E316-0B5C-4DB8-817D-F92DF00215AE"
	TypeWinRecovery   = "DE94BBA4-06D1-4D40-A16A-BFD50179D6AC"
	TypeLinuxHome     = "933AC7E1-2EB4-4F13-B844-0E14E2AEF915"
	TypeLinuxRAID     = "A19D880F-05FC-4D3B-A006-743F0F84911E"
	TypeLinuxReserved = "8DA63339-0007-60C0-C436-083AC8230908"
)

// Sizes of the whole-disk layout. They follow what `bootc install to-disk`
// makes (BIOS boot 1 MiB, ESP 512 MiB), so a to-filesystem install looks
// the same as one bootc would have partitioned itself.
const (
	MiB = uint64(1) << 20
	GiB = uint64(1) << 30

	// AlignBytes is the alignment of every partition start and of the end
	// of root: 1 MiB suits every SSD erase block and 4K-sector disk.
	AlignBytes = MiB
	// BIOSBootSizeBytes holds GRUB's core.img on x86 BIOS machines.
	BIOSBootSizeBytes = MiB
	// DefaultESPSizeBytes is bootc's ESP size.
	DefaultESPSizeBytes = 512 * MiB
	// BootSizeBytes is the separate /boot (XBOOTLDR): room for several
	// deployments' kernels and initramfs images.
	BootSizeBytes = GiB
	// MinRootSizeBytes is the smallest root the plan accepts: no bootc
	// image fits in less, and it stays above every mkfs minimum (mkfs.xfs
	// refuses filesystems under 300 MB).
	MinRootSizeBytes = GiB
)

// gptEntriesBytes is the size of the partition entry array every GPT tool
// writes: 128 entries of 128 bytes.
const gptEntriesBytes = 128 * 128

// WholeDiskOptions chooses the variant of the whole-disk layout.
type WholeDiskOptions struct {
	// Arch is the OCI architecture of the image: "amd64" or "arm64".
	Arch string
	// RootFilesystem is "xfs", "ext4" or "btrfs"; a separate /boot gets
	// the same filesystem, as bootc does.
	RootFilesystem string
	// RootSizeBytes is the size of root; 0 uses the rest of the disk.
	RootSizeBytes uint64
	// SeparateBoot adds a 1 GiB /boot (XBOOTLDR) partition, needed when
	// root is encrypted so the boot loader can read the kernels.
	SeparateBoot bool
	// ESPSizeBytes is the size of the ESP; 0 means 512 MiB.
	ESPSizeBytes uint64
	// Encryption, when set, puts root inside LUKS2; it needs SeparateBoot.
	Encryption *Encryption
}

// rootTypes maps OCI architectures to the Discoverable Partitions
// Specification root type, which lets systemd find root without root=.
var rootTypes = map[string]string{
	"amd64": TypeRootAMD64,
	"arm64": TypeRootARM64,
}

var rootFilesystems = map[string]bool{"xfs": true, "ext4": true, "btrfs": true}

// gptGeometry is where a GPT may put partitions on a disk.
type gptGeometry struct {
	sectorSize   uint64
	totalSectors uint64
	// align is AlignBytes in sectors.
	align uint64
	// backupSectors is the backup header plus its entry array at the end.
	backupSectors uint64
	// firstUsable and lastUsable are the GPT header's usable LBAs.
	firstUsable, lastUsable uint64
}

func geometry(diskName string, sizeBytes uint64, sectorSize int) (gptGeometry, error) {
	if sectorSize != 512 && sectorSize != 4096 {
		return gptGeometry{}, fmt.Errorf("disk %s: logical sector size %d bytes is not supported; only 512 and 4096 are (check queue/logical_block_size, or pass 512 or 4096 for an image file)", diskName, sectorSize)
	}
	ss := uint64(sectorSize)
	entries := uint64(gptEntriesBytes) / ss
	g := gptGeometry{
		sectorSize:    ss,
		totalSectors:  sizeBytes / ss,
		align:         AlignBytes / ss,
		backupSectors: 1 + entries,
		firstUsable:   2 + entries,
	}
	// a disk too small for two GPTs keeps lastUsable 0; callers compare
	// sizes before they use it
	if g.totalSectors > g.firstUsable+g.backupSectors {
		g.lastUsable = g.totalSectors - 1 - g.backupSectors
	}
	return g, nil
}

func ceilDiv(a, b uint64) uint64 { return (a + b - 1) / b }

// PlanWholeDisk plans the layout bootc itself would make on a wiped disk:
// [BIOS boot on amd64], ESP, [/boot], root. It is pure: it only reads d's
// name, size and logical sector size.
func PlanWholeDisk(d Disk, o WholeDiskOptions) (Layout, error) {
	name := firstNonEmpty(d.Path, d.Name, "(unnamed)")
	rootType, ok := rootTypes[o.Arch]
	if !ok {
		return Layout{}, fmt.Errorf("architecture %q is not supported by the whole-disk layout; use amd64 or arm64", o.Arch)
	}
	if !rootFilesystems[o.RootFilesystem] {
		return Layout{}, fmt.Errorf("root filesystem %q is not supported; use xfs, ext4 or btrfs", o.RootFilesystem)
	}
	if err := checkEncryption(o.Encryption, o.SeparateBoot); err != nil {
		return Layout{}, err
	}
	g, err := geometry(name, d.SizeBytes, d.LogicalSectorSize)
	if err != nil {
		return Layout{}, err
	}
	ss := g.sectorSize

	espBytes := o.ESPSizeBytes
	if espBytes == 0 {
		espBytes = DefaultESPSizeBytes
	}
	// FAT32 needs at least 65525 clusters of at least one sector each;
	// below that mkfs.fat -F 32 refuses, and firmware may not read FAT16.
	minESP := ceilDiv(65536*ss+MiB, MiB) * MiB
	if espBytes < minESP {
		return Layout{}, fmt.Errorf("esp size %s is too small for FAT32 on %d-byte sectors; use at least %s (or 0 for the default %s)",
			humanBytes(espBytes), ss, humanBytes(minESP), humanBytes(DefaultESPSizeBytes))
	}

	var parts []Planned
	next := g.align // the first 1 MiB holds the MBR and primary GPT
	add := func(role Role, name, typ string, bytes uint64, fs, label, mnt string) {
		// round every size up to the alignment so the next start is aligned
		sectors := ceilDiv(ceilDiv(bytes, ss), g.align) * g.align
		parts = append(parts, Planned{
			Index: len(parts) + 1, Role: role, Name: name, TypeGUID: typ,
			StartSector: next, EndSector: next + sectors - 1,
			Filesystem: fs, Label: label, Mountpoint: mnt,
		})
		next += sectors
	}
	if o.Arch == "amd64" {
		add(RoleBIOSBoot, "BIOS-BOOT", TypeBIOSBoot, BIOSBootSizeBytes, "", "", "")
	}
	add(RoleESP, "EFI-SYSTEM", TypeESP, espBytes, "vfat", "EFI-SYSTEM", "/boot/efi")
	if o.SeparateBoot {
		add(RoleBoot, "boot", TypeXBOOTLDR, BootSizeBytes, o.RootFilesystem, "boot", "/boot")
	}

	rootStart := next
	minRootSectors := MinRootSizeBytes / ss
	if g.totalSectors < rootStart+minRootSectors+g.backupSectors {
		need := (rootStart + minRootSectors + g.backupSectors) * ss
		return Layout{}, fmt.Errorf("disk %s is too small for the layout: it needs at least %s (%d bytes: %s before root, a %s root and the backup GPT) but has %s (%d bytes); choose a larger disk%s",
			name, humanBytes(need), need, humanBytes(rootStart*ss), humanBytes(MinRootSizeBytes), humanBytes(d.SizeBytes), d.SizeBytes, smallerHint(o))
	}
	// root ends on a 1 MiB boundary before the backup GPT; rootLimit is
	// the first sector root may not use
	rootLimit := (g.lastUsable + 1) / g.align * g.align
	free := (rootLimit - rootStart) * ss
	rootEnd := rootLimit - 1
	if o.RootSizeBytes > 0 {
		if o.RootSizeBytes < MinRootSizeBytes {
			return Layout{}, fmt.Errorf("root size %s (%d bytes) is smaller than the minimum %s; give at least %d bytes or 0 for the rest of the disk",
				humanBytes(o.RootSizeBytes), o.RootSizeBytes, humanBytes(MinRootSizeBytes), MinRootSizeBytes)
		}
		sectors := ceilDiv(ceilDiv(o.RootSizeBytes, ss), g.align) * g.align
		if rootStart+sectors > rootLimit {
			return Layout{}, fmt.Errorf("root size %s (%d bytes) is larger than the free space on disk %s, %s (%d bytes); give a smaller root size or 0 for the rest of the disk",
				humanBytes(o.RootSizeBytes), o.RootSizeBytes, name, humanBytes(free), free)
		}
		rootEnd = rootStart + sectors - 1
	}
	parts = append(parts, Planned{
		Index: len(parts) + 1, Role: RoleRoot, Name: "root", TypeGUID: rootType,
		StartSector: rootStart, EndSector: rootEnd,
		Filesystem: o.RootFilesystem, Label: "root", Mountpoint: "/",
		Encrypted: o.Encryption != nil,
	})
	return Layout{Kind: KindWhole, SectorSize: int(ss), DiskSizeBytes: d.SizeBytes, Partitions: parts, Encryption: o.Encryption}, nil
}

// checkEncryption: an encrypted root needs /boot outside it, because the
// boot loader (GRUB via bootupd) reads kernels from an unencrypted /boot.
func checkEncryption(e *Encryption, separateBoot bool) error {
	if e == nil {
		return nil
	}
	if err := e.validate(); err != nil {
		return err
	}
	if !separateBoot {
		return fmt.Errorf("an encrypted root needs a separate /boot, which the boot loader can read; turn on the separate /boot")
	}
	return nil
}

func smallerHint(o WholeDiskOptions) string {
	var h []string
	if o.SeparateBoot {
		h = append(h, "drop the separate /boot")
	}
	if o.ESPSizeBytes > DefaultESPSizeBytes {
		h = append(h, "use the default ESP size")
	}
	if len(h) == 0 {
		return ""
	}
	return " or " + strings.Join(h, " and ")
}

// Find returns the first planned partition with role r.
func (l Layout) Find(r Role) (Planned, bool) {
	for _, p := range l.Partitions {
		if p.Role == r {
			return p, true
		}
	}
	return Planned{}, false
}

// SizeBytes is the partition's size for a disk with sectorSize-byte
// logical sectors.
func (p Planned) SizeBytes(sectorSize int) uint64 {
	if p.EndSector < p.StartSector {
		return 0
	}
	return (p.EndSector - p.StartSector + 1) * uint64(sectorSize)
}

// StartBytes is the partition's byte offset on the disk.
func (p Planned) StartBytes(sectorSize int) uint64 {
	return p.StartSector * uint64(sectorSize)
}

// validate checks what Apply and Verify rely on, so a hand-built or
// decoded Layout fails with a reason instead of a corrupt table.
func (l Layout) validate() (gptGeometry, error) {
	g, err := geometry("in the layout", l.DiskSizeBytes, l.SectorSize)
	if err != nil {
		return g, err
	}
	if g.lastUsable == 0 {
		return g, fmt.Errorf("layout is for a %d-byte disk, too small for a GPT; plan it for the real disk", l.DiskSizeBytes)
	}
	if len(l.Partitions) == 0 {
		return g, fmt.Errorf("layout has no partitions; plan one with PlanWholeDisk")
	}
	if len(l.Partitions) > 128 {
		return g, fmt.Errorf("layout has %d partitions; a GPT holds at most 128", len(l.Partitions))
	}
	seen := map[int]bool{}
	var problems []string
	if l.Kind != "" && l.Kind != KindWhole && l.Kind != KindFree {
		problems = append(problems, fmt.Sprintf("kind %q is neither %s nor %s", l.Kind, KindWhole, KindFree))
	}
	if l.DiskGUID != "" && !isGUID(l.DiskGUID) {
		problems = append(problems, fmt.Sprintf("disk GUID %q is not a GUID", l.DiskGUID))
	}
	if l.Encryption != nil {
		if err := l.Encryption.validate(); err != nil {
			problems = append(problems, err.Error())
		}
	}
	for i, p := range l.Partitions {
		if p.GUID != "" && !isGUID(p.GUID) {
			problems = append(problems, fmt.Sprintf("partition %d has GUID %q, which is not a GUID", p.Index, p.GUID))
		}
		if p.Keep && p.GUID == "" {
			problems = append(problems, fmt.Sprintf("partition %d is kept but has no GUID to keep", p.Index))
		}
		if p.Encrypted && l.Encryption == nil {
			problems = append(problems, fmt.Sprintf("partition %d is encrypted but the layout has no encryption", p.Index))
		}
		switch {
		case p.Index < 1 || p.Index > 128:
			problems = append(problems, fmt.Sprintf("partition %d has index %d outside 1..128", i+1, p.Index))
		case seen[p.Index]:
			problems = append(problems, fmt.Sprintf("partition index %d appears twice", p.Index))
		}
		seen[p.Index] = true
		if p.StartSector < g.firstUsable || p.EndSector > g.lastUsable || p.EndSector < p.StartSector {
			problems = append(problems, fmt.Sprintf("partition %d (sectors %d-%d) is outside the usable sectors %d-%d", p.Index, p.StartSector, p.EndSector, g.firstUsable, g.lastUsable))
		}
		if !isGUID(p.TypeGUID) {
			problems = append(problems, fmt.Sprintf("partition %d has type %q, which is not a GUID", p.Index, p.TypeGUID))
		}
		if n := len([]rune(p.Name)); n > 36 {
			problems = append(problems, fmt.Sprintf("partition %d name %q has %d characters; GPT allows 36", p.Index, p.Name, n))
		}
		for _, q := range l.Partitions[:i] {
			if p.StartSector <= q.EndSector && q.StartSector <= p.EndSector {
				problems = append(problems, fmt.Sprintf("partitions %d and %d overlap", q.Index, p.Index))
			}
		}
	}
	if len(problems) > 0 {
		return g, fmt.Errorf("layout is invalid: %s; plan it again with PlanWholeDisk", strings.Join(problems, "; "))
	}
	return g, nil
}

func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
	}
	return true
}
