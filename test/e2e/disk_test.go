package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// GPT partition types the installer's layout uses.
const (
	typeBIOSBoot = "21686148-6449-6E6F-744E-656564454649"
	typeESP      = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
	typeRootX86  = "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709"
)

// installedDisk is what the host found on a target disk after an install.
type installedDisk struct {
	rootUUID    string
	deployment  string // relative to the root filesystem
	origin      string
	alephDigest string
	bootEntry   string // the ESP's loader entry, when the real boot loader was installed
	receipt     *receipt
}

// receipt is the part of the receipt uai leaves on the installed system
// (/var/lib/uai/receipt.json in the stateroot's var) the test reads.
type receipt struct {
	Runner  string   `json:"runner"`
	Command []string `json:"command"` // the bootc handoff as run
}

type sfdiskPart struct {
	Start uint64 `json:"start"`
	Size  uint64 `json:"size"`
	Type  string `json:"type"`
	Name  string `json:"name"`
}

// checkDisk reads the target disk with independent tools: the GPT with
// sfdisk, the filesystems with blkid, the ESP with mtools and the root
// filesystem by mounting it read-only through a loop device.
func checkDisk(t *testing.T, img string, sector int, wantTargetRef string) installedDisk {
	t.Helper()
	var table struct {
		PT struct {
			Label      string       `json:"label"`
			SectorSize int          `json:"sectorsize"`
			Partitions []sfdiskPart `json:"partitions"`
		} `json:"partitiontable"`
	}
	dev := img
	if sector != 512 {
		// sfdisk takes an image file's sectors to be 512 bytes; a loop
		// device with the disk's sector size shows it the real geometry.
		dev = strings.TrimSpace(runCmd(t, "losetup", "--find", "--show", "--read-only", "--sector-size", strconv.Itoa(sector), img))
		defer func() {
			if out, err := exec.Command("losetup", "-d", dev).CombinedOutput(); err != nil {
				t.Errorf("losetup -d %s: %v: %s", dev, err, out)
			}
		}()
	}
	if err := json.Unmarshal([]byte(runCmd(t, "sfdisk", "--json", dev)), &table); err != nil {
		t.Fatalf("sfdisk --json: %v", err)
	}
	if table.PT.Label != "gpt" || table.PT.SectorSize != sector {
		t.Fatalf("target: want a GPT with %d-byte sectors, sfdisk sees %q with %d", sector, table.PT.Label, table.PT.SectorSize)
	}
	byType := map[string]sfdiskPart{}
	for _, p := range table.PT.Partitions {
		byType[strings.ToUpper(p.Type)] = p
	}
	for _, want := range []string{typeBIOSBoot, typeESP, typeRootX86} {
		if _, ok := byType[want]; !ok {
			t.Fatalf("target: no partition of type %s in %+v", want, table.PT.Partitions)
		}
	}
	esp, root := byType[typeESP], byType[typeRootX86]
	espOff, rootOff := int64(esp.Start)*int64(sector), int64(root.Start)*int64(sector)
	espFS, rootFS := probe(t, img, espOff), probe(t, img, rootOff)
	if espFS["TYPE"] != "vfat" || rootFS["TYPE"] != "ext4" {
		t.Fatalf("target: ESP holds %q and root %q, want vfat and ext4", espFS["TYPE"], rootFS["TYPE"])
	}
	var d installedDisk
	d.rootUUID = rootFS["UUID"]

	// The boot loader entry the fake bootc wrote, read with mtools.
	if out, err := exec.Command("mtype", "-i", fmt.Sprintf("%s@@%d", img, espOff), "::/loader/entries/ostree-1.conf").CombinedOutput(); err == nil {
		d.bootEntry = string(out)
		if !strings.Contains(d.bootEntry, "root=UUID="+d.rootUUID) {
			t.Errorf("the ESP's boot entry does not name the root filesystem UUID %s:\n%s", d.rootUUID, d.bootEntry)
		}
	} else {
		t.Errorf("the ESP has no systemd-boot entry (mtype: %v): %s", err, out)
	}

	mnt := mountRO(t, img, rootOff, int64(root.Size)*int64(sector))
	deps, _ := filepath.Glob(filepath.Join(mnt, "ostree", "deploy", "*", "deploy", "*.0"))
	if len(deps) != 1 {
		t.Fatalf("target: want one deployment under ostree/deploy, found %v", deps)
	}
	d.deployment = strings.TrimPrefix(deps[0], mnt)
	for _, f := range []string{"usr/lib/os-release", "etc/passwd"} {
		if _, err := os.Stat(filepath.Join(deps[0], f)); err != nil {
			t.Errorf("deployment %s lacks %s", d.deployment, f)
		}
	}
	origin, err := os.ReadFile(deps[0] + ".origin")
	if err != nil {
		t.Fatalf("deployment has no .origin: %v", err)
	}
	for _, line := range strings.Split(string(origin), "\n") {
		if v, ok := strings.CutPrefix(line, "container-image-reference="); ok {
			d.origin = v
		}
	}
	if want := "ostree-unverified-registry:" + wantTargetRef; d.origin != want {
		t.Errorf("the installed system updates from %q, want %q", d.origin, want)
	}
	var aleph struct {
		Digest string `json:"digest"`
	}
	if b, err := os.ReadFile(filepath.Join(mnt, ".bootc-aleph.json")); err != nil || json.Unmarshal(b, &aleph) != nil {
		t.Errorf("no readable .bootc-aleph.json in the root: %v", err)
	}
	d.alephDigest = aleph.Digest
	// The receipt, in the stateroot's /var.
	receipts, _ := filepath.Glob(filepath.Join(mnt, "ostree", "deploy", "*", "var", "lib", "uai", "receipt.json"))
	switch len(receipts) {
	case 0:
		t.Errorf("no receipt on the target (ostree/deploy/*/var/lib/uai/receipt.json)")
	case 1:
		var rc receipt
		if b, err := os.ReadFile(receipts[0]); err != nil {
			t.Errorf("read the receipt: %v", err)
		} else if err := json.Unmarshal(b, &rc); err != nil {
			t.Errorf("receipt %s is not JSON: %v", strings.TrimPrefix(receipts[0], mnt), err)
		} else {
			d.receipt = &rc
			t.Logf("receipt: runner %s, command %s", rc.Runner, strings.Join(rc.Command, " "))
		}
	default:
		t.Errorf("more than one receipt on the target: %v", receipts)
	}
	t.Logf("target: GPT %d partitions, root UUID %s, deployment %s, origin %s", len(table.PT.Partitions), d.rootUUID, d.deployment, d.origin)
	return d
}

// probe runs blkid on a filesystem inside an image.
func probe(t *testing.T, img string, off int64) map[string]string {
	t.Helper()
	out := runCmd(t, "blkid", "-p", "-o", "export", "-O", strconv.FormatInt(off, 10), img)
	m := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			m[k] = v
		}
	}
	return m
}

// mountRO mounts the filesystem at off in img read-only; cleanup unmounts
// it and detaches the loop device.
func mountRO(t *testing.T, img string, off, size int64) string {
	t.Helper()
	dev := strings.TrimSpace(runCmd(t, "losetup", "--find", "--show", "--read-only",
		"--offset", strconv.FormatInt(off, 10), "--sizelimit", strconv.FormatInt(size, 10), img))
	t.Cleanup(func() {
		if out, err := exec.Command("losetup", "-d", dev).CombinedOutput(); err != nil {
			t.Errorf("losetup -d %s: %v: %s", dev, err, out)
		}
	})
	dir := t.TempDir()
	runCmd(t, "mount", "-t", "ext4", "-o", "ro,noload", dev, dir)
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// via is how bootc should have run: the receipt's runner and, for the
// host runner, the --source-imgref the live system's bootc installed from.
type via struct {
	runner string // host or podman
	source string // host only: TRANSPORT:REF
}

// hostFrom is the host runner installing from source (registry:REF,
// oci:DIR:REF); viaPodman the image's own bootc under podman.
func hostFrom(source string) via { return via{runner: "host", source: source} }

var viaPodman = via{runner: "podman"}

// checkRunner checks the receipt's runner and bootc command against want:
// the host runner runs the live system's bootc itself with
// --source-imgref; the podman runner starts with podman run and bootc
// inside.
func checkRunner(t *testing.T, d installedDisk, want via) {
	t.Helper()
	if d.receipt == nil {
		t.Errorf("no receipt to tell which runner installed (want %s)", want.runner)
		return
	}
	rc := d.receipt
	if rc.Runner != want.runner {
		t.Errorf("the receipt's runner is %q, want %q (command %q)", rc.Runner, want.runner, rc.Command)
	}
	if len(rc.Command) == 0 {
		t.Errorf("the receipt records no bootc command")
		return
	}
	tool := filepath.Base(rc.Command[0])
	switch want.runner {
	case "host":
		if tool != "bootc" {
			t.Errorf("the host runner's command starts with %q, want bootc: %q", rc.Command[0], rc.Command)
		}
		if got, ok := flagValue(rc.Command, "--source-imgref"); !ok || got != want.source {
			t.Errorf("the host runner's command has --source-imgref %q (given: %v), want %q: %q", got, ok, want.source, rc.Command)
		}
	case "podman":
		if tool != "podman" || !slices.Contains(rc.Command, "bootc") {
			t.Errorf("the podman runner's command is not podman ... bootc: %q", rc.Command)
		}
	}
}

// flagValue finds --flag VALUE or --flag=VALUE in argv.
func flagValue(argv []string, flag string) (string, bool) {
	for i, a := range argv {
		if a == flag && i+1 < len(argv) {
			return argv[i+1], true
		}
		if v, ok := strings.CutPrefix(a, flag+"="); ok {
			return v, true
		}
	}
	return "", false
}
