package partition

// Selector picks exactly one disk by its facts, for answer files. Every set
// field must match; unset fields match anything. The zero Selector matches
// every disk (and so is an error when more than one disk exists).
type Selector struct {
	// Path is a /dev path or a /dev/disk/by-id or by-path link.
	Path   string `json:"path,omitempty" toml:"path"`
	ByID   string `json:"by_id,omitempty" toml:"by_id"`
	Serial string `json:"serial,omitempty" toml:"serial"`
	WWN    string `json:"wwn,omitempty" toml:"wwn"`
	// Model is a shell glob ("Samsung SSD 9*").
	Model string `json:"model,omitempty" toml:"model"`
	// MinSize and MaxSize are sizes like "100GiB", "2TB".
	MinSize   string `json:"min_size,omitempty" toml:"min_size"`
	MaxSize   string `json:"max_size,omitempty" toml:"max_size"`
	Transport string `json:"transport,omitempty" toml:"transport"`
	// Rotational and Removable are tri-state: nil matches both.
	Rotational *bool `json:"rotational,omitempty" toml:"rotational"`
	Removable  *bool `json:"removable,omitempty" toml:"removable"`
	// Largest and Smallest pick among the disks the other rules leave.
	Largest  bool `json:"largest,omitempty" toml:"largest"`
	Smallest bool `json:"smallest,omitempty" toml:"smallest"`
	// Empty requires a disk with no partition table and no filesystem.
	Empty bool `json:"empty,omitempty" toml:"empty"`
	// AllowBootMedium lets the selector match the disk the live system
	// booted from; never set it unless that is really meant.
	AllowBootMedium bool `json:"allow_boot_medium,omitempty" toml:"allow_boot_medium"`
}
