package ui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/universal-atomic-installer/uai/catalog"
	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/installer/system"
	"github.com/universal-atomic-installer/uai/partition"
	"github.com/universal-atomic-installer/uai/ui/common"
	"github.com/universal-atomic-installer/uai/ui/internal/uitest"
	"github.com/universal-atomic-installer/uai/ui/keymap"
	"github.com/universal-atomic-installer/uai/ui/styles"
)

// t0 is the fixed time the fake clock and the fake engine start from.
var t0 = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

const gib = 1 << 30

func testCatalog() *catalog.Catalog {
	return &catalog.Catalog{
		APIVersion: catalog.APIVersion,
		Editions: []catalog.Edition{
			{
				ID:                "fedora-bootc",
				Name:              "Fedora bootc",
				Category:          "server",
				Description:       "The Fedora base image for bootable containers: a small server system to build your own image on.",
				Image:             "quay.io/fedora/fedora-bootc:44",
				Arches:            []string{"amd64", "arm64"},
				Firmware:          []string{"uefi", "bios"},
				MinDiskGiB:        10,
				MinRAMMiB:         2048,
				DefaultFilesystem: "xfs",
				Maturity:          "graduated",
			},
			{
				ID:                "bluefin",
				Name:              "Bluefin",
				Category:          "desktop",
				Description:       "A GNOME desktop for developers and everyday use, with Flatpak apps and container tooling, updated from the image.",
				Image:             "ghcr.io/ublue-os/bluefin:stable",
				Digest:            "sha256:4f9a1c2b3d4e5f60718293a4b5c6d7e8f90123456789abcdef0123456789abcd",
				Arches:            []string{"amd64"},
				Firmware:          []string{"uefi"},
				MinDiskGiB:        40,
				MinRAMMiB:         4096,
				DefaultFilesystem: "btrfs",
				Homepage:          "https://projectbluefin.io",
				Maturity:          "incubating",
				MaturityNote:      "community image, not built by Fedora",
			},
			{
				ID:                "pi-iot",
				Name:              "Raspberry Pi IoT",
				Category:          "iot",
				Description:       "A small image for single-board computers.",
				Image:             "quay.io/example/pi-iot:1",
				Arches:            []string{"arm64"},
				Firmware:          []string{"uefi"},
				MinDiskGiB:        8,
				MinRAMMiB:         1024,
				DefaultFilesystem: "ext4",
				Maturity:          "sandbox",
			},
		},
	}
}

// testKey is a valid public key (from the answer fixtures).
const testKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJwb8uu/ZTvQUXRGTuvR8EV3f236J5kMnW+NO11WLIfi qa@fixture"

func testDisks() []partition.Disk {
	return []partition.Disk{
		{
			Path: "/var/tmp/demo-disk.img", Name: "demo-disk.img", ImageFile: true,
			SizeBytes: 64 * gib, LogicalSectorSize: 512, PhysicalSectorSize: 512, Transport: "file",
		},
		{
			Path: "/dev/sdb", Name: "sdb", SizeBytes: 128 * gib, LogicalSectorSize: 512, PhysicalSectorSize: 4096,
			Model: "Samsung SSD 870", Serial: "S6PNNX0T", Transport: "sata", ByID: []string{"ata-Samsung_SSD_870_S6PNNX0T"},
			Table: "gpt",
			Partitions: []partition.Existing{
				{Index: 1, StartBytes: 1 << 20, SizeBytes: 600 << 20, Label: "EFI", Filesystem: "vfat"},
				{Index: 2, StartBytes: 601 << 20, SizeBytes: 1 * gib, Label: "boot", Filesystem: "ext4"},
				{Index: 3, StartBytes: 2 * gib, SizeBytes: 126*gib - (1 << 20), Label: "fedora", Filesystem: "ext4",
					Content: &partition.Content{Inspected: true, OS: "Fedora Linux 42 (Workstation Edition)"}},
			},
			Systems: []string{"Fedora Linux 42 (Workstation Edition) on partition 3"},
		},
		{
			Path: "/dev/nvme0n1", Name: "nvme0n1", SizeBytes: 256 * gib, LogicalSectorSize: 512,
			Model: "WD Blue SN570", Transport: "nvme", Table: "gpt",
			Partitions: []partition.Existing{{Index: 1, StartBytes: 1 << 20, SizeBytes: 256*gib - (2 << 20), Label: "root", Filesystem: "ext4"}},
			Refusals:   []string{"mounted at /"},
		},
		{
			Path: "/dev/sdc", Name: "sdc", SizeBytes: 8 * gib, LogicalSectorSize: 512,
			Model: "SanDisk Cruzer", Transport: "usb", Removable: true,
		},
		{
			Path: "/dev/nvme1n1", Name: "nvme1n1", SizeBytes: 512 * gib, LogicalSectorSize: 512,
			Model: "Samsung 980", Transport: "nvme", Table: "gpt",
			Partitions: []partition.Existing{
				{Index: 1, StartBytes: 1 << 20, SizeBytes: 100 << 20, Label: "SYSTEM", Filesystem: "vfat",
					Content: &partition.Content{Inspected: true, Windows: true, BootLoaders: []string{"Windows Boot Manager (EFI/Microsoft/Boot/bootmgfw.efi)"}}},
				{Index: 2, StartBytes: 101 << 20, SizeBytes: 16 << 20, Name: "Microsoft reserved partition"},
				{Index: 3, StartBytes: 117 << 20, SizeBytes: 200 * gib, Label: "Windows", Filesystem: "ntfs"},
			},
			Systems: []string{"Windows Boot Manager (EFI/Microsoft/Boot/bootmgfw.efi) on partition 1"},
		},
	}
}

func testMachine() common.Machine {
	return common.Machine{Arch: "amd64", Firmware: "uefi", SecureBoot: "on", RAMBytes: 16 * gib, TPM2: true, Chassis: "laptop"}
}

// recordedMachine is a recorded machine, as the demo shows one.
func recordedMachine() common.Machine {
	m := testMachine()
	m.Name, m.Description, m.Offline = "laptop-windows", "A laptop with Windows 11", true
	return m
}

func biosMachine() common.Machine {
	return common.Machine{Arch: "amd64", Firmware: "bios", RAMBytes: 3 * gib, Problems: []string{"machine memory: could not read /proc/meminfo exactly"}}
}

// hold returns a fake setup whose install runs prefix and then waits.
func hold(prefix func(*script)) func(*fakeBackend) {
	return func(f *fakeBackend) { f.install = holdAfter(prefix, make(chan struct{}), nil) }
}

func preflightOnly(s *script) {
	s.step(installer.StepPreflight, "Check the machine, the disk and the programs", false)
}

// fakeBackend is a Backend with canned disks, plans, images and network,
// and a scripted install; it records what the screens asked of it.
type fakeBackend struct {
	cat      *catalog.Catalog
	disks    []partition.Disk
	disksErr error
	planErr  error
	// planCheck, when set, may refuse a request (a layout that does not fit).
	planCheck func(installer.Request) error
	// disksGate, when set, holds Disks until it is closed; held counts
	// the calls it holds.
	disksGate chan struct{}
	held      atomic.Int64
	// install scripts Install; nil runs happyInstall.
	install func(ctx context.Context, p *installer.Plan, sink installer.Sink) error

	machine    common.Machine
	machineErr error
	// images answers ResolveImage by ref; a ref not listed resolves to
	// canned facts when it is a catalog image, and is unreachable else.
	images map[string]imageAnswer

	net         system.NetworkStatus
	netErr      error
	aps         []system.AccessPoint
	passphrases map[string]string
	locale      system.Locale
	setLocale   error
	zones       []string
	powerErr    error
	// real makes plans that are not simulated (a real disk, real bootc).
	real bool
	// medium, when set, is the image on the install medium: plans of an
	// image not pinned to a digest install from it with the host runner,
	// as Resolve's runner rules do.
	medium *installer.PlanMedium
	// next lets a scripted install go on, for tests that pace it.
	next chan struct{}

	mu         sync.Mutex
	choices    []installer.Request
	installed  []*installer.Plan
	diskCalls  int
	joins      []string
	localeSets []system.Locale
	power      []string
	exports    []installer.Request
	resolves   []string
}

type imageAnswer struct {
	info catalog.ImageInfo
	err  error
}

func newFake() *fakeBackend {
	return &fakeBackend{
		cat: testCatalog(), disks: testDisks(), machine: testMachine(),
		net: system.NetworkStatus{Connectivity: system.ConnectivityFull, Devices: []system.Device{
			{Path: "/d/1", Interface: "eth0", Kind: "ethernet", State: system.NMDeviceActivated, Connection: "Wired connection 1"},
		}},
		locale: system.Locale{Locale: "en_US.UTF-8", Keymap: "us"},
		zones:  []string{"America/New_York", "Asia/Tokyo", "Europe/Berlin", "Europe/Paris", "UTC"},
		images: map[string]imageAnswer{},
	}
}

// offline makes the machine's network down, with Wi-Fi networks in range.
func (f *fakeBackend) offline() {
	f.net = system.NetworkStatus{Connectivity: system.ConnectivityNone, Devices: []system.Device{
		{Path: "/d/1", Interface: "eth0", Kind: "ethernet", State: system.NMDeviceUnavailable},
		{Path: "/d/2", Interface: "wlan0", Kind: "wifi", State: system.NMDeviceDisconnected},
	}}
	f.aps = []system.AccessPoint{
		{SSID: "HomeNet", Strength: 82, Security: "WPA2"},
		{SSID: "Campus", Strength: 55, Security: "WPA Enterprise"},
		{SSID: "CoffeeShop", Strength: 40, Security: "open"},
	}
	f.passphrases = map[string]string{"HomeNet": "correct horse battery"}
}

func (f *fakeBackend) Catalog() *catalog.Catalog { return f.cat }

func (f *fakeBackend) Disks(ctx context.Context) ([]partition.Disk, error) {
	f.mu.Lock()
	f.diskCalls++
	gate := f.disksGate
	f.mu.Unlock()
	if gate != nil {
		// A call held at the gate is not work the harness waits for.
		f.held.Add(1)
		defer f.held.Add(-1)
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return f.disks, f.disksErr
}

func (f *fakeBackend) Plan(_ context.Context, r installer.Request) (*installer.Plan, error) {
	f.mu.Lock()
	f.choices = append(f.choices, r)
	check, planErr := f.planCheck, f.planErr
	f.mu.Unlock()
	if planErr != nil {
		return nil, planErr
	}
	if check != nil {
		if err := check(r); err != nil {
			return nil, err
		}
	}
	var ed catalog.Edition
	switch {
	case r.EditionID != "":
		e, ok := f.cat.Lookup(r.EditionID)
		if !ok {
			return nil, errors.New("no edition " + r.EditionID)
		}
		ed = e
	case r.Image != "":
		ed = catalog.Edition{Name: r.Image, Image: r.Image, DefaultFilesystem: "xfs"}
	default:
		return nil, errors.New("nothing to install")
	}
	var d partition.Disk
	for _, x := range f.disks {
		if x.Path == r.DiskPath {
			d = x
		}
	}
	if r.DiskPath == "" && !r.Selector.IsZero() {
		var err error
		if d, _, err = partition.Select(f.disks, r.Selector); err != nil {
			return nil, err
		}
	}
	if d.Path == "" {
		return nil, errors.New("no disk " + r.DiskPath)
	}
	p := fakePlan(ed, d, r.Wipe)
	if r.Filesystem != "" {
		p.Filesystem = r.Filesystem
		p.Layout.Partitions[2].Filesystem = r.Filesystem
	}
	if r.TargetRef != "" {
		p.TargetRef = r.TargetRef
	}
	if r.Storage.Layout == partition.KindFree {
		p.Layout.Kind = partition.KindFree
	}
	p.Simulated = !f.real
	p.Configure = fakeConfig(r)
	f.fromMedium(p, r)
	return p, nil
}

// fromMedium makes p install from the medium when there is one and the
// request pins no other build; a request pinned to a digest (Digest for
// an edition, repo@sha256:... for a custom image) comes from the
// registry, as Resolve's mediumMatch decides.
func (f *fakeBackend) fromMedium(p *installer.Plan, r installer.Request) {
	if r.Digest != "" {
		p.Edition.Digest = r.Digest
	}
	if f.medium == nil {
		return
	}
	pinned := p.Edition.Digest
	if _, d, ok := strings.Cut(r.Image, "@"); ok {
		pinned = d
	}
	if pinned != "" && pinned != f.medium.Digest {
		p.RunnerReason = "the install medium holds " + f.medium.Ref + " as " + f.medium.Digest + ", but the user chose the registry's build " + pinned + ", so the image comes from the registry; " + p.RunnerReason
		return
	}
	m := *f.medium
	p.Medium = &m
	p.Runner = installer.RunnerHost
	p.RunnerReason = "the image is on the install medium as " + m.Ref + " (" + m.Digest + ") in the OCI layout " + m.Layout + ": the live system's bootc installs it from there, no network and no copy into RAM"
	p.Command = []string{"bootc", "install", "to-filesystem", "--source-imgref=oci:" + m.Layout + ":" + m.Ref,
		"--target-imgref=" + p.TargetRef, p.TargetDir}
}
func fakePlan(ed catalog.Edition, d partition.Disk, wipe bool) *installer.Plan {
	const ss = 512
	last := d.SizeBytes/ss - 34
	target := "/run/uai/target"
	byID := ""
	if len(d.ByID) > 0 {
		byID = "/dev/disk/by-id/" + d.ByID[0]
	}
	return &installer.Plan{
		Version:   installer.PlanVersion,
		Edition:   installer.PlanEdition{ID: ed.ID, Name: ed.Name, Image: ed.Image, Digest: ed.Digest},
		TargetRef: ed.Image,
		Disk: installer.PlanDisk{
			Path: d.Path, ByID: byID, Serial: d.Serial, Model: d.Model,
			SizeBytes: d.SizeBytes, SectorSize: ss, ImageFile: d.ImageFile,
		},
		Wipe:       wipe,
		Filesystem: ed.DefaultFilesystem,
		Layout: partition.Layout{
			SectorSize: ss, DiskSizeBytes: d.SizeBytes,
			Partitions: []partition.Planned{
				{Index: 1, Role: partition.RoleBIOSBoot, Name: "BIOS-BOOT", StartSector: 2048, EndSector: 4095},
				{Index: 2, Role: partition.RoleESP, Name: "EFI-SYSTEM", StartSector: 4096, EndSector: 1052671, Filesystem: "vfat", Mountpoint: "/boot/efi"},
				{Index: 3, Role: partition.RoleRoot, Name: "root", StartSector: 1052672, EndSector: last, Filesystem: ed.DefaultFilesystem, Mountpoint: "/"},
			},
		},
		Method:       "to-filesystem",
		Runner:       "podman",
		RunnerReason: "the image runs its own bootc, so the installed system matches it exactly",
		TargetDir:    target,
		Command: []string{
			"podman", "run", "--rm", "--privileged", "--pid=host", "--ipc=host",
			"-v", "/dev:/dev", "-v", "/var/lib/containers:/var/lib/containers", "-v", target + ":" + target,
			"--security-opt", "label=type:unconfined_t", ed.Image,
			"bootc", "install", "to-filesystem", "--target-imgref", ed.Image, target,
		},
		Simulated: true,
	}
}

// fakeConfig is what Resolve makes of the request's system settings,
// without the passwords (which only Resolve may carry).
func fakeConfig(r installer.Request) *installer.PlanConfig {
	s := r.System
	c := &installer.PlanConfig{Hostname: s.Hostname, Timezone: s.Timezone, Locale: s.Locale, Keymap: s.Keymap,
		Root: installer.PlanRoot{Locked: r.Root.Locked, PasswordSet: r.Root.Password != "", SSHAuthorizedKeys: r.Root.SSHAuthorizedKeys}}
	for _, u := range r.Users {
		c.Users = append(c.Users, installer.PlanUser{Name: u.Name, Groups: u.Groups, PasswordSet: u.Password != "", SSHAuthorizedKeys: u.SSHAuthorizedKeys})
	}
	if s == (installer.SystemRequest{}) && !c.Root.Locked && !c.Root.PasswordSet && len(c.Root.SSHAuthorizedKeys) == 0 && len(c.Users) == 0 {
		return nil
	}
	return c
}

func (f *fakeBackend) Machine(context.Context) (common.Machine, error) {
	return f.machine, f.machineErr
}

func (f *fakeBackend) ResolveImage(_ context.Context, ref, _ string) (catalog.ImageInfo, error) {
	f.mu.Lock()
	f.resolves = append(f.resolves, ref)
	a, ok := f.images[ref]
	f.mu.Unlock()
	if ok {
		return a.info, a.err
	}
	for _, e := range f.cat.Editions {
		if e.Image == ref {
			return catalog.ImageInfo{
				Ref: ref, Digest: "sha256:" + strings.Repeat("ab", 32), DigestRef: ref + "@sha256:" + strings.Repeat("ab", 32),
				Arch: "amd64", SizeBytes: 1900 << 20, Layers: 64, Created: t0.Add(-12 * 24 * time.Hour),
				Bootable: true, BootableLabel: "containers.bootc=1",
			}, nil
		}
	}
	return catalog.ImageInfo{}, fmt.Errorf("image %s: registry %w: dial tcp: no route to host", ref, catalog.ErrUnreachable)
}

func (f *fakeBackend) NetworkStatus(context.Context) (system.NetworkStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.net
	st.Devices = slices.Clone(f.net.Devices)
	return st, f.netErr
}

func (f *fakeBackend) ScanWiFi(context.Context) ([]system.AccessPoint, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.netErr != nil {
		return nil, f.netErr
	}
	return slices.Clone(f.aps), nil
}

func (f *fakeBackend) ConnectWiFi(_ context.Context, ssid, pass string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if pass != f.passphrases[ssid] {
		f.joins = append(f.joins, ssid+": refused")
		return fmt.Errorf("join Wi-Fi %q: %w: check it and type it again", ssid, system.ErrWrongPassphrase)
	}
	f.joins = append(f.joins, ssid+": ok")
	f.net.Connectivity = system.ConnectivityFull
	for i := range f.net.Devices {
		if f.net.Devices[i].Kind == "wifi" {
			f.net.Devices[i].State, f.net.Devices[i].Connection = system.NMDeviceActivated, ssid
		}
	}
	for i := range f.aps {
		f.aps[i].Active = f.aps[i].SSID == ssid
	}
	return nil
}

func (f *fakeBackend) CheckConnectivity(context.Context) (system.Connectivity, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.net.Connectivity, f.netErr
}

func (f *fakeBackend) LiveLocale(context.Context) (system.Locale, error) { return f.locale, nil }

func (f *fakeBackend) SetLiveLocale(_ context.Context, l system.Locale) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.localeSets = append(f.localeSets, l)
	return f.setLocale
}

func (f *fakeBackend) Timezones(context.Context) ([]string, string, error) {
	return f.zones, "UTC", nil
}

func (f *fakeBackend) Reboot(context.Context) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.power = append(f.power, "reboot")
	return "asked logind to reboot", f.powerErr
}

func (f *fakeBackend) PowerOff(context.Context) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.power = append(f.power, "poweroff")
	return "asked logind to power off", f.powerErr
}

func (f *fakeBackend) ExportAnswers(_ context.Context, r installer.Request) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.exports = append(f.exports, r)
	return "/tmp/uai-answers-test.toml", nil
}

func (f *fakeBackend) Install(ctx context.Context, p *installer.Plan, sink installer.Sink) error {
	f.mu.Lock()
	f.installed = append(f.installed, p)
	run := f.install
	f.mu.Unlock()
	if run == nil {
		run = happyInstall
	}
	return run(ctx, p, sink)
}

func (f *fakeBackend) installedPlans() []*installer.Plan {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*installer.Plan(nil), f.installed...)
}

func (f *fakeBackend) planChoices() []installer.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]installer.Request(nil), f.choices...)
}

func (f *fakeBackend) recorded() (joins []string, locales []system.Locale, power []string, exports []installer.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.joins), slices.Clone(f.localeSets), slices.Clone(f.power), slices.Clone(f.exports)
}

// script emits events with times that advance by one second each, as a
// slow but steady engine would.
type script struct {
	sink installer.Sink
	at   time.Time
}

func (s *script) emit(e installer.Event) {
	s.at = s.at.Add(time.Second)
	e.V = installer.EventVersion
	e.Time = s.at
	s.sink.Emit(e)
}

func (s *script) step(id installer.StepID, title string, sim bool) {
	s.emit(installer.Event{Type: installer.EventStepStarted, Step: id, Title: title, Simulated: sim})
}

func (s *script) ok(id installer.StepID) {
	s.emit(installer.Event{Type: installer.EventStepFinished, Step: id, Status: installer.StatusOK})
}

func (s *script) log(id installer.StepID, stream, line string) {
	s.emit(installer.Event{Type: installer.EventStepLog, Step: id, Stream: stream, Line: line})
}

// upToBootc runs the script until the bootc step is 45% through.
func upToBootc(s *script) {
	s.step(installer.StepPreflight, "Check the machine, the disk and the programs", false)
	s.ok(installer.StepPreflight)
	s.step(installer.StepPartition, "Write the partition table", false)
	s.log(installer.StepPartition, "info", "wrote and verified a GPT with 3 partitions on /dev/sdb")
	s.ok(installer.StepPartition)
	s.step(installer.StepFormat, "Make the filesystems", false)
	s.log(installer.StepFormat, "cmd", "$ mkfs.vfat -n EFI-SYSTEM /dev/sdb2")
	s.log(installer.StepFormat, "cmd", "$ mkfs.xfs -f -L root /dev/sdb3")
	s.ok(installer.StepFormat)
	s.step(installer.StepMount, "Mount the new filesystems", false)
	s.ok(installer.StepMount)
	s.step(installer.StepBootc, "Install the image with bootc (simulated bootc)", true)
	s.log(installer.StepBootc, "cmd", "$ podman run --rm --privileged ... bootc install to-filesystem /run/uai/target")
	s.log(installer.StepBootc, "stdout", "Installing image: docker://quay.io/fedora/fedora-bootc:44")
	s.log(installer.StepBootc, "stdout", "Initializing ostree layout")
	s.log(installer.StepBootc, "stderr", "warning: SELinux policy not found in the target, relabelling later")
	s.emit(installer.Event{Type: installer.EventStepProgress, Step: installer.StepBootc, Done: 900 << 20, Total: 2000 << 20, Unit: "bytes", Simulated: true})
}

func finishRun(s *script, p *installer.Plan, stopped string) {
	s.emit(installer.Event{Type: installer.EventStepProgress, Step: installer.StepBootc, Done: 2000 << 20, Total: 2000 << 20, Unit: "bytes", Simulated: true})
	s.log(installer.StepBootc, "stdout", "Installation complete!")
	s.ok(installer.StepBootc)
	s.step(installer.StepVerify, "Check the installed system's update origin", false)
	s.log(installer.StepVerify, "info", "origin: "+p.TargetRef)
	s.ok(installer.StepVerify)
	s.step(installer.StepConfigure, "Configure the installed system", false)
	s.ok(installer.StepConfigure)
	s.step(installer.StepReceipt, "Write the receipt and the install log to the installed system", false)
	s.ok(installer.StepReceipt)
	s.emit(installer.Event{Type: installer.EventResult, Result: &installer.Result{
		PlanSHA256: p.SHA256(), Edition: p.Edition.ID, Image: p.Edition.Image, ImageDigest: p.Edition.Digest,
		TargetRef: p.TargetRef, Disk: p.Disk.Path, DurationMS: 754_000, Simulated: p.Simulated,
		Completed: []installer.StepID{installer.StepPreflight, installer.StepPartition, installer.StepFormat, installer.StepMount, installer.StepBootc, installer.StepVerify, installer.StepConfigure, installer.StepReceipt},
		Stopped:   stopped,
	}})
}

func happyInstall(_ context.Context, p *installer.Plan, sink installer.Sink) error {
	s := &script{sink: sink, at: t0}
	upToBootc(s)
	finishRun(s, p, "")
	return nil
}

// failingInstall fails in the bootc step the way the engine reports it.
func failingInstall(_ context.Context, p *installer.Plan, sink installer.Sink) error {
	s := &script{sink: sink, at: t0}
	upToBootc(s)
	s.log(installer.StepBootc, "stderr", "error: Installing to filesystem: Creating ostree deployment: pulling: connection reset by peer")
	msg := "bootc install to-filesystem: exit status 1: error: Installing to filesystem: Creating ostree deployment: pulling: connection reset by peer"
	s.emit(installer.Event{Type: installer.EventStepFinished, Step: installer.StepBootc, Status: installer.StatusFailed, Error: msg})
	s.step(installer.StepUnmount, "Unmount and release the disk", false)
	s.log(installer.StepUnmount, "info", "wiped the new partition table so a half-finished install can never boot")
	s.ok(installer.StepUnmount)
	err := installer.Errorf(installer.ClassInstallFailed, "", "%s", msg)
	s.emit(installer.Event{Type: installer.EventResult, Result: &installer.Result{
		ExitCode: installer.ExitCode(err), Class: installer.ClassOf(err).String(), Error: err.Error(),
		PlanSHA256: p.SHA256(), Edition: p.Edition.ID, Image: p.Edition.Image, TargetRef: p.TargetRef,
		Disk: p.Disk.Path, DurationMS: 98_000, Simulated: p.Simulated,
		Completed: []installer.StepID{installer.StepPreflight, installer.StepPartition, installer.StepFormat, installer.StepMount, installer.StepUnmount},
	}})
	return err
}

// holdAfter runs prefix, then waits until release is closed (or ctx ends)
// and returns what then returns.
func holdAfter(prefix func(*script), release <-chan struct{}, then func(*script, *installer.Plan) error) func(context.Context, *installer.Plan, installer.Sink) error {
	return func(ctx context.Context, p *installer.Plan, sink installer.Sink) error {
		s := &script{sink: sink, at: t0}
		prefix(s)
		select {
		case <-release:
		case <-ctx.Done():
			return installer.Classify(installer.ClassAborted, ctx.Err())
		}
		if then == nil {
			return nil
		}
		return then(s, p)
	}
}

// harness drives the root model without a terminal (see uitest.Loop).
type harness struct {
	*uitest.Loop
	t     testing.TB
	fake  *fakeBackend
	clock *uitest.Clock
	m     Model
}

func newHarness(t testing.TB, f *fakeBackend, o Options, w, h int) *harness {
	t.Helper()
	clock := uitest.NewClock(t0)
	c := common.Common{
		Ctx:     t.Context(),
		Backend: f,
		Options: o,
		Styles:  styles.Default(),
		Keys:    keymap.Default(),
		Now:     clock.Now,
		Animate: false,
	}
	hs := &harness{t: t, fake: f, clock: clock, m: newWithCommon(c)}
	hs.Loop = uitest.NewLoop(t, uitest.Model{
		Update: func(msg tea.Msg) tea.Cmd {
			m, cmd := hs.m.Update(msg)
			hs.m = m.(Model)
			return cmd
		},
		Render: func() string { return hs.m.render() },
		Screen: func() string { return hs.m.Screen().String() },
		// Once the install started, a command always waits for the
		// engine's next events.
		Streaming: func() bool { return hs.m.Screen() == ScreenProgress },
		// A call held at the disks gate is not work to wait for.
		Parked: f.held.Load,
	})
	hs.Send(tea.WindowSizeMsg{Width: w, Height: h})
	hs.Run(hs.m.Init())
	hs.Idle()
	return hs
}

func (h *harness) wantScreen(s Screen) {
	h.t.Helper()
	if got := h.m.Screen(); got != s {
		h.t.Fatalf("screen = %s, want %s:\n%s", got, s, h.View())
	}
}

// Navigation helpers; each is itself a check of the path it takes.

func (h *harness) toNetwork() {
	h.t.Helper()
	h.wantScreen(ScreenWelcome)
	h.PressIdle("enter")
	h.wantScreen(ScreenNetwork)
}

func (h *harness) toEdition() {
	h.t.Helper()
	h.toNetwork()
	h.PressIdle("enter")
	h.wantScreen(ScreenEdition)
}

func (h *harness) toDisk() {
	h.t.Helper()
	h.toEdition()
	h.PressIdle("enter")
	h.wantScreen(ScreenDisk)
}

// pickDisk moves the disk screen's cursor to the disk named name.
func (h *harness) pickDisk(name string) {
	h.t.Helper()
	for range 8 {
		if d, ok := h.m.disk.Selected(); ok && d.Name == name {
			return
		}
		h.Press("down")
	}
	h.t.Fatalf("no disk %s on the disk screen:\n%s", name, h.View())
}

// toStorage picks the disk named name (the cursor starts on the first
// usable disk, demo-disk.img).
func (h *harness) toStorage(name string) {
	h.t.Helper()
	h.toDisk()
	h.pickDisk(name)
	h.PressIdle("enter")
	h.wantScreen(ScreenStorage)
}

func (h *harness) toAccounts(name string) {
	h.t.Helper()
	h.toStorage(name)
	h.PressIdle("enter")
	h.wantScreen(ScreenAccounts)
}

// toSummary accepts the defaults up to the accounts, where root logs in
// with testKey (the default for a server edition).
func (h *harness) toSummary(name string) {
	h.t.Helper()
	h.toAccounts(name)
	h.Type(testKey)
	h.PressIdle("enter", "enter")
	h.wantScreen(ScreenSummary)
}

// toProgress confirms sdb and starts the install.
func (h *harness) toProgress() {
	h.t.Helper()
	h.toSummary("sdb")
	h.Type("sdb")
	h.Press("enter")
	h.Until("the progress screen", func() bool { return h.m.Screen() == ScreenProgress })
}

// toDone installs on sdb and waits for the done screen.
func (h *harness) toDone() {
	h.t.Helper()
	h.toProgress()
	h.Until("the done screen", func() bool { return h.m.Screen() == ScreenDone })
}

// toError installs on sdb and waits for the error screen.
func (h *harness) toError() {
	h.t.Helper()
	h.toProgress()
	h.Until("the error screen", func() bool { return h.m.Screen() == ScreenError })
}

// Form helpers: each goes to its screen and types into one field.

// typePassphrase opens the first Wi-Fi network listed (HomeNet) and
// types pass.
func (h *harness) typePassphrase(pass string) {
	h.t.Helper()
	h.toNetwork()
	h.Press("down", "enter")
	h.Type(pass)
}

// typeCustomImage opens the custom image field and types ref.
func (h *harness) typeCustomImage(ref string) {
	h.t.Helper()
	h.toEdition()
	h.Press("pgdown", "enter")
	h.Type(ref)
}

// typeRootSize types size into the root size field for sdb.
func (h *harness) typeRootSize(size string) {
	h.t.Helper()
	h.toStorage("sdb")
	h.Press("up", "up")
	h.Type(size)
}

// typeUser chooses a user account for sdb and types its name.
func (h *harness) typeUser(name string) {
	h.t.Helper()
	h.toAccounts("sdb")
	h.Press("up", "left", "down")
	h.Type(name)
}

// typePasswords chooses a user account called name for sdb and types
// pass and again into the two password fields.
func (h *harness) typePasswords(name, pass, again string) {
	h.t.Helper()
	h.typeUser(name)
	h.Press("tab")
	h.Type(pass)
	h.Press("tab")
	h.Type(again)
}

// toPlanError makes Plan fail with err and goes on from the accounts of
// sdb to the summary, which shows it.
func (h *harness) toPlanError(err error) {
	h.t.Helper()
	h.toAccounts("sdb")
	h.fake.mu.Lock()
	h.fake.planErr = err
	h.fake.mu.Unlock()
	h.Type(testKey)
	h.PressIdle("enter", "enter")
}

func (h *harness) stepState(id installer.StepID) string {
	for _, s := range h.m.progress.Steps() {
		if s.ID == id {
			return s.State.String()
		}
	}
	return "absent"
}
