package test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/universal-atomic-installer/uai/partition"
	"github.com/universal-atomic-installer/uai/test/internal/loopdev"
)

// crashBin is uai linked so that partition.Checkpoint kills the process
// at the point UAI_TEST_CRASH_AT names. Only the link step differs from
// uaiBin: every package compiles the same, and a release build never has
// the variable set.
var (
	crashOnce sync.Once
	crashBin  string
	crashErr  error
)

func crashUAI(t *testing.T) string {
	t.Helper()
	crashOnce.Do(func() {
		crashBin = filepath.Join(filepath.Dir(uaiBin), "uai-crash")
		out, err := exec.Command("go", "build", "-ldflags", "-X "+module+"/partition.crashEnvVar=UAI_TEST_CRASH_AT",
			"-o", crashBin, module+"/cmd/uai").CombinedOutput()
		if err != nil {
			crashErr = fmt.Errorf("build the crash-point uai: %v\n%s", err, out)
		}
	})
	if crashErr != nil {
		t.Fatal(crashErr)
	}
	return crashBin
}

// binRun is one run of a uai binary.
type binRun struct {
	runResult
	killed bool // ended by SIGKILL
}

// runBin runs bin with extra environment, as cred when given.
func runBin(t *testing.T, bin string, cred *syscall.Credential, env []string, args ...string) binRun {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Env = append(append(os.Environ(), "NO_COLOR=1", "UAI_SIM_DELAY=0"), env...)
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	err := cmd.Run()
	r := binRun{runResult: runResult{stdout: out.String(), stderr: errb.String()}}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			r.killed = true
		}
	case err != nil:
		t.Fatalf("run %s %v: %v", bin, args, err)
	}
	return r
}

// nobody runs uai without root: image files only, no loop devices.
var nobody = &syscall.Credential{Uid: 65534, Gid: 65534}

// shareWithNobody lets nobody use each path; for a directory from
// t.TempDir also its parent, which the testing package makes 0700.
func shareWithNobody(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if err := os.Chmod(p, 0o777); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			if err := os.Chmod(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// winPart is one partition of the Windows disk, in 512-byte sectors.
type winPart struct {
	index        int
	start, count uint64
}

// windowsDisk is an image laid out like a Windows 11 install on GPT,
// written entirely by other tools: sfdisk writes the table (first usable
// sector 34, as Windows has it), mkfs.fat and mtools the ESP with
// EFI/Microsoft/Boot/bootmgfw.efi, mkntfs (ntfs-3g) real NTFS filesystems
// on C: and the recovery partition. free is the unpartitioned gap after
// C:, where Linux goes.
type windowsDisk struct {
	path  string
	size  uint64
	parts []winPart // ESP, MSR, C:, recovery
}

// windowsTemplates caches one built Windows disk per geometry; each test
// gets a sparse copy (building one runs mkntfs, which is slow).
var windowsTemplates sync.Map // "size/cSize" -> windowsDisk

func newWindowsDisk(t *testing.T, dir string, size, cSize uint64) windowsDisk {
	t.Helper()
	key := fmt.Sprintf("%d/%d", size, cSize)
	tpl, ok := windowsTemplates.Load(key)
	if !ok {
		tdir, err := os.MkdirTemp(filepath.Dir(uaiBin), "windows-")
		if err != nil {
			t.Fatal(err)
		}
		tpl, _ = windowsTemplates.LoadOrStore(key, buildWindowsDisk(t, tdir, size, cSize))
	}
	w := tpl.(windowsDisk)
	img := filepath.Join(dir, "windows.img")
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(int64(size)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	copySparse(t, w.path, img, 0)
	w.path = img
	return w
}

func buildWindowsDisk(t *testing.T, dir string, size, cSize uint64) windowsDisk {
	t.Helper()
	loopdev.RequireTools(t, "sfdisk", "mkfs.fat", "mmd", "mcopy", "mtype", "mkntfs")
	img := filepath.Join(dir, "windows.img")
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(int64(size)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	last := size/512 - 34 // the last usable sector
	w := windowsDisk{path: img, size: size, parts: []winPart{
		{1, 2048, 204800},          // ESP, 100 MiB
		{2, 206848, 32768},         // MSR, 16 MiB
		{3, 239616, cSize / 512},   // C:
		{4, last + 1 - 1536000, 0}, // recovery, 750 MiB, to the end
	}}
	w.parts[3].count = last + 1 - w.parts[3].start
	script := "label: gpt\nfirst-lba: 34\n" +
		fmt.Sprintf("%s1 : start=%d, size=%d, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=\"EFI system partition\", attrs=\"GUID:63\"\n", img, w.parts[0].start, w.parts[0].count) +
		fmt.Sprintf("%s2 : start=%d, size=%d, type=E3C9E316-0B5C-4DB8-817D-F92DF00215AE, name=\"Microsoft reserved partition\", attrs=\"GUID:63\"\n", img, w.parts[1].start, w.parts[1].count) +
		fmt.Sprintf("%s3 : start=%d, size=%d, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name=\"Basic data partition\"\n", img, w.parts[2].start, w.parts[2].count) +
		fmt.Sprintf("%s4 : start=%d, size=%d, type=DE94BBA4-06D1-4D40-A16A-BFD50179D6AC, attrs=\"RequiredPartition GUID:63\"\n", img, w.parts[3].start, w.parts[3].count)
	sfdiskScript(t, script, img)
	runOK(t, "mkfs.fat", "-F", "32", "-s", "2", "-n", "SYSTEM", "--offset", "2048", img, "102400")
	boot := filepath.Join(dir, "bootmgfw.efi")
	if err := os.WriteFile(boot, append([]byte("MZ"), bytes.Repeat([]byte("windows boot manager "), 200)...), 0o644); err != nil {
		t.Fatal(err)
	}
	esp := img + "@@1M"
	runOK(t, "mmd", "-i", esp, "::/EFI", "::/EFI/Microsoft", "::/EFI/Microsoft/Boot", "::/EFI/Boot")
	runOK(t, "mcopy", "-i", esp, boot, "::/EFI/Microsoft/Boot/bootmgfw.efi")
	runOK(t, "mcopy", "-i", esp, boot, "::/EFI/Boot/bootx64.efi")
	for _, p := range []struct {
		part  winPart
		label string
	}{{w.parts[2], "Windows"}, {w.parts[3], "Recovery"}} {
		vol := filepath.Join(dir, p.label+".ntfs")
		if err := os.WriteFile(vol, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(vol, int64(p.part.count*512)); err != nil {
			t.Fatal(err)
		}
		runOK(t, "mkntfs", "-Q", "-F", "-q", "-s", "512", "-p", strconv.FormatUint(p.part.start, 10), "-L", p.label, vol)
		copySparse(t, vol, img, int64(p.part.start*512))
		os.Remove(vol)
	}
	return w
}

func sfdiskScript(t *testing.T, script, dev string) {
	t.Helper()
	cmd := exec.Command("sfdisk", "-q", "--no-reread", "--no-tell-kernel", dev)
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sfdisk %s: %v\n%s\n%s", dev, err, out, script)
	}
}

func runOK(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// copySparse writes the data extents of src into dst at off.
func copySparse(t *testing.T, src, dst string, off int64) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	st, _ := in.Stat()
	const seekData, seekHole = 3, 4
	for pos := int64(0); pos < st.Size(); {
		data, err := in.Seek(pos, seekData)
		if err != nil {
			break
		}
		hole, _ := in.Seek(data, seekHole)
		buf := make([]byte, hole-data)
		if _, err := in.ReadAt(buf, data); err != nil && err != io.EOF {
			t.Fatal(err)
		}
		if _, err := out.WriteAt(buf, off+data); err != nil {
			t.Fatal(err)
		}
		pos = hole
	}
}

// rangeSum hashes bytes [off, off+n) of a sparse file by its data
// extents, holes counting as zeros: any byte written in the range changes
// it, and a 20 GiB partition with a few MiB written hashes in
// milliseconds.
func rangeSum(t *testing.T, path string, off, n int64) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	const seekData, seekHole = 3, 4
	for pos := off; pos < off+n; {
		data, err := f.Seek(pos, seekData)
		if err != nil || data >= off+n {
			break
		}
		hole, _ := f.Seek(data, seekHole)
		hole = min(hole, off+n)
		buf := make([]byte, hole-data)
		if _, err := f.ReadAt(buf, data); err != nil && err != io.EOF {
			t.Fatal(err)
		}
		// skip zero blocks so that allocation alone changes nothing
		for i := 0; i < len(buf); i += 4096 {
			blk := buf[i:min(i+4096, len(buf))]
			if !allZero(blk) {
				fmt.Fprintf(h, "%d:", data+int64(i)-off)
				h.Write(blk)
			}
		}
		pos = hole
	}
	return hex.EncodeToString(h.Sum(nil))
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// winState is everything of Windows that must survive a Linux install:
// the table entries of its partitions (both copies) and the disk GUID,
// the bytes of the MSR, C: and the recovery partition, and the Windows
// Boot Manager on the shared ESP.
type winState struct {
	primary, backup []byte
	diskGUID        []byte
	sums            map[int]string
	bootmgr         string
}

func (w windowsDisk) state(t *testing.T) winState {
	t.Helper()
	f, err := os.Open(w.path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	read := func(off int64, n int) []byte {
		b := make([]byte, n)
		if _, err := f.ReadAt(b, off); err != nil {
			t.Fatal(err)
		}
		return b
	}
	last := int64(w.size/512 - 1)
	s := winState{
		primary:  read(2*512, 4*128),
		backup:   read((last-32)*512, 4*128),
		diskGUID: read(512+56, 16),
		sums:     map[int]string{},
	}
	for _, p := range w.parts[1:] {
		s.sums[p.index] = rangeSum(t, w.path, int64(p.start*512), int64(p.count*512))
	}
	s.bootmgr = runOK(t, "mtype", "-i", w.path+"@@1M", "::/EFI/Microsoft/Boot/bootmgfw.efi")
	return s
}

// unchanged fails the test when any part of Windows differs from before.
func (w windowsDisk) unchanged(t *testing.T, before winState) {
	t.Helper()
	now := w.state(t)
	if !bytes.Equal(now.primary, before.primary) || !bytes.Equal(now.backup, before.backup) {
		t.Error("the Windows partitions' table entries changed")
	}
	if !bytes.Equal(now.diskGUID, before.diskGUID) {
		t.Error("the disk GUID changed")
	}
	for i, s := range before.sums {
		if now.sums[i] != s {
			t.Errorf("Windows partition %d changed", i)
		}
	}
	if now.bootmgr != before.bootmgr {
		t.Error("EFI/Microsoft/Boot/bootmgfw.efi changed")
	}
}

// tableBytes is the whole GPT of a 512-byte disk, both ends.
func tableBytes(t *testing.T, path string) []byte {
	t.Helper()
	s, err := partition.SaveTable(path, 512)
	if err != nil {
		t.Fatal(err)
	}
	return append(append([]byte(nil), s.Head...), s.Tail...)
}

// describeJSON runs `uai disks --json --target path`.
func describeJSON(t *testing.T, env []string, path string) partition.Disk {
	t.Helper()
	r := runBin(t, uaiBin, nil, env, "disks", "--json", "--target", path)
	if r.code != 0 {
		t.Fatalf("uai disks: exit %d\n%s", r.code, r.stderr)
	}
	var disks []partition.Disk
	if err := json.Unmarshal([]byte(r.stdout), &disks); err != nil || len(disks) != 1 {
		t.Fatalf("uai disks --json: %v\n%s", err, r.stdout)
	}
	return disks[0]
}

func answersFile(t *testing.T, dir, img, disk, storage string) string {
	t.Helper()
	body := "version = 1\nconfirm = true\n[source]\nedition = \"fedora-bootc-44\"\n[disk]\npath = \"" + img + "\"\n" + disk + "[storage]\n" + storage
	p := filepath.Join(dir, "answers.toml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// unmountUnder unmounts everything mounted under dir, deepest first.
func unmountUnder(t *testing.T, dir string) {
	t.Helper()
	points := mountedUnder(t, dir)
	for i := len(points) - 1; i >= 0; i-- {
		if out, err := exec.Command("umount", points[i]).CombinedOutput(); err != nil {
			t.Errorf("cleanup: umount %s: %v %s", points[i], err, out)
		}
	}
}

// releaseLeftovers unmounts what a killed run left under dir and
// detaches its loop devices: a SIGKILL skips the engine's own cleanup.
func releaseLeftovers(t *testing.T, dir, img string) {
	t.Helper()
	unmountUnder(t, dir)
	out, _ := exec.Command("losetup", "-j", img).Output()
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		dev, _, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		if err := partition.RemovePartitionNodes(dev); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		if out, err := exec.Command("losetup", "-d", dev).CombinedOutput(); err != nil {
			t.Errorf("cleanup: losetup -d %s: %v %s", dev, err, out)
		}
	}
}
