package discover

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseCmdline(t *testing.T) {
	c := ParseCmdline(`BOOT_IMAGE=/images/pxeboot/vmlinuz root=live:CDLABEL=UAI_LIVE rd.live.image quiet ` +
		`uai.answers="https://qa.example.com/a b.toml" uai.answers=hd:LABEL=UAI-ANSWERS:/answers.toml "inst.ks=cdrom:/k s.cfg" ` +
		`uai.autoinstall acpi="" =novalue` + "\n")
	want := Cmdline{
		{Key: "BOOT_IMAGE", Value: "/images/pxeboot/vmlinuz", HasValue: true},
		{Key: "root", Value: "live:CDLABEL=UAI_LIVE", HasValue: true},
		{Key: "rd.live.image"},
		{Key: "quiet"},
		{Key: "uai.answers", Value: "https://qa.example.com/a b.toml", HasValue: true},
		{Key: "uai.answers", Value: "hd:LABEL=UAI-ANSWERS:/answers.toml", HasValue: true},
		{Key: "inst.ks", Value: "cdrom:/k s.cfg", HasValue: true},
		{Key: "uai.autoinstall"},
		{Key: "acpi", Value: "", HasValue: true},
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("got  %#v\nwant %#v", c, want)
	}
	if got := c.Values("uai.answers"); !reflect.DeepEqual(got, []string{"https://qa.example.com/a b.toml", "hd:LABEL=UAI-ANSWERS:/answers.toml"}) {
		t.Errorf("Values: %q", got)
	}
	if !c.Has(Autoinstall) || c.Has("uai.answer") || c.Has("splash") {
		t.Error("Has")
	}
	for _, s := range []string{"uai.autoinstall=0", "uai.autoinstall=no", "uai.autoinstall uai.autoinstall=off", "uai.autoinstall=false"} {
		if ParseCmdline(s).Has(Autoinstall) {
			t.Errorf("%q confirms", s)
		}
	}
	for _, s := range []string{"uai.autoinstall=1", "uai.autoinstall=yes", "uai.autoinstall=0 uai.autoinstall"} {
		if !ParseCmdline(s).Has(Autoinstall) {
			t.Errorf("%q does not confirm", s)
		}
	}
	if len(ParseCmdline(strings.Repeat("a ", maxCmdline))) > maxCmdline/2 {
		t.Error("an oversize command line is not bounded")
	}
}

func FuzzParseCmdline(f *testing.F) {
	f.Add("BOOT_IMAGE=/vmlinuz quiet uai.answers=https://h/p#sha256=00 uai.autoinstall")
	f.Add(`a="b c" "d=e f" g= =h`)
	f.Add("\"unterminated quote uai.answers=x")
	f.Add("inst.ks=hd:LABEL=OEMDRV:/ks.cfg\n")
	f.Fuzz(func(t *testing.T, s string) {
		c := ParseCmdline(s)
		for _, a := range c {
			if a.Key == "" {
				t.Fatalf("an argument without a key from %q", s)
			}
			if strings.ContainsRune(a.Key+a.Value, '"') {
				t.Fatalf("quotes were kept in %+v from %q", a, s)
			}
			if !a.HasValue && a.Value != "" {
				t.Fatalf("a value without '=' from %q", s)
			}
		}
		// Without quotes the command line is just its words.
		if !strings.ContainsRune(s, '"') && len(s) <= maxCmdline {
			var words []string
			for _, a := range c {
				w := a.Key
				if a.HasValue {
					w += "=" + a.Value
				}
				words = append(words, w)
			}
			// The kernel separates arguments by ASCII white space only; a
			// Unicode space (U+3000, U+00A0...) is part of a word.
			var want []string
			for _, w := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }) {
				if !strings.HasPrefix(w, "=") {
					want = append(want, w)
				}
			}
			if strings.Join(words, " ") != strings.Join(want, " ") {
				t.Fatalf("%q parsed to %q", s, words)
			}
		}
		for _, v := range c.Values(KargAnswers) {
			_, _ = ParseLocation(v)
		}
	})
}

func TestParseLocation(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	cases := []struct {
		in   string
		want Location
	}{
		{"https://qa.example.com/a.toml", Location{Kind: KindHTTPS, URL: "https://qa.example.com/a.toml"}},
		{"https://qa.example.com/a.toml?token=x#sha256=" + strings.ToUpper(sum), Location{Kind: KindHTTPS, URL: "https://qa.example.com/a.toml?token=x", SHA256: sum}},
		{"http://192.0.2.1/a.toml#sha256=" + sum, Location{Kind: KindHTTP, URL: "http://192.0.2.1/a.toml", SHA256: sum}},
		{"file:///run/media/a.toml", Location{Kind: KindFile, Path: "/run/media/a.toml"}},
		{"hd:LABEL=UAI-ANSWERS:/answers.toml", Location{Kind: KindHD, Label: "UAI-ANSWERS", Path: "/answers.toml"}},
		{"hd:sdb1:/ks.cfg", Location{Kind: KindHD, Device: "/dev/sdb1", Path: "/ks.cfg"}},
		{"hd:/dev/disk/by-label/X:/ks.cfg", Location{Kind: KindHD, Device: "/dev/disk/by-label/X", Path: "/ks.cfg"}},
		{"cdrom:/ks.cfg", Location{Kind: KindCDROM, Path: "/ks.cfg"}},
		{"cdrom:/dev/sr0:/uai/answers.toml", Location{Kind: KindCDROM, Device: "/dev/sr0", Path: "/uai/answers.toml"}},
		{"cdrom:sr1:/ks.cfg#sha256=" + sum, Location{Kind: KindCDROM, Device: "/dev/sr1", Path: "/ks.cfg", SHA256: sum}},
	}
	for _, c := range cases {
		got, err := ParseLocation(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseLocation(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	bad := map[string]string{
		"":                            "no location",
		"#sha256=" + sum:              "no location",
		"https://h/a.toml#sha256=abc": "64 hex digits",
		"http://h/a.toml":             "plain http",
		"https:/h/a":                  "not a valid URL",
		"file://relative/a.toml":      "file:///ABSOLUTE",
		"hd:/answers.toml":            "hd:LABEL=NAME:/path",
		"hd:LABEL=:/a.toml":           "LABEL= needs",
		"hd:UUID=1234-ABCD:/a.toml":   "only LABEL=",
		"hd:LABEL=X:/":                "no file path",
		"cdrom:ks.cfg":                "cdrom:LABEL=NAME",
		"nfs:server:/export/ks.cfg":   "nfs: is not supported",
		"ftp://h/ks.cfg":              "ftp: is not supported",
		"bootp":                       "unknown location",
	}
	for in, want := range bad {
		_, err := ParseLocation(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseLocation(%q) = %v; want an error with %q", in, err, want)
		}
	}
	// Neither errors nor logs show a URL's path, query or user info.
	l, err := ParseLocation("https://user:pw-secret@h.example/t/token-secret?k=q-secret#sha256=" + sum)
	if err != nil {
		t.Fatal(err)
	}
	_, err = ParseLocation("http://h.example/t/token-secret?k=q-secret")
	for _, s := range []string{l.String(), err.Error()} {
		if strings.Contains(s, "secret") || !strings.Contains(s, "h.example") {
			t.Errorf("%q shows a secret or hides the host", s)
		}
	}
}
