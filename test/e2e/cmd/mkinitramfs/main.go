// Command mkinitramfs builds the end-to-end tests' initramfs: a reproducible gzip newc archive of an init script, programs with their shared libraries, and a kernel module set with a load order.
package main

import (
	"bufio"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// entry is one archive member.
type entry struct {
	name   string // without leading slash
	mode   uint32 // full st_mode
	data   []byte
	src    string // file to read data from, when data is nil
	link   string // symlink target
	rdevMj uint32
	rdevMn uint32
}

type archive struct {
	entries map[string]*entry
}

func (a *archive) dir(name string) {
	name = strings.Trim(path.Clean(name), "/")
	if name == "" || name == "." {
		return
	}
	if _, ok := a.entries[name]; ok {
		return
	}
	a.dir(path.Dir(name))
	a.entries[name] = &entry{name: name, mode: 0o040755}
}

func (a *archive) add(e *entry) error {
	e.name = strings.Trim(path.Clean(e.name), "/")
	if old, ok := a.entries[e.name]; ok && (old.src != e.src || old.link != e.link) {
		return fmt.Errorf("%s is given twice (%s and %s)", e.name, old.src, e.src)
	}
	a.dir(path.Dir(e.name))
	a.entries[e.name] = e
	return nil
}

func (a *archive) file(src, dst string) error {
	st, err := os.Stat(src)
	if err != nil {
		return err
	}
	mode := uint32(0o100644)
	if st.Mode()&0o111 != 0 {
		mode = 0o100755
	}
	return a.add(&entry{name: dst, mode: mode, src: src})
}

// binary adds an executable and every shared library ldd names, at the
// same paths as on the build machine (the loader looks there).
func (a *archive) binary(src, dst string) error {
	if err := a.file(src, dst); err != nil {
		return err
	}
	out, err := exec.Command("ldd", src).CombinedOutput()
	if err != nil {
		if strings.Contains(string(out), "not a dynamic executable") || strings.Contains(string(out), "statically linked") {
			return nil
		}
		return fmt.Errorf("ldd %s: %v: %s", src, err, out)
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		var lib string
		switch {
		case len(f) >= 3 && f[1] == "=>" && strings.HasPrefix(f[2], "/"):
			lib = f[2]
		case len(f) >= 1 && strings.HasPrefix(f[0], "/"):
			lib = f[0]
		default:
			continue
		}
		real, err := filepath.EvalSymlinks(lib)
		if err != nil {
			return err
		}
		if err := a.file(real, lib); err != nil {
			return err
		}
	}
	return sc.Err()
}

// modules adds the named modules and their dependencies from an unpacked
// kernel package (root/lib/modules/kver with a modules.dep made by
// depmod -b), and writes etc/uai/modules: the load order, dependencies
// first, one path per line.
func (a *archive) modules(root, kver string, names []string) error {
	base := filepath.Join(root, "lib", "modules", kver)
	f, err := os.Open(filepath.Join(base, "modules.dep"))
	if err != nil {
		return fmt.Errorf("%w (run depmod -b %s %s first)", err, root, kver)
	}
	defer f.Close()
	deps := map[string][]string{}
	byName := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		mod, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		deps[mod] = strings.Fields(rest)
		n := strings.TrimSuffix(path.Base(mod), ".ko")
		byName[strings.ReplaceAll(n, "-", "_")] = mod
	}
	var order []string
	seen := map[string]bool{}
	var visit func(m string)
	visit = func(m string) {
		if seen[m] {
			return
		}
		seen[m] = true
		for _, d := range deps[m] {
			visit(d)
		}
		order = append(order, m)
	}
	for _, n := range names {
		m, ok := byName[strings.ReplaceAll(n, "-", "_")]
		if !ok {
			return fmt.Errorf("module %s is not in %s/modules.dep", n, base)
		}
		visit(m)
	}
	var list strings.Builder
	for _, m := range order {
		dst := path.Join("lib/modules", kver, m)
		// Copied as shipped: under Secure Boot lockdown only modules that
		// still carry the distribution's signature load.
		if err := a.file(filepath.Join(base, m), dst); err != nil {
			return err
		}
		list.WriteString("/" + dst + "\n")
	}
	return a.add(&entry{name: "etc/uai/modules", mode: 0o100644, data: []byte(list.String())})
}

func (a *archive) write(w io.Writer) error {
	names := make([]string, 0, len(a.entries))
	for n := range a.entries {
		names = append(names, n)
	}
	sort.Strings(names)
	ino := uint32(1)
	header := func(name string, mode, size, mj, mn uint32) error {
		_, err := fmt.Fprintf(w, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
			ino, mode, 0, 0, 1, 0, size, 0, 0, mj, mn, len(name)+1, 0)
		ino++
		if err != nil {
			return err
		}
		if _, err := io.WriteString(w, name+"\x00"); err != nil {
			return err
		}
		return pad(w, 110+len(name)+1)
	}
	for _, n := range names {
		e := a.entries[n]
		data := e.data
		switch {
		case e.link != "":
			data = []byte(e.link)
		case data == nil && e.src != "":
			b, err := os.ReadFile(e.src)
			if err != nil {
				return err
			}
			data = b
		}
		if err := header(n, e.mode, uint32(len(data)), e.rdevMj, e.rdevMn); err != nil {
			return err
		}
		if _, err := w.Write(data); err != nil {
			return err
		}
		if err := pad(w, len(data)); err != nil {
			return err
		}
	}
	return header("TRAILER!!!", 0, 0, 0, 0)
}

func pad(w io.Writer, n int) error {
	if r := n % 4; r != 0 {
		_, err := w.Write(make([]byte, 4-r))
		return err
	}
	return nil
}

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(s string) error { *m = append(*m, s); return nil }

func main() {
	var files, bins, mods, links multi
	out := flag.String("o", "", "output initramfs (gzip newc)")
	initScript := flag.String("init", "", "the /init script")
	modRoot := flag.String("modules-root", "", "unpacked kernel package (holds lib/modules/KVER)")
	kver := flag.String("kver", "", "kernel version")
	flag.Var(&files, "file", "SRC:DST, a file to add (repeatable)")
	flag.Var(&bins, "bin", "SRC:DST, an executable to add with its shared libraries (repeatable)")
	flag.Var(&mods, "module", "a kernel module to add with its dependencies (repeatable)")
	flag.Var(&links, "symlink", "DST:TARGET, a symbolic link (repeatable)")
	flag.Parse()
	if err := run(*out, *initScript, *modRoot, *kver, files, bins, mods, links); err != nil {
		fmt.Fprintln(os.Stderr, "mkinitramfs:", err)
		os.Exit(1)
	}
}

func run(out, initScript, modRoot, kver string, files, bins, mods, links []string) error {
	if out == "" || initScript == "" {
		return errors.New("pass -o and -init")
	}
	a := &archive{entries: map[string]*entry{}}
	for _, d := range []string{"dev", "proc", "sys", "run", "tmp", "etc", "root", "var/lib/containers", "usr/bin", "usr/sbin"} {
		a.dir(d)
	}
	// The kernel opens /dev/console before running /init; without the node
	// init has no stdout.
	if err := a.add(&entry{name: "dev/console", mode: 0o020600, rdevMj: 5, rdevMn: 1}); err != nil {
		return err
	}
	if err := a.add(&entry{name: "init", mode: 0o100755, src: initScript}); err != nil {
		return err
	}
	for _, spec := range files {
		src, dst, ok := strings.Cut(spec, ":")
		if !ok {
			return fmt.Errorf("-file %q: want SRC:DST", spec)
		}
		if err := a.file(src, dst); err != nil {
			return err
		}
	}
	for _, spec := range bins {
		src, dst, ok := strings.Cut(spec, ":")
		if !ok {
			return fmt.Errorf("-bin %q: want SRC:DST", spec)
		}
		if err := a.binary(src, dst); err != nil {
			return err
		}
	}
	for _, spec := range links {
		dst, target, ok := strings.Cut(spec, ":")
		if !ok {
			return fmt.Errorf("-symlink %q: want DST:TARGET", spec)
		}
		if err := a.add(&entry{name: dst, mode: 0o120777, link: target}); err != nil {
			return err
		}
	}
	if len(mods) > 0 {
		if err := a.modules(modRoot, kver, mods); err != nil {
			return err
		}
	}
	f, err := os.Create(out + ".tmp")
	if err != nil {
		return err
	}
	zw, _ := gzip.NewWriterLevel(f, gzip.BestSpeed)
	if err := a.write(zw); err != nil {
		f.Close()
		return err
	}
	if err := zw.Close(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(out+".tmp", out)
}
