// Package fakebus exports fake NetworkManager, localed, timedated and hostnamed services on a D-Bus connection, for tests of the clients and of the installer in a real terminal.
package fakebus

import (
	"fmt"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/introspect"
	"github.com/godbus/dbus/v5/prop"

	"github.com/universal-atomic-installer/uai/installer/system"
)

// AccessPoint is one Wi-Fi network the fake NetworkManager sees.
type AccessPoint struct {
	SSID     string
	Strength uint8
	// Security is "open", "WPA2", "WPA3" or "WPA Enterprise".
	Security string
	// Passphrase is the one the network accepts.
	Passphrase string
}

// NetworkManager is a fake NetworkManager with at most one wired and one
// Wi-Fi device. Joining a network walks the device through the states
// real NetworkManager reports (prepare, config, need-auth, then activated
// or failed with "no secrets"), with signals and property changes.
type NetworkManager struct {
	// Wired adds an Ethernet device eth0; WiredConnected plugs its cable
	// and connects it (and then the internet is reachable).
	Wired          bool
	WiredConnected bool
	// WiFi adds a Wi-Fi device wlan0 that sees APs.
	WiFi bool
	APs  []AccessPoint
	// Step is the pause between two device states; 0 means 20 ms.
	Step time.Duration

	mu       sync.Mutex
	conn     *dbus.Conn
	root     *prop.Properties
	eth      *prop.Properties
	wlan     *prop.Properties
	active   map[dbus.ObjectPath]*prop.Properties
	profiles map[dbus.ObjectPath]string
	apPaths  map[dbus.ObjectPath]AccessPoint
	next     int
	attempts []string
	scans    int
	deleted  int
}

// Paths of the fake's objects.
const (
	EthPath  = dbus.ObjectPath("/org/freedesktop/NetworkManager/Devices/1")
	WlanPath = dbus.ObjectPath("/org/freedesktop/NetworkManager/Devices/2")
)

type nmRoot struct{ n *NetworkManager }

type nmWireless struct{ n *NetworkManager }

type nmProfile struct {
	n    *NetworkManager
	path dbus.ObjectPath
}

type stateReason struct {
	State  uint32
	Reason uint32
}

// Export claims NetworkManager's name on conn and exports its objects.
func (n *NetworkManager) Export(conn *dbus.Conn) error {
	n.conn = conn
	n.active = map[dbus.ObjectPath]*prop.Properties{}
	n.profiles = map[dbus.ObjectPath]string{}
	n.apPaths = map[dbus.ObjectPath]AccessPoint{}
	if n.Step == 0 {
		n.Step = 20 * time.Millisecond
	}
	connectivity, state := uint32(system.ConnectivityNone), uint32(20)
	if n.Wired && n.WiredConnected {
		connectivity, state = uint32(system.ConnectivityFull), 70
	}
	var devices []dbus.ObjectPath
	if n.Wired {
		devices = append(devices, EthPath)
	}
	if n.WiFi {
		devices = append(devices, WlanPath)
	}
	root := &nmRoot{n}
	var err error
	n.root, err = exportObject(conn, system.NMPath, map[string]any{system.NMIface: root}, prop.Map{system.NMIface: {
		"State":             {Value: state, Emit: prop.EmitTrue},
		"Connectivity":      {Value: connectivity, Emit: prop.EmitTrue},
		"WirelessEnabled":   {Value: n.WiFi, Emit: prop.EmitTrue},
		"Version":           {Value: "1.42.4", Emit: prop.EmitConst},
		"ActiveConnections": {Value: []dbus.ObjectPath{}, Emit: prop.EmitTrue},
		"Devices":           {Value: devices, Emit: prop.EmitTrue},
	}})
	if err != nil {
		return err
	}
	if n.Wired {
		st, act := system.NMDeviceUnavailable, dbus.ObjectPath("/")
		if n.WiredConnected {
			st = system.NMDeviceActivated
			act = n.newActive("Wired connection 1", EthPath, 2)
		}
		n.eth, err = exportObject(conn, EthPath, nil, prop.Map{system.NMDeviceIface: deviceProps("eth0", system.NMDeviceEthernet, st, act)})
		if err != nil {
			return err
		}
	}
	if n.WiFi {
		var aps []dbus.ObjectPath
		for _, ap := range n.APs {
			p := dbus.ObjectPath(fmt.Sprintf("/org/freedesktop/NetworkManager/AccessPoint/%d", n.id()))
			flags, wpa, rsn := secFlags(ap.Security)
			if _, err := exportObject(conn, p, nil, prop.Map{system.NMAccessPointIface: {
				"Ssid":      {Value: []byte(ap.SSID), Emit: prop.EmitTrue},
				"Strength":  {Value: ap.Strength, Emit: prop.EmitTrue},
				"Flags":     {Value: flags, Emit: prop.EmitConst},
				"WpaFlags":  {Value: wpa, Emit: prop.EmitConst},
				"RsnFlags":  {Value: rsn, Emit: prop.EmitConst},
				"Frequency": {Value: uint32(2437), Emit: prop.EmitConst},
			}}); err != nil {
				return err
			}
			n.apPaths[p] = ap
			aps = append(aps, p)
		}
		props := deviceProps("wlan0", system.NMDeviceWiFi, system.NMDeviceDisconnected, "/")
		n.wlan, err = exportObject(conn, WlanPath, map[string]any{system.NMWirelessIface: &nmWireless{n}}, prop.Map{
			system.NMDeviceIface: props,
			system.NMWirelessIface: {
				"LastScan":          {Value: int64(1000), Emit: prop.EmitTrue},
				"ActiveAccessPoint": {Value: dbus.ObjectPath("/"), Emit: prop.EmitTrue},
				"AccessPoints":      {Value: aps, Emit: prop.EmitTrue},
			},
		})
		if err != nil {
			return err
		}
	}
	return claim(conn, system.NMName)
}

func deviceProps(iface string, typ, state uint32, active dbus.ObjectPath) map[string]*prop.Prop {
	return map[string]*prop.Prop{
		"Interface":        {Value: iface, Emit: prop.EmitConst},
		"DeviceType":       {Value: typ, Emit: prop.EmitConst},
		"State":            {Value: state, Emit: prop.EmitTrue},
		"StateReason":      {Value: stateReason{state, 0}, Emit: prop.EmitTrue},
		"ActiveConnection": {Value: active, Emit: prop.EmitTrue},
		"Managed":          {Value: true, Emit: prop.EmitTrue},
	}
}

func secFlags(sec string) (flags, wpa, rsn uint32) {
	switch sec {
	case "WPA2":
		return 1, 0, 0x100 | 0x8
	case "WPA3":
		return 1, 0, 0x400 | 0x8
	case "WPA Enterprise":
		return 1, 0, 0x200 | 0x8
	}
	return 0, 0, 0
}

func (n *NetworkManager) id() int {
	n.next++
	return n.next
}

// newActive exports an active connection object; n.mu is held or the
// fake is not yet shared.
func (n *NetworkManager) newActive(id string, dev dbus.ObjectPath, state uint32) dbus.ObjectPath {
	p := dbus.ObjectPath(fmt.Sprintf("/org/freedesktop/NetworkManager/ActiveConnection/%d", n.id()))
	props, err := exportObject(n.conn, p, nil, prop.Map{system.NMActiveIface: {
		"State":   {Value: state, Emit: prop.EmitTrue},
		"Id":      {Value: id, Emit: prop.EmitConst},
		"Devices": {Value: []dbus.ObjectPath{dev}, Emit: prop.EmitConst},
	}})
	if err == nil {
		n.active[p] = props
	}
	return p
}

// Attempts lists every join attempt as "SSID: ok" or "SSID: refused";
// passphrases are never recorded.
func (n *NetworkManager) Attempts() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.attempts...)
}

// Scans counts RequestScan calls; Deleted counts deleted profiles.
func (n *NetworkManager) Scans() (scans, deleted int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.scans, n.deleted
}

func (r *nmRoot) GetDevices() ([]dbus.ObjectPath, *dbus.Error) {
	v, _ := r.n.root.Get(system.NMIface, "Devices")
	return v.Value().([]dbus.ObjectPath), nil
}

func (r *nmRoot) GetAllDevices() ([]dbus.ObjectPath, *dbus.Error) { return r.GetDevices() }

func (r *nmRoot) CheckConnectivity() (uint32, *dbus.Error) {
	return r.n.root.GetMust(system.NMIface, "Connectivity").(uint32), nil
}

func invalid(format string, args ...any) *dbus.Error {
	return dbus.NewError("org.freedesktop.NetworkManager.Settings.InvalidArgument", []any{fmt.Sprintf(format, args...)})
}

// AddAndActivateConnection checks the settings as NetworkManager would for
// a WPA-PSK or open network and starts joining in the background.
func (r *nmRoot) AddAndActivateConnection(settings map[string]map[string]dbus.Variant, dev, spec dbus.ObjectPath) (dbus.ObjectPath, dbus.ObjectPath, *dbus.Error) {
	n := r.n
	n.mu.Lock()
	defer n.mu.Unlock()
	if dev != WlanPath || n.wlan == nil {
		return "", "", dbus.NewError("org.freedesktop.NetworkManager.UnknownDevice", []any{"no device " + string(dev)})
	}
	ap, ok := n.apPaths[spec]
	if !ok {
		return "", "", dbus.NewError("org.freedesktop.NetworkManager.UnknownConnection", []any{"no access point " + string(spec)})
	}
	w := settings["802-11-wireless"]
	ssid, _ := w["ssid"].Value().([]byte)
	if string(ssid) != ap.SSID {
		return "", "", invalid("802-11-wireless.ssid %q does not match access point %q", ssid, ap.SSID)
	}
	psk := ""
	if sec, ok := settings["802-11-wireless-security"]; ok {
		mgmt, _ := sec["key-mgmt"].Value().(string)
		want := map[string]string{"WPA2": "wpa-psk", "WPA3": "sae"}[ap.Security]
		if mgmt != want {
			return "", "", invalid("802-11-wireless-security.key-mgmt %q does not suit a %s network", mgmt, ap.Security)
		}
		psk, _ = sec["psk"].Value().(string)
		if err := system.CheckPassphrase(psk); err != nil {
			return "", "", invalid("802-11-wireless-security.psk: property is invalid")
		}
	} else if ap.Security != "open" {
		return "", "", invalid("802-11-wireless-security: a %s network needs it", ap.Security)
	}
	profile := dbus.ObjectPath(fmt.Sprintf("/org/freedesktop/NetworkManager/Settings/%d", n.id()))
	if err := n.conn.Export(&nmProfile{n, profile}, profile, system.NMConnectionIface); err != nil {
		return "", "", dbus.MakeFailedError(err)
	}
	n.profiles[profile] = ap.SSID
	active := n.newActive(ap.SSID, dev, 1)
	ok = ap.Security == "open" || psk == ap.Passphrase
	outcome := "refused"
	if ok {
		outcome = "ok"
	}
	n.attempts = append(n.attempts, ap.SSID+": "+outcome)
	go n.join(spec, active, ok)
	return profile, active, nil
}

// join walks wlan0 through the states of joining.
func (n *NetworkManager) join(ap, active dbus.ObjectPath, ok bool) {
	// The test that owns the bus may end (and close it) while a join is
	// still walking its states; SetMust then panics, which is no failure.
	defer func() { _ = recover() }()
	old := n.wlan.GetMust(system.NMDeviceIface, "State").(uint32)
	set := func(state, reason uint32) {
		time.Sleep(n.Step)
		n.wlan.SetMust(system.NMDeviceIface, "State", state)
		n.wlan.SetMust(system.NMDeviceIface, "StateReason", stateReason{state, reason})
		_ = n.conn.Emit(WlanPath, system.NMDeviceIface+".StateChanged", state, old, reason)
		old = state
	}
	n.wlan.SetMust(system.NMDeviceIface, "ActiveConnection", active)
	for _, s := range []uint32{40, 50, system.NMDeviceNeedAuth, 70} {
		set(s, 0)
	}
	n.mu.Lock()
	a := n.active[active]
	n.mu.Unlock()
	if ok {
		n.wlan.SetMust(system.NMWirelessIface, "ActiveAccessPoint", ap)
		set(system.NMDeviceActivated, 0)
		a.SetMust(system.NMActiveIface, "State", uint32(2))
		n.root.SetMust(system.NMIface, "State", uint32(70))
		n.root.SetMust(system.NMIface, "Connectivity", uint32(system.ConnectivityFull))
		n.root.SetMust(system.NMIface, "ActiveConnections", []dbus.ObjectPath{active})
		return
	}
	set(system.NMDeviceFailed, system.NMReasonNoSecrets)
	a.SetMust(system.NMActiveIface, "State", uint32(4))
	n.wlan.SetMust(system.NMDeviceIface, "ActiveConnection", dbus.ObjectPath("/"))
	set(system.NMDeviceDisconnected, system.NMReasonNoSecrets)
}

func (w *nmWireless) GetAllAccessPoints() ([]dbus.ObjectPath, *dbus.Error) {
	return w.n.wlan.GetMust(system.NMWirelessIface, "AccessPoints").([]dbus.ObjectPath), nil
}

func (w *nmWireless) GetAccessPoints() ([]dbus.ObjectPath, *dbus.Error) {
	return w.GetAllAccessPoints()
}

func (w *nmWireless) RequestScan(map[string]dbus.Variant) *dbus.Error {
	w.n.mu.Lock()
	w.n.scans++
	w.n.mu.Unlock()
	last := w.n.wlan.GetMust(system.NMWirelessIface, "LastScan").(int64)
	w.n.wlan.SetMust(system.NMWirelessIface, "LastScan", last+1000)
	return nil
}

func (p *nmProfile) Delete() *dbus.Error {
	p.n.mu.Lock()
	defer p.n.mu.Unlock()
	if _, ok := p.n.profiles[p.path]; !ok {
		return dbus.NewError("org.freedesktop.DBus.Error.UnknownObject", []any{"no profile " + string(p.path)})
	}
	delete(p.n.profiles, p.path)
	p.n.deleted++
	return nil
}

// Localed is a fake systemd-localed.
type Localed struct {
	Locale string
	Keymap string

	mu    sync.Mutex
	props *prop.Properties
	sets  []string
}

type localedMethods struct{ l *Localed }

// Export claims localed's name on conn and exports its object.
func (l *Localed) Export(conn *dbus.Conn) error {
	var err error
	l.props, err = exportObject(conn, system.Locale1Path, map[string]any{system.Locale1Name: &localedMethods{l}}, prop.Map{system.Locale1Name: {
		"Locale":         {Value: []string{"LANG=" + l.Locale}, Emit: prop.EmitTrue},
		"VConsoleKeymap": {Value: l.Keymap, Emit: prop.EmitTrue},
		"X11Layout":      {Value: l.Keymap, Emit: prop.EmitTrue},
	}})
	if err != nil {
		return err
	}
	return claim(conn, system.Locale1Name)
}

// Sets lists what was set, in order ("locale de_DE.UTF-8", "keymap de").
func (l *Localed) Sets() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.sets...)
}

func (m *localedMethods) SetLocale(locale []string, _ bool) *dbus.Error {
	m.l.mu.Lock()
	defer m.l.mu.Unlock()
	for _, v := range locale {
		m.l.sets = append(m.l.sets, "locale "+v)
	}
	m.l.props.SetMust(system.Locale1Name, "Locale", locale)
	return nil
}

func (m *localedMethods) SetVConsoleKeyboard(keymap, _ string, _, _ bool) *dbus.Error {
	m.l.mu.Lock()
	defer m.l.mu.Unlock()
	m.l.sets = append(m.l.sets, "keymap "+keymap)
	m.l.props.SetMust(system.Locale1Name, "VConsoleKeymap", keymap)
	return nil
}

// Timedated is a fake systemd-timedated.
type Timedated struct {
	Zones   []string
	Current string
}

type timedatedMethods struct{ t *Timedated }

// Export claims timedated's name on conn and exports its object.
func (t *Timedated) Export(conn *dbus.Conn) error {
	if _, err := exportObject(conn, system.Timedate1Path, map[string]any{system.Timedate1Name: &timedatedMethods{t}}, prop.Map{system.Timedate1Name: {
		"Timezone": {Value: t.Current, Emit: prop.EmitTrue},
	}}); err != nil {
		return err
	}
	return claim(conn, system.Timedate1Name)
}

func (m *timedatedMethods) ListTimezones() ([]string, *dbus.Error) { return m.t.Zones, nil }

// Hostnamed is a fake systemd-hostnamed.
type Hostnamed struct {
	Hostname string
	Chassis  string
}

// Export claims hostnamed's name on conn and exports its object.
func (h *Hostnamed) Export(conn *dbus.Conn) error {
	if _, err := exportObject(conn, system.Hostname1Path, nil, prop.Map{system.Hostname1Name: {
		"Hostname": {Value: h.Hostname, Emit: prop.EmitTrue},
		"Chassis":  {Value: h.Chassis, Emit: prop.EmitConst},
	}}); err != nil {
		return err
	}
	return claim(conn, system.Hostname1Name)
}

// exportObject exports methods (one value per interface), properties and
// introspection data at path.
func exportObject(conn *dbus.Conn, path dbus.ObjectPath, methods map[string]any, props prop.Map) (*prop.Properties, error) {
	for iface, v := range methods {
		if err := conn.Export(v, path, iface); err != nil {
			return nil, fmt.Errorf("export %s at %s: %w", iface, path, err)
		}
	}
	p, err := prop.Export(conn, path, props)
	if err != nil {
		return nil, fmt.Errorf("export the properties of %s: %w", path, err)
	}
	node := &introspect.Node{Name: string(path), Interfaces: []introspect.Interface{introspect.IntrospectData, prop.IntrospectData}}
	for iface := range props {
		in := introspect.Interface{Name: iface, Properties: p.Introspection(iface)}
		if v, ok := methods[iface]; ok {
			in.Methods = introspect.Methods(v)
		}
		node.Interfaces = append(node.Interfaces, in)
	}
	if err := conn.Export(introspect.NewIntrospectable(node), path, "org.freedesktop.DBus.Introspectable"); err != nil {
		return nil, fmt.Errorf("export the introspection of %s: %w", path, err)
	}
	return p, nil
}

func claim(conn *dbus.Conn, name string) error {
	reply, err := conn.RequestName(name, dbus.NameFlagDoNotQueue)
	if err != nil {
		return fmt.Errorf("claim %s: %w", name, err)
	}
	if reply != dbus.RequestNameReplyPrimaryOwner {
		return fmt.Errorf("claim %s: the name has another owner on this bus; use a private bus", name)
	}
	return nil
}
