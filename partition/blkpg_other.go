//go:build !linux

package partition

import (
	"errors"
	"os"
)

// errNotLinux is returned for block-device work: partition nodes, sector
// size ioctls and BLKPG exist only on Linux. Image files work everywhere.
var errNotLinux = errors.New("block devices are only supported on Linux; use an image file")

func blockSysDir(dev string) (string, error) { return "", errNotLinux }

func syncKernelPartitions(f *os.File, sysDir string, want map[int][2]uint64) error {
	return errNotLinux
}

func waitForNodes(dev, sysDir string, indexes []int) (map[int]string, error) {
	return nil, errNotLinux
}

// RemovePartitionNodes deletes every partition the kernel has registered
// for the disk dev; only on Linux.
func RemovePartitionNodes(dev string) error { return errNotLinux }

func removeKernelPartitions(f *os.File, sysDir string) error { return errNotLinux }

func flushBuffers(f *os.File) {}

func blockSectorSizes(f *os.File) (logical, physical int, size uint64, err error) {
	return 0, 0, 0, errNotLinux
}
