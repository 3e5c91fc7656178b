package system_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/universal-atomic-installer/uai/installer/system"
	"github.com/universal-atomic-installer/uai/installer/system/fakebus"
)

// busWith starts a private dbus-daemon, lets export put fakes on it and
// points DBUS_SYSTEM_BUS_ADDRESS at it, as a test of the uai binary does.
func busWith(t *testing.T, export func(conn *dbus.Conn) error) {
	t.Helper()
	addr := system.PrivateBus(t)
	if export != nil {
		conn, err := dbus.Connect(addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		if err := export(conn); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", addr)
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

var homeAPs = []fakebus.AccessPoint{
	{SSID: "CoffeeShop", Strength: 40, Security: "open"},
	{SSID: "HomeNet", Strength: 82, Security: "WPA2", Passphrase: "correct horse battery"},
	{SSID: "Campus", Strength: 55, Security: "WPA Enterprise"},
	{SSID: "NewRouter", Strength: 61, Security: "WPA3", Passphrase: "sae-passphrase-1"},
}

func TestNetworkStatusWiredAndWiFi(t *testing.T) {
	nm := &fakebus.NetworkManager{Wired: true, WiredConnected: true, WiFi: true, APs: homeAPs}
	busWith(t, nm.Export)
	st, err := (&system.NetworkManager{}).Status(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Devices) != 2 || st.Connectivity != system.ConnectivityFull || !st.Connected() {
		t.Fatalf("status = %+v", st)
	}
	eth, wlan := st.Wired()[0], st.WiFi()[0]
	if eth.Interface != "eth0" || eth.StateText() != "connected" || eth.Connection != "Wired connection 1" {
		t.Errorf("eth0 = %+v (%s)", eth, eth.StateText())
	}
	if wlan.Interface != "wlan0" || wlan.StateText() != "disconnected" || wlan.Connected() {
		t.Errorf("wlan0 = %+v (%s)", wlan, wlan.StateText())
	}
	if c, err := (&system.NetworkManager{}).CheckConnectivity(ctx(t)); err != nil || !c.Online() || c.String() != "full" {
		t.Errorf("CheckConnectivity = %v, %v", c, err)
	}
}

func TestNetworkStatusUnpluggedCable(t *testing.T) {
	busWith(t, (&fakebus.NetworkManager{Wired: true}).Export)
	st, err := (&system.NetworkManager{}).Status(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if st.Connected() || st.Connectivity.Online() || st.Wired()[0].StateText() != "no cable" || len(st.WiFi()) != 0 {
		t.Fatalf("status = %+v", st)
	}
	if _, err := (&system.NetworkManager{}).Scan(ctx(t)); err == nil || !strings.Contains(err.Error(), "no Wi-Fi device") {
		t.Errorf("scan without Wi-Fi: %v", err)
	}
}

func TestScanListsNetworksStrongestFirst(t *testing.T) {
	nm := &fakebus.NetworkManager{WiFi: true, APs: append(slices.Clone(homeAPs),
		// A second, weaker access point of the same network.
		fakebus.AccessPoint{SSID: "HomeNet", Strength: 20, Security: "WPA2"})}
	busWith(t, nm.Export)
	aps, err := (&system.NetworkManager{Poll: 10 * time.Millisecond}).Scan(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range aps {
		got = append(got, a.SSID+" "+a.Security)
	}
	want := []string{"HomeNet WPA2", "NewRouter WPA3", "Campus WPA Enterprise", "CoffeeShop open"}
	if !slices.Equal(got, want) || aps[0].Strength != 82 {
		t.Fatalf("scan = %q (%+v), want %q", got, aps, want)
	}
	if aps[3].Secured() || !aps[0].Secured() || aps[2].Supported() {
		t.Errorf("security flags wrong: %+v", aps)
	}
	if scans, _ := nm.Scans(); scans != 1 {
		t.Errorf("RequestScan called %d times, want 1", scans)
	}
}

func TestConnectWiFiWrongThenRightPassphrase(t *testing.T) {
	nm := &fakebus.NetworkManager{WiFi: true, APs: homeAPs}
	busWith(t, nm.Export)
	c := &system.NetworkManager{Poll: 10 * time.Millisecond}

	err := c.ConnectWiFi(ctx(t), "HomeNet", "wrong horse battery")
	if !errors.Is(err, system.ErrWrongPassphrase) || !strings.Contains(err.Error(), `join Wi-Fi "HomeNet"`) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if strings.Contains(err.Error(), "wrong horse") {
		t.Fatalf("the error carries the passphrase: %v", err)
	}
	if _, deleted := nm.Scans(); deleted != 1 {
		t.Errorf("the failed profile was not deleted (%d deleted)", deleted)
	}
	st, _ := c.Status(ctx(t))
	if st.Connected() || st.Connectivity.Online() {
		t.Fatalf("connected after a refused passphrase: %+v", st)
	}

	if err := c.ConnectWiFi(ctx(t), "HomeNet", "correct horse battery"); err != nil {
		t.Fatalf("right passphrase: %v", err)
	}
	st, err = c.Status(ctx(t))
	if err != nil || !st.WiFi()[0].Connected() || st.WiFi()[0].Connection != "HomeNet" || !st.Connectivity.Online() {
		t.Fatalf("after joining: %+v, %v", st, err)
	}
	aps, _ := c.Scan(ctx(t))
	if len(aps) == 0 || aps[0].SSID != "HomeNet" || !aps[0].Active {
		t.Errorf("the joined network is not marked active: %+v", aps)
	}
	if got := nm.Attempts(); !slices.Equal(got, []string{"HomeNet: refused", "HomeNet: ok"}) {
		t.Errorf("attempts = %q", got)
	}
}

func TestConnectWiFiChecksBeforeAsking(t *testing.T) {
	nm := &fakebus.NetworkManager{WiFi: true, APs: homeAPs}
	busWith(t, nm.Export)
	c := &system.NetworkManager{Poll: 10 * time.Millisecond}
	cases := []struct {
		ssid, pass, want string
	}{
		{"HomeNet", "short", "8 to 63 characters"},
		{"HomeNet", "", "8 to 63 characters"},
		{"HomeNet", "pässwörter-mit-umlaut", "printable ASCII"},
		{"Campus", "whatever-it-is", "WPA Enterprise networks need settings"},
		{"Gone", "whatever-it-is", "not in range"},
	}
	for _, tc := range cases {
		err := c.ConnectWiFi(ctx(t), tc.ssid, tc.pass)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ConnectWiFi(%s, %q) = %v, want %q", tc.ssid, tc.pass, err, tc.want)
		}
	}
	if a := nm.Attempts(); len(a) != 0 {
		t.Errorf("NetworkManager was asked anyway: %q", a)
	}
	if err := c.ConnectWiFi(ctx(t), "CoffeeShop", ""); err != nil {
		t.Fatalf("open network: %v", err)
	}
	if err := c.ConnectWiFi(ctx(t), "NewRouter", "sae-passphrase-1"); err != nil {
		t.Fatalf("WPA3 network: %v", err)
	}
}

func TestNoNetworkManager(t *testing.T) {
	busWith(t, nil)
	c := &system.NetworkManager{}
	if _, err := c.Status(ctx(t)); !errors.Is(err, system.ErrNoNetworkManager) {
		t.Errorf("Status on a bus without NM: %v", err)
	}
	if err := c.ConnectWiFi(ctx(t), "x", "12345678"); !errors.Is(err, system.ErrNoNetworkManager) {
		t.Errorf("ConnectWiFi on a bus without NM: %v", err)
	}
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path="+t.TempDir()+"/no-bus")
	if _, err := c.Status(ctx(t)); !errors.Is(err, system.ErrNoNetworkManager) || !strings.Contains(err.Error(), "no system bus") {
		t.Errorf("Status without a bus: %v", err)
	}
}

func TestCheckPassphrase(t *testing.T) {
	for p, ok := range map[string]bool{
		"12345678":               true,
		strings.Repeat("a", 63):  true,
		strings.Repeat("a", 64):  true, // 64 hex digits are the key itself
		strings.Repeat("g", 64):  false,
		"1234567":                false,
		"tab\tinside-passphrase": false,
	} {
		if err := system.CheckPassphrase(p); (err == nil) != ok {
			t.Errorf("CheckPassphrase(%q) = %v, want ok=%v", p, err, ok)
		}
	}
}

func TestLocaleTimeAndHostServices(t *testing.T) {
	loc := &fakebus.Localed{Locale: "en_US.UTF-8", Keymap: "us"}
	busWith(t, func(conn *dbus.Conn) error {
		return errors.Join(loc.Export(conn),
			(&fakebus.Timedated{Zones: []string{"Europe/Berlin", "UTC"}, Current: "UTC"}).Export(conn),
			(&fakebus.Hostnamed{Hostname: "localhost-live", Chassis: "laptop"}).Export(conn))
	})
	l := &system.Localed{}
	got, err := l.Get(ctx(t))
	if err != nil || got != (system.Locale{Locale: "en_US.UTF-8", Keymap: "us"}) {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	if err := l.Set(ctx(t), system.Locale{Locale: "de_DE.UTF-8", Keymap: "de-nodeadkeys"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := l.Get(ctx(t)); got != (system.Locale{Locale: "de_DE.UTF-8", Keymap: "de-nodeadkeys"}) {
		t.Errorf("after Set: %+v", got)
	}
	if s := loc.Sets(); !slices.Equal(s, []string{"locale LANG=de_DE.UTF-8", "keymap de-nodeadkeys"}) {
		t.Errorf("localed got %q", s)
	}
	zones, cur, err := (&system.Timedated{}).Timezones(ctx(t))
	if err != nil || cur != "UTC" || !slices.Equal(zones, []string{"Europe/Berlin", "UTC"}) {
		t.Errorf("Timezones = %q, %q, %v", zones, cur, err)
	}
	h, err := (&system.Hostnamed{}).Get(ctx(t))
	if err != nil || h != (system.Host{Hostname: "localhost-live", Chassis: "laptop"}) {
		t.Errorf("Hostnamed = %+v, %v", h, err)
	}
}

func TestServicesMissing(t *testing.T) {
	busWith(t, nil)
	if _, err := (&system.Localed{}).Get(ctx(t)); !errors.Is(err, system.ErrNoService) || !strings.Contains(err.Error(), system.Locale1Name) {
		t.Errorf("localed missing: %v", err)
	}
	if _, _, err := (&system.Timedated{}).Timezones(ctx(t)); !errors.Is(err, system.ErrNoService) {
		t.Errorf("timedated missing: %v", err)
	}
	if _, err := (&system.Hostnamed{}).Get(ctx(t)); !errors.Is(err, system.ErrNoService) {
		t.Errorf("hostnamed missing: %v", err)
	}
}
