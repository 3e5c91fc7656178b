package partition

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
)

// MachineVersion is the version of the machine fixture format.
const MachineVersion = 1

// Machine is a described machine: its disks as Scan would list them and
// the facts of the running live system that decide what is refused
// (mounts, swap, holders, the kernel command line). Tests and the demo
// run on machines instead of this computer's disks.
type Machine struct {
	Version     int    `json:"version"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Facts are free-form facts about the machine ("firmware": "uefi",
	// "arch": "amd64", "cmdline": the kernel command line). "cmdline" is
	// read for the live medium's label (root=live:CDLABEL=...).
	Facts map[string]string `json:"facts,omitempty"`
	// Mounts, Swaps and Holders are what the live system uses, by kernel
	// device name ("sdb1"); refusals follow from them exactly as in Scan.
	Mounts  []MachineMount  `json:"mounts,omitempty"`
	Swaps   []string        `json:"swaps,omitempty"`
	Holders []MachineHolder `json:"holders,omitempty"`
	// Disks are the disks with their contents. Their refusals are derived
	// from the facts above; a fixture may not set them.
	Disks []Disk `json:"disks"`
}

// MachineMount is one mount of the live system.
type MachineMount struct {
	Device string `json:"device"`
	Point  string `json:"point"`
}

// MachineHolder is a device-mapper, md or bcache device holding a disk or
// partition, described as Scan describes it ("dm-0 (LVM/device-mapper,
// vg0-root)").
type MachineHolder struct {
	Device string `json:"device"`
	Holder string `json:"holder"`
}

// liveRoots are the mount points of a live system's root and medium.
var liveRoots = map[string]bool{"/": true, "/run/initramfs/live": true, "/run/rootfsbase": true}

// LoadMachine reads a machine fixture (JSON, unknown fields refused) and
// derives every disk's refusals, boot medium and summary from its facts.
func LoadMachine(path string) (Machine, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Machine{}, fmt.Errorf("load machine %s: %w", path, err)
	}
	m, err := ParseMachine(b)
	if err != nil {
		return Machine{}, fmt.Errorf("load machine %s: %w", path, err)
	}
	return m, nil
}

// ParseMachine is LoadMachine for bytes.
func ParseMachine(b []byte) (Machine, error) {
	var m Machine
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return Machine{}, fmt.Errorf("%w; see docs/disks.md for the machine format", err)
	}
	if m.Version != MachineVersion {
		return Machine{}, fmt.Errorf("machine version %d is not supported; set \"version\": %d", m.Version, MachineVersion)
	}
	var problems []string
	devices := map[string]string{} // device name -> disk name
	names := map[string]bool{}
	for i, d := range m.Disks {
		where := fmt.Sprintf("disks[%d]", i)
		if d.Name == "" || d.Path == "" {
			problems = append(problems, where+" needs a name and a path")
		}
		if names[d.Name] {
			problems = append(problems, fmt.Sprintf("%s: disk name %q appears twice", where, d.Name))
		}
		names[d.Name] = true
		if len(d.Refusals) > 0 {
			problems = append(problems, fmt.Sprintf("%s (%s) sets refusals; they are derived from mounts, swaps, holders, read_only and the live label: describe those instead", where, d.Name))
		}
		if d.Interrupted != nil || d.GPT != nil || len(d.Systems) > 0 {
			problems = append(problems, fmt.Sprintf("%s (%s) sets systems, gpt_problem or interrupted; those are derived", where, d.Name))
		}
		if d.LogicalSectorSize != 512 && d.LogicalSectorSize != 4096 {
			problems = append(problems, fmt.Sprintf("%s (%s) has logical_sector_size %d; use 512 or 4096", where, d.Name, d.LogicalSectorSize))
		}
		if d.PhysicalSectorSize == 0 {
			m.Disks[i].PhysicalSectorSize = d.LogicalSectorSize
		}
		devices[d.Name] = d.Name
		for _, p := range d.Partitions {
			if p.EndBytes() > d.SizeBytes {
				problems = append(problems, fmt.Sprintf("%s (%s) partition %d ends at byte %d, past the disk's end (%d)", where, d.Name, p.Index, p.EndBytes(), d.SizeBytes))
			}
			devices[partName(d.Name, p.Index)] = d.Name
		}
	}
	known := func(what, dev string) {
		if _, ok := devices[dev]; !ok {
			problems = append(problems, fmt.Sprintf("%s names device %q, which is no disk or partition of the machine", what, dev))
		}
	}
	for _, mt := range m.Mounts {
		known("mount "+mt.Point, mt.Device)
	}
	for _, s := range m.Swaps {
		known("swap", s)
	}
	for _, h := range m.Holders {
		known("holder "+h.Holder, h.Device)
	}
	if len(problems) > 0 {
		return Machine{}, fmt.Errorf("machine %q is invalid: %s", m.Name, strings.Join(problems, "; "))
	}

	labels := liveLabelsFromCmdline(m.Facts["cmdline"])
	for i := range m.Disks {
		d := &m.Disks[i]
		devs := []string{d.Name}
		for _, p := range d.Partitions {
			devs = append(devs, partName(d.Name, p.Index))
		}
		u := usage{mounts: map[string][]string{}, swaps: map[string]bool{}, holders: map[string][]string{}}
		for _, mt := range m.Mounts {
			if devices[mt.Device] != d.Name {
				continue
			}
			u.mounts[mt.Device] = append(u.mounts[mt.Device], mt.Point)
			u.boot = u.boot || liveRoots[mt.Point]
		}
		for _, s := range m.Swaps {
			if devices[s] == d.Name {
				u.swaps[s] = true
			}
		}
		for _, h := range m.Holders {
			if devices[h.Device] == d.Name {
				u.holders[h.Device] = append(u.holders[h.Device], h.Holder)
			}
		}
		d.Refusals = refusalsFor(*d, devs, u)
		liveLabelRefusal(d, labels)
		summarize(d)
	}
	sort.Slice(m.Disks, func(i, j int) bool { return m.Disks[i].Name < m.Disks[j].Name })
	return m, nil
}

// partName is the kernel name of partition index of disk ("sda1",
// "nvme0n1p1").
func partName(disk string, index int) string {
	return strings.TrimPrefix(PartitionPath("/"+disk, index), "/")
}
