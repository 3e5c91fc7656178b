package partition

import (
	"fmt"
	"sort"
	"strings"
)

// MinESPFreeBytes is the free space an existing ESP needs to be reused.
// bootupd puts about 7 MiB there (shim, GRUB, MokManager and the fallback
// loader for one distribution) and an update writes the new files before
// it removes the old, so it needs about twice that at once; 32 MiB leaves
// room to spare. A default Windows ESP (100 MiB, about 70 MiB free) is
// reused; a fuller one gets a new ESP beside it.
const MinESPFreeBytes = 32 * MiB

// FreeSpaceOptions chooses the variant of the free-space (dual boot)
// layout.
type FreeSpaceOptions struct {
	// Arch is the OCI architecture of the image: "amd64" or "arm64".
	Arch string
	// RootFilesystem is "xfs", "ext4" or "btrfs".
	RootFilesystem string
	// RootSizeBytes is the size of root; 0 uses the rest of the region.
	RootSizeBytes uint64
	// SeparateBoot adds a 1 GiB /boot (XBOOTLDR) partition.
	SeparateBoot bool
	// ESPSizeBytes is the size of a new ESP (when none can be reused); 0
	// means 512 MiB.
	ESPSizeBytes uint64
	// Encryption, when set, puts root inside LUKS2; it needs SeparateBoot.
	Encryption *Encryption
	// MinBytes is the least room the new partitions must have in total
	// (the edition's minimum disk size); 0 means the planner's own minimum.
	MinBytes uint64
}

// Region is a free, 1 MiB-aligned stretch of a disk, in logical sectors
// (End inclusive).
type Region struct {
	StartSector uint64 `json:"start_sector"`
	EndSector   uint64 `json:"end_sector"`
}

// Sectors is the region's length in sectors.
func (r Region) Sectors() uint64 { return r.EndSector - r.StartSector + 1 }

// FreeRegions lists the free, 1 MiB-aligned regions of at least 1 MiB
// between the existing partitions of a GPT (or blank) disk, in disk order.
func FreeRegions(d Disk) ([]Region, error) {
	name := firstNonEmpty(d.Path, d.Name, "(unnamed)")
	g, err := geometry(name, d.SizeBytes, d.LogicalSectorSize)
	if err != nil {
		return nil, err
	}
	if g.lastUsable == 0 {
		return nil, nil
	}
	type span struct{ start, end uint64 }
	var used []span
	for _, p := range d.Partitions {
		if p.StartBytes%g.sectorSize != 0 || p.SizeBytes%g.sectorSize != 0 || p.SizeBytes == 0 {
			return nil, fmt.Errorf("disk %s: partition %d (%d bytes at byte %d) is not a whole number of %d-byte sectors; the disk's sector size does not match its table",
				name, p.Index, p.SizeBytes, p.StartBytes, g.sectorSize)
		}
		used = append(used, span{p.StartBytes / g.sectorSize, (p.StartBytes+p.SizeBytes)/g.sectorSize - 1})
	}
	sort.Slice(used, func(i, j int) bool { return used[i].start < used[j].start })
	var out []Region
	add := func(from, to uint64) { // to is inclusive
		start := ceilDiv(from, g.align) * g.align
		if to+1 < g.align {
			return
		}
		end := (to+1)/g.align*g.align - 1
		if end >= start && end-start+1 >= g.align {
			out = append(out, Region{StartSector: start, EndSector: end})
		}
	}
	next := g.firstUsable
	for _, u := range used {
		if u.start > next {
			add(next, u.start-1)
		}
		if u.end+1 > next {
			next = u.end + 1
		}
	}
	if next <= g.lastUsable {
		add(next, g.lastUsable)
	}
	return out, nil
}

// PlanFreeSpace plans a dual-boot install into the free space of d: every
// existing partition is kept (table entry and contents), an existing ESP
// is reused when it has MinESPFreeBytes free, otherwise a new ESP is made;
// the new partitions go, in order, into the largest free region. Free-space
// layouts are for UEFI machines (the system being kept boots by UEFI from
// GPT), so no BIOS boot partition is added. It is pure: it reads only d.
func PlanFreeSpace(d Disk, o FreeSpaceOptions) (Layout, error) {
	name := firstNonEmpty(d.Path, d.Name, "(unnamed)")
	rootType, ok := rootTypes[o.Arch]
	if !ok {
		return Layout{}, fmt.Errorf("architecture %q is not supported by the free-space layout; use amd64 or arm64", o.Arch)
	}
	if !rootFilesystems[o.RootFilesystem] {
		return Layout{}, fmt.Errorf("root filesystem %q is not supported; use xfs, ext4 or btrfs", o.RootFilesystem)
	}
	if err := checkEncryption(o.Encryption, o.SeparateBoot); err != nil {
		return Layout{}, err
	}
	switch {
	case d.GPT != nil:
		return Layout{}, fmt.Errorf("disk %s has a damaged partition table: %s; repair it first (gdisk, or the other system's tools) so uai can tell which partitions to keep, or install to the whole disk", name, d.GPT.Explanation)
	case d.Table == "mbr":
		return Layout{}, fmt.Errorf("disk %s has an MBR (DOS) partition table; a free-space install keeps the other system and needs GPT, which uai will not convert to under it; install to the whole disk or another disk", name)
	case d.Table == "" && d.Filesystem != "":
		return Layout{}, fmt.Errorf("disk %s holds a %s filesystem on the whole disk, with no partition table and so no free space; install to the whole disk (wiping it) or another disk", name, d.Filesystem)
	case d.Table != "" && d.Table != "gpt":
		return Layout{}, fmt.Errorf("disk %s has a %q partition table, which uai cannot keep", name, d.Table)
	}
	g, err := geometry(name, d.SizeBytes, d.LogicalSectorSize)
	if err != nil {
		return Layout{}, err
	}
	ss := g.sectorSize
	regions, err := FreeRegions(d)
	if err != nil {
		return Layout{}, err
	}

	var notes []string
	var parts []Planned
	used := map[int]bool{}
	var reuse *Existing
	for i := range d.Partitions {
		p := d.Partitions[i]
		used[p.Index] = true
		pl := Planned{
			Index: p.Index, Role: RoleKept, Name: p.Name, TypeGUID: strings.ToUpper(p.TypeGUID),
			StartSector: p.StartBytes / ss, EndSector: (p.StartBytes+p.SizeBytes)/ss - 1,
			Filesystem: p.Filesystem, Label: p.Label, Keep: true, GUID: strings.ToUpper(p.GUID), Attributes: p.Attributes,
		}
		if strings.EqualFold(p.TypeGUID, TypeESP) {
			why := espUnfit(p)
			switch {
			case why == "" && reuse == nil:
				reuse = &d.Partitions[i]
				pl.Role, pl.Mountpoint = RoleESP, "/boot/efi"
				notes = append(notes, fmt.Sprintf("reuses the ESP on partition %d: %s free, and the boot loader needs %s", p.Index, humanBytes(p.Content.FreeBytes), humanBytes(MinESPFreeBytes)))
			case why == "":
				notes = append(notes, fmt.Sprintf("leaves the second ESP on partition %d alone", p.Index))
			default:
				notes = append(notes, fmt.Sprintf("does not reuse the ESP on partition %d: %s", p.Index, why))
			}
		}
		parts = append(parts, pl)
	}
	if len(d.Partitions) > 0 {
		notes = append([]string{fmt.Sprintf("keeps all %d existing partitions unchanged", len(d.Partitions))}, notes...)
	}

	// the new partitions, in order, in the largest free region
	var wants []newPart
	if reuse == nil {
		esp := o.ESPSizeBytes
		if esp == 0 {
			esp = DefaultESPSizeBytes
		}
		if minESP := ceilDiv(65536*ss+MiB, MiB) * MiB; esp < minESP {
			return Layout{}, fmt.Errorf("esp size %s is too small for FAT32 on %d-byte sectors; use at least %s", humanBytes(esp), ss, humanBytes(minESP))
		}
		wants = append(wants, newPart{RoleESP, "EFI-SYSTEM", TypeESP, "vfat", "EFI-SYSTEM", "/boot/efi", esp})
		if len(d.Partitions) > 0 {
			notes = append(notes, fmt.Sprintf("creates a new %s ESP", humanBytes(esp)))
		}
	}
	if o.SeparateBoot {
		wants = append(wants, newPart{RoleBoot, "boot", TypeXBOOTLDR, o.RootFilesystem, "boot", "/boot", BootSizeBytes})
	}
	var fixed uint64 // sectors before root
	for _, w := range wants {
		fixed += ceilDiv(ceilDiv(w.bytes, ss), g.align) * g.align
	}
	minRoot := MinRootSizeBytes
	if o.MinBytes > fixed*ss && o.MinBytes-fixed*ss > minRoot {
		minRoot = o.MinBytes - fixed*ss
	}
	if o.RootSizeBytes > 0 && o.RootSizeBytes < MinRootSizeBytes {
		return Layout{}, fmt.Errorf("root size %s (%d bytes) is smaller than the minimum %s; give at least %d bytes or 0 for the rest of the free space",
			humanBytes(o.RootSizeBytes), o.RootSizeBytes, humanBytes(MinRootSizeBytes), MinRootSizeBytes)
	}
	rootSectors := ceilDiv(ceilDiv(max(o.RootSizeBytes, minRoot), ss), g.align) * g.align
	need := fixed + rootSectors

	var best Region
	for _, r := range regions {
		if r.Sectors() > best.Sectors() || best.EndSector == 0 {
			best = r
		}
	}
	if best.EndSector == 0 || best.Sectors() < need {
		return Layout{}, tooSmall(name, regions, best, need*ss, wants, rootSectors*ss, o, ss)
	}

	next := best.StartSector
	for _, w := range wants {
		sectors := ceilDiv(ceilDiv(w.bytes, ss), g.align) * g.align
		parts = append(parts, Planned{Index: freeIndex(used), Role: w.role, Name: w.name, TypeGUID: w.typ,
			StartSector: next, EndSector: next + sectors - 1, Filesystem: w.fs, Label: w.l, Mountpoint: w.m})
		next += sectors
	}
	rootEnd := best.EndSector
	if o.RootSizeBytes > 0 {
		rootEnd = next + ceilDiv(ceilDiv(o.RootSizeBytes, ss), g.align)*g.align - 1
	}
	parts = append(parts, Planned{Index: freeIndex(used), Role: RoleRoot, Name: "root", TypeGUID: rootType,
		StartSector: next, EndSector: rootEnd, Filesystem: o.RootFilesystem, Label: "root", Mountpoint: "/",
		Encrypted: o.Encryption != nil})
	notes = append(notes, fmt.Sprintf("puts the new partitions in the largest free region, %s at %s", humanBytes(best.Sectors()*ss), humanBytes(best.StartSector*ss)))
	sort.Slice(parts, func(i, j int) bool { return parts[i].Index < parts[j].Index })
	l := Layout{Kind: KindFree, SectorSize: int(ss), DiskSizeBytes: d.SizeBytes, DiskGUID: strings.ToUpper(d.DiskGUID),
		Partitions: parts, Encryption: o.Encryption, Notes: notes}
	if _, err := l.validate(); err != nil {
		return Layout{}, fmt.Errorf("plan free space on %s: %w", name, err)
	}
	return l, nil
}

// espUnfit says why an existing ESP cannot be reused; "" when it can.
func espUnfit(p Existing) string {
	switch {
	case p.Filesystem != "vfat":
		return fmt.Sprintf("it holds %s, not FAT", orWord(p.Filesystem, "no filesystem uai recognises"))
	case p.Content == nil || !p.Content.Inspected:
		note := "it could not be read"
		if p.Content != nil && p.Content.Note != "" {
			note = p.Content.Note
		}
		return note
	case p.Content.FreeBytes < MinESPFreeBytes:
		return fmt.Sprintf("only %s free, and the boot loader needs %s", humanBytes(p.Content.FreeBytes), humanBytes(MinESPFreeBytes))
	}
	return ""
}

func orWord(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

// freeIndex takes the lowest unused partition number.
func freeIndex(used map[int]bool) int {
	for i := 1; i <= 128; i++ {
		if !used[i] {
			used[i] = true
			return i
		}
	}
	return 129 // validate reports it: a GPT holds 128
}

// newPart is a partition a free-space layout adds before root.
type newPart struct {
	role                Role
	name, typ, fs, l, m string
	bytes               uint64
}

func tooSmall(name string, regions []Region, best Region, needBytes uint64, wants []newPart, rootBytes uint64, o FreeSpaceOptions, ss uint64) error {
	var needs []string
	for _, w := range wants {
		needs = append(needs, fmt.Sprintf("%s %s", w.name, humanBytes(ceilDiv(w.bytes, MiB)*MiB)))
	}
	needs = append(needs, "root "+humanBytes(rootBytes))
	have := "there is no free space"
	if best.EndSector > 0 {
		have = fmt.Sprintf("the largest free region is %s (%d bytes, sectors %d-%d)", humanBytes(best.Sectors()*ss), best.Sectors()*ss, best.StartSector, best.EndSector)
	}
	var others []string
	for _, r := range regions {
		if r != best {
			others = append(others, humanBytes(r.Sectors()*ss))
		}
	}
	more := ""
	if len(others) > 0 {
		more = fmt.Sprintf(" (other free regions: %s; the partitions must share one region)", strings.Join(others, ", "))
	}
	fix := "free more space (shrink a partition, e.g. Windows' Disk Management > Shrink Volume) or install to the whole disk"
	if o.RootSizeBytes > 0 {
		fix = "give a smaller root size, or " + fix
	}
	return fmt.Errorf("disk %s has too little free space: the install needs %s (%d bytes: %s) but %s%s; %s",
		name, humanBytes(needBytes), needBytes, strings.Join(needs, ", "), have, more, fix)
}
