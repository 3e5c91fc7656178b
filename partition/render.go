package partition

import (
	"fmt"
	"strings"
	"text/tabwriter"
)

// typeNames are the names fdisk and sfdisk print, so the summary reads the
// same as the tools a user may check it with.
var typeNames = map[string]string{
	TypeBIOSBoot:      "BIOS boot",
	TypeESP:           "EFI System",
	TypeXBOOTLDR:      "Linux extended boot",
	TypeRootAMD64:     "Linux root (x86-64)",
	TypeRootARM64:     "Linux root (ARM-64)",
	TypeLinuxFS:       "Linux filesystem",
	TypeLinuxSwap:     "Linux swap",
	TypeLinuxLUKS:     "Linux LUKS",
	TypeLinuxLVM:      "Linux LVM",
	TypeLinuxHome:     "Linux home",
	TypeLinuxRAID:     "Linux RAID",
	TypeLinuxReserved: "Linux reserved",
	TypeMSBasicData:   "Microsoft basic data",
	TypeMSReserved:    "Microsoft reserved",
	TypeWinRecovery:   "Windows recovery environment",
}

// TypeName is the human name of a partition type GUID, or the GUID itself
// when it is not a well-known one.
func TypeName(typeGUID string) string {
	if n, ok := typeNames[strings.ToUpper(typeGUID)]; ok {
		return n
	}
	return strings.ToUpper(typeGUID)
}

// Dump renders the layout like `sfdisk --dump`, with the placeholder
// device name "disk" so goldens and plan hashes do not depend on which
// disk it is for. sfdisk accepts the text as a script.
func (l Layout) Dump() string {
	var b strings.Builder
	b.WriteString("label: gpt\n")
	if l.DiskGUID != "" {
		fmt.Fprintf(&b, "label-id: %s\n", strings.ToUpper(l.DiskGUID))
	}
	b.WriteString("device: disk\n")
	b.WriteString("unit: sectors\n")
	if g, err := geometry("disk", l.DiskSizeBytes, l.SectorSize); err == nil && g.lastUsable > 0 {
		fmt.Fprintf(&b, "first-lba: %d\n", g.firstUsable)
		fmt.Fprintf(&b, "last-lba: %d\n", g.lastUsable)
	}
	fmt.Fprintf(&b, "sector-size: %d\n", l.SectorSize)
	b.WriteString("\n")
	for _, p := range l.Partitions {
		fmt.Fprintf(&b, "disk%d : start=%12d, size=%12d, type=%s", p.Index, p.StartSector, p.EndSector-p.StartSector+1, strings.ToUpper(p.TypeGUID))
		if p.GUID != "" {
			fmt.Fprintf(&b, ", uuid=%s", strings.ToUpper(p.GUID))
		}
		fmt.Fprintf(&b, ", name=%q", p.Name)
		if p.Attributes != 0 {
			fmt.Fprintf(&b, ", attrs=%q", attrString(p.Attributes))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// attrString writes GPT attribute bits the way sfdisk dumps them.
func attrString(a uint64) string {
	var out, guid []string
	names := map[int]string{0: "RequiredPartition", 1: "NoBlockIOProtocol", 2: "LegacyBIOSBootable"}
	for bit := 0; bit < 64; bit++ {
		if a&(1<<bit) == 0 {
			continue
		}
		switch {
		case names[bit] != "":
			out = append(out, names[bit])
		case bit >= 48:
			guid = append(guid, fmt.Sprint(bit))
		default:
			out = append(out, fmt.Sprint(bit))
		}
	}
	if len(guid) > 0 {
		out = append(out, "GUID:"+strings.Join(guid, ","))
	}
	return strings.Join(out, " ")
}

// Table renders the layout as a table for people: sizes in MiB/GiB, type
// names instead of GUIDs.
func (l Layout) Table() string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "#\tNAME\tSTART\tSIZE\tTYPE\tFILESYSTEM\tMOUNTPOINT")
	for _, p := range l.Partitions {
		fs := dash(p.Filesystem)
		switch {
		case p.Keep:
			fs += " (kept)"
		case p.Encrypted:
			fs += " in LUKS2"
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", p.Index, dash(p.Name),
			humanBytes(p.StartBytes(l.SectorSize)), humanBytes(p.SizeBytes(l.SectorSize)),
			TypeName(p.TypeGUID), fs, dash(p.Mountpoint))
	}
	w.Flush()
	out := strings.TrimRight(b.String(), " \n") + "\n"
	for _, n := range l.Notes {
		out += "The layout " + n + ".\n"
	}
	if e := l.Encryption; e != nil {
		unlock := "unlocked at boot by typing the passphrase"
		if e.TPM2 {
			unlock = "unlocked at boot by the TPM2; the passphrase stays as the recovery passphrase"
		}
		out += fmt.Sprintf("Root is encrypted with LUKS2 (UUID %s), %s; /boot stays unencrypted so the boot loader can read the kernels.\n", e.UUID, unlock)
	}
	return out
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// humanBytes prints n in MiB below 1 GiB, GiB below 1 TiB and TiB
// above, with one decimal only when the value is not whole.
func humanBytes(n uint64) string {
	unit, name := MiB, "MiB"
	switch {
	case n >= 1024*GiB:
		unit, name = 1024*GiB, "TiB"
	case n >= GiB:
		unit, name = GiB, "GiB"
	}
	if n < MiB {
		return fmt.Sprintf("%d bytes", n)
	}
	if n%unit == 0 {
		return fmt.Sprintf("%d %s", n/unit, name)
	}
	return fmt.Sprintf("%.1f %s", float64(n)/float64(unit), name)
}
