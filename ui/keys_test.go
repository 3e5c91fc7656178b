package ui

import (
	"context"
	"strings"
	"testing"

	"github.com/universal-atomic-installer/uai/installer"
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
				h.press(k)
				h.idle()
			}
			if !h.quit && tc.screen != anyScreen {
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
		if !h.quit || !h.m.quitting {
			t.Fatalf("program did not quit; screen %s:\n%s", h.m.Screen(), h.view())
		}
		if got := h.m.Result().ExitCode; got != code {
			t.Errorf("exit code = %d, want %d (result %+v)", got, code, h.m.Result())
		}
	}
}

func wantStays(t *testing.T, h *harness) {
	t.Helper()
	if h.quit {
		t.Fatal("program quit")
	}
	if h.m.dialog != noDialog {
		t.Errorf("a dialog opened:\n%s", h.view())
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
		if h.quit {
			t.Fatal("program quit")
		}
		if h.m.dialog != d {
			t.Errorf("dialog = %d, want %d:\n%s", h.m.dialog, d, h.view())
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

func TestEditionKeys(t *testing.T) {
	typeFilter := func(q string) func(h *harness) {
		return func(h *harness) {
			h.press("/")
			h.typeText(q)
		}
	}
	runKeyCases(t, []keyCase{
		{name: "down moves", keys: []string{"down"}, screen: ScreenEdition, check: wantEdition("bluefin")},
		{name: "j moves", keys: []string{"j"}, screen: ScreenEdition, check: wantEdition("bluefin")},
		{name: "up moves", keys: []string{"down", "up"}, screen: ScreenEdition, check: wantEdition("fedora-bootc")},
		{name: "k moves", keys: []string{"j", "k"}, screen: ScreenEdition, check: wantEdition("fedora-bootc")},
		{name: "down stops at the end", keys: []string{"down", "down", "down"}, screen: ScreenEdition, check: wantEdition("bluefin")},
		{name: "up stops at the top", keys: []string{"up"}, screen: ScreenEdition, check: wantEdition("fedora-bootc")},
		{name: "pgdown goes to the end", keys: []string{"pgdown"}, screen: ScreenEdition, check: wantEdition("bluefin")},
		{name: "pgup goes to the top", keys: []string{"pgdown", "pgup"}, screen: ScreenEdition, check: wantEdition("fedora-bootc")},
		{name: "slash starts the filter", keys: []string{"/"}, screen: ScreenEdition, check: wantFilter("", true)},
		{name: "letters filter", setup: typeFilter("blue"), screen: ScreenEdition, check: all(wantFilter("blue", true), wantEdition("bluefin"))},
		{name: "filter matches the description", setup: typeFilter("GNOME"), screen: ScreenEdition, check: wantEdition("bluefin")},
		{name: "j is typed while filtering", setup: typeFilter("j"), screen: ScreenEdition, check: wantFilter("j", true)},
		{name: "q is typed while filtering", setup: typeFilter("q"), screen: ScreenEdition, check: wantFilter("q", true)},
		{name: "? is typed while filtering", setup: typeFilter("?"), screen: ScreenEdition, check: all(wantFilter("?", true), wantHelp(false))},
		{name: "backspace edits the filter", setup: typeFilter("bx"), keys: []string{"backspace"}, screen: ScreenEdition, check: wantFilter("b", true)},
		{name: "ctrl+u clears the filter text", setup: typeFilter("blue"), keys: []string{"ctrl+u"}, screen: ScreenEdition, check: wantFilter("", true)},
		{name: "arrows move while filtering", setup: typeFilter("e"), keys: []string{"down"}, screen: ScreenEdition, check: all(wantFilter("e", true), wantEdition("bluefin"))},
		{name: "enter applies the filter", setup: typeFilter("blue"), keys: []string{"enter"}, screen: ScreenEdition, check: wantFilter("blue", false)},
		{name: "enter after applying selects", setup: typeFilter("blue"), keys: []string{"enter", "enter"}, screen: ScreenDisk, check: func(t *testing.T, h *harness) {
			h.wantView("Choose a disk", "for Bluefin, needs at least 40 GiB")
		}},
		{name: "esc while filtering clears it", setup: typeFilter("blue"), keys: []string{"esc"}, screen: ScreenEdition, check: all(wantFilter("", false), wantEdition("bluefin"))},
		{name: "esc clears an applied filter", setup: typeFilter("blue"), keys: []string{"enter", "esc"}, screen: ScreenEdition, check: wantFilter("", false)},
		{name: "esc without a filter does nothing", keys: []string{"esc"}, screen: ScreenEdition, check: all(wantStays, wantEdition("fedora-bootc"))},
		{name: "enter with no match does nothing", setup: typeFilter("zzz"), keys: []string{"enter", "enter"}, screen: ScreenEdition, check: wantFilter("zzz", false)},
		{name: "enter selects", keys: []string{"down", "enter"}, screen: ScreenDisk, check: func(t *testing.T, h *harness) {
			if h.m.chosenEdition.ID != "bluefin" {
				t.Errorf("chosen edition = %q, want bluefin", h.m.chosenEdition.ID)
			}
		}},
		{name: "? shows help", keys: []string{"?"}, screen: ScreenEdition, check: func(t *testing.T, h *harness) {
			wantHelp(true)(t, h)
			h.wantView("pgup page up", "clear filter")
		}},
		{name: "? again hides help", keys: []string{"?", "?"}, screen: ScreenEdition, check: wantHelp(false)},
		{name: "q quits at once", keys: []string{"q"}, check: wantQuit(installer.ClassAborted.ExitCode())},
		{name: "ctrl+c quits at once", keys: []string{"ctrl+c"}, check: wantQuit(installer.ClassAborted.ExitCode())},
		{name: "ctrl+c quits while filtering", setup: typeFilter("x"), keys: []string{"ctrl+c"}, check: wantQuit(installer.ClassAborted.ExitCode())},
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
			h.wantView("nvme0n1 cannot be used: mounted at /")
			if len(h.fake.planChoices()) != 0 {
				t.Error("a refused disk reached Plan")
			}
		}},
		{name: "enter on a too small disk says why and stays", setup: toDisk, keys: []string{"pgdown", "enter"}, screen: ScreenDisk, check: func(t *testing.T, h *harness) {
			h.wantView("sdc cannot be used: too small: needs 10 GiB")
		}},
		{name: "moving clears the reason", setup: toDisk, keys: []string{"pgdown", "enter", "up"}, screen: ScreenDisk, check: func(t *testing.T, h *harness) {
			h.wantNoView("cannot be used")
		}},
		{name: "enter on a usable disk goes to the summary", setup: toDisk, keys: []string{"down", "enter"}, screen: ScreenSummary, check: func(t *testing.T, h *harness) {
			c := h.fake.planChoices()
			if len(c) != 1 || c[0] != (Choice{EditionID: "fedora-bootc", DiskPath: "/dev/sdb", Wipe: true}) {
				t.Errorf("Plan got %+v, want one choice of /dev/sdb with wipe", c)
			}
		}},
		{name: "enter on an empty disk plans without wipe", setup: toDisk, keys: []string{"enter"}, screen: ScreenSummary, check: func(t *testing.T, h *harness) {
			c := h.fake.planChoices()
			if len(c) != 1 || c[0].Wipe || c[0].DiskPath != "/var/tmp/demo-disk.img" {
				t.Errorf("Plan got %+v, want the demo disk without wipe", c)
			}
		}},
		{name: "esc goes back to the edition", setup: func(h *harness) {
			h.press("down")
			h.toDisk()
		}, keys: []string{"esc"}, screen: ScreenEdition, check: wantEdition("bluefin")},
		{name: "r looks for disks again", setup: toDisk, keys: []string{"r"}, screen: ScreenDisk, check: func(t *testing.T, h *harness) {
			if h.fake.diskCalls != 2 {
				t.Errorf("Disks called %d times, want 2", h.fake.diskCalls)
			}
		}},
		{name: "r retries after an error", fake: func(f *fakeBackend) { f.disksErr = context.DeadlineExceeded }, setup: func(h *harness) {
			h.toDisk()
			h.fake.mu.Lock()
			h.fake.disksErr = nil
			h.fake.mu.Unlock()
		}, keys: []string{"r"}, screen: ScreenDisk, check: wantDisk("demo-disk.img")},
		{name: "keys wait while loading", fake: func(f *fakeBackend) { f.disksGate = make(chan struct{}) }, setup: func(h *harness) {
			h.press("enter")
			h.until("the disk screen", func() bool { return h.m.Screen() == ScreenDisk })
			h.press("down", "down", "enter")
			if !h.m.disk.Loading() || h.m.Screen() != ScreenDisk {
				h.t.Fatalf("keys acted while loading:\n%s", h.view())
			}
			close(h.fake.disksGate)
			h.idle()
		}, screen: ScreenDisk, check: wantDisk("demo-disk.img")},
		{name: "esc goes back while loading", fake: func(f *fakeBackend) { f.disksGate = make(chan struct{}) }, setup: func(h *harness) {
			h.press("enter")
			h.until("the disk screen", func() bool { return h.m.Screen() == ScreenDisk })
			h.press("esc")
			h.until("the edition screen", func() bool { return h.m.Screen() == ScreenEdition })
			close(h.fake.disksGate)
		}, screen: ScreenEdition},
		{name: "q asks first", setup: toDisk, keys: []string{"q"}, screen: ScreenDisk, check: wantDialog(quitDialog)},
		{name: "ctrl+c asks first", setup: toDisk, keys: []string{"ctrl+c"}, screen: ScreenDisk, check: wantDialog(quitDialog)},
		{name: "n keeps going", setup: toDisk, keys: []string{"q", "n"}, screen: ScreenDisk, check: wantStays},
		{name: "esc in the dialog keeps going", setup: toDisk, keys: []string{"q", "esc"}, screen: ScreenDisk, check: wantStays},
		{name: "other keys leave the dialog open", setup: toDisk, keys: []string{"q", "down", "enter"}, screen: ScreenDisk, check: all(wantDialog(quitDialog), wantDisk("demo-disk.img"))},
		{name: "y quits", setup: toDisk, keys: []string{"q", "y"}, check: wantQuit(installer.ClassAborted.ExitCode())},
		{name: "? shows help", setup: toDisk, keys: []string{"?"}, screen: ScreenDisk, check: wantHelp(true)},
	})
}

func TestSummaryKeys(t *testing.T) {
	empty := func(h *harness) { h.toSummary("demo-disk.img") }
	full := func(h *harness) { h.toSummary("sdb") }
	installedDisk := func(path string) func(*testing.T, *harness) {
		return func(t *testing.T, h *harness) {
			t.Helper()
			h.until("Install to be called", func() bool { return len(h.fake.installedPlans()) == 1 })
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
			h.wantView("Type sdb to confirm: " + s + " ")
		}
	}
	runKeyCases(t, []keyCase{
		{name: "enter installs on an empty disk", fake: hold(preflightOnly), setup: empty, keys: []string{"enter"}, screen: ScreenProgress, check: installedDisk("/var/tmp/demo-disk.img")},
		{name: "esc goes back to the disk", setup: full, keys: []string{"esc"}, screen: ScreenDisk, check: wantDisk("sdb")},
		{name: "esc goes back from an empty disk", setup: empty, keys: []string{"esc"}, screen: ScreenDisk, check: wantDisk("demo-disk.img")},
		{name: "pgdown scrolls the plan", setup: empty, keys: []string{"pgdown"}, screen: ScreenSummary, check: func(t *testing.T, h *harness) {
			h.wantView("more lines above", "--target-imgref quay.io/fedora/fedora-bootc:44")
		}},
		{name: "pgup scrolls back", setup: empty, keys: []string{"pgdown", "pgup"}, screen: ScreenSummary, check: func(t *testing.T, h *harness) {
			h.wantView("Edition       Fedora bootc")
			h.wantNoView("more lines above")
		}},
		{name: "down scrolls a line", setup: empty, keys: []string{"down"}, screen: ScreenSummary, check: func(t *testing.T, h *harness) {
			h.wantView("^ 2 more lines above")
		}},
		{name: "j scrolls a line", setup: empty, keys: []string{"j", "j"}, screen: ScreenSummary, check: func(t *testing.T, h *harness) {
			h.wantView("^ 3 more lines above")
		}},
		{name: "up and k scroll back", setup: empty, keys: []string{"j", "j", "up", "k"}, screen: ScreenSummary, check: func(t *testing.T, h *harness) {
			h.wantNoView("more lines above")
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
			h.wantView("type sdb exactly to confirm")
		}},
		{name: "a wrong name does not install", setup: func(h *harness) {
			full(h)
			h.typeText("sda")
		}, keys: []string{"enter"}, screen: ScreenSummary, check: notInstalled},
		{name: "a partial name does not install", setup: func(h *harness) {
			full(h)
			h.typeText("sd")
		}, keys: []string{"enter"}, screen: ScreenSummary, check: notInstalled},
		{name: "the name and enter install", fake: hold(preflightOnly), setup: func(h *harness) {
			full(h)
			h.typeText("sdb")
		}, keys: []string{"enter"}, screen: ScreenProgress, check: installedDisk("/dev/sdb")},
		{name: "backspace corrects the name", fake: hold(preflightOnly), setup: func(h *harness) {
			full(h)
			h.typeText("sdbx")
		}, keys: []string{"backspace", "enter"}, screen: ScreenProgress, check: installedDisk("/dev/sdb")},
		{name: "ctrl+u clears the name", setup: func(h *harness) {
			full(h)
			h.typeText("sdb")
		}, keys: []string{"ctrl+u", "enter"}, screen: ScreenSummary, check: notInstalled},
		{name: "q is typed, not quit", setup: full, keys: []string{"q"}, screen: ScreenSummary, check: all(wantStays, wantTyped("q"))},
		{name: "? is typed, not help", setup: full, keys: []string{"?"}, screen: ScreenSummary, check: all(wantHelp(false), wantTyped("?"))},
		{name: "j is typed, not scrolled", setup: full, keys: []string{"j"}, screen: ScreenSummary, check: all(wantTyped("j"), func(t *testing.T, h *harness) {
			h.wantNoView("more lines above")
		})},
		{name: "arrows still scroll while typing", setup: full, keys: []string{"down"}, screen: ScreenSummary, check: func(t *testing.T, h *harness) {
			h.wantView("more lines above")
		}},
		{name: "ctrl+c asks first while typing", setup: full, keys: []string{"ctrl+c"}, screen: ScreenSummary, check: wantDialog(quitDialog)},
		{name: "esc goes back while typing", setup: func(h *harness) {
			full(h)
			h.typeText("sd")
		}, keys: []string{"esc"}, screen: ScreenDisk},
		{name: "the confirmation starts empty after coming back", setup: func(h *harness) {
			full(h)
			h.typeText("sdb")
			h.press("esc")
			h.idle()
		}, keys: []string{"enter"}, screen: ScreenSummary, check: notInstalled},

		{name: "a plan error stays on the screen", fake: func(f *fakeBackend) {
			f.planErr = installer.Errorf(installer.ClassInvalidInput, "", "edition fedora-bootc has no image for riscv64")
		}, setup: full, keys: []string{"enter"}, screen: ScreenSummary, check: func(t *testing.T, h *harness) {
			notInstalled(t, h)
			h.wantView("could not plan the install: edition fedora-bootc has no image for riscv64")
		}},
		{name: "r plans again after an error", fake: func(f *fakeBackend) {
			f.planErr = installer.Errorf(installer.ClassInvalidInput, "", "no image")
		}, setup: full, keys: []string{"r"}, screen: ScreenSummary, check: func(t *testing.T, h *harness) {
			if n := len(h.fake.planChoices()); n != 2 {
				t.Errorf("Plan called %d times, want 2", n)
			}
		}},
		{name: "esc goes back after an error", fake: func(f *fakeBackend) {
			f.planErr = installer.Errorf(installer.ClassInvalidInput, "", "no image")
		}, setup: full, keys: []string{"esc"}, screen: ScreenDisk},
	})
}

// hold returns a fake setup whose install runs prefix and then waits.
func hold(prefix func(*script)) func(*fakeBackend) {
	return func(f *fakeBackend) { f.install = holdAfter(prefix, make(chan struct{}), nil) }
}

func preflightOnly(s *script) {
	s.step(installer.StepPreflight, "Check the machine, the disk and the programs", false)
}

func TestProgressKeys(t *testing.T) {
	before := func(h *harness) {
		h.toProgress()
		h.until("preflight running", func() bool { return h.stepState(installer.StepPreflight) == "running" })
	}
	after := func(h *harness) {
		h.toProgress()
		h.until("bootc running", func() bool { return h.stepState(installer.StepBootc) == "running" })
	}
	runKeyCases(t, []keyCase{
		{name: "l opens the log", fake: hold(upToBootc), setup: after, keys: []string{"l"}, screen: ScreenProgress, check: func(t *testing.T, h *harness) {
			if !h.m.progress.LogShown() {
				t.Error("log pane closed")
			}
			h.wantView("Log  last 7 of 7 lines", "Initializing ostree layout")
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
			h.wantView("Nothing has been written to /dev/sdb yet")
		}},
		{name: "q before partitioning asks to cancel", fake: hold(preflightOnly), setup: before, keys: []string{"q"}, screen: ScreenProgress, check: wantDialog(cancelDialog)},
		{name: "n keeps installing", fake: hold(preflightOnly), setup: before, keys: []string{"ctrl+c", "n"}, screen: ScreenProgress, check: wantStays},
		{name: "y cancels and quits once the engine stops", fake: hold(preflightOnly), setup: before, keys: []string{"ctrl+c", "y"}, screen: anyScreen, check: func(t *testing.T, h *harness) {
			h.until("the program to quit", func() bool { return h.quit })
			wantQuit(installer.ClassAborted.ExitCode())(t, h)
			if h.m.Result().Class != "aborted" {
				t.Errorf("class = %q, want aborted", h.m.Result().Class)
			}
		}},
		{name: "ctrl+c after partitioning explains it is too late", fake: hold(upToBootc), setup: after, keys: []string{"ctrl+c"}, screen: ScreenProgress, check: func(t *testing.T, h *harness) {
			wantDialog(tooLateDialog)(t, h)
			h.wantView("cannot be cancelled now")
		}},
		{name: "y does not cancel when it is too late", fake: hold(upToBootc), setup: after, keys: []string{"ctrl+c", "y"}, screen: ScreenProgress, check: wantDialog(tooLateDialog)},
		{name: "esc closes the too-late note", fake: hold(upToBootc), setup: after, keys: []string{"ctrl+c", "esc"}, screen: ScreenProgress, check: wantStays},
		{name: "enter closes the too-late note", fake: hold(upToBootc), setup: after, keys: []string{"q", "enter"}, screen: ScreenProgress, check: wantStays},
	})
}

func TestDoneKeys(t *testing.T) {
	toDone := func(h *harness) {
		h.toProgress()
		h.until("the done screen", func() bool { return h.m.Screen() == ScreenDone })
	}
	runKeyCases(t, []keyCase{
		{name: "enter exits with the result", setup: toDone, keys: []string{"enter"}, check: all(wantQuit(0), func(t *testing.T, h *harness) {
			r := h.m.Result()
			if r.Disk != "/dev/sdb" || r.Edition != "fedora-bootc" || len(r.Completed) != 6 {
				t.Errorf("result = %+v", r)
			}
		})},
		{name: "q exits at once", setup: toDone, keys: []string{"q"}, check: wantQuit(0)},
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
				h.typeText("sdb")
			}
			h.press("enter")
			h.until("the error screen", func() bool { return h.m.Screen() == ScreenError })
		}
	}
	failing := func(f *fakeBackend) { f.install = failingInstall }
	runKeyCases(t, []keyCase{
		{name: "esc goes back to a fresh plan", fake: failing, setup: toError("sdb"), keys: []string{"esc"}, screen: ScreenSummary, check: func(t *testing.T, h *harness) {
			if n := len(h.fake.planChoices()); n != 2 {
				t.Errorf("Plan called %d times, want 2", n)
			}
			h.wantView("Type sdb to confirm:")
		}},
		{name: "back after a failure demands the name even for a disk that was empty", fake: failing, setup: toError("demo-disk.img"), keys: []string{"esc", "enter"}, screen: ScreenSummary, check: func(t *testing.T, h *harness) {
			h.wantView("Type demo-disk.img to confirm:")
			c := h.fake.planChoices()
			if !c[len(c)-1].Wipe {
				t.Error("second plan does not allow the wipe")
			}
			if n := len(h.fake.installedPlans()); n != 1 {
				t.Errorf("Install called %d times, want 1", n)
			}
		}},
		{name: "enter does nothing", fake: failing, setup: toError("sdb"), keys: []string{"enter"}, screen: ScreenError, check: wantStays},
		{name: "q asks first", fake: failing, setup: toError("sdb"), keys: []string{"q"}, screen: ScreenError, check: func(t *testing.T, h *harness) {
			wantDialog(quitDialog)(t, h)
			h.wantView("exits with code 6")
		}},
		{name: "y quits with the failure's exit code", fake: failing, setup: toError("sdb"), keys: []string{"q", "y"}, check: all(wantQuit(installer.ClassInstallFailed.ExitCode()), func(t *testing.T, h *harness) {
			if r := h.m.Result(); r.Class != "install-failed" || !strings.Contains(r.Error, "connection reset by peer") {
				t.Errorf("result = %+v", r)
			}
		})},
		{name: "? shows help", fake: failing, setup: toError("sdb"), keys: []string{"?"}, screen: ScreenError, check: wantHelp(true)},
	})
}
