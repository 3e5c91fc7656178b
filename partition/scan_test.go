package partition

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fakeRoots is a made-up /sys, /proc and /dev laid out like the kernel's:
// /sys/block/X links into /sys/devices/<bus path>/X, "device" links to the
// bus device, partitions are subdirectories of their disk.
type fakeRoots struct {
	t                testing.TB
	sys, proc, dev   string
	mountinfo, swaps []string
}

func newFakeRoots(t testing.TB) *fakeRoots {
	root := t.TempDir()
	f := &fakeRoots{t: t, sys: filepath.Join(root, "sys"), proc: filepath.Join(root, "proc"), dev: filepath.Join(root, "dev")}
	for _, d := range []string{filepath.Join(f.sys, "block"), filepath.Join(f.proc, "self"), filepath.Join(f.dev, "disk", "by-id"), filepath.Join(f.dev, "disk", "by-path")} {
		f.mkdir(d)
	}
	return f
}

func (f *fakeRoots) opts() ScanOptions {
	f.t.Helper()
	f.write(filepath.Join(f.proc, "self", "mountinfo"), strings.Join(f.mountinfo, "\n")+"\n")
	f.write(filepath.Join(f.proc, "swaps"), "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"+strings.Join(f.swaps, "\n"))
	return ScanOptions{SysRoot: f.sys, ProcRoot: f.proc, DevRoot: f.dev}
}

func (f *fakeRoots) mkdir(p string) {
	f.t.Helper()
	if err := os.MkdirAll(p, 0o755); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fakeRoots) write(p, content string) {
	f.t.Helper()
	f.mkdir(filepath.Dir(p))
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fakeRoots) link(target, p string) {
	f.t.Helper()
	f.mkdir(filepath.Dir(p))
	if err := os.Symlink(target, p); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fakeRoots) mount(dev, point string) {
	f.mountinfo = append(f.mountinfo, fmt.Sprintf("%d 1 %s / %s rw,relatime shared:1 - ext4 /dev/x rw", 30+len(f.mountinfo), dev, point))
}

type fakePart struct {
	name, dev string
	holders   []string
}

type fakeDisk struct {
	name, dev string
	// block is the disk's directory under /sys/devices; device, if set, the
	// bus device "device" links to (also under /sys/devices)
	block, device        string
	sectors              uint64
	lbs, pbs             int
	rotational, ro, rem  bool
	files                map[string]string // extra files relative to the block dir
	parts                []fakePart
	holders, slaves      []string
	byID, byPath         []string
	partByID             map[string]string // by-id link -> partition name
	image                string            // file to put at /dev/<name>
	loopBacking          string
	dmUUID, dmName, mdLv string
}

func (f *fakeRoots) addDisk(d fakeDisk) {
	f.t.Helper()
	dir := filepath.Join(f.sys, "devices", d.block)
	f.mkdir(dir)
	f.link(filepath.Join("..", "devices", d.block), filepath.Join(f.sys, "block", d.name))
	if d.device != "" {
		f.mkdir(filepath.Join(f.sys, "devices", d.device))
		rel, err := filepath.Rel(dir, filepath.Join(f.sys, "devices", d.device))
		if err != nil {
			f.t.Fatal(err)
		}
		f.link(rel, filepath.Join(dir, "device"))
	}
	b := func(v bool) string {
		if v {
			return "1\n"
		}
		return "0\n"
	}
	lbs, pbs := d.lbs, d.pbs
	if lbs == 0 {
		lbs = 512
	}
	if pbs == 0 {
		pbs = lbs
	}
	f.write(filepath.Join(dir, "dev"), d.dev+"\n")
	f.write(filepath.Join(dir, "size"), fmt.Sprintf("%d\n", d.sectors))
	f.write(filepath.Join(dir, "ro"), b(d.ro))
	f.write(filepath.Join(dir, "removable"), b(d.rem))
	f.write(filepath.Join(dir, "queue", "logical_block_size"), fmt.Sprintf("%d\n", lbs))
	f.write(filepath.Join(dir, "queue", "physical_block_size"), fmt.Sprintf("%d\n", pbs))
	f.write(filepath.Join(dir, "queue", "rotational"), b(d.rotational))
	f.mkdir(filepath.Join(dir, "holders"))
	f.mkdir(filepath.Join(dir, "slaves"))
	for k, v := range d.files {
		f.write(filepath.Join(dir, k), v)
	}
	for _, h := range d.holders {
		f.link(filepath.Join("..", "..", h), filepath.Join(dir, "holders", h))
	}
	for _, s := range d.slaves {
		f.link(filepath.Join("..", "..", s), filepath.Join(dir, "slaves", s))
	}
	for i, p := range d.parts {
		pd := filepath.Join(dir, p.name)
		f.write(filepath.Join(pd, "partition"), fmt.Sprintf("%d\n", i+1))
		f.write(filepath.Join(pd, "dev"), p.dev+"\n")
		f.write(filepath.Join(pd, "start"), "2048\n")
		f.write(filepath.Join(pd, "size"), "2048\n")
		f.mkdir(filepath.Join(pd, "holders"))
		for _, h := range p.holders {
			f.link(filepath.Join("..", "..", "..", h), filepath.Join(pd, "holders", h))
		}
	}
	if d.loopBacking != "" {
		f.write(filepath.Join(dir, "loop", "backing_file"), d.loopBacking+"\n")
	}
	if d.dmUUID != "" || d.dmName != "" {
		f.write(filepath.Join(dir, "dm", "uuid"), d.dmUUID+"\n")
		f.write(filepath.Join(dir, "dm", "name"), d.dmName+"\n")
	}
	if d.mdLv != "" {
		f.write(filepath.Join(dir, "md", "level"), d.mdLv+"\n")
	}
	for _, l := range d.byID {
		f.link(filepath.Join("..", "..", d.name), filepath.Join(f.dev, "disk", "by-id", l))
	}
	for l, p := range d.partByID {
		f.link(filepath.Join("..", "..", p), filepath.Join(f.dev, "disk", "by-id", l))
	}
	for _, l := range d.byPath {
		f.link(filepath.Join("..", "..", d.name), filepath.Join(f.dev, "disk", "by-path", l))
	}
	if d.image != "" {
		if err := os.Rename(d.image, filepath.Join(f.dev, d.name)); err != nil {
			f.t.Fatal(err)
		}
	}
}

// vpdPage80 is a SCSI unit serial number page as the kernel exports it.
func vpdPage80(serial string) string {
	return string([]byte{0, 0x80, 0, byte(len(serial))}) + serial
}

// machine is a laptop with an NVMe disk, a SATA disk with Linux on it,
// booted from a USB stick, plus the awkward cases: a mounted disk, an
// LVM member, an md member, a read-only disk, swap, virtio, MMC, an
// empty optical drive, and devices Scan must leave out.
func machine(t *testing.T) (*fakeRoots, map[string]Disk) {
	f := newFakeRoots(t)
	sataImg := sparseImage(t, 8<<30)
	sataLayout := planFor(t, sataImg, 512, WholeDiskOptions{Arch: "amd64", RootFilesystem: "xfs"})
	if _, err := Apply(sataImg, sataLayout); err != nil {
		t.Fatal(err)
	}
	xfs := make([]byte, 512)
	copy(xfs, "XFSB")
	copy(xfs[108:], "fedora")
	root, _ := sataLayout.Find(RoleRoot)
	writeAt(t, sataImg, xfs, root.StartBytes(512))
	// the GUIDs are random: take them from the image, everything else
	// from the plan
	sataDesc, err := Describe(sataImg)
	if err != nil || len(sataDesc.Partitions) != len(sataLayout.Partitions) {
		t.Fatalf("describe the SATA image: %v %+v", err, sataDesc)
	}

	const pci = "pci0000:00/"
	f.addDisk(fakeDisk{name: "nvme0n1", dev: "259:0", sectors: 1953525168,
		block: pci + "0000:00:1d.0/0000:3d:00.0/nvme/nvme0/nvme0n1", device: pci + "0000:00:1d.0/0000:3d:00.0/nvme/nvme0",
		files: map[string]string{"device/model": "Samsung SSD 980 PRO 1TB                 \n", "device/serial": "S5GXNF0N123456      \n", "wwid": "eui.002538b111b2c3d4\n"},
		byID:  []string{"nvme-Samsung_SSD_980_PRO_1TB_S5GXNF0N123456", "nvme-eui.002538b111b2c3d4"}, byPath: []string{"pci-0000:3d:00.0-nvme-1"}})
	f.addDisk(fakeDisk{name: "sda", dev: "8:0", sectors: 8 << 30 >> 9, pbs: 4096, rotational: true,
		block: pci + "0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block/sda", device: pci + "0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0",
		files: map[string]string{"device/model": "ST2000DM008-2FR1\n", "device/vpd_pg80": vpdPage80("ZFL1ABCD"), "device/wwid": "naa.5000c500a1b2c3d4\n"},
		parts: []fakePart{{name: "sda1", dev: "8:1"}, {name: "sda2", dev: "8:2"}, {name: "sda3", dev: "8:3"}},
		byID:  []string{"wwn-0x5000c500a1b2c3d4", "ata-ST2000DM008-2FR1_ZFL1ABCD"}, partByID: map[string]string{"ata-ST2000DM008-2FR1_ZFL1ABCD-part1": "sda1"},
		byPath: []string{"pci-0000:00:17.0-ata-1"}, image: sataImg})
	f.addDisk(fakeDisk{name: "sdb", dev: "8:16", sectors: 60088320, rem: true,
		block: pci + "0000:00:14.0/usb2/2-1/2-1:1.0/host6/target6:0:0/6:0:0:0/block/sdb", device: pci + "0000:00:14.0/usb2/2-1/2-1:1.0/host6/target6:0:0/6:0:0:0",
		files: map[string]string{"device/model": "Ultra Fit       \n"},
		parts: []fakePart{{name: "sdb1", dev: "8:17"}, {name: "sdb2", dev: "8:18"}},
		byID:  []string{"usb-SanDisk_Ultra_Fit_4C530001-0:0"}, byPath: []string{"pci-0000:00:14.0-usb-0:1:1.0-scsi-0:0:0:0"}})
	f.addDisk(fakeDisk{name: "sdc", dev: "8:32", sectors: 1 << 21,
		block: pci + "0000:00:17.0/ata2/host1/target1:0:0/1:0:0:0/block/sdc", device: pci + "0000:00:17.0/ata2/host1/target1:0:0/1:0:0:0",
		parts: []fakePart{{name: "sdc1", dev: "8:33"}, {name: "sdc2", dev: "8:34"}}})
	f.addDisk(fakeDisk{name: "sdd", dev: "8:48", sectors: 1 << 21,
		block: pci + "0000:00:17.0/ata3/host2/target2:0:0/2:0:0:0/block/sdd", device: pci + "0000:00:17.0/ata3/host2/target2:0:0/2:0:0:0",
		parts: []fakePart{{name: "sdd1", dev: "8:49", holders: []string{"dm-0"}}}})
	f.addDisk(fakeDisk{name: "sde", dev: "8:64", sectors: 1 << 21, holders: []string{"md127"},
		block: pci + "0000:00:17.0/ata4/host3/target3:0:0/3:0:0:0/block/sde", device: pci + "0000:00:17.0/ata4/host3/target3:0:0/3:0:0:0"})
	f.addDisk(fakeDisk{name: "sdf", dev: "8:80", sectors: 1 << 21, ro: true, rem: true,
		block: pci + "0000:00:14.0/usb3/3-2/3-2:1.0/host7/target7:0:0/7:0:0:0/block/sdf", device: pci + "0000:00:14.0/usb3/3-2/3-2:1.0/host7/target7:0:0/7:0:0:0",
		files: map[string]string{"device/model": "SD Card Reader\n"}})
	f.addDisk(fakeDisk{name: "sdg", dev: "8:96", sectors: 1 << 21,
		block: pci + "0000:00:03.0/virtio2/host8/target8:0:0/8:0:0:0/block/sdg", device: pci + "0000:00:03.0/virtio2/host8/target8:0:0/8:0:0:0",
		parts: []fakePart{{name: "sdg1", dev: "8:97"}, {name: "sdg2", dev: "8:98"}}})
	f.addDisk(fakeDisk{name: "vda", dev: "254:0", sectors: 1 << 22, lbs: 4096,
		block: pci + "0000:00:02.0/virtio1/block/vda", device: pci + "0000:00:02.0/virtio1",
		files: map[string]string{"serial": "1776632528246372\n"}})
	f.addDisk(fakeDisk{name: "mmcblk0", dev: "179:0", sectors: 124735488, rem: false,
		block: "platform/fe320000.mmc/mmc_host/mmc0/mmc0:aaaa/block/mmcblk0", device: "platform/fe320000.mmc/mmc_host/mmc0/mmc0:aaaa",
		files: map[string]string{"device/name": "SC64G\n", "device/serial": "0x1234abcd\n"}})
	f.addDisk(fakeDisk{name: "sr0", dev: "11:0", sectors: 0, rem: true,
		block: pci + "0000:00:17.0/ata5/host4/target4:0:0/4:0:0:0/block/sr0", device: pci + "0000:00:17.0/ata5/host4/target4:0:0/4:0:0:0",
		files: map[string]string{"device/model": "DVD-RW DVR-TD11RS\n"}})
	// devices Scan leaves out
	f.addDisk(fakeDisk{name: "loop0", dev: "7:0", sectors: 4 << 21, block: "virtual/block/loop0", loopBacking: "/run/initramfs/live/LiveOS/squashfs.img"})
	f.addDisk(fakeDisk{name: "loop1", dev: "7:1", sectors: 0, block: "virtual/block/loop1"})
	f.addDisk(fakeDisk{name: "ram0", dev: "1:0", sectors: 1 << 15, block: "virtual/block/ram0"})
	f.addDisk(fakeDisk{name: "zram0", dev: "252:0", sectors: 1 << 22, block: "virtual/block/zram0"})
	f.addDisk(fakeDisk{name: "dm-0", dev: "253:0", sectors: 1 << 20, block: "virtual/block/dm-0", slaves: []string{"sdd1"}, dmUUID: "LVM-Zk3fTQ9x", dmName: "vg0-root"})
	f.addDisk(fakeDisk{name: "md127", dev: "9:127", sectors: 1 << 20, block: "virtual/block/md127", slaves: []string{"sde"}, mdLv: "raid1"})

	f.mount("0:35", "/")                   // overlay of the live system
	f.mount("8:17", "/run/initramfs/live") // the stick's ISO partition
	f.mount("7:0", "/run/rootfsbase")      // the squashfs on it, via loop0
	f.mount("8:33", `/mnt/my\040data`)     // escaped space
	f.mount("8:34", "/home")               // a plain mount
	f.mount("8:34", "/var/home")           // and its bind mount
	f.mount("0:22", "/proc")               // no disk
	f.swaps = append(f.swaps, "/dev/sdg2                               partition\t8388604\t\t0\t\t-2")
	f.swaps = append(f.swaps, "/swapfile                               file\t\t1048572\t\t0\t\t-3")

	dev := func(n string) string { return filepath.Join(f.dev, n) }
	id := func(n ...string) []string {
		var out []string
		for _, s := range n {
			out = append(out, filepath.Join(f.dev, "disk", "by-id", s))
		}
		return out
	}
	bypath := func(n string) []string { return []string{filepath.Join(f.dev, "disk", "by-path", n)} }
	var sataParts []Existing
	for i, p := range sataLayout.Partitions {
		e := Existing{Index: p.Index, StartBytes: p.StartBytes(512), SizeBytes: p.SizeBytes(512), TypeGUID: p.TypeGUID, Name: p.Name, GUID: sataDesc.Partitions[i].GUID}
		if !isGUID(e.GUID) {
			t.Fatalf("partition %d GUID %q", p.Index, e.GUID)
		}
		if p.Role == RoleRoot {
			e.Filesystem, e.Label = "xfs", "fedora"
			e.Content = &Content{Note: "xfs: not inspected (uai reads FAT and ext4 only; a Linux system may be on it)"}
		}
		sataParts = append(sataParts, e)
	}
	want := map[string]Disk{
		"nvme0n1": {Path: dev("nvme0n1"), Name: "nvme0n1", SizeBytes: 1953525168 * 512, LogicalSectorSize: 512, PhysicalSectorSize: 512,
			Model: "Samsung SSD 980 PRO 1TB", Serial: "S5GXNF0N123456", WWN: "eui.002538b111b2c3d4", Transport: "nvme",
			ByID: id("nvme-Samsung_SSD_980_PRO_1TB_S5GXNF0N123456", "nvme-eui.002538b111b2c3d4"), ByPath: bypath("pci-0000:3d:00.0-nvme-1")},
		"sda": {Path: dev("sda"), Name: "sda", SizeBytes: 8 << 30, LogicalSectorSize: 512, PhysicalSectorSize: 4096, Rotational: true,
			Model: "ST2000DM008-2FR1", Serial: "ZFL1ABCD", WWN: "naa.5000c500a1b2c3d4", Transport: "sata",
			ByID: id("ata-ST2000DM008-2FR1_ZFL1ABCD", "wwn-0x5000c500a1b2c3d4"), ByPath: bypath("pci-0000:00:17.0-ata-1"),
			Table: "gpt", Partitions: sataParts, DiskGUID: sataDesc.DiskGUID, Systems: []string{"xfs filesystem on partition 3 (not inspected)"}},
		"sdb": {Path: dev("sdb"), Name: "sdb", SizeBytes: 60088320 * 512, LogicalSectorSize: 512, PhysicalSectorSize: 512, Removable: true,
			Model: "Ultra Fit", Transport: "usb", ByID: id("usb-SanDisk_Ultra_Fit_4C530001-0:0"), ByPath: bypath("pci-0000:00:14.0-usb-0:1:1.0-scsi-0:0:0:0"),
			Refusals: []string{"boot medium: the live system booted from it", "mounted: sdb1 is mounted at /run/initramfs/live"}},
		"sdc": {Path: dev("sdc"), Name: "sdc", SizeBytes: 1 << 30, LogicalSectorSize: 512, PhysicalSectorSize: 512, Transport: "sata",
			Refusals: []string{"mounted: sdc1 is mounted at /mnt/my data", "mounted: sdc2 is mounted at /home (and 1 more)"}},
		"sdd": {Path: dev("sdd"), Name: "sdd", SizeBytes: 1 << 30, LogicalSectorSize: 512, PhysicalSectorSize: 512, Transport: "sata",
			Refusals: []string{"held by dm-0 (LVM/device-mapper, vg0-root) through sdd1"}},
		"sde": {Path: dev("sde"), Name: "sde", SizeBytes: 1 << 30, LogicalSectorSize: 512, PhysicalSectorSize: 512, Transport: "sata",
			Refusals: []string{"held by md127 (software RAID, raid1)"}},
		"sdf": {Path: dev("sdf"), Name: "sdf", SizeBytes: 1 << 30, LogicalSectorSize: 512, PhysicalSectorSize: 512, Transport: "usb",
			Model: "SD Card Reader", Removable: true, ReadOnly: true,
			Refusals: []string{"read-only: the kernel marks sdf read-only (a write-protect switch or a read-only device)"}},
		"sdg": {Path: dev("sdg"), Name: "sdg", SizeBytes: 1 << 30, LogicalSectorSize: 512, PhysicalSectorSize: 512, Transport: "virtio",
			Refusals: []string{"swap: sdg2 is in use as swap"}},
		"vda": {Path: dev("vda"), Name: "vda", SizeBytes: 2 << 30, LogicalSectorSize: 4096, PhysicalSectorSize: 4096, Transport: "virtio",
			Serial: "1776632528246372"},
		"mmcblk0": {Path: dev("mmcblk0"), Name: "mmcblk0", SizeBytes: 124735488 * 512, LogicalSectorSize: 512, PhysicalSectorSize: 512, Transport: "mmc",
			Model: "SC64G", Serial: "0x1234abcd"},
		"sr0": {Path: dev("sr0"), Name: "sr0", LogicalSectorSize: 512, PhysicalSectorSize: 512, Transport: "sata", Model: "DVD-RW DVR-TD11RS", Removable: true,
			Refusals: []string{"no medium: the kernel reports size 0; insert a medium or choose another disk", "optical drive: it cannot be installed to"}},
		"loop0": {Path: dev("loop0"), Name: "loop0", SizeBytes: 4 << 30, LogicalSectorSize: 512, PhysicalSectorSize: 512, Transport: "loop",
			Refusals: []string{"mounted: loop0 is mounted at /run/rootfsbase"}},
	}
	return f, want
}

func TestScan(t *testing.T) {
	f, want := machine(t)
	disks, err := Scan(f.opts())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range disks {
		names = append(names, d.Name)
	}
	if got, exp := strings.Join(names, " "), "loop0 mmcblk0 nvme0n1 sda sdb sdc sdd sde sdf sdg sr0 vda"; got != exp {
		t.Errorf("Scan listed %s\nwant          %s", got, exp)
	}
	for _, d := range disks {
		w, ok := want[d.Name]
		if !ok {
			continue
		}
		if !reflect.DeepEqual(d, w) {
			gj, _ := json.MarshalIndent(d, "", "  ")
			wj, _ := json.MarshalIndent(w, "", "  ")
			t.Errorf("%s:\ngot  %s\nwant %s", d.Name, gj, wj)
		}
	}
	installable := map[string]bool{}
	for _, d := range disks {
		installable[d.Name] = d.Installable()
	}
	for n, ok := range map[string]bool{"nvme0n1": true, "sda": true, "vda": true, "mmcblk0": true, "sdb": false, "sdc": false, "sdd": false, "sde": false, "sdf": false, "sdg": false, "sr0": false} {
		if installable[n] != ok {
			t.Errorf("%s installable = %v, want %v", n, installable[n], ok)
		}
	}
}

// Each way of finding the disk the running system came from.
func TestScanBootMedium(t *testing.T) {
	disk := func(f *fakeRoots, name, dev string, parts ...fakePart) {
		f.addDisk(fakeDisk{name: name, dev: dev, sectors: 1 << 21, parts: parts,
			block: "pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:" + name + "/block/" + name})
	}
	cases := []struct {
		name  string
		setup func(f *fakeRoots)
		boot  string
	}{
		{"root on a partition", func(f *fakeRoots) {
			disk(f, "sda", "8:0", fakePart{name: "sda3", dev: "8:3"})
			f.mount("8:3", "/")
		}, "sda"},
		{"root on the whole disk", func(f *fakeRoots) {
			disk(f, "sda", "8:0")
			f.mount("8:0", "/")
		}, "sda"},
		{"squashfs on a loop device backed by a file on the stick", func(f *fakeRoots) {
			disk(f, "sdc", "8:32", fakePart{name: "sdc1", dev: "8:33"})
			f.addDisk(fakeDisk{name: "loop3", dev: "7:3", sectors: 1 << 20, block: "virtual/block/loop3", loopBacking: "/media/iso/LiveOS/squashfs.img"})
			f.mount("0:40", "/")
			f.mount("8:33", "/media/iso")
			f.mount("7:3", "/run/rootfsbase")
		}, "sdc"},
		{"root on LVM", func(f *fakeRoots) {
			disk(f, "sdd", "8:48", fakePart{name: "sdd2", dev: "8:50", holders: []string{"dm-1"}})
			f.addDisk(fakeDisk{name: "dm-1", dev: "253:1", sectors: 1 << 20, block: "virtual/block/dm-1", slaves: []string{"sdd2"}, dmUUID: "LVM-x", dmName: "vg-root"})
			f.mount("253:1", "/")
		}, "sdd"},
		{"live ISO partition", func(f *fakeRoots) {
			disk(f, "sdb", "8:16", fakePart{name: "sdb1", dev: "8:17"})
			f.mount("8:17", "/run/initramfs/live")
		}, "sdb"},
		{"nothing on a disk", func(f *fakeRoots) {
			disk(f, "sda", "8:0", fakePart{name: "sda1", dev: "8:1"})
			f.mount("0:30", "/")
			f.mount("8:1", "/mnt")
		}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeRoots(t)
			c.setup(f)
			disks, err := Scan(f.opts())
			if err != nil {
				t.Fatal(err)
			}
			var boot []string
			for _, d := range disks {
				for _, r := range d.Refusals {
					if r == "boot medium: the live system booted from it" {
						boot = append(boot, d.Name)
					}
				}
			}
			if strings.Join(boot, " ") != c.boot {
				t.Errorf("boot medium %v, want %q", boot, c.boot)
			}
		})
	}
}

func TestScanErrors(t *testing.T) {
	f := newFakeRoots(t)
	o := f.opts()
	if err := os.Remove(filepath.Join(f.proc, "self", "mountinfo")); err != nil {
		t.Fatal(err)
	}
	if _, err := Scan(o); err == nil || !strings.Contains(err.Error(), "mountinfo") || !strings.Contains(err.Error(), "is /proc mounted?") {
		t.Errorf("Scan without mountinfo: %v", err)
	}
	f = newFakeRoots(t)
	o = f.opts()
	if err := os.Remove(filepath.Join(f.proc, "swaps")); err != nil {
		t.Fatal(err)
	}
	if _, err := Scan(o); err != nil {
		t.Errorf("Scan on a kernel without swap support: %v", err)
	}
	o.SysRoot = filepath.Join(t.TempDir(), "nosys")
	if _, err := Scan(o); err == nil || !strings.Contains(err.Error(), "is sysfs mounted?") {
		t.Errorf("Scan without sysfs: %v", err)
	}
}

func TestUnescapeMount(t *testing.T) {
	for in, want := range map[string]string{`/a\040b`: "/a b", `/t\011ab`: "/t\tab", `/back\134slash`: `/back\slash`, "/plain": "/plain", `/odd\04`: `/odd\04`} {
		if got := unescapeMount(in); got != want {
			t.Errorf("unescapeMount(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPartitionPath(t *testing.T) {
	for _, c := range []struct {
		disk string
		i    int
		want string
	}{
		{"/dev/sda", 1, "/dev/sda1"}, {"/dev/vdb", 12, "/dev/vdb12"}, {"/dev/nvme0n1", 1, "/dev/nvme0n1p1"},
		{"/dev/loop0", 2, "/dev/loop0p2"}, {"/dev/mmcblk0", 1, "/dev/mmcblk0p1"}, {"/dev/md127", 3, "/dev/md127p3"},
	} {
		if got := PartitionPath(c.disk, c.i); got != c.want {
			t.Errorf("PartitionPath(%q, %d) = %q, want %q", c.disk, c.i, got, c.want)
		}
	}
}

func BenchmarkScan16Disks(b *testing.B) {
	f := newFakeRoots(b)
	for i := range 16 {
		name := fmt.Sprintf("sd%c", 'a'+i)
		f.addDisk(fakeDisk{name: name, dev: fmt.Sprintf("8:%d", 16*i), sectors: 1 << 31,
			block:  fmt.Sprintf("pci0000:00/0000:00:17.0/ata%d/host%d/target%d:0:0/%d:0:0:0/block/%s", i+1, i, i, i, name),
			device: fmt.Sprintf("pci0000:00/0000:00:17.0/ata%d/host%d/target%d:0:0/%d:0:0:0", i+1, i, i, i),
			files:  map[string]string{"device/model": "Disk\n", "device/vpd_pg80": vpdPage80(fmt.Sprintf("SER%04d", i))},
			parts:  []fakePart{{name: name + "1", dev: fmt.Sprintf("8:%d", 16*i+1)}, {name: name + "2", dev: fmt.Sprintf("8:%d", 16*i+2)}},
			byID:   []string{"ata-Disk_" + name}, byPath: []string{"pci-ata-" + name}})
		f.mount(fmt.Sprintf("8:%d", 16*i+2), "/mnt/"+name)
	}
	o := f.opts()
	for b.Loop() {
		disks, err := Scan(o)
		if err != nil || len(disks) != 16 {
			b.Fatalf("Scan: %d disks, %v", len(disks), err)
		}
	}
}

// The live medium found by its volume label alone: the live system runs
// from RAM (rd.live.ram) or over the network, so nothing on the stick is
// mounted, but the stick still must not be installed to.
func TestScanLiveLabel(t *testing.T) {
	iso := func(label string) string {
		img := sparseImage(t, 64<<20)
		pvd := make([]byte, 2048)
		pvd[0] = 1
		copy(pvd[1:], "CD001")
		copy(pvd[40:72], fmt.Sprintf("%-32s", label))
		writeAt(t, img, pvd, 32768)
		return img
	}
	cases := []struct {
		name, label, cmdline string
		extra                []string
		refused              bool
	}{
		{"default label", "UAI_LIVE", "", nil, true},
		{"label family", "UAI_LIVE_0_4", "", nil, true},
		{"label from the kernel command line", "FEDORA-LIVE", "BOOT_IMAGE=/vmlinuz root=live:CDLABEL=FEDORA-LIVE rd.live.image rd.live.ram=1", nil, true},
		{"label from the options", "CORP_ISO", "", []string{"CORP_ISO"}, true},
		{"another ISO", "UBUNTU_24_04", "root=live:CDLABEL=FEDORA-LIVE", nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeRoots(t)
			f.addDisk(fakeDisk{name: "sdb", dev: "8:16", sectors: 64 << 20 >> 9, rem: true,
				block: "pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0/host6/target6:0:0/6:0:0:0/block/sdb", image: iso(c.label)})
			f.write(filepath.Join(f.proc, "cmdline"), c.cmdline+"\n")
			o := f.opts()
			o.LiveLabels = c.extra
			disks, err := Scan(o)
			if err != nil || len(disks) != 1 {
				t.Fatalf("%v %v", disks, err)
			}
			d := disks[0]
			want := "boot medium: it holds the uai live system (volume label " + c.label + ")"
			if d.Filesystem != "iso9660" || d.Label != c.label || containsString(d.Refusals, want) != c.refused || d.BootMedium() != c.refused {
				t.Errorf("filesystem %q label %q refusals %v; refused want %v", d.Filesystem, d.Label, d.Refusals, c.refused)
			}
		})
	}
}
