package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/universal-atomic-installer/uai/test/internal/ocitest"
)

// defaultImage is what the test ISO's built-in answers install.
const defaultImage = "quay.io/fedora/fedora-bootc:44"

// targetSize is the target disk (sparse): above any edition's minimum.
const targetSize = 20 << 30

// answersFor is an answer file that installs image onto the test's target
// disk, picked by its serial; runner "" leaves the runner to uai (auto).
func answersFor(image, targetRef, runner string) string {
	tr := ""
	if targetRef != "" {
		tr = fmt.Sprintf("target_ref = %q\n", targetRef)
	}
	if runner != "" {
		tr += fmt.Sprintf("runner = %q\n", runner)
	}
	return fmt.Sprintf(`version = 1
confirm = true

[source]
image = %q
%s
[disk]
serial = %q
empty = true

[storage]
filesystem = "ext4"
`, image, tr, targetSerial)
}

// selected reports whether scenario id runs: make test runs the core set,
// make e2e (UAI_E2E=all) every one, UAI_E2E=a,c a chosen few.
func selected(id string, core bool) bool {
	sel := os.Getenv("UAI_E2E")
	switch sel {
	case "":
		return core
	case "all":
		return true
	}
	for _, s := range strings.Split(sel, ",") {
		if strings.TrimSpace(s) == id {
			return true
		}
	}
	return false
}

// isoCopy copies the base ISO, for a scenario that edits it in place.
func isoCopy(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "uai.iso")
	copyFile(t, baseISO, p)
	return p
}

func hostUAI(t *testing.T, args ...string) string {
	t.Helper()
	return runCmd(t, uaiHost, args...)
}

// TestE2E boots the live ISO in QEMU (TCG) for each scenario of
// docs/iso.md, reads the installer's result record from the serial
// console and checks the target disk on the host.
func TestE2E(t *testing.T) {
	needISO(t)
	start := time.Now()
	keepDir := t.TempDir()
	var cDisk string   // the disk scenario c installed, which i boots
	var cRunner string // the runner that installed it, from its receipt
	var memory []string

	// install boots the live system and checks the disk it installed and
	// which runner ran bootc. In the VM (1536 MiB, the image's size
	// unknown) uai's automatic choice is the host runner.
	install := func(t *testing.T, v vm, sector int, wantImage, wantTargetRef string, want via) (*boot, installedDisk) {
		t.Helper()
		b := v.run(t)
		if m := b.memory(); m != "" {
			t.Logf("%s: live system %s", v.name, m)
			memory = append(memory, v.name+": "+m)
		} else {
			t.Errorf("%s: the live system printed no memory line (uai-live: memory ...)", v.name)
		}
		res := b.requireInstalled(t, v.name)
		if res.Image != wantImage || res.TargetRef != wantTargetRef {
			t.Errorf("%s: installed %s (target ref %s), want %s (%s)", v.name, res.Image, res.TargetRef, wantImage, wantTargetRef)
		}
		d := checkDisk(t, v.target, sector, wantTargetRef)
		checkRunner(t, d, want)
		return b, d
	}
	registry := func(image string) via { return hostFrom("registry:" + image) }

	scenarios := []struct {
		id, name string
		core     bool
		run      func(t *testing.T)
	}{
		{"a", "seabios-cd", true, func(t *testing.T) {
			v := vm{name: "a-seabios-cd", firmware: "bios", iso: baseISO, target: sparseDisk(t, targetSize)}
			b, _ := install(t, v, 512, defaultImage, defaultImage, registry(defaultImage))
			if b.find("firmware=bios") == "" {
				t.Errorf("the live system did not report BIOS firmware")
			}
		}},
		{"b", "seabios-usb", false, func(t *testing.T) {
			v := vm{name: "b-seabios-usb", firmware: "bios", iso: baseISO, isoAsHD: true, target: sparseDisk(t, targetSize)}
			b, _ := install(t, v, 512, defaultImage, defaultImage, registry(defaultImage))
			if b.find("firmware=bios") == "" {
				t.Errorf("the live system did not report BIOS firmware")
			}
		}},
		{"c", "ovmf-cd", true, func(t *testing.T) {
			v := vm{name: "c-ovmf-cd", firmware: "uefi", iso: baseISO, target: sparseDisk(t, targetSize)}
			b, d := install(t, v, 512, defaultImage, defaultImage, registry(defaultImage))
			if b.find("firmware=uefi secureboot=off") == "" {
				t.Errorf("the live system did not report UEFI without Secure Boot")
			}
			if d.receipt != nil {
				cRunner = d.receipt.Runner
			}
			// Keep the disk for i: move it out of this subtest's temp dir.
			keep := filepath.Join(keepDir, "c-target.img")
			if err := os.Rename(v.target, keep); err != nil {
				t.Fatal(err)
			}
			cDisk = keep
		}},
		{"i", "installed-disk-boots", true, func(t *testing.T) {
			if cDisk == "" {
				t.Fatal("scenario c left no installed disk to boot (run c and i together: UAI_E2E=c,i)")
			}
			v := vm{name: "i-installed-disk", firmware: "uefi", target: cDisk}
			b := v.run(t)
			health := b.find("uai-health:")
			if !strings.HasPrefix(health, "uai-health: ok ") {
				t.Fatalf("the installed disk did not boot to a healthy system; health line %q, last lines:\n%s", health, b.tail(30))
			}
			if !strings.Contains(health, "origin=ostree-unverified-registry:"+defaultImage) {
				t.Errorf("the first boot found another origin: %s", health)
			}
			// The proof that the host runner's disk boots: the boot
			// entry's root=UUID= comes from the live system's
			// /dev/disk/by-uuid, which bootc reads without podman.
			if cRunner != "host" {
				t.Errorf("c's disk was installed by the %q runner, so this boot does not prove the host runner's disk boots", cRunner)
			}
			t.Logf("first boot of a disk the %s runner installed: %s", cRunner, health)
		}},
		{"d", "ovmf-secureboot", true, func(t *testing.T) {
			v := vm{name: "d-ovmf-secureboot", firmware: "secboot", iso: baseISO, target: sparseDisk(t, targetSize)}
			b, _ := install(t, v, 512, defaultImage, defaultImage, registry(defaultImage))
			if b.find("firmware=uefi secureboot=on") == "" {
				t.Errorf("Secure Boot was not enforced: the kernel did not report lockdown; %q", b.find("uai-live: booted"))
			}
			if b.find("not-loaded=0") == "" {
				t.Errorf("some kernel modules did not load under lockdown: %q", b.find("uai-live: booted"))
			}
		}},
		{"e", "nvme-target", false, func(t *testing.T) {
			v := vm{name: "e-nvme", firmware: "bios", iso: baseISO, target: sparseDisk(t, targetSize), bus: "nvme"}
			b, _ := install(t, v, 512, defaultImage, defaultImage, registry(defaultImage))
			if !strings.HasPrefix(b.result.Disk, "/dev/nvme") {
				t.Errorf("installed to %s, want the NVMe disk", b.result.Disk)
			}
		}},
		{"f", "4k-sectors", false, func(t *testing.T) {
			v := vm{name: "f-4k-sectors", firmware: "uefi", iso: baseISO, target: sparseDisk(t, targetSize), sector4k: true}
			install(t, v, 4096, defaultImage, defaultImage, registry(defaultImage))
		}},
		{"g", "answers-embedded-after-build", true, func(t *testing.T) {
			iso := isoCopy(t)
			const image = "registry.example.org/uai-e2e/embedded:g"
			// The answers force the podman runner: one VM keeps proving it
			// while the automatic choice in these VMs is the host runner.
			body := answersFor(image, "", "podman")
			ans := filepath.Join(t.TempDir(), "g.toml")
			if err := os.WriteFile(ans, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			hostUAI(t, "iso", "embed", ans, iso)
			if got := hostUAI(t, "iso", "show", iso); got != body {
				t.Fatalf("uai iso show after embed:\n%s", got)
			}
			// The USB-stick path under UEFI: the ISO as a hard disk.
			v := vm{name: "g-embedded-answers", firmware: "uefi", iso: iso, isoAsHD: true, target: sparseDisk(t, targetSize)}
			install(t, v, 512, image, image, viaPodman)
		}},
		{"h", "answers-over-http", false, func(t *testing.T) {
			const image = "registry.example.org/uai-e2e/http:h"
			body := answersFor(image, "", "")
			sum := sha256.Sum256([]byte(body))
			var hits atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/h.toml" {
					http.NotFound(w, r)
					return
				}
				hits.Add(1)
				_, _ = io.WriteString(w, body)
			}))
			defer srv.Close()
			port := srv.URL[strings.LastIndexByte(srv.URL, ':')+1:]
			iso := isoCopy(t)
			// Only the kernel argument carries answers: the embedded ones go.
			hostUAI(t, "iso", "remove", iso)
			// QEMU's user network shows the host's loopback as 10.0.2.2.
			url := "http://10.0.2.2:" + port + "/h.toml#sha256=" + hex.EncodeToString(sum[:])
			hostUAI(t, "iso", "kargs", "--append", "uai.answers="+url, iso)
			if got := hostUAI(t, "iso", "kargs", iso); !strings.Contains(got, "uai.answers="+url) {
				t.Fatalf("uai iso kargs shows %q", got)
			}
			v := vm{name: "h-answers-http", firmware: "bios", iso: iso, target: sparseDisk(t, targetSize), net: true}
			install(t, v, 512, image, image, registry(image))
			if hits.Load() == 0 {
				t.Errorf("the live system never fetched the answers from the host")
			}
		}},
		{"j", "offline-embedded-image", true, func(t *testing.T) {
			ref, digest := pushBootableImage(t)
			tag := ref.Context().Tag("1").String()
			pinned := ref.Context().Digest(digest.String()).String()
			dir := t.TempDir()
			ans := filepath.Join(dir, "j.toml")
			if err := os.WriteFile(ans, []byte(answersFor(pinned, tag, "")), 0o644); err != nil {
				t.Fatal(err)
			}
			iso := filepath.Join(dir, "offline.iso")
			hostUAI(t, "iso", "build", "--kernel", filepath.Join(isoDir, "kernel", "vmlinuz"), "--initrd", filepath.Join(isoDir, "initrd.img"),
				"--efi-dir", filepath.Join(isoDir, "efi"), "--bios-dir", filepath.Join(isoDir, "bios"), "--label", "UAI_LIVE",
				"--karg", "console=ttyS0,115200", "--timeout", "0", "--answers", ans, "--embed-image", tag, "-o", iso)
			// No network device at all: the image comes from the medium.
			v := vm{name: "j-offline", firmware: "uefi", iso: iso, target: sparseDisk(t, targetSize)}
			// The host runner installs the embedded image from the medium's
			// OCI layout, by the ref it is embedded under (the tag; the
			// answers pin its digest).
			b, d := install(t, v, 512, pinned, tag, hostFrom("oci:/run/initramfs/live/images/oci:"+tag))
			if line := b.find("uai-live: embedded image " + tag); !strings.Contains(line, digest.String()) || !strings.Contains(line, "verified") {
				t.Errorf("the live system did not verify the embedded image: %q", line)
			}
			if b.find("uai-live: network") != "" {
				t.Errorf("the VM had a network: %s", b.find("uai-live: network"))
			}
			if d.alephDigest != digest.String() {
				t.Errorf("the installed deployment records digest %s, the embedded image is %s", d.alephDigest, digest)
			}
		}},
	}
	ran := 0
	for _, s := range scenarios {
		if !selected(s.id, s.core) {
			continue
		}
		ran++
		t.Run(s.id+"-"+s.name, s.run)
	}
	if ran == 0 {
		t.Fatalf("UAI_E2E=%q selects no scenario; use all, or ids a..j", os.Getenv("UAI_E2E"))
	}
	t.Logf("%d scenarios in %s", ran, time.Since(start).Round(time.Second))
	if len(memory) > 0 {
		t.Logf("live system memory during the installs (1536 MiB VMs):\n  %s", strings.Join(memory, "\n  "))
	}
}

// pushBootableImage serves go-containerregistry's in-process registry for
// the rest of the test and pushes a small image labelled bootable to it.
func pushBootableImage(t *testing.T) (name.Reference, v1.Hash) {
	t.Helper()
	ref, err := name.ParseReference(ocitest.Registry(t) + "/uai-e2e/offline:1")
	if err != nil {
		t.Fatal(err)
	}
	img := ocitest.BootableImage(t, 256<<10, 2, ocitest.Platform("linux", "amd64"))
	return ref, ocitest.Push(t, ref.String(), img)
}
