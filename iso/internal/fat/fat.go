// Package fat writes small, reproducible FAT16 images, such as the El Torito EFI boot image of the live ISO.
package fat

import (
	"encoding/binary"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"
)

// File is one regular file of the image. Path is slash-separated and
// relative ("EFI/BOOT/BOOTX64.EFI"); directories are implied.
type File struct {
	Path string
	Data []byte
}

// Options shape the image. Everything that could vary between two builds
// of the same files is an option, so the same options give the same bytes.
type Options struct {
	// Label is the volume label (up to 11 characters, upper-cased).
	Label string
	// Serial is the volume serial number.
	Serial uint32
	// Time stamps every directory entry (UTC; clamped to 1980..2107,
	// what FAT can express).
	Time time.Time
	// FreeBytes is extra free space to leave, for firmware or people that
	// write to the image.
	FreeBytes int64
}

const (
	sectorSize  = 512
	rootEntries = 512
	rootSectors = rootEntries * 32 / sectorSize
	reserved    = 1
	numFATs     = 2
	// FAT16 needs at least this many clusters: readers decide the FAT type
	// from the cluster count alone, so fewer would make it FAT12.
	minClusters16 = 4085 + 16
	maxClusters16 = 65524
)

type node struct {
	name     string // the long name as given
	short    [11]byte
	caseFlag byte
	dir      bool
	data     []byte
	children []*node
	parent   *node
	cluster  uint32
	clusters uint32
}

// Build returns the bytes of a FAT16 image holding files. It refuses names
// that do not fit the 8.3 form (firmware and shim look files up by short
// name; long-name entries would only add ways to disagree).
func Build(files []File, opt Options) ([]byte, error) {
	root := &node{dir: true}
	for _, f := range files {
		if err := root.add(f); err != nil {
			return nil, err
		}
	}
	root.sort()
	if len(root.children)+1 > rootEntries {
		return nil, fmt.Errorf("fat image: %d entries in the root directory, at most %d fit; move files into a subdirectory", len(root.children), rootEntries-1)
	}

	// Pick the smallest cluster that keeps the count within FAT16.
	var spc uint32
	var clusters uint32
	for s := uint32(1); s <= 64; s *= 2 {
		need := root.countClusters(s * sectorSize)
		need += uint32((opt.FreeBytes + int64(s*sectorSize) - 1) / int64(s*sectorSize))
		if need <= maxClusters16 {
			spc, clusters = s, max(need, minClusters16)
			break
		}
	}
	if spc == 0 {
		return nil, fmt.Errorf("fat image: the files need more than %d MiB, more than a FAT16 boot image holds; keep only the boot loader in the EFI directory", maxClusters16*64*sectorSize>>20)
	}
	fatSectors := ((clusters+2)*2 + sectorSize - 1) / sectorSize
	total := reserved + numFATs*fatSectors + rootSectors + clusters*spc
	img := make([]byte, int(total)*sectorSize)
	cs := spc * sectorSize

	// Allocate clusters in a fixed order: each directory, then its files,
	// depth first.
	next := uint32(2)
	fat := make([]uint16, clusters+2)
	fat[0], fat[1] = 0xFFF8, 0xFFFF
	var alloc func(n *node)
	alloc = func(n *node) {
		for _, c := range n.children {
			if c.clusters > 0 {
				c.cluster = next
				for i := uint32(0); i < c.clusters; i++ {
					if i == c.clusters-1 {
						fat[next] = 0xFFFF
					} else {
						fat[next] = uint16(next + 1)
					}
					next++
				}
			}
			if c.dir {
				alloc(c)
			}
		}
	}
	alloc(root)

	dataStart := int(reserved+numFATs*fatSectors+rootSectors) * sectorSize
	clusterOff := func(c uint32) int { return dataStart + int(c-2)*int(cs) }
	stamp := dosStamp(opt.Time)
	label := shortLabel(opt.Label)

	// The root directory: the volume label, then the entries.
	rootOff := int(reserved+numFATs*fatSectors) * sectorSize
	w := rootOff
	if opt.Label != "" {
		putEntry(img[w:], label, 0, 0x08, 0, 0, stamp)
		w += 32
	}
	var writeDir func(n *node, off int)
	writeDir = func(n *node, off int) {
		for _, c := range n.children {
			attr := byte(0x20)
			size := uint32(len(c.data))
			if c.dir {
				attr, size = 0x10, 0
			}
			putEntry(img[off:], c.short, c.caseFlag, attr, c.cluster, size, stamp)
			off += 32
			if c.dir {
				d := clusterOff(c.cluster)
				putEntry(img[d:], dotName("."), 0, 0x10, c.cluster, 0, stamp)
				parent := uint32(0) // ".." of a first-level directory is 0, not the root's cluster
				if c.parent != root {
					parent = c.parent.cluster
				}
				putEntry(img[d+32:], dotName(".."), 0, 0x10, parent, 0, stamp)
				writeDir(c, d+64)
			} else if len(c.data) > 0 {
				copy(img[clusterOff(c.cluster):], c.data)
			}
		}
	}
	writeDir(root, w)

	// Boot sector (BPB with the extended boot signature).
	b := img[:sectorSize]
	copy(b[0:], []byte{0xEB, 0x3C, 0x90})
	copy(b[3:11], "UAI     ")
	binary.LittleEndian.PutUint16(b[11:], sectorSize)
	b[13] = byte(spc)
	binary.LittleEndian.PutUint16(b[14:], reserved)
	b[16] = numFATs
	binary.LittleEndian.PutUint16(b[17:], rootEntries)
	if total <= 0xFFFF {
		binary.LittleEndian.PutUint16(b[19:], uint16(total))
	} else {
		binary.LittleEndian.PutUint32(b[32:], total)
	}
	b[21] = 0xF8
	binary.LittleEndian.PutUint16(b[22:], uint16(fatSectors))
	binary.LittleEndian.PutUint16(b[24:], 63)
	binary.LittleEndian.PutUint16(b[26:], 255)
	b[36] = 0x80
	b[38] = 0x29
	binary.LittleEndian.PutUint32(b[39:], opt.Serial)
	copy(b[43:54], label[:])
	copy(b[54:62], "FAT16   ")
	// Not bootable from BIOS: a jump to an endless halt loop.
	copy(b[62:], []byte{0xFA, 0xF4, 0xEB, 0xFD})
	b[510], b[511] = 0x55, 0xAA

	for i := 0; i < numFATs; i++ {
		off := int(reserved+uint32(i)*fatSectors) * sectorSize
		for c, v := range fat {
			binary.LittleEndian.PutUint16(img[off+2*c:], v)
		}
	}
	return img, nil
}

func (n *node) add(f File) error {
	p := strings.Trim(path.Clean("/"+f.Path), "/")
	if p == "" || p == "." {
		return fmt.Errorf("fat image: file %q has no name", f.Path)
	}
	parts := strings.Split(p, "/")
	cur := n
	for i, part := range parts {
		last := i == len(parts)-1
		var found *node
		for _, c := range cur.children {
			if strings.EqualFold(c.name, part) {
				found = c
			}
		}
		if found != nil {
			if last || !found.dir {
				return fmt.Errorf("fat image: %s is given twice (names are case-insensitive)", p)
			}
			cur = found
			continue
		}
		short, flag, err := shortName(part)
		if err != nil {
			return fmt.Errorf("fat image: %s: %w", p, err)
		}
		c := &node{name: part, short: short, caseFlag: flag, dir: !last, parent: cur}
		if last {
			c.data = f.Data
		}
		cur.children = append(cur.children, c)
		cur = c
	}
	return nil
}

func (n *node) sort() {
	sort.Slice(n.children, func(i, j int) bool { return n.children[i].name < n.children[j].name })
	for _, c := range n.children {
		if c.dir {
			c.sort()
		}
	}
}

// countClusters sets each node's cluster count for cluster size cs and
// returns the total.
func (n *node) countClusters(cs uint32) uint32 {
	var total uint32
	for _, c := range n.children {
		if c.dir {
			c.clusters = max(1, ((uint32(len(c.children))+2)*32+cs-1)/cs)
			total += c.countClusters(cs)
		} else {
			c.clusters = (uint32(len(c.data)) + cs - 1) / cs
		}
		total += c.clusters
	}
	return total
}

// shortName turns a name into its 8.3 directory form and the case flags
// Windows NT and Linux use to show an all-lowercase base or extension.
func shortName(name string) ([11]byte, byte, error) {
	var out [11]byte
	for i := range out {
		out[i] = ' '
	}
	base, ext := name, ""
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		base, ext = name[:i], name[i+1:]
	}
	if len(base) == 0 || len(base) > 8 || len(ext) > 3 || strings.Contains(base, ".") {
		return out, 0, fmt.Errorf("the name %q does not fit the 8.3 form FAT short names need; rename it", name)
	}
	var flag byte
	for _, part := range []struct {
		s     string
		off   int
		lower byte
	}{{base, 0, 0x08}, {ext, 8, 0x10}} {
		hasUpper, hasLower := false, false
		for i := 0; i < len(part.s); i++ {
			c := part.s[i]
			switch {
			case c >= 'a' && c <= 'z':
				hasLower = true
				c -= 'a' - 'A'
			case c >= 'A' && c <= 'Z':
				hasUpper = true
			case c >= '0' && c <= '9' || strings.IndexByte("!#$%&'()-@^_`{}~", c) >= 0:
			default:
				return out, 0, fmt.Errorf("the name %q has the character %q, which FAT short names cannot hold; rename it", name, c)
			}
			out[part.off+i] = c
		}
		if hasUpper && hasLower {
			return out, 0, fmt.Errorf("the name %q mixes upper and lower case in one part, which FAT short names cannot keep; use one case", name)
		}
		if hasLower {
			flag |= part.lower
		}
	}
	return out, flag, nil
}

func dotName(s string) [11]byte {
	var out [11]byte
	for i := range out {
		out[i] = ' '
	}
	copy(out[:], s)
	return out
}

func shortLabel(s string) [11]byte {
	var out [11]byte
	for i := range out {
		out[i] = ' '
	}
	if s == "" {
		copy(out[:], "NO NAME")
		return out
	}
	copy(out[:], strings.ToUpper(s))
	return out
}

type dosTime struct{ date, time uint16 }

func dosStamp(t time.Time) dosTime {
	t = t.UTC()
	if t.Year() < 1980 {
		t = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if t.Year() > 2107 {
		t = time.Date(2107, 12, 31, 23, 59, 58, 0, time.UTC)
	}
	return dosTime{
		date: uint16((t.Year()-1980)<<9 | int(t.Month())<<5 | t.Day()),
		time: uint16(t.Hour()<<11 | t.Minute()<<5 | t.Second()/2),
	}
}

func putEntry(b []byte, name [11]byte, caseFlag, attr byte, cluster, size uint32, ts dosTime) {
	copy(b[0:11], name[:])
	b[11] = attr
	b[12] = caseFlag
	binary.LittleEndian.PutUint16(b[14:], ts.time)
	binary.LittleEndian.PutUint16(b[16:], ts.date)
	binary.LittleEndian.PutUint16(b[18:], ts.date)
	binary.LittleEndian.PutUint16(b[20:], uint16(cluster>>16))
	binary.LittleEndian.PutUint16(b[22:], ts.time)
	binary.LittleEndian.PutUint16(b[24:], ts.date)
	binary.LittleEndian.PutUint16(b[26:], uint16(cluster))
	binary.LittleEndian.PutUint32(b[28:], size)
}
