package iso

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/diskfs/go-diskfs/backend"
	"github.com/diskfs/go-diskfs/partition/mbr"
)

// isohybridMagic is what isolinux.bin carries at byte 0x40 when it can
// boot from a hard disk through the isohdpfx MBR code.
const isohybridMagic = 0x7078c0fb

// hybridLayout is what the MBR needs from the finished ISO.
type hybridLayout struct {
	bootCode    []byte // isohdpfx.bin, 432 bytes; nil without BIOS boot
	isolinuxLBA uint32 // in 2048-byte blocks
	efiLBA      uint32 // El Torito EFI image, 2048-byte blocks; 0 without EFI
	efiBytes    int64
	imageBytes  int64
	signature   uint32
}

// writeHybridMBR makes the ISO bootable as a disk (a USB stick): the
// isohdpfx boot code jumps to isolinux on BIOS, and an 0xEF partition over
// the EFI image lets UEFI firmware find EFI/BOOT/BOOTX64.EFI. This is the
// layout xorriso gives Debian's ISOs (partition 1 of type 0 over the whole
// image, marked active, for BIOSes that want one). go-diskfs has no
// isohybrid option, so the system area is written here, after Finalize
// (which zeroes it).
func writeHybridMBR(f backend.WritableFile, l hybridLayout) error {
	sector := make([]byte, 512)
	if l.bootCode != nil {
		if len(l.bootCode) != 432 {
			return fmt.Errorf("isohdpfx.bin is %d bytes, want 432 (Debian package isolinux: /usr/lib/ISOLINUX/isohdpfx.bin)", len(l.bootCode))
		}
		copy(sector, l.bootCode)
		// isohdpfx reads isolinux.bin from this 512-byte LBA.
		binary.LittleEndian.PutUint32(sector[432:], l.isolinuxLBA*4)
	}
	binary.LittleEndian.PutUint32(sector[440:], l.signature)
	if _, err := f.WriteAt(sector[:446], 0); err != nil {
		return fmt.Errorf("write the MBR boot code: %w", err)
	}
	sectors := uint32(l.imageBytes / 512)
	parts := []*mbr.Partition{{Index: 1, Bootable: true, Type: mbr.Empty, Start: 0, Size: sectors}}
	if l.efiLBA != 0 {
		parts = append(parts, &mbr.Partition{Index: 2, Type: mbr.EFISystem, Start: l.efiLBA * 4, Size: uint32((l.efiBytes + 511) / 512)})
	}
	for _, p := range parts {
		setCHS(p)
	}
	t := &mbr.Table{LogicalSectorSize: 512, PhysicalSectorSize: 512, Partitions: parts}
	if err := t.Write(f, l.imageBytes); err != nil {
		return fmt.Errorf("write the MBR partition table: %w", err)
	}
	return nil
}

// setCHS fills the legacy cylinder/head/sector fields with the 64-head,
// 32-sector geometry isohybrid uses; BIOSes that still read them get
// consistent values, and everything else reads the LBA fields.
func setCHS(p *mbr.Partition) {
	enc := func(lba uint32) (c, h, s byte) {
		const heads, spt = 64, 32
		cyl := lba / (heads * spt)
		if cyl > 1023 {
			return 0xFE, 0xFF, 0xFF
		}
		head := (lba / spt) % heads
		sec := lba%spt + 1
		return byte(cyl), byte(head), byte(sec) | byte((cyl>>8)<<6)
	}
	p.StartCylinder, p.StartHead, p.StartSector = enc(p.Start)
	p.EndCylinder, p.EndHead, p.EndSector = enc(p.Start + p.Size - 1)
}

// checkIsohybrid refuses an isolinux.bin that cannot boot from a disk.
func checkIsohybrid(r io.ReaderAt, name string) error {
	b := make([]byte, 4)
	if _, err := r.ReadAt(b, 0x40); err != nil {
		return fmt.Errorf("%w: read %s: %v", ErrInvalid, name, err)
	}
	if binary.LittleEndian.Uint32(b) != isohybridMagic {
		return fmt.Errorf("%w: %s is not an isohybrid-capable isolinux.bin (no magic %#x at byte 0x40); use the one from Debian's isolinux package (/usr/lib/ISOLINUX/isolinux.bin)", ErrInvalid, name, isohybridMagic)
	}
	return nil
}
