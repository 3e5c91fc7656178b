package test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/universal-atomic-installer/uai/partition"
)

func machinePath(name string) string {
	return filepath.Join("fixtures", "machines", name+".json")
}

// `uai disks` on described machines: the inventory, what is on each disk,
// every refusal, as text and JSON.
func TestDiskCommandInventory(t *testing.T) {
	entries, err := os.ReadDir(filepath.Join("fixtures", "machines"))
	if err != nil || len(entries) < 8 {
		t.Fatalf("fixtures: %v (%d)", err, len(entries))
	}
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".json")
		r := runUAI(t, "disks", "--machine", machinePath(name))
		if r.code != 0 || !strings.Contains(r.stdout, "machine "+name+" (described, not this computer)") {
			t.Errorf("%s: exit %d\n%s%s", name, r.code, r.stdout, r.stderr)
		}
		j := runUAI(t, "disks", "--json", "--machine", machinePath(name))
		var disks []partition.Disk
		if err := json.Unmarshal([]byte(j.stdout), &disks); err != nil || len(disks) == 0 {
			t.Errorf("%s --json: %v", name, err)
		}
	}
	r := runUAI(t, "disks", "--machine", machinePath("laptop-windows"))
	for _, want := range []string{
		"/dev/nvme0n1  465.8 GiB  WDC PC SN730 SDBQNTY-512G-1001  nvme       gpt, 4 partitions (Windows)  yes",
		"Windows Boot Manager (EFI/Microsoft/Boot/bootmgfw.efi)",
		"71 MiB free",
		"ntfs: not inspected",
		"refused    boot medium: the live system booted from it",
		"refused    mounted: sda1 is mounted at /run/initramfs/live",
		"serial 21075F800123",
		"link       /dev/disk/by-id/nvme-WDC_PC_SN730_SDBQNTY-512G-1001_21075F800123",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("uai disks lacks %q:\n%s", want, r.stdout)
		}
	}
	traps := runUAI(t, "disks", "--machine", machinePath("workstation-traps"))
	for _, want := range []string{"no: boot medium: it holds the uai live system (volume label UAI_LIVE_2)", "no: swap: sdb2", "no: held by md127", "no: read-only"} {
		if !strings.Contains(traps.stdout, want) {
			t.Errorf("traps lack %q", want)
		}
	}
}

// --explain: the report for every disk, exit 0 for exactly one match and
// 3 otherwise; flags and the compact string combine.
func TestDiskCommandExplain(t *testing.T) {
	cases := []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"--machine", machinePath("two-identical"), "--explain", "model=Samsung SSD 870*"}, 3,
			[]string{"/dev/sda  (931.5 GiB, Samsung SSD 870 EVO 1TB, serial S6PUNX0T100001A, sata)  -> MATCH", "matches 2 disks"}},
		{[]string{"--machine", machinePath("two-identical"), "--explain", "model=Samsung SSD 870*", "--serial", "S6PUNX0T100002B"}, 0,
			[]string{"selector: serial=S6PUNX0T100002B,model=Samsung SSD 870*", "/dev/sdb  (931.5 GiB, Samsung SSD 870 EVO 1TB, serial S6PUNX0T100002B, sata)  -> MATCH"}},
		{[]string{"--machine", machinePath("nvme-sata-usb"), "--removable=true"}, 3,
			[]string{"FAIL  not the boot medium  boot medium: the live system booted from it (allow_boot_medium overrides)"}},
		{[]string{"--machine", machinePath("nvme-renamed-boot2"), "--explain", "serial=S7HENJ0W500002Y"}, 0, []string{"/dev/nvme0n1  (1.8 TiB, Samsung SSD 990 PRO 2TB, serial S7HENJ0W500002Y, nvme)  -> MATCH"}},
		{[]string{"--machine", machinePath("server-16"), "--explain", "transport=nvme,largest"}, 3, []string{"matches 2 disks (/dev/nvme0n1, /dev/nvme1n1)"}},
		{[]string{"--machine", machinePath("4kn"), "--explain", "colour=red"}, 2, []string{`unknown rule "colour"`}},
		{[]string{"--machine", machinePath("4kn"), "--target", "/dev/null"}, 2, []string{"--machine and --target were both given"}},
		{[]string{"--machine", "no-such-machine.json"}, 2, []string{"no-such-machine.json"}},
	}
	for _, c := range cases {
		r := runUAI(t, append([]string{"disks"}, c.args...)...)
		if r.code != c.code {
			t.Errorf("uai disks %v: exit %d, want %d\n%s%s", c.args, r.code, c.code, r.stdout, r.stderr)
		}
		for _, w := range c.want {
			if !strings.Contains(r.stdout+r.stderr, w) {
				t.Errorf("uai disks %v lacks %q:\n%s%s", c.args, w, r.stdout, r.stderr)
			}
		}
	}
	r := runUAI(t, "disks", "--json", "--machine", machinePath("two-identical"), "--explain", "wwn=0x5002538f4100002b")
	var ex partition.Explain
	if err := json.Unmarshal([]byte(r.stdout), &ex); err != nil || r.code != 0 || len(ex.Candidates) != 3 || strings.Join(ex.Matched, ",") != "/dev/sdb" {
		t.Errorf("--json --explain: exit %d, %v, %+v", r.code, err, ex)
	}
}
