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
	MBRType    string `json:"mbr_type,omitempty"`
	Name       string `json:"name,omitempty"`
	Filesystem string `json:"filesystem,omitempty"`
	Label      string `json:"label,omitempty"`
}

// Empty reports whether the disk has no partition table, no partitions and
// no whole-disk filesystem: only then may it be written without a wipe.
func (d Disk) Empty() bool { return d.Table == "" && len(d.Partitions) == 0 && d.Filesystem == "" }

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
}

// Layout is a planned partition table for one disk; a pure value.
type Layout struct {
	SectorSize    int       `json:"sector_size"`
	DiskSizeBytes uint64    `json:"disk_size_bytes"`
	Partitions    []Planned `json:"partitions"`
}
