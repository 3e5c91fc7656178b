package ui

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/ui/internal/uitest"
)

// observer records the model's screen and text as the program sees them.
// It runs as the program's message filter, on the program's goroutine, so
// it reads the model without racing Update.
type observer struct {
	mu     sync.Mutex
	screen Screen
	view   string
}

// ping makes the program run the filter, so the observation is fresh.
type ping struct{}

func (o *observer) filter(m tea.Model, msg tea.Msg) tea.Msg {
	if mm, ok := m.(Model); ok {
		o.mu.Lock()
		o.screen, o.view = mm.Screen(), ansi.Strip(mm.render())
		o.mu.Unlock()
	}
	return msg
}

func (o *observer) get() (Screen, string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.screen, o.view
}

// flow runs the real program (Init, commands on goroutines, renderer) on
// a virtual terminal.
type flow struct {
	t   *testing.T
	tm  *teatest.TestModel
	obs *observer
}

func newFlow(t *testing.T, f *fakeBackend) *flow {
	obs := &observer{}
	tm := teatest.NewTestModel(t, New(f, Options{Demo: true, Simulated: true}),
		teatest.WithInitialTermSize(80, 24),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii), tea.WithFilter(obs.filter)),
	)
	return &flow{t: t, tm: tm, obs: obs}
}

// waitFor waits until the program shows screen s with every text in subs.
func (fl *flow) waitFor(s Screen, subs ...string) {
	fl.t.Helper()
	teatest.WaitFor(fl.t, fl.tm.Output(), func([]byte) bool {
		fl.tm.Send(ping{})
		screen, view := fl.obs.get()
		if screen != s {
			return false
		}
		for _, sub := range subs {
			if !strings.Contains(view, sub) {
				return false
			}
		}
		return true
	}, teatest.WithDuration(15*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
}

func (fl *flow) key(k string) { fl.tm.Send(uitest.Key(k)) }

func (fl *flow) final() Model {
	fl.t.Helper()
	m, ok := fl.tm.FinalModel(fl.t, teatest.WithFinalTimeout(15*time.Second)).(Model)
	if !ok {
		fl.t.Fatal("final model is not a ui.Model")
	}
	return m
}

func TestFlowInstall(t *testing.T) {
	f := newFake()
	f.offline()
	release := make(chan struct{})
	f.install = holdAfter(upToBootc, release, func(s *script, p *installer.Plan) error {
		finishRun(s, p, "")
		return nil
	})
	fl := newFlow(t, f)

	fl.waitFor(ScreenWelcome, "Welcome to uai", "[DEMO]", "UEFI, Secure Boot on")
	fl.key("enter")
	fl.waitFor(ScreenNetwork, "HomeNet")
	fl.key("down")
	fl.key("enter")
	fl.waitFor(ScreenNetwork, "Passphrase for HomeNet")
	fl.tm.Type("correct horse battery")
	fl.key("enter")
	fl.waitFor(ScreenNetwork, "Joined HomeNet.")
	fl.key("up")
	fl.key("enter")
	fl.waitFor(ScreenEdition, "Fedora bootc", "days ago")
	fl.key("enter")
	fl.waitFor(ScreenDisk, "Samsung SSD 870")
	fl.key("down")
	fl.waitFor(ScreenDisk, "> /dev/sdb")
	fl.key("enter")
	fl.waitFor(ScreenStorage, "the whole disk (128 GiB)")
	fl.key("enter")
	fl.waitFor(ScreenAccounts, "Root SSH key")
	fl.tm.Type(testKey)
	fl.key("enter")
	fl.key("enter")
	fl.waitFor(ScreenSummary, "Type sdb to confirm")
	fl.tm.Type("sdb")
	fl.waitFor(ScreenSummary, "confirmed: enter erases sdb")
	fl.key("enter")
	fl.waitFor(ScreenProgress, "45%", "simulated")
	close(release)
	fl.waitFor(ScreenDone, "Installed Fedora bootc")
	fl.key("enter")

	m := fl.final()
	r := m.Result()
	if r.ExitCode != 0 || r.Disk != "/dev/sdb" || r.Edition != "fedora-bootc" || !r.Simulated || m.Action() != ActionExit {
		t.Errorf("result = %+v, action %q; want a simulated install of fedora-bootc on /dev/sdb, then exit", r, m.Action())
	}
	plans := f.installedPlans()
	if len(plans) != 1 {
		t.Fatalf("Install called %d times, want 1", len(plans))
	}
	p := plans[0]
	if p.Disk.Path != "/dev/sdb" || !p.Wipe || p.Edition.ID != "fedora-bootc" {
		t.Errorf("Install got a plan for %s (wipe %v, edition %s), want /dev/sdb with wipe for fedora-bootc", p.Disk.Path, p.Wipe, p.Edition.ID)
	}
	c := f.planChoices()
	last := c[len(c)-1]
	if last.EditionID != "fedora-bootc" || last.DiskPath != "/dev/sdb" || !last.Wipe || len(last.Network.WiFi) != 1 || last.Root.SSHAuthorizedKeys[0] != testKey {
		t.Errorf("the reviewed request = %+v", last)
	}
	// The runner choice gets the size of the image the registry reported.
	if last.ImageSizeBytes != 1900<<20 {
		t.Errorf("the reviewed request's image size = %d, want %d", last.ImageSizeBytes, 1900<<20)
	}
	if j, _, _, _ := f.recorded(); !slices.Equal(j, []string{"HomeNet: ok"}) {
		t.Errorf("joins = %q", j)
	}
}

func TestFlowInstallFailsThenRetry(t *testing.T) {
	f := newFake()
	f.install = failingInstall
	fl := newFlow(t, f)

	fl.waitFor(ScreenWelcome, "Welcome to uai")
	fl.key("enter")
	fl.waitFor(ScreenNetwork, "the internet is reachable")
	fl.key("enter")
	fl.waitFor(ScreenEdition, "Fedora bootc")
	fl.key("enter")
	fl.waitFor(ScreenDisk, "Samsung SSD 870")
	fl.key("enter") // demo-disk.img, the empty disk
	fl.waitFor(ScreenStorage, "which is empty")
	fl.key("enter")
	fl.waitFor(ScreenAccounts, "Root SSH key")
	fl.tm.Type(testKey)
	fl.key("enter")
	fl.key("enter")
	fl.waitFor(ScreenSummary, "demo-disk.img is empty")
	fl.key("enter")
	fl.waitFor(ScreenError, "Install failed", "connection reset by peer", "Last log lines")
	fl.key("r")
	// The disk was empty before, but the failed run wrote to it: the wipe
	// must now be confirmed by name.
	fl.waitFor(ScreenSummary, "Type demo-disk.img to confirm")
	fl.key("ctrl+c")
	fl.waitFor(ScreenSummary, "Quit the installer?", "exits with code 6")
	fl.key("y")

	m := fl.final()
	if r := m.Result(); r.ExitCode != installer.ClassInstallFailed.ExitCode() || r.Class != "install-failed" {
		t.Errorf("result = %+v, want the failed install's", r)
	}
	if n := len(f.installedPlans()); n != 1 {
		t.Errorf("Install called %d times, want 1", n)
	}
	c := f.planChoices()
	if len(c) != 3 || c[1].Wipe || !c[2].Wipe {
		t.Errorf("Plan got %d requests (wipe %v), want the storage check, a review without wipe and a retry with", len(c), c)
	}
}
