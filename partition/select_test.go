package partition

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func fixture(t testing.TB, name string) Machine {
	t.Helper()
	m, err := LoadMachine(filepath.Join("..", "test", "fixtures", "machines", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]uint64{
		"100GiB": 100 << 30, "2TB": 2e12, "512M": 512 << 20, "1.5T": 3 << 39, "1.5TiB": 3 << 39, "500 GB": 500e9,
		"1000000": 1e6, "4096B": 4096, "1k": 1024, "1KB": 1000, "0.5GiB": 512 << 20, "8gib": 8 << 30, "1PB": 1e15,
	} {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "GiB", "12XB", "1.2.3G", "-5G", "ten", "99999999999PiB"} {
		if n, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", bad, n)
		}
	}
}

func TestParseSelector(t *testing.T) {
	yes, no := true, false
	cases := []struct {
		in   string
		want Selector
		text string // canonical String(); "" means in
	}{
		{"serial=S5GX", Selector{Serial: "S5GX"}, ""},
		{"model=Samsung SSD 9*,min_size=100GiB,largest", Selector{Model: "Samsung SSD 9*", MinSize: "100GiB", Largest: true}, ""},
		{"min-size=1TB, max-size=4TB ,transport=sata", Selector{MinSize: "1TB", MaxSize: "4TB", Transport: "sata"}, "min_size=1TB,max_size=4TB,transport=sata"},
		{"size=100GiB..2TB", Selector{MinSize: "100GiB", MaxSize: "2TB"}, "min_size=100GiB,max_size=2TB"},
		{"size=..2TB", Selector{MaxSize: "2TB"}, "max_size=2TB"},
		{"rotational=false,removable=no,empty", Selector{Rotational: &no, Removable: &no, Empty: true}, "rotational=false,removable=false,empty"},
		{"rotational", Selector{Rotational: &yes}, "rotational=true"},
		{`model="Foo, Bar*",serial=X`, Selector{Model: "Foo, Bar*", Serial: "X"}, `serial=X,model="Foo, Bar*"`},
		{"path=/dev/disk/by-id/wwn-0x5000c500a1b2c3d4,allow_boot_medium", Selector{Path: "/dev/disk/by-id/wwn-0x5000c500a1b2c3d4", AllowBootMedium: true}, ""},
		{"by_id=nvme-Samsung_SSD_980_PRO_1TB_S5GXNF0N123456,wwn=eui.002538b111b2c3d4,smallest=true",
			Selector{ByID: "nvme-Samsung_SSD_980_PRO_1TB_S5GXNF0N123456", WWN: "eui.002538b111b2c3d4", Smallest: true}, "by_id=nvme-Samsung_SSD_980_PRO_1TB_S5GXNF0N123456,wwn=eui.002538b111b2c3d4,smallest"},
		{"", Selector{}, ""},
	}
	for _, c := range cases {
		got, err := ParseSelector(c.in)
		if err != nil {
			t.Errorf("ParseSelector(%q): %v", c.in, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseSelector(%q) = %+v, want %+v", c.in, got, c.want)
		}
		text := c.text
		if text == "" {
			text = c.in
		}
		if got.String() != text {
			t.Errorf("String() of %q = %q, want %q", c.in, got.String(), text)
		}
		again, err := ParseSelector(got.String())
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Errorf("round trip of %q: %+v, %v", got.String(), again, err)
		}
	}
	for in, want := range map[string]string{
		"serial":                         "serial needs a value",
		"colour=blue":                    `unknown rule "colour"`,
		"serial=A,serial=B":              "sets serial twice",
		"min_size=lots":                  "is not a size",
		"min_size=2TB,max_size=1TB":      "no disk can match",
		"transport=firewire":             `transport "firewire" is not one of nvme, sata`,
		"largest,smallest":               "largest and smallest are both set",
		"rotational=maybe":               `"maybe" is not a boolean`,
		`model="unclosed`:                "unclosed double quote",
		"size=1TB":                       "is not a range",
		"size=1TB..2TB,min_size=1GB":     "sets size and min_size/max_size",
		"model=[":                        "not a valid glob",
		"serial=A,empty=perhaps,largest": `"perhaps" is not a boolean`,
	} {
		_, err := ParseSelector(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseSelector(%q) = %v, want an error with %q", in, err, want)
		}
	}
}

// The traps of the peers' wrong-disk incidents, each on a described
// machine: which disk a selector picks, or that it refuses and why.
func TestSelectOnFixtures(t *testing.T) {
	cases := []struct {
		machine, selector string
		want              string   // path of the one match; "" means an error
		errHas            []string // in the error (which includes the report)
	}{
		// desktop: the empty NVMe by any of its identities
		{"nvme-sata-usb", "serial=S5GXNF0N123456", "/dev/nvme0n1", nil},
		{"nvme-sata-usb", "wwn=0x002538b111b2c3d4", "/dev/nvme0n1", nil},
		{"nvme-sata-usb", "by_id=nvme-eui.002538b111b2c3d4", "/dev/nvme0n1", nil},
		{"nvme-sata-usb", "path=/dev/disk/by-path/pci-0000:3d:00.0-nvme-1", "/dev/nvme0n1", nil},
		{"nvme-sata-usb", "wwn=wwn-0x5000C500A1B2C3D4", "/dev/sda", nil},
		{"nvme-sata-usb", "empty", "/dev/nvme0n1", nil},
		{"nvme-sata-usb", "rotational=false,min_size=500GB", "/dev/nvme0n1", nil},
		{"nvme-sata-usb", "largest", "/dev/sda", nil},
		// the USB stick is the boot medium: never matched, even when it is
		// the only removable or the smallest disk (talos#11255)
		{"nvme-sata-usb", "removable", "", []string{"matches none", "/dev/sdb", "FAIL  not the boot medium", "the live system booted from it"}},
		{"nvme-sata-usb", "smallest", "/dev/nvme0n1", nil},
		{"nvme-sata-usb", "transport=usb", "", []string{"matches none", "mounted: sdb1 is mounted at /run/initramfs/live"}},
		// allowing the boot medium still does not allow a mounted disk
		{"nvme-sata-usb", "transport=usb,allow_boot_medium", "", []string{"pass  not the boot medium  allowed: boot medium", "FAIL  usable"}},
		// two identical disks: model and size cannot tell them apart
		{"two-identical", "model=Samsung SSD 870*", "", []string{"matches 2 disks (/dev/sda, /dev/sdb)", "serial, wwn or by_id"}},
		{"two-identical", "min_size=900GB,largest", "", []string{"matches 2 disks"}},
		{"two-identical", "model=samsung ssd 870*,serial=S6PUNX0T100002B", "/dev/sdb", nil},
		// "an SSD" picked the data disk in talos#12370; empty refuses it
		{"nvme-renamed-boot1", "rotational=false,transport=nvme", "", []string{"matches 2 disks"}},
		{"nvme-renamed-boot1", "transport=nvme,empty", "/dev/nvme1n1", nil},
		{"nvme-renamed-boot2", "transport=nvme,empty", "/dev/nvme0n1", nil},
		// 16 disks: members of RAID and LVM are not usable; the CD is the
		// boot medium
		{"server-16", "transport=scsi,empty,smallest", "", []string{"matches 8 disks"}},
		{"server-16", "serial=ZA100001K", "", []string{"held by md127 (software RAID, raid1) through sda1"}},
		{"server-16", "serial=ZA100009K", "/dev/sdi", nil},
		{"server-16", "transport=nvme,serial=PHLJ9000201P6GGN", "/dev/nvme1n1", nil},
		{"server-16", "model=Virtual*", "", []string{"boot medium", "optical drive"}},
		// the stick found by its label only (live system in RAM)
		{"workstation-traps", "transport=usb,min_size=8GB", "", []string{"it holds the uai live system (volume label UAI_LIVE_2)"}},
		{"workstation-traps", "transport=usb,max_size=8GB", "/dev/sdf", nil},
		{"workstation-traps", "empty,rotational=false", "", []string{"matches 2 disks (/dev/nvme0n1, /dev/sdf)"}},
		{"workstation-traps", "empty,rotational=false,transport=nvme", "/dev/nvme0n1", nil},
		{"workstation-traps", "serial=2117E59ABCDE", "", []string{"mounted: sda1 is mounted at /mnt/data", "mounted: sda2 is mounted at /home (and 1 more)"}},
		{"workstation-traps", "model=SC64G", "", []string{"read-only"}},
		{"4kn", "rotational,min_size=3TB", "/dev/sda", nil},
		{"4kn", "empty", "/dev/sda", nil},
		{"laptop-windows", "transport=nvme", "/dev/nvme0n1", nil},
		{"laptop-windows", "transport=nvme,empty", "", []string{"FAIL  empty", "it holds a gpt table with 4 partitions"}},
		{"laptop-windows", "serial=nope", "", []string{"matches none of the 2 disks", "its serial is 21075F800123"}},
	}
	for _, c := range cases {
		t.Run(c.machine+"/"+c.selector, func(t *testing.T) {
			m := fixture(t, c.machine)
			s, err := ParseSelector(c.selector)
			if err != nil {
				t.Fatal(err)
			}
			d, ex, err := Select(m.Disks, s)
			if len(ex.Candidates) != len(m.Disks) {
				t.Errorf("the report lists %d disks, the machine has %d", len(ex.Candidates), len(m.Disks))
			}
			if c.want != "" {
				if err != nil || d.Path != c.want {
					t.Fatalf("selected %q, %v; want %s", d.Path, err, c.want)
				}
				if !reflect.DeepEqual(ex.Matched, []string{c.want}) {
					t.Errorf("report says matched %v", ex.Matched)
				}
				return
			}
			if err == nil {
				t.Fatalf("selected %s; want an error", d.Path)
			}
			for _, w := range append(c.errHas, "every disk and why") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			// every disk appears in the error, with every rule's verdict
			for _, disk := range m.Disks {
				if !strings.Contains(err.Error(), disk.Path+"  (") {
					t.Errorf("error does not list %s", disk.Path)
				}
			}
		})
	}
}

// The NVMe whose name changes between boots (archinstall#2488): a path
// picks a different disk after a reboot, the serial picks the same one.
func TestSelectNVMeRenamedBetweenBoots(t *testing.T) {
	b1, b2 := fixture(t, "nvme-renamed-boot1"), fixture(t, "nvme-renamed-boot2")
	bySerial, _ := ParseSelector("serial=S7HENJ0W500002Y")
	byPath, _ := ParseSelector("path=/dev/nvme1n1")
	s1, _, err1 := Select(b1.Disks, bySerial)
	s2, _, err2 := Select(b2.Disks, bySerial)
	if err1 != nil || err2 != nil || s1.Serial != s2.Serial || !s1.Empty() || !s2.Empty() || s1.Path == s2.Path {
		t.Fatalf("by serial: boot 1 %s (%v), boot 2 %s (%v); want the same empty disk under two names", s1.Path, err1, s2.Path, err2)
	}
	p1, _, _ := Select(b1.Disks, byPath)
	p2, _, _ := Select(b2.Disks, byPath)
	if p1.Serial == p2.Serial || p2.Empty() {
		t.Fatalf("by path: boot 1 serial %s, boot 2 serial %s: the trap is gone from the fixture", p1.Serial, p2.Serial)
	}
}

func TestSelectReport(t *testing.T) {
	m := fixture(t, "two-identical")
	s, _ := ParseSelector("model=Samsung SSD 870*,min_size=500GB")
	_, ex, err := Select(m.Disks, s)
	if err == nil {
		t.Fatal("two identical disks matched once")
	}
	golden(t, "explain-two-identical.txt", ex.String())
	b, _ := json.MarshalIndent(ex, "", "  ")
	golden(t, "explain-two-identical.json", string(b)+"\n")

	// no disks at all
	_, ex, err = Select(nil, Selector{Serial: "X"})
	if err == nil || !strings.Contains(err.Error(), "no disks were found") || !strings.Contains(ex.String(), "(no disks)") {
		t.Errorf("no disks: %v\n%s", err, ex)
	}
	// an invalid selector is an error before any disk is looked at
	if _, _, err := Select(m.Disks, Selector{MinSize: "big"}); err == nil || !strings.Contains(err.Error(), "is invalid") {
		t.Errorf("invalid selector: %v", err)
	}
}

func BenchmarkSelect16Disks(b *testing.B) {
	m := fixture(b, "server-16")
	s, err := ParseSelector("transport=scsi,rotational,min_size=4TB,max_size=10TB,model=ST8000*,empty,smallest")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, _, err := Select(m.Disks, s); err == nil {
			b.Fatal("8 identical disks matched once")
		}
	}
}

func BenchmarkParseSelector(b *testing.B) {
	for b.Loop() {
		if _, err := ParseSelector(`model="Samsung SSD 9*",min_size=100GiB,max_size=2TB,transport=nvme,rotational=false,largest`); err != nil {
			b.Fatal(err)
		}
	}
}

func ExampleSelect() {
	yes := true
	disks := []Disk{
		{Path: "/dev/sda", SizeBytes: 2 << 40, Model: "ST2000", Serial: "Z1", Rotational: true, Transport: "sata"},
		{Path: "/dev/nvme0n1", SizeBytes: 1 << 40, Model: "Samsung SSD 990", Serial: "S7", Transport: "nvme"},
	}
	d, _, err := Select(disks, Selector{Rotational: &yes})
	fmt.Println(d.Path, err)
	// Output: /dev/sda <nil>
}
