package installer

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/universal-atomic-installer/uai/installer/host"
	"github.com/universal-atomic-installer/uai/partition"
)

const efibootmgrOut = `BootCurrent: 0003
Timeout: 1 seconds
BootOrder: 0003,0001,0000
Boot0000* UiApp	FvVol(7cb8bdc9-f8eb-4f34-aaea-3ee4af6516a1)/FvFile(462caa21-7614-4503-836e-8ab6f4662331)
Boot0001* Fedora	HD(2,GPT,6b2a5c1e-0000-4000-8000-000000000001,0x1000,0x100000)/File(\EFI\fedora\shimx64.efi)
Boot0003* UEFI: USB Stick	PciRoot(0x0)/Pci(0x14,0x0)/USB(3,0)/HD(2,GPT,11111111-2222-3333-4444-555555555555,0x1000,0x2000)
`

func TestBootEntryReport(t *testing.T) {
	// The USB stick's ESP is also partition 2 at 0x1000: only the GUID
	// tells the new disk's ESP apart.
	const guid = "6B2A5C1E-0000-4000-8000-000000000001"
	got := BootEntryReport(efibootmgrOut, 2, guid)
	if !strings.Contains(got, "Boot0001 (Fedora) points at the new system, but Boot0003 (UEFI: USB Stick) boots first") {
		t.Errorf("report %q", got)
	}
	first := strings.Replace(efibootmgrOut, "BootOrder: 0003,0001,0000", "BootOrder: 0001,0003", 1)
	if got := BootEntryReport(first, 2, guid); !strings.Contains(got, "Boot0001 (Fedora) boots the new system first") {
		t.Errorf("report %q", got)
	}
	if got := BootEntryReport(efibootmgrOut, 1, guid); !strings.Contains(got, "none points at the new ESP") {
		t.Errorf("report %q", got)
	}
}

type fakePower struct {
	calls []string
	err   error
}

func (f *fakePower) Reboot(context.Context) (string, error) {
	f.calls = append(f.calls, "reboot")
	return "through logind", f.err
}

func (f *fakePower) PowerOff(context.Context) (string, error) {
	f.calls = append(f.calls, "poweroff")
	return "through logind", f.err
}

func finishEvent(t *testing.T, c *Collector) Event {
	t.Helper()
	for _, e := range c.Snapshot() {
		if e.Type == EventStepFinished && e.Step == StepFinish {
			return e
		}
	}
	t.Fatal("no finish event")
	return Event{}
}

func TestFinishAsksForThePowerAction(t *testing.T) {
	for _, c := range []struct {
		finish    string
		simulated bool
		power     *fakePower
		status    StepStatus
		calls     string
		reason    string
	}{
		{finish: "reboot", power: &fakePower{}, status: StatusOK, calls: "reboot", reason: "reboot requested through logind"},
		{finish: "poweroff", power: &fakePower{}, status: StatusOK, calls: "poweroff", reason: "poweroff requested"},
		{finish: "reboot", power: &fakePower{err: errors.New("access denied")}, status: StatusFailed, calls: "reboot", reason: "reboot failed: access denied; the install is complete, reboot by hand"},
		{finish: "reboot", simulated: true, power: &fakePower{}, status: StatusSkipped, reason: "not done for a disk image"},
		{finish: "", power: &fakePower{}, status: StatusOK, reason: "staying in the live system"},
	} {
		t.Run(c.finish+c.reason, func(t *testing.T) {
			rec := &host.Recorder{}
			r, col := newTestRun(t, t.TempDir(), nil)
			r.e.Power, r.e.Runner, r.e.EFIDir = c.power, rec, "/nonexistent"
			r.p.Finish, r.p.Simulated = c.finish, c.simulated
			r.finish(context.Background())
			ev := finishEvent(t, col)
			if ev.Status != c.status || !strings.Contains(ev.Reason, c.reason) {
				t.Errorf("finish %s %q, want %s %q", ev.Status, ev.Reason, c.status, c.reason)
			}
			if got := strings.Join(c.power.calls, ","); got != c.calls {
				t.Errorf("power calls %q, want %q", got, c.calls)
			}
			if len(rec.Commands) != 0 {
				t.Errorf("ran %v without UEFI", rec.Lines())
			}
		})
	}
}

func TestFinishChecksTheBootEntryOnUEFI(t *testing.T) {
	rec := &host.Recorder{Respond: func(c host.Command, onLine host.LineFunc) error {
		for _, l := range strings.Split(efibootmgrOut, "\n") {
			onLine(host.Stdout, l)
		}
		return nil
	}}
	// A real disk (image) with the ESP as partition 2 and a known GUID,
	// the real device the firmware entry must point at.
	d := imageDisk(t, 1<<30)
	script := "label: gpt\nstart=2048, size=2048, type=21686148-6449-6E6F-744E-656564454649\nstart=4096, size=65536, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=6B2A5C1E-0000-4000-8000-000000000001\n"
	cmd := exec.Command("sfdisk", "--quiet", d.Path)
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("sfdisk: %v %s", err, out)
		}
		t.Skipf("SKIPPED LOUDLY: sfdisk: %v %s", err, out)
	}
	r, col := newTestRun(t, t.TempDir(), nil)
	r.e.Runner, r.e.EFIDir = rec, t.TempDir()
	r.p.Disk = PlanDisk{Path: d.Path, SectorSize: 512, SizeBytes: d.SizeBytes}
	r.p.Layout.Partitions = []partition.Planned{{Index: 2, StartSector: 4096, Mountpoint: "/boot/efi"}}
	r.finish(context.Background())
	if got := strings.Join(rec.Lines(), "\n"); got != "efibootmgr -v" {
		t.Fatalf("ran %q", got)
	}
	var report string
	for _, e := range col.Snapshot() {
		if e.Step == StepFinish && strings.HasPrefix(e.Line, "boot entry:") {
			report = e.Line
		}
	}
	if !strings.Contains(report, "boots first") {
		t.Errorf("report %q", report)
	}
	if ev := finishEvent(t, col); ev.Status != StatusOK {
		t.Errorf("a boot entry report failed the finish step: %+v", ev)
	}
}

func TestResolveFinish(t *testing.T) {
	for in, want := range map[string]string{"reboot": "reboot", "poweroff": "poweroff", "shell": "", "none": "", "": ""} {
		if got, err := resolveFinish(in); err != nil || got != want {
			t.Errorf("%q -> %q, %v", in, got, err)
		}
	}
	if _, err := resolveFinish("halt"); ClassOf(err) != ClassInvalidInput {
		t.Errorf("halt: %v", err)
	}
}
