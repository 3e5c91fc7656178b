package partition

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// PartitionPath is the device node of partition index on disk, following
// the kernel's naming: a "p" goes between a disk name ending in a digit and
// the number (/dev/nvme0n1p1, /dev/loop0p1, /dev/mmcblk0p1), none
// otherwise (/dev/sda1, /dev/vda1).
func PartitionPath(disk string, index int) string {
	n := strconv.Itoa(index)
	if disk != "" && disk[len(disk)-1] >= '0' && disk[len(disk)-1] <= '9' {
		return disk + "p" + n
	}
	return disk + n
}

// kernelPartition is one partition the kernel has registered for a disk,
// as sysfs shows it.
type kernelPartition struct {
	name        string
	start, size uint64 // bytes
	dev         string // "major:minor"
}

// kernelPartitions lists the partitions under a disk's sysfs directory,
// keyed by partition number. sysfs counts start and size in 512-byte
// units whatever the disk's sector size.
func kernelPartitions(sysDir string) (map[int]kernelPartition, error) {
	entries, err := os.ReadDir(sysDir)
	if err != nil {
		return nil, err
	}
	out := map[int]kernelPartition{}
	for _, e := range entries {
		dir := filepath.Join(sysDir, e.Name())
		pno, err := readInt(filepath.Join(dir, "partition"))
		if err != nil {
			continue // not a partition
		}
		start, err1 := readInt(filepath.Join(dir, "start"))
		size, err2 := readInt(filepath.Join(dir, "size"))
		if err1 != nil || err2 != nil {
			continue
		}
		out[int(pno)] = kernelPartition{
			name:  e.Name(),
			start: start * 512,
			size:  size * 512,
			dev:   readTrim(filepath.Join(dir, "dev")),
		}
	}
	return out, nil
}

func readTrim(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func readInt(path string) (uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
}

func isBlockDevice(fi os.FileInfo) bool {
	return fi.Mode()&os.ModeDevice != 0 && fi.Mode()&os.ModeCharDevice == 0
}

func sortedKeys[V any](m map[int]V) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	return keys
}
