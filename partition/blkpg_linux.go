//go:build linux

package partition

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// sysBlockDir is where a block device's kernel object lives. A variable so
// nothing else in the package hard-codes it.
var sysBlockDir = "/sys/dev/block"

// nodeWait is how long Apply waits for devtmpfs or udev to create the
// partition nodes after the kernel learnt about them.
var nodeWait = 5 * time.Second

// blockSysDir finds the sysfs directory of the block device node dev by
// its device number, so it works whatever /dev name (or by-id link) was
// given. It fails for anything but a whole disk.
func blockSysDir(dev string) (string, error) {
	var st unix.Stat_t
	if err := unix.Stat(dev, &st); err != nil {
		return "", fmt.Errorf("stat %s: %w", dev, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFBLK {
		return "", fmt.Errorf("%s is not a block device", dev)
	}
	link := filepath.Join(sysBlockDir, fmt.Sprintf("%d:%d", unix.Major(uint64(st.Rdev)), unix.Minor(uint64(st.Rdev))))
	dir, err := filepath.EvalSymlinks(link)
	if err != nil {
		return "", fmt.Errorf("find %s in sysfs: %w", dev, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "partition")); err == nil {
		return "", fmt.Errorf("%s is a partition, not a whole disk; use its disk (%s)", dev, filepath.Base(filepath.Dir(dir)))
	}
	return dir, nil
}

// blkpg adds or deletes one kernel partition (BLKPG ioctl, what partx
// does). start and length are bytes.
func blkpg(fd uintptr, op int32, pno int, start, length int64) error {
	p := unix.BlkpgPartition{Start: start, Length: length, Pno: int32(pno)}
	arg := unix.BlkpgIoctlArg{Op: op, Datalen: int32(unsafe.Sizeof(p)), Data: (*byte)(unsafe.Pointer(&p))}
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, fd, unix.BLKPG, uintptr(unsafe.Pointer(&arg)))
	if errno != 0 {
		return errno
	}
	return nil
}

// syncKernelPartitions makes the kernel's partition list for the disk
// open as f equal want (index -> start, size in bytes). go-diskfs's
// re-read is not enough: on kernels without partition-table parsers
// BLKRRPART succeeds and registers nothing.
func syncKernelPartitions(f *os.File, sysDir string, want map[int][2]uint64) error {
	have, err := kernelPartitions(sysDir)
	if err != nil {
		return fmt.Errorf("list kernel partitions of %s: %w", f.Name(), err)
	}
	for _, pno := range sortedKeys(have) {
		k := have[pno]
		if w, ok := want[pno]; ok && w == [2]uint64{k.start, k.size} {
			continue
		}
		if err := blkpg(f.Fd(), unix.BLKPG_DEL_PARTITION, pno, 0, 0); err != nil && !errors.Is(err, unix.ENXIO) {
			return fmt.Errorf("remove stale partition %d (%s) of %s: %w; unmount it and close what uses it", pno, k.name, f.Name(), err)
		}
		delete(have, pno)
	}
	for _, pno := range sortedKeys(want) {
		if _, ok := have[pno]; ok {
			continue
		}
		w := want[pno]
		if err := blkpg(f.Fd(), unix.BLKPG_ADD_PARTITION, pno, int64(w[0]), int64(w[1])); err != nil {
			return fmt.Errorf("add partition %d to %s: %w", pno, f.Name(), err)
		}
	}
	return nil
}

// waitForNodes waits until every partition node exists as a block device
// with the number sysfs gives it.
func waitForNodes(dev, sysDir string, indexes []int) (map[int]string, error) {
	paths := map[int]string{}
	deadline := time.Now().Add(nodeWait)
	for {
		have, err := kernelPartitions(sysDir)
		if err != nil {
			return nil, fmt.Errorf("list kernel partitions of %s: %w", dev, err)
		}
		var missing []string
		for _, i := range indexes {
			p := PartitionPath(dev, i)
			paths[i] = p
			k, ok := have[i]
			if !ok {
				missing = append(missing, fmt.Sprintf("%s (the kernel has no partition %d)", p, i))
				continue
			}
			var st unix.Stat_t
			if err := unix.Stat(p, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFBLK ||
				fmt.Sprintf("%d:%d", unix.Major(uint64(st.Rdev)), unix.Minor(uint64(st.Rdev))) != k.dev {
				missing = append(missing, p)
			}
		}
		if len(missing) == 0 {
			return paths, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("partition nodes did not appear within %s: %v; check that devtmpfs or udev manages /dev", nodeWait, missing)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// RemovePartitionNodes deletes every partition the kernel has registered
// for the disk dev (BLKPG), leaving the on-disk table alone. Partitions
// added by BLKPG outlive the table and even a loop device's detach, so a
// wipe or a test cleanup must remove them.
func RemovePartitionNodes(dev string) error {
	real, err := filepath.EvalSymlinks(dev)
	if err != nil {
		return fmt.Errorf("remove partition nodes of %s: %w", dev, err)
	}
	sysDir, err := blockSysDir(real)
	if err != nil {
		return fmt.Errorf("remove partition nodes of %s: %w", dev, err)
	}
	f, err := os.Open(real)
	if err != nil {
		return fmt.Errorf("remove partition nodes of %s: open: %w", dev, err)
	}
	defer f.Close()
	return removeKernelPartitions(f, sysDir)
}

func removeKernelPartitions(f *os.File, sysDir string) error {
	have, err := kernelPartitions(sysDir)
	if err != nil {
		return fmt.Errorf("list kernel partitions of %s: %w", f.Name(), err)
	}
	var errs []error
	for _, pno := range sortedKeys(have) {
		if err := delPartition(f, pno); err != nil && !errors.Is(err, unix.ENXIO) {
			errs = append(errs, fmt.Errorf("remove partition %d (%s) of %s: %w; unmount it and close what uses it", pno, have[pno].name, f.Name(), err))
		}
	}
	return errors.Join(errs...)
}

// busyWait is how long a partition that is busy right after an unmount
// may stay busy before its removal fails: udev's probe of a partition
// whose writer just closed it holds it open for a moment.
var busyWait = 3 * time.Second

// delPartition removes partition pno, retrying while it is briefly busy.
func delPartition(f *os.File, pno int) error {
	deadline := time.Now().Add(busyWait)
	for {
		err := blkpg(f.Fd(), unix.BLKPG_DEL_PARTITION, pno, 0, 0)
		if !errors.Is(err, unix.EBUSY) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// flushBuffers drops the disk's page cache so reads see what mkfs wrote
// through the partition nodes, which have caches of their own. Best
// effort: it needs CAP_SYS_ADMIN.
func flushBuffers(f *os.File) {
	_ = unix.IoctlSetInt(int(f.Fd()), unix.BLKFLSBUF, 0)
}

func blockSectorSizes(f *os.File) (logical, physical int, size uint64, err error) {
	fd := int(f.Fd())
	if logical, err = unix.IoctlGetInt(fd, unix.BLKSSZGET); err != nil {
		return 0, 0, 0, fmt.Errorf("get logical sector size of %s: %w", f.Name(), err)
	}
	if physical, err = unix.IoctlGetInt(fd, unix.BLKPBSZGET); err != nil {
		return 0, 0, 0, fmt.Errorf("get physical sector size of %s: %w", f.Name(), err)
	}
	var sz uint64
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, f.Fd(), unix.BLKGETSIZE64, uintptr(unsafe.Pointer(&sz))); errno != 0 {
		return 0, 0, 0, fmt.Errorf("get size of %s: %w", f.Name(), errno)
	}
	return logical, physical, sz, nil
}
