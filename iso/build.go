package iso

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/diskfs/go-diskfs/filesystem/iso9660"

	"github.com/universal-atomic-installer/uai/iso/internal/fat"
	"github.com/universal-atomic-installer/uai/iso/internal/isofs"
)

// BuildOptions are the inputs of a live ISO.
type BuildOptions struct {
	// Kernel and Initrd are required; Rootfs (a squashfs or other image the
	// initrd mounts) is optional.
	Kernel, Initrd, Rootfs string
	// EFIDir holds the UEFI boot chain, copied into EFI/BOOT of the El
	// Torito EFI image: BOOTX64.EFI (shim, for Secure Boot) and what it
	// loads (grubx64.efi, mmx64.efi). 8.3 names only.
	EFIDir string
	// BIOSDir holds isolinux.bin, ldlinux.c32 and isohdpfx.bin (and any
	// other isolinux modules, copied into /isolinux).
	BIOSDir string
	// Label is the volume label (DefaultLabel when empty).
	Label string
	// Kargs are the default editable kernel arguments.
	Kargs []string
	// Answers, when set, is embedded at build time.
	Answers []byte
	// AreaSize is the size of the embed area, header included
	// (DefaultAreaSize when 0).
	AreaSize int64
	// KargsSize is the size of each kernel-argument region
	// (DefaultKargsSize when 0).
	KargsSize int
	// Timeout is the boot menu timeout in seconds (0 boots at once).
	Timeout int
	// Images are container image refs to pull into an OCI layout at
	// /images/oci, for offline installs.
	Images []string
	// Platform is the platform pulled from multi-arch images
	// ("linux/amd64" when empty).
	Platform string
	// Transport carries registry requests (nil: the default transport).
	Transport http.RoundTripper
	// SourceDate stamps every time in the image; the zero value means now.
	// With the same inputs and SourceDate the ISO is byte for byte the same.
	SourceDate time.Time
	// Progress receives the pull progress bars; nil means quiet.
	Progress io.Writer
}

// BuildResult describes a built ISO.
type BuildResult struct {
	Path       string          `json:"path"`
	Size       int64           `json:"size"`
	Label      string          `json:"label"`
	BIOS       bool            `json:"bios"`
	EFI        bool            `json:"efi"`
	AreaOffset int64           `json:"area_offset"`
	AreaSize   int64           `json:"area_size"`
	Regions    []Region        `json:"kargs_regions"`
	Images     []EmbeddedImage `json:"images,omitempty"`
}

// maxFileSize is the largest file one ISO9660 extent holds.
const maxFileSize = 1<<32 - 2048

func (o *BuildOptions) validate() error {
	if o.Label == "" {
		o.Label = DefaultLabel
	}
	if err := ValidateLabel(o.Label); err != nil {
		return err
	}
	if o.AreaSize == 0 {
		o.AreaSize = DefaultAreaSize
	}
	if o.AreaSize < areaHeaderSize+4096 || o.AreaSize%2048 != 0 || o.AreaSize > 64<<20 {
		return fmt.Errorf("%w: --embed-size %d: use a multiple of 2048 between %d and %d bytes", ErrInvalid, o.AreaSize, areaHeaderSize+4096, 64<<20)
	}
	if o.KargsSize == 0 {
		o.KargsSize = DefaultKargsSize
	}
	if o.KargsSize < 64 || o.KargsSize > MaxKargsSize {
		return fmt.Errorf("%w: --kargs-size %d: use 64 to %d bytes (the x86 kernel command line holds 2048 bytes in all)", ErrInvalid, o.KargsSize, MaxKargsSize)
	}
	if o.Timeout < 0 || o.Timeout > 600 {
		return fmt.Errorf("%w: boot menu timeout %d: use 0 to 600 seconds", ErrInvalid, o.Timeout)
	}
	if o.Kernel == "" || o.Initrd == "" {
		return fmt.Errorf("%w: a live ISO needs --kernel and --initrd", ErrInvalid)
	}
	if o.EFIDir == "" && o.BIOSDir == "" {
		return fmt.Errorf("%w: an ISO without --efi-dir or --bios-dir cannot boot; pass one or both", ErrInvalid)
	}
	if int64(len(o.Answers)) > o.AreaSize-areaHeaderSize {
		return fmt.Errorf("%w: the answer file is %d bytes; an embed area of %d bytes holds at most %d; shorten it or pass a larger --embed-size", ErrTooLarge, len(o.Answers), o.AreaSize, o.AreaSize-areaHeaderSize)
	}
	if _, err := joinKargs(o.Kargs, o.KargsSize, "the ISO"); err != nil {
		return err
	}
	if o.SourceDate.IsZero() {
		o.SourceDate = time.Now()
	}
	o.SourceDate = o.SourceDate.UTC().Truncate(time.Second)
	if o.SourceDate.Year() < 1980 || o.SourceDate.Year() > 2107 {
		return fmt.Errorf("%w: SOURCE_DATE_EPOCH gives %s; ISO9660 and FAT need a date between 1980 and 2107", ErrInvalid, o.SourceDate)
	}
	return nil
}

// workspace is the directory tree the ISO is made of.
type workspace struct {
	dir   string
	bytes int64
	files int
}

// link places src at rel: a hard link when possible (no copy of a large
// rootfs), else a copy. go-diskfs only reads the workspace, so the input
// file is never changed.
func (w *workspace) link(src, rel, what string) error {
	st, err := os.Stat(src)
	if err != nil {
		return fmt.Errorf("%w: %s %s: %v", ErrInvalid, what, src, err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%w: %s %s is not a regular file", ErrInvalid, what, src)
	}
	if st.Size() > maxFileSize {
		return fmt.Errorf("%w: %s %s is %d bytes; an ISO9660 file holds at most %d bytes", ErrInvalid, what, src, st.Size(), int64(maxFileSize))
	}
	dst := filepath.Join(w.dir, rel)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	w.count(st.Size())
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrInvalid, what, err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s %s: %w", what, src, err)
	}
	return out.Close()
}

func (w *workspace) write(rel string, data []byte) error {
	dst := filepath.Join(w.dir, rel)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	w.count(int64(len(data)))
	return os.WriteFile(dst, data, 0o644)
}

func (w *workspace) count(n int64) {
	w.bytes += (n + 2047) / 2048 * 2048
	w.files++
}

// Build writes a hybrid live ISO to out. The file appears only when the
// build succeeded (it is written beside out and renamed).
func Build(ctx context.Context, out string, o BuildOptions) (*BuildResult, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	dir := filepath.Dir(out)
	ws, err := os.MkdirTemp(dir, ".uai-iso-work-")
	if err != nil {
		return nil, fmt.Errorf("create a work directory beside %s: %w", out, err)
	}
	defer os.RemoveAll(ws)
	// Rock Ridge copies the workspace root's mode into the ISO root.
	if err := os.Chmod(ws, 0o755); err != nil {
		return nil, err
	}
	w := &workspace{dir: ws}
	res := &BuildResult{Label: o.Label, BIOS: o.BIOSDir != "", EFI: o.EFIDir != ""}

	if err := w.link(o.Kernel, PathKernel, "kernel"); err != nil {
		return nil, err
	}
	if err := w.link(o.Initrd, PathInitrd, "initrd"); err != nil {
		return nil, err
	}
	if o.Rootfs != "" {
		if err := w.link(o.Rootfs, PathRootfs, "rootfs"); err != nil {
			return nil, err
		}
	}
	defaults := padRegion(strings.Join(o.Kargs, " "), o.KargsSize)

	var bootCode []byte
	var isolinuxCfgOff int
	if o.BIOSDir != "" {
		bootCode, isolinuxCfgOff, err = w.addBIOS(o, defaults)
		if err != nil {
			return nil, err
		}
	}
	var efiImageSize int64
	if o.EFIDir != "" {
		efiImageSize, err = w.addEFI(o)
		if err != nil {
			return nil, err
		}
	}
	grubCfg := grubConfig(o.Label, o.Timeout, o.KargsSize)
	grubOff, err := regionIn(grubCfg, o.KargsSize)
	if err != nil {
		return nil, err
	}
	grubCfg = grubCfg[:grubOff] + string(defaults) + grubCfg[grubOff+o.KargsSize:]
	if err := w.write(PathGrubCfg, []byte(grubCfg)); err != nil {
		return nil, err
	}
	// GRUB looks for its config beside its binary ($cmdpath/grub.cfg);
	// on a CD that is the ISO9660 side, on a USB stick the FAT image.
	if err := w.write(PathGrubStub, []byte(grubStub(o.Label))); err != nil {
		return nil, err
	}
	// The area is a sparse file: zeros cost nothing until Finalize copies.
	if err := w.sparse(PathArea, o.AreaSize); err != nil {
		return nil, err
	}
	if err := w.write(PathAnswers, nil); err != nil {
		return nil, err
	}
	if len(o.Images) > 0 {
		imgs, n, err := pullImages(ctx, filepath.Join(ws, PathImages), o)
		if err != nil {
			return nil, err
		}
		res.Images = imgs
		w.bytes += n
		w.files += 2 * len(imgs)
	}
	if err := w.write(PathInfo, buildInfo(o, res.Images)); err != nil {
		return nil, err
	}

	tmp, err := os.CreateTemp(dir, ".uai-iso-*.iso")
	if err != nil {
		return nil, fmt.Errorf("create the output beside %s: %w", out, err)
	}
	keep := false
	defer func() {
		if !keep {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	// Room for the files, directories, path tables and descriptors; the
	// file is cut to the volume's size afterwards.
	estimate := w.bytes + int64(w.files)*4096 + 8<<20
	if err := tmp.Truncate(estimate); err != nil {
		return nil, fmt.Errorf("size %s: %w", tmp.Name(), err)
	}
	out9660 := newCoalescing(tmp)
	fsys, err := iso9660.Create(out9660, estimate, 0, isofs.BlockSize, ws)
	if err != nil {
		return nil, fmt.Errorf("start the ISO9660 image: %w", err)
	}
	var entries []*iso9660.ElToritoEntry
	if o.BIOSDir != "" {
		bios := &iso9660.ElToritoEntry{Platform: iso9660.BIOS, Emulation: iso9660.NoEmulation, BootFile: PathIsolinux, BootTable: true}
		bios.SetLoadSize(4)
		entries = append(entries, bios)
	}
	if o.EFIDir != "" {
		entries = append(entries, &iso9660.ElToritoEntry{Platform: iso9660.EFI, Emulation: iso9660.NoEmulation, BootFile: PathEFIImage})
	}
	err = fsys.Finalize(iso9660.FinalizeOptions{
		RockRidge:        true,
		Joliet:           true,
		VolumeIdentifier: o.Label,
		// The catalog has no directory record, so it carries no time stamp
		// go-diskfs would take from the clock.
		ElTorito: &iso9660.ElTorito{BootCatalog: PathBootCatalog, HideBootCatalog: true, Entries: entries},
	})
	if err == nil {
		err = out9660.Flush()
	}
	if err != nil {
		return nil, fmt.Errorf("write the ISO9660 image: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	// Two repairs of what go-diskfs writes, then a check of the result.
	if err := isofs.BootRecordFirst(tmp); err != nil {
		return nil, fmt.Errorf("place the El Torito boot record: %w", err)
	}
	if err := isofs.FixJoliet(tmp); err != nil {
		return nil, fmt.Errorf("repair the Joliet tree: %w", err)
	}
	vol, err := isofs.Open(tmp)
	if err != nil {
		return nil, fmt.Errorf("read back the new ISO: %w", err)
	}
	if err := vol.Check(); err != nil {
		return nil, fmt.Errorf("internal: the new ISO is damaged: %w", err)
	}
	// Pad to whole MiB, as isohybrid does: partition tools and some
	// firmware expect a disk of whole cylinders.
	size := (int64(vol.Blocks)*isofs.BlockSize + 1<<20 - 1) / (1 << 20) * (1 << 20)
	if err := tmp.Truncate(size); err != nil {
		return nil, fmt.Errorf("size %s: %w", tmp.Name(), err)
	}
	if err := isofs.Normalize(tmp, o.SourceDate); err != nil {
		return nil, fmt.Errorf("normalise the ISO's time stamps and owners: %w", err)
	}
	if err := stampIdentity(tmp, vol); err != nil {
		return nil, err
	}
	if vol, err = isofs.Open(tmp); err != nil {
		return nil, fmt.Errorf("read back the new ISO: %w", err)
	}
	area, err := vol.Lookup(PathArea)
	if err != nil {
		return nil, fmt.Errorf("find the embed area in the new ISO: %w", err)
	}
	h := &header{areaSize: o.AreaSize, areaOffset: area.Offset(), kargsCap: o.KargsSize, defaultKargs: strings.Join(o.Kargs, " ")}
	grub, err := vol.Lookup(PathGrubCfg)
	if err != nil {
		return nil, fmt.Errorf("find the GRUB config in the new ISO: %w", err)
	}
	h.regions = append(h.regions, Region{Offset: grub.Offset() + int64(grubOff), Length: o.KargsSize, Kind: RegionGRUB})
	layout := hybridLayout{bootCode: bootCode, imageBytes: size}
	if o.BIOSDir != "" {
		cfg, err := vol.Lookup(PathIsolinuxCfg)
		if err != nil {
			return nil, fmt.Errorf("find the isolinux config in the new ISO: %w", err)
		}
		h.regions = append(h.regions, Region{Offset: cfg.Offset() + int64(isolinuxCfgOff), Length: o.KargsSize, Kind: RegionIsolinux})
		bin, err := vol.Lookup(PathIsolinux)
		if err != nil {
			return nil, fmt.Errorf("find isolinux.bin in the new ISO: %w", err)
		}
		layout.isolinuxLBA = bin.Extent
	}
	if o.EFIDir != "" {
		img, err := vol.Lookup(PathEFIImage)
		if err != nil {
			return nil, fmt.Errorf("find the EFI image in the new ISO: %w", err)
		}
		layout.efiLBA, layout.efiBytes = img.Extent, efiImageSize
	}
	text := strings.Join(o.Kargs, " ")
	h.kargsLen, h.kargsSHA = len(text), sha256.Sum256([]byte(text))
	if len(o.Answers) > 0 {
		if _, err := tmp.WriteAt(o.Answers, area.Offset()+areaHeaderSize); err != nil {
			return nil, fmt.Errorf("write the answer file: %w", err)
		}
		h.answersLen, h.answersSHA = int64(len(o.Answers)), sha256.Sum256(o.Answers)
	}
	records, err := answerRecords(vol)
	if err != nil {
		return nil, err
	}
	for _, rec := range records {
		if err := isofs.SetExtent(tmp, rec, area.Extent+areaHeaderSize/isofs.BlockSize, uint32(h.answersLen)); err != nil {
			return nil, err
		}
	}
	if _, err := tmp.WriteAt(h.marshal(), area.Offset()); err != nil {
		return nil, fmt.Errorf("write the embed area header: %w", err)
	}
	// The disk signature comes from the volume, not from a random source,
	// so rebuilding gives the same bytes.
	sum := sha256.Sum256(vol.PVD)
	layout.signature = binary.LittleEndian.Uint32(sum[:4])
	if err := writeHybridMBR(tmp, layout); err != nil {
		return nil, err
	}
	if err := tmp.Sync(); err != nil {
		return nil, fmt.Errorf("sync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return nil, fmt.Errorf("move the ISO into place at %s: %w", out, err)
	}
	keep = true
	res.Path, res.Size = out, size
	res.AreaOffset, res.AreaSize, res.Regions = area.Offset(), o.AreaSize, h.regions
	return res, nil
}

func (w *workspace) sparse(rel string, size int64) error {
	dst := filepath.Join(w.dir, rel)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	w.count(size)
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	if err := f.Truncate(size); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// addBIOS places isolinux and its config; it returns the isohdpfx boot
// code and the offset of the kernel-argument region in isolinux.cfg.
func (w *workspace) addBIOS(o BuildOptions, defaults []byte) ([]byte, int, error) {
	ents, err := os.ReadDir(o.BIOSDir)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: --bios-dir: %v", ErrInvalid, err)
	}
	have := map[string]bool{}
	var bootCode []byte
	for _, e := range ents {
		p := filepath.Join(o.BIOSDir, e.Name())
		st, err := os.Stat(p)
		if err != nil || !st.Mode().IsRegular() {
			continue
		}
		have[e.Name()] = true
		switch e.Name() {
		case "isohdpfx.bin":
			if bootCode, err = os.ReadFile(p); err != nil {
				return nil, 0, fmt.Errorf("%w: %v", ErrInvalid, err)
			}
			continue
		case "isolinux.cfg":
			return nil, 0, fmt.Errorf("%w: %s: uai writes isolinux.cfg itself (it holds the kernel-argument region); remove it from --bios-dir", ErrInvalid, p)
		case "isolinux.bin":
			f, err := os.Open(p)
			if err != nil {
				return nil, 0, fmt.Errorf("%w: %v", ErrInvalid, err)
			}
			err = checkIsohybrid(f, p)
			f.Close()
			if err != nil {
				return nil, 0, err
			}
		}
		if err := w.link(p, filepath.Join(filepath.Dir(PathIsolinux), e.Name()), "BIOS boot file"); err != nil {
			return nil, 0, err
		}
	}
	for _, need := range []string{"isolinux.bin", "ldlinux.c32", "isohdpfx.bin"} {
		if !have[need] {
			return nil, 0, fmt.Errorf("%w: --bios-dir %s has no %s (Debian packages isolinux and syslinux-common: /usr/lib/ISOLINUX/isolinux.bin, /usr/lib/ISOLINUX/isohdpfx.bin, /usr/lib/syslinux/modules/bios/ldlinux.c32)", ErrInvalid, o.BIOSDir, need)
		}
	}
	cfg := isolinuxConfig(o.Label, o.Timeout, o.KargsSize)
	off, err := regionIn(cfg, o.KargsSize)
	if err != nil {
		return nil, 0, err
	}
	cfg = cfg[:off] + string(defaults) + cfg[off+o.KargsSize:]
	if err := w.write(PathIsolinuxCfg, []byte(cfg)); err != nil {
		return nil, 0, err
	}
	return bootCode, off, nil
}

// addEFI builds the El Torito EFI image (FAT16) from the EFI directory and
// returns its size.
func (w *workspace) addEFI(o BuildOptions) (int64, error) {
	ents, err := os.ReadDir(o.EFIDir)
	if err != nil {
		return 0, fmt.Errorf("%w: --efi-dir: %v", ErrInvalid, err)
	}
	var files []fat.File
	hasBoot, hasCfg := false, false
	for _, e := range ents {
		p := filepath.Join(o.EFIDir, e.Name())
		st, err := os.Stat(p)
		if err != nil || !st.Mode().IsRegular() {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return 0, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		files = append(files, fat.File{Path: "EFI/BOOT/" + e.Name(), Data: data})
		hasBoot = hasBoot || strings.EqualFold(e.Name(), "BOOTX64.EFI")
		hasCfg = hasCfg || strings.EqualFold(e.Name(), "grub.cfg")
	}
	if !hasBoot {
		return 0, fmt.Errorf("%w: --efi-dir %s has no BOOTX64.EFI; put shim there (Debian package shim-signed: /usr/lib/shim/shimx64.efi.signed) with grubx64.efi beside it", ErrInvalid, o.EFIDir)
	}
	if !hasCfg {
		files = append(files, fat.File{Path: PathGrubStub, Data: []byte(grubStub(o.Label))})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	h := sha256.New()
	fmt.Fprintf(h, "%s %d\n", o.Label, o.SourceDate.Unix())
	for _, f := range files {
		fmt.Fprintf(h, "%s %d\n", f.Path, len(f.Data))
		h.Write(f.Data)
	}
	sum := h.Sum(nil)
	img, err := fat.Build(files, fat.Options{Label: "UAI_EFI", Serial: binary.LittleEndian.Uint32(sum), Time: o.SourceDate, FreeBytes: 256 << 10})
	if err != nil {
		return 0, fmt.Errorf("%w: the EFI boot image: %v", ErrInvalid, err)
	}
	return int64(len(img)), w.write(PathEFIImage, img)
}

// stampIdentity names uai as the application that made the volume; tools
// such as isoinfo -d show it.
func stampIdentity(f *os.File, vol *isofs.Volume) error {
	id := make([]byte, 128)
	for i := range id {
		id[i] = ' '
	}
	copy(id, "UAI LIVE ISO (UAI ISO BUILD)")
	if _, err := f.WriteAt(id, vol.PVDOffset+574); err != nil {
		return fmt.Errorf("write the application identifier: %w", err)
	}
	return nil
}

// buildInfo is /uai/info.json: what the ISO was built with, for people and
// tools. It is also the last file go-diskfs writes (the /uai directory
// sorts last and info.json after embed.area), and go-diskfs pads a file
// whose size is a multiple of 2048 with one block too many, which lands on
// the Joliet root when that file is the last one: so its size never is.
func buildInfo(o BuildOptions, images []EmbeddedImage) []byte {
	type info struct {
		Format    int             `json:"format"`
		Label     string          `json:"label"`
		AreaSize  int64           `json:"embed_area_size"`
		KargsSize int             `json:"kargs_size"`
		Kargs     []string        `json:"default_kargs"`
		Images    []EmbeddedImage `json:"images,omitempty"`
	}
	b, _ := json.MarshalIndent(info{Format: 1, Label: o.Label, AreaSize: o.AreaSize, KargsSize: o.KargsSize, Kargs: append([]string{}, o.Kargs...), Images: images}, "", "  ")
	b = append(b, '\n')
	if len(b)%2048 == 0 {
		b = append(b, '\n')
	}
	return b
}
