// Package partition knows disks: inventory, in-use detection, pure layout
// planning, and writing GPT tables with go-diskfs.
package partition

// Disk is what the installer knows about one disk (a block device or a
// disk image file).
type Disk struct {
	// Path is /dev/<name> for a block device, or the image file's path.
	Path string `json:"path"`
	Name string `json:"name"`
	// ImageFile is true when Path is a regular file (demo and tests).
	ImageFile          bool     `json:"image_file,omitempty"`
	SizeBytes          uint64   `json:"size_bytes"`
	LogicalSectorSize  int      `json:"logical_sector_size"`
	PhysicalSectorSize int      `json:"physical_sector_size"`
	Model              string   `json:"model,omitempty"`
	Serial             string   `json:"serial,omitempty"`
	WWN                string   `json:"wwn,omitempty"`
	Transport          string   `json:"transport,omitempty"` // nvme, sata, usb, virtio, mmc, scsi, loop, file
	Rotational         bool     `json:"rotational,omitempty"`
	Removable          bool     `json:"removable,omitempty"`
	ReadOnly           bool     `json:"read_only,omitempty"`
	ByID               []string `json:"by_id,omitempty"`
	ByPath             []string `json:"by_path,omitempty"`
	// Table is "gpt", "mbr" or "" (none found).
	Table      string     `json:"table,omitempty"`
	Partitions []Existing `json:"partitions,omitempty"`
	// Filesystem and Label describe a filesystem written straight onto the
	// whole disk (no partition table), e.g. a "superfloppy" USB stick; such
	// a disk is not empty even though it has no table.
	Filesystem string `json:"filesystem,omitempty"`
	Label      string `json:"label,omitempty"`
	// DiskGUID is the GPT disk GUID (upper-case); a free-space install
	// keeps it, because other systems' boot entries may name it.
	DiskGUID string `json:"disk_guid,omitempty"`
	// GPT describes a damaged or torn GPT: the primary and backup copies
	// disagree or one fails its checksums. Nil when the table is healthy
	// or there is none.
	GPT *GPTHealth `json:"gpt_problem,omitempty"`
	// Systems summarises what is installed on the disk, one line each
	// ("Windows Boot Manager on partition 1", "Fedora Linux 42 on
	// partition 3"), from the partitions' Content.
	Systems []string `json:"systems,omitempty"`
	// Interrupted is set when an earlier uai run was killed while it
	// changed this disk: its journal still holds the original table.
	Interrupted *Interrupted `json:"interrupted,omitempty"`
	// Refusals lists every reason the disk may not be installed to; empty
	// means installable (size is checked against an edition separately).
	Refusals []string `json:"refusals,omitempty"`
}

// Existing is a partition found on a disk.
type Existing struct {
	Index      int    `json:"index"`
	StartBytes uint64 `json:"start_bytes"`
	SizeBytes  uint64 `json:"size_bytes"`
	TypeGUID   string `json:"type_guid,omitempty"`
	// MBRType is the partition type byte ("0x83") on an MBR disk, where
	// there is no type GUID.
	MBRType string `json:"mbr_type,omitempty"`
	Name    string `json:"name,omitempty"`
	// GUID is the partition's unique GUID and Attributes its GPT attribute
	// bits; a free-space install writes both back unchanged (Windows'
	// boot configuration names partitions by GUID).
	GUID       string `json:"guid,omitempty"`
	Attributes uint64 `json:"attributes,omitempty"`
	Filesystem string `json:"filesystem,omitempty"`
	Label      string `json:"label,omitempty"`
	// Content is what uai found inside the filesystem, when it looked.
	Content *Content `json:"content,omitempty"`
}

// EndBytes is the first byte after the partition.
func (e Existing) EndBytes() uint64 { return e.StartBytes + e.SizeBytes }

// Empty reports whether the disk has no partition table, no partitions, no
// whole-disk filesystem and no remains of a damaged GPT: only then may it
// be written without a wipe.
func (d Disk) Empty() bool {
	return d.Table == "" && len(d.Partitions) == 0 && d.Filesystem == "" && d.GPT == nil
}

// Installable reports whether nothing refuses the disk.
func (d Disk) Installable() bool { return len(d.Refusals) == 0 }

// Role is what a planned partition is for.
type Role string

// Partition roles.
const (
	RoleBIOSBoot Role = "bios-boot"
	RoleESP      Role = "esp"
	RoleBoot     Role = "boot"
	RoleRoot     Role = "root"
	// RoleKept is an existing partition a free-space layout keeps as it is.
	RoleKept Role = "kept"
)

// Planned is one partition of a planned layout. Sectors are logical
// sectors of the target disk; End is inclusive (as in GPT).
type Planned struct {
	Index       int    `json:"index"`
	Role        Role   `json:"role"`
	Name        string `json:"name"`      // GPT partition name
	TypeGUID    string `json:"type_guid"` // upper-case GUID
	StartSector uint64 `json:"start_sector"`
	EndSector   uint64 `json:"end_sector"`
	// Filesystem to create: "vfat", "xfs", "ext4", "btrfs" or "" (none).
	Filesystem string `json:"filesystem,omitempty"`
	Label      string `json:"label,omitempty"`
	// Mountpoint inside the target root: "/", "/boot", "/boot/efi" or "".
	Mountpoint string `json:"mountpoint,omitempty"`
	// Keep marks an existing partition the layout leaves alone: its table
	// entry is written back unchanged (GUID, attributes, name) and its
	// contents are never formatted. A reused ESP is kept and mounted.
	Keep       bool   `json:"keep,omitempty"`
	GUID       string `json:"guid,omitempty"`
	Attributes uint64 `json:"attributes,omitempty"`
	// Encrypted puts the filesystem inside LUKS2 (see Layout.Encryption).
	Encrypted bool `json:"encrypted,omitempty"`
}

// Layout kinds.
const (
	// KindWhole replaces whatever is on the disk.
	KindWhole = "whole"
	// KindFree keeps every existing partition and uses free space.
	KindFree = "free"
)

// Layout is a planned partition table for one disk; a pure value.
type Layout struct {
	// Kind is KindWhole or KindFree.
	Kind          string `json:"kind"`
	SectorSize    int    `json:"sector_size"`
	DiskSizeBytes uint64 `json:"disk_size_bytes"`
	// DiskGUID is kept from the existing table by a free-space layout;
	// empty means a new random GUID.
	DiskGUID   string    `json:"disk_guid,omitempty"`
	Partitions []Planned `json:"partitions"`
	// Encryption describes the LUKS2 volume of encrypted partitions.
	Encryption *Encryption `json:"encryption,omitempty"`
	// Notes explain the planner's choices ("reusing the ESP on partition 1:
	// 70 MiB free"), for the plan's text.
	Notes []string `json:"notes,omitempty"`
}
