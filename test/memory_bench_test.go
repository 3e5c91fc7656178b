package test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/universal-atomic-installer/uai/test/internal/ocitest"
)

// memoryLayout writes an OCI layout holding one small bootable image
// under ref, as `uai iso build --embed-image` lays it out on a medium
// (images/oci), and returns the medium's images directory.
func memoryLayout(b *testing.B, ref string) string {
	b.Helper()
	dir := filepath.Join(b.TempDir(), "images")
	ocitest.WriteLayout(b, filepath.Join(dir, "oci"), ocitest.Entry{Ref: ref, Image: ocitest.BootableImage(b, 1<<20, 3)})
	return dir
}

// BenchmarkInstallMemory reports the peak resident memory (ru_maxrss) of
// whole `uai install` processes on a 64 GiB sparse image on a loop device,
// demo mode (the built-in simulator plays bootc in the same process, so
// its file writes count too): once with the podman runner, once with the
// host runner installing from an OCI layout as on a live medium.
// test/bench/memory.sh prints the medians. This is uai's own footprint on
// the live system; the real bootc and podman cannot run here.
func BenchmarkInstallMemory(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("SKIPPED LOUDLY: needs root for loop devices and mounts")
	}
	const edition = "fedora-bootc-44"
	const image = "quay.io/fedora/fedora-bootc:44"
	medium := memoryLayout(b, image)
	for _, c := range []struct {
		name    string
		program string // the bootc step's command: podman run, or bootc itself
		args    []string
	}{
		{"podman", "podman", []string{"--runner", "podman"}},
		{"host-oci", "bootc", []string{"--medium-images", medium}},
	} {
		b.Run(c.name, func(b *testing.B) {
			var peak int64
			for i := 0; i < b.N; i++ {
				dir := b.TempDir()
				img := filepath.Join(dir, "disk.img")
				f, err := os.Create(img)
				if err != nil {
					b.Fatal(err)
				}
				if err := f.Truncate(64 << 30); err != nil {
					b.Fatal(err)
				}
				f.Close()
				args := append([]string{"install", "--demo", "--yes", "--progress=json", "--edition", edition,
					"--target", img, "--target-dir", filepath.Join(dir, "target")}, c.args...)
				cmd := exec.Command(uaiBin, args...)
				var out bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, &out
				if err := cmd.Run(); err != nil {
					b.Fatalf("uai %v: %v\n%s", args, err, out.String())
				}
				if want := []byte(`"step":"bootc","stream":"cmd","line":"$ ` + c.program + ` `); !bytes.Contains(out.Bytes(), want) {
					b.Fatalf("the run did not use the %s runner:\n%s", c.name, out.String())
				}
				ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
				peak = max(peak, ru.Maxrss)
			}
			b.ReportMetric(float64(peak)/1024, "peak-MiB")
		})
	}
}
