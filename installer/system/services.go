package system

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/godbus/dbus/v5"
)

// systemd's locale, time and host name services (org.freedesktop.locale1(5),
// org.freedesktop.timedate1(5), org.freedesktop.hostname1(5)).
const (
	Locale1Name   = "org.freedesktop.locale1"
	Locale1Path   = dbus.ObjectPath("/org/freedesktop/locale1")
	Timedate1Name = "org.freedesktop.timedate1"
	Timedate1Path = dbus.ObjectPath("/org/freedesktop/timedate1")
	Hostname1Name = "org.freedesktop.hostname1"
	Hostname1Path = dbus.ObjectPath("/org/freedesktop/hostname1")
)

// ErrNoService means the service is not on the system bus (or there is no
// bus): a live system without systemd's services, or a container.
var ErrNoService = errors.New("the service is not running on the system bus")

// Locale is a system's language and console keyboard.
type Locale struct {
	// Locale is the LANG value ("en_US.UTF-8").
	Locale string
	// Keymap is the virtual console keymap ("us", "de-nodeadkeys").
	Keymap string
}

// Localed reads and sets the live system's locale and keyboard through
// systemd-localed, which also writes them to /etc so they persist.
type Localed struct {
	// Connect opens a private connection to the system bus; nil means
	// dbus.ConnectSystemBus, which honours DBUS_SYSTEM_BUS_ADDRESS.
	Connect func(ctx context.Context) (*dbus.Conn, error)
}

// Get returns the current locale (LANG) and console keymap.
func (l *Localed) Get(ctx context.Context) (Locale, error) {
	c, err := busConn(ctx, l.Connect, Locale1Name)
	if err != nil {
		return Locale{}, err
	}
	defer c.Close()
	o := c.Object(Locale1Name, Locale1Path)
	var vars []string
	if err := getProp(ctx, o, Locale1Name, "Locale", &vars); err != nil {
		return Locale{}, serviceError("read the locale from localed", Locale1Name, err)
	}
	var out Locale
	for _, v := range vars {
		if s, ok := strings.CutPrefix(v, "LANG="); ok {
			out.Locale = s
		}
	}
	if err := getProp(ctx, o, Locale1Name, "VConsoleKeymap", &out.Keymap); err != nil {
		return Locale{}, serviceError("read the keymap from localed", Locale1Name, err)
	}
	return out, nil
}

// Set changes the live system's locale and console keymap; an empty field
// is left as it is. localed converts the console keymap to the matching
// X11 layout too, so a graphical session would follow.
func (l *Localed) Set(ctx context.Context, want Locale) error {
	c, err := busConn(ctx, l.Connect, Locale1Name)
	if err != nil {
		return err
	}
	defer c.Close()
	o := c.Object(Locale1Name, Locale1Path)
	if want.Locale != "" {
		if err := o.CallWithContext(ctx, Locale1Name+".SetLocale", 0, []string{"LANG=" + want.Locale}, false).Err; err != nil {
			return serviceError("set the locale to "+want.Locale, Locale1Name, err)
		}
	}
	if want.Keymap != "" {
		// keymap, toggle keymap, convert to X11, interactive (polkit).
		if err := o.CallWithContext(ctx, Locale1Name+".SetVConsoleKeyboard", 0, want.Keymap, "", true, false).Err; err != nil {
			return serviceError("set the keymap to "+want.Keymap, Locale1Name, err)
		}
	}
	return nil
}

// Timedated reads the time zones systemd-timedated knows.
type Timedated struct {
	// Connect is as in Localed.
	Connect func(ctx context.Context) (*dbus.Conn, error)
}

// Timezones lists every time zone name timedated accepts, and the current
// one.
func (t *Timedated) Timezones(ctx context.Context) (zones []string, current string, err error) {
	c, err := busConn(ctx, t.Connect, Timedate1Name)
	if err != nil {
		return nil, "", err
	}
	defer c.Close()
	o := c.Object(Timedate1Name, Timedate1Path)
	if err := o.CallWithContext(ctx, Timedate1Name+".ListTimezones", 0).Store(&zones); err != nil {
		return nil, "", serviceError("list the time zones", Timedate1Name, err)
	}
	if err := getProp(ctx, o, Timedate1Name, "Timezone", &current); err != nil {
		return nil, "", serviceError("read the time zone", Timedate1Name, err)
	}
	return zones, current, nil
}

// Host is what systemd-hostnamed says about the machine.
type Host struct {
	Hostname string
	// Chassis is "desktop", "laptop", "server", "vm", "container", ... or
	// "" when hostnamed cannot tell.
	Chassis string
}

// Hostnamed reads the machine's host name and chassis.
type Hostnamed struct {
	// Connect is as in Localed.
	Connect func(ctx context.Context) (*dbus.Conn, error)
}

// Get returns the host name and chassis.
func (h *Hostnamed) Get(ctx context.Context) (Host, error) {
	c, err := busConn(ctx, h.Connect, Hostname1Name)
	if err != nil {
		return Host{}, err
	}
	defer c.Close()
	o := c.Object(Hostname1Name, Hostname1Path)
	var out Host
	if err := getProp(ctx, o, Hostname1Name, "Hostname", &out.Hostname); err != nil {
		return Host{}, serviceError("read the host name", Hostname1Name, err)
	}
	if err := getProp(ctx, o, Hostname1Name, "Chassis", &out.Chassis); err != nil {
		return Host{}, serviceError("read the chassis", Hostname1Name, err)
	}
	return out, nil
}

func serviceError(what, name string, err error) error {
	if noService(err) {
		return fmt.Errorf("%s: %w: %s", what, ErrNoService, name)
	}
	return fmt.Errorf("%s: %w", what, err)
}
