package partition

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func diskOf(t testing.TB, machine, name string) Disk {
	t.Helper()
	for _, d := range fixture(t, machine).Disks {
		if d.Name == name {
			return d
		}
	}
	t.Fatalf("machine %s has no disk %s", machine, name)
	return Disk{}
}

func testEncryption(tpm2 bool) *Encryption {
	return NewEncryption(DeriveUUID("test"), tpm2, "correct horse battery staple")
}

// Free-space layouts, golden-tested as sfdisk scripts and tables.
func TestPlanFreeSpaceGolden(t *testing.T) {
	fullESP := diskOf(t, "laptop-windows", "nvme0n1")
	fullESP.Partitions = append([]Existing(nil), fullESP.Partitions...)
	c := *fullESP.Partitions[0].Content
	c.FreeBytes = 20 * MiB
	fullESP.Partitions[0].Content = &c
	cases := []struct {
		name string
		d    Disk
		o    FreeSpaceOptions
	}{
		{"free-windows-reuse-esp", diskOf(t, "laptop-windows", "nvme0n1"), FreeSpaceOptions{Arch: "amd64", RootFilesystem: "xfs"}},
		{"free-windows-full-esp", fullESP, FreeSpaceOptions{Arch: "amd64", RootFilesystem: "xfs"}},
		{"free-windows-luks-tpm2", diskOf(t, "laptop-windows", "nvme0n1"), FreeSpaceOptions{Arch: "amd64", RootFilesystem: "btrfs", SeparateBoot: true, Encryption: testEncryption(true)}},
		{"free-windows-root40g", diskOf(t, "laptop-windows", "nvme0n1"), FreeSpaceOptions{Arch: "amd64", RootFilesystem: "ext4", RootSizeBytes: 40 * GiB}},
		{"free-4kn-empty", diskOf(t, "4kn", "sda"), FreeSpaceOptions{Arch: "arm64", RootFilesystem: "xfs", SeparateBoot: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l, err := PlanFreeSpace(c.d, c.o)
			if err != nil {
				t.Fatal(err)
			}
			checkFreeInvariants(t, c.d, l, c.o)
			golden(t, c.name+".dump", l.Dump())
			golden(t, c.name+".table", l.Table())
			again, _ := PlanFreeSpace(c.d, c.o)
			a, _ := json.Marshal(l)
			b, _ := json.Marshal(again)
			if string(a) != string(b) {
				t.Error("the same disk and options planned twice differ")
			}
		})
	}
}

func checkFreeInvariants(t *testing.T, d Disk, l Layout, o FreeSpaceOptions) {
	t.Helper()
	if l.Kind != KindFree || l.DiskGUID != d.DiskGUID || l.SectorSize != d.LogicalSectorSize {
		t.Errorf("kind %q disk GUID %q sector %d", l.Kind, l.DiskGUID, l.SectorSize)
	}
	ss := uint64(l.SectorSize)
	kept := map[int]bool{}
	for _, e := range d.Partitions {
		p, ok := findIndex(l, e.Index)
		if !ok || !p.Keep || p.StartBytes(l.SectorSize) != e.StartBytes || p.SizeBytes(l.SectorSize) != e.SizeBytes ||
			p.GUID != e.GUID || p.Attributes != e.Attributes || p.Name != e.Name || p.TypeGUID != e.TypeGUID {
			t.Errorf("existing partition %d is not kept exactly: %+v", e.Index, p)
		}
		kept[e.Index] = true
	}
	regions, _ := FreeRegions(d)
	var newParts []Planned
	for _, p := range l.Partitions {
		if kept[p.Index] {
			continue
		}
		if p.Keep {
			t.Errorf("partition %d is marked kept but is new", p.Index)
		}
		if p.StartSector*ss%MiB != 0 || (p.EndSector+1)*ss%MiB != 0 {
			t.Errorf("partition %d (%d-%d) is not 1 MiB aligned", p.Index, p.StartSector, p.EndSector)
		}
		newParts = append(newParts, p)
	}
	// all new partitions in one free region, back to back, root last
	in := -1
	for i, r := range regions {
		if len(newParts) > 0 && newParts[0].StartSector >= r.StartSector && newParts[0].StartSector <= r.EndSector {
			in = i
		}
	}
	if in < 0 {
		t.Fatalf("the new partitions are in no free region")
	}
	for i, p := range newParts {
		if p.EndSector > regions[in].EndSector {
			t.Errorf("partition %d ends past its free region", p.Index)
		}
		if i > 0 && p.StartSector != newParts[i-1].EndSector+1 {
			t.Errorf("partition %d does not follow partition %d", p.Index, newParts[i-1].Index)
		}
	}
	for _, r := range regions {
		if r.Sectors() > regions[in].Sectors() {
			t.Errorf("a larger free region (%d sectors) was left unused", r.Sectors())
		}
	}
	root, ok := l.Find(RoleRoot)
	if !ok || root.Keep || root.Encrypted != (o.Encryption != nil) {
		t.Errorf("root %+v", root)
	}
	if _, ok := l.Find(RoleESP); !ok {
		t.Error("no ESP")
	}
	if b, ok := l.Find(RoleBoot); ok != o.SeparateBoot || (ok && b.Keep) {
		t.Errorf("boot partition %v, want %v", ok, o.SeparateBoot)
	}
}

func findIndex(l Layout, i int) (Planned, bool) {
	for _, p := range l.Partitions {
		if p.Index == i {
			return p, true
		}
	}
	return Planned{}, false
}

func TestPlanFreeSpaceRefusals(t *testing.T) {
	win := diskOf(t, "laptop-windows", "nvme0n1")
	fedora := diskOf(t, "nvme-sata-usb", "sda")
	mbr := win
	mbr.Table = "mbr"
	torn := win
	torn.GPT = &GPTHealth{Primary: CopyValid, Backup: "damaged: bad CRC", Explanation: "the backup GPT is damaged"}
	floppy := Disk{Path: "/dev/sdx", SizeBytes: 8 * GiB, LogicalSectorSize: 512, Filesystem: "vfat"}
	odd := win
	odd.Partitions = append([]Existing(nil), win.Partitions...)
	odd.Partitions[1].StartBytes += 100
	o := FreeSpaceOptions{Arch: "amd64", RootFilesystem: "xfs"}
	big := o
	big.RootSizeBytes = 300 * GiB
	huge := o
	huge.MinBytes = 400 * GiB
	cases := []struct {
		name string
		d    Disk
		o    FreeSpaceOptions
		want []string
	}{
		{"no free space", fedora, o, []string{"disk /dev/sda has too little free space", "the install needs", "root 1 GiB", "there is no free space", "shrink a partition"}},
		{"root too large", win, big, []string{"too little free space", "root 300 GiB", "the largest free region is 264.", "give a smaller root size"}},
		{"edition minimum", win, huge, []string{"too little free space", "needs 400 GiB"}},
		{"mbr", mbr, o, []string{"MBR (DOS) partition table", "needs GPT"}},
		{"torn", torn, o, []string{"damaged partition table", "the backup GPT is damaged", "repair it first"}},
		{"superfloppy", floppy, o, []string{"vfat filesystem on the whole disk", "no free space"}},
		{"unaligned", odd, o, []string{"partition 2", "not a whole number of 512-byte sectors"}},
		{"arch", win, FreeSpaceOptions{Arch: "riscv64", RootFilesystem: "xfs"}, []string{`architecture "riscv64"`}},
		{"fs", win, FreeSpaceOptions{Arch: "amd64", RootFilesystem: "zfs"}, []string{`root filesystem "zfs"`}},
		{"luks without boot", win, FreeSpaceOptions{Arch: "amd64", RootFilesystem: "xfs", Encryption: testEncryption(false)}, []string{"needs a separate /boot"}},
		{"small root", win, FreeSpaceOptions{Arch: "amd64", RootFilesystem: "xfs", RootSizeBytes: 100 * MiB}, []string{"smaller than the minimum"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := PlanFreeSpace(c.d, c.o)
			if err == nil {
				t.Fatal("planned; want a refusal")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
		})
	}
}

func TestFreeRegions(t *testing.T) {
	d := Disk{Path: "/dev/x", SizeBytes: 10 * GiB, LogicalSectorSize: 512, Table: "gpt", Partitions: []Existing{
		{Index: 1, StartBytes: MiB, SizeBytes: 100 * MiB},
		{Index: 3, StartBytes: 5*GiB + 4096, SizeBytes: GiB},        // unaligned start, 4 KiB in
		{Index: 2, StartBytes: 101*MiB + 512, SizeBytes: 512 * MiB}, // leaves 512 bytes, less than 1 MiB
	}}
	got, err := FreeRegions(d)
	if err != nil {
		t.Fatal(err)
	}
	total := uint64(10*GiB) / 512
	lastUsable := total - 34
	want := []Region{
		{StartSector: (614*MiB)/512 + 0, EndSector: (5*GiB)/512 - 1},
		{StartSector: (6*GiB + MiB) / 512, EndSector: (lastUsable+1)/2048*2048 - 1},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("regions %v, want %v", got, want)
	}
	empty, _ := FreeRegions(Disk{Path: "/dev/e", SizeBytes: 8 * GiB, LogicalSectorSize: 4096})
	if len(empty) != 1 || empty[0].StartSector != 256 {
		t.Errorf("blank 4Kn disk: %v", empty)
	}
}

func TestEncryptionIsNeverSerialised(t *testing.T) {
	const pass = "correct horse battery staple"
	d := testDisk(64*GiB, 512)
	l, err := PlanWholeDisk(d, WholeDiskOptions{Arch: "amd64", RootFilesystem: "xfs", SeparateBoot: true, Encryption: NewEncryption(DeriveUUID("a"), true, pass)})
	if err != nil {
		t.Fatal(err)
	}
	other, _ := PlanWholeDisk(d, WholeDiskOptions{Arch: "amd64", RootFilesystem: "xfs", SeparateBoot: true, Encryption: NewEncryption(DeriveUUID("a"), true, "another one")})
	a, _ := json.Marshal(l)
	b, _ := json.Marshal(other)
	if strings.Contains(string(a), pass) || string(a) != string(b) {
		t.Errorf("the layout JSON depends on the passphrase or holds it:\n%s", a)
	}
	for _, f := range []string{"%v", "%+v", "%#v"} {
		if s := fmt.Sprintf(f, l); strings.Contains(s, pass) {
			t.Errorf("%s of the layout prints the passphrase: %s", f, s)
		}
		if s := fmt.Sprintf(f, *l.Encryption); strings.Contains(s, pass) {
			t.Errorf("%s of the encryption prints the passphrase", f)
		}
	}
	if got, ok := l.Encryption.Passphrase(); !ok || string(got) != pass {
		t.Error("the passphrase did not travel with the layout")
	}
	var back Layout
	if err := json.Unmarshal(a, &back); err != nil {
		t.Fatal(err)
	}
	if _, ok := back.Encryption.Passphrase(); ok || !back.Encryption.PassphraseSet {
		t.Error("a layout read back from JSON claims a passphrase, or forgot one was set")
	}
	root, _ := l.Find(RoleRoot)
	if !root.Encrypted || root.TypeGUID != TypeRootAMD64 {
		t.Errorf("root %+v: an encrypted root keeps the DPS root type", root)
	}
	u := l.Encryption.UUID
	if k := strings.Join(l.Kargs(), " "); k != "rd.luks.uuid="+u+" rd.luks.options="+u+"=tpm2-device=auto" {
		t.Errorf("kargs %q", k)
	}
	if _, err := PlanWholeDisk(d, WholeDiskOptions{Arch: "amd64", RootFilesystem: "xfs", Encryption: NewEncryption(u, false, pass)}); err == nil || !strings.Contains(err.Error(), "separate /boot") {
		t.Errorf("encrypted root without /boot: %v", err)
	}
	if _, err := PlanWholeDisk(d, WholeDiskOptions{Arch: "amd64", RootFilesystem: "xfs", SeparateBoot: true, Encryption: NewEncryption(u, false, "")}); err == nil || !strings.Contains(err.Error(), "needs a passphrase") {
		t.Errorf("encryption without passphrase: %v", err)
	}
	if (Layout{}).Kargs() != nil {
		t.Error("kargs without encryption")
	}
}

func TestDeriveUUID(t *testing.T) {
	a, b := DeriveUUID("x", "y"), DeriveUUID("x", "y")
	if a != b || a == DeriveUUID("xy") || !isGUID(a) || a[14] != '8' || !strings.ContainsRune("89ab", rune(a[19])) {
		t.Errorf("DeriveUUID: %s %s", a, DeriveUUID("xy"))
	}
}

func BenchmarkPlanFreeSpace(b *testing.B) {
	d := diskOf(b, "laptop-windows", "nvme0n1")
	o := FreeSpaceOptions{Arch: "amd64", RootFilesystem: "xfs", SeparateBoot: true}
	for b.Loop() {
		if _, err := PlanFreeSpace(d, o); err != nil {
			b.Fatal(err)
		}
	}
}

// sfdisk takes a free-space layout's Dump as a script (disk GUID, kept
// GUIDs and attributes included) and writes a table Verify accepts: the
// golden dumps are exactly the table uai writes.
func TestFreeSpaceDumpIsAnSfdiskScript(t *testing.T) {
	requireTools(t, "sfdisk")
	d := diskOf(t, "laptop-windows", "nvme0n1")
	l, err := PlanFreeSpace(d, FreeSpaceOptions{Arch: "amd64", RootFilesystem: "xfs", SeparateBoot: true})
	if err != nil {
		t.Fatal(err)
	}
	img := sparseImage(t, int64(d.SizeBytes))
	runStdin(t, strings.Replace(l.Dump(), "device: disk\n", "", 1), "sfdisk", "-q", "--no-reread", "--no-tell-kernel", img)
	if err := Verify(img, l); err != nil {
		t.Fatal(err)
	}
}
