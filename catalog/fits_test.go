package catalog

import (
	"slices"
	"testing"
)

func TestFits(t *testing.T) {
	desktop := Edition{Arches: []string{"amd64", "arm64"}, Firmware: []string{"uefi"}, MinDiskGiB: 32, MinRAMMiB: 4096}
	const gib = 1 << 30
	for _, tc := range []struct {
		name string
		m    Machine
		want []string
	}{
		{"fits", Machine{Arch: "amd64", Firmware: "uefi", RAMBytes: 8 * gib, LargestDiskBytes: 512 * gib}, nil},
		{"unknown machine fits", Machine{}, nil},
		{"exact minimums fit", Machine{Arch: "arm64", Firmware: "uefi", RAMBytes: 4 * gib, LargestDiskBytes: 32 * gib}, nil},
		{"4 GiB machine reporting MemTotal fits", Machine{RAMBytes: 3_900_000_000}, nil},
		{"RAM at exactly 7/8 fits", Machine{RAMBytes: 3584 << 20}, nil},
		{"RAM just under 7/8", Machine{RAMBytes: 3584<<20 - 1}, []string{"needs 4 GiB of RAM; this machine has 3.4 GiB"}},
		{"wrong arch", Machine{Arch: "s390x"}, []string{"built for amd64 or arm64; this machine is s390x"}},
		{"bios machine", Machine{Firmware: "bios"}, []string{"boots with uefi firmware only; this machine started with bios (change the firmware's boot mode, or pick another edition)"}},
		{"small disk", Machine{LargestDiskBytes: 16 * gib}, []string{"needs 32 GiB of disk; the largest disk here has 16 GiB"}},
		{"disk one byte short", Machine{LargestDiskBytes: 32*gib - 1}, []string{"needs 32 GiB of disk; the largest disk here has 31.9 GiB"}},
		{"everything wrong", Machine{Arch: "ppc64le", Firmware: "bios", RAMBytes: 2 * gib, LargestDiskBytes: 8 * gib}, []string{
			"built for amd64 or arm64; this machine is ppc64le",
			"boots with uefi firmware only; this machine started with bios (change the firmware's boot mode, or pick another edition)",
			"needs 4 GiB of RAM; this machine has 2 GiB",
			"needs 32 GiB of disk; the largest disk here has 8 GiB",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := desktop.Fits(tc.m)
			if !slices.Equal(got, tc.want) {
				t.Errorf("Fits = %q\nwant   %q", got, tc.want)
			}
		})
	}
}

func TestFitsSingleArch(t *testing.T) {
	e := Edition{Arches: []string{"amd64"}, Firmware: []string{"uefi", "bios"}, MinDiskGiB: 10, MinRAMMiB: 2048}
	got := e.Fits(Machine{Arch: "arm64", Firmware: "bios"})
	if !slices.Equal(got, []string{"built for amd64; this machine is arm64"}) {
		t.Errorf("Fits = %q", got)
	}
}

func TestEmbeddedFitsATypicalLaptop(t *testing.T) {
	laptop := Machine{Arch: "amd64", Firmware: "uefi", RAMBytes: 16 << 30, LargestDiskBytes: 512 << 30}
	for _, e := range Embedded().Editions {
		if why := e.Fits(laptop); len(why) != 0 {
			t.Errorf("%s does not fit a 16 GiB / 512 GiB UEFI amd64 laptop: %q", e.ID, why)
		}
	}
}

func TestFormatBytes(t *testing.T) {
	for _, tc := range []struct {
		in   uint64
		want string
	}{
		{0, "0 bytes"},
		{1023, "1023 bytes"},
		{1024, "1 KiB"},
		{1536 << 20, "1.5 GiB"},
		{16 << 30, "16 GiB"},
		{16<<30 - 1, "15.9 GiB"},
		{16<<30 + 1, "16 GiB"},
		{3 << 40, "3 TiB"},
		{^uint64(0), "15.9 EiB"},
	} {
		if got := FormatBytes(tc.in); got != tc.want {
			t.Errorf("FormatBytes(%d) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
