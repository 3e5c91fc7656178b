package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/universal-atomic-installer/uai/catalog"
	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/installer/system"
	"github.com/universal-atomic-installer/uai/ui/internal/uitest"
)

// checkLayout asserts what every frame must satisfy: exactly the
// terminal's height, no line wider than the terminal.
func checkLayout(t *testing.T, h *harness, w, ht int) {
	t.Helper()
	lines := strings.Split(h.m.render(), "\n")
	if len(lines) != ht {
		t.Errorf("frame has %d lines, terminal has %d", len(lines), ht)
	}
	for i, l := range lines {
		if lw := ansi.StringWidth(l); lw > w {
			t.Errorf("line %d is %d cells wide, terminal is %d: %q", i+1, lw, w, ansi.Strip(l))
		}
	}
}

// goldenCase is one state of one screen, rendered at 80x24 and 120x40.
type goldenCase struct {
	name string
	opts Options
	fake func(*fakeBackend)
	// drive brings the model to the state to render.
	drive func(h *harness)
	// only renders at this one size (WxH) instead of both.
	only [2]int
}

var demo = Options{Demo: true, Simulated: true}

func notBootable(f *fakeBackend) {
	f.images["registry.example.com/team/app:1"] = imageAnswer{err: fmt.Errorf("image registry.example.com/team/app:1: %w: it has neither the containers.bootc nor the ostree.bootable label (labels: org.opencontainers.image.title=app); build it FROM a bootc base image", catalog.ErrNotBootable)}
}

func customOK(f *fakeBackend) {
	f.images["registry.example.com/team/os:1"] = imageAnswer{info: catalog.ImageInfo{
		Ref: "registry.example.com/team/os:1", Digest: "sha256:" + strings.Repeat("cd", 32),
		DigestRef: "registry.example.com/team/os@sha256:" + strings.Repeat("cd", 32), Arch: "amd64",
		SizeBytes: 1200 << 20, Layers: 12, Created: t0.Add(-3 * 24 * time.Hour), Bootable: true, BootableLabel: "containers.bootc=1",
	}}
}

// etaInstall reports bytes twice, ten seconds apart (the second only once
// next is closed, so the screen sees both), so a rate and the time left
// are known.
func etaInstall(next <-chan struct{}) func(context.Context, *installer.Plan, installer.Sink) error {
	return func(ctx context.Context, _ *installer.Plan, sink installer.Sink) error {
		s := &script{sink: sink, at: t0}
		upToBootc(s)
		select {
		case <-next:
		case <-ctx.Done():
			return ctx.Err()
		}
		s.at = s.at.Add(9 * time.Second)
		s.emit(installer.Event{Type: installer.EventStepProgress, Step: installer.StepBootc, Done: 1500 << 20, Total: 2000 << 20, Unit: "bytes", Simulated: true})
		<-ctx.Done()
		return ctx.Err()
	}
}

func goldenCases() []goldenCase {
	failing := func(f *fakeBackend) { f.install = failingInstall }
	return []goldenCase{
		// Welcome.
		{name: "welcome", drive: func(h *harness) {}},
		{name: "welcome_demo_machine", opts: demo, fake: func(f *fakeBackend) {
			f.machine = recordedMachine()
			f.setLocale = ErrDemo
		}, drive: func(h *harness) {
			h.Press("up", "up", "enter")
			h.Type("germany")
			h.PressIdle("enter")
		}},
		{name: "welcome_looking", fake: func(f *fakeBackend) { f.disksGate = make(chan struct{}) }, drive: func(h *harness) {}},
		{name: "welcome_language_picker", drive: func(h *harness) { h.Press("up", "up", "enter") }},
		{name: "welcome_language_search", drive: func(h *harness) {
			h.Press("up", "up", "enter")
			h.Type("port")
		}},
		{name: "welcome_keyboard_set", drive: func(h *harness) {
			h.Press("up", "enter")
			h.Type("nodead")
			h.PressIdle("enter")
		}},
		{name: "welcome_no_localed", fake: func(f *fakeBackend) {
			f.setLocale = fmt.Errorf("set the keymap to de: %w: org.freedesktop.locale1", system.ErrNoService)
		}, drive: func(h *harness) { h.PressIdle("up", "enter", "enter") }},
		{name: "welcome_bios_no_tpm", fake: func(f *fakeBackend) {
			f.machine = biosMachine()
		}, drive: func(h *harness) {}},
		{name: "welcome_help", drive: func(h *harness) { h.Press("?") }},

		// Network.
		{name: "network_wired", drive: func(h *harness) { h.toNetwork() }},
		{name: "network_wifi_list", fake: (*fakeBackend).offline, drive: func(h *harness) { h.toNetwork() }},
		{name: "network_offline_refused", fake: (*fakeBackend).offline, drive: func(h *harness) {
			h.toNetwork()
			h.PressIdle("enter")
		}},
		{name: "network_passphrase", fake: (*fakeBackend).offline, drive: func(h *harness) { h.typePassphrase("secret") }},
		{name: "network_wrong_passphrase", fake: (*fakeBackend).offline, drive: func(h *harness) {
			h.typePassphrase("wrong horse battery")
			h.PressIdle("enter")
		}},
		{name: "network_short_passphrase", fake: (*fakeBackend).offline, drive: func(h *harness) {
			h.typePassphrase("short")
			h.PressIdle("enter")
		}},
		{name: "network_joined", fake: (*fakeBackend).offline, drive: func(h *harness) {
			h.typePassphrase("correct horse battery")
			h.PressIdle("enter")
			h.Press("up")
		}},
		{name: "network_enterprise", fake: (*fakeBackend).offline, drive: func(h *harness) {
			h.toNetwork()
			h.Press("down", "down", "enter")
		}},
		{name: "network_unmanaged", fake: func(f *fakeBackend) {
			f.netErr = fmt.Errorf("list the network devices: %w", system.ErrNoNetworkManager)
		}, drive: func(h *harness) { h.toNetwork() }},
		{name: "network_offline_source", fake: func(f *fakeBackend) {
			f.offline()
			f.machine.Offline = true
		}, drive: func(h *harness) { h.toNetwork() }},

		// Edition.
		{name: "edition", drive: func(h *harness) { h.toEdition() }},
		{name: "edition_down", drive: func(h *harness) {
			h.toEdition()
			h.PressIdle("down")
		}},
		{name: "edition_unfit", drive: func(h *harness) {
			h.toEdition()
			h.PressIdle("down", "down", "enter")
		}},
		{name: "edition_filter", drive: func(h *harness) {
			h.toEdition()
			h.Press("/")
			h.Type("blue")
			h.Idle()
		}},
		{name: "edition_type_to_search", drive: func(h *harness) {
			h.toEdition()
			h.Type("gnome")
			h.Idle()
		}},
		{name: "edition_filter_nomatch", drive: func(h *harness) {
			h.toEdition()
			h.Press("/")
			h.Type("arch")
			h.Press("enter")
		}},
		{name: "edition_registry_unreachable", fake: func(f *fakeBackend) {
			f.images["quay.io/fedora/fedora-bootc:44"] = imageAnswer{err: fmt.Errorf("image quay.io/fedora/fedora-bootc:44: %w", catalog.ErrUnreachable)}
		}, drive: func(h *harness) { h.toEdition() }},
		{name: "edition_custom", drive: func(h *harness) {
			h.toEdition()
			h.Press("pgdown", "enter")
		}},
		{name: "edition_custom_not_bootable", fake: notBootable, drive: func(h *harness) {
			h.typeCustomImage("registry.example.com/team/app:1")
			h.PressIdle("enter")
		}},
		{name: "edition_custom_bad_ref", drive: func(h *harness) {
			h.typeCustomImage("fedora-bootc")
			h.PressIdle("enter")
		}},
		{name: "edition_custom_ok", fake: customOK, drive: func(h *harness) {
			h.typeCustomImage("registry.example.com/team/os:1")
			h.PressIdle("enter")
		}},
		{name: "edition_help", drive: func(h *harness) {
			h.toEdition()
			h.Press("?")
		}},

		// Disk.
		{name: "disk_loading", fake: func(f *fakeBackend) { f.disksGate = make(chan struct{}) }, drive: func(h *harness) {
			h.toEdition()
			h.Press("enter")
			h.Until("the disk screen", func() bool { return h.m.Screen() == ScreenDisk })
		}},
		{name: "disk", drive: func(h *harness) { h.toDisk() }},
		{name: "disk_refused_selected", drive: func(h *harness) {
			h.toDisk()
			h.pickDisk("nvme0n1")
			h.PressIdle("enter")
		}},
		{name: "disk_too_small_selected", drive: func(h *harness) {
			h.toDisk()
			h.pickDisk("sdc")
			h.PressIdle("enter")
		}},
		{name: "disk_windows_selected", drive: func(h *harness) {
			h.toDisk()
			h.pickDisk("nvme1n1")
		}},
		{name: "disk_error", fake: func(f *fakeBackend) {
			f.disksErr = errors.New("read /sys/block: permission denied")
		}, drive: func(h *harness) { h.toDisk() }},
		{name: "disk_help", drive: func(h *harness) {
			h.toDisk()
			h.Press("?")
		}},

		// Storage.
		{name: "storage_empty_disk", drive: func(h *harness) { h.toStorage("demo-disk.img") }},
		{name: "storage_windows_free_space", drive: func(h *harness) { h.toStorage("nvme1n1") }},
		{name: "storage_encrypt_weak", drive: func(h *harness) {
			h.toStorage("sdb")
			h.Press("up", "space", "down")
			h.Type("abc12345")
		}},
		{name: "storage_passphrase_mismatch", drive: func(h *harness) {
			h.toStorage("sdb")
			h.Press("up", "space", "down")
			h.Type("correct horse battery staple")
			h.Press("enter")
			h.Type("correct horse battery stapel")
			h.PressIdle("enter", "enter", "enter")
		}},
		{name: "storage_empty_passphrase", drive: func(h *harness) {
			h.toStorage("sdb")
			h.PressIdle("up", "space", "tab", "tab", "tab", "tab", "enter")
		}},
		{name: "storage_root_too_small", drive: func(h *harness) {
			h.typeRootSize("2GiB")
			h.PressIdle("tab", "tab", "enter")
		}},
		{name: "storage_plan_refused", fake: func(f *fakeBackend) {
			f.planCheck = func(r installer.Request) error {
				if r.Storage.RootSizeBytes > 100*gib {
					return installer.Errorf(installer.ClassDiskRefused, "give a smaller root size", "plan the layout of /dev/sdb: root of 200 GiB does not fit in the 127.4 GiB left")
				}
				return nil
			}
		}, drive: func(h *harness) {
			h.typeRootSize("200GiB")
			h.PressIdle("tab", "tab", "enter")
		}},

		// Accounts.
		{name: "accounts_root_key", drive: func(h *harness) { h.toAccounts("sdb") }},
		{name: "accounts_user", drive: func(h *harness) {
			h.typeUser("alex")
			h.Press("tab")
			h.Type("Tr0ub4dor&3-horse")
		}},
		{name: "accounts_empty_password", drive: func(h *harness) {
			h.typeUser("alex")
			h.PressIdle("tab", "tab", "tab", "tab", "tab", "enter")
		}},
		{name: "accounts_bad_input", drive: func(h *harness) {
			h.toAccounts("sdb")
			h.Press("up", "up", "up")
			h.Type("bad_host")
			h.Press("tab", "tab", "tab")
			h.Type("ssh-ed25519 AAAA-not-base64")
			h.PressIdle("enter", "enter")
		}},
		{name: "accounts_timezone_picker", drive: func(h *harness) {
			h.toAccounts("sdb")
			h.Press("up", "up", "enter")
			h.Type("new york")
		}},

		// Summary.
		{name: "summary_empty_disk", opts: demo, drive: func(h *harness) { h.toSummary("demo-disk.img") }},
		{name: "summary_confirm_partial", drive: func(h *harness) {
			h.toSummary("sdb")
			h.Type("sd")
		}},
		{name: "summary_confirm_complete", drive: func(h *harness) {
			h.toSummary("sdb")
			h.Type("sdb")
		}},
		{name: "summary_confirm_wrong_enter", drive: func(h *harness) {
			h.toSummary("sdb")
			h.Type("sda")
			h.PressIdle("enter")
		}},
		{name: "summary_scrolled", drive: func(h *harness) {
			h.toSummary("demo-disk.img")
			h.Press("pgdown")
		}},
		{name: "summary_free_space", drive: func(h *harness) { h.toSummary("nvme1n1") }},
		{name: "summary_plan_error", drive: func(h *harness) {
			h.toPlanError(installer.Errorf(installer.ClassDiskRefused, "pick another disk", "disk /dev/sdb cannot be installed to: it is the live boot medium"))
		}},
		{name: "summary_medium_registry_newer", opts: demo, fake: onMedium(mediumDigest), drive: func(h *harness) {
			h.toSummary("demo-disk.img")
		}},
		{name: "summary_quit_dialog", drive: func(h *harness) {
			h.toSummary("demo-disk.img")
			h.Press("q")
		}},

		// Progress.
		{name: "progress_log_open", opts: demo, fake: hold(upToBootc), drive: func(h *harness) {
			h.toProgress()
			h.Until("bootc at 45%", func() bool { return h.stepState(installer.StepBootc) == "running" && strings.Contains(h.View(), "45%") })
			h.clock.Set(t0.Add(83 * time.Second))
			h.Press("l")
		}},
		{name: "progress_log_closed", opts: demo, fake: hold(upToBootc), drive: func(h *harness) {
			h.toProgress()
			h.Until("bootc at 45%", func() bool { return strings.Contains(h.View(), "45%") })
			h.clock.Set(t0.Add(83 * time.Second))
		}},
		{name: "progress_bytes_eta", opts: demo, fake: func(f *fakeBackend) {
			f.next = make(chan struct{})
			f.install = etaInstall(f.next)
		}, drive: func(h *harness) {
			h.toProgress()
			h.Until("bootc at 45%", func() bool { return strings.Contains(h.View(), "45%") })
			close(h.fake.next)
			h.Until("bootc at 75%", func() bool { return strings.Contains(h.View(), "75%") })
			h.clock.Set(t0.Add(95 * time.Second))
		}},
		{name: "progress_cancel_dialog", fake: hold(preflightOnly), drive: func(h *harness) {
			h.toProgress()
			h.Until("preflight running", func() bool { return h.stepState(installer.StepPreflight) == "running" })
			h.Press("ctrl+c")
		}},
		{name: "progress_too_late_dialog", fake: hold(upToBootc), drive: func(h *harness) {
			h.toProgress()
			h.Until("bootc running", func() bool { return h.stepState(installer.StepBootc) == "running" })
			h.Press("ctrl+c")
		}},

		// Done.
		{name: "done", opts: demo, drive: (*harness).toDone},
		{name: "done_real_disk", fake: func(f *fakeBackend) { f.real = true }, drive: (*harness).toDone},
		{name: "done_reboot_refused", fake: func(f *fakeBackend) {
			f.real = true
			f.powerErr = errors.New("ask logind to reboot: Access denied; run uai as root (polkit refuses others), or reboot by hand")
		}, drive: func(h *harness) {
			h.toDone()
			h.PressIdle("enter")
		}},
		{name: "done_exported", opts: demo, drive: func(h *harness) {
			h.toDone()
			h.PressIdle("e")
		}},
		{name: "done_stopped", fake: func(f *fakeBackend) {
			f.install = func(_ context.Context, p *installer.Plan, sink installer.Sink) error {
				s := &script{sink: sink, at: t0}
				upToBootc(s)
				finishRun(s, p, "stopped after partitioning: run as root to go further")
				return nil
			}
		}, drive: (*harness).toDone},
		{name: "done_help", drive: func(h *harness) {
			h.toDone()
			h.Press("?")
		}},

		// Error.
		{name: "error", fake: failing, drive: (*harness).toError},
		{name: "error_exported", fake: failing, drive: func(h *harness) {
			h.toError()
			h.PressIdle("e")
		}},

		// Answers that leave only the disk to ask.
		{name: "preseed_disk_only", opts: Options{Preseed: &installer.Request{
			EditionID: "fedora-bootc", Interactive: []string{"disk"},
			Root: installer.RootRequest{Locked: true, SSHAuthorizedKeys: []string{testKey}},
		}}, drive: func(h *harness) {}},

		{name: "too_small_terminal", only: [2]int{30, 10}, drive: func(h *harness) {}},
	}
}

func TestGoldenViews(t *testing.T) {
	for _, tc := range goldenCases() {
		sizes := [][2]int{{80, 24}, {120, 40}}
		if tc.only != [2]int{} {
			sizes = [][2]int{tc.only}
		}
		for _, sz := range sizes {
			name := tc.name
			if sz != [2]int{80, 24} {
				name = fmt.Sprintf("%s_%dx%d", tc.name, sz[0], sz[1])
			}
			t.Run(name, func(t *testing.T) {
				f := newFake()
				if tc.fake != nil {
					tc.fake(f)
				}
				h := newHarness(t, f, tc.opts, sz[0], sz[1])
				tc.drive(h)
				checkLayout(t, h, sz[0], sz[1])
				uitest.Golden(t, name, h.View())
			})
		}
	}
}
