package discover

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Kinds of answer-file location.
const (
	KindHTTPS = "https"
	KindHTTP  = "http"
	KindFile  = "file"
	KindHD    = "hd"
	KindCDROM = "cdrom"
)

// Location is where a kernel argument says the answer file is:
// https://HOST/PATH, http://... (only with a checksum), file:///PATH,
// hd:LABEL=X:/PATH or hd:DEVICE:/PATH, cdrom:/PATH or cdrom:DEVICE:/PATH,
// each optionally followed by #sha256=HEX.
type Location struct {
	Kind string
	// URL is the http(s) URL without the checksum fragment.
	URL string
	// Label or Device names the volume of hd: and cdrom: locations.
	Label  string
	Device string
	// Path is the file's path (file:, hd:, cdrom:).
	Path string
	// SHA256 is the expected checksum, lowercase hex, or "".
	SHA256 string
}

// ErrLocation marks a kernel argument that is not a location uai reads.
var ErrLocation = errors.New("invalid answer-file location")

// String renders the location for logs: a URL shows only its scheme and
// host, because tokens hide in the rest.
func (l Location) String() string {
	var s string
	switch l.Kind {
	case KindHTTPS, KindHTTP:
		s = redactURL(l.URL)
	case KindFile:
		s = "file://" + l.Path
	case KindHD, KindCDROM:
		vol := l.Device
		if l.Label != "" {
			vol = "LABEL=" + l.Label
		}
		if vol == "" {
			s = l.Kind + ":" + l.Path
		} else {
			s = l.Kind + ":" + vol + ":" + l.Path
		}
	}
	if l.SHA256 != "" {
		s += " (sha256 " + l.SHA256[:12] + "...)"
	}
	return s
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "<redacted URL>"
	}
	out := u.Scheme + "://" + u.Host
	if u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		out += "/<redacted>"
	}
	return out
}

func locErr(raw, format string, args ...any) error {
	shown := raw
	if s, _, _ := strings.Cut(raw, ":"); strings.EqualFold(s, "http") || strings.EqualFold(s, "https") {
		u, _, _ := strings.Cut(raw, "#")
		shown = redactURL(u)
	}
	return fmt.Errorf("%w %q: %s", ErrLocation, shorten(shown), fmt.Sprintf(format, args...))
}

func shorten(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// ParseLocation reads a uai.answers= or inst.ks= value.
func ParseLocation(raw string) (Location, error) {
	s := raw
	var l Location
	if i := strings.LastIndex(s, "#sha256="); i >= 0 {
		h := strings.ToLower(s[i+len("#sha256="):])
		if len(h) != 64 || strings.Trim(h, "0123456789abcdef") != "" {
			return l, locErr(raw, "the checksum after #sha256= must be 64 hex digits (sha256sum prints it)")
		}
		l.SHA256, s = h, s[:i]
	}
	if s == "" {
		return l, locErr(raw, "no location; give https://..., file:///..., hd:LABEL=X:/path or cdrom:/path")
	}
	scheme, rest, _ := strings.Cut(s, ":")
	switch strings.ToLower(scheme) {
	case "https", "http":
		u, err := url.Parse(s)
		if err != nil || u.Host == "" || !strings.HasPrefix(rest, "//") {
			return l, locErr(raw, "not a valid URL; write e.g. https://qa.example.com/answers.toml")
		}
		l.Kind, l.URL = strings.ToLower(scheme), s
		if l.Kind == KindHTTP && l.SHA256 == "" {
			return l, locErr(raw, "plain http can be changed on the way; use https, or add #sha256=HEX of the file")
		}
	case "file":
		p := strings.TrimPrefix(rest, "//")
		if !strings.HasPrefix(p, "/") {
			return l, locErr(raw, "a file location is file:///ABSOLUTE/PATH")
		}
		l.Kind, l.Path = KindFile, p
	case "hd", "cdrom":
		l.Kind = strings.ToLower(scheme)
		// KIND:VOLUME:/path, or cdrom:/path for any CD. A device may be
		// a path itself (/dev/sdb1, or an image file in tests), so the
		// volume ends at the first ":/".
		vol, p := "", rest
		if i := strings.Index(rest, ":/"); i >= 0 {
			vol, p = rest[:i], rest[i+1:]
		} else if l.Kind == KindHD || !strings.HasPrefix(rest, "/") {
			return l, locErr(raw, "write %s:LABEL=NAME:/path or %s:DEVICE:/path", l.Kind, l.Kind)
		}
		switch {
		case strings.HasPrefix(vol, "LABEL="):
			l.Label = strings.TrimPrefix(vol, "LABEL=")
			if l.Label == "" {
				return l, locErr(raw, "LABEL= needs the volume's label")
			}
		case strings.HasPrefix(vol, "UUID="), strings.HasPrefix(vol, "PARTUUID="), strings.HasPrefix(vol, "PARTLABEL="):
			return l, locErr(raw, "only LABEL= and device names are supported; label the volume (e.g. mkfs.fat -n UAI-ANSWERS)")
		case vol == "":
		default:
			if !strings.HasPrefix(vol, "/") {
				vol = "/dev/" + vol
			}
			l.Device = vol
		}
		if p == "" || p == "/" {
			return l, locErr(raw, "no file path after the volume")
		}
		l.Path = p
	case "nfs", "ftp", "ftps", "tftp", "smb", "cifs":
		return l, locErr(raw, "%s: is not supported; serve the file over https (or http with #sha256=)", scheme)
	default:
		return l, locErr(raw, "unknown location; give https://..., file:///..., hd:LABEL=X:/path or cdrom:/path")
	}
	return l, nil
}
