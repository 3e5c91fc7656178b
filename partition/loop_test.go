package partition

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// blkidExport runs blkid on a device node and returns its key=value pairs.
func blkidExport(t *testing.T, node string) map[string]string {
	t.Helper()
	out, _ := exec.Command("blkid", "-p", "-o", "export", node).Output()
	m := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			m[k] = v
		}
	}
	return m
}

func isBlockNode(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && isBlockDevice(fi)
}

// The whole path on a real block device: plan from Describe, Apply, check
// with independent tools, make the filesystems the installer makes,
// describe them, then Wipe.
func TestLoopDevice(t *testing.T) {
	requireRoot(t)
	requireTools(t, "losetup", "partx", "sfdisk", "sgdisk", "blkid", "mkfs.fat", "fsck.fat", "mkfs.xfs")
	for _, ss := range []int{512, 4096} {
		t.Run(strconv.Itoa(ss), func(t *testing.T) {
			img := sparseImage(t, 8<<30)
			dev := attachLoop(t, img, ss)

			d, err := Describe(dev)
			if err != nil {
				t.Fatal(err)
			}
			if d.Path != dev || d.ImageFile || d.Transport != "loop" || d.SizeBytes != 8<<30 || d.LogicalSectorSize != ss || !d.Empty() || !d.Installable() {
				t.Fatalf("blank loop device described as %+v", d)
			}
			l, err := PlanWholeDisk(d, WholeDiskOptions{Arch: "amd64", RootFilesystem: "xfs", SeparateBoot: true})
			if err != nil {
				t.Fatal(err)
			}
			applied, err := Apply(dev, l)
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			for _, p := range l.Partitions {
				node := applied.PartitionPaths[p.Index]
				if node != PartitionPath(dev, p.Index) || !isBlockNode(node) {
					t.Errorf("partition %d: path %q, block node: %v", p.Index, node, isBlockNode(node))
				}
				if got := blkidExport(t, node); got["PART_ENTRY_NAME"] != p.Name || !strings.EqualFold(got["PART_ENTRY_TYPE"], p.TypeGUID) {
					t.Errorf("blkid %s: name %q type %q, want %q %q", node, got["PART_ENTRY_NAME"], got["PART_ENTRY_TYPE"], p.Name, p.TypeGUID)
				}
				out, _ := exec.Command("blkid", "-s", "PARTLABEL", "-o", "value", node).Output()
				if strings.TrimSpace(string(out)) != p.Name {
					t.Errorf("blkid PARTLABEL of %s = %q, want %q", node, out, p.Name)
				}
			}
			if got := loopPartitions(dev); len(got) != len(l.Partitions) {
				t.Errorf("kernel has partitions %v, plan has %d", got, len(l.Partitions))
			}
			checkWithSfdisk(t, dev, l)
			checkWithSgdisk(t, dev)
			if err := Verify(dev, l); err != nil {
				t.Errorf("Verify: %v", err)
			}
			if ss == 4096 {
				// sfdisk can write our dump to a 4K device too
				sfdiskScript(t, dev, l)
				if err := Verify(dev, l); err != nil {
					t.Errorf("Verify of the sfdisk-written table: %v", err)
				}
			}

			esp, _ := l.Find(RoleESP)
			boot, _ := l.Find(RoleBoot)
			root, _ := l.Find(RoleRoot)
			espNode := applied.PartitionPaths[esp.Index]
			run(t, "mkfs.fat", "-F", "32", "-n", "EFI-SYSTEM", espNode)
			run(t, "fsck.fat", "-n", espNode)
			run(t, "mkfs.xfs", "-q", "-f", "-L", "boot", applied.PartitionPaths[boot.Index])
			run(t, "mkfs.xfs", "-q", "-f", "-L", "root", applied.PartitionPaths[root.Index])

			d, err = Describe(dev)
			if err != nil {
				t.Fatal(err)
			}
			got := map[int][2]string{}
			for _, p := range d.Partitions {
				got[p.Index] = [2]string{p.Filesystem, p.Label}
			}
			want := map[int][2]string{1: {"", ""}, esp.Index: {"vfat", "EFI-SYSTEM"}, boot.Index: {"xfs", "boot"}, root.Index: {"xfs", "root"}}
			for i, w := range want {
				if got[i] != w {
					t.Errorf("partition %d described as %v, want %v", i, got[i], w)
				}
				if b := blkidExport(t, applied.PartitionPaths[i]); w[0] != "" && (b["TYPE"] != w[0] || b["LABEL"] != w[1]) {
					t.Errorf("blkid on partition %d: %q %q, want %v", i, b["TYPE"], b["LABEL"], w)
				}
			}
			if d.Table != "gpt" || d.Empty() {
				t.Errorf("after install: table %q, empty %v", d.Table, d.Empty())
			}

			// a second, smaller layout: the stale 4th partition must go
			l2, err := PlanWholeDisk(d, WholeDiskOptions{Arch: "arm64", RootFilesystem: "ext4"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Apply(dev, l2); err != nil {
				t.Fatalf("second Apply: %v", err)
			}
			if got := loopPartitions(dev); len(got) != 2 {
				t.Errorf("after the second Apply the kernel has %v, want 2 partitions", got)
			}
			for _, p := range l2.Partitions {
				k, _ := kernelPartitions("/sys/block/" + strings.TrimPrefix(dev, "/dev/"))
				if k[p.Index].start != p.StartBytes(ss) || k[p.Index].size != p.SizeBytes(ss) {
					t.Errorf("kernel partition %d at %d+%d, planned %d+%d", p.Index, k[p.Index].start, k[p.Index].size, p.StartBytes(ss), p.SizeBytes(ss))
				}
			}
			if err := Verify(dev, l2); err != nil {
				t.Error(err)
			}

			if err := Wipe(dev); err != nil {
				t.Fatalf("Wipe: %v", err)
			}
			if got := loopPartitions(dev); len(got) != 0 {
				t.Errorf("partitions %v left after Wipe", got)
			}
			for _, p := range l.Partitions {
				if isBlockNode(PartitionPath(dev, p.Index)) {
					t.Errorf("node %s left after Wipe", PartitionPath(dev, p.Index))
				}
			}
			if tab, err := sfdiskJSON(t, dev); err == nil {
				t.Errorf("sfdisk finds a table after Wipe: %+v", tab)
			}
			if d, err := Describe(dev); err != nil || d.Table != "" || !d.Empty() {
				t.Errorf("after Wipe: %+v, %v", d, err)
			}
		})
	}
}

// With partscan on, BLKRRPART succeeds; on a kernel without partition
// table parsers it registers nothing, and Apply must add the partitions
// itself. On other kernels this checks the ordinary path.
func TestLoopPartscan(t *testing.T) {
	requireRoot(t)
	requireTools(t, "losetup", "partx")
	img := sparseImage(t, 4<<30)
	dev := attachLoop(t, img, 4096, "--partscan")
	d, err := Describe(dev)
	if err != nil {
		t.Fatal(err)
	}
	l, err := PlanWholeDisk(d, WholeDiskOptions{Arch: "arm64", RootFilesystem: "xfs", SeparateBoot: true})
	if err != nil {
		t.Fatal(err)
	}
	applied, err := Apply(dev, l)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range l.Partitions {
		if !isBlockNode(applied.PartitionPaths[p.Index]) {
			t.Errorf("no node for partition %d", p.Index)
		}
	}
	k, err := kernelPartitions("/sys/block/" + strings.TrimPrefix(dev, "/dev/"))
	if err != nil || len(k) != len(l.Partitions) {
		t.Fatalf("kernel partitions %v, %v", k, err)
	}
	for _, p := range l.Partitions {
		if k[p.Index].start != p.StartBytes(4096) || k[p.Index].size != p.SizeBytes(4096) {
			t.Errorf("kernel partition %d at %d+%d, planned %d+%d", p.Index, k[p.Index].start, k[p.Index].size, p.StartBytes(4096), p.SizeBytes(4096))
		}
	}
}

// appliedLoop attaches a 4 GiB image as a loop device and writes the
// whole-disk layout to it, partition nodes and all.
func appliedLoop(t *testing.T) (img, dev string, l Layout) {
	t.Helper()
	requireRoot(t)
	requireTools(t, "losetup", "partx", "sfdisk")
	img = sparseImage(t, 4<<30)
	dev = attachLoop(t, img, 512)
	d, err := Describe(dev)
	if err != nil {
		t.Fatal(err)
	}
	if l, err = PlanWholeDisk(d, WholeDiskOptions{Arch: "amd64", RootFilesystem: "xfs"}); err != nil {
		t.Fatal(err)
	}
	if _, err := Apply(dev, l); err != nil {
		t.Fatal(err)
	}
	return img, dev, l
}

func TestLoopRemovePartitionNodes(t *testing.T) {
	img, dev, l := appliedLoop(t)
	if len(loopPartitions(dev)) != 3 {
		t.Fatalf("partitions after Apply: %v", loopPartitions(dev))
	}
	if err := RemovePartitionNodes(dev); err != nil {
		t.Fatal(err)
	}
	if got := loopPartitions(dev); len(got) != 0 {
		t.Errorf("partitions left: %v", got)
	}
	// the table itself stays
	checkWithSfdisk(t, dev, l)
	if err := RemovePartitionNodes(dev); err != nil {
		t.Errorf("second RemovePartitionNodes: %v", err)
	}
	if err := RemovePartitionNodes(img); err == nil || !strings.Contains(err.Error(), "is not a block device") {
		t.Errorf("RemovePartitionNodes on a file: %v", err)
	}
}

// A partition held open only for a moment (udev probing it after an
// unmount) is removed once it is free; one held open for good is refused
// after busyWait with the kernel's EBUSY.
func TestLoopRemovePartitionNodesBusy(t *testing.T) {
	_, dev, l := appliedLoop(t)
	old := busyWait
	t.Cleanup(func() { busyWait = old })

	busyWait = 300 * time.Millisecond
	held, err := os.Open(PartitionPath(dev, 2))
	if err != nil {
		t.Fatal(err)
	}
	err = RemovePartitionNodes(dev)
	if err == nil || !errors.Is(err, unix.EBUSY) || !strings.Contains(err.Error(), "remove partition 2") {
		t.Errorf("RemovePartitionNodes with partition 2 held open: %v, want EBUSY for partition 2", err)
	}
	held.Close()
	if _, err := Apply(dev, l); err != nil { // the nodes back, the table the same
		t.Fatal(err)
	}

	busyWait = 5 * time.Second
	brief, err := os.Open(PartitionPath(dev, 2))
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(200 * time.Millisecond)
		brief.Close()
	}()
	if err := RemovePartitionNodes(dev); err != nil {
		t.Fatalf("RemovePartitionNodes with partition 2 open for 200 ms: %v", err)
	}
	if got := loopPartitions(dev); len(got) != 0 {
		t.Errorf("partitions left: %v", got)
	}
}

// A disk with a mounted partition must be refused by Apply and Wipe and
// reported by Describe; nothing may be written to it.
func TestLoopBusyDisk(t *testing.T) {
	requireRoot(t)
	requireTools(t, "losetup", "partx", "mkfs.ext4", "mount", "umount")
	img := sparseImage(t, 4<<30)
	dev := attachLoop(t, img, 512)
	d, err := Describe(dev)
	if err != nil {
		t.Fatal(err)
	}
	l, err := PlanWholeDisk(d, WholeDiskOptions{Arch: "amd64", RootFilesystem: "ext4"})
	if err != nil {
		t.Fatal(err)
	}
	applied, err := Apply(dev, l)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := l.Find(RoleRoot)
	rootNode := applied.PartitionPaths[root.Index]
	run(t, "mkfs.ext4", "-q", "-L", "root", rootNode)
	mnt := t.TempDir()
	if out, err := exec.Command("mount", rootNode, mnt).CombinedOutput(); err != nil {
		unavailable(t, "cannot mount ext4 here: "+strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("cleanup: umount %s: %v: %s", mnt, err, out)
		}
	})

	d, err = Describe(dev)
	if err != nil {
		t.Fatal(err)
	}
	want := "mounted: " + strings.TrimPrefix(rootNode, "/dev/") + " is mounted at " + mnt
	if len(d.Refusals) != 1 || d.Refusals[0] != want {
		t.Errorf("refusals %q, want [%q]", d.Refusals, want)
	}
	other, err := PlanWholeDisk(d, WholeDiskOptions{Arch: "arm64", RootFilesystem: "xfs"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Apply(dev, other); err == nil || !strings.Contains(err.Error(), "open") {
		t.Errorf("Apply to a disk with a mounted partition: %v", err)
	}
	if err := Wipe(dev); err == nil || !strings.Contains(err.Error(), "unmount its partitions") {
		t.Errorf("Wipe of a disk with a mounted partition: %v", err)
	}
	if err := Verify(dev, l); err != nil {
		t.Errorf("the refused calls changed the disk: %v", err)
	}
	if _, err := Describe(rootNode); err == nil || !strings.Contains(err.Error(), "is a partition, not a whole disk") {
		t.Errorf("Describe of a partition: %v", err)
	}
}
