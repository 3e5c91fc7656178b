package test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func isoLater() time.Time { return time.Now().Add(time.Hour) }

// isoCLI runs uai and returns its result.
func isoCLI(t *testing.T, args ...string) runResult {
	t.Helper()
	return runUAI(t, args...)
}

const isoAnswers = `version = 1
confirm = true

[source]
image = "quay.io/fedora/fedora-bootc:44"

[disk]
serial = "UAI-E2E-TARGET"
empty = true
`

// The answer file's way through the CLI: embed, show, the plain file an
// ISO reader sees, remove; every other byte of the ISO stays the same.
func TestISOEmbedRoundTrip(t *testing.T) {
	isoNeed(t, "isoinfo")
	dir, args := isoInputs(t)
	iso := filepath.Join(dir, "uai.iso")
	isoBuild(t, args, iso)
	ans := filepath.Join(dir, "answers.toml")
	if err := os.WriteFile(ans, []byte(isoAnswers), 0o644); err != nil {
		t.Fatal(err)
	}
	var info struct {
		AreaOffset      int64 `json:"area_offset"`
		AreaSize        int64 `json:"area_size"`
		AnswersCapacity int64 `json:"answers_capacity"`
		AnswersBytes    int   `json:"answers_bytes"`
	}
	r := isoCLI(t, "iso", "info", "--json", iso)
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &info) != nil || info.AreaSize != 1<<20 || info.AnswersBytes != 0 {
		t.Fatalf("uai iso info: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	before, _ := os.ReadFile(iso)

	r = isoCLI(t, "iso", "embed", ans, iso)
	if r.code != 0 {
		t.Fatalf("embed: exit %d: %s", r.code, r.stderr)
	}
	if r = isoCLI(t, "iso", "show", iso); r.code != 0 || r.stdout != isoAnswers {
		t.Fatalf("show: exit %d, %q", r.code, r.stdout)
	}
	if got := isoRun(t, "isoinfo", "-R", "-i", iso, "-x", "/uai/answers.toml"); got != isoAnswers {
		t.Fatalf("/uai/answers.toml as isoinfo reads it: %q", got)
	}
	after, _ := os.ReadFile(iso)
	if len(after) != len(before) {
		t.Fatalf("embed changed the ISO's size")
	}
	// Outside the area only the two directory records of answers.toml may
	// change (their length field): compare the rest by checksum.
	mask := func(b []byte) []byte {
		c := bytes.Clone(b)
		copy(c[info.AreaOffset:info.AreaOffset+info.AreaSize], make([]byte, info.AreaSize))
		return c
	}
	diff := 0
	mb, ma := mask(before), mask(after)
	for i := range mb {
		if mb[i] != ma[i] {
			diff++
		}
	}
	if diff == 0 || diff > 2*8 {
		t.Fatalf("%d bytes outside the embed area changed; want only the length fields of /uai/answers.toml (at most 16)", diff)
	}

	if r = isoCLI(t, "iso", "remove", iso); r.code != 0 {
		t.Fatalf("remove: exit %d: %s", r.code, r.stderr)
	}
	if r = isoCLI(t, "iso", "show", iso); r.code != 2 || !strings.Contains(r.stderr, "no answer file is embedded") {
		t.Fatalf("show after remove: exit %d: %s", r.code, r.stderr)
	}
	if got, _ := os.ReadFile(iso); !bytes.Equal(got, before) {
		t.Error("embed then remove did not give back the ISO as built")
	}
}

// Refusals are clear and exit 2: an answer file that does not validate,
// one larger than the area (both sizes named), a damaged area, an ISO
// not built by uai, a karg GRUB would interpret.
func TestISOEmbedRefusals(t *testing.T) {
	isoNeed(t, "xorriso")
	dir, args := isoInputs(t)
	iso := filepath.Join(dir, "uai.iso")
	isoBuild(t, append(args, "--embed-size", "16K"), iso)
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, []byte("version = 1\n[disk]\npaht = \"/dev/sda\"\n"), 0o644)
	if r := isoCLI(t, "iso", "embed", bad, iso); r.code != 2 || !strings.Contains(r.stderr, "paht") || !strings.Contains(r.stderr, "--force") {
		t.Errorf("invalid answers: exit %d: %s", r.code, r.stderr)
	}
	big := filepath.Join(dir, "big.toml")
	os.WriteFile(big, []byte(isoAnswers+"# "+strings.Repeat("x", 20000)+"\n"), 0o644)
	if r := isoCLI(t, "iso", "embed", big, iso); r.code != 2 || !strings.Contains(r.stderr, "is 20") || !strings.Contains(r.stderr, "at most 12288 bytes") {
		t.Errorf("too large: exit %d: %s", r.code, r.stderr)
	}
	plainTree := filepath.Join(dir, "tree")
	os.MkdirAll(plainTree, 0o755)
	os.WriteFile(filepath.Join(plainTree, "README"), []byte("x\n"), 0o644)
	plain := filepath.Join(dir, "plain.iso")
	isoRun(t, "xorriso", "-as", "mkisofs", "-quiet", "-R", "-J", "-V", "OTHER", "-o", plain, plainTree)
	ans := filepath.Join(dir, "answers.toml")
	os.WriteFile(ans, []byte(isoAnswers), 0o644)
	for _, cmd := range [][]string{{"iso", "embed", ans, plain}, {"iso", "show", plain}, {"iso", "kargs", plain}, {"iso", "remove", plain}} {
		if r := isoCLI(t, cmd...); r.code != 2 || !strings.Contains(r.stderr, "not built by uai") {
			t.Errorf("uai %s on a plain ISO: exit %d: %s", strings.Join(cmd[:2], " "), r.code, r.stderr)
		}
	}
	if r := isoCLI(t, "iso", "kargs", "--append", "a;b", iso); r.code != 2 || !strings.Contains(r.stderr, "GRUB or isolinux") {
		t.Errorf("bad karg: exit %d: %s", r.code, r.stderr)
	}
	// Damage the area header: every command refuses the ISO.
	var info struct {
		AreaOffset int64 `json:"area_offset"`
	}
	json.Unmarshal([]byte(isoCLI(t, "iso", "info", "--json", iso).stdout), &info)
	f, _ := os.OpenFile(iso, os.O_RDWR, 0)
	f.WriteAt([]byte{0xFF}, info.AreaOffset+20)
	f.Close()
	if r := isoCLI(t, "iso", "show", iso); r.code != 2 || !strings.Contains(r.stderr, "checksum") {
		t.Errorf("damaged area: exit %d: %s", r.code, r.stderr)
	}
}

func TestISOKargsAndPXE(t *testing.T) {
	dir, args := isoInputs(t)
	iso := filepath.Join(dir, "uai.iso")
	isoBuild(t, args, iso)
	if r := isoCLI(t, "iso", "kargs", "--append", "uai.answers=http://192.0.2.1/a.toml#sha256=ab", "--append", "quiet", "--show", iso); r.code != 0 ||
		r.stdout != "console=ttyS0,115200 uai.answers=http://192.0.2.1/a.toml#sha256=ab quiet\n" {
		t.Fatalf("kargs --append: exit %d %q %s", r.code, r.stdout, r.stderr)
	}
	if r := isoCLI(t, "iso", "kargs", "--delete", "quiet", "--show", iso); r.stdout != "console=ttyS0,115200 uai.answers=http://192.0.2.1/a.toml#sha256=ab\n" {
		t.Fatalf("kargs --delete: %q %s", r.stdout, r.stderr)
	}
	pxe := filepath.Join(dir, "pxe")
	r := isoCLI(t, "iso", "extract-pxe", iso, "-o", pxe, "--json")
	var p struct {
		Kernel, Initrd string
		Kargs          []string
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &p) != nil {
		t.Fatalf("extract-pxe: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	for src, dst := range map[string]string{filepath.Join(dir, "vmlinuz"): p.Kernel, filepath.Join(dir, "initrd.img"): p.Initrd} {
		a, _ := os.ReadFile(src)
		b, _ := os.ReadFile(dst)
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s differs from %s", dst, src)
		}
	}
	if len(p.Kargs) != 2 {
		t.Errorf("PXE kargs %q", p.Kargs)
	}
	if r := isoCLI(t, "iso", "kargs", "--reset", "--show", iso); r.stdout != "console=ttyS0,115200\n" {
		t.Errorf("kargs --reset: %q", r.stdout)
	}
	// The ISO's boot loaders both read what kargs wrote.
	if _, err := exec.LookPath("isoinfo"); err == nil {
		cfg := isoRun(t, "isoinfo", "-R", "-i", iso, "-x", "/isolinux/isolinux.cfg")
		if !strings.Contains(cfg, "APPEND uai.live.label=UAI_GOLDEN console=ttyS0,115200 ") {
			t.Errorf("isolinux.cfg after reset:\n%s", cfg)
		}
	}
}
