package ui

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/partition"
)

// keyCase is one key binding on one screen: from the state setup leaves,
// pressing keys must lead to screen and pass check.
type keyCase struct {
	name   string
	fake   func(*fakeBackend)
	setup  func(h *harness)
	keys   []string
	screen Screen
	check  func(t *testing.T, h *harness)
}

// anyScreen skips the screen check, for cases whose check waits.
const anyScreen = Screen(-1)

func runKeyCases(t *testing.T, cases []keyCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			if tc.fake != nil {
				tc.fake(f)
			}
			h := newHarness(t, f, Options{}, 80, 24)
			if tc.setup != nil {
				tc.setup(h)
			}
			for _, k := range tc.keys {
				h.PressIdle(k)
			}
			if !h.Quit && tc.screen != anyScreen {
				h.wantScreen(tc.screen)
			}
			if tc.check != nil {
				tc.check(t, h)
			}
		})
	}
}

func wantEdition(id string) func(*testing.T, *harness) {
	return func(t *testing.T, h *harness) {
		t.Helper()
		e, ok := h.m.edition.Selected()
		if !ok || e.ID != id {
			t.Errorf("edition under cursor = %q (%v), want %q", e.ID, ok, id)
		}
	}
}

func wantDisk(name string) func(*testing.T, *harness) {
	return func(t *testing.T, h *harness) {
		t.Helper()
		d, ok := h.m.disk.Selected()
		if !ok || d.Name != name {
			t.Errorf("disk under cursor = %q (%v), want %q", d.Name, ok, name)
		}
	}
}

func wantQuit(code int) func(*testing.T, *harness) {
	return func(t *testing.T, h *harness) {
		t.Helper()
		if !h.Quit || !h.m.quitting {
			t.Fatalf("program did not quit; screen %s:\n%s", h.m.Screen(), h.View())
		}
		if got := h.m.Result().ExitCode; got != code {
			t.Errorf("exit code = %d, want %d (result %+v)", got, code, h.m.Result())
		}
	}
}

func wantStays(t *testing.T, h *harness) {
	t.Helper()
	if h.Quit {
		t.Fatal("program quit")
	}
	if h.m.dialog != noDialog {
		t.Errorf("a dialog opened:\n%s", h.View())
	}
}

func wantFilter(q string, capturing bool) func(*testing.T, *harness) {
	return func(t *testing.T, h *harness) {
		t.Helper()
		if got := h.m.edition.Filter(); got != q {
			t.Errorf("filter = %q, want %q", got, q)
		}
		if got := h.m.edition.Capturing(); got != capturing {
			t.Errorf("filtering = %v, want %v", got, capturing)
		}
		wantStays(t, h)
	}
}

func wantDialog(d dialog) func(*testing.T, *harness) {
	return func(t *testing.T, h *harness) {
		t.Helper()
		if h.Quit {
			t.Fatal("program quit")
		}
		if h.m.dialog != d {
			t.Errorf("dialog = %d, want %d:\n%s", h.m.dialog, d, h.View())
		}
	}
}

func wantHelp(shown bool) func(*testing.T, *harness) {
	return func(t *testing.T, h *harness) {
		t.Helper()
		if h.m.showHelp != shown {
			t.Errorf("help shown = %v, want %v", h.m.showHelp, shown)
		}
	}
}

func all(checks ...func(*testing.T, *harness)) func(*testing.T, *harness) {
	return func(t *testing.T, h *harness) {
		t.Helper()
		for _, c := range checks {
			c(t, h)
		}
	}
}

func TestWelcomeKeys(t *testing.T) {
	langPicker := func(h *harness) { h.Press("up", "up", "enter") }
	runKeyCases(t, []keyCase{
		{name: "enter on continue goes to the network", keys: []string{"enter"}, screen: ScreenNetwork, check: func(t *testing.T, h *harness) {
			if l := h.m.Request().System; l.Locale != "en_US.UTF-8" || l.Keymap != "us" {
				t.Errorf("locale in the request = %+v", l)
			}
		}},
		{name: "up moves to the keyboard", keys: []string{"up"}, screen: ScreenWelcome, check: func(t *testing.T, h *harness) {
			h.WantView("> Keyboard")
		}},
		{name: "shift+tab moves up too", keys: []string{"shift+tab", "shift+tab"}, screen: ScreenWelcome, check: func(t *testing.T, h *harness) {
			h.WantView("> Language")
		}},
		{name: "tab moves down", keys: []string{"up", "up", "tab"}, screen: ScreenWelcome, check: func(t *testing.T, h *harness) {
			h.WantView("> Keyboard")
		}},
		{name: "enter on language opens the picker", setup: langPicker, screen: ScreenWelcome, check: func(t *testing.T, h *harness) {
			h.WantView("Language  46 of 46", "> English (United States)")
			if !h.m.welcome.Capturing() {
				t.Error("the picker does not have the keyboard")
			}
		}},
		{name: "letters search the picker, q included", setup: langPicker, keys: []string{"q"}, screen: ScreenWelcome, check: func(t *testing.T, h *harness) {
			wantStays(t, h)
			h.WantView("search: q")
		}},
		{name: "arrows move in the picker", setup: langPicker, keys: []string{"down", "down"}, screen: ScreenWelcome, check: func(t *testing.T, h *harness) {
			h.WantView("> English (Canada)")
		}},
		{name: "pgdown moves by ten in the picker", setup: langPicker, keys: []string{"pgdown"}, screen: ScreenWelcome, check: func(t *testing.T, h *harness) {
			h.WantView("> French (Belgium)")
		}},
		{name: "enter picks and sets the live session", setup: func(h *harness) {
			langPicker(h)
			h.Type("japan")
		}, keys: []string{"enter"}, screen: ScreenWelcome, check: func(t *testing.T, h *harness) {
			h.WantView("Language    Japanese (Japan)", "The live session now uses ja_JP.UTF-8")
			if _, l, _, _ := h.fake.recorded(); len(l) != 1 || l[0].Locale != "ja_JP.UTF-8" || l[0].Keymap != "us" {
				t.Errorf("SetLiveLocale got %+v", l)
			}
		}},
		{name: "esc clears the search first", setup: func(h *harness) {
			langPicker(h)
			h.Type("jap")
		}, keys: []string{"esc"}, screen: ScreenWelcome, check: func(t *testing.T, h *harness) {
			h.WantView("Language  46 of 46")
		}},
		{name: "esc closes the picker without a change", setup: langPicker, keys: []string{"down", "esc"}, screen: ScreenWelcome, check: func(t *testing.T, h *harness) {
			h.WantView("Language    English (United States)")
			if _, l, _, _ := h.fake.recorded(); len(l) != 0 {
				t.Errorf("SetLiveLocale called: %+v", l)
			}
		}},
		{name: "the chosen language goes into the request", setup: func(h *harness) {
			langPicker(h)
			h.Type("de_at")
			h.PressIdle("enter")
		}, keys: []string{"down", "down", "enter"}, screen: ScreenNetwork, check: func(t *testing.T, h *harness) {
			if l := h.m.Request().System.Locale; l != "de_AT.UTF-8" {
				t.Errorf("locale = %q", l)
			}
		}},
		{name: "esc does nothing on the first screen", keys: []string{"esc"}, screen: ScreenWelcome, check: wantStays},
		{name: "? shows help", keys: []string{"?"}, screen: ScreenWelcome, check: wantHelp(true)},
		{name: "q quits at once from the first screen", keys: []string{"q"}, check: wantQuit(installer.ClassAborted.ExitCode())},
		{name: "ctrl+c quits at once from the first screen", keys: []string{"ctrl+c"}, check: wantQuit(installer.ClassAborted.ExitCode())},
		{name: "ctrl+c quits from the picker", setup: langPicker, keys: []string{"ctrl+c"}, check: wantQuit(installer.ClassAborted.ExitCode())},
	})
}

func TestNetworkKeys(t *testing.T) {
	toNet := func(h *harness) { h.toNetwork() }
	offline := (*fakeBackend).offline
	runKeyCases(t, []keyCase{
		{name: "enter continues when online", setup: toNet, keys: []string{"enter"}, screen: ScreenEdition},
		{name: "enter does not continue offline", fake: offline, setup: toNet, keys: []string{"enter"}, screen: ScreenNetwork, check: func(t *testing.T, h *harness) {
			h.WantView("No internet yet")
		}},
		{name: "enter continues offline with an offline source", fake: func(f *fakeBackend) {
			f.offline()
			f.machine.Offline = true
		}, setup: toNet, keys: []string{"enter"}, screen: ScreenEdition},
		{name: "down selects a network", fake: offline, setup: toNet, keys: []string{"down"}, screen: ScreenNetwork, check: func(t *testing.T, h *harness) {
			if ap, ok := h.m.network.Selected(); !ok || ap.SSID != "HomeNet" {
				t.Errorf("selected %+v", ap)
			}
		}},
		{name: "j and k move too", fake: offline, setup: toNet, keys: []string{"j", "j", "k"}, screen: ScreenNetwork, check: func(t *testing.T, h *harness) {
			if ap, _ := h.m.network.Selected(); ap.SSID != "HomeNet" {
				t.Errorf("selected %+v", ap)
			}
		}},
		{name: "enter on a secured network asks the passphrase", fake: offline, setup: toNet, keys: []string{"down", "enter"}, screen: ScreenNetwork, check: func(t *testing.T, h *harness) {
			if !h.m.network.Capturing() {
				t.Error("the passphrase field does not have the keyboard")
			}
			h.WantView("Passphrase for HomeNet:")
		}},
		{name: "the passphrase is starred, q and ? included", fake: offline, setup: func(h *harness) {
			h.typePassphrase("q?secret")
		}, screen: ScreenNetwork, check: func(t *testing.T, h *harness) {
			wantStays(t, h)
			wantHelp(false)(t, h)
			h.WantView("Passphrase for HomeNet: ********")
			h.WantNoView("secret")
		}},
		{name: "a wrong passphrase is refused here and asked again", fake: offline, setup: func(h *harness) {
			h.typePassphrase("wrong horse battery")
		}, keys: []string{"enter"}, screen: ScreenNetwork, check: func(t *testing.T, h *harness) {
			h.WantView("HomeNet refused the passphrase", "Passphrase for HomeNet:")
			if !h.m.network.Capturing() {
				t.Error("not asked again")
			}
		}},
		{name: "the right passphrase joins", fake: offline, setup: func(h *harness) {
			h.typePassphrase("correct horse battery")
		}, keys: []string{"enter"}, screen: ScreenNetwork, check: func(t *testing.T, h *harness) {
			h.WantView("Joined HomeNet.", "wlan0 connected to HomeNet", "full: the internet is reachable")
			if j, _, _, _ := h.fake.recorded(); !slices.Equal(j, []string{"HomeNet: ok"}) {
				t.Errorf("joins = %q", j)
			}
		}},
		{name: "joining then continuing records the network", fake: offline, setup: func(h *harness) {
			h.typePassphrase("correct horse battery")
			h.PressIdle("enter")
		}, keys: []string{"up", "enter"}, screen: ScreenEdition, check: func(t *testing.T, h *harness) {
			w := h.m.Request().Network.WiFi
			if len(w) != 1 || w[0].SSID != "HomeNet" || w[0].PSK != "correct horse battery" {
				t.Errorf("wifi in the request = %+v", w)
			}
		}},
		{name: "a short passphrase is refused before asking", fake: offline, setup: func(h *harness) {
			h.typePassphrase("short")
		}, keys: []string{"enter"}, screen: ScreenNetwork, check: func(t *testing.T, h *harness) {
			h.WantView("8 to 63 characters")
			if j, _, _, _ := h.fake.recorded(); len(j) != 0 {
				t.Errorf("NetworkManager was asked: %q", j)
			}
		}},
		{name: "esc closes the passphrase field", fake: offline, setup: func(h *harness) {
			h.toNetwork()
			h.Press("down", "enter")
		}, keys: []string{"esc"}, screen: ScreenNetwork, check: func(t *testing.T, h *harness) {
			if h.m.network.Capturing() {
				t.Error("still asking")
			}
		}},
		{name: "an open network joins without a passphrase", fake: offline, setup: toNet, keys: []string{"down", "down", "down", "enter"}, screen: ScreenNetwork, check: func(t *testing.T, h *harness) {
			h.WantView("Joined CoffeeShop.")
		}},
		{name: "an enterprise network is explained, not joined", fake: offline, setup: toNet, keys: []string{"down", "down", "enter"}, screen: ScreenNetwork, check: func(t *testing.T, h *harness) {
			h.WantView("needs settings uai does not ask for")
		}},
		{name: "r scans again", fake: offline, setup: toNet, keys: []string{"r"}, screen: ScreenNetwork, check: func(t *testing.T, h *harness) {
			h.WantView("HomeNet")
		}},
		{name: "c checks the internet", fake: offline, setup: toNet, keys: []string{"c"}, screen: ScreenNetwork, check: func(t *testing.T, h *harness) {
			h.WantView("Internet   none")
		}},
		{name: "esc goes back to the welcome", setup: toNet, keys: []string{"esc"}, screen: ScreenWelcome},
		{name: "q asks first", setup: toNet, keys: []string{"q"}, screen: ScreenNetwork, check: wantDialog(quitDialog)},
		{name: "? shows help", setup: toNet, keys: []string{"?"}, screen: ScreenNetwork, check: wantHelp(true)},
	})
}

func TestEditionKeys(t *testing.T) {
	typeFilter := func(q string) func(h *harness) {
		return func(h *harness) {
			h.toEdition()
			h.Press("/")
			h.Type(q)
		}
	}
	toEd := func(h *harness) { h.toEdition() }
	runKeyCases(t, []keyCase{
		{name: "down moves", setup: toEd, keys: []string{"down"}, screen: ScreenEdition, check: wantEdition("bluefin")},
		{name: "j moves", setup: toEd, keys: []string{"j"}, screen: ScreenEdition, check: wantEdition("bluefin")},
		{name: "up moves", setup: toEd, keys: []string{"down", "up"}, screen: ScreenEdition, check: wantEdition("fedora-bootc")},
		{name: "k moves", setup: toEd, keys: []string{"j", "k"}, screen: ScreenEdition, check: wantEdition("fedora-bootc")},
		{name: "down stops at the custom image row", setup: toEd, keys: []string{"down", "down", "down", "down"}, screen: ScreenEdition, check: func(t *testing.T, h *harness) {
			if !h.m.edition.OnCustom() {
				t.Error("not on the custom image row")
			}
		}},
		{name: "up stops at the top", setup: toEd, keys: []string{"up"}, screen: ScreenEdition, check: wantEdition("fedora-bootc")},
		{name: "pgdown goes to the end", setup: toEd, keys: []string{"pgdown"}, screen: ScreenEdition, check: func(t *testing.T, h *harness) {
			if !h.m.edition.OnCustom() {
				t.Error("not at the end")
			}
		}},
		{name: "pgup goes to the top", setup: toEd, keys: []string{"pgdown", "pgup"}, screen: ScreenEdition, check: wantEdition("fedora-bootc")},
		{name: "moving looks the image up", setup: toEd, keys: []string{"down"}, screen: ScreenEdition, check: func(t *testing.T, h *harness) {
			h.WantView("Built    2026-03-02 (12 days ago)")
		}},
		{name: "slash starts the filter", setup: toEd, keys: []string{"/"}, screen: ScreenEdition, check: wantFilter("", true)},
		{name: "letters filter", setup: typeFilter("blue"), screen: ScreenEdition, check: all(wantFilter("blue", true), wantEdition("bluefin"))},
		{name: "typing a letter starts the search", setup: toEd, keys: []string{"g", "n"}, screen: ScreenEdition, check: all(wantFilter("gn", true), wantEdition("bluefin"))},
		{name: "filter matches the description", setup: typeFilter("GNOME"), screen: ScreenEdition, check: wantEdition("bluefin")},
		{name: "j is typed while filtering", setup: typeFilter("j"), screen: ScreenEdition, check: wantFilter("j", true)},
		{name: "q is typed while filtering", setup: typeFilter("q"), screen: ScreenEdition, check: wantFilter("q", true)},
		{name: "? is typed while filtering", setup: typeFilter("?"), screen: ScreenEdition, check: all(wantFilter("?", true), wantHelp(false))},
		{name: "backspace edits the filter", setup: typeFilter("bx"), keys: []string{"backspace"}, screen: ScreenEdition, check: wantFilter("b", true)},
		{name: "ctrl+u clears the filter text", setup: typeFilter("blue"), keys: []string{"ctrl+u"}, screen: ScreenEdition, check: wantFilter("", true)},
		{name: "arrows move while filtering", setup: typeFilter("e"), keys: []string{"down"}, screen: ScreenEdition, check: all(wantFilter("e", true), wantEdition("bluefin"))},
		{name: "enter applies the filter", setup: typeFilter("blue"), keys: []string{"enter"}, screen: ScreenEdition, check: wantFilter("blue", false)},
		{name: "enter after applying selects", setup: typeFilter("blue"), keys: []string{"enter", "enter"}, screen: ScreenDisk, check: func(t *testing.T, h *harness) {
			h.WantView("Choose a disk", "for Bluefin, needs at least 40 GiB")
		}},
		{name: "esc while filtering clears it", setup: typeFilter("blue"), keys: []string{"esc"}, screen: ScreenEdition, check: all(wantFilter("", false), wantEdition("bluefin"))},
		{name: "esc clears an applied filter", setup: typeFilter("blue"), keys: []string{"enter", "esc"}, screen: ScreenEdition, check: wantFilter("", false)},
		{name: "esc without a filter goes back", setup: toEd, keys: []string{"esc"}, screen: ScreenNetwork},
		{name: "enter with no match opens the custom image", setup: typeFilter("zzz"), keys: []string{"enter", "enter"}, screen: ScreenEdition, check: func(t *testing.T, h *harness) {
			if !h.m.edition.Capturing() || !h.m.edition.OnCustom() {
				t.Error("the custom image field is not open")
			}
		}},
		{name: "enter selects", setup: toEd, keys: []string{"down", "enter"}, screen: ScreenDisk, check: func(t *testing.T, h *harness) {
			if r := h.m.Request(); r.EditionID != "bluefin" || r.Image != "" {
				t.Errorf("request edition %q image %q, want bluefin", r.EditionID, r.Image)
			}
		}},
		{name: "enter on an edition that does not fit says why and stays", setup: toEd, keys: []string{"down", "down", "enter"}, screen: ScreenEdition, check: func(t *testing.T, h *harness) {
			h.WantView("cannot be installed on this machine: built for arm64")
		}},
		{name: "enter on the custom row opens the field", setup: toEd, keys: []string{"pgdown", "enter"}, screen: ScreenEdition, check: func(t *testing.T, h *harness) {
			if !h.m.edition.Capturing() {
				t.Error("the field is closed")
			}
		}},
		{name: "a ref that is not bootable is refused here", fake: notBootable, setup: func(h *harness) {
			h.typeCustomImage("registry.example.com/team/app:1")
		}, keys: []string{"enter", "enter"}, screen: ScreenEdition, check: func(t *testing.T, h *harness) {
			h.WantView("not bootable")
		}},
		{name: "a bootable ref is checked, then chosen and pinned", fake: customOK, setup: func(h *harness) {
			h.typeCustomImage("registry.example.com/team/os:1")
			h.PressIdle("enter")
		}, keys: []string{"enter"}, screen: ScreenDisk, check: func(t *testing.T, h *harness) {
			r := h.m.Request()
			if r.EditionID != "" || r.Image != "registry.example.com/team/os@sha256:"+strings.Repeat("cd", 32) || r.TargetRef != "registry.example.com/team/os:1" {
				t.Errorf("request image %q target %q", r.Image, r.TargetRef)
			}
		}},
		{name: "changing the ref checks it again", fake: customOK, setup: func(h *harness) {
			h.typeCustomImage("registry.example.com/team/os:1")
			h.PressIdle("enter")
			h.Press("backspace")
			h.Type("2")
		}, keys: []string{"enter"}, screen: ScreenEdition, check: func(t *testing.T, h *harness) {
			h.WantView("registry.example.com/team/os:2")
		}},
		{name: "esc closes the custom field", setup: toEd, keys: []string{"pgdown", "enter", "esc"}, screen: ScreenEdition, check: func(t *testing.T, h *harness) {
			if h.m.edition.Capturing() {
				t.Error("still open")
			}
		}},
		{name: "? shows help", setup: toEd, keys: []string{"?"}, screen: ScreenEdition, check: func(t *testing.T, h *harness) {
			wantHelp(true)(t, h)
			h.WantView("pgup page up", "clear filter")
		}},
		{name: "? again hides help", setup: toEd, keys: []string{"?", "?"}, screen: ScreenEdition, check: wantHelp(false)},
		{name: "q asks first", setup: toEd, keys: []string{"q"}, screen: ScreenEdition, check: wantDialog(quitDialog)},
		{name: "ctrl+c while filtering asks first", setup: typeFilter("x"), keys: []string{"ctrl+c"}, screen: ScreenEdition, check: wantDialog(quitDialog)},
	})
}

func TestDiskKeys(t *testing.T) {
	toDisk := func(h *harness) { h.toDisk() }
	runKeyCases(t, []keyCase{
		{name: "starts on the first usable disk", setup: toDisk, screen: ScreenDisk, check: wantDisk("demo-disk.img")},
		{name: "down moves", setup: toDisk, keys: []string{"down"}, screen: ScreenDisk, check: wantDisk("sdb")},
		{name: "j moves", setup: toDisk, keys: []string{"j"}, screen: ScreenDisk, check: wantDisk("sdb")},
		{name: "up moves", setup: toDisk, keys: []string{"down", "up"}, screen: ScreenDisk, check: wantDisk("demo-disk.img")},
		{name: "k moves", setup: toDisk, keys: []string{"j", "k"}, screen: ScreenDisk, check: wantDisk("demo-disk.img")},
		{name: "pgdown moves by three", setup: toDisk, keys: []string{"pgdown"}, screen: ScreenDisk, check: wantDisk("sdc")},
		{name: "pgup moves by three", setup: toDisk, keys: []string{"pgdown", "pgup"}, screen: ScreenDisk, check: wantDisk("demo-disk.img")},
		{name: "refused disk can be looked at", setup: toDisk, keys: []string{"down", "down"}, screen: ScreenDisk, check: wantDisk("nvme0n1")},
		{name: "enter on a refused disk says why and stays", setup: toDisk, keys: []string{"down", "down", "enter"}, screen: ScreenDisk, check: func(t *testing.T, h *harness) {
			h.WantView("nvme0n1 cannot be used: mounted at /")
		}},
		{name: "enter on a too small disk says why and stays", setup: toDisk, keys: []string{"pgdown", "enter"}, screen: ScreenDisk, check: func(t *testing.T, h *harness) {
			h.WantView("sdc cannot be used: too small: needs 10 GiB")
		}},
		{name: "moving clears the reason", setup: toDisk, keys: []string{"pgdown", "enter", "up"}, screen: ScreenDisk, check: func(t *testing.T, h *harness) {
			h.WantNoView("cannot be used")
		}},
		{name: "enter on a usable disk goes to the storage", setup: toDisk, keys: []string{"down", "enter"}, screen: ScreenStorage, check: func(t *testing.T, h *harness) {
			if r := h.m.Request(); r.DiskPath != "/dev/sdb" {
				t.Errorf("request disk %q", r.DiskPath)
			}
		}},
		{name: "esc goes back to the edition", setup: func(h *harness) {
			h.toEdition()
			h.PressIdle("down", "enter")
		}, keys: []string{"esc"}, screen: ScreenEdition, check: wantEdition("bluefin")},
		{name: "back and forward keeps the disk", setup: toDisk, keys: []string{"down", "esc", "enter"}, screen: ScreenDisk, check: wantDisk("sdb")},
		{name: "r looks for disks again", setup: toDisk, keys: []string{"r"}, screen: ScreenDisk, check: func(t *testing.T, h *harness) {
			h.fake.mu.Lock()
			defer h.fake.mu.Unlock()
			// The root lists them once for the machine summary, the screen
			// twice.
			if h.fake.diskCalls != 3 {
				t.Errorf("Disks called %d times, want 3", h.fake.diskCalls)
			}
		}},
		{name: "q asks first", setup: toDisk, keys: []string{"q"}, screen: ScreenDisk, check: wantDialog(quitDialog)},
		{name: "ctrl+c asks first", setup: toDisk, keys: []string{"ctrl+c"}, screen: ScreenDisk, check: wantDialog(quitDialog)},
		{name: "n keeps going", setup: toDisk, keys: []string{"q", "n"}, screen: ScreenDisk, check: wantStays},
		{name: "esc in the dialog keeps going", setup: toDisk, keys: []string{"q", "esc"}, screen: ScreenDisk, check: wantStays},
		{name: "other keys leave the dialog open", setup: toDisk, keys: []string{"q", "down", "enter"}, screen: ScreenDisk, check: all(wantDialog(quitDialog), wantDisk("demo-disk.img"))},
		{name: "y quits", setup: toDisk, keys: []string{"q", "y"}, check: wantQuit(installer.ClassAborted.ExitCode())},
		{name: "? shows help", setup: toDisk, keys: []string{"?"}, screen: ScreenDisk, check: wantHelp(true)},
	})
}

func TestStorageKeys(t *testing.T) {
	sdb := func(h *harness) { h.toStorage("sdb") }
	windows := func(h *harness) { h.toStorage("nvme1n1") }
	storage := func(t *testing.T, h *harness) installer.StorageRequest {
		t.Helper()
		return h.m.Request().Storage
	}
	runKeyCases(t, []keyCase{
		{name: "enter accepts the defaults", setup: sdb, keys: []string{"enter"}, screen: ScreenAccounts, check: func(t *testing.T, h *harness) {
			if s := storage(t, h); s.Layout != partition.KindWhole || s.Encryption.Enabled || h.m.Request().Filesystem != "xfs" {
				t.Errorf("storage = %+v fs %q", s, h.m.Request().Filesystem)
			}
		}},
		{name: "a disk with Windows and room keeps it by default", setup: windows, keys: []string{"enter"}, screen: ScreenAccounts, check: func(t *testing.T, h *harness) {
			if s := storage(t, h); s.Layout != partition.KindFree {
				t.Errorf("layout = %q, want free", s.Layout)
			}
		}},
		{name: "left and right change the layout", setup: windows, keys: []string{"up", "up", "up", "up", "up", "left", "enter", "enter", "enter", "enter", "enter"}, screen: ScreenAccounts, check: func(t *testing.T, h *harness) {
			if s := storage(t, h); s.Layout != partition.KindWhole {
				t.Errorf("layout = %q, want whole", s.Layout)
			}
		}},
		{name: "a disabled layout cannot be chosen", setup: sdb, keys: []string{"up", "up", "up", "up", "right"}, screen: ScreenStorage, check: func(t *testing.T, h *harness) {
			if v := h.m.storage.Form().Get("layout").Current(); v != partition.KindWhole {
				t.Errorf("layout = %q", v)
			}
		}},
		{name: "space cycles the filesystem", setup: sdb, keys: []string{"up", "up", "up", "space", "space", "tab", "tab", "tab", "enter"}, screen: ScreenAccounts, check: func(t *testing.T, h *harness) {
			if fs := h.m.Request().Filesystem; fs != "btrfs" {
				t.Errorf("filesystem = %q", fs)
			}
		}},
		{name: "a root size is kept", setup: func(h *harness) {
			h.typeRootSize("40GiB")
		}, keys: []string{"tab", "tab", "enter"}, screen: ScreenAccounts, check: func(t *testing.T, h *harness) {
			if n := storage(t, h).RootSizeBytes; n != 40*gib {
				t.Errorf("root = %d", n)
			}
		}},
		{name: "a root size that is not one is refused here", setup: func(h *harness) {
			h.typeRootSize("lots")
		}, keys: []string{"tab", "tab", "enter"}, screen: ScreenStorage, check: func(t *testing.T, h *harness) {
			h.WantView(`"lots" is not a size`)
		}},
		{name: "space on encryption shows the passphrase fields", setup: sdb, keys: []string{"up", "space"}, screen: ScreenStorage, check: func(t *testing.T, h *harness) {
			h.WantView("Passphrase", "Repeat it", "TPM2")
		}},
		{name: "no TPM2 offered without one", fake: func(f *fakeBackend) { f.machine.TPM2 = false }, setup: sdb, keys: []string{"up", "space"}, screen: ScreenStorage, check: func(t *testing.T, h *harness) {
			h.WantNoView("TPM2")
		}},
		{name: "encryption with a passphrase and TPM2", setup: func(h *harness) {
			h.toStorage("sdb")
			h.Press("up", "space", "tab")
			h.Type("correct horse battery staple")
			h.Press("tab")
			h.Type("correct horse battery staple")
			h.Press("tab", "space")
		}, keys: []string{"tab", "enter"}, screen: ScreenAccounts, check: func(t *testing.T, h *harness) {
			e := storage(t, h).Encryption
			if !e.Enabled || !e.TPM2 || e.Passphrase != "correct horse battery staple" {
				t.Errorf("encryption = %+v", e)
			}
		}},
		{name: "a short passphrase is refused here", setup: func(h *harness) {
			h.toStorage("sdb")
			h.Press("up", "space", "tab")
			h.Type("short")
			h.Press("tab")
			h.Type("short")
		}, keys: []string{"tab", "tab", "enter"}, screen: ScreenStorage, check: func(t *testing.T, h *harness) {
			h.WantView("use at least 8")
		}},
		{name: "the layout is checked by planning it", fake: func(f *fakeBackend) {
			f.planCheck = func(r installer.Request) error {
				if r.Storage.RootSizeBytes > 100*gib {
					return installer.Errorf(installer.ClassDiskRefused, "", "root does not fit")
				}
				return nil
			}
		}, setup: func(h *harness) {
			h.typeRootSize("200GiB")
		}, keys: []string{"tab", "tab", "enter"}, screen: ScreenStorage, check: func(t *testing.T, h *harness) {
			h.WantView("this layout cannot be planned: root does not fit")
		}},
		{name: "esc goes back to the disk", setup: sdb, keys: []string{"esc"}, screen: ScreenDisk, check: wantDisk("sdb")},
		{name: "back and forward keeps the choices", setup: func(h *harness) {
			h.toStorage("sdb")
			h.Press("up", "up", "up", "right")
		}, keys: []string{"esc", "enter"}, screen: ScreenStorage, check: func(t *testing.T, h *harness) {
			if fs := h.m.storage.Form().Get("filesystem").Current(); fs != "ext4" {
				t.Errorf("filesystem = %q", fs)
			}
		}},
		{name: "another disk starts afresh", setup: func(h *harness) {
			h.toStorage("sdb")
			h.Press("up", "up", "up", "right")
		}, keys: []string{"esc", "up", "enter"}, screen: ScreenStorage, check: func(t *testing.T, h *harness) {
			if fs := h.m.storage.Form().Get("filesystem").Current(); fs != "xfs" {
				t.Errorf("filesystem = %q", fs)
			}
		}},
		{name: "q is typed in a text field", setup: sdb, keys: []string{"up", "up", "q"}, screen: ScreenStorage, check: wantStays},
		{name: "q asks first elsewhere", setup: sdb, keys: []string{"q"}, screen: ScreenStorage, check: wantDialog(quitDialog)},
		{name: "? shows help", setup: sdb, keys: []string{"?"}, screen: ScreenStorage, check: wantHelp(true)},
	})
}

func TestAccountsKeys(t *testing.T) {
	acc := func(h *harness) { h.toAccounts("sdb") }
	asUser := func(h *harness) { h.typeUser("alex") }
	runKeyCases(t, []keyCase{
		{name: "a server edition starts with root and a key", setup: acc, screen: ScreenAccounts, check: func(t *testing.T, h *harness) {
			h.WantView("(*) root, with an SSH key only", "> Root SSH key")
		}},
		{name: "a key for root goes on", setup: func(h *harness) {
			acc(h)
			h.Type(testKey)
		}, keys: []string{"enter", "enter"}, screen: ScreenSummary, check: func(t *testing.T, h *harness) {
			r := h.m.Request().Root
			if !r.Locked || len(r.SSHAuthorizedKeys) != 1 || r.SSHAuthorizedKeys[0] != testKey || len(h.m.Request().Users) != 0 {
				t.Errorf("root = %+v users %+v", r, h.m.Request().Users)
			}
		}},
		{name: "no key for root is refused here", setup: acc, keys: []string{"enter", "enter"}, screen: ScreenAccounts, check: func(t *testing.T, h *harness) {
			h.WantView("paste the public key")
		}},
		{name: "a user with a password", setup: func(h *harness) {
			h.typePasswords("alex", "Tr0ub4dor&3-horse", "Tr0ub4dor&3-horse")
		}, keys: []string{"tab", "tab", "tab", "enter"}, screen: ScreenSummary, check: func(t *testing.T, h *harness) {
			u := h.m.Request().Users
			if len(u) != 1 || u[0].Name != "alex" || u[0].Password != "Tr0ub4dor&3-horse" || !slices.Equal(u[0].Groups, []string{"wheel"}) {
				t.Errorf("users = %+v", u)
			}
			h.WantNoView("Tr0ub4dor")
		}},
		{name: "a user with a key and no password", setup: func(h *harness) {
			asUser(h)
			h.Press("tab", "tab", "tab")
			h.Type(testKey)
			h.Press("tab", "space")
		}, keys: []string{"tab", "enter"}, screen: ScreenSummary, check: func(t *testing.T, h *harness) {
			u := h.m.Request().Users
			if len(u) != 1 || u[0].Password != "" || len(u[0].SSHAuthorizedKeys) != 1 || len(u[0].Groups) != 0 {
				t.Errorf("users = %+v", u)
			}
		}},
		{name: "an empty password is refused here", setup: asUser, keys: []string{"tab", "tab", "tab", "tab", "tab", "enter"}, screen: ScreenAccounts, check: func(t *testing.T, h *harness) {
			h.WantView("the password is empty")
		}},
		{name: "different passwords are refused here", setup: func(h *harness) {
			h.typePasswords("alex", "one-password", "another-one")
		}, keys: []string{"tab", "tab", "tab", "enter"}, screen: ScreenAccounts, check: func(t *testing.T, h *harness) {
			h.WantView("the two passwords differ")
		}},
		{name: "a user called root is refused", setup: func(h *harness) {
			h.typePasswords("root", "pw-pw-pw-pw", "pw-pw-pw-pw")
		}, keys: []string{"tab", "tab", "tab", "enter"}, screen: ScreenAccounts, check: func(t *testing.T, h *harness) {
			h.WantView("root is not a user of its own")
		}},
		{name: "a bad host name is refused with the answers' words", setup: func(h *harness) {
			acc(h)
			h.Type(testKey)
			h.Press("up", "up", "up")
			h.Type("no_underscores")
		}, keys: []string{"tab", "tab", "tab", "tab", "enter"}, screen: ScreenAccounts, check: func(t *testing.T, h *harness) {
			h.WantView(`"no_underscores" is not a valid hostname`)
		}},
		{name: "enter on the time zone opens the search", setup: acc, keys: []string{"up", "up", "enter"}, screen: ScreenAccounts, check: func(t *testing.T, h *harness) {
			h.WantView("Time zone  5 of 5")
		}},
		{name: "a time zone is searched and picked", setup: func(h *harness) {
			acc(h)
			h.Press("up", "up", "enter")
			h.Type("berlin")
			h.Press("enter", "down", "down")
			h.Type(testKey)
		}, keys: []string{"enter", "enter"}, screen: ScreenSummary, check: func(t *testing.T, h *harness) {
			if z := h.m.Request().System.Timezone; z != "Europe/Berlin" {
				t.Errorf("timezone = %q", z)
			}
		}},
		{name: "esc goes back to the storage", setup: acc, keys: []string{"esc"}, screen: ScreenStorage},
		{name: "q is typed in a field", setup: acc, keys: []string{"q"}, screen: ScreenAccounts, check: wantStays},
		{name: "ctrl+c asks first", setup: acc, keys: []string{"ctrl+c"}, screen: ScreenAccounts, check: wantDialog(quitDialog)},
	})
}

func TestSummaryKeys(t *testing.T) {
	empty := func(h *harness) { h.toSummary("demo-disk.img") }
	full := func(h *harness) { h.toSummary("sdb") }
	installedDisk := func(path string) func(*testing.T, *harness) {
		return func(t *testing.T, h *harness) {
			t.Helper()
			h.Until("Install to be called", func() bool { return len(h.fake.installedPlans()) == 1 })
			if got := h.fake.installedPlans()[0].Disk.Path; got != path {
				t.Errorf("Install got a plan for %s, want %s", got, path)
			}
		}
	}
	notInstalled := func(t *testing.T, h *harness) {
		t.Helper()
		wantStays(t, h)
		if n := len(h.fake.installedPlans()); n != 0 {
			t.Errorf("Install called %d times", n)
		}
	}
	wantTyped := func(s string) func(*testing.T, *harness) {
		return func(t *testing.T, h *harness) {
			t.Helper()
			h.WantView("Type sdb to confirm: " + s + " ")
		}
	}
	runKeyCases(t, []keyCase{
		{name: "enter installs on an empty disk", fake: hold(preflightOnly), setup: empty, keys: []string{"enter"}, screen: ScreenProgress, check: installedDisk("/var/tmp/demo-disk.img")},
		{name: "esc goes back to the accounts", setup: full, keys: []string{"esc"}, screen: ScreenAccounts},
		{name: "esc twice goes back to the storage of the same disk", setup: empty, keys: []string{"esc", "esc"}, screen: ScreenStorage},
		{name: "pgdown scrolls the plan", setup: empty, keys: []string{"pgdown"}, screen: ScreenSummary, check: func(t *testing.T, h *harness) {
			h.WantView("more lines above", "Root          no password")
		}},
		{name: "pgdown twice shows the command", setup: empty, keys: []string{"pgdown", "pgdown"}, screen: ScreenSummary, check: func(t *testing.T, h *harness) {
			h.WantView("--target-imgref quay.io/fedora/fedora-bootc:44")
		}},
		{name: "pgup scrolls back", setup: empty, keys: []string{"pgdown", "pgup"}, screen: ScreenSummary, check: func(t *testing.T, h *harness) {
			h.WantView("Edition       Fedora bootc")
			h.WantNoView("more lines above")
		}},
		{name: "down scrolls a line", setup: empty, keys: []string{"down"}, screen: ScreenSummary, check: func(t *testing.T, h *harness) {
			h.WantView("^ 2 more lines above")
		}},
		{name: "j scrolls a line", setup: empty, keys: []string{"j", "j"}, screen: ScreenSummary, check: func(t *testing.T, h *harness) {
			h.WantView("^ 3 more lines above")
		}},
		{name: "up and k scroll back", setup: empty, keys: []string{"j", "j", "up", "k"}, screen: ScreenSummary, check: func(t *testing.T, h *harness) {
			h.WantNoView("more lines above")
		}},
		{name: "q asks first", setup: empty, keys: []string{"q"}, screen: ScreenSummary, check: wantDialog(quitDialog)},
		{name: "y quits without installing", setup: empty, keys: []string{"q", "y"}, check: all(wantQuit(installer.ClassAborted.ExitCode()), func(t *testing.T, h *harness) {
			if n := len(h.fake.installedPlans()); n != 0 {
				t.Errorf("Install called %d times", n)
			}
		})},
		{name: "? shows help", setup: empty, keys: []string{"?"}, screen: ScreenSummary, check: wantHelp(true)},

		{name: "enter without the name does not install", setup: full, keys: []string{"enter"}, screen: ScreenSummary, check: func(t *testing.T, h *harness) {
			notInstalled(t, h)
			h.WantView("type sdb exactly to confirm")
		}},
		{name: "a wrong name does not install", setup: func(h *harness) {
			full(h)
			h.Type("sda")
		}, keys: []string{"enter"}, screen: ScreenSummary, check: notInstalled},
		{name: "a partial name does not install", setup: func(h *harness) {
			full(h)
			h.Type("sd")
		}, keys: []string{"enter"}, screen: ScreenSummary, check: notInstalled},
		{name: "the name and enter install", fake: hold(preflightOnly), setup: func(h *harness) {
			full(h)
			h.Type("sdb")
		}, keys: []string{"enter"}, screen: ScreenProgress, check: installedDisk("/dev/sdb")},
		{name: "backspace corrects the name", fake: hold(preflightOnly), setup: func(h *harness) {
			full(h)
			h.Type("sdbx")
		}, keys: []string{"backspace", "enter"}, screen: ScreenProgress, check: installedDisk("/dev/sdb")},
		{name: "ctrl+u clears the name", setup: func(h *harness) {
			full(h)
			h.Type("sdb")
		}, keys: []string{"ctrl+u", "enter"}, screen: ScreenSummary, check: notInstalled},
		{name: "q is typed, not quit", setup: full, keys: []string{"q"}, screen: ScreenSummary, check: all(wantStays, wantTyped("q"))},
		{name: "? is typed, not help", setup: full, keys: []string{"?"}, screen: ScreenSummary, check: all(wantHelp(false), wantTyped("?"))},
		{name: "j is typed, not scrolled", setup: full, keys: []string{"j"}, screen: ScreenSummary, check: all(wantTyped("j"), func(t *testing.T, h *harness) {
			h.WantNoView("more lines above")
		})},
		{name: "arrows still scroll while typing", setup: full, keys: []string{"down"}, screen: ScreenSummary, check: func(t *testing.T, h *harness) {
			h.WantView("more lines above")
		}},
		{name: "ctrl+c asks first while typing", setup: full, keys: []string{"ctrl+c"}, screen: ScreenSummary, check: wantDialog(quitDialog)},
		{name: "esc goes back while typing", setup: func(h *harness) {
			full(h)
			h.Type("sd")
		}, keys: []string{"esc"}, screen: ScreenAccounts},
		{name: "the confirmation starts empty after coming back", setup: func(h *harness) {
			full(h)
			h.Type("sdb")
			h.PressIdle("esc")
		}, keys: []string{"enter"}, screen: ScreenSummary, check: notInstalled},

		{name: "a plan error stays on the screen", setup: func(h *harness) {
			h.toPlanError(installer.Errorf(installer.ClassInvalidInput, "", "edition fedora-bootc has no image for riscv64"))
		}, keys: []string{"enter"}, screen: ScreenSummary, check: func(t *testing.T, h *harness) {
			notInstalled(t, h)
			h.WantView("could not plan the install: edition fedora-bootc has no image for riscv64")
		}},
		{name: "r plans again after an error", setup: func(h *harness) {
			h.toPlanError(installer.Errorf(installer.ClassInvalidInput, "", "no image"))
		}, keys: []string{"r"}, screen: ScreenSummary, check: func(t *testing.T, h *harness) {
			if n := len(h.fake.planChoices()); n != 3 {
				t.Errorf("Plan called %d times, want 3 (storage check, review, again)", n)
			}
		}},
		{name: "esc goes back after an error", setup: func(h *harness) {
			h.toPlanError(installer.Errorf(installer.ClassInvalidInput, "", "no image"))
		}, keys: []string{"esc"}, screen: ScreenAccounts},
	})
}

func TestProgressKeys(t *testing.T) {
	before := func(h *harness) {
		h.toProgress()
		h.Until("preflight running", func() bool { return h.stepState(installer.StepPreflight) == "running" })
	}
	after := func(h *harness) {
		h.toProgress()
		h.Until("bootc running", func() bool { return h.stepState(installer.StepBootc) == "running" })
	}
	runKeyCases(t, []keyCase{
		{name: "l opens the log", fake: hold(upToBootc), setup: after, keys: []string{"l"}, screen: ScreenProgress, check: func(t *testing.T, h *harness) {
			if !h.m.progress.LogShown() {
				t.Error("log pane closed")
			}
			h.WantView("Log  last 7 of 7 lines", "Initializing ostree layout")
		}},
		{name: "l again closes it", fake: hold(upToBootc), setup: after, keys: []string{"l", "l"}, screen: ScreenProgress, check: func(t *testing.T, h *harness) {
			if h.m.progress.LogShown() {
				t.Error("log pane open")
			}
		}},
		{name: "esc does nothing", fake: hold(preflightOnly), setup: before, keys: []string{"esc"}, screen: ScreenProgress, check: wantStays},
		{name: "enter does nothing", fake: hold(preflightOnly), setup: before, keys: []string{"enter"}, screen: ScreenProgress, check: wantStays},
		{name: "? shows help", fake: hold(preflightOnly), setup: before, keys: []string{"?"}, screen: ScreenProgress, check: wantHelp(true)},
		{name: "ctrl+c before partitioning asks to cancel", fake: hold(preflightOnly), setup: before, keys: []string{"ctrl+c"}, screen: ScreenProgress, check: func(t *testing.T, h *harness) {
			wantDialog(cancelDialog)(t, h)
			h.WantView("Nothing has been written to /dev/sdb yet")
		}},
		{name: "q before partitioning asks to cancel", fake: hold(preflightOnly), setup: before, keys: []string{"q"}, screen: ScreenProgress, check: wantDialog(cancelDialog)},
		{name: "n keeps installing", fake: hold(preflightOnly), setup: before, keys: []string{"ctrl+c", "n"}, screen: ScreenProgress, check: wantStays},
		{name: "y cancels and quits once the engine stops", fake: hold(preflightOnly), setup: before, keys: []string{"ctrl+c", "y"}, screen: anyScreen, check: func(t *testing.T, h *harness) {
			h.Until("the program to quit", func() bool { return h.Quit })
			wantQuit(installer.ClassAborted.ExitCode())(t, h)
			if h.m.Result().Class != "aborted" {
				t.Errorf("class = %q, want aborted", h.m.Result().Class)
			}
		}},
		{name: "ctrl+c after partitioning explains it is too late", fake: hold(upToBootc), setup: after, keys: []string{"ctrl+c"}, screen: ScreenProgress, check: func(t *testing.T, h *harness) {
			wantDialog(tooLateDialog)(t, h)
			h.WantView("cannot be cancelled now")
		}},
		{name: "y does not cancel when it is too late", fake: hold(upToBootc), setup: after, keys: []string{"ctrl+c", "y"}, screen: ScreenProgress, check: wantDialog(tooLateDialog)},
		{name: "esc closes the too-late note", fake: hold(upToBootc), setup: after, keys: []string{"ctrl+c", "esc"}, screen: ScreenProgress, check: wantStays},
		{name: "enter closes the too-late note", fake: hold(upToBootc), setup: after, keys: []string{"q", "enter"}, screen: ScreenProgress, check: wantStays},
	})
}

func TestDoneKeys(t *testing.T) {
	toDone := func(h *harness) { h.toDone() }
	real := func(f *fakeBackend) { f.real = true }
	wantAction := func(a string) func(*testing.T, *harness) {
		return func(t *testing.T, h *harness) {
			t.Helper()
			if got := h.m.Action(); got != a {
				t.Errorf("action = %q, want %q", got, a)
			}
		}
	}
	wantPower := func(calls ...string) func(*testing.T, *harness) {
		return func(t *testing.T, h *harness) {
			t.Helper()
			if _, _, p, _ := h.fake.recorded(); !slices.Equal(p, calls) {
				t.Errorf("power calls = %q, want %q", p, calls)
			}
		}
	}
	runKeyCases(t, []keyCase{
		{name: "enter exits after a simulated install", setup: toDone, keys: []string{"enter"}, check: all(wantQuit(0), wantAction(ActionExit), wantPower(), func(t *testing.T, h *harness) {
			r := h.m.Result()
			if r.Disk != "/dev/sdb" || r.Edition != "fedora-bootc" || len(r.Completed) != 8 {
				t.Errorf("result = %+v", r)
			}
		})},
		{name: "enter reboots after a real install", fake: real, setup: toDone, keys: []string{"enter"}, check: all(wantQuit(0), wantAction(ActionReboot), wantPower("reboot"))},
		{name: "r reboots", fake: real, setup: toDone, keys: []string{"r"}, check: all(wantQuit(0), wantAction(ActionReboot), wantPower("reboot"))},
		{name: "p powers off", fake: real, setup: toDone, keys: []string{"p"}, check: all(wantQuit(0), wantAction(ActionPowerOff), wantPower("poweroff"))},
		{name: "a refused reboot is said here and the screen stays", fake: func(f *fakeBackend) {
			f.real = true
			f.powerErr = errors.New("ask logind to reboot: Access denied")
		}, setup: toDone, keys: []string{"r"}, screen: ScreenDone, check: func(t *testing.T, h *harness) {
			wantStays(t, h)
			h.WantView("Access denied")
		}},
		{name: "r is not offered for a simulated install", setup: toDone, keys: []string{"r"}, screen: ScreenDone, check: all(wantStays, wantPower(), func(t *testing.T, h *harness) {
			h.WantView("Reboot into the new system is not offered")
		})},
		{name: "down and up move", fake: real, setup: toDone, keys: []string{"down", "down", "up"}, screen: ScreenDone, check: func(t *testing.T, h *harness) {
			if a := h.m.done.Selected(); a != ActionPowerOff {
				t.Errorf("selected %q", a)
			}
		}},
		{name: "s leaves for a shell", setup: toDone, keys: []string{"s"}, check: all(wantQuit(0), wantAction(ActionShell))},
		{name: "e saves the answers, secrets and all, through the backend", setup: toDone, keys: []string{"e"}, screen: ScreenDone, check: func(t *testing.T, h *harness) {
			_, _, _, ex := h.fake.recorded()
			if len(ex) != 1 || ex[0].EditionID != "fedora-bootc" || ex[0].DiskPath != "/dev/sdb" || !ex[0].Wipe || len(ex[0].Root.SSHAuthorizedKeys) != 1 {
				t.Errorf("exported %+v", ex)
			}
			h.WantView("Saved the answers to /tmp/uai-answers-test.toml")
		}},
		{name: "q exits at once", setup: toDone, keys: []string{"q"}, check: all(wantQuit(0), wantAction(ActionExit))},
		{name: "ctrl+c exits at once", setup: toDone, keys: []string{"ctrl+c"}, check: wantQuit(0)},
		{name: "esc does nothing", setup: toDone, keys: []string{"esc"}, screen: ScreenDone, check: wantStays},
		{name: "? shows help", setup: toDone, keys: []string{"?"}, screen: ScreenDone, check: wantHelp(true)},
	})
}

func TestErrorKeys(t *testing.T) {
	toError := func(disk string) func(h *harness) {
		return func(h *harness) {
			h.toSummary(disk)
			if disk == "sdb" {
				h.Type("sdb")
			}
			h.Press("enter")
			h.Until("the error screen", func() bool { return h.m.Screen() == ScreenError })
		}
	}
	failing := func(f *fakeBackend) { f.install = failingInstall }
	runKeyCases(t, []keyCase{
		{name: "r retries with a fresh plan", fake: failing, setup: toError("sdb"), keys: []string{"r"}, screen: ScreenSummary, check: func(t *testing.T, h *harness) {
			if n := len(h.fake.planChoices()); n != 3 {
				t.Errorf("Plan called %d times, want 3 (storage check, review, retry)", n)
			}
			h.WantView("Type sdb to confirm:")
		}},
		{name: "a retry demands the name even for a disk that was empty", fake: failing, setup: toError("demo-disk.img"), keys: []string{"r", "enter"}, screen: ScreenSummary, check: func(t *testing.T, h *harness) {
			h.WantView("Type demo-disk.img to confirm:")
			c := h.fake.planChoices()
			if !c[len(c)-1].Wipe {
				t.Error("the plan of the retry does not allow the wipe")
			}
			if n := len(h.fake.installedPlans()); n != 1 {
				t.Errorf("Install called %d times, want 1", n)
			}
		}},
		{name: "esc goes back to the choices", fake: failing, setup: toError("sdb"), keys: []string{"esc"}, screen: ScreenAccounts},
		{name: "back to the choices, then forward, reviews afresh", fake: failing, setup: toError("sdb"), keys: []string{"esc", "enter"}, screen: ScreenSummary, check: func(t *testing.T, h *harness) {
			h.WantView("Type sdb to confirm:")
		}},
		{name: "e saves the answers", fake: failing, setup: toError("sdb"), keys: []string{"e"}, screen: ScreenError, check: func(t *testing.T, h *harness) {
			h.WantView("Saved the answers")
		}},
		{name: "enter does nothing", fake: failing, setup: toError("sdb"), keys: []string{"enter"}, screen: ScreenError, check: wantStays},
		{name: "q asks first", fake: failing, setup: toError("sdb"), keys: []string{"q"}, screen: ScreenError, check: func(t *testing.T, h *harness) {
			wantDialog(quitDialog)(t, h)
			h.WantView("exits with code 6")
		}},
		{name: "y quits with the failure's exit code", fake: failing, setup: toError("sdb"), keys: []string{"q", "y"}, check: all(wantQuit(installer.ClassInstallFailed.ExitCode()), func(t *testing.T, h *harness) {
			if r := h.m.Result(); r.Class != "install-failed" || !strings.Contains(r.Error, "connection reset by peer") {
				t.Errorf("result = %+v", r)
			}
		})},
		{name: "? shows help", fake: failing, setup: toError("sdb"), keys: []string{"?"}, screen: ScreenError, check: wantHelp(true)},
	})
}
