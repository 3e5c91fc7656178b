package catalog

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestEmbeddedParsesClean(t *testing.T) {
	c, rep := Parse(EmbeddedJSON())
	if !rep.OK() {
		t.Fatalf("default.json is invalid:\n%s", rep.Error())
	}
	if !newSchemaChecker(t).accepts(EmbeddedJSON()) {
		t.Error("the JSON Schema rejects default.json")
	}
	if len(c.Editions) < 15 {
		t.Errorf("only %d editions", len(c.Editions))
	}
}

// TestEmbeddedIsCanonical keeps default.json in the one pretty form, so a
// diff of it shows content changes only. -update reformats it.
func TestEmbeddedIsCanonical(t *testing.T) {
	want, err := encodeIndented(Embedded())
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("default.json", want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(EmbeddedJSON(), want) {
		t.Error("default.json is not in canonical form (2-space indent, fields in struct order, no empty optional fields); run go test ./catalog/ -update")
	}
}

func TestEmbeddedHandsOutCopies(t *testing.T) {
	a := Embedded()
	a.Editions[0].ID = "changed"
	a.Editions[0].Arches[0] = "s390x"
	a.Editions = a.Editions[:1]
	b := Embedded()
	if b.Editions[0].ID == "changed" || b.Editions[0].Arches[0] == "s390x" || len(b.Editions) < 2 {
		t.Fatal("a change to one Embedded() result leaked into the next")
	}
	j := EmbeddedJSON()
	j[0] = 'X'
	if EmbeddedJSON()[0] != '{' {
		t.Fatal("EmbeddedJSON returned the shared bytes")
	}
}

// The editions uai promises, with the refs the reference list confirms.
var wantEditions = map[string]string{
	"fedora-bootc-44":      "quay.io/fedora/fedora-bootc:44",
	"fedora-bootc-43":      "quay.io/fedora/fedora-bootc:43",
	"fedora-bootc-rawhide": "quay.io/fedora/fedora-bootc:rawhide",
	"fedora-silverblue":    "quay.io/fedora/fedora-silverblue:44",
	"fedora-kinoite":       "quay.io/fedora/fedora-kinoite:44",
	"fedora-sway-atomic":   "quay.io/fedora/fedora-sway-atomic:44",
	"fedora-budgie-atomic": "quay.io/fedora-ostree-desktops/budgie-atomic:44",
	"fedora-cosmic-atomic": "quay.io/fedora-ostree-desktops/cosmic-atomic:44",
	"fedora-coreos":        "quay.io/fedora/fedora-coreos:stable",
	"fedora-iot":           "quay.io/fedora/fedora-iot:44",
	"centos-stream-10":     "quay.io/centos-bootc/centos-bootc:stream10",
	"centos-stream-9":      "quay.io/centos-bootc/centos-bootc:stream9",
	"bluefin":              "ghcr.io/projectbluefin/bluefin:stable",
	"bluefin-lts":          "ghcr.io/projectbluefin/bluefin-lts:stable",
	"aurora":               "ghcr.io/ublue-os/aurora:stable",
	"bazzite":              "ghcr.io/ublue-os/bazzite:stable",
	"ucore":                "ghcr.io/ublue-os/ucore:stable",
	"almalinux-bootc-10":   "quay.io/almalinuxorg/almalinux-bootc:10",
}

// ublueKey is the Universal Blue cosign.pub, byte-identical across
// ublue-os/bluefin, aurora, bazzite, ucore and main.
const ublueKey = testKey

func TestEmbeddedEditions(t *testing.T) {
	c := Embedded()
	if len(c.Editions) != len(wantEditions) {
		t.Errorf("%d editions, want %d", len(c.Editions), len(wantEditions))
	}
	for id, img := range wantEditions {
		e, ok := c.Lookup(id)
		if !ok {
			t.Errorf("edition %s is missing", id)
			continue
		}
		if e.Image != img {
			t.Errorf("%s: image %s, want %s", id, e.Image, img)
		}
	}
	for _, e := range c.Editions {
		if strings.HasSuffix(e.Image, ":latest") {
			t.Errorf("%s: %s uses :latest, which jumps at each release; pin a release tag", e.ID, e.Image)
		}
		if e.Source == "" || e.Maintainer == "" || e.MaturityNote == "" || e.Homepage == "" {
			t.Errorf("%s: source, maintainer, maturityNote and homepage are required in the embedded catalog", e.ID)
		}
		if strings.HasPrefix(e.Image, "ghcr.io/ublue-os/") {
			if e.Signature.Policy != PolicySigstore || e.Signature.PublicKey != ublueKey {
				t.Errorf("%s: Universal Blue images are cosign-signed with the Universal Blue key", e.ID)
			}
		}
		if strings.HasPrefix(e.Image, "ghcr.io/projectbluefin/") && e.Signature.Policy != PolicyNone {
			// Keyless signatures cannot be pinned by a key; a key here
			// would make every update fail verification.
			t.Errorf("%s: projectbluefin images are signed keyless; policy must be none in v1", e.ID)
		}
		switch e.Category {
		case "desktop", "gaming":
			if e.MinDiskGiB != 32 || e.MinRAMMiB != 4096 {
				t.Errorf("%s: desktop minimums are 32 GiB / 4096 MiB, got %d / %d", e.ID, e.MinDiskGiB, e.MinRAMMiB)
			}
		default:
			if e.MinDiskGiB != 10 || e.MinRAMMiB != 2048 {
				t.Errorf("%s: server minimums are 10 GiB / 2048 MiB, got %d / %d", e.ID, e.MinDiskGiB, e.MinRAMMiB)
			}
		}
	}
	bluefin, _ := c.Lookup("bluefin")
	if !slices.Equal(bluefin.Aliases, []string{"ghcr.io/ublue-os/bluefin:stable"}) {
		t.Errorf("bluefin aliases = %v; the ublue-os namespace still builds and must be recognised", bluefin.Aliases)
	}
	for _, id := range []string{"fedora-budgie-atomic", "fedora-cosmic-atomic"} {
		e, _ := c.Lookup(id)
		if !strings.Contains(e.MaturityNote, "unconfirmed") || e.Maturity != "incubating" {
			t.Errorf("%s: the SIG CI ref must be incubating and say the official ref is unconfirmed", id)
		}
	}
	for id, fs := range map[string]string{"fedora-bootc-44": "xfs", "centos-stream-10": "xfs", "fedora-coreos": "xfs", "fedora-iot": "xfs", "fedora-silverblue": "btrfs", "bazzite": "btrfs", "bluefin-lts": "xfs"} {
		if e, _ := c.Lookup(id); e.DefaultFilesystem != fs {
			t.Errorf("%s: defaultFilesystem %s, want %s", id, e.DefaultFilesystem, fs)
		}
	}
	if e, _ := c.Lookup("bazzite"); slices.Contains(e.Firmware, FirmwareBIOS) {
		t.Error("bazzite: its installer refuses legacy boot; bios must not be listed")
	}
}

// TestEmbeddedKeysAreP256: every pinned key is an ECDSA P-256 key, as
// cosign generates; a key that parses as something else was mangled.
func TestEmbeddedKeysAreP256(t *testing.T) {
	n := 0
	for _, e := range Embedded().Editions {
		if e.Signature.Policy != PolicySigstore {
			continue
		}
		n++
		block, _ := pem.Decode([]byte(e.Signature.PublicKey))
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			t.Fatalf("%s: %v", e.ID, err)
		}
		ec, ok := k.(*ecdsa.PublicKey)
		if !ok || ec.Curve != elliptic.P256() {
			t.Errorf("%s: key is %T, want ECDSA P-256", e.ID, k)
		}
	}
	if n < 5 {
		t.Errorf("only %d editions pin a key", n)
	}
}
