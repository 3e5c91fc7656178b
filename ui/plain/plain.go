// Package plain is the accessible front-end: the installer's questions asked one line at a time on a plain text stream, for screen readers, serial consoles and dumb terminals.
package plain

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/charmbracelet/x/term"

	"github.com/universal-atomic-installer/uai/catalog"
	"github.com/universal-atomic-installer/uai/installer"
	"github.com/universal-atomic-installer/uai/installer/system"
	"github.com/universal-atomic-installer/uai/partition"
	"github.com/universal-atomic-installer/uai/ui/common"
	"github.com/universal-atomic-installer/uai/ui/components/picker"
	"github.com/universal-atomic-installer/uai/ui/report"
	"github.com/universal-atomic-installer/uai/ui/screens/disk"
	"github.com/universal-atomic-installer/uai/ui/screens/welcome"
)

// Outcome is how a plain run ended; it matches ui.Outcome.
type Outcome struct {
	Result  installer.Result
	Action  string
	Request installer.Request
}

// errBack and errQuit are what a person types instead of an answer.
var (
	errBack = errors.New("back")
	errQuit = errors.New("quit")
)

// session is one plain run: the questions, the answers so far, the lines.
type session struct {
	ctx context.Context
	b   common.Backend
	o   common.Options
	in  *bufio.Reader
	// secretFD is the terminal to read passwords from without echo, or -1
	// when the input is not a terminal (a pipe, a test).
	secretFD int
	out      io.Writer

	facts   common.Facts
	req     installer.Request
	edition catalog.Edition
	image   *catalog.ImageInfo
	disk    partition.Disk
	plan    *installer.Plan
}

// Run asks every question the answers leave open, one line at a time, then
// installs and reports progress as lines. The same Backend drives it as the
// TUI; the answers are checked by the same rules.
func Run(ctx context.Context, b common.Backend, o common.Options, in io.Reader, out io.Writer) (Outcome, error) {
	s := &session{ctx: ctx, b: b, o: o, in: bufio.NewReader(in), out: out, secretFD: -1}
	if f, ok := in.(*os.File); ok && term.IsTerminal(f.Fd()) {
		s.secretFD = int(f.Fd())
	}
	if o.Preseed != nil {
		s.req = *o.Preseed
	}
	s.printf("uai, the Universal Atomic Installer: plain mode. Answer each question and press enter;\n")
	s.printf("an empty answer takes the value in brackets, \"back\" goes to the previous question, \"quit\" leaves.\n")
	if o.Demo {
		s.printf("DEMO: the target is a disk image file; a simulator stands in for bootc (simulated bootc).\n")
	}
	mc, merr := b.Machine(ctx)
	if merr == nil {
		s.facts.Machine = &mc
	}
	s.facts.MachineErr = merr
	s.facts.Disks, s.facts.DisksErr = b.Disks(ctx)
	s.facts.DisksLoaded = true

	steps := []struct {
		sections []string
		ask      func() error
	}{
		{[]string{"system"}, s.welcome},
		{[]string{"network"}, s.network},
		{[]string{"source"}, s.chooseEdition},
		{[]string{"disk"}, s.chooseDisk},
		{[]string{"storage"}, s.storage},
		{[]string{"system", "root", "users"}, s.accounts},
	}
	askDisk, err := s.preseed()
	if err != nil {
		return s.abort(err.Error()), nil
	}
	var shown []int
	for i, st := range steps {
		if s.asked(st.sections) || (i == 3 && askDisk) {
			shown = append(shown, i)
		}
	}
	for i := 0; i <= len(shown); {
		var err error
		if i == len(shown) {
			err = s.review()
			if err == nil {
				return s.install()
			}
		} else {
			err = steps[shown[i]].ask()
		}
		switch {
		case err == nil:
			i++
		case errors.Is(err, errBack):
			i = max(i-1, 0)
		case errors.Is(err, errQuit), errors.Is(err, io.EOF):
			return s.abort("cancelled by the user before the install started"), nil
		default:
			return s.abort(err.Error()), err
		}
	}
	return s.abort("nothing to do"), nil
}

func (s *session) asked(sections []string) bool {
	p := s.o.Preseed
	if p == nil {
		return true
	}
	for _, sec := range p.Interactive {
		if sec == "*" || slices.Contains(sections, sec) {
			return true
		}
	}
	return false
}

// preseed takes the edition and disk from the answers when they are not
// asked. A disk the answers name but this machine lacks is asked for
// instead (askDisk), with the reason.
func (s *session) preseed() (askDisk bool, err error) {
	switch {
	case s.req.EditionID != "":
		e, ok := s.b.Catalog().Lookup(s.req.EditionID)
		if !ok {
			return false, fmt.Errorf("edition %q of the answers is not in the catalog", s.req.EditionID)
		}
		s.edition = e
	case s.req.Image != "":
		s.edition = customEdition(s.req.Image)
	}
	if s.asked([]string{"disk"}) {
		return false, nil
	}
	for _, d := range s.facts.Disks {
		if s.req.DiskPath != "" && (d.Path == s.req.DiskPath || slices.Contains(d.ByID, s.req.DiskPath)) {
			s.disk = d
		}
	}
	if s.disk.Path == "" && s.req.DiskPath == "" && !s.req.Selector.IsZero() {
		d, _, err := partition.Select(s.facts.Disks, s.req.Selector)
		if err == nil {
			s.disk = d
		} else {
			s.printf("The answer file's disk: %v\n", err)
		}
	}
	return s.disk.Path == "", nil
}

func (s *session) abort(why string) Outcome {
	r := installer.Result{ExitCode: installer.ClassAborted.ExitCode(), Class: installer.ClassAborted.String(), Error: why,
		Edition: s.edition.ID, Disk: s.disk.Path}
	s.printf("uai: %s; nothing was written to any disk.\n", why)
	return Outcome{Result: r, Request: s.req}
}

func (s *session) printf(format string, args ...any) { fmt.Fprintf(s.out, format, args...) }

// ask prints a question and returns the answer, or def when it is empty.
func (s *session) ask(question, def string) (string, error) {
	if def != "" {
		s.printf("%s [%s]: ", question, def)
	} else {
		s.printf("%s: ", question)
	}
	line, err := s.in.ReadString('\n')
	if err != nil && (line == "" || !errors.Is(err, io.EOF)) {
		s.printf("\n")
		return "", io.EOF
	}
	line = strings.TrimSpace(line)
	switch strings.ToLower(line) {
	case "back", "<":
		return "", errBack
	case "quit", "exit":
		return "", errQuit
	case "":
		return def, nil
	}
	return line, nil
}

// secret reads a password: without echo on a terminal, as a line otherwise.
func (s *session) secret(question string) (string, error) {
	s.printf("%s: ", question)
	if s.secretFD >= 0 {
		b, err := term.ReadPassword(uintptr(s.secretFD))
		s.printf("\n")
		if err != nil {
			return "", fmt.Errorf("read the password: %w", err)
		}
		return string(b), nil
	}
	line, err := s.in.ReadString('\n')
	if err != nil && line == "" {
		return "", io.EOF
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func (s *session) yes(question string, def bool) (bool, error) {
	d := "y/N"
	if def {
		d = "Y/n"
	}
	for {
		a, err := s.ask(question+" ("+d+")", "")
		if err != nil {
			return false, err
		}
		switch strings.ToLower(a) {
		case "":
			return def, nil
		case "y", "yes":
			return true, nil
		case "n", "no":
			return false, nil
		}
		s.printf("  answer y or n.\n")
	}
}

func (s *session) welcome() error {
	s.printf("\n== Welcome ==\n")
	s.printf("uai installs a bootable-container (bootc) edition on a disk of this machine.\nNothing is written until you confirm the plan. Guide: %s\n", welcome.DocsURL)
	s.machine()
	cur, _ := s.b.LiveLocale(s.ctx)
	loc := orDefault(s.req.System.Locale, orDefault(cur.Locale, "en_US.UTF-8"))
	km := orDefault(s.req.System.Keymap, orDefault(cur.Keymap, "us"))
	var err error
	if loc, err = s.pick("Language (? lists them)", welcome.Languages, loc); err != nil {
		return err
	}
	if km, err = s.pick("Keyboard layout (? lists them)", welcome.Keymaps, km); err != nil {
		return err
	}
	s.req.System.Locale, s.req.System.Keymap = loc, km
	if err := s.b.SetLiveLocale(s.ctx, system.Locale{Locale: loc, Keymap: km}); err != nil {
		s.printf("  the live session keeps its language and keyboard (%v); the choice applies to the installed system.\n", err)
	} else {
		s.printf("  the live session now uses %s with the %s keyboard.\n", loc, km)
	}
	return nil
}

func (s *session) machine() {
	m := s.facts.Machine
	if m == nil {
		s.printf("This machine: could not be read (%v).\n", s.facts.MachineErr)
		return
	}
	name := "This machine"
	if m.Name != "" {
		name = "Recorded machine " + m.Name + " (demo)"
	}
	fw := strings.ToUpper(orDefault(m.Firmware, "unknown")) + " firmware"
	if m.SecureBoot != "" {
		fw += ", Secure Boot " + m.SecureBoot
	}
	tpm := "no TPM 2.0"
	if m.TPM2 {
		tpm = "TPM 2.0"
	}
	s.printf("%s: %s, %s, %s of memory, %s, %d disks.\n", name, fw, orDefault(m.Arch, "unknown architecture"), common.Bytes(m.RAMBytes), tpm, len(s.facts.Disks))
}

// pick asks for one of items by value, label or a word of it; "?" lists
// them (or the matches of "? word").
func (s *session) pick(question string, items []picker.Item, def string) (string, error) {
	for {
		a, err := s.ask(question, def)
		if err != nil {
			return "", err
		}
		if q, ok := strings.CutPrefix(a, "?"); ok {
			for _, it := range matching(items, strings.TrimSpace(q)) {
				s.printf("  %-16s %s\n", it.Value, it.Label)
			}
			continue
		}
		found := matching(items, a)
		for _, it := range found {
			if strings.EqualFold(it.Value, a) {
				return it.Value, nil
			}
		}
		switch len(found) {
		case 1:
			return found[0].Value, nil
		case 0:
			if a == def {
				return a, nil
			}
			s.printf("  nothing matches %q; type ? to list the choices.\n", a)
		default:
			s.printf("  %q matches %d choices; be more precise (? %s lists them).\n", a, len(found), a)
		}
	}
}

func matching(items []picker.Item, q string) []picker.Item {
	q = strings.ToLower(q)
	var out []picker.Item
	for _, it := range items {
		if q == "" || strings.Contains(strings.ToLower(it.Value+" "+it.Label), q) {
			out = append(out, it)
		}
	}
	return out
}

func (s *session) network() error {
	s.printf("\n== Network ==\n")
	for {
		st, err := s.b.NetworkStatus(s.ctx)
		switch {
		case errors.Is(err, system.ErrNoNetworkManager):
			s.printf("NetworkManager is not running: uai cannot show or change the network here.\n")
			return nil
		case err != nil:
			s.printf("could not read the network: %v\n", err)
		default:
			s.printf("Network: %s.\n", welcome.Describe(st))
		}
		online := err == nil && st.Connectivity.Online()
		offline := s.facts.Machine != nil && s.facts.Machine.Offline
		aps, serr := s.b.ScanWiFi(s.ctx)
		if serr == nil && len(aps) > 0 {
			s.printf("Wi-Fi networks:\n")
			for i, ap := range aps {
				s.printf("  %d) %s, %d%%, %s\n", i+1, ap.SSID, ap.Strength, ap.Security)
			}
		}
		def := ""
		if online || offline {
			def = "continue"
		}
		a, aerr := s.ask("Wi-Fi network to join (number), c to check again, or continue", def)
		if aerr != nil {
			return aerr
		}
		switch strings.ToLower(a) {
		case "continue", "skip":
			if online || offline {
				return nil
			}
			s.printf("  no internet yet: join a network or plug in a cable; the image is downloaded during the install.\n")
			continue
		case "c":
			if c, err := s.b.CheckConnectivity(s.ctx); err == nil {
				s.printf("  internet: %s\n", c)
			}
			continue
		}
		n, nerr := strconv.Atoi(a)
		if nerr != nil || n < 1 || n > len(aps) {
			s.printf("  type the number of a network in the list.\n")
			continue
		}
		if err := s.join(aps[n-1]); err != nil {
			return err
		}
	}
}

func (s *session) join(ap system.AccessPoint) error {
	if !ap.Supported() {
		s.printf("  %s is a %s network, which needs settings uai does not ask for.\n", ap.SSID, ap.Security)
		return nil
	}
	for {
		pass := ""
		if ap.Secured() {
			var err error
			if pass, err = s.secret("Passphrase for " + ap.SSID + " (empty gives up)"); err != nil {
				return err
			}
			if pass == "" {
				return nil
			}
			if err := system.CheckPassphrase(pass); err != nil {
				s.printf("  %v\n", err)
				continue
			}
		}
		s.printf("  joining %s...\n", ap.SSID)
		err := s.b.ConnectWiFi(s.ctx, ap.SSID, pass)
		switch {
		case err == nil:
			s.printf("  joined %s.\n", ap.SSID)
			s.req.Network.WiFi = []installer.WiFiRequest{{SSID: ap.SSID, PSK: pass}}
			return nil
		case errors.Is(err, system.ErrWrongPassphrase):
			s.printf("  %s refused the passphrase: check it (and the keyboard layout) and type it again.\n", ap.SSID)
		default:
			s.printf("  %v\n", err)
			return nil
		}
	}
}

func (s *session) chooseEdition() error {
	s.printf("\n== Edition ==\n")
	cat := s.b.Catalog()
	var fit catalog.Machine
	if s.facts.Machine != nil {
		fit = s.facts.Machine.Fit(s.facts.LargestDisk())
	}
	last := ""
	for i, e := range cat.Editions {
		if e.Category != last {
			s.printf("%s:\n", strings.ToUpper(e.Category))
			last = e.Category
		}
		note := e.Maturity
		if why := e.Fits(fit); len(why) > 0 {
			note = "does not fit: " + strings.Join(why, "; ")
		}
		s.printf("  %d) %s (%s), %s\n", i+1, e.Name, e.ID, note)
	}
	for {
		def := ""
		if s.req.EditionID != "" {
			def = s.req.EditionID
		}
		a, err := s.ask("Edition (number or id), or any bootc image ref", def)
		if err != nil {
			return err
		}
		if n, nerr := strconv.Atoi(a); nerr == nil && n >= 1 && n <= len(cat.Editions) {
			a = cat.Editions[n-1].ID
		}
		if e, ok := cat.Lookup(a); ok {
			if why := e.Fits(fit); len(why) > 0 {
				s.printf("  %s cannot be installed on this machine: %s\n", e.Name, strings.Join(why, "; "))
				continue
			}
			s.edition, s.image = e, nil
			s.req.EditionID, s.req.Image, s.req.TargetRef, s.req.Digest = e.ID, "", "", ""
			// The runner choice weighs the image's size against the RAM.
			s.req.ImageSizeBytes = 0
			if info, err := s.b.ResolveImage(s.ctx, e.Image, e.Digest); err == nil {
				s.image = &info
				s.req.ImageSizeBytes = info.SizeBytes
				s.printf("  %s: %s to download, built %s, digest %s\n", e.Image, common.Bytes(uint64(max(info.SizeBytes, 0))), info.Created.UTC().Format("2006-01-02"), info.Digest)
			}
			return nil
		}
		if !strings.Contains(a, "/") {
			s.printf("  %q is no edition; type a number, an id, or an image ref such as quay.io/fedora/fedora-bootc:44.\n", a)
			continue
		}
		s.printf("  asking the registry about %s...\n", a)
		info, err := s.b.ResolveImage(s.ctx, a, "")
		if err != nil {
			s.printf("  %v\n", err)
			continue
		}
		s.printf("  ok: a bootable image (%s), %s, digest %s\n", info.BootableLabel, common.Bytes(uint64(max(info.SizeBytes, 0))), info.Digest)
		s.edition, s.image = customEdition(a), &info
		s.req.EditionID, s.req.Image, s.req.TargetRef, s.req.Digest = "", a, "", ""
		s.req.ImageSizeBytes = info.SizeBytes
		if info.DigestRef != "" && info.DigestRef != a {
			s.req.Image, s.req.TargetRef = info.DigestRef, a
		}
		return nil
	}
}

func customEdition(ref string) catalog.Edition {
	return catalog.Edition{Name: ref, Image: ref, DefaultFilesystem: "xfs", MinDiskGiB: 10}
}

func (s *session) chooseDisk() error {
	s.printf("\n== Disk ==\n")
	disks, err := s.b.Disks(s.ctx)
	if err != nil {
		return fmt.Errorf("list the disks: %w", err)
	}
	problems := func(d partition.Disk) []string {
		out := slices.Clone(d.Refusals)
		if need := s.edition.MinDiskBytes(); need > 0 && d.SizeBytes < need {
			out = append(out, fmt.Sprintf("too small: needs %d GiB", s.edition.MinDiskGiB))
		}
		return out
	}
	for i, d := range disks {
		model := orDefault(d.Model, "unknown model")
		s.printf("  %d) %s, %s, %s, %s: %s\n", i+1, d.Path, common.Bytes(d.SizeBytes), model, orDefault(d.Transport, "-"), disk.Kind(d))
		for _, sys := range d.Systems {
			s.printf("     holds %s\n", sys)
		}
		for _, p := range problems(d) {
			s.printf("     cannot be used: %s\n", p)
		}
	}
	for {
		a, err := s.ask("Disk (number)", "")
		if err != nil {
			return err
		}
		n, nerr := strconv.Atoi(a)
		if nerr != nil || n < 1 || n > len(disks) {
			s.printf("  type the number of a disk in the list.\n")
			continue
		}
		d := disks[n-1]
		if p := problems(d); len(p) > 0 {
			s.printf("  %s cannot be used: %s\n", d.Name, strings.Join(p, "; "))
			continue
		}
		s.disk = d
		s.req.DiskPath, s.req.Selector = d.Path, partition.Selector{}
		return nil
	}
}

func (s *session) storage() error {
	s.printf("\n== Storage on %s ==\n", s.disk.Path)
	for {
		st := installer.StorageRequest{Method: s.req.Storage.Method, SeparateBoot: s.req.Storage.SeparateBoot, Layout: partition.KindWhole}
		free := disk.FreeBytes(s.disk)
		if !s.disk.Empty() && s.disk.Table == "gpt" && free >= s.edition.MinDiskBytes() {
			a, err := s.ask(fmt.Sprintf("Use the whole disk (erasing it) or the %s of free space (keeping %s)? whole/free", common.Bytes(free), disk.Kind(s.disk)), "free")
			if err != nil {
				return err
			}
			if strings.HasPrefix(strings.ToLower(a), "f") {
				st.Layout = partition.KindFree
			}
		}
		fs, err := s.ask("Root filesystem: xfs, ext4 or btrfs", orDefault(s.req.Filesystem, orDefault(s.edition.DefaultFilesystem, "xfs")))
		if err != nil {
			return err
		}
		if !slices.Contains([]string{"xfs", "ext4", "btrfs"}, fs) {
			s.printf("  %q is not one of xfs, ext4 or btrfs.\n", fs)
			continue
		}
		size, err := s.ask("Root size (empty: all the space)", "")
		if err != nil {
			return err
		}
		if st.RootSizeBytes, err = common.CheckRootSize(size); err != nil {
			s.printf("  %v\n", err)
			continue
		}
		enc, err := s.yes("Encrypt the system with LUKS2?", s.req.Storage.Encryption.Enabled)
		if err != nil {
			return err
		}
		if enc {
			p1, err := s.secret("Passphrase (asked at every boot)")
			if err != nil {
				return err
			}
			p2, err := s.secret("The same passphrase again")
			if err != nil {
				return err
			}
			if _, cerr := common.CheckEncryption(p1, p2); cerr != nil {
				s.printf("  %v\n", cerr)
				continue
			}
			_, hint := common.Strength(p1)
			s.printf("  passphrase strength: %s\n", hint)
			st.Encryption = installer.EncryptionRequest{Enabled: true, Passphrase: p1}
			if s.facts.Machine != nil && s.facts.Machine.TPM2 {
				if st.Encryption.TPM2, err = s.yes("Also unlock with this machine's TPM2 (the passphrase stays for recovery)?", false); err != nil {
					return err
				}
			}
		}
		req := s.req
		req.Storage, req.Filesystem, req.Wipe = st, fs, true
		if _, err := s.b.Plan(s.ctx, req); err != nil {
			s.printf("  this layout cannot be planned: %v\n", err)
			continue
		}
		s.req.Storage, s.req.Filesystem = st, fs
		return nil
	}
}

func (s *session) accounts() error {
	s.printf("\n== The installed system ==\n")
	for {
		host, err := s.ask("Host name (empty: as the image sets it)", s.req.System.Hostname)
		if err != nil {
			return err
		}
		zones, cur, zerr := s.b.Timezones(s.ctx)
		items := make([]picker.Item, 0, len(zones)+1)
		for _, z := range zones {
			items = append(items, picker.Item{Value: z, Label: z})
		}
		if zerr != nil || !slices.Contains(zones, "UTC") {
			items = append(items, picker.Item{Value: "UTC", Label: "UTC"})
		}
		tz, err := s.pick("Time zone (? word lists matches)", items, orDefault(s.req.System.Timezone, orDefault(cur, "UTC")))
		if err != nil {
			return err
		}
		mode, err := s.ask("Log in as a user of your own, or as root with an SSH key only (servers)? user/root", "user")
		if err != nil {
			return err
		}
		r := installer.Request{System: installer.SystemRequest{Hostname: host, Timezone: tz}}
		if strings.HasPrefix(strings.ToLower(mode), "r") {
			k, err := s.ask("Root's SSH public key (the line of ~/.ssh/id_ed25519.pub)", "")
			if err != nil {
				return err
			}
			if k == "" {
				s.printf("  root with an SSH key only needs the key.\n")
				continue
			}
			r.Root = installer.RootRequest{Locked: true, SSHAuthorizedKeys: []string{k}}
		} else {
			name, err := s.ask("User name", "")
			if err != nil {
				return err
			}
			if name == "" || name == "root" {
				s.printf("  type a user name other than root, e.g. alex.\n")
				continue
			}
			p1, err := s.secret("Password (empty only with an SSH key)")
			if err != nil {
				return err
			}
			p2, err := s.secret("The same password again")
			if err != nil {
				return err
			}
			k, err := s.ask("SSH public key (optional)", "")
			if err != nil {
				return err
			}
			if _, cerr := common.CheckPassword(p1, p2, k != ""); cerr != nil {
				s.printf("  %v\n", cerr)
				continue
			}
			if p1 != "" {
				_, hint := common.Strength(p1)
				s.printf("  password strength: %s\n", hint)
			}
			admin, err := s.yes("Administrator (group wheel, may use sudo)?", true)
			if err != nil {
				return err
			}
			u := installer.UserRequest{Name: name, Password: p1}
			if k != "" {
				u.SSHAuthorizedKeys = []string{k}
			}
			if admin {
				u.Groups = []string{"wheel"}
			}
			r.Users = []installer.UserRequest{u}
		}
		if probs := common.AnswerProblems(r); len(probs) > 0 {
			keys := make([]string, 0, len(probs))
			for k := range probs {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				s.printf("  %s: %s\n", k, probs[k])
			}
			continue
		}
		s.req.System.Hostname, s.req.System.Timezone = host, tz
		s.req.Root, s.req.Users = r.Root, r.Users
		return nil
	}
}

// review prints the plan and asks for the confirmation the TUI asks for.
func (s *session) review() error {
	s.printf("\n== Review ==\n")
	free := s.req.Storage.Layout == partition.KindFree
	s.req.Wipe = !s.disk.Empty() && !free
	p, err := s.b.Plan(s.ctx, s.req)
	if err != nil {
		s.printf("could not plan the install: %v\n", err)
		if _, aerr := s.ask("Type back to change the choices, or quit", "back"); aerr != nil {
			return aerr
		}
		return errBack
	}
	s.printf("%s", p.Text())
	if s.offersRegistry(p) {
		img := s.image
		built := ""
		if !img.Created.IsZero() {
			built = ", built " + img.Created.UTC().Format("2006-01-02")
		}
		s.printf("The install medium's build (%s) is installed. The registry has %s%s.\n",
			p.Medium.Digest, img.Digest, built)
		use, err := s.yes("Install the registry's build instead?", false)
		if err != nil {
			return err
		}
		if use {
			s.useRegistry()
			if p, err = s.b.Plan(s.ctx, s.req); err != nil {
				s.printf("could not plan the install: %v\n", err)
				if _, aerr := s.ask("Type back to change the choices, or quit", "back"); aerr != nil {
					return aerr
				}
				return errBack
			}
			s.printf("\n%s", p.Text())
		}
	}
	if s.image != nil && p.Edition.Digest == "" && p.Medium == nil {
		s.printf("Digest    %s (where the tag points now)\n", s.image.Digest)
	}
	s.printf("System    language %s, keyboard %s, host name %s, time zone %s\n",
		orDefault(s.req.System.Locale, "-"), orDefault(s.req.System.Keymap, "-"), orDefault(s.req.System.Hostname, "(image default)"), orDefault(s.req.System.Timezone, "-"))
	for _, u := range s.req.Users {
		s.printf("User      %s\n", u.Name)
	}
	if p.Wipe {
		name := s.disk.Name
		for {
			a, err := s.ask(fmt.Sprintf("%s holds data and will be ERASED. Type %s to confirm (or back)", name, name), "")
			if err != nil {
				return err
			}
			if a == name {
				break
			}
			s.printf("  %q is not %s: nothing was written.\n", a, name)
		}
	} else {
		ok, err := s.yes("Install now?", false)
		if err != nil {
			return err
		}
		if !ok {
			return errBack
		}
	}
	s.plan = p
	return nil
}

// offersRegistry reports whether p installs the install medium's build
// while the registry, reached when the image was chosen, has another one.
// Offline (no resolved image) the medium's build is installed unasked.
func (s *session) offersRegistry(p *installer.Plan) bool {
	img := s.image
	return p.Medium != nil && img != nil && img.Digest != "" && img.DigestRef != "" && img.Digest != p.Medium.Digest
}

// useRegistry pins the request to the registry's build, as the TUI's
// review does: an edition keeps its ref and settings with Digest set, a
// custom image is pinned in its ref and still follows the ref typed.
func (s *session) useRegistry() {
	if s.req.EditionID != "" {
		s.req.Digest = s.image.Digest
		return
	}
	s.req.Image, s.req.TargetRef = s.image.DigestRef, s.edition.Image
}

// install runs the plan, reporting as lines; progress is printed in steps
// of a tenth, so a serial console is not flooded.
func (s *session) install() (Outcome, error) {
	s.printf("\n== Install ==\n")
	sink := &throttle{next: report.NewText(s.out), last: map[installer.StepID]int64{}}
	var res installer.Result
	collect := installer.SinkFunc(func(e installer.Event) {
		if e.Type == installer.EventResult && e.Result != nil {
			res = *e.Result
		}
		sink.Emit(e)
	})
	err := s.b.Install(s.ctx, s.plan, collect)
	if err != nil && res.ExitCode == 0 {
		res.ExitCode, res.Class, res.Error = installer.ExitCode(err), installer.ClassOf(err).String(), err.Error()
	}
	out := Outcome{Result: res, Request: s.req}
	if res.ExitCode != 0 {
		s.printf("\nThe install failed: %s\n", res.Error)
		if res.LogPath != "" {
			s.printf("The whole log is in %s.\n", res.LogPath)
		}
		if a, _ := s.ask("Save the answers to a file? y/n", "n"); strings.HasPrefix(strings.ToLower(a), "y") {
			s.export()
		}
		return out, nil
	}
	if res.Stopped == "" && !res.Simulated {
		s.printf("\nInstalled. Remove the installation medium before rebooting.\n")
	}
	for {
		a, err := s.ask("What now? reboot, poweroff, shell, save (the answers) or exit", "exit")
		if err != nil {
			// quit, exit or the end of the input: leave.
			out.Action = common.ActionExit
			return out, nil
		}
		switch a = strings.ToLower(a); a {
		case "save":
			s.export()
		case common.ActionReboot, common.ActionPowerOff:
			if s.o.Demo || s.plan.Disk.ImageFile {
				s.printf("  not here: the target is an image file, so this would restart this computer.\n")
				continue
			}
			call := s.b.Reboot
			if a == common.ActionPowerOff {
				call = s.b.PowerOff
			}
			how, err := call(s.ctx)
			if err != nil {
				s.printf("  %v\n", err)
				continue
			}
			s.printf("  %s\n", how)
			out.Action = a
			return out, nil
		case common.ActionShell, common.ActionExit:
			out.Action = a
			return out, nil
		default:
			s.printf("  type one of: reboot, poweroff, shell, save, exit.\n")
		}
	}
}

func (s *session) export() {
	p, err := s.b.ExportAnswers(s.ctx, s.req)
	if err != nil {
		s.printf("  could not save the answers: %v\n", err)
		return
	}
	s.printf("  saved the answers to %s (secrets redacted).\n", p)
}

// throttle passes events to next, but a step's progress only when it
// has moved on by a tenth since the last line.
type throttle struct {
	mu   sync.Mutex
	next installer.Sink
	last map[installer.StepID]int64
}

func (t *throttle) Emit(e installer.Event) {
	if e.Type == installer.EventStepProgress && e.Total > 0 {
		t.mu.Lock()
		tenth := e.Done * 10 / e.Total
		prev, seen := t.last[e.Step]
		t.last[e.Step] = tenth
		t.mu.Unlock()
		if seen && tenth == prev {
			return
		}
	}
	t.next.Emit(e)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
