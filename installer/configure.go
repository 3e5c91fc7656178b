package installer

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"

	"github.com/go-crypt/crypt/algorithm/shacrypt"

	"github.com/universal-atomic-installer/uai/installer/bootc"
)

// Steps that make the installed system right after bootc.
const (
	StepConfigure StepID = "configure"
	StepReceipt   StepID = "receipt"
)

// FirstUID is where new accounts start, as in Fedora's login.defs.
const FirstUID = 1000

// PlanConfig is what the configure step writes into the new deployment.
// Password values and hashes never appear in it (nor in the plan JSON or
// its hash): they travel in unexported fields, in memory only.
type PlanConfig struct {
	Hostname string     `json:"hostname,omitempty"`
	Timezone string     `json:"timezone,omitempty"`
	Locale   string     `json:"locale,omitempty"`
	Keymap   string     `json:"keymap,omitempty"`
	Root     PlanRoot   `json:"root"`
	Users    []PlanUser `json:"users,omitempty"`
	// DroppedKargs are kernel arguments that belong to the live installer
	// (rd.live.*, inst.*, uai.*, root=live:*, BOOT_IMAGE) and were kept
	// out of the target.
	DroppedKargs []string `json:"dropped_kargs,omitempty"`
}

// PlanRoot is the root account's configuration.
type PlanRoot struct {
	Locked      bool `json:"locked,omitempty"`
	PasswordSet bool `json:"password_set,omitempty"`
	// SSHAuthorizedKeys go to bootc --root-ssh-authorized-keys.
	SSHAuthorizedKeys []string `json:"ssh_authorized_keys,omitempty"`
	cred              *credential
}

// PlanUser is one account to create.
type PlanUser struct {
	Name  string `json:"name"`
	GECOS string `json:"gecos,omitempty"`
	// UID is the asked-for uid; 0 means the first free one from FirstUID.
	UID               int      `json:"uid,omitempty"`
	Groups            []string `json:"groups,omitempty"`
	PasswordSet       bool     `json:"password_set,omitempty"`
	SSHAuthorizedKeys []string `json:"ssh_authorized_keys,omitempty"`
	cred              *credential
}

// credential holds a plain password (hashed at install time, so the
// salt is fresh and the plan stays pure) or a ready crypt(3) hash.
type credential struct {
	plain string
	hash  string
}

// String keeps a credential printed with %v from showing its value.
func (c *credential) String() string { return "(secret)" }

// shadowField is the crypt(3) string for /etc/shadow.
func (c *credential) shadowField() (string, error) {
	if c.hash != "" {
		return c.hash, nil
	}
	h, err := shacrypt.NewSHA512()
	if err != nil {
		return "", fmt.Errorf("sha-512 crypt: %w", err)
	}
	d, err := h.Hash(c.plain)
	if err != nil {
		return "", fmt.Errorf("hash the password: %w", err)
	}
	return d.Encode(), nil
}

var (
	hostnameLabelRe = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)
	zoneRe          = regexp.MustCompile(`^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$`)
	localeRe        = regexp.MustCompile(`^[A-Za-z0-9_.@-]+$`)
	keymapRe        = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
	accountRe       = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)
	kargKeyRe       = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)
	cryptRe         = regexp.MustCompile(`^\$[0-9a-z]+\$[!-9;-~]+$`)
)

// installerOnlyKarg says whether a kernel argument belongs to the live
// installer: passed on to the target it would make the installed system
// look for a live medium (rd.live.*, root=live:) or re-run uai.
func installerOnlyKarg(a string) bool {
	key, val, _ := strings.Cut(a, "=")
	for _, p := range []string{"rd.live.", "inst.", "uai."} {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return key == "BOOT_IMAGE" || key == "rd.live" || (key == "root" && strings.HasPrefix(val, "live:"))
}

// FilterKargs splits kernel arguments into those the target may get and
// those that belong to the installer. A malformed argument is an error.
func FilterKargs(args []string) (keep, dropped []string, err error) {
	for _, a := range args {
		key, _, _ := strings.Cut(a, "=")
		if !kargKeyRe.MatchString(key) || strings.ContainsAny(a, " \t\n\"'") {
			return nil, nil, Errorf(ClassInvalidInput, "give one key or key=value per entry, without spaces or quotes", "kernel argument %q is malformed", a)
		}
		if installerOnlyKarg(a) {
			dropped = append(dropped, a)
			continue
		}
		keep = append(keep, a)
	}
	return keep, dropped, nil
}

// resolveConfig validates the system, root and user settings of req and
// returns nil when there is nothing to configure.
func resolveConfig(req Request, dropped []string) (*PlanConfig, error) {
	s := req.System
	c := &PlanConfig{Hostname: s.Hostname, Timezone: s.Timezone, Locale: s.Locale, Keymap: s.Keymap, DroppedKargs: dropped}
	var errs []error
	if s.Hostname != "" && !validHostname(s.Hostname) {
		errs = append(errs, Errorf(ClassInvalidInput, "use letters, digits and hyphens, dot-separated, at most 64 characters", "hostname %q is not valid", s.Hostname))
	}
	if s.Timezone != "" && (!zoneRe.MatchString(s.Timezone) || strings.Contains(s.Timezone, "..")) {
		errs = append(errs, Errorf(ClassInvalidInput, "use a tz database name such as Europe/Berlin or UTC", "timezone %q is not a zone name", s.Timezone))
	}
	if s.Locale != "" && !localeRe.MatchString(s.Locale) {
		errs = append(errs, Errorf(ClassInvalidInput, "use a locale such as en_US.UTF-8", "locale %q is not valid", s.Locale))
	}
	if s.Keymap != "" && !keymapRe.MatchString(s.Keymap) {
		errs = append(errs, Errorf(ClassInvalidInput, "use a console keymap such as us or de-nodeadkeys", "keymap %q is not valid", s.Keymap))
	}
	rc, err := credentialOf("root", req.Root.Password, req.Root.PasswordHash)
	errs = append(errs, err)
	if req.Root.Locked && rc != nil {
		errs = append(errs, Errorf(ClassInvalidInput, "drop the password or locked", "root is both locked and given a password"))
		rc = nil
	}
	errs = append(errs, checkKeys("root", req.Root.SSHAuthorizedKeys))
	c.Root = PlanRoot{Locked: req.Root.Locked, PasswordSet: rc != nil, SSHAuthorizedKeys: clone(req.Root.SSHAuthorizedKeys), cred: rc}
	seen := map[string]bool{}
	for _, u := range req.Users {
		switch {
		case !accountRe.MatchString(u.Name):
			errs = append(errs, Errorf(ClassInvalidInput, "use lowercase letters, digits, _ and -, starting with a letter", "user name %q is not valid", u.Name))
		case u.Name == "root":
			errs = append(errs, Errorf(ClassInvalidInput, "configure root in [root]", "user %q cannot be created: it exists in every system", u.Name))
		case seen[u.Name]:
			errs = append(errs, Errorf(ClassInvalidInput, "keep one entry per user", "user %q is given twice", u.Name))
		}
		seen[u.Name] = true
		if u.UID != 0 && (u.UID < FirstUID || u.UID > 60000) {
			errs = append(errs, Errorf(ClassInvalidInput, fmt.Sprintf("use a uid from %d to 60000, or leave it out", FirstUID), "user %s: uid %d is outside the range for people", u.Name, u.UID))
		}
		if strings.ContainsAny(u.GECOS, ":\n") {
			errs = append(errs, Errorf(ClassInvalidInput, "remove colons and newlines", "user %s: the full name contains ':' or a newline", u.Name))
		}
		for _, g := range u.Groups {
			if !accountRe.MatchString(g) {
				errs = append(errs, Errorf(ClassInvalidInput, "use group names such as wheel", "user %s: group %q is not valid", u.Name, g))
			}
		}
		uc, err := credentialOf("user "+u.Name, u.Password, u.PasswordHash)
		errs = append(errs, err, checkKeys("user "+u.Name, u.SSHAuthorizedKeys))
		c.Users = append(c.Users, PlanUser{Name: u.Name, GECOS: u.GECOS, UID: u.UID, Groups: clone(u.Groups),
			PasswordSet: uc != nil, SSHAuthorizedKeys: clone(u.SSHAuthorizedKeys), cred: uc})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, Classify(ClassInvalidInput, err)
	}
	if c.empty() {
		return nil, nil
	}
	return c, nil
}

// checkSecrets refuses a configuration whose passwords were lost, as
// happens to a plan read back from its JSON: installing it would leave
// the accounts without the passwords the user gave.
func (c *PlanConfig) checkSecrets() error {
	lost := c.Root.PasswordSet && c.Root.cred == nil
	for _, u := range c.Users {
		lost = lost || (u.PasswordSet && u.cred == nil)
	}
	if lost {
		return Errorf(ClassInternal, "make the plan with Resolve in the same process that runs it", "the plan says passwords are set but carries none (was it read back from JSON?)")
	}
	return nil
}

func (c *PlanConfig) empty() bool {
	return c.Hostname == "" && c.Timezone == "" && c.Locale == "" && c.Keymap == "" && !c.Root.Locked &&
		!c.Root.PasswordSet && len(c.Root.SSHAuthorizedKeys) == 0 && len(c.Users) == 0 && len(c.DroppedKargs) == 0
}

func validHostname(h string) bool {
	if len(h) > 64 {
		return false
	}
	for _, l := range strings.Split(h, ".") {
		if !hostnameLabelRe.MatchString(l) {
			return false
		}
	}
	return true
}

func credentialOf(who, plain, hash string) (*credential, error) {
	switch {
	case plain != "" && hash != "":
		return nil, Errorf(ClassInvalidInput, "keep one of them", "%s has both a password and a password hash", who)
	case hash != "" && !cryptRe.MatchString(hash):
		// The hash is not echoed: it is a secret too.
		return nil, Errorf(ClassInvalidInput, "give a crypt(3) hash such as the output of `mkpasswd -m sha-512`", "%s: the password hash is not a crypt(3) string", who)
	case strings.ContainsAny(plain, "\n"):
		return nil, Errorf(ClassInvalidInput, "use a password without newlines", "%s: the password contains a newline", who)
	case plain != "" || hash != "":
		return &credential{plain: plain, hash: hash}, nil
	}
	return nil, nil
}

func checkKeys(who string, keys []string) error {
	for i, k := range keys {
		if strings.TrimSpace(k) == "" || strings.ContainsAny(k, "\r\n") {
			return Errorf(ClassInvalidInput, "give one public key per entry", "%s: ssh key %d is empty or spans lines", who, i+1)
		}
	}
	return nil
}

// configure writes the plan's configuration into the deployment under
// the mounted physical root: its /etc (the deployment dir's etc) and its
// /var (ostree/deploy/STATEROOT/var, shared by every deployment).
func (r *run) configure() error {
	c := r.p.Configure
	dep, err := bootc.FindDeployment(r.p.TargetDir)
	if err != nil {
		return fmt.Errorf("find the new deployment: %w", err)
	}
	r.dep = &dep
	t := target{etc: filepath.Join(dep.Dir, "etc"), usr: filepath.Join(dep.Dir, "usr"),
		vardir: filepath.Join(r.p.TargetDir, "ostree", "deploy", dep.Stateroot, "var")}
	if c == nil {
		r.log(StepConfigure, "info", "nothing to configure")
		return nil
	}
	if err := c.checkSecrets(); err != nil {
		return err
	}
	if c.Hostname != "" {
		if err := t.writeEtc("hostname", c.Hostname+"\n", 0o644); err != nil {
			return err
		}
		r.log(StepConfigure, "info", "hostname: "+c.Hostname)
	}
	if c.Timezone != "" {
		if err := t.timezone(c.Timezone); err != nil {
			return err
		}
		r.log(StepConfigure, "info", "timezone: "+c.Timezone)
	}
	if c.Locale != "" {
		if err := t.writeEtc("locale.conf", "LANG="+c.Locale+"\n", 0o644); err != nil {
			return err
		}
		r.log(StepConfigure, "info", "locale: "+c.Locale)
	}
	if c.Keymap != "" {
		if err := t.writeEtc("vconsole.conf", "KEYMAP="+c.Keymap+"\n", 0o644); err != nil {
			return err
		}
		r.log(StepConfigure, "info", "keymap: "+c.Keymap)
	}
	db, err := t.loadAccounts()
	if err != nil {
		return err
	}
	switch {
	case c.Root.Locked:
		db.setShadow("root", "!*")
		r.log(StepConfigure, "info", "root: locked")
	case c.Root.cred != nil:
		f, err := c.Root.cred.shadowField()
		if err != nil {
			return fmt.Errorf("root: %w", err)
		}
		db.setShadow("root", f)
		r.log(StepConfigure, "info", "root: password set")
	}
	var homes []home
	for _, u := range c.Users {
		h, err := db.addUser(u)
		if err != nil {
			return err
		}
		homes = append(homes, h)
		r.log(StepConfigure, "info", fmt.Sprintf("user %s: uid %d, groups %s", u.Name, h.uid, orDash(strings.Join(u.Groups, ","))))
	}
	if err := t.saveAccounts(db); err != nil {
		return err
	}
	for _, h := range homes {
		if err := t.makeHome(h); err != nil {
			return err
		}
	}
	return nil
}

type target struct{ etc, usr, vardir string }

// writeEtc replaces ETC/name through a temporary file so a full disk
// leaves the old file, never half of the new one.
func (t target) writeEtc(name, content string, mode os.FileMode) error {
	return writeAtomic(filepath.Join(t.etc, name), []byte(content), mode)
}

func writeAtomic(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".uai-new"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return writeError(path, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		// OpenFile's mode is filtered by the umask; shadow must be 0000.
		err = os.Chmod(tmp, mode)
	}
	if err == nil {
		keepXattrs(path, tmp)
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return writeError(path, err)
	}
	return nil
}

// keptXattrs are copied from a replaced file to its replacement: the
// rename makes a new inode, and an /etc/shadow that lost its SELinux label
// (shadow_t) would lock every user out of an enforcing system.
var keptXattrs = []string{"security.selinux"}

// keepXattrs copies keptXattrs from old to tmp where old has them; a
// filesystem without xattrs has nothing to keep.
func keepXattrs(old, tmp string) {
	buf := make([]byte, 1024)
	for _, name := range keptXattrs {
		n, err := syscall.Getxattr(old, name, buf)
		if err != nil || n <= 0 {
			continue
		}
		_ = syscall.Setxattr(tmp, name, buf[:n], 0)
	}
}

// writeError names the file and, for a full disk, the fix.
func writeError(path string, err error) error {
	if errors.Is(err, syscall.ENOSPC) {
		return fmt.Errorf("write %s: %w: the installed system's root filesystem is full; give root more space (storage root_size) or pick a larger disk", path, err)
	}
	return fmt.Errorf("write %s: %w", path, err)
}

func (t target) timezone(zone string) error {
	zi := filepath.Join(t.usr, "share", "zoneinfo")
	if _, err := os.Stat(zi); err == nil {
		// The image ships tzdata: the zone must be in it, or the
		// installed system would boot with a dangling /etc/localtime.
		if st, err := os.Stat(filepath.Join(zi, zone)); err != nil || st.IsDir() {
			return Errorf(ClassInvalidInput, "pick a zone from the image's /usr/share/zoneinfo, such as UTC", "timezone %q is not in the image's tz database", zone)
		}
	}
	link := filepath.Join(t.etc, "localtime")
	if err := os.Remove(link); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("replace %s: %w", link, err)
	}
	if err := os.Symlink("../usr/share/zoneinfo/"+zone, link); err != nil {
		return fmt.Errorf("link %s: %w", link, err)
	}
	return nil
}

// accounts is the deployment's /etc/passwd, /etc/group and /etc/shadow,
// plus the image's read-only /usr/lib/passwd and /usr/lib/group (nss-altfiles
// on Fedora-family images keeps system accounts there).
type accounts struct {
	passwd, group, shadow [][]string
	libPasswd, libGroup   [][]string
}

type home struct {
	name     string
	uid, gid int
	keys     []string
}

func readColon(path string, must bool) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		if !must && errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	var out [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := sc.Text(); l != "" {
			out = append(out, strings.Split(l, ":"))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return out, nil
}

func (t target) loadAccounts() (*accounts, error) {
	var db accounts
	var err error
	for _, f := range []struct {
		dst  *[][]string
		path string
		must bool
	}{
		{&db.passwd, filepath.Join(t.etc, "passwd"), true},
		{&db.group, filepath.Join(t.etc, "group"), true},
		{&db.shadow, filepath.Join(t.etc, "shadow"), true},
		{&db.libPasswd, filepath.Join(t.usr, "lib", "passwd"), false},
		{&db.libGroup, filepath.Join(t.usr, "lib", "group"), false},
	} {
		if *f.dst, err = readColon(f.path, f.must); err != nil {
			return nil, err
		}
	}
	return &db, nil
}

func (t target) saveAccounts(db *accounts) error {
	join := func(rows [][]string) string {
		var b strings.Builder
		for _, r := range rows {
			b.WriteString(strings.Join(r, ":") + "\n")
		}
		return b.String()
	}
	// shadow first: an account in passwd without its shadow line would
	// have no password at all, the reverse is harmless.
	if err := t.writeEtc("shadow", join(db.shadow), 0o000); err != nil {
		return err
	}
	if err := t.writeEtc("group", join(db.group), 0o644); err != nil {
		return err
	}
	return t.writeEtc("passwd", join(db.passwd), 0o644)
}

func find(rows [][]string, name string) int {
	for i, r := range rows {
		if r[0] == name {
			return i
		}
	}
	return -1
}

func (db *accounts) setShadow(name, field string) {
	if i := find(db.shadow, name); i >= 0 {
		for len(db.shadow[i]) < 9 {
			db.shadow[i] = append(db.shadow[i], "")
		}
		db.shadow[i][1] = field
		return
	}
	db.shadow = append(db.shadow, []string{name, field, "", "0", "99999", "7", "", "", ""})
}

func usedIDs(rows ...[][]string) map[int]bool {
	used := map[int]bool{}
	for _, rs := range rows {
		for _, r := range rs {
			if len(r) > 2 {
				if n, err := strconv.Atoi(r[2]); err == nil {
					used[n] = true
				}
			}
		}
	}
	return used
}

func (db *accounts) addUser(u PlanUser) (home, error) {
	if find(db.passwd, u.Name) >= 0 || find(db.libPasswd, u.Name) >= 0 {
		return home{}, Errorf(ClassInvalidInput, "pick another user name", "user %s already exists in the image", u.Name)
	}
	if find(db.group, u.Name) >= 0 || find(db.libGroup, u.Name) >= 0 {
		return home{}, Errorf(ClassInvalidInput, "pick another user name", "user %s: a group of that name already exists in the image", u.Name)
	}
	uids := usedIDs(db.passwd, db.libPasswd)
	gids := usedIDs(db.group, db.libGroup)
	uid := u.UID
	if uid == 0 {
		for uid = FirstUID; uids[uid] || gids[uid]; uid++ {
		}
	} else if uids[uid] {
		return home{}, Errorf(ClassInvalidInput, "leave uid out or pick a free one", "user %s: uid %d is taken in the image", u.Name, uid)
	}
	gid := uid
	for gids[gid] {
		gid++
	}
	for _, g := range u.Groups {
		i := find(db.group, g)
		if i < 0 {
			// A group that only the image's /usr/lib/group has (wheel on
			// Fedora) gets its line copied to /etc/group, the documented
			// way to add members on ostree systems.
			j := find(db.libGroup, g)
			if j < 0 {
				return home{}, Errorf(ClassInvalidInput, "use a group the image has, such as wheel", "user %s: group %s does not exist in the image", u.Name, g)
			}
			db.group = append(db.group, append([]string(nil), db.libGroup[j]...))
			i = len(db.group) - 1
		}
		for len(db.group[i]) < 4 {
			db.group[i] = append(db.group[i], "")
		}
		members := db.group[i][3]
		if members != "" {
			members += ","
		}
		db.group[i][3] = members + u.Name
	}
	hd := "/var/home/" + u.Name
	db.passwd = append(db.passwd, []string{u.Name, "x", strconv.Itoa(uid), strconv.Itoa(gid), u.GECOS, hd, "/bin/bash"})
	db.group = append(db.group, []string{u.Name, "x", strconv.Itoa(gid), ""})
	field := "!"
	if u.cred != nil {
		f, err := u.cred.shadowField()
		if err != nil {
			return home{}, fmt.Errorf("user %s: %w", u.Name, err)
		}
		field = f
	}
	db.setShadow(u.Name, field)
	return home{name: u.Name, uid: uid, gid: gid, keys: u.SSHAuthorizedKeys}, nil
}

// makeHome creates /var/home/NAME (and ~/.ssh/authorized_keys) owned by
// the new user, so the first login needs no fix-up.
func (t target) makeHome(h home) error {
	homes := filepath.Join(t.vardir, "home")
	if err := os.MkdirAll(homes, 0o755); err != nil {
		return fmt.Errorf("make %s: %w", homes, err)
	}
	dir := filepath.Join(homes, h.name)
	mk := func(path string, mode os.FileMode, data []byte, isDir bool) error {
		var err error
		if isDir {
			err = os.Mkdir(path, mode)
		} else {
			err = writeAtomic(path, data, mode)
		}
		if err == nil {
			err = os.Chmod(path, mode)
		}
		if err == nil {
			err = os.Lchown(path, h.uid, h.gid)
		}
		if err != nil {
			return fmt.Errorf("user %s: %w", h.name, err)
		}
		return nil
	}
	if err := mk(dir, 0o700, nil, true); err != nil {
		return err
	}
	if len(h.keys) == 0 {
		return nil
	}
	if err := mk(filepath.Join(dir, ".ssh"), 0o700, nil, true); err != nil {
		return err
	}
	return mk(filepath.Join(dir, ".ssh", "authorized_keys"), 0o600, []byte(strings.Join(h.keys, "\n")+"\n"), false)
}

// rootKeysFile is where the root SSH keys are written for bootc's
// --root-ssh-authorized-keys: beside the target, not in it, because
// to-filesystem refuses a target root holding anything but mount points.
func rootKeysFile(targetDir string) string {
	return filepath.Join(targetDir+"-keys", "root_authorized_keys")
}

// text renders the configuration for the plan; secrets show as "set".
func (c *PlanConfig) text() string {
	var b strings.Builder
	for _, kv := range [][2]string{{"Hostname", c.Hostname}, {"Timezone", c.Timezone}, {"Locale", c.Locale}, {"Keymap", c.Keymap}} {
		if kv[1] != "" {
			fmt.Fprintf(&b, "%-9s %s\n", kv[0], kv[1])
		}
	}
	switch {
	case c.Root.Locked:
		b.WriteString("Root      locked\n")
	case c.Root.PasswordSet:
		b.WriteString("Root      password set\n")
	}
	if n := len(c.Root.SSHAuthorizedKeys); n > 0 {
		fmt.Fprintf(&b, "Root SSH  %d key(s)\n", n)
	}
	for _, u := range c.Users {
		fmt.Fprintf(&b, "User      %s", u.Name)
		if len(u.Groups) > 0 {
			fmt.Fprintf(&b, " (groups %s)", strings.Join(u.Groups, ","))
		}
		if u.PasswordSet {
			b.WriteString(", password set")
		}
		if n := len(u.SSHAuthorizedKeys); n > 0 {
			fmt.Fprintf(&b, ", %d SSH key(s)", n)
		}
		b.WriteString("\n")
	}
	if len(c.DroppedKargs) > 0 {
		fmt.Fprintf(&b, "Not kept  installer-only kernel arguments: %s\n", strings.Join(c.DroppedKargs, " "))
	}
	return b.String()
}
