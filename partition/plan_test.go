package partition

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden %s: %v (run go test ./partition -run %s -update to create it)", path, err, t.Name())
	}
	if string(want) != got {
		t.Errorf("%s differs from golden %s (rerun with -update if the change is intended)\n--- got\n%s--- want\n%s", t.Name(), path, got, want)
	}
}

func testDisk(size uint64, sector int) Disk {
	return Disk{Path: "/dev/test", Name: "test", SizeBytes: size, LogicalSectorSize: sector, PhysicalSectorSize: sector}
}

const (
	tib = 1024 * GiB
)

type planCase struct {
	name string
	size uint64
	ss   int
	o    WholeDiskOptions
}

func planCases() []planCase {
	var cases []planCase
	for _, size := range []struct {
		n string
		b uint64
	}{{"8g", 8 * GiB}, {"64g", 64 * GiB}, {"1t", tib}} {
		for _, ss := range []int{512, 4096} {
			prefix := fmt.Sprintf("%s-%d", size.n, ss)
			cases = append(cases,
				planCase{prefix + "-amd64-xfs", size.b, ss, WholeDiskOptions{Arch: "amd64", RootFilesystem: "xfs"}},
				planCase{prefix + "-arm64-btrfs-boot", size.b, ss, WholeDiskOptions{Arch: "arm64", RootFilesystem: "btrfs", SeparateBoot: true}},
				planCase{prefix + "-amd64-ext4-boot-root4g", size.b, ss, WholeDiskOptions{Arch: "amd64", RootFilesystem: "ext4", SeparateBoot: true, RootSizeBytes: 4 * GiB}},
			)
		}
	}
	return cases
}

func TestPlanWholeDiskGolden(t *testing.T) {
	for _, c := range planCases() {
		t.Run(c.name, func(t *testing.T) {
			l, err := PlanWholeDisk(testDisk(c.size, c.ss), c.o)
			if err != nil {
				t.Fatalf("PlanWholeDisk: %v", err)
			}
			checkInvariants(t, l, c.o)
			golden(t, c.name+".dump", l.Dump())
		})
	}
}

// checkInvariants states the layout rules independently of the goldens,
// so a wrong golden written with -update still fails.
func checkInvariants(t *testing.T, l Layout, o WholeDiskOptions) {
	t.Helper()
	ss := uint64(l.SectorSize)
	align := MiB / ss
	total := l.DiskSizeBytes / ss
	backup := 1 + 16384/ss
	wantRoles := []Role{}
	if o.Arch == "amd64" {
		wantRoles = append(wantRoles, RoleBIOSBoot)
	}
	wantRoles = append(wantRoles, RoleESP)
	if o.SeparateBoot {
		wantRoles = append(wantRoles, RoleBoot)
	}
	wantRoles = append(wantRoles, RoleRoot)
	if len(l.Partitions) != len(wantRoles) {
		t.Fatalf("got %d partitions, want %d (%v)", len(l.Partitions), len(wantRoles), wantRoles)
	}
	next := align
	for i, p := range l.Partitions {
		if p.Index != i+1 || p.Role != wantRoles[i] {
			t.Errorf("partition %d: index %d role %s, want index %d role %s", i, p.Index, p.Role, i+1, wantRoles[i])
		}
		if p.StartSector != next {
			t.Errorf("partition %d starts at %d, want %d (right after the previous one)", p.Index, p.StartSector, next)
		}
		if p.StartSector%align != 0 || (p.EndSector+1)%align != 0 {
			t.Errorf("partition %d (%d-%d) is not 1 MiB aligned", p.Index, p.StartSector, p.EndSector)
		}
		if p.TypeGUID != strings.ToUpper(p.TypeGUID) {
			t.Errorf("partition %d type %s is not upper-case", p.Index, p.TypeGUID)
		}
		next = p.EndSector + 1
	}
	want := map[Role]struct {
		size             uint64
		typ, name, fs, m string
	}{
		RoleBIOSBoot: {MiB, "21686148-6449-6E6F-744E-656564454649", "BIOS-BOOT", "", ""},
		RoleESP:      {512 * MiB, "C12A7328-F81F-11D2-BA4B-00A0C93EC93B", "EFI-SYSTEM", "vfat", "/boot/efi"},
		RoleBoot:     {GiB, "BC13C2FF-59E6-4262-A352-B275FD6F7172", "boot", o.RootFilesystem, "/boot"},
	}
	for role, w := range want {
		p, ok := l.Find(role)
		if !ok {
			continue
		}
		if p.SizeBytes(l.SectorSize) != w.size || p.TypeGUID != w.typ || p.Name != w.name || p.Filesystem != w.fs || p.Mountpoint != w.m {
			t.Errorf("%s = %+v (size %d), want size %d type %s name %s fs %q mount %q", role, p, p.SizeBytes(l.SectorSize), w.size, w.typ, w.name, w.fs, w.m)
		}
	}
	root, ok := l.Find(RoleRoot)
	if !ok {
		t.Fatal("no root")
	}
	rootType := map[string]string{"amd64": "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709", "arm64": "B921B045-1DF0-41C3-AF44-4C6F280D3FAE"}[o.Arch]
	if root.TypeGUID != rootType || root.Name != "root" || root.Label != "root" || root.Mountpoint != "/" || root.Filesystem != o.RootFilesystem {
		t.Errorf("root = %+v", root)
	}
	if esp, _ := l.Find(RoleESP); esp.Label != "EFI-SYSTEM" {
		t.Errorf("esp label %q", esp.Label)
	}
	if o.RootSizeBytes > 0 {
		if root.SizeBytes(l.SectorSize) != o.RootSizeBytes {
			t.Errorf("root is %d bytes, asked for %d", root.SizeBytes(l.SectorSize), o.RootSizeBytes)
		}
	} else {
		lastUsable := total - 1 - backup
		if root.EndSector > lastUsable {
			t.Errorf("root ends at %d, past the last usable sector %d", root.EndSector, lastUsable)
		}
		if lastUsable-root.EndSector >= align {
			t.Errorf("root ends at %d, wasting %d sectors before the backup GPT", root.EndSector, lastUsable-root.EndSector)
		}
	}
	if root.StartBytes(l.SectorSize) != root.StartSector*ss {
		t.Errorf("StartBytes = %d", root.StartBytes(l.SectorSize))
	}
}

func TestPlanWholeDiskExactValues(t *testing.T) {
	// 8 GiB at 512: 16777216 sectors; backup GPT 33 sectors, last usable
	// 16777182, so root ends at 16777215-2048 = 16775167.
	l, err := PlanWholeDisk(testDisk(8*GiB, 512), WholeDiskOptions{Arch: "amd64", RootFilesystem: "xfs"})
	if err != nil {
		t.Fatal(err)
	}
	got := [][2]uint64{}
	for _, p := range l.Partitions {
		got = append(got, [2]uint64{p.StartSector, p.EndSector})
	}
	want := [][2]uint64{{2048, 4095}, {4096, 1052671}, {1052672, 16775167}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("512: sectors %v, want %v", got, want)
	}
	// 8 GiB at 4096: 2097152 sectors; backup GPT 1+4 sectors, root ends
	// at the last 1 MiB boundary before it: 2097152-256-1.
	l, err = PlanWholeDisk(testDisk(8*GiB, 4096), WholeDiskOptions{Arch: "arm64", RootFilesystem: "xfs"})
	if err != nil {
		t.Fatal(err)
	}
	got = got[:0]
	for _, p := range l.Partitions {
		got = append(got, [2]uint64{p.StartSector, p.EndSector})
	}
	want = [][2]uint64{{256, 131327}, {131328, 2096895}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("4096: sectors %v, want %v", got, want)
	}
	// an odd size: the end of root still lands on a 1 MiB boundary
	l, err = PlanWholeDisk(testDisk(8*GiB+MiB/2+512*7, 512), WholeDiskOptions{Arch: "arm64", RootFilesystem: "ext4", ESPSizeBytes: 100*MiB + 1})
	if err != nil {
		t.Fatal(err)
	}
	if esp, _ := l.Find(RoleESP); esp.SizeBytes(512) != 101*MiB {
		t.Errorf("ESP of 100 MiB + 1 byte should round up to 101 MiB, got %d", esp.SizeBytes(512))
	}
	if root, _ := l.Find(RoleRoot); root.EndSector != 8*GiB/512-1 {
		t.Errorf("root ends at %d, want %d", root.EndSector, 8*GiB/512-1)
	}
}

func TestPlanWholeDiskErrors(t *testing.T) {
	ok := WholeDiskOptions{Arch: "amd64", RootFilesystem: "xfs"}
	cases := []struct {
		name string
		d    Disk
		o    WholeDiskOptions
		want []string
	}{
		{"too small", testDisk(GiB, 512), ok, []string{
			"disk /dev/test is too small for the layout", "needs at least 1.5 GiB (1612726784 bytes", "has 1 GiB (1073741824 bytes)", "choose a larger disk"}},
		{"too small with boot", testDisk(2*GiB, 4096), WholeDiskOptions{Arch: "arm64", RootFilesystem: "xfs", SeparateBoot: true, ESPSizeBytes: GiB}, []string{
			"needs at least 3.0 GiB (3222294528 bytes", "has 2 GiB (2147483648 bytes)", "drop the separate /boot and use the default ESP size"}},
		{"just too small", testDisk(MiB+513*MiB+GiB+33*512-512, 512), ok, []string{"needs at least 1.5 GiB (1612726784 bytes", "has 1.5 GiB (1612726272 bytes)"}},
		{"root larger than free space", testDisk(8*GiB, 512), WholeDiskOptions{Arch: "amd64", RootFilesystem: "xfs", RootSizeBytes: 8 * GiB}, []string{
			"root size 8 GiB (8589934592 bytes) is larger than the free space on disk /dev/test, 7.5 GiB (8049917952 bytes)", "give a smaller root size or 0"}},
		{"root below minimum", testDisk(8*GiB, 512), WholeDiskOptions{Arch: "amd64", RootFilesystem: "xfs", RootSizeBytes: 100 * MiB}, []string{
			"root size 100 MiB (104857600 bytes) is smaller than the minimum 1 GiB"}},
		{"unknown fs", testDisk(8*GiB, 512), WholeDiskOptions{Arch: "amd64", RootFilesystem: "zfs"}, []string{
			`root filesystem "zfs" is not supported; use xfs, ext4 or btrfs`}},
		{"empty fs", testDisk(8*GiB, 512), WholeDiskOptions{Arch: "amd64"}, []string{`root filesystem "" is not supported`}},
		{"unknown arch", testDisk(8*GiB, 512), WholeDiskOptions{Arch: "x86_64", RootFilesystem: "xfs"}, []string{
			`architecture "x86_64" is not supported by the whole-disk layout; use amd64 or arm64`}},
		{"sector size", testDisk(8*GiB, 520), ok, []string{"disk /dev/test: logical sector size 520 bytes is not supported; only 512 and 4096 are"}},
		{"sector size zero", testDisk(8*GiB, 0), ok, []string{"logical sector size 0 bytes is not supported"}},
		{"esp too small", testDisk(8*GiB, 4096), WholeDiskOptions{Arch: "amd64", RootFilesystem: "xfs", ESPSizeBytes: 200 * MiB}, []string{
			"esp size 200 MiB is too small for FAT32 on 4096-byte sectors; use at least 257 MiB"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l, err := PlanWholeDisk(c.d, c.o)
			if err == nil {
				t.Fatalf("no error; planned:\n%s", l.Dump())
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\n does not contain %q", err, w)
				}
			}
			if e := err.Error(); strings.ToLower(e[:1]) != e[:1] {
				t.Errorf("error %q does not start lower-case", e)
			}
		})
	}
}

// The smallest disk the error names must in fact be enough.
func TestPlanWholeDiskNeededIsEnough(t *testing.T) {
	for _, ss := range []int{512, 4096} {
		for _, o := range []WholeDiskOptions{
			{Arch: "amd64", RootFilesystem: "xfs"},
			{Arch: "arm64", RootFilesystem: "xfs", SeparateBoot: true},
		} {
			var need uint64
			if _, err := PlanWholeDisk(testDisk(GiB, ss), o); err == nil {
				t.Fatal("1 GiB disk accepted")
			} else if _, err := fmt.Sscanf(err.Error()[strings.Index(err.Error(), "(")+1:], "%d bytes", &need); err != nil {
				t.Fatalf("no byte count in %q: %v", err, err)
			}
			l, err := PlanWholeDisk(testDisk(need, ss), o)
			if err != nil {
				t.Errorf("%d-byte sectors %+v: disk of the needed %d bytes refused: %v", ss, o, need, err)
				continue
			}
			if root, _ := l.Find(RoleRoot); root.SizeBytes(ss) != MinRootSizeBytes {
				t.Errorf("root on the smallest disk is %d bytes, want %d", root.SizeBytes(ss), MinRootSizeBytes)
			}
			if _, err := PlanWholeDisk(testDisk(need-uint64(ss), ss), o); err == nil {
				t.Errorf("%d-byte sectors: one sector less than needed was accepted", ss)
			}
		}
	}
}

func TestLayoutFindAndBytes(t *testing.T) {
	l, err := PlanWholeDisk(testDisk(64*GiB, 4096), WholeDiskOptions{Arch: "arm64", RootFilesystem: "xfs"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := l.Find(RoleBIOSBoot); ok {
		t.Error("arm64 layout has a BIOS boot partition")
	}
	if _, ok := l.Find(RoleBoot); ok {
		t.Error("layout without SeparateBoot has /boot")
	}
	esp, ok := l.Find(RoleESP)
	if !ok || esp.StartBytes(4096) != MiB || esp.SizeBytes(4096) != 512*MiB {
		t.Errorf("esp %+v start %d size %d", esp, esp.StartBytes(4096), esp.SizeBytes(4096))
	}
	if (Planned{StartSector: 10, EndSector: 5}).SizeBytes(512) != 0 {
		t.Error("inverted partition has a size")
	}
}

func TestLayoutTable(t *testing.T) {
	l, err := PlanWholeDisk(testDisk(64*GiB, 512), WholeDiskOptions{Arch: "amd64", RootFilesystem: "xfs", SeparateBoot: true})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "64g-512-amd64-xfs-boot.table", l.Table())
	l, err = PlanWholeDisk(testDisk(tib, 4096), WholeDiskOptions{Arch: "arm64", RootFilesystem: "btrfs"})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "1t-4096-arm64-btrfs.table", l.Table())
	if !strings.Contains(l.Table(), "Linux root (ARM-64)") || !strings.Contains(l.Table(), "1023.5 GiB") {
		t.Errorf("table lacks the root type name or size:\n%s", l.Table())
	}
}

func TestHumanBytesAndTypeName(t *testing.T) {
	for n, want := range map[uint64]string{
		0: "0 bytes", MiB: "1 MiB", 512 * MiB: "512 MiB", MiB + MiB/2: "1.5 MiB",
		GiB: "1 GiB", 3*GiB + GiB/2: "3.5 GiB", tib: "1 TiB", 7452 * GiB: "7.3 TiB",
	} {
		if got := humanBytes(n); got != want {
			t.Errorf("humanBytes(%d) = %q, want %q", n, got, want)
		}
	}
	if TypeName("c12a7328-f81f-11d2-ba4b-00a0c93ec93b") != "EFI System" || TypeName("4f68bce3-e8cd-4db1-96e7-fbcaf984b709") != "Linux root (x86-64)" {
		t.Error("type names not found case-insensitively")
	}
	if TypeName("00000000-1111-2222-3333-444444444444") != "00000000-1111-2222-3333-444444444444" {
		t.Error("unknown GUID not returned as is")
	}
}

func TestLayoutValidate(t *testing.T) {
	good, err := PlanWholeDisk(testDisk(8*GiB, 512), WholeDiskOptions{Arch: "amd64", RootFilesystem: "xfs"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := good.validate(); err != nil {
		t.Fatalf("planned layout invalid: %v", err)
	}
	mutate := func(f func(l *Layout)) Layout {
		l := good
		l.Partitions = append([]Planned(nil), good.Partitions...)
		f(&l)
		return l
	}
	cases := map[string]struct {
		l    Layout
		want string
	}{
		"no partitions":  {mutate(func(l *Layout) { l.Partitions = nil }), "layout has no partitions"},
		"bad sector":     {mutate(func(l *Layout) { l.SectorSize = 1024 }), "logical sector size 1024"},
		"overlap":        {mutate(func(l *Layout) { l.Partitions[1].StartSector = 3000 }), "partitions 1 and 2 overlap"},
		"duplicate":      {mutate(func(l *Layout) { l.Partitions[2].Index = 1 }), "partition index 1 appears twice"},
		"past the end":   {mutate(func(l *Layout) { l.Partitions[2].EndSector = 8*GiB/512 - 2 }), "is outside the usable sectors 34-16777182"},
		"bad type":       {mutate(func(l *Layout) { l.Partitions[0].TypeGUID = "bios" }), `type "bios", which is not a GUID`},
		"long name":      {mutate(func(l *Layout) { l.Partitions[0].Name = strings.Repeat("x", 37) }), "GPT allows 36"},
		"tiny disk":      {mutate(func(l *Layout) { l.DiskSizeBytes = 4096 }), "too small for a GPT"},
		"index too high": {mutate(func(l *Layout) { l.Partitions[0].Index = 129 }), "outside 1..128"},
	}
	for name, c := range cases {
		if _, err := c.l.validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", name, err, c.want)
		}
	}
}

func BenchmarkPlanWholeDisk(b *testing.B) {
	d := testDisk(tib, 512)
	o := WholeDiskOptions{Arch: "amd64", RootFilesystem: "xfs", SeparateBoot: true}
	for b.Loop() {
		if _, err := PlanWholeDisk(d, o); err != nil {
			b.Fatal(err)
		}
	}
}
