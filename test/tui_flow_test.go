package test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/universal-atomic-installer/uai/installer/system/fakebus"
	"github.com/universal-atomic-installer/uai/test/internal/loopdev"
	"github.com/universal-atomic-installer/uai/test/internal/ocitest"
)

// tuiKey is a public key the accounts screen accepts.
const tuiKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJwb8uu/ZTvQUXRGTuvR8EV3f236J5kMnW+NO11WLIfi qa@fixture"

// systemBus starts a private dbus-daemon for the uai process to use as its
// system bus, puts the fakes export makes on it, and returns its address.
func systemBus(t *testing.T, export func(*dbus.Conn) error) string {
	t.Helper()
	loopdev.RequireTools(t, "dbus-daemon")
	cmd := exec.Command("dbus-daemon", "--session", "--nofork", "--nopidfile", "--print-address=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("read the bus address: %v", err)
	}
	addr := strings.TrimSpace(line)
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if export != nil {
		if err := export(conn); err != nil {
			t.Fatal(err)
		}
	}
	return addr
}

// tuiRun is the uai TUI in tmux, on a private system bus, with its
// temporary files (the log, the answers) in a directory of the test.
type tuiRun struct {
	*tmuxSession
	dir, img, tmp string
}

func startTUI(t *testing.T, bus string, width, height int, extra string) *tuiRun {
	t.Helper()
	dir := t.TempDir()
	r := &tuiRun{dir: dir, img: sparseImage(t, dir, 64<<30), tmp: filepath.Join(dir, "tmp")}
	if err := os.Mkdir(r.tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := fmt.Sprintf("DBUS_SYSTEM_BUS_ADDRESS=%s TMPDIR=%s NO_COLOR=1 %s install --demo --target %s --target-dir %s %s; echo UAI-EXIT=$?; sleep 60",
		bus, r.tmp, uaiBin, r.img, filepath.Join(dir, "target"), extra)
	r.tmuxSession = newTmux(t, width, height, cmd)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("last screen:\n%s", r.screen())
		}
	})
	return r
}

// toReview walks from the edition to the review with the defaults, root
// logging in with tuiKey.
func (r *tuiRun) toReview(t *testing.T) {
	t.Helper()
	r.waitFor("Choose an edition", 10*time.Second)
	r.waitFor("> Fedora bootc 44", 5*time.Second)
	r.keys("Enter")
	r.waitFor("Choose a disk", 5*time.Second)
	r.keys("Enter")
	r.waitFor("How to use the disk", 5*time.Second)
	r.keys("Enter")
	r.waitFor("The installed system", 10*time.Second)
}

// finish installs from the review and waits for the end.
func (r *tuiRun) finish(t *testing.T) {
	t.Helper()
	r.waitFor("Press enter to install", 10*time.Second)
	r.keys("Enter")
	if isRoot() {
		r.waitFor("Installed Fedora bootc 44", 90*time.Second)
	} else {
		// An ordinary user's demo stops after partitioning and says why.
		r.waitFor("Stopped early", 60*time.Second)
	}
}

// A person's whole install on a machine with a cable plugged in: the
// welcome says so, the network screen lets them on at once, and the
// install survives the terminal being resized while it runs.
func TestTUIWiredInstallInTmux(t *testing.T) {
	nm := &fakebus.NetworkManager{Wired: true, WiredConnected: true}
	bus := systemBus(t, func(c *dbus.Conn) error {
		return errors.Join(nm.Export(c),
			(&fakebus.Timedated{Zones: []string{"Europe/Berlin", "UTC"}, Current: "UTC"}).Export(c))
	})
	r := startTUI(t, bus, 80, 24, "")
	scr := r.waitFor("Welcome to uai", 10*time.Second)
	for _, w := range []string{"wired eth0 connected", "[simulated bootc]", "Step 1 of 9"} {
		if !strings.Contains(scr, w) {
			t.Errorf("welcome lacks %q:\n%s", w, scr)
		}
	}
	r.keys("Enter")
	r.waitFor("Continue: the internet is reachable", 10*time.Second)
	r.keys("Enter")
	r.toReview(t)
	r.keys(tuiKey, "Enter", "Enter")
	scr = r.waitFor("Press enter to install", 10*time.Second)
	for _, w := range []string{"EFI-SYSTEM", "512 MiB", "SIMULATED", "is empty: nothing is lost"} {
		if !strings.Contains(scr, w) {
			t.Errorf("review lacks %q:\n%s", w, scr)
		}
	}
	r.keys("Enter")
	r.waitFor("Installing Fedora bootc 44", 10*time.Second)
	// Resize mid-progress: wider, then smaller than the layout's minimum
	// (the screen says so), then back.
	r.run("resize-window", "-t", "t", "-x", "120", "-y", "40")
	r.waitFor("Welcome > Network > Edition", 5*time.Second)
	r.run("resize-window", "-t", "t", "-x", "30", "-y", "10")
	r.waitFor("of at least 40x12", 5*time.Second)
	r.run("resize-window", "-t", "t", "-x", "80", "-y", "24")
	if isRoot() {
		r.waitFor("Installed Fedora bootc 44", 90*time.Second)
	} else {
		r.waitFor("Stopped early", 60*time.Second)
	}
	r.keys("q")
	r.waitFor("UAI-EXIT=0", 10*time.Second)
	if got := len(sfdisk(t, r.img).PartitionTable.Partitions); got != 3 {
		t.Fatalf("the image holds %d partitions after the install, want 3", got)
	}
	if m := mountedUnder(t, r.dir); len(m) > 0 {
		t.Fatalf("left mounted: %v", m)
	}
	if l := loopsFor(t, r.img); l != "" {
		t.Fatalf("loop device left attached: %s", l)
	}
	logs, _ := filepath.Glob(filepath.Join(r.tmp, "uai-install-*.jsonl"))
	if len(logs) != 1 {
		t.Fatalf("the TUI wrote %d logs in TMPDIR, want 1", len(logs))
	}
}

// The Wi-Fi way in: a wrong passphrase is refused on the network screen and
// asked again, the right one joins; a user with a password is made. No
// passphrase or password reaches the log or the saved answers.
func TestTUIWiFiInstallInTmux(t *testing.T) {
	const psk, password = "correct horse battery", "pw-secret-42"
	nm := &fakebus.NetworkManager{WiFi: true, APs: []fakebus.AccessPoint{
		{SSID: "HomeNet", Strength: 82, Security: "WPA2", Passphrase: psk},
		{SSID: "CoffeeShop", Strength: 40, Security: "open"},
	}}
	bus := systemBus(t, nm.Export)
	r := startTUI(t, bus, 80, 24, "")
	r.waitFor("Welcome to uai", 10*time.Second)
	r.keys("Enter")
	r.waitFor("HomeNet", 10*time.Second)
	r.keys("Down", "Enter")
	r.waitFor("Passphrase for HomeNet:", 5*time.Second)
	r.keys("wrong horse battery", "Enter")
	r.waitFor("HomeNet refused the passphrase", 15*time.Second)
	r.keys(psk, "Enter")
	r.waitFor("Joined HomeNet.", 15*time.Second)
	r.waitFor("wlan0 connected to HomeNet", 5*time.Second)
	r.keys("Up", "Enter")
	r.toReview(t)
	// A user of one's own instead of root with a key.
	r.keys("Up", "Left", "Down", "alex", "Tab", password, "Tab", password, "Tab", "Tab", "Tab", "Enter")
	scr := r.waitFor("Press enter to install", 10*time.Second)
	if strings.Contains(scr, password) {
		t.Fatalf("the review shows the password:\n%s", scr)
	}
	r.finish(t)
	r.keys("e")
	r.waitFor("Saved the answers to", 10*time.Second)
	r.keys("q")
	r.waitFor("UAI-EXIT=0", 10*time.Second)

	if got := nm.Attempts(); !slices.Equal(got, []string{"HomeNet: refused", "HomeNet: ok"}) {
		t.Errorf("NetworkManager was asked %q", got)
	}
	files, _ := filepath.Glob(filepath.Join(r.tmp, "uai-*"))
	var exported string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{psk, password} {
			if strings.Contains(string(b), secret) {
				t.Errorf("%s holds the secret %q", filepath.Base(f), secret)
			}
		}
		if strings.HasPrefix(filepath.Base(f), "uai-answers-") {
			exported = string(b)
		}
	}
	for _, w := range []string{`ssid = "HomeNet"`, `psk = "<redacted>"`, `name = "alex"`, `password = "<redacted>"`, `groups = ["wheel"]`, `edition = "fedora-bootc-44"`} {
		if !strings.Contains(exported, w) {
			t.Errorf("the saved answers lack %s:\n%s", w, exported)
		}
	}
}

// pushImage writes a small image for this machine's architecture with the
// given labels, made two days ago, to ref.
func pushImage(t *testing.T, ref string, labels map[string]string) {
	t.Helper()
	img := ocitest.Image(t, 1024, 1, ocitest.Platform("linux", runtime.GOARCH), ocitest.Labels(labels),
		ocitest.Created(time.Now().Add(-48*time.Hour)))
	ocitest.Push(t, ref, img)
}

// A custom image that is not a bootc image is refused on the edition
// screen, before anything else is asked; a bootc one is checked and shown.
func TestTUICustomImageInTmux(t *testing.T) {
	host := ocitest.Registry(t)
	pushImage(t, host+"/team/app:1", map[string]string{"org.opencontainers.image.title": "app"})
	pushImage(t, host+"/team/os:1", map[string]string{"containers.bootc": "1"})
	bus := systemBus(t, nil)
	r := startTUI(t, bus, 100, 30, "")
	r.waitFor("Welcome to uai", 10*time.Second)
	r.keys("Enter")
	r.waitFor("uai cannot manage the network here", 10*time.Second)
	r.keys("Enter")
	r.waitFor("Choose an edition", 10*time.Second)
	r.keys("NPage", "Enter")
	r.waitFor("Image ref:", 5*time.Second)
	r.keys(host+"/team/app:1", "Enter")
	r.waitFor("not bootable", 20*time.Second)
	r.keys("Enter") // enter again does not go on with it
	time.Sleep(300 * time.Millisecond)
	if scr := r.screen(); !strings.Contains(scr, "Choose an edition") {
		t.Fatalf("a refused image went on:\n%s", scr)
	}
	r.keys("C-u", host+"/team/os:1", "Enter")
	r.waitFor("ok: a bootable image (containers.bootc=1)", 20*time.Second)
	r.keys("Enter")
	r.waitFor("for "+host+"/team/os:1", 10*time.Second)
	r.waitFor("/disk.img", 10*time.Second)
	r.keys("Enter")
	r.waitFor("How to use the disk", 10*time.Second)
	r.keys("Enter")
	r.waitFor("The installed system", 10*time.Second)
	// Not a server edition: a user of one's own, with a key.
	r.keys("alex", "Tab", "Tab", "Tab", tuiKey, "Tab", "Tab", "Enter")
	// What was checked is what is installed: the plan runs the digest,
	// and the installed system follows the ref as typed.
	scr := r.waitFor("Press enter to install", 10*time.Second)
	for _, w := range []string{"Image         " + host + "/team/os@sha256:", "Updates from  " + host + "/team/os:1"} {
		if !strings.Contains(scr, w) {
			t.Errorf("review lacks %q:\n%s", w, scr)
		}
	}
	r.keys("C-c")
	r.waitFor("Quit the installer?", 5*time.Second)
	r.keys("y")
	r.waitFor("UAI-EXIT=7", 10*time.Second)
}

// The demo on a recorded machine: its facts on the welcome, its disks
// shown but refused, only the image file offered.
func TestTUIDemoRecordedMachineInTmux(t *testing.T) {
	bus := systemBus(t, nil)
	fixture, err := filepath.Abs("fixtures/machines/laptop-windows.json")
	if err != nil {
		t.Fatal(err)
	}
	r := startTUI(t, bus, 100, 30, "--machine "+fixture)
	scr := r.waitFor("Recorded machine laptop-windows", 10*time.Second)
	if !strings.Contains(scr, "UEFI, Secure Boot on, amd64") {
		t.Errorf("welcome lacks the fixture's firmware:\n%s", scr)
	}
	r.keys("Enter")
	r.waitFor("Continue", 10*time.Second)
	r.keys("Enter")
	r.waitFor("Choose an edition", 10*time.Second)
	r.keys("Enter")
	r.waitFor("Choose a disk", 10*time.Second)
	scr = r.waitFor("/dev/nvme0n1", 10*time.Second)
	for _, w := range []string{"x a recorded disk of laptop-windows", "Windows", "> ...", "/001/disk.img"} {
		if !strings.Contains(scr, w) {
			t.Errorf("disk screen lacks %q:\n%s", w, scr)
		}
	}
	r.keys("q")
	r.waitFor("Quit the installer?", 5*time.Second)
	r.keys("y")
	r.waitFor("UAI-EXIT=7", 10*time.Second)
}

// A terminal without cursor addressing gets the questions line by line.
func TestTUIDumbTerminalAsksLineByLine(t *testing.T) {
	bus := systemBus(t, nil)
	dir := t.TempDir()
	img := sparseImage(t, dir, 64<<30)
	cmd := fmt.Sprintf("DBUS_SYSTEM_BUS_ADDRESS=%s TERM=dumb %s install --demo --target %s --target-dir %s; echo UAI-EXIT=$?; sleep 60",
		bus, uaiBin, img, filepath.Join(dir, "target"))
	s := newTmux(t, 100, 30, cmd)
	s.waitFor("plain mode", 10*time.Second)
	s.waitFor("Language (? lists them) [", 5*time.Second)
	s.keys("quit", "Enter")
	s.waitFor("UAI-EXIT=7", 10*time.Second)
}

// --plain reads its answers from any input, a pipe included, and
// installs.
func TestTUIPlainThroughAPipe(t *testing.T) {
	bus := systemBus(t, nil)
	dir := t.TempDir()
	img := sparseImage(t, dir, 64<<30)
	script := strings.Join([]string{
		"", "", // language, keyboard
		"",          // network: continue (nothing to manage)
		"1",         // Fedora bootc 44
		"1",         // the image
		"", "", "n", // storage defaults, no encryption
		"", "", "root", tuiKey, // accounts
		"y",    // install
		"exit", // done
	}, "\n") + "\n"
	cmd := exec.Command(uaiBin, "install", "--demo", "--plain", "--target", img, "--target-dir", filepath.Join(dir, "target"))
	cmd.Env = append(os.Environ(), "DBUS_SYSTEM_BUS_ADDRESS="+bus, "TMPDIR="+dir)
	cmd.Stdin = strings.NewReader(script)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("plain install: %v\n%s", err, out)
	}
	for _, w := range []string{"== Welcome ==", "== Edition ==", "== Review ==", "Install now?", "==> partition:"} {
		if !strings.Contains(string(out), w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	if got := len(sfdisk(t, img).PartitionTable.Partitions); got != 3 {
		t.Fatalf("the image holds %d partitions after the plain install, want 3", got)
	}
}
