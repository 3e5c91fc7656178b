package system

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"
)

// NetworkManager's well-known name, root object and interfaces
// (https://networkmanager.dev/docs/api/latest/spec.html).
const (
	NMName             = "org.freedesktop.NetworkManager"
	NMPath             = dbus.ObjectPath("/org/freedesktop/NetworkManager")
	NMIface            = "org.freedesktop.NetworkManager"
	NMDeviceIface      = NMIface + ".Device"
	NMWirelessIface    = NMIface + ".Device.Wireless"
	NMAccessPointIface = NMIface + ".AccessPoint"
	NMActiveIface      = NMIface + ".Connection.Active"
	NMConnectionIface  = NMIface + ".Settings.Connection"
)

// NetworkManager device types (NMDeviceType) the installer tells apart.
const (
	NMDeviceEthernet uint32 = 1
	NMDeviceWiFi     uint32 = 2
)

// NetworkManager device states (NMDeviceState).
const (
	NMDeviceUnavailable  uint32 = 20
	NMDeviceDisconnected uint32 = 30
	NMDeviceNeedAuth     uint32 = 60
	NMDeviceActivated    uint32 = 100
	NMDeviceFailed       uint32 = 120
)

// Device state reasons (NMDeviceStateReason) that mean the network did
// not accept the secret: NM found no (valid) secret, or the supplicant
// gave up on the handshake.
const (
	NMReasonNoSecrets            uint32 = 7
	NMReasonSupplicantDisconnect uint32 = 8
	NMReasonSupplicantConfigFail uint32 = 9
	NMReasonSupplicantFailed     uint32 = 10
	NMReasonSupplicantTimeout    uint32 = 11
)

// nmActiveDeactivated is the last state of an active connection
// (NMActiveConnectionState).
const nmActiveDeactivated uint32 = 4

// Access point flags (NM80211ApFlags, NM80211ApSecurityFlags).
const (
	nm80211APFlagsPrivacy    uint32 = 0x1
	nm80211APSecKeyMgmtPSK   uint32 = 0x100
	nm80211APSecKeyMgmt8021X uint32 = 0x200
	nm80211APSecKeyMgmtSAE   uint32 = 0x400
)

// How long the client waits. Joining covers DHCP on a slow network; a
// scan takes a few seconds on most cards.
const (
	defaultConnectTimeout = 45 * time.Second
	defaultScanWait       = 3 * time.Second
	defaultPoll           = 250 * time.Millisecond
)

// ErrNoNetworkManager means nobody owns NetworkManager's name on the
// system bus (or there is no system bus): the network is managed some
// other way, and uai can only report what it cannot do.
var ErrNoNetworkManager = errors.New("NetworkManager is not running on the system bus")

// ErrWrongPassphrase means the Wi-Fi network refused the passphrase.
var ErrWrongPassphrase = errors.New("the network refused the passphrase")

// Connectivity is NetworkManager's verdict on reaching the internet.
type Connectivity uint32

// The connectivity states (NMConnectivityState).
const (
	ConnectivityUnknown Connectivity = 0
	ConnectivityNone    Connectivity = 1
	ConnectivityPortal  Connectivity = 2
	ConnectivityLimited Connectivity = 3
	ConnectivityFull    Connectivity = 4
)

func (c Connectivity) String() string {
	switch c {
	case ConnectivityNone:
		return "none"
	case ConnectivityPortal:
		return "captive portal"
	case ConnectivityLimited:
		return "limited"
	case ConnectivityFull:
		return "full"
	}
	return "unknown"
}

// Online reports whether the internet is reachable as far as NM can tell.
func (c Connectivity) Online() bool { return c == ConnectivityFull }

// Device is one network interface NetworkManager manages.
type Device struct {
	Path      string
	Interface string
	// Kind is "ethernet", "wifi" or "other".
	Kind  string
	State uint32
	// Connection is the name (id) of the active connection, if any.
	Connection string
}

// Connected reports whether the device carries an active connection.
func (d Device) Connected() bool { return d.State == NMDeviceActivated }

// StateText says what the device is doing in a few words.
func (d Device) StateText() string {
	switch {
	case d.State == NMDeviceActivated:
		return "connected"
	case d.State == NMDeviceUnavailable && d.Kind == "ethernet":
		return "no cable"
	case d.State == NMDeviceUnavailable:
		return "unavailable"
	case d.State == NMDeviceDisconnected:
		return "disconnected"
	case d.State > NMDeviceDisconnected && d.State < NMDeviceActivated:
		return "connecting"
	case d.State == NMDeviceFailed:
		return "failed"
	case d.State < NMDeviceUnavailable:
		return "not managed"
	}
	return "disconnecting"
}

// NetworkStatus is the network as NetworkManager sees it.
type NetworkStatus struct {
	Devices      []Device
	Connectivity Connectivity
}

// Wired returns the Ethernet devices.
func (s NetworkStatus) Wired() []Device { return s.kind("ethernet") }

// WiFi returns the Wi-Fi devices.
func (s NetworkStatus) WiFi() []Device { return s.kind("wifi") }

func (s NetworkStatus) kind(k string) []Device {
	var out []Device
	for _, d := range s.Devices {
		if d.Kind == k {
			out = append(out, d)
		}
	}
	return out
}

// Connected reports whether any device carries an active connection.
func (s NetworkStatus) Connected() bool {
	return slices.ContainsFunc(s.Devices, Device.Connected)
}

// AccessPoint is one Wi-Fi network in range (the strongest access point
// of each SSID).
type AccessPoint struct {
	Path string
	SSID string
	// Strength is the signal in percent.
	Strength uint8
	// Security is "open", "WPA", "WPA2", "WPA3" or "WPA Enterprise".
	Security string
	// Active is true for the network the device is connected to.
	Active bool
}

// Secured reports whether joining needs a passphrase.
func (a AccessPoint) Secured() bool { return a.Security != "open" }

// Supported reports whether uai can join the network: it asks for a WPA
// passphrase only, which enterprise (802.1X) networks do not take, and it
// does not offer WEP, which is broken.
func (a AccessPoint) Supported() bool { return a.Security != "WPA Enterprise" && a.Security != "WEP" }

// NetworkManager talks to NetworkManager on the system bus: device and
// connectivity state, Wi-Fi scans and connecting with a passphrase.
type NetworkManager struct {
	// Connect opens a private connection to the system bus; nil means
	// dbus.ConnectSystemBus, which honours DBUS_SYSTEM_BUS_ADDRESS.
	Connect func(ctx context.Context) (*dbus.Conn, error)
	// ConnectTimeout bounds joining a network; 0 means 45 s.
	ConnectTimeout time.Duration
	// ScanWait is how long Scan waits for fresh results; 0 means 3 s.
	ScanWait time.Duration
	// Poll is how often state is read while waiting; 0 means 250 ms.
	Poll time.Duration
}

func (n *NetworkManager) conn(ctx context.Context) (*dbus.Conn, error) {
	return busConn(ctx, n.Connect, NMName)
}

func orDuration(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// Status reads every device and the connectivity NM last determined.
func (n *NetworkManager) Status(ctx context.Context) (NetworkStatus, error) {
	c, err := n.conn(ctx)
	if err != nil {
		return NetworkStatus{}, err
	}
	defer c.Close()
	return status(ctx, c)
}

func status(ctx context.Context, c *dbus.Conn) (NetworkStatus, error) {
	root := c.Object(NMName, NMPath)
	var paths []dbus.ObjectPath
	if err := root.CallWithContext(ctx, NMIface+".GetDevices", 0).Store(&paths); err != nil {
		return NetworkStatus{}, nmError("list the network devices", err)
	}
	var st NetworkStatus
	for _, p := range paths {
		d, err := device(ctx, c, p)
		if err != nil {
			return NetworkStatus{}, err
		}
		st.Devices = append(st.Devices, d)
	}
	var conn uint32
	if err := getProp(ctx, root, NMIface, "Connectivity", &conn); err != nil {
		return NetworkStatus{}, nmError("read the connectivity", err)
	}
	st.Connectivity = Connectivity(conn)
	return st, nil
}

func device(ctx context.Context, c *dbus.Conn, p dbus.ObjectPath) (Device, error) {
	o := c.Object(NMName, p)
	var (
		iface  string
		typ    uint32
		state  uint32
		active dbus.ObjectPath
	)
	for _, q := range []struct {
		name string
		dst  any
	}{{"Interface", &iface}, {"DeviceType", &typ}, {"State", &state}, {"ActiveConnection", &active}} {
		if err := getProp(ctx, o, NMDeviceIface, q.name, q.dst); err != nil {
			return Device{}, nmError("read network device "+string(p), err)
		}
	}
	d := Device{Path: string(p), Interface: iface, State: state, Kind: "other"}
	switch typ {
	case NMDeviceEthernet:
		d.Kind = "ethernet"
	case NMDeviceWiFi:
		d.Kind = "wifi"
	}
	if active != "" && active != "/" {
		var id string
		if getProp(ctx, c.Object(NMName, active), NMActiveIface, "Id", &id) == nil {
			d.Connection = id
		}
	}
	return d, nil
}

// CheckConnectivity asks NM to check the internet now and returns the
// verdict.
func (n *NetworkManager) CheckConnectivity(ctx context.Context) (Connectivity, error) {
	c, err := n.conn(ctx)
	if err != nil {
		return ConnectivityUnknown, err
	}
	defer c.Close()
	var v uint32
	if err := c.Object(NMName, NMPath).CallWithContext(ctx, NMIface+".CheckConnectivity", 0).Store(&v); err != nil {
		return ConnectivityUnknown, nmError("check the connectivity", err)
	}
	return Connectivity(v), nil
}

// wifiDevice returns the first Wi-Fi device.
func wifiDevice(ctx context.Context, c *dbus.Conn) (Device, error) {
	st, err := status(ctx, c)
	if err != nil {
		return Device{}, err
	}
	w := st.WiFi()
	if len(w) == 0 {
		return Device{}, errors.New("this machine has no Wi-Fi device NetworkManager manages; plug in a network cable")
	}
	return w[0], nil
}

// Scan asks the Wi-Fi device for a fresh scan, waits for it (up to
// ScanWait) and returns the networks in range, strongest first, one per
// SSID. Hidden networks (no SSID) are left out.
func (n *NetworkManager) Scan(ctx context.Context) ([]AccessPoint, error) {
	c, err := n.conn(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	dev, err := wifiDevice(ctx, c)
	if err != nil {
		return nil, err
	}
	o := c.Object(NMName, dbus.ObjectPath(dev.Path))
	var before int64
	_ = getProp(ctx, o, NMWirelessIface, "LastScan", &before)
	// A scan requested too soon after the last one is refused; the
	// results NM has are then recent enough.
	if err := o.CallWithContext(ctx, NMWirelessIface+".RequestScan", 0, map[string]dbus.Variant{}).Err; err == nil {
		deadline := time.Now().Add(orDuration(n.ScanWait, defaultScanWait))
		for time.Now().Before(deadline) {
			var last int64
			if getProp(ctx, o, NMWirelessIface, "LastScan", &last) == nil && last != before {
				break
			}
			if err := sleepCtx(ctx, orDuration(n.Poll, defaultPoll)); err != nil {
				return nil, err
			}
		}
	}
	var aps []dbus.ObjectPath
	if err := o.CallWithContext(ctx, NMWirelessIface+".GetAllAccessPoints", 0).Store(&aps); err != nil {
		return nil, nmError("list the Wi-Fi networks", err)
	}
	var activeAP dbus.ObjectPath
	_ = getProp(ctx, o, NMWirelessIface, "ActiveAccessPoint", &activeAP)
	best := map[string]AccessPoint{}
	for _, p := range aps {
		ap, err := accessPoint(ctx, c, p)
		if err != nil || ap.SSID == "" {
			continue // gone since the listing, or hidden
		}
		ap.Active = p == activeAP
		if cur, ok := best[ap.SSID]; ok && (cur.Active || cur.Strength >= ap.Strength) && !ap.Active {
			continue
		}
		best[ap.SSID] = ap
	}
	out := make([]AccessPoint, 0, len(best))
	for _, ap := range best {
		out = append(out, ap)
	}
	slices.SortFunc(out, func(a, b AccessPoint) int {
		if a.Strength != b.Strength {
			return int(b.Strength) - int(a.Strength)
		}
		return strings.Compare(a.SSID, b.SSID)
	})
	return out, nil
}

func accessPoint(ctx context.Context, c *dbus.Conn, p dbus.ObjectPath) (AccessPoint, error) {
	o := c.Object(NMName, p)
	var (
		ssid            []byte
		strength        uint8
		flags, wpa, rsn uint32
	)
	for _, q := range []struct {
		name string
		dst  any
	}{{"Ssid", &ssid}, {"Strength", &strength}, {"Flags", &flags}, {"WpaFlags", &wpa}, {"RsnFlags", &rsn}} {
		if err := getProp(ctx, o, NMAccessPointIface, q.name, q.dst); err != nil {
			return AccessPoint{}, err
		}
	}
	return AccessPoint{Path: string(p), SSID: string(ssid), Strength: strength, Security: security(flags, wpa, rsn)}, nil
}

func security(flags, wpa, rsn uint32) string {
	switch {
	case (wpa|rsn)&nm80211APSecKeyMgmt8021X != 0:
		return "WPA Enterprise"
	case rsn&nm80211APSecKeyMgmtSAE != 0:
		return "WPA3"
	case rsn&nm80211APSecKeyMgmtPSK != 0:
		return "WPA2"
	case wpa&nm80211APSecKeyMgmtPSK != 0:
		return "WPA"
	case flags&nm80211APFlagsPrivacy != 0:
		return "WEP"
	}
	return "open"
}

// CheckPassphrase says what is wrong with a WPA passphrase before it is
// sent: WPA-PSK takes 8 to 63 printable ASCII characters, or exactly 64
// hex digits (the key itself).
func CheckPassphrase(p string) error {
	if len(p) == 64 && strings.Trim(strings.ToLower(p), "0123456789abcdef") == "" {
		return nil
	}
	for _, r := range p {
		if r < 0x20 || r > 0x7e {
			return errors.New("a Wi-Fi passphrase has printable ASCII characters only; check the keyboard layout")
		}
	}
	if len(p) < 8 || len(p) > 63 {
		return fmt.Errorf("a Wi-Fi passphrase has 8 to 63 characters; this one has %d", len(p))
	}
	return nil
}

// ConnectWiFi joins the network ssid with passphrase (empty for an open
// network) and waits until the connection is up. A refused passphrase
// returns an error that wraps ErrWrongPassphrase; the failed connection
// profile is deleted again so that retries do not pile up profiles.
func (n *NetworkManager) ConnectWiFi(ctx context.Context, ssid, passphrase string) error {
	c, err := n.conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, orDuration(n.ConnectTimeout, defaultConnectTimeout))
	defer cancel()
	dev, err := wifiDevice(ctx, c)
	if err != nil {
		return err
	}
	aps, err := n.accessPoints(ctx, c, dev)
	if err != nil {
		return err
	}
	var ap *AccessPoint
	for i := range aps {
		if aps[i].SSID == ssid {
			ap = &aps[i]
			break
		}
	}
	if ap == nil {
		return fmt.Errorf("join Wi-Fi %q: the network is not in range any more; scan again", ssid)
	}
	if !ap.Supported() {
		return fmt.Errorf("join Wi-Fi %q: %s networks need settings uai does not ask for; use a cable or another network", ssid, ap.Security)
	}
	if ap.Secured() {
		if err := CheckPassphrase(passphrase); err != nil {
			return fmt.Errorf("join Wi-Fi %q: %w", ssid, err)
		}
	}
	settings := map[string]map[string]dbus.Variant{
		"connection":      {"id": dbus.MakeVariant(ssid), "type": dbus.MakeVariant("802-11-wireless")},
		"802-11-wireless": {"ssid": dbus.MakeVariant([]byte(ssid))},
	}
	if ap.Secured() {
		mgmt := "wpa-psk"
		if ap.Security == "WPA3" {
			mgmt = "sae"
		}
		settings["802-11-wireless-security"] = map[string]dbus.Variant{
			"key-mgmt": dbus.MakeVariant(mgmt),
			"psk":      dbus.MakeVariant(passphrase),
		}
	}
	devPath := dbus.ObjectPath(dev.Path)
	match := []dbus.MatchOption{dbus.WithMatchObjectPath(devPath), dbus.WithMatchInterface(NMDeviceIface), dbus.WithMatchMember("StateChanged")}
	signals := make(chan *dbus.Signal, 32)
	if err := c.AddMatchSignalContext(ctx, match...); err == nil {
		c.Signal(signals)
		defer func() {
			c.RemoveSignal(signals)
			_ = c.RemoveMatchSignal(match...)
		}()
	}
	var profile, active dbus.ObjectPath
	call := c.Object(NMName, NMPath).CallWithContext(ctx, NMIface+".AddAndActivateConnection", 0, settings, devPath, dbus.ObjectPath(ap.Path))
	if err := call.Store(&profile, &active); err != nil {
		return nmError(fmt.Sprintf("join Wi-Fi %q", ssid), err)
	}
	err = n.waitActive(ctx, c, devPath, active, signals)
	if err != nil {
		// A second context: the first may be what ended the wait.
		dctx, dcancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = c.Object(NMName, profile).CallWithContext(dctx, NMConnectionIface+".Delete", 0).Err
		dcancel()
		return fmt.Errorf("join Wi-Fi %q: %w", ssid, err)
	}
	return nil
}

func (n *NetworkManager) accessPoints(ctx context.Context, c *dbus.Conn, dev Device) ([]AccessPoint, error) {
	var aps []dbus.ObjectPath
	if err := c.Object(NMName, dbus.ObjectPath(dev.Path)).CallWithContext(ctx, NMWirelessIface+".GetAllAccessPoints", 0).Store(&aps); err != nil {
		return nil, nmError("list the Wi-Fi networks", err)
	}
	var out []AccessPoint
	for _, p := range aps {
		if ap, err := accessPoint(ctx, c, p); err == nil {
			out = append(out, ap)
		}
	}
	// The strongest access point of the SSID is the one joined.
	slices.SortStableFunc(out, func(a, b AccessPoint) int { return int(b.Strength) - int(a.Strength) })
	return out, nil
}

// waitActive waits for the device to carry the new active connection, or
// to fail. Signals say it at once; polling covers a missed signal.
func (n *NetworkManager) waitActive(ctx context.Context, c *dbus.Conn, dev, active dbus.ObjectPath, signals <-chan *dbus.Signal) error {
	tick := time.NewTicker(orDuration(n.Poll, defaultPoll))
	defer tick.Stop()
	devObj := c.Object(NMName, dev)
	failed := func(reason uint32) error {
		switch reason {
		case NMReasonNoSecrets, NMReasonSupplicantDisconnect, NMReasonSupplicantConfigFail, NMReasonSupplicantFailed, NMReasonSupplicantTimeout:
			return fmt.Errorf("%w: check it (and the keyboard layout) and type it again", ErrWrongPassphrase)
		}
		return fmt.Errorf("NetworkManager could not connect (device state reason %d); move closer to the access point or try again", reason)
	}
	seenWork := false
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("no connection within the time limit (%w); try again, or use a cable", ctx.Err())
		case s := <-signals:
			if s == nil || s.Path != dev || len(s.Body) < 3 {
				continue
			}
			state, _ := s.Body[0].(uint32)
			reason, _ := s.Body[2].(uint32)
			switch {
			case state == NMDeviceActivated:
				return nil
			case state == NMDeviceFailed:
				return failed(reason)
			case state > NMDeviceDisconnected:
				seenWork = true
			}
		case <-tick.C:
			var state uint32
			if err := getProp(ctx, devObj, NMDeviceIface, "State", &state); err != nil {
				continue
			}
			var cur dbus.ObjectPath
			_ = getProp(ctx, devObj, NMDeviceIface, "ActiveConnection", &cur)
			if state == NMDeviceActivated && cur == active {
				return nil
			}
			if state > NMDeviceDisconnected {
				seenWork = true
			}
			var astate uint32
			aerr := getProp(ctx, c.Object(NMName, active), NMActiveIface, "State", &astate)
			// NM removes a failed active connection; once it is gone (or
			// deactivated) after the device worked on it, it failed.
			if seenWork && (aerr != nil || astate == nmActiveDeactivated) && state != NMDeviceActivated {
				var sr struct {
					State  uint32
					Reason uint32
				}
				_ = getProp(ctx, devObj, NMDeviceIface, "StateReason", &sr)
				return failed(sr.Reason)
			}
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// getProp reads one property into dst.
func getProp(ctx context.Context, o dbus.BusObject, iface, name string, dst any) error {
	var v dbus.Variant
	if err := o.CallWithContext(ctx, "org.freedesktop.DBus.Properties.Get", 0, iface, name).Store(&v); err != nil {
		return err
	}
	return dbus.Store([]any{v.Value()}, dst)
}

func nmError(what string, err error) error {
	if noService(err) {
		return fmt.Errorf("%s: %w", what, ErrNoNetworkManager)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// busConn opens the system bus for a client of service name; no bus at
// all, like a bus without the service, means the service is not there.
func busConn(ctx context.Context, connect func(context.Context) (*dbus.Conn, error), name string) (*dbus.Conn, error) {
	var c *dbus.Conn
	var err error
	if connect != nil {
		c, err = connect(ctx)
	} else {
		c, err = dbus.ConnectSystemBus(dbus.WithContext(ctx))
	}
	if err != nil {
		if name == NMName {
			return nil, fmt.Errorf("%w (no system bus: %v)", ErrNoNetworkManager, err)
		}
		return nil, fmt.Errorf("%w: %s (no system bus: %v)", ErrNoService, name, err)
	}
	return c, nil
}
