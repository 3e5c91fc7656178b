// Package iso builds uai's hybrid live ISO and edits built ISOs in place: embedded answer files, kernel arguments, embedded images and PXE extraction.
package iso

import (
	"errors"
	"fmt"
	"regexp"
)

// The layout of an ISO built by uai. docs/iso.md describes it; the live
// system and `uai iso` rely on these paths.
const (
	PathKernel      = "boot/vmlinuz"
	PathInitrd      = "boot/initrd.img"
	PathRootfs      = "boot/rootfs.img"
	PathGrubCfg     = "boot/grub/grub.cfg"
	PathEFIImage    = "boot/efiboot.img"
	PathIsolinux    = "isolinux/isolinux.bin"
	PathIsolinuxCfg = "isolinux/isolinux.cfg"
	PathBootCatalog = "boot/boot.cat"
	PathGrubStub    = "EFI/BOOT/grub.cfg"
	PathInfo        = "uai/info.json"
	PathArea        = "uai/embed.area"
	// PathAnswers is a window onto the answer file in the embed area: its
	// directory records point into the area and carry the file's length,
	// so a mounted ISO shows the embedded answer file as an ordinary file
	// (empty when none is embedded).
	PathAnswers = "uai/answers.toml"
	PathImages  = "images/oci"
)

// LabelKarg is the kernel argument, outside the editable region, that
// tells the live system the volume label of the medium it booted from.
const LabelKarg = "uai.live.label"

// DefaultLabel is the volume label when none is given.
const DefaultLabel = "UAI_LIVE"

var (
	// ErrNotUAI means the image is not an ISO built by uai (no embed area).
	ErrNotUAI = errors.New("not an ISO built by uai")
	// ErrCorrupt means the embed area or a kernel-argument region does not
	// match its checksum.
	ErrCorrupt = errors.New("embed area is corrupt")
	// ErrTooLarge means data does not fit its fixed-size area.
	ErrTooLarge = errors.New("does not fit")
	// ErrNoAnswers means no answer file is embedded.
	ErrNoAnswers = errors.New("no answer file is embedded")
	// ErrInvalid means an option or input is wrong.
	ErrInvalid = errors.New("invalid input")
)

var labelRE = regexp.MustCompile(`^[A-Z0-9_]{1,32}$`)

// ValidateLabel checks a volume label: ISO9660 d-characters (A-Z, 0-9 and
// _), at most 32. The live system and GRUB find the medium by it.
func ValidateLabel(l string) error {
	if !labelRE.MatchString(l) {
		return fmt.Errorf("%w: volume label %q: use 1 to 32 characters from A-Z, 0-9 and _ (ISO9660 d-characters), e.g. %s", ErrInvalid, l, DefaultLabel)
	}
	return nil
}
