package installer

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/universal-atomic-installer/uai/installer/host"
	"github.com/universal-atomic-installer/uai/partition"
)

func imageDisk(t *testing.T, size int64) partition.Disk {
	t.Helper()
	p := filepath.Join(t.TempDir(), "disk.img")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	f.Close()
	d, err := partition.Describe(p)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Without root the engine writes the table and formats the ESP inside the
// image file, then stops on purpose, says why, and skips the rest.
func TestEngineWithoutRootStopsAfterPartitioning(t *testing.T) {
	if _, err := exec.LookPath("mkfs.fat"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("mkfs.fat missing in CI")
		}
		t.Skip("SKIPPED LOUDLY: mkfs.fat (dosfstools) is not installed")
	}
	d := imageDisk(t, 64<<30)
	p, err := Resolve(Request{EditionID: "fedora-bootc-44", DiskPath: d.Path, Demo: true, Arch: "amd64"}, []partition.Disk{d}, testCatalog())
	if err != nil {
		t.Fatal(err)
	}
	rec := &Collector{}
	ex := &host.Exec{}
	e := &Engine{Runner: ex, Locate: ex, IsRoot: false}
	res, err := e.Run(context.Background(), p, rec)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if res.ExitCode != 0 || !strings.Contains(res.Stopped, "need root") {
		t.Fatalf("result %+v", res)
	}
	status := map[StepID]StepStatus{}
	for _, ev := range rec.Snapshot() {
		if ev.Type == EventStepFinished {
			status[ev.Step] = ev.Status
		}
	}
	want := map[StepID]StepStatus{StepPreflight: StatusOK, StepPartition: StatusOK, StepFormat: StatusOK,
		StepMount: StatusSkipped, StepBootc: StatusSkipped, StepVerify: StatusSkipped}
	for s, st := range want {
		if status[s] != st {
			t.Errorf("step %s: %q, want %q", s, status[s], st)
		}
	}
	if err := partition.Verify(d.Path, p.Layout); err != nil {
		t.Fatalf("table on the image does not match the plan: %v", err)
	}
	after, err := partition.Describe(d.Path)
	if err != nil {
		t.Fatal(err)
	}
	var espFS string
	for _, part := range after.Partitions {
		if part.Index == 2 {
			espFS = part.Filesystem + "/" + part.Label
		}
	}
	if espFS != "vfat/EFI-SYSTEM" {
		t.Fatalf("ESP holds %q, want a FAT filesystem labelled EFI-SYSTEM", espFS)
	}
}

// A disk that changed between plan and run is refused before anything is
// written.
func TestEngineRefusesDiskChangedSincePlan(t *testing.T) {
	d := imageDisk(t, 64<<30)
	p, err := Resolve(Request{EditionID: "fedora-bootc-44", DiskPath: d.Path, Demo: true, Arch: "amd64"}, []partition.Disk{d}, testCatalog())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(d.Path, 80<<30); err != nil {
		t.Fatal(err)
	}
	rec := &host.Recorder{}
	res, err := (&Engine{Runner: rec}).Run(context.Background(), p, &Collector{})
	if ClassOf(err) != ClassDiskRefused || res.ExitCode != 3 || !strings.Contains(err.Error(), "changed since the plan") {
		t.Fatalf("err %v result %+v", err, res)
	}
	if len(rec.Commands) != 0 {
		t.Fatalf("ran programs after refusing: %v", rec.Lines())
	}
	if after, _ := partition.Describe(d.Path); !after.Empty() {
		t.Fatalf("the disk was written")
	}
}

// A missing program is an environment error found in preflight, before
// the disk is touched.
func TestEnginePreflightMissingProgram(t *testing.T) {
	d := imageDisk(t, 64<<30)
	p, err := Resolve(Request{EditionID: "fedora-bootc-44", DiskPath: d.Path, Arch: "amd64"}, []partition.Disk{d}, testCatalog())
	if err != nil {
		t.Fatal(err)
	}
	ex := &host.Exec{Paths: map[host.Tool][]string{}}
	locate := missingLocator{host.Podman: true}
	res, err := (&Engine{Runner: ex, Locate: locate, IsRoot: true}).Run(context.Background(), p, &Collector{})
	if ClassOf(err) != ClassEnvironment || !strings.Contains(err.Error(), "podman (Debian package podman)") || !strings.Contains(err.Error(), "--demo") {
		t.Fatalf("err %v", err)
	}
	if res.ExitCode != 4 {
		t.Fatalf("exit %d", res.ExitCode)
	}
	if after, _ := partition.Describe(d.Path); !after.Empty() {
		t.Fatalf("the disk was written")
	}
}

type missingLocator map[host.Tool]bool

func (m missingLocator) Resolve(t host.Tool) ([]string, error) {
	if m[t] {
		return nil, &host.NotFoundError{Tool: t, Path: "PATH"}
	}
	return []string{"/usr/bin/" + string(t)}, nil
}
