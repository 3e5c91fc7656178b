package iso

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"strings"

	"github.com/universal-atomic-installer/uai/iso/internal/isofs"
)

// The embed area is the file /uai/embed.area of a uai ISO: one contiguous
// extent whose first 4096 bytes are a header and the rest room for an
// answer file. Editing it rewrites bytes inside that extent (and the kernel
// argument regions of the boot loader configs the header points at), so an
// ISO or a USB stick written from it is changed in place, in time
// proportional to what is written. docs/iso.md has the byte layout.
const (
	areaMagic      = "UAIEMBED"
	areaVersion    = 1
	areaHeaderSize = 4096
	maxRegions     = 8
	// defaultKargsOffset is where the header keeps the build's default
	// kernel arguments (for --reset and --delete of defaults).
	defaultKargsOffset = 2048
	// MaxKargsSize bounds a kernel-argument region: the x86 kernel command
	// line holds 2048 bytes, and the fixed arguments need some of them.
	MaxKargsSize = 1536
	// DefaultAreaSize is the size of the embed area (header included).
	DefaultAreaSize = 1 << 20
	// DefaultKargsSize is the size of each kernel-argument region.
	DefaultKargsSize = 1024
)

// Region kinds: which boot loader reads the region (they quote alike for
// the characters uai accepts, but the kind is recorded for tools).
const (
	RegionGRUB     = 1
	RegionIsolinux = 2
)

// Region is a fixed-size, space-padded stretch of a boot loader config
// holding the editable kernel arguments.
type Region struct {
	Offset int64 // absolute byte offset in the ISO
	Length int
	Kind   int
}

// header is the parsed first 4096 bytes of the area.
type header struct {
	areaSize     int64
	areaOffset   int64
	answersLen   int64
	answersSHA   [32]byte
	kargsCap     int
	regions      []Region
	defaultKargs string
	kargsLen     int
	kargsSHA     [32]byte
}

func (h *header) marshal() []byte {
	b := make([]byte, areaHeaderSize)
	copy(b, areaMagic)
	binary.LittleEndian.PutUint16(b[8:], areaVersion)
	binary.LittleEndian.PutUint16(b[10:], areaHeaderSize)
	binary.LittleEndian.PutUint64(b[16:], uint64(h.areaSize))
	binary.LittleEndian.PutUint64(b[24:], uint64(h.areaOffset))
	binary.LittleEndian.PutUint64(b[32:], uint64(h.answersLen))
	copy(b[40:72], h.answersSHA[:])
	binary.LittleEndian.PutUint32(b[72:], uint32(h.kargsCap))
	binary.LittleEndian.PutUint32(b[76:], uint32(len(h.regions)))
	binary.LittleEndian.PutUint32(b[80:], uint32(len(h.defaultKargs)))
	copy(b[88:120], h.kargsSHA[:])
	binary.LittleEndian.PutUint32(b[120:], uint32(h.kargsLen))
	for i, r := range h.regions {
		o := 128 + 16*i
		binary.LittleEndian.PutUint64(b[o:], uint64(r.Offset))
		binary.LittleEndian.PutUint32(b[o+8:], uint32(r.Length))
		b[o+12] = byte(r.Kind)
	}
	copy(b[defaultKargsOffset:], h.defaultKargs)
	binary.LittleEndian.PutUint32(b[12:], crc32.ChecksumIEEE(b))
	return b
}

// parseHeader checks magic, version and checksum; name is for messages.
func parseHeader(b []byte, name string) (*header, error) {
	if len(b) < areaHeaderSize {
		return nil, fmt.Errorf("%w: the embed area of %s is %d bytes, smaller than its %d-byte header; rebuild the ISO with uai iso build", ErrCorrupt, name, len(b), areaHeaderSize)
	}
	b = b[:areaHeaderSize]
	if string(b[:8]) != areaMagic {
		return nil, fmt.Errorf("%w: %s has /%s but no uai header in it (magic %q, want %q); rebuild the ISO with uai iso build", ErrCorrupt, name, PathArea, printable(b[:8]), areaMagic)
	}
	if v := binary.LittleEndian.Uint16(b[8:]); v != areaVersion {
		return nil, fmt.Errorf("%w: the embed area of %s has version %d; this uai reads version %d, use the uai that built the ISO", ErrInvalid, name, v, areaVersion)
	}
	c := make([]byte, len(b))
	copy(c, b)
	want := binary.LittleEndian.Uint32(c[12:])
	binary.LittleEndian.PutUint32(c[12:], 0)
	if got := crc32.ChecksumIEEE(c); got != want {
		return nil, fmt.Errorf("%w: the header of the embed area of %s fails its checksum (crc32 %08x, recorded %08x); rebuild the ISO, or write a fresh copy of it to the stick", ErrCorrupt, name, got, want)
	}
	h := &header{
		areaSize:   int64(binary.LittleEndian.Uint64(b[16:])),
		areaOffset: int64(binary.LittleEndian.Uint64(b[24:])),
		answersLen: int64(binary.LittleEndian.Uint64(b[32:])),
		kargsCap:   int(binary.LittleEndian.Uint32(b[72:])),
		kargsLen:   int(binary.LittleEndian.Uint32(b[120:])),
	}
	copy(h.answersSHA[:], b[40:72])
	copy(h.kargsSHA[:], b[88:120])
	n := int(binary.LittleEndian.Uint32(b[76:]))
	dl := int(binary.LittleEndian.Uint32(b[80:]))
	if n > maxRegions || dl > areaHeaderSize-defaultKargsOffset || h.kargsCap > MaxKargsSize || h.answersLen < 0 || h.answersLen > h.areaSize-areaHeaderSize || h.kargsLen > h.kargsCap {
		return nil, fmt.Errorf("%w: the header of the embed area of %s holds impossible sizes; rebuild the ISO", ErrCorrupt, name)
	}
	for i := 0; i < n; i++ {
		o := 128 + 16*i
		h.regions = append(h.regions, Region{
			Offset: int64(binary.LittleEndian.Uint64(b[o:])),
			Length: int(binary.LittleEndian.Uint32(b[o+8:])),
			Kind:   int(b[o+12]),
		})
	}
	h.defaultKargs = string(b[defaultKargsOffset : defaultKargsOffset+dl])
	return h, nil
}

func printable(b []byte) string {
	return strings.Map(func(r rune) rune {
		if r < 32 || r > 126 {
			return '.'
		}
		return r
	}, string(b))
}

// Image is an ISO built by uai, opened for reading or editing its embed
// area. It works on image files and on block devices (a USB stick).
type Image struct {
	f    *os.File
	name string
	h    *header
	// Area is where the embed area lies.
	AreaOffset int64
	AreaSize   int64
	vol        *isofs.Volume
	records    []int64 // directory records of /uai/answers.toml
}

// Open opens a uai ISO; write allows the editing methods.
func Open(path string, write bool) (*Image, error) {
	flag := os.O_RDONLY
	if write {
		flag = os.O_RDWR
	}
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		return nil, fmt.Errorf("open ISO %s: %w", path, err)
	}
	im, err := openImage(f, path)
	if err != nil {
		f.Close()
		return nil, err
	}
	return im, nil
}

func openImage(f *os.File, name string) (*Image, error) {
	vol, err := isofs.Open(f)
	if errors.Is(err, isofs.ErrNotISO9660) {
		return nil, fmt.Errorf("%w: %s is not an ISO9660 image; pass an ISO made by uai iso build", ErrNotUAI, name)
	}
	if err != nil {
		return nil, fmt.Errorf("read ISO %s: %w", name, err)
	}
	e, err := vol.Lookup(PathArea)
	if errors.Is(err, isofs.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s is an ISO9660 image (volume %q) but has no /%s, so it was not built by uai iso build and has no embed area; build the ISO with uai iso build", ErrNotUAI, name, vol.VolumeID(), PathArea)
	}
	if err != nil {
		return nil, fmt.Errorf("read ISO %s: %w", name, err)
	}
	buf := make([]byte, areaHeaderSize)
	if e.Size < areaHeaderSize {
		return nil, fmt.Errorf("%w: /%s in %s is %d bytes, smaller than the %d-byte header; rebuild the ISO", ErrCorrupt, PathArea, name, e.Size, areaHeaderSize)
	}
	if _, err := f.ReadAt(buf, e.Offset()); err != nil {
		return nil, fmt.Errorf("read the embed area of %s: %w", name, err)
	}
	h, err := parseHeader(buf, name)
	if err != nil {
		return nil, err
	}
	if h.areaOffset != e.Offset() || h.areaSize != int64(e.Size) {
		return nil, fmt.Errorf("%w: the embed area header of %s says it lies at byte %d with %d bytes, the ISO has it at %d with %d; rebuild the ISO", ErrCorrupt, name, h.areaOffset, h.areaSize, e.Offset(), e.Size)
	}
	records, err := answerRecords(vol)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v; rebuild the ISO", ErrCorrupt, name, err)
	}
	im := &Image{f: f, name: name, h: h, AreaOffset: e.Offset(), AreaSize: int64(e.Size), vol: vol, records: records}
	payload := e.Extent + areaHeaderSize/isofs.BlockSize
	for _, p := range []func(string) (isofs.Entry, error){vol.Lookup, vol.LookupJoliet} {
		a, err := p(PathAnswers)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: /%s: %v; rebuild the ISO", ErrCorrupt, name, PathAnswers, err)
		}
		if a.Extent != payload || int64(a.Size) != h.answersLen {
			return nil, fmt.Errorf("%w: /%s in %s points at block %d with %d bytes, the embed area says block %d with %d; embed the answer file again or clear it", ErrCorrupt, PathAnswers, name, a.Extent, a.Size, payload, h.answersLen)
		}
	}
	return im, nil
}

// answerRecords finds the directory records (Rock Ridge and Joliet) of
// the answer-file window.
func answerRecords(vol *isofs.Volume) ([]int64, error) {
	var out []int64
	for _, lookup := range []func(string) (isofs.Entry, error){vol.Lookup, vol.LookupJoliet} {
		e, err := lookup(PathAnswers)
		if err != nil {
			return nil, fmt.Errorf("find /%s: %w", PathAnswers, err)
		}
		out = append(out, e.RecordOffset)
	}
	return out, nil
}

// setWindow makes /uai/answers.toml show n bytes of the payload.
func (im *Image) setWindow(n int64) error {
	for _, rec := range im.records {
		if err := isofs.SetExtent(im.f, rec, uint32(im.AreaOffset/isofs.BlockSize)+areaHeaderSize/isofs.BlockSize, uint32(n)); err != nil {
			return fmt.Errorf("%s: %w", im.name, err)
		}
	}
	return nil
}

// Close closes the image; after edits it has been synced already.
func (im *Image) Close() error { return im.f.Close() }

// AnswersCapacity is how many bytes of answer file the area holds.
func (im *Image) AnswersCapacity() int64 { return im.AreaSize - areaHeaderSize }

// Answers returns the embedded answer file, ErrNoAnswers when there is
// none, ErrCorrupt when it fails its checksum.
func (im *Image) Answers() ([]byte, error) {
	return readAnswers(im.f, im.AreaOffset, im.h, im.name)
}

func readAnswers(r io.ReaderAt, areaOff int64, h *header, name string) ([]byte, error) {
	if h.answersLen == 0 {
		return nil, fmt.Errorf("%w in %s; embed one with uai iso embed FILE %s", ErrNoAnswers, name, name)
	}
	b := make([]byte, h.answersLen)
	if _, err := r.ReadAt(b, areaOff+areaHeaderSize); err != nil {
		return nil, fmt.Errorf("read the answer file embedded in %s: %w", name, err)
	}
	if sha256.Sum256(b) != h.answersSHA {
		return nil, fmt.Errorf("%w: the answer file embedded in %s does not match its sha256; embed it again (uai iso embed) or clear it (uai iso remove)", ErrCorrupt, name)
	}
	return b, nil
}

// ReadAnswersFromAreaFile reads the answer file from the embed area file
// itself, as the live system sees it on the mounted medium
// (/run/.../uai/embed.area).
func ReadAnswersFromAreaFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read embed area %s: %w", path, err)
	}
	h, err := parseHeader(b, path)
	if err != nil {
		return nil, err
	}
	if h.areaSize != int64(len(b)) {
		return nil, fmt.Errorf("%w: %s is %d bytes, its header says %d", ErrCorrupt, path, len(b), h.areaSize)
	}
	return readAnswers(bytes.NewReader(b), 0, h, path)
}

// SetAnswers writes data as the embedded answer file, in place. It writes
// the data first and the header last, so an interrupted write leaves an
// area that fails its checksum rather than a silently mixed one.
func (im *Image) SetAnswers(data []byte) error {
	if int64(len(data)) > im.AnswersCapacity() {
		return fmt.Errorf("%w: the answer file is %d bytes; the embed area of %s holds at most %d bytes; shorten the file or rebuild the ISO with a larger --embed-size", ErrTooLarge, len(data), im.name, im.AnswersCapacity())
	}
	if len(data) == 0 {
		return fmt.Errorf("%w: the answer file is empty; use uai iso remove to clear the embedded one", ErrInvalid)
	}
	// Zero what the old file used beyond the new one, so no stale secret
	// stays on the medium.
	buf := make([]byte, max(int64(len(data)), im.h.answersLen))
	copy(buf, data)
	if _, err := im.f.WriteAt(buf, im.AreaOffset+areaHeaderSize); err != nil {
		return fmt.Errorf("write the answer file into %s: %w", im.name, err)
	}
	if err := im.setWindow(int64(len(data))); err != nil {
		return err
	}
	h := *im.h
	h.answersLen = int64(len(data))
	h.answersSHA = sha256.Sum256(data)
	return im.writeHeader(&h)
}

// RemoveAnswers clears the embedded answer file (zeroing its bytes). It
// also repairs an area whose answer file failed its checksum.
func (im *Image) RemoveAnswers() error {
	if im.h.answersLen > 0 {
		if _, err := im.f.WriteAt(make([]byte, im.h.answersLen), im.AreaOffset+areaHeaderSize); err != nil {
			return fmt.Errorf("clear the answer file in %s: %w", im.name, err)
		}
	}
	if err := im.setWindow(0); err != nil {
		return err
	}
	h := *im.h
	h.answersLen = 0
	h.answersSHA = [32]byte{}
	return im.writeHeader(&h)
}

func (im *Image) writeHeader(h *header) error {
	if err := im.f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", im.name, err)
	}
	if _, err := im.f.WriteAt(h.marshal(), im.AreaOffset); err != nil {
		return fmt.Errorf("write the embed area header of %s: %w", im.name, err)
	}
	if err := im.f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", im.name, err)
	}
	im.h = h
	return nil
}

// Label is the ISO's volume label.
func (im *Image) Label() string { return im.vol.VolumeID() }

// Regions lists the kernel-argument regions.
func (im *Image) Regions() []Region { return append([]Region(nil), im.h.regions...) }

// KargsCapacity is the size of each kernel-argument region.
func (im *Image) KargsCapacity() int { return im.h.kargsCap }

// DefaultKargs are the kernel arguments the ISO was built with.
func (im *Image) DefaultKargs() []string { return strings.Fields(im.h.defaultKargs) }

// Kargs returns the editable kernel arguments the boot loaders pass now.
// Every region must hold the same text, matching the header's checksum.
func (im *Image) Kargs() ([]string, error) {
	if len(im.h.regions) == 0 {
		return nil, fmt.Errorf("%w: %s has no kernel-argument region (it was built without a boot loader config)", ErrInvalid, im.name)
	}
	var first string
	for i, r := range im.h.regions {
		b := make([]byte, r.Length)
		if _, err := im.f.ReadAt(b, r.Offset); err != nil {
			return nil, fmt.Errorf("read kernel arguments of %s: %w", im.name, err)
		}
		text := strings.TrimRight(string(b), " ")
		if i == 0 {
			first = text
		} else if text != first {
			return nil, fmt.Errorf("%w: the kernel-argument regions of %s disagree (%q and %q); run uai iso kargs --reset", ErrCorrupt, im.name, first, text)
		}
	}
	if len(first) != im.h.kargsLen || sha256.Sum256([]byte(first)) != im.h.kargsSHA {
		return nil, fmt.Errorf("%w: the kernel arguments in %s do not match the checksum in the embed area (edited by another tool?); run uai iso kargs --reset", ErrCorrupt, im.name)
	}
	return strings.Fields(first), nil
}

// SetKargs writes kargs into every region, in place.
func (im *Image) SetKargs(kargs []string) error {
	if len(im.h.regions) == 0 {
		return fmt.Errorf("%w: %s has no kernel-argument region (it was built without a boot loader config)", ErrInvalid, im.name)
	}
	text, err := joinKargs(kargs, im.h.kargsCap, im.name)
	if err != nil {
		return err
	}
	for _, r := range im.h.regions {
		if _, err := im.f.WriteAt(padRegion(text, r.Length), r.Offset); err != nil {
			return fmt.Errorf("write kernel arguments into %s: %w", im.name, err)
		}
	}
	h := *im.h
	h.kargsLen = len(text)
	h.kargsSHA = sha256.Sum256([]byte(text))
	return im.writeHeader(&h)
}

// EditKargs applies --delete then --append: a delete names a whole
// argument (KEY=VALUE) or a key, which removes every KEY=... and KEY.
func EditKargs(cur, appendArgs, deleteArgs []string) ([]string, error) {
	out := []string{}
	matched := map[string]bool{}
	for _, k := range cur {
		key, _, _ := strings.Cut(k, "=")
		drop := false
		for _, d := range deleteArgs {
			if d == k || (!strings.Contains(d, "=") && d == key) {
				drop, matched[d] = true, true
			}
		}
		if !drop {
			out = append(out, k)
		}
	}
	for _, d := range deleteArgs {
		if !matched[d] {
			return nil, fmt.Errorf("%w: kernel argument %q is not set (current: %s); nothing to delete", ErrInvalid, d, strings.Join(cur, " "))
		}
	}
	return append(out, appendArgs...), nil
}

// joinKargs validates and joins kernel arguments. Characters that GRUB or
// isolinux would interpret are refused, since the same bytes go to both.
func joinKargs(kargs []string, capacity int, name string) (string, error) {
	for _, k := range kargs {
		if err := ValidateKarg(k); err != nil {
			return "", err
		}
	}
	text := strings.Join(kargs, " ")
	if len(text) > capacity {
		return "", fmt.Errorf("%w: the kernel arguments are %d bytes; the region in %s holds at most %d bytes; drop some, or rebuild with a larger --kargs-size", ErrTooLarge, len(text), name, capacity)
	}
	return text, nil
}

// ValidateKarg refuses arguments the boot loader configs cannot carry.
func ValidateKarg(k string) error {
	if k == "" {
		return fmt.Errorf("%w: an empty kernel argument", ErrInvalid)
	}
	for _, c := range []byte(k) {
		if c <= ' ' || c > '~' || strings.IndexByte("\"'\\$;|&<>{}`", c) >= 0 {
			return fmt.Errorf("%w: kernel argument %q has %q, which GRUB or isolinux would interpret; use printable ASCII without spaces, quotes, \\ $ ; | & < > { } or `", ErrInvalid, k, c)
		}
	}
	// GRUB starts a comment with # only at the start of a word, so
	// uai.answers=URL#sha256=... passes through.
	if k[0] == '#' {
		return fmt.Errorf("%w: kernel argument %q starts with #, which GRUB reads as a comment", ErrInvalid, k)
	}
	return nil
}

func padRegion(text string, n int) []byte {
	b := bytes.Repeat([]byte{' '}, n)
	copy(b, text)
	return b
}
