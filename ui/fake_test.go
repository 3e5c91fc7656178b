package ui

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	_ "github.com/charmbracelet/x/exp/golden" // registers the -update flag that goldens here obey too

	"github.com/universal-atomic-installer/uai/catalog"
	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/partition"
	"github.com/universal-atomic-installer/uai/ui/common"
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
		},
	}
}

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
				{Index: 3, StartBytes: 2 * gib, SizeBytes: 126 * gib, Label: "fedora", Filesystem: "btrfs"},
			},
		},
		{
			Path: "/dev/nvme0n1", Name: "nvme0n1", SizeBytes: 256 * gib, LogicalSectorSize: 512,
			Model: "WD Blue SN570", Transport: "nvme", Table: "gpt",
			Partitions: []partition.Existing{{Index: 1, SizeBytes: 256*gib - (2 << 20), Label: "root", Filesystem: "ext4"}},
			Refusals:   []string{"mounted at /"},
		},
		{
			Path: "/dev/sdc", Name: "sdc", SizeBytes: 8 * gib, LogicalSectorSize: 512,
			Model: "SanDisk Cruzer", Transport: "usb", Removable: true,
		},
	}
}

// fakeBackend is a Backend with canned disks and plans and a scripted
// install; it records what the screens asked of it.
type fakeBackend struct {
	cat      *catalog.Catalog
	disks    []partition.Disk
	disksErr error
	planErr  error
	// disksGate, when set, holds Disks until it is closed.
	disksGate chan struct{}
	// install scripts Install; nil runs happyInstall.
	install func(ctx context.Context, p *installer.Plan, sink installer.Sink) error

	mu        sync.Mutex
	choices   []Choice
	installed []*installer.Plan
	diskCalls int
}

func newFake() *fakeBackend {
	return &fakeBackend{cat: testCatalog(), disks: testDisks()}
}

func (f *fakeBackend) Catalog() *catalog.Catalog { return f.cat }

func (f *fakeBackend) Disks(ctx context.Context) ([]partition.Disk, error) {
	f.mu.Lock()
	f.diskCalls++
	gate := f.disksGate
	f.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return f.disks, f.disksErr
}

func (f *fakeBackend) Plan(_ context.Context, c Choice) (*installer.Plan, error) {
	f.mu.Lock()
	f.choices = append(f.choices, c)
	f.mu.Unlock()
	if f.planErr != nil {
		return nil, f.planErr
	}
	ed, ok := f.cat.Lookup(c.EditionID)
	if !ok {
		return nil, errors.New("no edition " + c.EditionID)
	}
	var d partition.Disk
	for _, x := range f.disks {
		if x.Path == c.DiskPath {
			d = x
		}
	}
	return fakePlan(ed, d, c.Wipe), nil
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

func (f *fakeBackend) planChoices() []Choice {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Choice(nil), f.choices...)
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
	s.emit(installer.Event{Type: installer.EventResult, Result: &installer.Result{
		PlanSHA256: p.SHA256(), Edition: p.Edition.ID, Image: p.Edition.Image, ImageDigest: p.Edition.Digest,
		TargetRef: p.TargetRef, Disk: p.Disk.Path, DurationMS: 754_000, Simulated: p.Simulated,
		Completed: []installer.StepID{installer.StepPreflight, installer.StepPartition, installer.StepFormat, installer.StepMount, installer.StepBootc, installer.StepVerify},
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

// fakeClock is the screens' clock; tests move it.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// harness drives the root model without a terminal: it feeds messages to
// Update, runs the commands it returns on goroutines (as Bubble Tea does)
// and feeds their messages back.
type harness struct {
	t       *testing.T
	fake    *fakeBackend
	clock   *fakeClock
	m       Model
	msgs    chan tea.Msg
	pending atomic.Int64
	quit    bool
}

func newHarness(t *testing.T, f *fakeBackend, o Options, w, h int) *harness {
	t.Helper()
	clock := &fakeClock{now: t0}
	c := common.Common{
		Ctx:     t.Context(),
		Backend: f,
		Options: o,
		Styles:  styles.Default(),
		Keys:    keymap.Default(),
		Now:     clock.Now,
		Animate: false,
	}
	hs := &harness{t: t, fake: f, clock: clock, m: newWithCommon(c), msgs: make(chan tea.Msg, 4096)}
	hs.send(tea.WindowSizeMsg{Width: w, Height: h})
	hs.run(hs.m.Init())
	hs.idle()
	return hs
}

func (h *harness) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	h.pending.Add(1)
	go func() {
		defer h.pending.Add(-1)
		if msg := cmd(); msg != nil {
			h.msgs <- msg
		}
	}()
}

func (h *harness) send(msg tea.Msg) {
	switch msg := msg.(type) {
	case tea.BatchMsg:
		for _, c := range msg {
			h.run(c)
		}
		return
	case tea.QuitMsg:
		h.quit = true
		return
	}
	m, cmd := h.m.Update(msg)
	h.m = m.(Model)
	h.run(cmd)
}

// press sends keys by name ("enter", "ctrl+c") or as text, one rune each.
func (h *harness) press(keys ...string) {
	for _, k := range keys {
		h.send(keyMsg(k))
	}
}

// typeText sends each rune of s as a key press.
func (h *harness) typeText(s string) {
	for _, r := range s {
		h.send(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

func keyMsg(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "pgup":
		return tea.KeyPressMsg{Code: tea.KeyPgUp}
	case "pgdown":
		return tea.KeyPressMsg{Code: tea.KeyPgDown}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	case "ctrl+u":
		return tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl}
	}
	r := []rune(k)
	if len(r) != 1 {
		panic("keyMsg: unknown key " + k)
	}
	return tea.KeyPressMsg{Code: r[0], Text: k}
}

// idle processes messages until no command is running and none is queued,
// or until the install started: from then on a command always waits for
// the engine's next events, so use until instead.
func (h *harness) idle() {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for h.m.Screen() != ScreenProgress {
		select {
		case msg := <-h.msgs:
			h.send(msg)
			continue
		default:
		}
		if h.pending.Load() == 0 && len(h.msgs) == 0 {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("model did not settle; on screen %s:\n%s", h.m.Screen(), h.view())
		}
		select {
		case msg := <-h.msgs:
			h.send(msg)
		case <-time.After(time.Millisecond):
		}
	}
}

// until processes messages until cond holds.
func (h *harness) until(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.After(10 * time.Second)
	for !cond() {
		select {
		case msg := <-h.msgs:
			h.send(msg)
		case <-deadline:
			h.t.Fatalf("waited in vain for %s; on screen %s:\n%s", what, h.m.Screen(), h.view())
		}
	}
}

func (h *harness) view() string { return ansi.Strip(h.m.render()) }

func (h *harness) wantScreen(s Screen) {
	h.t.Helper()
	if got := h.m.Screen(); got != s {
		h.t.Fatalf("screen = %s, want %s:\n%s", got, s, h.view())
	}
}

func (h *harness) wantView(subs ...string) {
	h.t.Helper()
	v := h.view()
	for _, s := range subs {
		if !strings.Contains(v, s) {
			h.t.Errorf("view lacks %q:\n%s", s, v)
		}
	}
}

func (h *harness) wantNoView(subs ...string) {
	h.t.Helper()
	v := h.view()
	for _, s := range subs {
		if strings.Contains(v, s) {
			h.t.Errorf("view has %q:\n%s", s, v)
		}
	}
}

// Navigation helpers; each is itself a check of the path it takes.

func (h *harness) toDisk() {
	h.t.Helper()
	h.press("enter")
	h.idle()
	h.wantScreen(ScreenDisk)
}

// toSummary picks the disk named name (cursor starts on the first usable
// disk, demo-disk.img).
func (h *harness) toSummary(name string) {
	h.t.Helper()
	h.toDisk()
	for range 8 {
		if d, ok := h.m.disk.Selected(); ok && d.Name == name {
			break
		}
		h.press("down")
	}
	h.press("enter")
	h.idle()
	h.wantScreen(ScreenSummary)
}

// toProgress confirms sdb and starts the install.
func (h *harness) toProgress() {
	h.t.Helper()
	h.toSummary("sdb")
	h.typeText("sdb")
	h.press("enter")
	h.until("the progress screen", func() bool { return h.m.Screen() == ScreenProgress })
}

func (h *harness) stepState(id installer.StepID) string {
	for _, s := range h.m.progress.Steps() {
		if s.ID == id {
			return s.State.String()
		}
	}
	return "absent"
}

// golden compares got with testdata/<name>.golden; -update rewrites it.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if f := flag.Lookup("update"); f != nil && f.Value.String() == "true" {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./ui -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("view differs from %s (go test ./ui -update rewrites it)\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}
