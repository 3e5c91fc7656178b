package test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/universal-atomic-installer/uai/catalog"
	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/installer/host"
	"github.com/universal-atomic-installer/uai/partition"
)

// Apply on a 1 TiB sparse image: uai's engine (describe, journal, GPT
// with go-diskfs, read-back verification, mkfs.fat of the ESP in place)
// against the standard tools writing the same table and ESP. sgdisk
// sleeps a second after every write (it waits for the kernel to re-read
// the table), so sfdisk is measured as a second baseline.
// test/bench/disks.sh prints the ratio of medians.
func BenchmarkDiskApply1TiB(b *testing.B) {
	for _, tool := range []string{"sgdisk", "sfdisk", "mkfs.vfat", "mkfs.fat"} {
		if _, err := exec.LookPath(tool); err != nil {
			b.Skipf("SKIPPED LOUDLY: %s is not installed", tool)
		}
	}
	image := func(b *testing.B) string {
		p := filepath.Join(b.TempDir(), "disk.img")
		f, err := os.Create(p)
		if err != nil {
			b.Fatal(err)
		}
		if err := f.Truncate(1 << 40); err != nil {
			b.Fatal(err)
		}
		f.Close()
		return p
	}
	b.Setenv("UAI_STATE_DIR", b.TempDir())
	b.Run("uai", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			img := image(b)
			b.StartTimer()
			d, err := partition.Describe(img)
			if err != nil {
				b.Fatal(err)
			}
			p, err := installer.Resolve(installer.Request{EditionID: "fedora-bootc-44", Arch: "amd64", DiskPath: img, Demo: true},
				[]partition.Disk{d}, catalog.Embedded())
			if err != nil {
				b.Fatal(err)
			}
			ex := &host.Exec{}
			if _, err := (&installer.Engine{Runner: ex, IsRoot: false}).Run(context.Background(), p, &installer.Collector{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	shell := func(b *testing.B, table func(img string) *exec.Cmd) {
		for b.Loop() {
			b.StopTimer()
			img := image(b)
			b.StartTimer()
			if out, err := table(img).CombinedOutput(); err != nil {
				b.Fatalf("%v\n%s", err, out)
			}
			if out, err := exec.Command("mkfs.vfat", "-F", "32", "-n", "EFI-SYSTEM", "-S", "512", "--offset", "4096", img, "524288").CombinedOutput(); err != nil {
				b.Fatalf("mkfs.vfat: %v\n%s", err, out)
			}
		}
	}
	b.Run("sgdisk", func(b *testing.B) {
		shell(b, func(img string) *exec.Cmd {
			return exec.Command("sgdisk", "-o", "-n", "1:2048:+1M", "-t", "1:EF02", "-c", "1:BIOS-BOOT",
				"-n", "2:0:+512M", "-t", "2:EF00", "-c", "2:EFI-SYSTEM", "-n", "3:0:0", "-t", "3:8304", "-c", "3:root", img)
		})
	})
	b.Run("sfdisk", func(b *testing.B) {
		shell(b, func(img string) *exec.Cmd {
			c := exec.Command("sfdisk", "-q", "--no-reread", "--no-tell-kernel", img)
			c.Stdin = strings.NewReader("label: gpt\n" +
				"start=2048, size=2048, type=21686148-6449-6E6F-744E-656564454649, name=BIOS-BOOT\n" +
				"start=4096, size=1048576, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=EFI-SYSTEM\n" +
				"start=1052672, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name=root\n")
			return c
		})
	})
}
