package sim

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// mount is one line of /proc/self/mountinfo.
type mount struct {
	Point  string // mount point
	FSType string
	Source string
	// Options are the per-mount and per-superblock options together, as
	// findmnt reports them.
	Options []string
}

// readMountInfo parses a mountinfo file (proc(5)).
func readMountInfo(path string) ([]mount, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []mount
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		fields := strings.Fields(sc.Text())
		sep := -1
		for i, fl := range fields {
			if fl == "-" {
				sep = i
				break
			}
		}
		if sep < 6 || len(fields) < sep+3 {
			return nil, fmt.Errorf("%s line %d is not a mountinfo line", path, n)
		}
		m := mount{
			Point:  unescapeMount(fields[4]),
			FSType: fields[sep+1],
			Source: unescapeMount(fields[sep+2]),
		}
		m.Options = strings.Split(fields[5], ",")
		if len(fields) > sep+3 {
			m.Options = append(m.Options, strings.Split(fields[sep+3], ",")...)
		}
		out = append(out, m)
	}
	return out, sc.Err()
}

// unescapeMount undoes the kernel's octal escaping (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var c int
			if _, err := fmt.Sscanf(s[i+1:i+4], "%03o", &c); err == nil {
				b.WriteByte(byte(c))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// mountAt returns the mount whose mount point is exactly p (the last one
// when several are stacked).
func mountAt(mounts []mount, p string) (mount, bool) {
	var found mount
	ok := false
	for _, m := range mounts {
		if m.Point == p {
			found, ok = m, true
		}
	}
	return found, ok
}

// mountContaining returns the mount a path lives on: the longest mount
// point that is a prefix of it.
func mountContaining(mounts []mount, p string) (mount, bool) {
	var best mount
	ok := false
	for _, m := range mounts {
		if under(p, m.Point) && (!ok || len(m.Point) >= len(best.Point)) {
			best, ok = m, true
		}
	}
	return best, ok
}

// under reports whether p is dir or inside it.
func under(p, dir string) bool {
	if dir == "/" {
		return strings.HasPrefix(p, "/")
	}
	return p == dir || strings.HasPrefix(p, dir+"/")
}

func mountOption(m mount, key string) (string, bool) {
	for _, o := range m.Options {
		if k, v, ok := strings.Cut(o, "="); ok && k == key {
			return v, true
		}
	}
	return "", false
}

// uuidFromDevDisk finds the filesystem UUID of a device by reading the
// /dev/disk/by-uuid symlinks (read only).
func uuidFromDevDisk(source string) (string, bool) {
	if u, ok := strings.CutPrefix(source, "/dev/disk/by-uuid/"); ok {
		return u, true
	}
	ents, err := os.ReadDir("/dev/disk/by-uuid")
	if err != nil {
		return "", false
	}
	want, err := filepath.EvalSymlinks(source)
	if err != nil {
		return "", false
	}
	for _, e := range ents {
		if got, err := filepath.EvalSymlinks(filepath.Join("/dev/disk/by-uuid", e.Name())); err == nil && got == want {
			return e.Name(), true
		}
	}
	return "", false
}

// placeholderUUID is a stable UUID-shaped stand-in derived from the mount
// source, for when the real UUID cannot be found (e.g. a fake mountinfo).
func placeholderUUID(source string) string {
	h := fmt.Sprintf("%x", sha256.Sum256([]byte("uuid:"+source)))
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-8" + h[17:20] + "-" + h[20:32]
}
