// Package system asks the host's system services for machine-wide actions (reboot, power off) over D-Bus, with a systemctl fallback.
package system

import (
	"context"
	"errors"
	"fmt"

	"github.com/godbus/dbus/v5"

	"github.com/universal-atomic-installer/uai/installer/host"
)

// logind's well-known name, object and manager interface
// (org.freedesktop.login1(5)).
const (
	Login1Name    = "org.freedesktop.login1"
	Login1Path    = dbus.ObjectPath("/org/freedesktop/login1")
	Login1Manager = "org.freedesktop.login1.Manager"
)

// Systemctl is systemd's control program, used when there is no system
// bus to talk to logind on (a minimal container, an early-boot shell).
// It belongs with the other tool names in installer/host/tools.go.
const Systemctl host.Tool = "systemctl"

// Power reboots or powers off the machine: through logind on the system
// bus, or with `systemctl reboot|poweroff` when no bus or no logind
// answers. It never does both, so the machine is not asked twice.
type Power struct {
	// Connect opens a private connection to the system bus; nil means
	// dbus.ConnectSystemBus, which honours DBUS_SYSTEM_BUS_ADDRESS.
	Connect func(ctx context.Context) (*dbus.Conn, error)
	// Runner runs the systemctl fallback; nil means there is none.
	Runner host.Runner
	// Interactive lets logind ask polkit to authenticate the user.
	Interactive bool
}

// Reboot asks for a reboot and returns how it asked.
func (p *Power) Reboot(ctx context.Context) (string, error) { return p.act(ctx, "Reboot", "reboot") }

// PowerOff asks for a power-off and returns how it asked.
func (p *Power) PowerOff(ctx context.Context) (string, error) {
	return p.act(ctx, "PowerOff", "poweroff")
}

func (p *Power) connect(ctx context.Context) (*dbus.Conn, error) {
	if p.Connect != nil {
		return p.Connect(ctx)
	}
	return dbus.ConnectSystemBus(dbus.WithContext(ctx))
}

func (p *Power) act(ctx context.Context, method, verb string) (string, error) {
	var why string
	conn, err := p.connect(ctx)
	if err != nil {
		why = fmt.Sprintf("no system bus (%v)", err)
	} else {
		defer conn.Close()
		call := conn.Object(Login1Name, Login1Path).CallWithContext(ctx, Login1Manager+"."+method, 0, p.Interactive)
		if call.Err == nil {
			return fmt.Sprintf("asked logind to %s (%s.%s over D-Bus)", verb, Login1Manager, method), nil
		}
		if !noService(call.Err) {
			return "", fmt.Errorf("ask logind to %s: %w; run uai as root (polkit refuses others), or %s by hand", verb, call.Err, verb)
		}
		why = "logind is not on the system bus"
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("%s: %w", verb, err)
	}
	if p.Runner == nil {
		return "", fmt.Errorf("%s: %s and no fallback is set up; %s by hand", verb, why, verb)
	}
	if err := p.Runner.Run(ctx, host.Command{Tool: Systemctl, Args: []string{verb}}, nil); err != nil {
		return "", fmt.Errorf("%s: %s, and systemctl %s failed: %w; %s by hand", verb, why, verb, err, verb)
	}
	return fmt.Sprintf("ran systemctl %s (%s)", verb, why), nil
}

// noService reports a bus on which nobody owns logind's name, as opposed
// to logind refusing the request.
func noService(err error) bool {
	var de dbus.Error
	if errors.As(err, &de) {
		return de.Name == "org.freedesktop.DBus.Error.ServiceUnknown" || de.Name == "org.freedesktop.DBus.Error.NameHasNoOwner"
	}
	var dep *dbus.Error
	if errors.As(err, &dep) {
		return dep.Name == "org.freedesktop.DBus.Error.ServiceUnknown" || dep.Name == "org.freedesktop.DBus.Error.NameHasNoOwner"
	}
	return false
}
