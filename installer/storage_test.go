package installer

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/universal-atomic-installer/uai/installer/host"
	"github.com/universal-atomic-installer/uai/partition"
)

const testPass = "correct horse battery staple"

func machineDisks(t *testing.T, name string) []partition.Disk {
	t.Helper()
	m, err := partition.LoadMachine(filepath.Join("..", "test", "fixtures", "machines", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return m.Disks
}

// Selectors, layouts and encryption as Resolve turns a request into a plan.
func TestResolveStorage(t *testing.T) {
	yes := true
	laptop := machineDisks(t, "laptop-windows")
	t.Run("free space beside Windows", func(t *testing.T) {
		p, err := Resolve(Request{EditionID: "fedora-bootc-44", Arch: "amd64", Selector: partition.Selector{Transport: "nvme"},
			Storage: StorageRequest{Layout: "free"}}, laptop, testCatalog())
		if err != nil {
			t.Fatal(err)
		}
		if p.Wipe || p.Layout.Kind != partition.KindFree || p.Disk.Path != "/dev/nvme0n1" || p.Disk.Serial != "21075F800123" {
			t.Fatalf("plan: wipe %v kind %s disk %+v", p.Wipe, p.Layout.Kind, p.Disk)
		}
		kept := 0
		for _, pl := range p.Layout.Partitions {
			if pl.Keep {
				kept++
			}
		}
		if esp, _ := p.Layout.Find(partition.RoleESP); kept != 4 || !esp.Keep || esp.Index != 1 {
			t.Errorf("kept %d partitions, ESP %+v", kept, esp)
		}
		golden(t, "plan-free-windows.txt", []byte(p.Text()))
	})
	t.Run("whole disk with LUKS2 and TPM2", func(t *testing.T) {
		req := Request{EditionID: "fedora-bootc-44", Arch: "amd64", DiskPath: "/dev/nvme0n1", Wipe: true,
			Storage: StorageRequest{RootSizeBytes: 100 << 30, Encryption: EncryptionRequest{Enabled: true, Passphrase: testPass, TPM2: true}}}
		p, err := Resolve(req, laptop, testCatalog())
		if err != nil {
			t.Fatal(err)
		}
		e := p.Layout.Encryption
		if e == nil || !e.TPM2 || !e.PassphraseSet {
			t.Fatalf("encryption %+v", e)
		}
		if _, ok := p.Layout.Find(partition.RoleBoot); !ok {
			t.Error("an encrypted root got no separate /boot")
		}
		cmd := strings.Join(p.Command, " ")
		for _, w := range []string{"--karg=rd.luks.uuid=" + e.UUID, "--karg=rd.luks.options=" + e.UUID + "=tpm2-device=auto"} {
			if !strings.Contains(cmd, w) || !strings.Contains(strings.Join(p.Kargs, " "), strings.TrimPrefix(w, "--karg=")) {
				t.Errorf("plan lacks %s: %s", w, cmd)
			}
		}
		js := string(p.JSON())
		if strings.Contains(js, testPass) || strings.Contains(p.Text(), testPass) || strings.Contains(fmt.Sprintf("%+v", *p), testPass) {
			t.Fatal("the plan shows the passphrase")
		}
		if !strings.Contains(js, `"passphrase_set": true`) {
			t.Error("the plan does not record that a passphrase is set")
		}
		req.Storage.Encryption.Passphrase = "something else entirely"
		other, _ := Resolve(req, laptop, testCatalog())
		if other.SHA256() != p.SHA256() {
			t.Error("the plan hash depends on the passphrase")
		}
		golden(t, "plan-luks-tpm2.txt", []byte(p.Text()))
	})
	t.Run("the stick is never picked", func(t *testing.T) {
		_, err := Resolve(Request{EditionID: "fedora-bootc-44", Selector: partition.Selector{Removable: &yes}}, laptop, testCatalog())
		if ClassOf(err) != ClassDiskRefused || !strings.Contains(err.Error(), "FAIL  not the boot medium") || !strings.Contains(err.Error(), "uai disks --explain 'removable=true'") {
			t.Fatalf("%v", err)
		}
	})
	cases := []struct {
		name    string
		machine string
		req     Request
		class   Class
		want    []string
	}{
		{"ambiguous selector", "two-identical", Request{Selector: partition.Selector{Model: "Samsung*"}}, ClassDiskRefused, []string{"matches 2 disks", "/dev/sda  (931.5 GiB"}},
		{"invalid selector", "two-identical", Request{Selector: partition.Selector{MinSize: "huge"}}, ClassInvalidInput, []string{"min_size"}},
		{"no disk rule", "two-identical", Request{Selector: partition.Selector{AllowBootMedium: true}}, ClassInvalidInput, []string{"no target disk given"}},
		{"not empty", "laptop-windows", Request{DiskPath: "/dev/nvme0n1"}, ClassDiskRefused, []string{"not empty", "Windows Boot Manager", `layout = "free"`}},
		{"no free space", "nvme-sata-usb", Request{DiskPath: "/dev/sda", Storage: StorageRequest{Layout: "free"}}, ClassDiskRefused, []string{"too little free space", "there is no free space"}},
		{"free on the wrong table", "4kn", Request{DiskPath: "/dev/nvme0n1", Storage: StorageRequest{Layout: "free", RootSizeBytes: 2 << 40}}, ClassDiskRefused, []string{"too little free space", "root 2 TiB"}},
		{"unknown layout", "4kn", Request{DiskPath: "/dev/sda", Storage: StorageRequest{Layout: "lvm"}}, ClassInvalidInput, []string{`layout "lvm"`}},
		{"no passphrase", "4kn", Request{DiskPath: "/dev/sda", Storage: StorageRequest{Encryption: EncryptionRequest{Enabled: true}}}, ClassInvalidInput, []string{"without a passphrase"}},
		{"tpm2 alone", "4kn", Request{DiskPath: "/dev/sda", Storage: StorageRequest{Encryption: EncryptionRequest{TPM2: true}}}, ClassInvalidInput, []string{"tpm2 enrolment was asked for without encryption"}},
		{"label-only boot medium", "workstation-traps", Request{DiskPath: "/dev/sde"}, ClassDiskRefused, []string{"volume label UAI_LIVE_2"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.req.EditionID, c.req.Arch = "fedora-bootc-44", "amd64"
			_, err := Resolve(c.req, machineDisks(t, c.machine), testCatalog())
			if ClassOf(err) != c.class {
				t.Fatalf("class %s, want %s: %v", ClassOf(err), c.class, err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
		})
	}
	t.Run("renamed NVMe by serial", func(t *testing.T) {
		var paths []string
		for _, m := range []string{"nvme-renamed-boot1", "nvme-renamed-boot2"} {
			p, err := Resolve(Request{EditionID: "fedora-bootc-44", Arch: "amd64", Selector: partition.Selector{Serial: "S7HENJ0W500002Y"}}, machineDisks(t, m), testCatalog())
			if err != nil {
				t.Fatal(err)
			}
			if p.Wipe {
				t.Errorf("%s: the empty disk needs no wipe", m)
			}
			paths = append(paths, p.Disk.Path)
		}
		if paths[0] == paths[1] {
			t.Errorf("both boots chose %s; the fixture lost its rename", paths[0])
		}
	})
	t.Run("allow_boot_medium", func(t *testing.T) {
		// the stick is mounted in this machine, so allowing the boot medium
		// is not enough; with the live system in RAM it is
		_, err := Resolve(Request{EditionID: "fedora-bootc-44", Arch: "amd64", DiskPath: "/dev/sde", Wipe: true,
			Selector: partition.Selector{AllowBootMedium: true}}, machineDisks(t, "workstation-traps"), testCatalog())
		if err != nil {
			t.Fatalf("the label-only boot medium with allow_boot_medium: %v", err)
		}
		_, err = Resolve(Request{EditionID: "fedora-bootc-44", Arch: "amd64", DiskPath: "/dev/sdb", Wipe: true,
			Selector: partition.Selector{AllowBootMedium: true}}, machineDisks(t, "nvme-sata-usb"), testCatalog())
		if ClassOf(err) != ClassDiskRefused || !strings.Contains(err.Error(), "mounted: sdb1") || strings.Contains(err.Error(), "boot medium") {
			t.Fatalf("a mounted boot medium: %v", err)
		}
	})
}

// luksRecorder answers like the programs would: losetup is never run, the
// simulated bootc finishes.
func luksRecorder() *host.Recorder {
	return &host.Recorder{Respond: func(c host.Command, onLine host.LineFunc) error {
		if c.Tool == host.Podman && onLine != nil {
			onLine(host.Stdout, "Installation complete!")
		}
		return nil
	}}
}

func attachLoop(t *testing.T, size int64, sectorSize int) string {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI must run as root: this test needs a loop device")
		}
		t.Skip("SKIPPED LOUDLY: needs root for a loop device")
	}
	img := filepath.Join(t.TempDir(), "disk.img")
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	f.Close()
	out, err := exec.Command("losetup", "--find", "--show", "--sector-size", fmt.Sprint(sectorSize), img).CombinedOutput()
	if err != nil {
		t.Fatalf("losetup: %v %s", err, out)
	}
	dev := strings.TrimSpace(string(out))
	t.Cleanup(func() {
		if err := partition.RemovePartitionNodes(dev); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		if out, err := exec.Command("losetup", "-d", dev).CombinedOutput(); err != nil {
			t.Errorf("cleanup: losetup -d %s: %v %s", dev, err, out)
		}
	})
	return dev
}

// The engine's LUKS2 steps on a real loop device with recorded programs:
// the exact argv, the passphrase only on stdin and in $PASSWORD, root
// made and mounted on the opened volume, and after the (here inevitable)
// failure of the origin check the volume closed and the table wiped.
func TestEngineLUKSSteps(t *testing.T) {
	dev := attachLoop(t, 16<<30, 4096)
	d, err := partition.Describe(dev)
	if err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), "target")
	t.Setenv("UAI_STATE_DIR", t.TempDir())
	p, err := Resolve(Request{EditionID: "fedora-bootc-44", Arch: "amd64", DiskPath: dev, TargetDir: target,
		Storage: StorageRequest{Encryption: EncryptionRequest{Enabled: true, Passphrase: testPass, TPM2: true}}}, []partition.Disk{d}, testCatalog())
	if err != nil {
		t.Fatal(err)
	}
	rec := luksRecorder()
	sink := &Collector{}
	res, err := (&Engine{Runner: rec, IsRoot: true}).Run(context.Background(), p, sink)
	if err == nil || res.ExitCode != 6 || !strings.Contains(err.Error(), "find the new deployment") {
		t.Fatalf("want the origin check to fail (nothing was installed): %v %+v", err, res)
	}
	u := p.Layout.Encryption.UUID
	mapper := "/dev/mapper/luks-" + u
	root := partition.PartitionPath(dev, 4)
	want := []string{
		"mkfs.fat -F 32 -n EFI-SYSTEM " + partition.PartitionPath(dev, 2),
		"mkfs.xfs -f -L boot " + partition.PartitionPath(dev, 3),
		"cryptsetup luksFormat --type luks2 --batch-mode --uuid " + u + " --label root --key-file - " + root,
		"systemd-cryptenroll --tpm2-device=auto --tpm2-pcrs=7 " + root,
		"cryptsetup open --type luks2 --key-file - " + root + " luks-" + u,
		"mkfs.xfs -f -L root " + mapper,
		"mount " + mapper + " " + target,
		"mount " + partition.PartitionPath(dev, 3) + " " + target + "/boot",
		"mount -t vfat -o umask=0077 " + partition.PartitionPath(dev, 2) + " " + target + "/boot/efi",
	}
	lines := rec.Lines()
	if len(lines) < len(want) || strings.Join(lines[:len(want)], "\n") != strings.Join(want, "\n") {
		t.Fatalf("commands:\n%s\nwant first:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	tail := strings.Join(lines[len(lines)-4:], "\n")
	if !strings.Contains(tail, "umount "+target+"\n") || !strings.HasSuffix(tail, "cryptsetup close luks-"+u) {
		t.Errorf("cleanup commands:\n%s", tail)
	}
	for _, c := range rec.Commands {
		for _, a := range c.Args {
			if strings.Contains(a, testPass) {
				t.Errorf("the passphrase is in argv: %s", c.String())
			}
		}
		switch {
		case c.Tool == host.Cryptsetup && (c.Args[0] == "luksFormat" || c.Args[0] == "open"):
			if string(c.Stdin) != testPass {
				t.Errorf("%s: stdin %q, want the passphrase exactly (no newline)", c.String(), c.Stdin)
			}
		case c.Tool == host.SystemdCryptenroll:
			if strings.Join(c.Env, " ") != "PASSWORD="+testPass {
				t.Errorf("systemd-cryptenroll env %v", c.Env)
			}
		}
	}
	b, _ := json.Marshal(sink.Snapshot())
	if strings.Contains(string(b), testPass) {
		t.Fatal("the events show the passphrase")
	}
	if after, _ := partition.Describe(dev); !after.Empty() {
		t.Errorf("the half-install's table is still there: %+v", after.Partitions)
	}
	if j, _ := partition.FindJournal(d); j != nil {
		t.Errorf("journal %s left behind", j.Path())
	}
}

// The LUKS2 commands the engine builds, run for real on a loop device
// (4096-byte sectors): cryptsetup makes the volume with the planned UUID, systemd-cryptenroll binds a software
// TPM2 (swtpm) and the passphrase still opens keyslot 0 as the recovery
// key. Only the PBKDF is made cheap, by appending options, because
// argon2id's benchmark takes tens of seconds on a shared CI machine.
func TestLUKSCommandsForReal(t *testing.T) {
	for _, tool := range []string{"cryptsetup", "systemd-cryptenroll", "swtpm"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s missing in CI (Debian packages cryptsetup-bin, systemd, swtpm)", tool)
			}
			t.Skipf("SKIPPED LOUDLY: %s is not installed", tool)
		}
	}
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI must run as root")
		}
		t.Skip("SKIPPED LOUDLY: cryptsetup needs root")
	}
	dir := t.TempDir()
	vol := attachLoop(t, 64<<20, 4096)
	sock := startSWTPM(t, dir)
	t.Setenv("SYSTEMD_TPM2_DEVICE", "swtpm:path="+sock)

	e := partition.NewEncryption(partition.DeriveUUID("real"), true, testPass)
	pass, _ := e.Passphrase()
	ex := &host.Exec{}
	ctx := context.Background()
	format := luksFormatCommand(e, vol, pass)
	format.Args = append(format.Args[:len(format.Args)-1], "--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000", vol)
	for _, c := range []host.Command{format, tpm2EnrollCommand(vol, pass)} {
		if err := ex.Run(ctx, c, nil); err != nil {
			t.Fatalf("%s: %v", c.String(), err)
		}
	}
	out, err := exec.Command("cryptsetup", "luksDump", "--dump-json-metadata", vol).Output()
	if err != nil {
		t.Fatalf("luksDump: %v", err)
	}
	var meta struct {
		Keyslots map[string]json.RawMessage `json:"keyslots"`
		Tokens   map[string]struct {
			Type     string   `json:"type"`
			Keyslots []string `json:"keyslots"`
		} `json:"tokens"`
	}
	if err := json.Unmarshal(out, &meta); err != nil {
		t.Fatal(err)
	}
	if len(meta.Keyslots) != 2 || len(meta.Tokens) != 1 || meta.Tokens["0"].Type != "systemd-tpm2" || strings.Join(meta.Tokens["0"].Keyslots, ",") != "1" {
		t.Fatalf("keyslots %d, tokens %+v; want the passphrase in slot 0 and a systemd-tpm2 token on slot 1", len(meta.Keyslots), meta.Tokens)
	}
	blk, _ := exec.Command("blkid", "-p", "-o", "export", vol).Output()
	if !strings.Contains(string(blk), "TYPE=crypto_LUKS") || !strings.Contains(string(blk), "UUID="+e.UUID) || !strings.Contains(string(blk), "LABEL=root") {
		t.Errorf("blkid:\n%s", blk)
	}
	test := func(p string) error {
		c := exec.Command("cryptsetup", "open", "--test-passphrase", "--key-slot", "0", "--key-file", "-", vol)
		c.Stdin = strings.NewReader(p)
		return c.Run()
	}
	if err := test(testPass); err != nil {
		t.Errorf("the recovery passphrase does not open keyslot 0: %v", err)
	}
	if err := test(testPass + "\n"); err == nil {
		t.Error("a passphrase with a newline opened the volume: stdin is not taken exactly")
	}
}

// startSWTPM runs a software TPM2 on a socket for the test and stops it
// (by its pid) afterwards.
func startSWTPM(t *testing.T, dir string) string {
	t.Helper()
	state := filepath.Join(dir, "tpm")
	if err := os.MkdirAll(state, 0o700); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "tpm.sock")
	cmd := exec.Command("swtpm", "socket", "--tpm2", "--tpmstate", "dir="+state,
		"--server", "type=unixio,path="+sock, "--ctrl", "type=unixio,path="+sock+".ctrl", "--flags", "startup-clear,not-need-init")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start swtpm: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(sock + ".ctrl"); err == nil {
			if _, err := os.Stat(sock); err == nil {
				return sock
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("swtpm did not create its sockets")
		}
	}
}
