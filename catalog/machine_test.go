package catalog

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// fakeRoot builds a tree with the files ReadMachine reads; an empty
// meminfo means no file, efi false means no sys/firmware/efi.
func fakeRoot(t *testing.T, sysfw, efi bool, meminfo string) string {
	t.Helper()
	root := t.TempDir()
	if sysfw {
		os.MkdirAll(filepath.Join(root, "sys", "firmware", "acpi"), 0o755)
	}
	if efi {
		os.MkdirAll(filepath.Join(root, "sys", "firmware", "efi", "efivars"), 0o755)
	}
	if meminfo != "" {
		os.MkdirAll(filepath.Join(root, "proc"), 0o755)
		os.WriteFile(filepath.Join(root, "proc", "meminfo"), []byte(meminfo), 0o644)
	}
	return root
}

const meminfo = "MemTotal:        8043288 kB\nMemFree:          321000 kB\nMemAvailable:    4000000 kB\n"

func TestReadMachine(t *testing.T) {
	bios := ""
	if runtime.GOARCH == "amd64" || runtime.GOARCH == "386" {
		bios = FirmwareBIOS // legacy boot exists only on x86
	}
	for _, c := range []struct {
		name       string
		sysfw, efi bool
		meminfo    string
		firmware   string
		ram        uint64
		errs       []string
	}{
		{name: "uefi", sysfw: true, efi: true, meminfo: meminfo, firmware: FirmwareUEFI, ram: 8043288 << 10},
		{name: "bios", sysfw: true, meminfo: meminfo, firmware: bios, ram: 8043288 << 10},
		{name: "no sysfs", meminfo: meminfo, ram: 8043288 << 10, errs: []string{"machine firmware", "is /sys mounted?"}},
		{name: "no procfs", sysfw: true, efi: true, firmware: FirmwareUEFI, errs: []string{"machine memory", "is /proc mounted?"}},
		{name: "no MemTotal", sysfw: true, efi: true, meminfo: "MemFree: 1 kB\n", firmware: FirmwareUEFI, errs: []string{"has no MemTotal line"}},
		{name: "MemTotal in MB", sysfw: true, efi: true, meminfo: "MemTotal: 8000 MB\n", firmware: FirmwareUEFI, errs: []string{`has MemTotal "8000 MB", not a size in kB`}},
		{name: "MemTotal not a number", sysfw: true, efi: true, meminfo: "MemTotal: lots kB\n", firmware: FirmwareUEFI, errs: []string{`has MemTotal "lots"`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := ReadMachine(fakeRoot(t, c.sysfw, c.efi, c.meminfo))
			if m.Arch != runtime.GOARCH || m.Firmware != c.firmware || m.RAMBytes != c.ram || m.LargestDiskBytes != 0 {
				t.Errorf("machine %+v; want firmware %q RAM %d", m, c.firmware, c.ram)
			}
			if len(c.errs) == 0 {
				if err != nil {
					t.Errorf("error %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error; want one with %q", c.errs)
			}
			for _, w := range c.errs {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	if _, err := ReadMachine(t.TempDir()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("an empty root: %v; want both facts missing", err)
	}
}

// TestReadMachineHere reads the running system: whatever it is, the facts
// must be plausible.
func TestReadMachineHere(t *testing.T) {
	m, err := ReadMachine("/")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI machines have /sys and /proc: %v", err)
		}
		t.Skipf("SKIPPED LOUDLY: this system lacks /sys or /proc: %v", err)
	}
	if m.RAMBytes < 64<<20 || m.Arch == "" {
		t.Errorf("machine %+v", m)
	}
}

func TestForMachine(t *testing.T) {
	c := &Catalog{APIVersion: APIVersion, Editions: []Edition{
		{ID: "small", Category: "server", Arches: []string{"amd64", "arm64"}, Firmware: []string{"uefi", "bios"}, MinDiskGiB: 10, MinRAMMiB: 2048},
		{ID: "big", Category: "desktop", Arches: []string{"amd64"}, Firmware: []string{"uefi"}, MinDiskGiB: 64, MinRAMMiB: 8192},
		{ID: "x86", Category: "server", Arches: []string{"amd64"}, Firmware: []string{"uefi", "bios"}, MinDiskGiB: 10, MinRAMMiB: 2048},
	}}
	m := Machine{Arch: "arm64", Firmware: FirmwareUEFI, RAMBytes: 4 << 30, LargestDiskBytes: 32 << 30}
	fits := c.ForMachine(m)
	if len(fits) != 3 || fits[0].ID != "small" || fits[1].ID != "big" || fits[2].ID != "x86" {
		t.Fatalf("ForMachine must keep every edition in catalog order: %+v", fits)
	}
	if !fits[0].Fits || fits[0].Reasons != nil {
		t.Errorf("small: %+v", fits[0])
	}
	if fits[1].Fits || len(fits[1].Reasons) != 3 || fits[2].Fits || len(fits[2].Reasons) != 1 {
		t.Errorf("big: %q; x86: %q", fits[1].Reasons, fits[2].Reasons)
	}
	var b bytes.Buffer
	if err := WriteFitTable(&b, fits); err != nil {
		t.Fatal(err)
	}
	golden(t, "testdata/fit-table.golden", b.Bytes())
	if c.Editions[0].ID != "small" {
		t.Error("WriteFitTable reordered the catalog")
	}
}
