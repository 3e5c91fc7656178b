package installer

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/universal-atomic-installer/uai/installer/host"
	"github.com/universal-atomic-installer/uai/partition"
)

func TestResolveToDiskGolden(t *testing.T) {
	for _, c := range []struct {
		name string
		req  Request
		f    RunnerFacts
	}{
		{"plan-todisk-tpm2", Request{EditionID: "fedora-bootc-44", DiskPath: "/dev/nvme0n1", Arch: "amd64",
			Storage: StorageRequest{Layout: LayoutImage, RootSizeBytes: 40 << 30, Encryption: EncryptionRequest{Enabled: true, TPM2: true}}}, RunnerFacts{}},
		{"plan-todisk-host-image", Request{EditionID: "fedora-bootc-44", DiskPath: "/var/tmp/disk.img", Demo: true, Arch: "amd64", Filesystem: "ext4",
			Storage: StorageRequest{Layout: LayoutImage}}, RunnerFacts{MemTotalBytes: 2 << 30}},
		{"plan-todisk-podman-image", Request{EditionID: "fedora-bootc-44", DiskPath: "/var/tmp/disk.img", Demo: true, Arch: "amd64",
			Storage: StorageRequest{Layout: LayoutImage}}, RunnerFacts{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := ResolveWith(c.req, testDisks(), testCatalog(), ResolveOptions{Runner: c.f})
			if err != nil {
				t.Fatal(err)
			}
			if p.Method != "to-disk" || len(p.Layout.Partitions) != 0 {
				t.Fatalf("method %s, %d partitions", p.Method, len(p.Layout.Partitions))
			}
			golden(t, c.name+".json", p.JSON())
			golden(t, c.name+".txt", []byte(p.Text()))
		})
	}
}

func TestResolveToDiskRefusals(t *testing.T) {
	for _, c := range []struct {
		name string
		st   StorageRequest
		want string
	}{
		{"passphrase", StorageRequest{Layout: LayoutImage, Encryption: EncryptionRequest{Enabled: true, Passphrase: "x"}}, "keeps no passphrase"},
		{"separate boot", StorageRequest{Layout: LayoutImage, SeparateBoot: true}, "decide /boot"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Resolve(Request{EditionID: "fedora-bootc-44", DiskPath: "/dev/nvme0n1", Storage: c.st}, testDisks(), testCatalog())
			if ClassOf(err) != ClassInvalidInput || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v", err)
			}
		})
	}
	// A disk with data still needs the wipe permission.
	_, err := Resolve(Request{EditionID: "fedora-bootc-44", DiskPath: "/dev/sda", Storage: StorageRequest{Layout: LayoutImage}}, testDisks(), testCatalog())
	if ClassOf(err) != ClassDiskRefused || !strings.Contains(err.Error(), "wipe = true") {
		t.Fatalf("non-empty disk without wipe: %v", err)
	}
}

// to-disk through the engine with a Recorder standing in for podman and
// bootc (argv and failure handling; the end-to-end run with the simulator
// is in test/engine_todisk_test.go). A failing bootc that had written a
// table leaves the disk wiped, unless preserve_on_error.
func TestToDiskEngineWithRecorder(t *testing.T) {
	for _, c := range []struct {
		name              string
		fail, preserve    bool
		wantCode          int
		wantTableAtTheEnd bool
	}{
		{name: "ok", wantCode: 0, wantTableAtTheEnd: true},
		{name: "fail wipes", fail: true, wantCode: 6},
		{name: "fail preserves", fail: true, preserve: true, wantCode: 6, wantTableAtTheEnd: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := exec.LookPath("sfdisk"); err != nil {
				if os.Getenv("CI") == "true" {
					t.Fatal("sfdisk missing")
				}
				t.Skip("SKIPPED LOUDLY: sfdisk missing")
			}
			d := imageDisk(t, 16<<30)
			p, err := Resolve(Request{EditionID: "fedora-bootc-44", DiskPath: d.Path, Demo: true, Arch: "amd64", PreserveOnError: c.preserve,
				Storage: StorageRequest{Layout: LayoutImage}}, []partition.Disk{d}, testCatalog())
			if err != nil {
				t.Fatal(err)
			}
			rec := &host.Recorder{Respond: func(cmd host.Command, onLine host.LineFunc) error {
				// bootc's first act: a new GPT on the whole disk.
				sf := exec.Command("sfdisk", "--quiet", d.Path)
				sf.Stdin = strings.NewReader("label: gpt\nsize=2048, type=21686148-6449-6E6F-744E-656564454649\nsize=1048576, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B\ntype=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name=root\n")
				if out, err := sf.CombinedOutput(); err != nil {
					t.Fatalf("sfdisk: %v %s", err, out)
				}
				if c.fail {
					onLine(host.Stderr, "error: Installing to disk: Creating rootfs: boom")
					return &host.ExitError{Command: "podman", Code: 1, Stderr: "error: Installing to disk: Creating rootfs: boom"}
				}
				onLine(host.Stdout, "Installation complete!")
				return nil
			}}
			e := &Engine{Runner: rec, IsRoot: true}
			col := &Collector{}
			res, _ := e.Run(context.Background(), p, col)
			if res.ExitCode != c.wantCode {
				t.Fatalf("exit %d: %+v", res.ExitCode, res)
			}
			if got := strings.Join(rec.Lines(), "\n"); !strings.Contains(got, "bootc install to-disk --wipe --filesystem=xfs --target-imgref=quay.io/fedora/fedora-bootc:44 --via-loopback "+d.Path) ||
				!strings.Contains(got, "-v "+strings.TrimSuffix(d.Path, "/disk.img")+":") {
				t.Errorf("ran:\n%s", got)
			}
			after, err := partition.Describe(d.Path)
			if err != nil {
				t.Fatal(err)
			}
			if has := len(after.Partitions) > 0; has != c.wantTableAtTheEnd {
				t.Errorf("table at the end %v, want %v (%+v)", has, c.wantTableAtTheEnd, after.Partitions)
			}
			skipped := 0
			for _, ev := range col.Snapshot() {
				if ev.Type == EventStepFinished && ev.Status == StatusSkipped && ev.Reason == toDiskSkipReason {
					skipped++
				}
			}
			if skipped != 3 {
				t.Errorf("%d storage steps skipped for to-disk, want 3", skipped)
			}
			if c.fail {
				if !strings.Contains(res.Error, "error: Installing to disk: Creating rootfs: boom") {
					t.Errorf("error %q", res.Error)
				}
			}
		})
	}
}

// The real (not simulated) to-disk path after bootc: a stand-in bootc
// (the Recorder) partitions the image file, makes an xfs root named
// "root" and writes a deployment into it; every other program runs for
// real. The engine then attaches, mounts, verifies the origin, configures
// and writes the receipt, and releases everything.
func TestToDiskMountsTheInstalledRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("needs root for loop devices and mounts")
		}
		t.Skip("SKIPPED LOUDLY: needs root for loop devices and mounts")
	}
	for _, tool := range []string{"sfdisk", "losetup", "mkfs.xfs", "partx", "mount", "umount", "cp"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatal(tool + " missing")
			}
			t.Skip("SKIPPED LOUDLY: " + tool + " missing")
		}
	}
	phys, _ := fakeDeployment(t, false)
	d := imageDisk(t, 16<<30)
	target := filepath.Join(t.TempDir(), "target")
	p, err := Resolve(Request{EditionID: "fedora-bootc-44", DiskPath: d.Path, Arch: "amd64", TargetDir: target,
		System: SystemRequest{Hostname: "todisk-01"}, Storage: StorageRequest{Layout: LayoutImage}}, []partition.Disk{d}, testCatalog())
	if err != nil {
		t.Fatal(err)
	}
	sh := func(name string, args ...string) string {
		out, err := exec.Command(name, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v %s", name, args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	real := &host.Exec{}
	rec := &host.Recorder{Respond: func(c host.Command, onLine host.LineFunc) error {
		if c.Tool != host.Podman {
			return real.Run(context.Background(), c, onLine)
		}
		sf := exec.Command("sfdisk", "--quiet", d.Path)
		sf.Stdin = strings.NewReader("label: gpt\nsize=2048, type=21686148-6449-6E6F-744E-656564454649\nsize=1048576, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B\ntype=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name=root\n")
		if out, err := sf.CombinedOutput(); err != nil {
			t.Fatalf("sfdisk: %v %s", err, out)
		}
		dev := sh("losetup", "--find", "--show", d.Path)
		defer sh("losetup", "-d", dev)
		sh("partx", "-a", dev)
		defer sh("partx", "-d", dev)
		sh("mkfs.xfs", "-q", "-f", "-L", "root", dev+"p3")
		mnt := t.TempDir()
		sh("mount", dev+"p3", mnt)
		defer sh("umount", mnt)
		sh("cp", "-a", phys+"/.", mnt+"/")
		onLine(host.Stdout, "Installation complete!")
		return nil
	}}
	col := &Collector{}
	res, err := (&Engine{Runner: rec, IsRoot: true}).Run(context.Background(), p, col)
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("exit %d: %v\n%s", res.ExitCode, err, strings.Join(rec.Lines(), "\n"))
	}
	for _, s := range []StepID{StepBootc, StepMount, StepVerify, StepConfigure, StepReceipt, StepUnmount} {
		if !slices.Contains(res.Completed, s) {
			t.Errorf("step %s did not complete: %v", s, res.Completed)
		}
	}
	// Read the result back from the disk.
	dev := sh("losetup", "--find", "--show", d.Path)
	defer sh("losetup", "-d", dev)
	sh("partx", "-a", dev)
	defer sh("partx", "-d", dev)
	mnt := t.TempDir()
	sh("mount", "-o", "ro", dev+"p3", mnt)
	defer sh("umount", mnt)
	hostnames, _ := filepath.Glob(filepath.Join(mnt, "ostree/deploy/default/deploy/*/etc/hostname"))
	if len(hostnames) != 1 {
		t.Fatalf("hostname files %v", hostnames)
	}
	if b, _ := os.ReadFile(hostnames[0]); string(b) != "todisk-01\n" {
		t.Errorf("hostname %q", b)
	}
	if _, err := os.Stat(filepath.Join(mnt, "ostree/deploy/default/var/lib/uai/receipt.json")); err != nil {
		t.Errorf("receipt: %v", err)
	}
}
