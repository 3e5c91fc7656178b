package catalog

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// ReadMachine reads what Fits needs to know about this machine from the
// files under root ("/" for the running system; a test tree otherwise):
// the firmware from sys/firmware/efi and the memory from proc/meminfo. Arch
// is the architecture uai was built for (runtime.GOARCH). LargestDiskBytes
// is left 0: the caller knows the disks. A fact that cannot be read stays
// unknown (zero, so Fits does not check it), and the error says which.
func ReadMachine(root string) (Machine, error) {
	m := Machine{Arch: runtime.GOARCH}
	var errs []error
	fw, err := readFirmware(root, m.Arch)
	if err != nil {
		errs = append(errs, err)
	}
	m.Firmware = fw
	ram, err := readMemTotal(filepath.Join(root, "proc", "meminfo"))
	if err != nil {
		errs = append(errs, err)
	}
	m.RAMBytes = ram
	return m, errors.Join(errs...)
}

// readFirmware: the kernel creates /sys/firmware/efi only when it was
// started by UEFI firmware. Without it, an x86 machine booted from BIOS
// (legacy or CSM); elsewhere (U-Boot, OpenFirmware) there is no name for
// the boot mode in the catalog, so it stays unknown.
func readFirmware(root, arch string) (string, error) {
	sysfw := filepath.Join(root, "sys", "firmware")
	if _, err := os.Stat(filepath.Join(sysfw, "efi")); err == nil {
		return FirmwareUEFI, nil
	}
	if _, err := os.Stat(sysfw); err != nil {
		return "", fmt.Errorf("machine firmware: %w (is /sys mounted?)", err)
	}
	if arch == "amd64" || arch == "386" {
		return FirmwareBIOS, nil
	}
	return "", nil
}

// readMemTotal returns MemTotal from a meminfo file, in bytes.
func readMemTotal(path string) (uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("machine memory: %w (is /proc mounted?)", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, 64<<10))
	for sc.Scan() {
		rest, ok := bytes.CutPrefix(sc.Bytes(), []byte("MemTotal:"))
		if !ok {
			continue
		}
		fields := strings.Fields(string(rest))
		if len(fields) != 2 || fields[1] != "kB" {
			return 0, fmt.Errorf("machine memory: %s has MemTotal %q, not a size in kB", path, strings.TrimSpace(string(rest)))
		}
		kb, err := strconv.ParseUint(fields[0], 10, 64)
		if err != nil || kb > 1<<50 {
			return 0, fmt.Errorf("machine memory: %s has MemTotal %q, not a size in kB", path, fields[0])
		}
		return kb << 10, nil
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("machine memory: %s: %w", path, err)
	}
	return 0, fmt.Errorf("machine memory: %s has no MemTotal line: %w", path, fs.ErrNotExist)
}

// Fit is an edition and whether it can be installed on a machine.
type Fit struct {
	Edition
	Fits bool `json:"fits"`
	// Reasons say why not, one per broken requirement, with the sizes.
	Reasons []string `json:"reasons,omitempty"`
}

// ForMachine lists every edition with whether it fits m and why not, in
// catalog order. Editions that do not fit stay in the list: the picker
// shows them, greyed out with the reason, instead of hiding them.
func (c *Catalog) ForMachine(m Machine) []Fit {
	out := make([]Fit, len(c.Editions))
	for i, e := range c.Editions {
		why := e.Fits(m)
		out[i] = Fit{Edition: e, Fits: len(why) == 0, Reasons: why}
	}
	return out
}

// WriteFitTable writes the listing of `uai catalog list`: the columns of
// WriteTable and FITS ("yes", or "no: " and the reasons, separated by " / "
// since a reason has a semicolon of its own), sorted the same way.
func WriteFitTable(w io.Writer, fits []Fit) error {
	fits = slices.Clone(fits)
	slices.SortStableFunc(fits, func(a, b Fit) int {
		return cmp.Or(compareCategory(a.Category, b.Category), cmp.Compare(a.ID, b.ID))
	})
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tCATEGORY\tMATURITY\tIMAGE\tFITS")
	for _, f := range fits {
		ok := "yes"
		if !f.Fits {
			ok = "no: " + strings.Join(f.Reasons, " / ")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", f.ID, f.Name, f.Category, f.Maturity, f.Image, ok)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write catalog table: %w", err)
	}
	return nil
}
