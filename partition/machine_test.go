package partition

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Every shipped machine loads, and its refusals follow from its facts:
// which disks are installable, and the first reason for the others.
func TestLoadMachineFixtures(t *testing.T) {
	want := map[string]map[string]string{ // disk -> "" (installable) or a refusal it must have
		"nvme-sata-usb":      {"nvme0n1": "", "sda": "", "sdb": "boot medium: the live system booted from it"},
		"laptop-windows":     {"nvme0n1": "", "sda": "mounted: sda1 is mounted at /run/initramfs/live"},
		"two-identical":      {"sda": "", "sdb": "", "sdc": "boot medium: the live system booted from it"},
		"4kn":                {"sda": "", "nvme0n1": ""},
		"nvme-renamed-boot1": {"nvme0n1": "", "nvme1n1": "", "sda": "boot medium: the live system booted from it"},
		"nvme-renamed-boot2": {"nvme0n1": "", "nvme1n1": "", "sda": "boot medium: the live system booted from it"},
		"workstation-traps": {
			"nvme0n1": "", "sdf": "",
			"sda":     "mounted: sda2 is mounted at /home (and 1 more)",
			"sdb":     "swap: sdb2 is in use as swap",
			"sdc":     "held by dm-0 (LVM/device-mapper, vg0-root) through sdc1",
			"sdd":     "held by md127 (software RAID, raid1)",
			"sde":     "boot medium: it holds the uai live system (volume label UAI_LIVE_2)",
			"mmcblk0": "read-only: the kernel marks mmcblk0 read-only (a write-protect switch or a read-only device)",
			"sr0":     "optical drive: it cannot be installed to",
		},
	}
	entries, err := os.ReadDir(filepath.Join("..", "test", "fixtures", "machines"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".json"))
	}
	if len(names) < 8 {
		t.Fatalf("only %d fixtures: %v", len(names), names)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			m := fixture(t, name)
			if m.Name != name || m.Description == "" || m.Facts["arch"] == "" {
				t.Errorf("fixture %s: name %q, description %q, facts %v", name, m.Name, m.Description, m.Facts)
			}
			if !sort.SliceIsSorted(m.Disks, func(i, j int) bool { return m.Disks[i].Name < m.Disks[j].Name }) {
				t.Error("disks are not sorted by name")
			}
			w, ok := want[name]
			if name == "server-16" {
				checkServer(t, m)
				return
			}
			if !ok {
				t.Fatalf("no expectations for fixture %s; add them", name)
			}
			if len(m.Disks) != len(w) {
				t.Errorf("%d disks, expected %d", len(m.Disks), len(w))
			}
			for _, d := range m.Disks {
				exp, ok := w[d.Name]
				switch {
				case !ok:
					t.Errorf("unexpected disk %s", d.Name)
				case exp == "" && !d.Installable():
					t.Errorf("%s refused: %v", d.Name, d.Refusals)
				case exp != "" && !containsString(d.Refusals, exp):
					t.Errorf("%s refusals %q lack %q", d.Name, d.Refusals, exp)
				}
			}
		})
	}
}

func checkServer(t *testing.T, m Machine) {
	t.Helper()
	var disks, usable int
	for _, d := range m.Disks {
		if d.Name != "sr0" {
			disks++
		}
		if d.Installable() {
			usable++
		}
	}
	if disks != 16 || usable != 10 {
		t.Errorf("server: %d disks (want 16), %d installable (want 8 empty SAS + 2 NVMe)", disks, usable)
	}
}

func containsString(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// Contents recorded in a fixture reach the summary people read.
func TestLoadMachineSystems(t *testing.T) {
	m := fixture(t, "laptop-windows")
	var nvme Disk
	for _, d := range m.Disks {
		if d.Name == "nvme0n1" {
			nvme = d
		}
	}
	want := []string{
		"Windows Boot Manager (EFI/Microsoft/Boot/bootmgfw.efi) on partition 1",
		"fallback boot loader (EFI/Boot/bootx64.efi) on partition 1",
		"ntfs filesystem on partition 3 (not inspected)",
		"ntfs filesystem on partition 4 (not inspected)",
	}
	if strings.Join(nvme.Systems, "\n") != strings.Join(want, "\n") {
		t.Errorf("systems:\n%s\nwant\n%s", strings.Join(nvme.Systems, "\n"), strings.Join(want, "\n"))
	}
}

func TestParseMachineRefusesBadFixtures(t *testing.T) {
	disk := `{"path":"/dev/sda","name":"sda","size_bytes":1073741824,"logical_sector_size":512%s}`
	cases := map[string]struct{ json, want string }{
		"unknown field":    {`{"version":1,"name":"x","disks":[],"colour":"red"}`, `unknown field "colour"`},
		"version":          {`{"version":2,"name":"x","disks":[]}`, "version 2 is not supported"},
		"refusals set":     {`{"version":1,"name":"x","disks":[` + strings.Replace(disk, "%s", `,"refusals":["x"]`, 1) + `]}`, "sets refusals; they are derived"},
		"systems set":      {`{"version":1,"name":"x","disks":[` + strings.Replace(disk, "%s", `,"systems":["x"]`, 1) + `]}`, "those are derived"},
		"sector size":      {`{"version":1,"name":"x","disks":[` + strings.Replace(strings.Replace(disk, "512", "520", 1), "%s", "", 1) + `]}`, "logical_sector_size 520"},
		"unknown device":   {`{"version":1,"name":"x","mounts":[{"device":"sdz1","point":"/"}],"disks":[` + strings.Replace(disk, "%s", "", 1) + `]}`, `names device "sdz1"`},
		"partition past":   {`{"version":1,"name":"x","disks":[` + strings.Replace(disk, "%s", `,"table":"gpt","partitions":[{"index":1,"start_bytes":1048576,"size_bytes":2147483648}]`, 1) + `]}`, "past the disk's end"},
		"duplicate disk":   {`{"version":1,"name":"x","disks":[` + strings.Replace(disk, "%s", "", 1) + `,` + strings.Replace(disk, "%s", "", 1) + `]}`, "appears twice"},
		"no name and path": {`{"version":1,"name":"x","disks":[{"size_bytes":1,"logical_sector_size":512}]}`, "needs a name and a path"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := ParseMachine([]byte(c.json))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want %q", err, c.want)
			}
		})
	}
	if _, err := LoadMachine(filepath.Join(t.TempDir(), "none.json")); err == nil || !strings.Contains(err.Error(), "none.json") {
		t.Errorf("missing file: %v", err)
	}
}

// The same facts give the same refusals as Scan: a live root mounted
// from a partition marks its disk, the label on the command line marks a
// stick that nothing mounts.
func TestMachineBootMediumRules(t *testing.T) {
	base := `{"version":1,"name":"x","facts":{"cmdline":%q},"mounts":%s,"disks":[
	  {"path":"/dev/sda","name":"sda","size_bytes":8589934592,"logical_sector_size":512,"table":"gpt","partitions":[{"index":1,"start_bytes":1048576,"size_bytes":1048576,"label":%q}]},
	  {"path":"/dev/nvme0n1","name":"nvme0n1","size_bytes":8589934592,"logical_sector_size":512}]}`
	cases := []struct {
		name, cmdline, mounts, label string
		boot                         bool
	}{
		{"root mounted from it", "", `[{"device":"sda1","point":"/"}]`, "data", true},
		{"live medium mounted", "", `[{"device":"sda1","point":"/run/initramfs/live"}]`, "data", true},
		{"label UAI_LIVE", "", `[]`, "UAI_LIVE", true},
		{"label family", "", `[]`, "uai_live_43", true},
		{"label from the command line", "root=live:CDLABEL=MY\\x20ISO rd.live.image", `[]`, "MY ISO", true},
		{"other label", "root=live:CDLABEL=OTHER", `[]`, "DATA", false},
		{"plain mount is not the boot medium", "", `[{"device":"sda1","point":"/mnt"}]`, "data", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := ParseMachine([]byte(strings.Replace(strings.Replace(strings.Replace(base, "%q", quoteJSON(c.cmdline), 1), "%s", c.mounts, 1), "%q", quoteJSON(c.label), 1)))
			if err != nil {
				t.Fatal(err)
			}
			var sda, nvme Disk
			for _, d := range m.Disks {
				if d.Name == "sda" {
					sda = d
				} else {
					nvme = d
				}
			}
			if sda.BootMedium() != c.boot || nvme.BootMedium() {
				t.Errorf("sda boot medium %v (want %v), refusals %v; nvme %v", sda.BootMedium(), c.boot, sda.Refusals, nvme.Refusals)
			}
			if c.boot && len(sda.RefusalsExceptBootMedium()) != len(sda.Refusals)-1 {
				t.Errorf("RefusalsExceptBootMedium kept a boot medium refusal: %v", sda.RefusalsExceptBootMedium())
			}
		})
	}
}

func quoteJSON(s string) string {
	return `"` + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `"`, `\"`) + `"`
}

func BenchmarkLoadMachine16Disks(b *testing.B) {
	path := filepath.Join("..", "test", "fixtures", "machines", "server-16.json")
	for b.Loop() {
		m, err := LoadMachine(path)
		if err != nil || len(m.Disks) != 17 {
			b.Fatalf("%d disks, %v", len(m.Disks), err)
		}
	}
}
