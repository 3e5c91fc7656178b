package partition

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// ScanOptions says where the kernel's views live; tests point them at a
// fake tree. Empty fields mean the real /sys, /proc and /dev.
type ScanOptions struct {
	SysRoot, ProcRoot, DevRoot string
	// LiveLabels are volume labels of the live medium besides LiveLabel
	// and the label on the kernel command line (root=live:CDLABEL=).
	LiveLabels []string
}

func (o ScanOptions) withDefaults() ScanOptions {
	if o.SysRoot == "" {
		o.SysRoot = "/sys"
	}
	if o.ProcRoot == "" {
		o.ProcRoot = "/proc"
	}
	if o.DevRoot == "" {
		o.DevRoot = "/dev"
	}
	return o
}

// Scan lists every disk the installer could target: whole disks under
// SysRoot/block except RAM, zram, unattached loop, device-mapper and md
// devices, each with its identity, existing partitions and every reason
// it is refused (read-only, mounted, swap, held, boot medium).
func Scan(o ScanOptions) ([]Disk, error) {
	s, err := newScanner(o)
	if err != nil {
		return nil, fmt.Errorf("scan disks: %w", err)
	}
	entries, err := os.ReadDir(s.blockDir)
	if err != nil {
		return nil, fmt.Errorf("scan disks: %w; is sysfs mounted at %s?", err, s.o.SysRoot)
	}
	var disks []Disk
	for _, e := range entries {
		if d, ok := s.disk(e.Name()); ok {
			disks = append(disks, d)
		}
	}
	sort.Slice(disks, func(i, j int) bool { return disks[i].Name < disks[j].Name })
	return disks, nil
}

type mount struct{ dev, point string }

// scanner holds what every disk's checks need, read once per scan.
type scanner struct {
	o        ScanOptions
	blockDir string
	sysReal  string
	mounts   []mount
	swaps    map[string]bool   // device names in use as swap
	devName  map[string]string // "8:1" -> "sda1"
	number   map[string]string // "sda1" -> "8:1"
	parent   map[string]string // "sda1" -> "sda"
	byID     map[string][]string
	byPath   map[string][]string
	boot     map[string]bool // disks the live system runs from
	// liveLabels are the live medium's volume labels besides LiveLabel.
	liveLabels []string
	// flush drops each disk's page cache before reading it (Describe).
	flush bool
}

func newScanner(o ScanOptions) (*scanner, error) {
	o = o.withDefaults()
	s := &scanner{
		o:        o,
		blockDir: filepath.Join(o.SysRoot, "block"),
		swaps:    map[string]bool{},
		devName:  map[string]string{},
		number:   map[string]string{},
		parent:   map[string]string{},
	}
	var err error
	if s.sysReal, err = filepath.EvalSymlinks(o.SysRoot); err != nil {
		return nil, fmt.Errorf("resolve %s: %w; is sysfs mounted?", o.SysRoot, err)
	}
	// Without the mount table a mounted disk would look free: fail.
	mi := filepath.Join(o.ProcRoot, "self", "mountinfo")
	if s.mounts, err = readMountinfo(mi); err != nil {
		return nil, fmt.Errorf("read %s: %w; is /proc mounted?", mi, err)
	}
	sw := filepath.Join(o.ProcRoot, "swaps")
	if err := s.readSwaps(sw); err != nil && !errors.Is(err, fs.ErrNotExist) {
		// no /proc/swaps means a kernel without swap, so nothing is swap
		return nil, fmt.Errorf("read %s: %w", sw, err)
	}
	entries, err := os.ReadDir(s.blockDir)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w; is sysfs mounted?", s.blockDir, err)
	}
	for _, e := range entries {
		dir := filepath.Join(s.blockDir, e.Name())
		if dev := readTrim(filepath.Join(dir, "dev")); dev != "" {
			s.devName[dev] = e.Name()
		}
		subs, _ := os.ReadDir(dir)
		for _, sub := range subs {
			if _, err := os.Stat(filepath.Join(dir, sub.Name(), "partition")); err != nil {
				continue
			}
			s.parent[sub.Name()] = e.Name()
			if dev := readTrim(filepath.Join(dir, sub.Name(), "dev")); dev != "" {
				s.devName[dev] = sub.Name()
			}
		}
	}
	for dev, name := range s.devName {
		s.number[name] = dev
	}
	s.byID = readLinks(filepath.Join(o.DevRoot, "disk", "by-id"))
	s.byPath = readLinks(filepath.Join(o.DevRoot, "disk", "by-path"))
	s.liveLabels = append(append([]string(nil), o.LiveLabels...), liveLabelsFromCmdline(readTrim(filepath.Join(o.ProcRoot, "cmdline")))...)
	s.boot = map[string]bool{}
	for _, m := range s.mounts {
		switch m.point {
		case "/", "/run/initramfs/live", "/run/rootfsbase":
			for _, d := range s.topDisks(s.devName[m.dev], 0) {
				s.boot[d] = true
			}
		}
	}
	return s, nil
}

// readMountinfo reads the device number and mount point of every mount.
func readMountinfo(path string) ([]mount, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []mount
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 5 {
			continue
		}
		out = append(out, mount{dev: f[2], point: unescapeMount(f[4])})
	}
	return out, sc.Err()
}

// unescapeMount undoes the kernel's octal escapes (\040 for space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func (s *scanner) readSwaps(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	for i, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if i == 0 || len(f) < 2 || f[1] != "partition" {
			continue // header, or a swap file (its filesystem shows as mounted)
		}
		name := unescapeMount(f[0])
		if real, err := filepath.EvalSymlinks(name); err == nil {
			name = real
		}
		s.swaps[filepath.Base(name)] = true
	}
	return nil
}

// readLinks maps a device name to the links in dir that point at it.
func readLinks(dir string) map[string][]string {
	out := map[string][]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return out
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		target, err := os.Readlink(p)
		if err != nil {
			continue
		}
		name := filepath.Base(target)
		out[name] = append(out[name], p)
	}
	for _, v := range out {
		sort.Strings(v)
	}
	return out
}

// topDisks follows a device down to the disks it lives on: partition to
// disk, device-mapper and md to their slaves, loop to the disk holding its
// backing file.
func (s *scanner) topDisks(name string, depth int) []string {
	if name == "" || depth > 8 {
		return nil
	}
	if p, ok := s.parent[name]; ok {
		return []string{p}
	}
	dir := filepath.Join(s.blockDir, name)
	if backing := readTrim(filepath.Join(dir, "loop", "backing_file")); backing != "" {
		if m, ok := s.mountHolding(backing); ok {
			return s.topDisks(s.devName[m.dev], depth+1)
		}
		return nil
	}
	slaves, _ := os.ReadDir(filepath.Join(dir, "slaves"))
	if len(slaves) > 0 {
		var out []string
		for _, sl := range slaves {
			out = append(out, s.topDisks(sl.Name(), depth+1)...)
		}
		return out
	}
	return []string{name}
}

// mountHolding finds the mount a file lives on: the longest mount point
// that is a prefix of its path.
func (s *scanner) mountHolding(path string) (mount, bool) {
	var best mount
	found := false
	for _, m := range s.mounts {
		if path == m.point || strings.HasPrefix(path, strings.TrimSuffix(m.point, "/")+"/") {
			if !found || len(m.point) >= len(best.point) {
				best, found = m, true
			}
		}
	}
	return best, found
}

func excluded(name string) bool {
	for _, p := range []string{"ram", "zram", "dm-", "md"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// disk describes the whole disk name; false when it is not one Scan lists.
func (s *scanner) disk(name string) (Disk, bool) {
	if excluded(name) {
		return Disk{}, false
	}
	dir := filepath.Join(s.blockDir, name)
	if _, err := os.Stat(filepath.Join(dir, "dev")); err != nil {
		return Disk{}, false
	}
	loop := strings.HasPrefix(name, "loop")
	if loop && readTrim(filepath.Join(dir, "loop", "backing_file")) == "" {
		return Disk{}, false
	}
	sectors, _ := readInt(filepath.Join(dir, "size"))
	d := Disk{
		Path:               filepath.Join(s.o.DevRoot, name),
		Name:               name,
		SizeBytes:          sectors * 512, // sysfs counts 512-byte units
		LogicalSectorSize:  readIntOr(filepath.Join(dir, "queue", "logical_block_size"), 512),
		PhysicalSectorSize: readIntOr(filepath.Join(dir, "queue", "physical_block_size"), 512),
		Rotational:         readTrim(filepath.Join(dir, "queue", "rotational")) == "1",
		Removable:          readTrim(filepath.Join(dir, "removable")) == "1",
		ReadOnly:           readTrim(filepath.Join(dir, "ro")) == "1",
		Model:              firstNonEmpty(readTrim(filepath.Join(dir, "device", "model")), readTrim(filepath.Join(dir, "device", "name"))),
		Serial:             firstNonEmpty(readTrim(filepath.Join(dir, "device", "serial")), readTrim(filepath.Join(dir, "serial")), vpdSerial(filepath.Join(dir, "device", "vpd_pg80"))),
		WWN:                firstNonEmpty(readTrim(filepath.Join(dir, "wwid")), readTrim(filepath.Join(dir, "device", "wwid"))),
		Transport:          s.transport(name),
		ByID:               s.byID[name],
		ByPath:             s.byPath[name],
	}
	devices, u := s.usage(d, dir)
	d.Refusals = refusalsFor(d, devices, u)
	s.readDisk(&d)
	liveLabelRefusal(&d, s.liveLabels)
	return d, true
}

func readIntOr(path string, def int) int {
	n, err := readInt(path)
	if err != nil || n == 0 {
		return def
	}
	return int(n)
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// vpdSerial reads the unit serial number from a SCSI VPD page 0x80, the
// only place sysfs shows a SATA disk's serial.
func vpdSerial(path string) string {
	b, err := os.ReadFile(path)
	if err != nil || len(b) < 4 || b[1] != 0x80 {
		return ""
	}
	n := int(b[2])<<8 | int(b[3])
	if 4+n > len(b) {
		n = len(b) - 4
	}
	return strings.TrimSpace(strings.Trim(string(b[4:4+n]), "\x00"))
}

// transport tells the bus from where the kernel put the device: the
// resolved /sys/block link runs through the controller's path.
func (s *scanner) transport(name string) string {
	if strings.HasPrefix(name, "loop") {
		return "loop"
	}
	p, err := filepath.EvalSymlinks(filepath.Join(s.blockDir, name))
	if err != nil {
		return ""
	}
	p = "/" + strings.TrimPrefix(strings.TrimPrefix(p, s.sysReal), "/")
	switch {
	case strings.Contains(p, "/usb"):
		return "usb"
	case strings.Contains(p, "/nvme/") || strings.HasPrefix(name, "nvme"):
		return "nvme"
	case strings.Contains(p, "/mmc_host/") || strings.HasPrefix(name, "mmcblk"):
		return "mmc"
	case strings.Contains(p, "/virtio"):
		return "virtio"
	case strings.Contains(p, "/ata"):
		return "sata"
	case strings.Contains(p, "/host"):
		return "scsi"
	}
	return ""
}

// usage gathers what the running system does with disk d (sysfs dir)
// and its partitions.
func (s *scanner) usage(d Disk, dir string) ([]string, usage) {
	u := usage{boot: s.boot[d.Name], mounts: map[string][]string{}, swaps: map[string]bool{}, holders: map[string][]string{}}
	devices := []string{d.Name}
	subs, _ := os.ReadDir(dir)
	for _, sub := range subs {
		if s.parent[sub.Name()] == d.Name {
			devices = append(devices, sub.Name())
		}
	}
	for _, dev := range devices {
		for _, m := range s.mounts {
			if m.dev == s.number[dev] {
				u.mounts[dev] = append(u.mounts[dev], m.point)
			}
		}
		if s.swaps[dev] {
			u.swaps[dev] = true
		}
		hdir := filepath.Join(dir, "holders")
		if dev != d.Name {
			hdir = filepath.Join(dir, dev, "holders")
		}
		holders, _ := os.ReadDir(hdir)
		for _, h := range holders {
			u.holders[dev] = append(u.holders[dev], h.Name()+s.holderKind(h.Name()))
		}
	}
	return devices, u
}

// holderKind says what a holder is, so the user knows what to stop.
func (s *scanner) holderKind(holder string) string {
	dir := filepath.Join(s.blockDir, holder)
	switch {
	case strings.HasPrefix(holder, "dm-"):
		uuid := readTrim(filepath.Join(dir, "dm", "uuid"))
		kind := "device-mapper"
		switch {
		case strings.HasPrefix(uuid, "LVM-"):
			kind = "LVM/device-mapper"
		case strings.HasPrefix(uuid, "CRYPT-"):
			kind = "LUKS/device-mapper"
		case strings.HasPrefix(uuid, "mpath-"):
			kind = "multipath/device-mapper"
		}
		if n := readTrim(filepath.Join(dir, "dm", "name")); n != "" {
			kind += ", " + n
		}
		return " (" + kind + ")"
	case strings.HasPrefix(holder, "md"):
		if l := readTrim(filepath.Join(dir, "md", "level")); l != "" {
			return " (software RAID, " + l + ")"
		}
		return " (software RAID)"
	case strings.HasPrefix(holder, "bcache"):
		return " (bcache)"
	}
	return ""
}

// readDisk reads the table and filesystems when the device can be opened;
// a disk we may not read is listed without them, not as an error.
func (s *scanner) readDisk(d *Disk) {
	if d.SizeBytes == 0 {
		return
	}
	f, err := os.Open(d.Path)
	if err != nil {
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return
	}
	if isBlockDevice(fi) {
		if s.flush {
			flushBuffers(f)
		}
	} else if !fi.Mode().IsRegular() {
		return
	}
	readContents(f, d)
	attachJournal(d, f)
}
