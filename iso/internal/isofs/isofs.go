// Package isofs reads and patches ISO9660 volumes in place: it finds files' extents by their Rock Ridge names and rewrites metadata for reproducible builds.
package isofs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"
	"unicode/utf16"
)

// BlockSize is the logical block size of every volume this package reads.
const BlockSize = 2048

// ErrNotISO9660 means the image has no ISO9660 primary volume descriptor.
var ErrNotISO9660 = errors.New("not an ISO9660 image")

// ErrNotFound means a path is not in the volume.
var ErrNotFound = errors.New("no such file in the ISO")

// Volume is an opened ISO9660 image.
type Volume struct {
	r io.ReaderAt
	// PVD is the primary volume descriptor (one block).
	PVD []byte
	// PVDOffset is where the PVD lies (block 16).
	PVDOffset int64
	// Joliet holds the offsets of Joliet supplementary volume descriptors.
	Joliet []int64
	// Blocks is the volume space size from the PVD.
	Blocks uint32
}

// Entry is one directory record.
type Entry struct {
	// Name is the Rock Ridge name when there is one, else the ISO9660 name
	// without its version (";1").
	Name string
	Path string
	Dir  bool
	// Extent is the first logical block of the data.
	Extent uint32
	Size   uint32
	// RecordOffset is the absolute byte offset of the directory record.
	RecordOffset int64
}

// Offset is the absolute byte offset of the entry's data.
func (e Entry) Offset() int64 { return int64(e.Extent) * BlockSize }

// Open reads the volume descriptors of r.
func Open(r io.ReaderAt) (*Volume, error) {
	v := &Volume{r: r}
	for lba := int64(16); lba < 16+32; lba++ {
		b := make([]byte, BlockSize)
		if _, err := r.ReadAt(b, lba*BlockSize); err != nil {
			if lba == 16 {
				return nil, fmt.Errorf("%w: read block 16: %v", ErrNotISO9660, err)
			}
			return nil, fmt.Errorf("read volume descriptor at block %d: %w", lba, err)
		}
		if string(b[1:6]) != "CD001" {
			if lba == 16 {
				return nil, ErrNotISO9660
			}
			return nil, fmt.Errorf("volume descriptor at block %d has no CD001 signature", lba)
		}
		switch b[0] {
		case 1:
			if v.PVD == nil {
				v.PVD, v.PVDOffset = b, lba*BlockSize
				v.Blocks = binary.LittleEndian.Uint32(b[80:])
				if bs := binary.LittleEndian.Uint16(b[128:]); bs != BlockSize {
					return nil, fmt.Errorf("the logical block size is %d, only %d is supported", bs, BlockSize)
				}
			}
		case 2:
			esc := b[88:91]
			if esc[0] == 0x25 && esc[1] == 0x2F && (esc[2] == 0x40 || esc[2] == 0x43 || esc[2] == 0x45) {
				v.Joliet = append(v.Joliet, lba*BlockSize)
			}
		case 255:
			if v.PVD == nil {
				return nil, fmt.Errorf("%w: no primary volume descriptor", ErrNotISO9660)
			}
			return v, nil
		}
	}
	return nil, fmt.Errorf("%w: no volume descriptor set terminator in the first 32 descriptors", ErrNotISO9660)
}

// VolumeID is the PVD's volume identifier, trimmed.
func (v *Volume) VolumeID() string { return strings.TrimRight(string(v.PVD[40:72]), " \x00") }

// record is a parsed directory record.
type record struct {
	raw    []byte
	offset int64
	extent uint32
	size   uint32
	dir    bool
	isoID  []byte
	su     []byte // system use area
}

func parseRecord(b []byte, off int64) (record, error) {
	n := int(b[0])
	if n < 34 || n > len(b) {
		return record{}, fmt.Errorf("bad directory record length %d at byte %d", n, off)
	}
	idLen := int(b[32])
	if 33+idLen > n {
		return record{}, fmt.Errorf("directory record at byte %d: name overruns the record", off)
	}
	suStart := 33 + idLen
	if idLen%2 == 0 {
		suStart++
	}
	r := record{
		raw:    b[:n],
		offset: off,
		extent: binary.LittleEndian.Uint32(b[2:]),
		size:   binary.LittleEndian.Uint32(b[10:]),
		dir:    b[25]&0x02 != 0,
		isoID:  b[33 : 33+idLen],
	}
	if suStart < n {
		r.su = b[suStart:n]
	}
	return r, nil
}

// readDir returns the records of the directory at extent (size bytes),
// with their absolute offsets.
func (v *Volume) readDir(extent, size uint32) ([]record, error) {
	if size > 64<<20 {
		return nil, fmt.Errorf("directory at block %d claims %d bytes", extent, size)
	}
	buf := make([]byte, size)
	base := int64(extent) * BlockSize
	if _, err := v.r.ReadAt(buf, base); err != nil {
		return nil, fmt.Errorf("read directory at block %d: %w", extent, err)
	}
	var recs []record
	for pos := 0; pos < len(buf); {
		if buf[pos] == 0 {
			// Records never cross a block; the rest of this one is padding.
			pos = (pos/BlockSize + 1) * BlockSize
			continue
		}
		r, err := parseRecord(buf[pos:], base+int64(pos))
		if err != nil {
			return nil, err
		}
		recs = append(recs, r)
		pos += len(r.raw)
	}
	return recs, nil
}

// suspEntry is one System Use Sharing Protocol entry and where it lies.
type suspEntry struct {
	sig    string
	data   []byte // the whole entry, header included
	offset int64  // absolute offset of the entry
}

// susp walks the system use entries of a record, following continuation
// areas (CE).
func (v *Volume) susp(r record) ([]suspEntry, error) {
	var out []suspEntry
	area := r.su
	base := r.offset + int64(len(r.raw)-len(r.su))
	for hops := 0; area != nil && hops < 16; hops++ {
		next := []byte(nil)
		var nextBase int64
		for p := 0; p+4 <= len(area); {
			sig := string(area[p : p+2])
			n := int(area[p+2])
			if n < 4 || p+n > len(area) {
				break
			}
			e := suspEntry{sig: sig, data: area[p : p+n], offset: base + int64(p)}
			out = append(out, e)
			if sig == "ST" {
				break
			}
			if sig == "CE" && n >= 28 {
				blk := binary.LittleEndian.Uint32(e.data[4:])
				off := binary.LittleEndian.Uint32(e.data[12:])
				ln := binary.LittleEndian.Uint32(e.data[20:])
				if ln > BlockSize*4 {
					return nil, fmt.Errorf("continuation area of %d bytes at block %d is too large", ln, blk)
				}
				next = make([]byte, ln)
				nextBase = int64(blk)*BlockSize + int64(off)
				if _, err := v.r.ReadAt(next, nextBase); err != nil {
					return nil, fmt.Errorf("read continuation area at block %d: %w", blk, err)
				}
			}
			p += n
		}
		area, base = next, nextBase
	}
	return out, nil
}

// name returns the Rock Ridge name of r, or its ISO9660 name without the
// version suffix.
func (v *Volume) name(r record, joliet bool) (string, error) {
	if joliet {
		u := make([]uint16, len(r.isoID)/2)
		for i := range u {
			u[i] = binary.BigEndian.Uint16(r.isoID[2*i:])
		}
		n := string(utf16.Decode(u))
		n, _, _ = strings.Cut(n, ";")
		return n, nil
	}
	entries, err := v.susp(r)
	if err != nil {
		return "", err
	}
	var nm []byte
	found := false
	for _, e := range entries {
		if e.sig == "NM" && len(e.data) >= 5 {
			found = true
			nm = append(nm, e.data[5:]...)
		}
	}
	if found {
		return string(nm), nil
	}
	n := string(r.isoID)
	n, _, _ = strings.Cut(n, ";")
	return strings.TrimSuffix(n, "."), nil
}

func (v *Volume) rootRecord(desc []byte, off int64) (record, error) {
	return parseRecord(desc[156:156+34], off+156)
}

// Lookup finds a file or directory by its slash-separated path in the
// primary (Rock Ridge) tree.
func (v *Volume) Lookup(p string) (Entry, error) {
	return v.lookup(v.PVD, v.PVDOffset, false, p)
}

// LookupJoliet finds a path in the Joliet tree; ErrNotFound when the
// volume has none.
func (v *Volume) LookupJoliet(p string) (Entry, error) {
	if len(v.Joliet) == 0 {
		return Entry{}, fmt.Errorf("%s: no Joliet tree: %w", p, ErrNotFound)
	}
	d := make([]byte, BlockSize)
	if _, err := v.r.ReadAt(d, v.Joliet[0]); err != nil {
		return Entry{}, fmt.Errorf("read the Joliet volume descriptor: %w", err)
	}
	return v.lookup(d, v.Joliet[0], true, p)
}

func (v *Volume) lookup(desc []byte, descOff int64, joliet bool, p string) (Entry, error) {
	root, err := v.rootRecord(desc, descOff)
	if err != nil {
		return Entry{}, err
	}
	cur := Entry{Name: "/", Path: "/", Dir: true, Extent: root.extent, Size: root.size, RecordOffset: root.offset}
	clean := strings.Trim(path.Clean("/"+p), "/")
	if clean == "" {
		return cur, nil
	}
	for _, part := range strings.Split(clean, "/") {
		if !cur.Dir {
			return Entry{}, fmt.Errorf("%s: %s is not a directory: %w", p, cur.Path, ErrNotFound)
		}
		recs, err := v.readDir(cur.Extent, cur.Size)
		if err != nil {
			return Entry{}, err
		}
		found := false
		for _, r := range recs[min(2, len(recs)):] {
			n, err := v.name(r, joliet)
			if err != nil {
				return Entry{}, err
			}
			if n == part {
				cur = Entry{Name: n, Path: path.Join(cur.Path, n), Dir: r.dir, Extent: r.extent, Size: r.size, RecordOffset: r.offset}
				found = true
				break
			}
		}
		if !found {
			return Entry{}, fmt.Errorf("%s: %w", p, ErrNotFound)
		}
	}
	return cur, nil
}

// SetExtent points the directory record at recordOffset at extent and
// size, in place: two records may share data, which is how a fixed area
// shows a variable-length file through an ordinary path.
func SetExtent(f io.WriterAt, recordOffset int64, extent, size uint32) error {
	b := make([]byte, 16)
	both32(b[0:], extent)
	both32(b[8:], size)
	if _, err := f.WriteAt(b, recordOffset+2); err != nil {
		return fmt.Errorf("patch directory record: %w", err)
	}
	return nil
}

// ReadDir lists a directory of the primary tree.
func (v *Volume) ReadDir(p string) ([]Entry, error) {
	d, err := v.Lookup(p)
	if err != nil {
		return nil, err
	}
	if !d.Dir {
		return nil, fmt.Errorf("%s is not a directory", p)
	}
	recs, err := v.readDir(d.Extent, d.Size)
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, r := range recs[min(2, len(recs)):] {
		n, err := v.name(r, false)
		if err != nil {
			return nil, err
		}
		out = append(out, Entry{Name: n, Path: path.Join(d.Path, n), Dir: r.dir, Extent: r.extent, Size: r.size, RecordOffset: r.offset})
	}
	return out, nil
}

// Open returns a reader of a regular file's data.
func (v *Volume) Open(p string) (*io.SectionReader, Entry, error) {
	e, err := v.Lookup(p)
	if err != nil {
		return nil, Entry{}, err
	}
	if e.Dir {
		return nil, Entry{}, fmt.Errorf("%s is a directory", p)
	}
	return io.NewSectionReader(v.r, e.Offset(), int64(e.Size)), e, nil
}

// ReadFile returns a regular file's data.
func (v *Volume) ReadFile(p string) ([]byte, error) {
	sr, _, err := v.Open(p)
	if err != nil {
		return nil, err
	}
	b := make([]byte, sr.Size())
	if _, err := io.ReadFull(sr, b); err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	return b, nil
}

// Patcher is what Normalize needs: read and write at offsets.
type Patcher interface {
	io.ReaderAt
	io.WriterAt
}

// Normalize rewrites every time stamp and ownership in the volume to fixed
// values: recording dates and Rock Ridge TF stamps become t, owners root,
// modes those of `mkisofs -r` (directories and files readable by all,
// executables executable by all), link counts computed from the tree. What
// the build machine's clock, umask, user and filesystem contributed is
// gone, so the same inputs give the same bytes.
func Normalize(f Patcher, t time.Time) error {
	v, err := Open(f)
	if err != nil {
		return err
	}
	t = t.UTC()
	short := isoDate7(t)
	long := isoDate17(t)
	unset := append([]byte("0000000000000000"), 0)
	descs := append([]int64{v.PVDOffset}, v.Joliet...)
	for i, off := range descs {
		d := make([]byte, BlockSize)
		if _, err := f.ReadAt(d, off); err != nil {
			return fmt.Errorf("read volume descriptor: %w", err)
		}
		copy(d[813:830], long)
		copy(d[830:847], long)
		copy(d[847:864], unset)
		copy(d[864:881], unset)
		copy(d[156+18:156+25], short)
		if _, err := f.WriteAt(d, off); err != nil {
			return fmt.Errorf("write volume descriptor: %w", err)
		}
		root, err := parseRecord(d[156:190], off+156)
		if err != nil {
			return err
		}
		joliet := i > 0
		seen := map[uint32]bool{}
		if err := v.normalizeDir(f, root.extent, root.size, joliet, short, seen, 0); err != nil {
			return err
		}
	}
	return nil
}

// normalizeDir patches one directory and, recursively, its subdirectories;
// parentLinks is the link count of its parent (0 for the root, whose ".."
// is itself).
func (v *Volume) normalizeDir(f Patcher, extent, size uint32, joliet bool, date []byte, seen map[uint32]bool, parentLinks uint32) error {
	if seen[extent] {
		return fmt.Errorf("directory loop at block %d", extent)
	}
	seen[extent] = true
	recs, err := v.readDir(extent, size)
	if err != nil {
		return err
	}
	subdirs := 0
	for i, r := range recs {
		if i >= 2 && r.dir {
			subdirs++
		}
	}
	links := uint32(2 + subdirs)
	if parentLinks == 0 {
		parentLinks = links
	}
	for i, r := range recs {
		if _, err := f.WriteAt(date, r.offset+18); err != nil {
			return fmt.Errorf("patch directory record date: %w", err)
		}
		if joliet {
			if i >= 2 && r.dir {
				if err := v.normalizeDir(f, r.extent, r.size, joliet, date, seen, links); err != nil {
					return err
				}
			}
			continue
		}
		entries, err := v.susp(r)
		if err != nil {
			return err
		}
		for _, e := range entries {
			var patch []byte
			switch e.sig {
			case "PX":
				if len(e.data) < 36 {
					continue
				}
				patch = append([]byte(nil), e.data...)
				mode := binary.LittleEndian.Uint32(patch[4:])
				nlink := uint32(1)
				switch {
				case mode&0o170000 == 0o040000:
					mode = 0o040555
					switch i {
					case 0:
						nlink = links
					case 1:
						nlink = parentLinks
					default:
						nlink = 2 + uint32(v.countSubdirs(r))
					}
				case mode&0o170000 == 0o120000:
					mode = 0o120777
				default:
					x := mode & 0o111
					mode = mode&0o170000 | 0o444
					if x != 0 {
						mode |= 0o111
					}
				}
				both32(patch[4:], mode)
				both32(patch[12:], nlink)
				both32(patch[20:], 0)
				both32(patch[28:], 0)
			case "TF":
				if len(e.data) < 5 {
					continue
				}
				patch = append([]byte(nil), e.data...)
				flags := patch[4]
				stamp, w := date, 7
				if flags&0x80 != 0 {
					stamp, w = isoDate17FromShort(date), 17
				}
				p := 5
				for bit := 0; bit < 7; bit++ {
					if flags&(1<<bit) == 0 {
						continue
					}
					if p+w > len(patch) {
						break
					}
					copy(patch[p:], stamp)
					p += w
				}
			}
			if patch != nil && !bytes.Equal(patch, e.data) {
				if _, err := f.WriteAt(patch, e.offset); err != nil {
					return fmt.Errorf("patch Rock Ridge %s entry: %w", e.sig, err)
				}
			}
		}
		if i >= 2 && r.dir {
			if err := v.normalizeDir(f, r.extent, r.size, joliet, date, seen, links); err != nil {
				return err
			}
		}
	}
	return nil
}

// countSubdirs counts a directory's subdirectories (for its link count).
func (v *Volume) countSubdirs(r record) int {
	recs, err := v.readDir(r.extent, r.size)
	if err != nil {
		return 0
	}
	n := 0
	for i, c := range recs {
		if i >= 2 && c.dir {
			n++
		}
	}
	return n
}

func both32(b []byte, x uint32) {
	binary.LittleEndian.PutUint32(b, x)
	binary.BigEndian.PutUint32(b[4:], x)
}

func isoDate7(t time.Time) []byte {
	return []byte{byte(t.Year() - 1900), byte(t.Month()), byte(t.Day()), byte(t.Hour()), byte(t.Minute()), byte(t.Second()), 0}
}

func isoDate17(t time.Time) []byte {
	s := fmt.Sprintf("%04d%02d%02d%02d%02d%02d00", t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second())
	return append([]byte(s), 0)
}

func isoDate17FromShort(d []byte) []byte {
	return isoDate17(time.Date(int(d[0])+1900, time.Month(d[1]), int(d[2]), int(d[3]), int(d[4]), int(d[5]), 0, time.UTC))
}

// Check reads every directory of the primary and Joliet trees, and checks
// that each directory's first record points at itself: a writer that
// overran a file into a directory shows up here.
func (v *Volume) Check() error {
	descs := append([]int64{v.PVDOffset}, v.Joliet...)
	for _, off := range descs {
		d := make([]byte, BlockSize)
		if _, err := v.r.ReadAt(d, off); err != nil {
			return fmt.Errorf("read volume descriptor: %w", err)
		}
		root, err := parseRecord(d[156:190], off+156)
		if err != nil {
			return err
		}
		if err := v.checkDir(root.extent, root.size, map[uint32]bool{}); err != nil {
			return err
		}
	}
	return nil
}

func (v *Volume) checkDir(extent, size uint32, seen map[uint32]bool) error {
	if seen[extent] {
		return fmt.Errorf("directory loop at block %d", extent)
	}
	seen[extent] = true
	recs, err := v.readDir(extent, size)
	if err != nil {
		return err
	}
	if len(recs) < 2 || recs[0].extent != extent || !recs[0].dir || len(recs[0].isoID) != 1 || recs[0].isoID[0] != 0 {
		return fmt.Errorf("the directory at block %d does not start with its own record", extent)
	}
	for _, r := range recs[2:] {
		if len(r.isoID) == 1 && r.isoID[0] <= 1 {
			return fmt.Errorf("the directory at block %d has a child named like its own or its parent's record", extent)
		}
		if r.dir {
			if err := v.checkDir(r.extent, r.size, seen); err != nil {
				return err
			}
		}
	}
	return nil
}

// FixJoliet repairs the Joliet tree go-diskfs writes: it lays out a Joliet
// copy of every directory, in the same order as the primary directories,
// but points the subdirectory records at the primary extents, so Joliet
// readers would walk the 8.3 tree. The Joliet copies are found in order
// after the Joliet root, and every subdirectory record is pointed at its
// copy.
func FixJoliet(f Patcher) error {
	v, err := Open(f)
	if err != nil {
		return err
	}
	if len(v.Joliet) == 0 {
		return nil
	}
	// The primary directories in layout order.
	proot, err := v.rootRecord(v.PVD, v.PVDOffset)
	if err != nil {
		return err
	}
	var primary []uint32
	var walk func(extent, size uint32) error
	seen := map[uint32]bool{}
	walk = func(extent, size uint32) error {
		if seen[extent] {
			return fmt.Errorf("directory loop at block %d", extent)
		}
		seen[extent] = true
		primary = append(primary, extent)
		recs, err := v.readDir(extent, size)
		if err != nil {
			return err
		}
		for _, r := range recs[min(2, len(recs)):] {
			if r.dir {
				if err := walk(r.extent, r.size); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(proot.extent, proot.size); err != nil {
		return err
	}
	sort.Slice(primary, func(i, j int) bool { return primary[i] < primary[j] })

	d := make([]byte, BlockSize)
	if _, err := f.ReadAt(d, v.Joliet[0]); err != nil {
		return fmt.Errorf("read the Joliet volume descriptor: %w", err)
	}
	jroot, err := parseRecord(d[156:190], v.Joliet[0]+156)
	if err != nil {
		return err
	}
	type loc struct{ extent, size uint32 }
	toJoliet := map[uint32]loc{}
	isJoliet := map[uint32]bool{}
	var jdirs []loc
	next := jroot.extent
	for _, p := range primary {
		self := make([]byte, 34)
		if _, err := f.ReadAt(self, int64(next)*BlockSize); err != nil {
			return fmt.Errorf("read Joliet directory at block %d: %w", next, err)
		}
		r, err := parseRecord(self, int64(next)*BlockSize)
		if err != nil || r.extent != next || !r.dir {
			return fmt.Errorf("no Joliet directory at block %d where one was expected", next)
		}
		l := loc{next, r.size}
		toJoliet[p] = l
		isJoliet[next] = true
		jdirs = append(jdirs, l)
		next += (r.size + BlockSize - 1) / BlockSize
	}
	for _, jd := range jdirs {
		recs, err := v.readDir(jd.extent, jd.size)
		if err != nil {
			return err
		}
		for _, r := range recs[min(2, len(recs)):] {
			if !r.dir {
				continue
			}
			l, ok := toJoliet[r.extent]
			if !ok {
				if isJoliet[r.extent] {
					continue // already right (a fixed go-diskfs)
				}
				return fmt.Errorf("the Joliet directory record at byte %d points at block %d, which is no directory", r.offset, r.extent)
			}
			b := make([]byte, 16)
			both32(b[0:], l.extent)
			both32(b[8:], l.size)
			if _, err := f.WriteAt(b, r.offset+2); err != nil {
				return fmt.Errorf("patch Joliet directory record: %w", err)
			}
		}
	}
	return nil
}

// BootRecordFirst moves the El Torito boot record volume descriptor to
// block 17, where the El Torito specification puts it and where BIOSes
// look (SeaBIOS fails with "code 0004" otherwise). go-diskfs writes the
// Joliet descriptor there when Joliet is on; readers find volume
// descriptors by scanning, so swapping the two changes nothing else.
func BootRecordFirst(f Patcher) error {
	const at = 17 * BlockSize
	cur := make([]byte, BlockSize)
	if _, err := f.ReadAt(cur, at); err != nil {
		return fmt.Errorf("read volume descriptor 17: %w", err)
	}
	if cur[0] == 0 || cur[0] == 255 {
		return nil // already the boot record, or none follows the PVD
	}
	for lba := int64(18); lba < 16+32; lba++ {
		b := make([]byte, BlockSize)
		if _, err := f.ReadAt(b, lba*BlockSize); err != nil {
			return fmt.Errorf("read volume descriptor %d: %w", lba, err)
		}
		switch b[0] {
		case 0:
			if _, err := f.WriteAt(b, at); err != nil {
				return err
			}
			if _, err := f.WriteAt(cur, lba*BlockSize); err != nil {
				return err
			}
			return nil
		case 255:
			return nil
		}
	}
	return nil
}
