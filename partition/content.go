package partition

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	iofs "io/fs"
	"path"
	"sort"
	"strings"

	"github.com/diskfs/go-diskfs/backend"
	"github.com/diskfs/go-diskfs/backend/file"
	"github.com/diskfs/go-diskfs/filesystem/ext4"
	"github.com/diskfs/go-diskfs/filesystem/fat12"
	"github.com/diskfs/go-diskfs/filesystem/fat16"
	"github.com/diskfs/go-diskfs/filesystem/fat32"
)

// Content is what uai found inside a partition's filesystem. Only FAT and
// ext4 are read (with go-diskfs, never mounted); other filesystems are
// listed as not inspected, with the reason, rather than guessed at.
type Content struct {
	// Inspected is true when uai read the filesystem; Note says why not,
	// or what was odd about it.
	Inspected bool   `json:"inspected"`
	Note      string `json:"note,omitempty"`
	// BootLoaders are the EFI boot loaders on an ESP, as "name (path)".
	BootLoaders []string `json:"boot_loaders,omitempty"`
	// Windows is true when the ESP holds the Windows Boot Manager.
	Windows bool `json:"windows,omitempty"`
	// OS is the PRETTY_NAME of an installed Linux, from its os-release.
	OS string `json:"os,omitempty"`
	// Ostree describes an ostree or bootc system's sysroot.
	Ostree *Ostree `json:"ostree,omitempty"`
	// BootEntries counts boot loader entries (loader/entries/*.conf) on a
	// /boot or ESP filesystem.
	BootEntries int `json:"boot_entries,omitempty"`
	// FreeBytes is the free space of a FAT filesystem (counted in its
	// FAT, not taken from the FSInfo hint, which may be stale).
	FreeBytes uint64 `json:"free_bytes,omitempty"`
}

// Ostree is an ostree sysroot: an rpm-ostree or bootc system.
type Ostree struct {
	Stateroots  []string `json:"stateroots"`
	Deployments int      `json:"deployments"`
	// Images are the container images the deployments follow (bootc and
	// rpm-ostree native containers); empty for classic ostree refs.
	Images []string `json:"images,omitempty"`
	// Refs are classic ostree refs (refspec=) of the deployments.
	Refs []string `json:"refs,omitempty"`
}

// Content inspection limits: a FAT larger than this is not an ESP and its
// FAT table would cost real time to count on every scan.
const maxInspectFATBytes = 4 * GiB

// inspect looks inside the filesystem of e. It never fails: whatever it
// cannot read becomes a note. go-diskfs readers may panic on corrupt
// metadata; inventory must survive any disk, so panics become notes too.
func inspect(f backend.File, e *Existing) (c *Content) {
	defer func() {
		if r := recover(); r != nil {
			c = &Content{Note: fmt.Sprintf("%s: could not be read (%v)", e.Filesystem, r)}
		}
	}()
	switch e.Filesystem {
	case "vfat":
		return inspectFAT(f, e)
	case "ext4", "ext3", "ext2":
		return inspectExt(f, e)
	case "xfs", "btrfs":
		return &Content{Note: e.Filesystem + ": not inspected (uai reads FAT and ext4 only; a Linux system may be on it)"}
	case "ntfs":
		return &Content{Note: "ntfs: not inspected (uai does not read NTFS; Windows or its data may be on it)"}
	case "crypto_LUKS":
		return &Content{Note: "encrypted (LUKS): not inspected"}
	case "swap":
		return &Content{Inspected: true, Note: "swap space"}
	}
	return nil
}

// fatReader is what go-diskfs's FAT12/16/32 filesystems share. Paths are
// relative ("EFI/BOOT"): go-diskfs refuses a leading slash.
type fatReader interface {
	ReadDir(p string) ([]iofs.DirEntry, error)
	ReadFile(p string) ([]byte, error)
}

func inspectFAT(f backend.File, e *Existing) *Content {
	if e.SizeBytes > maxInspectFATBytes {
		return &Content{Note: fmt.Sprintf("vfat: not inspected (%s is larger than any ESP)", humanBytes(e.SizeBytes))}
	}
	st := file.New(f, true)
	bpb, err := readBPB(f, int64(e.StartBytes))
	if err != nil {
		return &Content{Note: "vfat: could not be read: " + err.Error()}
	}
	var fs fatReader
	switch bpb.kind {
	case 32:
		fs, err = fat32.Read(st, int64(e.SizeBytes), int64(e.StartBytes), 0)
	case 16:
		fs, err = fat16.Read(st, int64(e.SizeBytes), int64(e.StartBytes), 0)
	default:
		fs, err = fat12.Read(st, int64(e.SizeBytes), int64(e.StartBytes), 0)
	}
	c := &Content{}
	if free, ferr := bpb.freeBytes(f, int64(e.StartBytes)); ferr == nil {
		c.FreeBytes = free
	}
	if err != nil {
		c.Note = "vfat: could not be read: " + err.Error()
		return c
	}
	c.Inspected = true
	c.BootLoaders, c.Windows = bootLoaders(fs)
	c.BootEntries = countEntries(fs)
	return c
}

// knownLoaders maps a boot loader file (lower-case, under EFI/) to its
// name. Order matters: the first file found in a directory names it.
var knownLoaders = []struct{ file, name string }{
	{"microsoft/boot/bootmgfw.efi", "Windows Boot Manager"},
	{"systemd/systemd-bootx64.efi", "systemd-boot"},
	{"systemd/systemd-bootaa64.efi", "systemd-boot"},
	{"refind/refind_x64.efi", "rEFInd"},
	{"refind/refind_aa64.efi", "rEFInd"},
	{"boot/bootx64.efi", "fallback boot loader"},
	{"boot/bootaa64.efi", "fallback boot loader"},
}

// bootLoaders lists the EFI boot loaders on an ESP: the well-known ones by
// file, and for every other vendor directory its shim or GRUB (the way
// Linux distributions install themselves: EFI/fedora/shimx64.efi).
func bootLoaders(fs fatReader) (out []string, windows bool) {
	top, err := fs.ReadDir("EFI")
	if err != nil {
		return nil, false
	}
	for _, d := range top {
		if !d.IsDir() || d.Name() == "." || d.Name() == ".." {
			continue
		}
		dir := d.Name()
		files := map[string]string{} // lower-case path under EFI -> real path
		collect := func(sub string) {
			ents, err := fs.ReadDir(path.Join("EFI", sub))
			if err != nil {
				return
			}
			for _, f := range ents {
				if !f.IsDir() {
					p := path.Join(sub, f.Name())
					files[strings.ToLower(p)] = "EFI/" + p
				}
			}
		}
		collect(dir)
		if strings.EqualFold(dir, "Microsoft") {
			collect(path.Join(dir, "Boot"))
		}
		found := false
		for _, k := range knownLoaders {
			if real, ok := files[k.file]; ok {
				out = append(out, k.name+" ("+real+")")
				windows = windows || k.name == "Windows Boot Manager"
				found = true
				break
			}
		}
		if found {
			continue
		}
		var efis []string
		for lower, real := range files {
			if strings.HasSuffix(lower, ".efi") {
				efis = append(efis, real)
			}
		}
		sort.Strings(efis)
		for _, pref := range []string{"shim", "grub"} {
			for _, p := range efis {
				if strings.HasPrefix(strings.ToLower(path.Base(p)), pref) {
					out = append(out, "GRUB for "+dir+" ("+p+")")
					found = true
					break
				}
			}
			if found {
				break
			}
		}
		if !found && len(efis) > 0 {
			out = append(out, "unknown boot loader in "+dir+" ("+efis[0]+")")
		}
	}
	sort.Strings(out)
	return out, windows
}

func countEntries(fs fatReader) int {
	ents, err := fs.ReadDir("loader/entries")
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range ents {
		if !e.IsDir() && strings.HasSuffix(strings.ToLower(e.Name()), ".conf") {
			n++
		}
	}
	return n
}

func inspectExt(f backend.File, e *Existing) *Content {
	if e.Filesystem != "ext4" {
		// go-diskfs reads ext4 only; an ext2/3 superblock lacks what it needs
		return &Content{Note: e.Filesystem + ": not inspected (uai reads ext4, not " + e.Filesystem + ")"}
	}
	fs, err := ext4.Read(file.New(f, true), int64(e.SizeBytes), int64(e.StartBytes), 512)
	if err != nil {
		return &Content{Note: "ext4: could not be read: " + err.Error()}
	}
	c := &Content{Inspected: true}
	for _, p := range []string{"etc/os-release", "usr/lib/os-release"} {
		if b, err := fs.ReadFile(p); err == nil {
			if name := osReleaseName(b); name != "" {
				c.OS = name
				break
			}
		}
	}
	c.Ostree = ostreeSysroot(fs)
	if ents, err := fs.ReadDir("loader/entries"); err == nil {
		for _, e := range ents {
			if !e.IsDir() && strings.HasSuffix(e.Name(), ".conf") {
				c.BootEntries++
			}
		}
	}
	return c
}

// osReleaseName reads PRETTY_NAME (or NAME) from an os-release file.
func osReleaseName(b []byte) string {
	vals := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok {
			continue
		}
		vals[k] = strings.Trim(v, `"'`)
	}
	return firstNonEmpty(vals["PRETTY_NAME"], vals["NAME"])
}

// ostreeSysroot finds an ostree sysroot: ostree/repo plus
// ostree/deploy/<stateroot>/deploy/<checksum>.<serial>.origin files, which
// say what each deployment follows.
func ostreeSysroot(fs *ext4.FileSystem) *Ostree {
	if _, err := fs.ReadDir("ostree/repo"); err != nil {
		return nil
	}
	o := &Ostree{Stateroots: []string{}}
	roots, _ := fs.ReadDir("ostree/deploy")
	images, refs := map[string]bool{}, map[string]bool{}
	for _, r := range roots {
		if !r.IsDir() || r.Name() == "." || r.Name() == ".." {
			continue
		}
		o.Stateroots = append(o.Stateroots, r.Name())
		deps, _ := fs.ReadDir(path.Join("ostree/deploy", r.Name(), "deploy"))
		for _, d := range deps {
			if d.IsDir() || !strings.HasSuffix(d.Name(), ".origin") {
				continue
			}
			o.Deployments++
			b, err := fs.ReadFile(path.Join("ostree/deploy", r.Name(), "deploy", d.Name()))
			if err != nil {
				continue
			}
			img, ref := parseOrigin(b)
			if img != "" {
				images[img] = true
			}
			if ref != "" {
				refs[ref] = true
			}
		}
	}
	o.Images = sortedSet(images)
	o.Refs = sortedSet(refs)
	return o
}

// parseOrigin reads an ostree deployment's .origin keyfile: a container
// image reference (bootc, rpm-ostree native containers) or a classic ref.
func parseOrigin(b []byte) (image, ref string) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "container-image-reference":
			image = stripOriginTransport(strings.TrimSpace(v))
		case "refspec", "baserefspec":
			ref = strings.TrimSpace(v)
		}
	}
	return image, ref
}

// stripOriginTransport turns "ostree-unverified-registry:quay.io/x:1" or
// "ostree-image-signed:docker://quay.io/x:1" into "quay.io/x:1".
func stripOriginTransport(ref string) string {
	for _, p := range []string{"ostree-unverified-registry:", "ostree-remote-registry:", "ostree-remote-image:", "ostree-image-signed:", "ostree-unverified-image:"} {
		if strings.HasPrefix(ref, p) {
			ref = strings.TrimPrefix(ref, p)
			break
		}
	}
	// "fedora:docker://quay.io/x" names a remote, then a transport
	if i := strings.Index(ref, "docker://"); i >= 0 {
		return ref[i+len("docker://"):]
	}
	return strings.TrimPrefix(ref, "registry:")
}

func sortedSet(m map[string]bool) []string {
	if len(m) == 0 {
		return nil
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// bpb is the part of a FAT boot sector needed to count free clusters.
type bpb struct {
	kind              int // 12, 16 or 32
	bytesPerSector    uint64
	sectorsPerCluster uint64
	fatStart, fatSize uint64 // bytes, relative to the filesystem
	clusters          uint64
}

func readBPB(f backend.File, start int64) (bpb, error) {
	b := make([]byte, 512)
	if _, err := f.ReadAt(b, start); err != nil {
		return bpb{}, fmt.Errorf("read boot sector: %w", err)
	}
	if !fatBootSector(b) {
		return bpb{}, fmt.Errorf("no FAT boot sector")
	}
	le16 := func(o int) uint64 { return uint64(binary.LittleEndian.Uint16(b[o:])) }
	le32 := func(o int) uint64 { return uint64(binary.LittleEndian.Uint32(b[o:])) }
	p := bpb{bytesPerSector: le16(11), sectorsPerCluster: uint64(b[13])}
	reserved, fats, rootEntries := le16(14), uint64(b[16]), le16(17)
	total := le16(19)
	if total == 0 {
		total = le32(32)
	}
	fatSectors := le16(22)
	if fatSectors == 0 {
		fatSectors = le32(36)
	}
	if p.sectorsPerCluster == 0 || fats == 0 || fatSectors == 0 {
		return bpb{}, fmt.Errorf("boot sector has zero sectors per cluster, FATs or FAT size")
	}
	rootSectors := (rootEntries*32 + p.bytesPerSector - 1) / p.bytesPerSector
	meta := reserved + fats*fatSectors + rootSectors
	if total <= meta {
		return bpb{}, fmt.Errorf("boot sector counts %d sectors, fewer than its own metadata", total)
	}
	p.clusters = (total - meta) / p.sectorsPerCluster
	switch {
	case p.clusters < 4085:
		p.kind = 12
	case p.clusters < 65525:
		p.kind = 16
	default:
		p.kind = 32
	}
	p.fatStart = reserved * p.bytesPerSector
	p.fatSize = fatSectors * p.bytesPerSector
	return p, nil
}

// freeBytes counts the free clusters in the first FAT.
func (p bpb) freeBytes(f backend.File, start int64) (uint64, error) {
	fat := make([]byte, p.fatSize)
	if _, err := f.ReadAt(fat, start+int64(p.fatStart)); err != nil {
		return 0, err
	}
	var free uint64
	for c := uint64(2); c < p.clusters+2; c++ {
		var v uint64
		switch p.kind {
		case 32:
			if 4*c+4 > uint64(len(fat)) {
				return free * p.sectorsPerCluster * p.bytesPerSector, nil
			}
			v = uint64(binary.LittleEndian.Uint32(fat[4*c:])) & 0x0FFFFFFF
		case 16:
			if 2*c+2 > uint64(len(fat)) {
				return free * p.sectorsPerCluster * p.bytesPerSector, nil
			}
			v = uint64(binary.LittleEndian.Uint16(fat[2*c:]))
		default:
			o := c + c/2
			if o+2 > uint64(len(fat)) {
				return free * p.sectorsPerCluster * p.bytesPerSector, nil
			}
			v = uint64(binary.LittleEndian.Uint16(fat[o:]))
			if c%2 == 1 {
				v >>= 4
			}
			v &= 0xFFF
		}
		if v == 0 {
			free++
		}
	}
	return free * p.sectorsPerCluster * p.bytesPerSector, nil
}

// summarize fills in d.Systems from the partitions' contents.
func summarize(d *Disk) {
	d.Systems = nil
	for _, p := range d.Partitions {
		c := p.Content
		if c == nil {
			continue
		}
		where := fmt.Sprintf(" on partition %d", p.Index)
		for _, l := range c.BootLoaders {
			d.Systems = append(d.Systems, l+where)
		}
		switch {
		case c.Ostree != nil && len(c.Ostree.Images) > 0:
			s := "bootc/ostree system following " + strings.Join(c.Ostree.Images, ", ")
			if c.OS != "" {
				s = c.OS + ", " + s
			}
			d.Systems = append(d.Systems, s+where)
		case c.Ostree != nil:
			s := fmt.Sprintf("ostree system (%d deployments)", c.Ostree.Deployments)
			if len(c.Ostree.Refs) > 0 {
				s = fmt.Sprintf("ostree system following %s", strings.Join(c.Ostree.Refs, ", "))
			}
			d.Systems = append(d.Systems, s+where)
		case c.OS != "":
			d.Systems = append(d.Systems, c.OS+where)
		case p.Filesystem == "crypto_LUKS":
			d.Systems = append(d.Systems, "encrypted volume (LUKS, not inspected)"+where)
		case !c.Inspected && p.Filesystem != "":
			d.Systems = append(d.Systems, p.Filesystem+" filesystem"+where+" (not inspected)")
		}
	}
}
