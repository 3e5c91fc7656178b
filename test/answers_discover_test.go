package test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// needTools skips loudly outside CI and fails in CI, where make test
// installs every tool.
func needTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("CI must have %s (Debian packages mtools, dosfstools, xorriso, e2fsprogs, fdisk)", tool)
			}
			t.Skipf("SKIPPED LOUDLY: %s is not installed", tool)
		}
	}
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

// fatVolume makes an image file holding one FAT filesystem labelled label,
// with files copied in by mtools. partitioned puts it in a GPT partition
// at 1 MiB; otherwise it covers the whole image (a "superfloppy" stick).
func fatVolume(t *testing.T, dir, name, label string, fat32, partitioned bool, files map[string]string) string {
	t.Helper()
	needTools(t, "mkfs.fat", "mcopy", "mmd", "sfdisk")
	img := filepath.Join(dir, name)
	sizeKiB := 16 * 1024
	if fat32 {
		sizeKiB = 40 * 1024
	}
	target := img
	args := []string{"-n", label}
	if fat32 {
		args = append(args, "-F", "32")
	}
	if partitioned {
		run(t, "truncate", "-s", "64M", img)
		cmd := exec.Command("sfdisk", "-q", img)
		cmd.Stdin = strings.NewReader("label: gpt\nstart=2048, size=" + itoa(sizeKiB*2) + ", type=linux\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("sfdisk: %v %s", err, out)
		}
		args = append(args, "--offset", "2048", img, itoa(sizeKiB))
		target = img + "@@1M"
	} else {
		args = append(args, "-C", img, itoa(sizeKiB))
	}
	run(t, "mkfs.fat", args...)
	for dst, content := range files {
		if d := filepath.Dir(dst); d != "/" {
			run(t, "mmd", "-i", target, "::"+d)
		}
		src := writeFile(t, t.TempDir(), filepath.Base(dst), content)
		run(t, "mcopy", "-i", target, src, "::"+dst)
	}
	return img
}

// isoImage makes an ISO 9660 image (Rock Ridge) with the files given.
func isoImage(t *testing.T, dir, name string, files map[string]string) string {
	t.Helper()
	needTools(t, "xorriso")
	tree := t.TempDir()
	for p, c := range files {
		full := filepath.Join(tree, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	iso := filepath.Join(dir, name)
	run(t, "xorriso", "-as", "mkisofs", "-quiet", "-V", "UAI_LIVE", "-R", "-J", "-o", iso, tree)
	return iso
}

func itoa(n int) string { return strconv.Itoa(n) }

func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// answersFor is an answer file that installs edition, so each source's
// plan says which file was found.
func answersFor(edition string) string {
	return "version = 1\nconfirm = true\n[source]\nedition = \"" + edition + "\"\n[disk]\npath = \"/dev/vda\"\nwipe = true\n"
}

const ksImage = "quay.io/centos-bootc/centos-bootc:stream10"

const ksAnswers = "text\nbootc --source-imgref=registry:" + ksImage + "\nignoredisk --only-use=vda\nclearpart --all --initlabel\nautopart --type=plain --fstype=xfs\nreboot\n"

// Each discovery source on this machine: flag, kernel argument (file,
// https with a right and a wrong checksum, plain http, a labelled volume,
// a CD), inst.ks, the ISO's embedded file, labelled volumes. Every source
// tried is logged on stderr, in order.
func TestAnswersDiscovery(t *testing.T) {
	dir := t.TempDir()
	img := sparseImage(t, dir, 64<<30)
	noMedium := filepath.Join(dir, "no-live-medium")

	fileAnswers := writeFile(t, dir, "kernel.toml", answersFor("fedora-bootc-43"))
	flagAnswers := writeFile(t, dir, "flag.toml", answersFor("fedora-bootc-44"))

	tlsBody := answersFor("centos-stream-10")
	mux := http.NewServeMux()
	mux.HandleFunc("/answers.toml", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(tlsBody)) })
	mux.HandleFunc("/bootc.ks", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(ksAnswers)) })
	srv := httptest.NewTLSServer(mux)
	defer srv.Close()
	plainSrv := httptest.NewServer(mux)
	defer plainSrv.Close()
	// The uai child trusts the test server through SSL_CERT_FILE, as it
	// would trust a lab's CA.
	ca := writeFile(t, dir, "ca.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})))
	env := []string{"SSL_CERT_FILE=" + ca}

	uaiVol := fatVolume(t, dir, "uai-answers.img", "UAI-ANSWERS", false, true, map[string]string{"/answers.toml": answersFor("fedora-iot")})
	qaVol := fatVolume(t, dir, "qa-label.img", "QA-LAB", true, false, map[string]string{"/lab/answers.toml": answersFor("fedora-coreos")})
	oemdrv := fatVolume(t, dir, "oemdrv.img", "OEMDRV", true, false, map[string]string{"/ks.cfg": ksAnswers})
	liveISO := isoImage(t, dir, "live.iso", map[string]string{"uai/answers.toml": answersFor("fedora-silverblue"), "ks.cfg": ksAnswers})
	plainISO := isoImage(t, dir, "other.iso", map[string]string{"README": "no answers here\n"})
	mounted := filepath.Join(dir, "mounted-medium")
	writeFileAll(t, filepath.Join(mounted, "uai", "answers.toml"), answersFor("fedora-kinoite"))

	var ext4Vol string
	if _, err := exec.LookPath("mke2fs"); err == nil {
		tree := t.TempDir()
		writeFileAll(t, filepath.Join(tree, "answers.toml"), answersFor("fedora-sway-atomic"))
		ext4Vol = filepath.Join(dir, "ext4.img")
		run(t, "mke2fs", "-q", "-t", "ext4", "-L", "UAI-ANSWERS", "-d", tree, ext4Vol, "8M")
	}

	cmdline := func(s string) string {
		return writeFile(t, t.TempDir(), "cmdline", "BOOT_IMAGE=/images/pxeboot/vmlinuz root=live:CDLABEL=UAI_LIVE rd.live.image quiet "+s+"\n")
	}
	cases := []struct {
		name    string
		cmdline string
		devices []string
		medium  string
		flags   []string
		code    int
		want    []string // in stdout (the plan) and stderr (the log), in this order in stderr
		install string   // what the plan installs
	}{
		{name: "flag wins", cmdline: cmdline("uai.answers=file://" + fileAnswers), flags: []string{"--answers", flagAnswers},
			want: []string{"answers: using " + flagAnswers + " (--answers)"}, install: "fedora-bootc-44"},
		{name: "kernel file", cmdline: cmdline("uai.answers=file://" + fileAnswers),
			want: []string{"answers: no --answers flag", "answers: uai.answers=file://" + fileAnswers}, install: "fedora-bootc-43"},
		{name: "kernel https, right checksum", cmdline: cmdline("uai.answers=" + srv.URL + "/answers.toml#sha256=" + sum(tlsBody)),
			want: []string{"answers: uai.answers=https://127.0.0.1", "matches"}, install: "centos-stream-10"},
		{name: "kernel https, no checksum", cmdline: cmdline("uai.answers=" + srv.URL + "/answers.toml"),
			want: []string{"answers: uai.answers=https://127.0.0.1"}, install: "centos-stream-10"},
		{name: "kernel https, wrong checksum", cmdline: cmdline("uai.answers=" + srv.URL + "/answers.toml#sha256=" + sum("something else")),
			code: 2, want: []string{"checksum mismatch: the file's sha256 is " + sum(tlsBody)}},
		{name: "kernel http without checksum", cmdline: cmdline("uai.answers=" + plainSrv.URL + "/answers.toml"),
			code: 2, want: []string{"plain http can be changed on the way"}},
		{name: "kernel http with checksum", cmdline: cmdline("uai.answers=" + plainSrv.URL + "/answers.toml#sha256=" + sum(tlsBody)),
			want: []string{"matches"}, install: "centos-stream-10"},
		{name: "kernel https, missing file", cmdline: cmdline("uai.answers=" + srv.URL + "/nope.toml"),
			code: 5, want: []string{"404 Not Found"}},
		{name: "kernel hd label", cmdline: cmdline("uai.answers=hd:LABEL=QA-LAB:/lab/answers.toml"), devices: []string{img, qaVol, uaiVol},
			want: []string{"answers: uai.answers=hd:LABEL=QA-LAB:/lab/answers.toml"}, install: "fedora-coreos"},
		{name: "kernel hd device", cmdline: cmdline("uai.answers=hd:" + qaVol + ":/lab/answers.toml#sha256=" + sum(answersFor("fedora-coreos"))),
			want: []string{"matches"}, install: "fedora-coreos"},
		{name: "kernel hd label missing", cmdline: cmdline("uai.answers=hd:LABEL=NOPE:/a.toml"), devices: []string{img, qaVol},
			code: 2, want: []string{`no volume is labelled "NOPE"`}},
		{name: "inst.ks https", cmdline: cmdline("inst.ks=" + srv.URL + "/bootc.ks"),
			want: []string{"answers: no uai.answers= on the kernel command line", "answers: inst.ks=https://127.0.0.1"}, install: ksImage},
		{name: "inst.ks cdrom", cmdline: cmdline("inst.ks=cdrom:/ks.cfg"), devices: []string{img, plainISO, liveISO},
			want: []string{"answers: inst.ks=cdrom:/ks.cfg"}, install: ksImage},
		{name: "iso embedded", cmdline: cmdline(""), devices: []string{img, plainISO, liveISO, uaiVol},
			want: []string{"answers: no inst.ks= on the kernel command line", "found /uai/answers.toml in the ISO 9660 volume live.iso"}, install: "fedora-silverblue"},
		{name: "mounted live medium", cmdline: cmdline(""), medium: mounted, devices: []string{img, liveISO},
			want: []string{"answers: found " + filepath.Join(mounted, "uai/answers.toml") + " on the live medium"}, install: "fedora-kinoite"},
		{name: "UAI-ANSWERS volume", cmdline: cmdline(""), devices: []string{img, plainISO, oemdrv, uaiVol},
			want: []string{"no /uai/answers.toml on the live medium", "answers: found /answers.toml on uai-answers.img1 (vfat labelled UAI-ANSWERS)"}, install: "fedora-iot"},
		{name: "OEMDRV volume", cmdline: cmdline(""), devices: []string{img, oemdrv},
			want: []string{"answers: no volume labelled UAI-ANSWERS", "answers: found /ks.cfg on oemdrv.img (vfat labelled OEMDRV)"}, install: ksImage},
		{name: "two UAI-ANSWERS volumes", cmdline: cmdline(""), devices: []string{img, uaiVol, uaiVol},
			code: 5, want: []string{"2 volumes are labelled UAI-ANSWERS"}},
		{name: "nothing anywhere", cmdline: cmdline(""), devices: []string{img, plainISO},
			code: 2, want: []string{"answers: no --answers flag", "answers: no uai.answers=", "answers: no inst.ks=", "no /uai/answers.toml", "answers: no volume labelled UAI-ANSWERS", "answers: no volume labelled OEMDRV", "answers: none found", "no answer file was found"}},
		{name: "bad location", cmdline: cmdline("uai.answers=nfs:server:/export/a.toml"), code: 2, want: []string{"nfs: is not supported"}},
	}
	if ext4Vol != "" {
		cases = append(cases, struct {
			name    string
			cmdline string
			devices []string
			medium  string
			flags   []string
			code    int
			want    []string
			install string
		}{name: "ext4 UAI-ANSWERS volume", cmdline: cmdline(""), devices: []string{img, ext4Vol},
			want: []string{"answers: found /answers.toml on ext4.img (ext4 labelled UAI-ANSWERS)"}, install: "fedora-sway-atomic"})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			medium := c.medium
			if medium == "" {
				medium = noMedium
			}
			args := []string{"plan", "--demo", "--discover", "--target", img, "--cmdline", c.cmdline, "--live-medium", medium,
				"--sys-root", dir, "--answers-fetch-timeout", "3s"}
			args = append(args, c.flags...)
			devices := c.devices
			if devices == nil {
				devices = []string{img}
			}
			args = append(args, "--answers-devices", strings.Join(devices, ","))
			r := runIn(t, dir, env, args...)
			if r.code != c.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, c.code, r.stdout, r.stderr)
			}
			at := 0
			for _, w := range c.want {
				i := strings.Index(r.stderr[at:], w)
				if i < 0 {
					t.Fatalf("stderr lacks %q after position %d:\n%s", w, at, r.stderr)
				}
				at += i + len(w)
			}
			if c.install != "" && !strings.Contains(r.stdout, c.install) {
				t.Fatalf("the plan does not install %s:\n%s", c.install, r.stdout)
			}
			for _, u := range []string{srv.URL, plainSrv.URL} {
				if strings.Contains(r.stderr, u+"/answers.toml") || strings.Contains(r.stderr, u+"/bootc.ks") {
					t.Errorf("the log shows a URL's path (tokens hide there):\n%s", r.stderr)
				}
			}
		})
	}
}

func writeFileAll(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
