package catalog

import (
	"fmt"
	"slices"
	"strings"
)

// Machine is what Fits needs to know about the machine being installed.
// A zero field means "not known" and is not checked, so a caller that cannot
// tell the firmware still gets the other answers.
type Machine struct {
	// Arch is the OCI architecture name (runtime.GOARCH spelling: amd64,
	// arm64), not uname's x86_64/aarch64.
	Arch string
	// Firmware is how the machine booted: FirmwareUEFI or FirmwareBIOS.
	Firmware string
	// RAMBytes is the memory the kernel reports (MemTotal).
	RAMBytes uint64
	// LargestDiskBytes is the size of the largest disk that could be a
	// target.
	LargestDiskBytes uint64
}

// ramSlackDivisor: MemTotal is smaller than the installed memory by what the
// firmware, the kernel image and integrated graphics keep (a 4 GiB laptop
// reports about 3.7 GiB). Without slack an edition whose minimum is 4 GiB
// would refuse every 4 GiB machine, so RAM down to 7/8 of the minimum fits.
// Disks report their exact size and get no slack.
const ramSlackDivisor = 8

// Fits returns why the edition cannot be installed on m, one reason per
// line, with the sizes involved. An empty result means it fits.
func (e Edition) Fits(m Machine) []string {
	var why []string
	if m.Arch != "" && !slices.Contains(e.Arches, m.Arch) {
		why = append(why, fmt.Sprintf("built for %s; this machine is %s", orList(e.Arches), m.Arch))
	}
	if m.Firmware != "" && !slices.Contains(e.Firmware, m.Firmware) {
		why = append(why, fmt.Sprintf("boots with %s firmware only; this machine started with %s (change the firmware's boot mode, or pick another edition)", orList(e.Firmware), m.Firmware))
	}
	if need := e.MinRAMBytes(); m.RAMBytes != 0 && m.RAMBytes < need-need/ramSlackDivisor {
		why = append(why, fmt.Sprintf("needs %s of RAM; this machine has %s", FormatBytes(need), FormatBytes(m.RAMBytes)))
	}
	if need := e.MinDiskBytes(); m.LargestDiskBytes != 0 && m.LargestDiskBytes < need {
		why = append(why, fmt.Sprintf("needs %s of disk; the largest disk here has %s", FormatBytes(need), FormatBytes(m.LargestDiskBytes)))
	}
	return why
}

func orList(vs []string) string {
	switch len(vs) {
	case 0:
		return "no architecture"
	case 1:
		return vs[0]
	default:
		return strings.Join(vs[:len(vs)-1], ", ") + " or " + vs[len(vs)-1]
	}
}

// FormatBytes writes a size in binary units with at most one decimal,
// rounded down: a disk 1 byte short of 16 GiB shows as "15.9 GiB", never as
// the "16 GiB" it is not.
func FormatBytes(b uint64) string {
	units := []string{"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	u := 0
	for v := b; v >= 1024 && u < len(units)-1; v >>= 10 {
		u++
	}
	if u == 0 {
		return fmt.Sprintf("%d bytes", b)
	}
	unit := uint64(1) << (10 * u)
	whole, frac := b/unit, (b%unit)*10/unit
	if b%unit == 0 || frac == 0 {
		return fmt.Sprintf("%d %s", whole, units[u])
	}
	return fmt.Sprintf("%d.%d %s", whole, frac, units[u])
}
