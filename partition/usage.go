package partition

import (
	"fmt"
	"strings"
)

// LiveLabel is the volume label of the uai live ISO. A disk holding a
// volume with this label (or one starting with it, such as
// UAI_LIVE_1_2) is the live medium and is refused like the disk the
// running system booted from.
const LiveLabel = "UAI_LIVE"

// bootMediumPrefix starts every refusal that marks the boot medium, so a
// selector's AllowBootMedium can set exactly those aside.
const bootMediumPrefix = "boot medium: "

// usage is what the running system does with a disk and its partitions,
// gathered from the kernel (Scan) or a machine fixture (LoadMachine), so
// both apply the same rules.
type usage struct {
	boot    bool
	mounts  map[string][]string // device name -> mount points, in mount order
	swaps   map[string]bool     // device names in use as swap
	holders map[string][]string // device name -> "dm-0 (LVM/device-mapper, vg0-root)"
}

// refusalsFor lists every reason d may not be installed to. devices is
// the disk's own name followed by its partitions' names.
func refusalsFor(d Disk, devices []string, u usage) []string {
	var out []string
	if u.boot {
		out = append(out, bootMediumPrefix+"the live system booted from it")
	}
	for _, dev := range devices {
		if points := u.mounts[dev]; len(points) > 0 {
			r := fmt.Sprintf("mounted: %s is mounted at %s", dev, points[0])
			if len(points) > 1 {
				r += fmt.Sprintf(" (and %d more)", len(points)-1)
			}
			out = append(out, r)
		}
	}
	for _, dev := range devices {
		if u.swaps[dev] {
			out = append(out, fmt.Sprintf("swap: %s is in use as swap", dev))
		}
	}
	for _, dev := range devices {
		for _, h := range u.holders[dev] {
			r := "held by " + h
			if dev != d.Name {
				r += " through " + dev
			}
			out = append(out, r)
		}
	}
	if d.ReadOnly {
		out = append(out, "read-only: the kernel marks "+d.Name+" read-only (a write-protect switch or a read-only device)")
	}
	if d.SizeBytes == 0 {
		out = append(out, "no medium: the kernel reports size 0; insert a medium or choose another disk")
	}
	if strings.HasPrefix(d.Name, "sr") {
		out = append(out, "optical drive: it cannot be installed to")
	}
	return out
}

// liveLabelRefusal refuses a disk that carries a volume labelled like the
// live ISO, unless it is already refused as the boot medium. This catches
// the live USB stick when the kernel's view does not (a live system
// copied to RAM, or booted with its root elsewhere).
func liveLabelRefusal(d *Disk, labels []string) {
	if d.BootMedium() {
		return
	}
	check := []string{d.Label}
	for _, p := range d.Partitions {
		check = append(check, p.Label)
	}
	for _, l := range check {
		if l != "" && isLiveLabel(l, labels) {
			d.Refusals = append([]string{bootMediumPrefix + "it holds the uai live system (volume label " + l + ")"}, d.Refusals...)
			return
		}
	}
}

func isLiveLabel(label string, extra []string) bool {
	if strings.HasPrefix(strings.ToUpper(label), LiveLabel) {
		return true
	}
	for _, e := range extra {
		if e != "" && strings.EqualFold(label, e) {
			return true
		}
	}
	return false
}

// liveLabelsFromCmdline reads the live root's label from a kernel command
// line (dracut's root=live:CDLABEL=X or root=live:LABEL=X), so a live
// ISO built under another label is still recognised.
func liveLabelsFromCmdline(cmdline string) []string {
	var out []string
	for _, f := range strings.Fields(cmdline) {
		rest, ok := strings.CutPrefix(f, "root=live:")
		if !ok {
			continue
		}
		for _, p := range []string{"CDLABEL=", "LABEL="} {
			if l, ok := strings.CutPrefix(rest, p); ok && l != "" {
				out = append(out, strings.ReplaceAll(l, `\x20`, " "))
			}
		}
	}
	return out
}

// BootMedium reports whether d is refused as the medium the live system
// runs from.
func (d Disk) BootMedium() bool {
	for _, r := range d.Refusals {
		if strings.HasPrefix(r, bootMediumPrefix) {
			return true
		}
	}
	return false
}

// RefusalsExceptBootMedium lists the refusals other than the boot medium
// ones: what still stands when a selector allows the boot medium.
func (d Disk) RefusalsExceptBootMedium() []string {
	var out []string
	for _, r := range d.Refusals {
		if !strings.HasPrefix(r, bootMediumPrefix) {
			out = append(out, r)
		}
	}
	return out
}
