// Package e2e boots the live test ISO (make iso) in QEMU and checks what its unattended installs leave on the target disk.
package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// The artifacts of make iso.
var (
	isoDir    string // build/iso
	baseISO   string // build/iso/uai-test.iso
	uaiHost   string // build/iso/bin/uai: the uai that built the ISO
	logDir    string // serial logs of every boot, kept for reading after a failure
	vmTimeout = 300 * time.Second
)

// targetSerial is the serial QEMU gives the target disk; the test ISO's
// default answers select the disk by it.
const targetSerial = "UAI-E2E-TARGET"

func TestMain(m *testing.M) {
	isoDir = os.Getenv("UAI_E2E_DIR")
	if isoDir == "" {
		wd, _ := os.Getwd()
		isoDir = filepath.Join(wd, "..", "..", "build", "iso")
	}
	isoDir, _ = filepath.Abs(isoDir)
	baseISO = filepath.Join(isoDir, "uai-test.iso")
	uaiHost = filepath.Join(isoDir, "bin", "uai")
	logDir = filepath.Join(isoDir, "logs")
	if s := os.Getenv("UAI_E2E_VM_TIMEOUT"); s != "" {
		if d, err := time.ParseDuration(s); err == nil {
			vmTimeout = d
		}
	}
	os.Exit(m.Run())
}

// unavailable fails in CI (where make test builds and installs everything)
// and skips loudly elsewhere.
func unavailable(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (CI=true: this is a failure, not a skip)", why)
	}
	t.Skipf("SKIPPED LOUDLY: %s", why)
}

// needISO stops the test unless make iso has run and the tools are here.
func needISO(t *testing.T) {
	t.Helper()
	for _, p := range []string{baseISO, uaiHost, filepath.Join(isoDir, "initrd.img"), filepath.Join(isoDir, "kernel", "vmlinuz")} {
		if _, err := os.Stat(p); err != nil {
			unavailable(t, fmt.Sprintf("%s is missing: run make iso first", p))
		}
	}
	for _, tool := range []string{"qemu-system-x86_64", "sfdisk", "blkid", "mtype", "losetup", "mount"} {
		if _, err := exec.LookPath(tool); err != nil {
			unavailable(t, tool+" is missing (Debian packages qemu-system-x86, fdisk, util-linux, mtools, mount)")
		}
	}
	for _, f := range []string{ovmfCode, ovmfVars, ovmfCodeSB, ovmfVarsMS} {
		if _, err := os.Stat(f); err != nil {
			unavailable(t, f+" is missing (Debian package ovmf)")
		}
	}
	if os.Geteuid() != 0 {
		unavailable(t, "the disk checks mount the installed root through a loop device, which needs root")
	}
}

const (
	ovmfCode   = "/usr/share/OVMF/OVMF_CODE_4M.fd"
	ovmfVars   = "/usr/share/OVMF/OVMF_VARS_4M.fd"
	ovmfCodeSB = "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd"
	ovmfVarsMS = "/usr/share/OVMF/OVMF_VARS_4M.ms.fd"
)

// vm is one QEMU boot.
type vm struct {
	name     string
	firmware string // bios, uefi or secboot
	iso      string // "" boots the target disk alone
	isoAsHD  bool   // attach the ISO as a hard disk (a USB stick) instead of a CD
	target   string // target disk image
	bus      string // virtio (default) or nvme
	sector4k bool
	net      bool
}

// serialLine is one console line and when it arrived.
type serialLine struct {
	at   time.Duration
	text string
}

// boot is what a VM run printed.
type boot struct {
	lines  []serialLine
	wall   time.Duration
	log    string
	result *result
}

// result is the part of the installer's result record the test reads.
type result struct {
	ExitCode  int    `json:"exit_code"`
	Class     string `json:"class"`
	Error     string `json:"error"`
	Image     string `json:"image"`
	TargetRef string `json:"target_ref"`
	Disk      string `json:"disk"`
	Simulated bool   `json:"simulated"`
}

// at returns when the first line containing s arrived.
func (b *boot) at(s string) (time.Duration, bool) {
	for _, l := range b.lines {
		if strings.Contains(l.text, s) {
			return l.at, true
		}
	}
	return 0, false
}

func (b *boot) find(s string) string {
	for _, l := range b.lines {
		if strings.Contains(l.text, s) {
			return l.text
		}
	}
	return ""
}

// memory is the live system's memory line (init samples MemAvailable
// while the installer runs), without its prefix; "" when there is none.
func (b *boot) memory() string {
	if l := b.find("uai-live: memory "); l != "" {
		return strings.TrimPrefix(l[strings.Index(l, "uai-live: memory "):], "uai-live: ")
	}
	return ""
}

func (b *boot) tail(n int) string {
	var out []string
	for i := max(0, len(b.lines)-n); i < len(b.lines); i++ {
		out = append(out, b.lines[i].text)
	}
	return strings.Join(out, "\n")
}

func (v vm) args(t *testing.T) []string {
	a := []string{"-accel", "tcg", "-m", "1536", "-smp", "1", "-display", "none", "-no-reboot",
		"-nodefaults", "-monitor", "none", "-serial", "stdio"}
	switch v.firmware {
	case "bios":
	case "uefi", "secboot":
		code, vars := ovmfCode, ovmfVars
		machine := "q35"
		if v.firmware == "secboot" {
			code, vars, machine = ovmfCodeSB, ovmfVarsMS, "q35,smm=on"
			a = append(a, "-global", "driver=cfi.pflash01,property=secure,value=on")
		}
		// The variables store is written at boot: each VM gets a copy.
		varsCopy := filepath.Join(t.TempDir(), "vars.fd")
		copyFile(t, vars, varsCopy)
		a = append(a, "-machine", machine,
			"-drive", "if=pflash,format=raw,unit=0,readonly=on,file="+code,
			"-drive", "if=pflash,format=raw,unit=1,file="+varsCopy)
	default:
		t.Fatalf("unknown firmware %q", v.firmware)
	}
	if v.iso != "" {
		if v.isoAsHD {
			a = append(a, "-drive", "if=none,id=medium,format=raw,snapshot=on,file="+v.iso, "-device", "ide-hd,drive=medium,bootindex=0")
		} else {
			a = append(a, "-drive", "if=none,id=medium,media=cdrom,readonly=on,file="+v.iso, "-device", "ide-cd,drive=medium,bootindex=0")
		}
	}
	if v.target != "" {
		a = append(a, "-drive", "if=none,id=target,format=raw,cache=unsafe,file="+v.target)
		boot := ""
		if v.iso == "" {
			boot = ",bootindex=0"
		}
		switch v.bus {
		case "", "virtio":
			dev := "virtio-blk-pci,drive=target,serial=" + targetSerial + boot
			if v.sector4k {
				dev += ",logical_block_size=4096,physical_block_size=4096"
			}
			a = append(a, "-device", dev)
		case "nvme":
			a = append(a, "-device", "nvme,drive=target,serial="+targetSerial+boot)
		default:
			t.Fatalf("unknown bus %q", v.bus)
		}
	}
	if v.net {
		a = append(a, "-netdev", "user,id=net0", "-device", "virtio-net-pci,netdev=net0")
	}
	return a
}

var jsonLine = regexp.MustCompile(`\{"v":1,.*\}`)

// run boots the VM until it powers off (or the timeout), recording the
// serial console line by line with arrival times.
func (v vm) run(t *testing.T) *boot {
	t.Helper()
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		t.Fatal(err)
	}
	b := &boot{log: filepath.Join(logDir, v.name+".log")}
	logf, err := os.Create(b.log)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	args := v.args(t)
	fmt.Fprintf(logf, "# qemu-system-x86_64 %s\n", strings.Join(args, " "))
	cmd := exec.Command("qemu-system-x86_64", args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("start qemu: %v", err)
	}
	var mu sync.Mutex
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			text := strings.TrimRight(sc.Text(), "\r")
			at := time.Since(start)
			mu.Lock()
			b.lines = append(b.lines, serialLine{at: at, text: text})
			mu.Unlock()
			fmt.Fprintf(logf, "%8.3f %s\n", at.Seconds(), text)
		}
	}()
	timer := time.AfterFunc(vmTimeout, func() { _ = cmd.Process.Kill() })
	<-done
	werr := cmd.Wait()
	timer.Stop()
	b.wall = time.Since(start)
	mu.Lock()
	defer mu.Unlock()
	if b.wall >= vmTimeout {
		t.Fatalf("%s: the VM did not power off within %s; serial log %s, last lines:\n%s", v.name, vmTimeout, b.log, b.tail(40))
	}
	if werr != nil {
		t.Fatalf("%s: qemu failed: %v\n%s\nserial log %s, last lines:\n%s", v.name, werr, stderr.String(), b.log, b.tail(40))
	}
	for _, l := range b.lines {
		m := jsonLine.FindString(l.text)
		if m == "" {
			continue
		}
		var ev struct {
			Type   string  `json:"type"`
			Result *result `json:"result"`
		}
		if json.Unmarshal([]byte(m), &ev) == nil && ev.Type == "result" {
			if b.result != nil {
				t.Fatalf("%s: more than one result record on the console", v.name)
			}
			b.result = ev.Result
		}
	}
	t.Logf("%s: %s wall, serial log %s", v.name, b.wall.Round(100*time.Millisecond), b.log)
	return b
}

// requireInstalled fails unless the console carried a successful result
// record: the record, not the exit of QEMU, decides.
func (b *boot) requireInstalled(t *testing.T, name string) *result {
	t.Helper()
	if b.result == nil {
		t.Fatalf("%s: no result record on the serial console; last lines:\n%s", name, b.tail(40))
	}
	if b.result.ExitCode != 0 {
		t.Fatalf("%s: the install failed: exit %d (%s): %s\nlast lines:\n%s", name, b.result.ExitCode, b.result.Class, b.result.Error, b.tail(40))
	}
	if b.result.Simulated {
		t.Errorf("%s: the result says simulated; the live system must run the real engine with the fakes on PATH", name)
	}
	if in, ok := b.at("uai-live: starting the installer"); ok {
		t.Logf("%s: boot to installer %s (wall, from QEMU start)", name, in.Round(100*time.Millisecond))
	}
	return b.result
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// sparseDisk makes an empty target disk.
func sparseDisk(t *testing.T, size int64) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "target.img")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return p
}

func runCmd(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}
