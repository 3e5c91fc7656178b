package ui

import (
	"strings"
	"testing"

	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/partition"
)

// A person goes back from every screen that has a before, and the answers
// given there are still there when they come forward again.
func TestBackFromEveryScreen(t *testing.T) {
	cases := []struct {
		name  string
		setup func(h *harness)
		back  Screen
		// kept checks what survived the way back and forward.
		kept func(t *testing.T, h *harness)
	}{
		{name: "network", setup: func(h *harness) { h.toNetwork() }, back: ScreenWelcome},
		{name: "edition", setup: func(h *harness) {
			h.toEdition()
			h.Press("down")
		}, back: ScreenNetwork, kept: wantEdition("bluefin")},
		{name: "disk", setup: func(h *harness) {
			h.toDisk()
			h.Press("down")
		}, back: ScreenEdition, kept: wantDisk("sdb")},
		{name: "storage", setup: func(h *harness) {
			h.toStorage("sdb")
			h.Press("up", "space")
		}, back: ScreenDisk, kept: func(t *testing.T, h *harness) {
			if !h.m.storage.Form().Get("encrypt").Checked {
				t.Error("encryption was forgotten")
			}
		}},
		{name: "accounts", setup: func(h *harness) {
			h.toAccounts("sdb")
			h.Type("ssh-ed25519 half")
		}, back: ScreenStorage, kept: func(t *testing.T, h *harness) {
			h.WantView("ssh-ed25519 half")
		}},
		{name: "summary", setup: func(h *harness) { h.toSummary("sdb") }, back: ScreenAccounts},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, newFake(), Options{}, 80, 24)
			tc.setup(h)
			here := h.m.Screen()
			h.PressIdle("esc")
			h.wantScreen(tc.back)
			if here == ScreenSummary {
				return // forward again is a new review, tested with the summary
			}
			h.PressIdle("enter")
			// Forward lands where we were (the welcome's enter continues;
			// the others' enter chooses what was chosen).
			if here == ScreenStorage || here == ScreenAccounts || here == ScreenNetwork {
				h.wantScreen(here)
			}
			if tc.kept != nil {
				if h.m.Screen() != here {
					// A list screen goes on with enter; come back to look.
					h.PressIdle("esc")
				}
				tc.kept(t, h)
			}
		})
	}
}

// Answers pre-seed the TUI: only the screens of the interactive sections
// are shown, and the rest of the request comes from the answers.
func TestPreseededAnswers(t *testing.T) {
	pre := &installer.Request{
		EditionID: "fedora-bootc", Interactive: []string{"disk", "users"},
		System:  installer.SystemRequest{Hostname: "lab-7", Timezone: "Europe/Paris", Locale: "fr_FR.UTF-8", Keymap: "fr"},
		Storage: installer.StorageRequest{Layout: partition.KindWhole}, Filesystem: "ext4",
		Kargs: []string{"console=ttyS0"},
	}
	h := newHarness(t, newFake(), Options{Preseed: pre}, 80, 24)
	if f := h.m.Flow(); len(f) != 3 || f[0] != ScreenDisk || f[1] != ScreenAccounts || f[2] != ScreenSummary {
		t.Fatalf("flow = %v, want disk, accounts, summary", f)
	}
	h.wantScreen(ScreenDisk)
	h.WantView("Disk > Accounts > Review > Install > Finish")
	h.Press("esc") // nothing before the first screen
	h.Idle()
	h.wantScreen(ScreenDisk)
	h.pickDisk("sdb")
	h.PressIdle("enter")
	h.wantScreen(ScreenAccounts)
	h.WantView("Host name     lab-7", "Time zone     Europe/Paris")
	h.Type(testKey)
	h.PressIdle("enter", "enter")
	h.wantScreen(ScreenSummary)
	r := h.m.Request()
	if r.EditionID != "fedora-bootc" || r.DiskPath != "/dev/sdb" || r.Filesystem != "ext4" || r.System.Keymap != "fr" ||
		r.System.Hostname != "lab-7" || len(r.Kargs) != 1 || len(r.Root.SSHAuthorizedKeys) != 1 {
		t.Errorf("request = %+v", r)
	}
	h.Press("pgdown")
	h.WantView("Language      fr_FR.UTF-8, keyboard fr", "Host name     lab-7")
}

// A disk named by the answers' selector is found among the disks; one that
// matches nothing is asked for on the disk screen, with the reason.
func TestPreseededDiskSelector(t *testing.T) {
	base := installer.Request{EditionID: "fedora-bootc", Interactive: []string{"users"}}
	t.Run("found", func(t *testing.T) {
		pre := base
		pre.Selector = partition.Selector{Model: "Samsung SSD 870"}
		h := newHarness(t, newFake(), Options{Preseed: &pre}, 80, 24)
		h.wantScreen(ScreenAccounts)
		h.Type(testKey)
		h.PressIdle("enter", "enter")
		h.wantScreen(ScreenSummary)
		h.WantView("Type sdb to confirm")
	})
	t.Run("no match", func(t *testing.T) {
		pre := base
		pre.Selector = partition.Selector{Serial: "NOPE"}
		h := newHarness(t, newFake(), Options{Preseed: &pre}, 80, 24)
		h.Type(testKey)
		h.PressIdle("enter", "enter")
		h.wantScreen(ScreenDisk)
		if !strings.Contains(h.View(), "The answer file's disk:") {
			t.Errorf("no reason shown:\n%s", h.View())
		}
		h.pickDisk("sdb")
		h.PressIdle("enter")
		h.wantScreen(ScreenSummary)
	})
}

// The accounts screen edits the first account of the answers and keeps
// the others.
func TestPreseededUsersKept(t *testing.T) {
	pre := &installer.Request{EditionID: "fedora-bootc", DiskPath: "/var/tmp/demo-disk.img", Interactive: []string{"users"},
		Users: []installer.UserRequest{{Name: "qa", Password: "one-pass-word"}, {Name: "ops", SSHAuthorizedKeys: []string{testKey}}}}
	h := newHarness(t, newFake(), Options{Preseed: pre}, 80, 24)
	h.wantScreen(ScreenAccounts)
	h.WantView("User name     qa", "The answer file's 1 other accounts are created as it says.")
	h.Press("up", "up", "up", "up", "up") // to the user name
	h.Press("ctrl+u")
	h.Type("alex")
	h.Press("tab", "ctrl+u")
	h.Type("two-pass-word")
	h.Press("tab", "ctrl+u")
	h.Type("two-pass-word")
	h.PressIdle("tab", "tab", "tab", "enter")
	h.wantScreen(ScreenSummary)
	u := h.m.Request().Users
	if len(u) != 2 || u[0].Name != "alex" || u[0].Password != "two-pass-word" || u[1].Name != "ops" {
		t.Errorf("users = %+v", u)
	}
}
