package answers

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	// The installer's live system may ship without /usr/share/zoneinfo;
	// the embedded database keeps timezone checks the same everywhere.
	_ "time/tzdata"

	"github.com/universal-atomic-installer/uai/installer/bootc"
	"github.com/universal-atomic-installer/uai/partition"
)

var (
	sha256Re   = regexp.MustCompile(sha256Pattern)
	hostnameRe = regexp.MustCompile(hostnamePattern)
	timezoneRe = regexp.MustCompile(timezonePattern)
	localeRe   = regexp.MustCompile(localePattern)
	keymapRe   = regexp.MustCompile(keymapPattern)
	userRe     = regexp.MustCompile(userPattern)
	kargRe     = regexp.MustCompile(kargPattern)
	durationRe = regexp.MustCompile(durationPattern)
	macRe      = regexp.MustCompile(macPattern)
	stateRe    = regexp.MustCompile(statePattern)
	editionRe  = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	// hashRes are the crypt(3) formats a current glibc/libxcrypt verifies;
	// MD5 ($1$) and DES are refused as too weak to protect anything.
	hashRes = map[string]*regexp.Regexp{
		"$6$":  regexp.MustCompile(`^\$6\$(?:rounds=[0-9]{4,9}\$)?[./A-Za-z0-9]{1,16}\$[./A-Za-z0-9]{86}$`),
		"$5$":  regexp.MustCompile(`^\$5\$(?:rounds=[0-9]{4,9}\$)?[./A-Za-z0-9]{1,16}\$[./A-Za-z0-9]{43}$`),
		"$y$":  regexp.MustCompile(`^\$y\$[./A-Za-z0-9]+\$[./A-Za-z0-9]+\$[./A-Za-z0-9]{43}$`),
		"$gy$": regexp.MustCompile(`^\$gy\$[./A-Za-z0-9]+\$[./A-Za-z0-9]+\$[./A-Za-z0-9]{43}$`),
		"$7$":  regexp.MustCompile(`^\$7\$[./A-Za-z0-9]{11,}\$[./A-Za-z0-9]{43}$`),
		"$2b$": regexp.MustCompile(`^\$2[aby]\$[0-9]{2}\$[./A-Za-z0-9]{53}$`),
	}
)

// RedactedValue replaces a secret in effective answers and exports. A
// file that still holds it cannot be used until the secret is supplied.
const RedactedValue = "<redacted>"

// checker validates decoded answers, pointing each problem at the key
// that caused it.
type checker struct {
	rep         *Report
	locs        map[string]loc
	file        string
	tree        map[string]any
	interactive map[string]bool
}

func (c *checker) at(p, format string, args ...any) {
	c.rep.add(locate(c.locs, c.file, p, false, fmt.Sprintf(format, args...)))
}

func (c *checker) set(p string) bool {
	_, ok := c.locs[p]
	return ok
}

func (c *checker) asked(section string) bool { return c.interactive["*"] || c.interactive[section] }

func (c *checker) validate(a *Answers) {
	c.interactive = map[string]bool{}
	for i, s := range a.Interactive {
		p := index("interactive", i)
		switch {
		case !slices.Contains(allowedSections, s):
			c.at(p, "%q is not a section the TUI can ask; use one of: %s", s, strings.Join(allowedSections, ", "))
		case c.interactive[s]:
			c.at(p, "%q is listed twice; list each section once", s)
		}
		c.interactive[s] = true
	}
	if a.Version != Version {
		if c.set("version") {
			c.at("version", "version is %d; this uai reads version = %d", a.Version, Version)
		} else {
			c.at("version", "version is missing; add `version = %d` at the top", Version)
		}
	}
	if h := a.ExpectPlanSHA256; h != "" && !sha256Re.MatchString(h) {
		c.at("expect_plan_sha256", "%q is not a sha256 (64 lowercase hex digits); copy it from `uai plan --answers FILE`", h)
	}
	c.source(&a.Source)
	c.disk(&a.Disk)
	c.storage(&a.Storage)
	c.system(&a.System)
	c.root(&a.Root)
	c.users(a.Users)
	c.kernel(&a.Kernel)
	c.network(&a.Network)
	c.post(&a.Post)
	c.reporting(&a.Reporting)
}

func (c *checker) redacted(p, v string) bool {
	if strings.Contains(v, RedactedValue) {
		c.at(p, "the secret is redacted in this file; supply it in a later file (uai install --answers THIS --answers secrets.toml), see docs/answers.md")
		return true
	}
	return false
}

func (c *checker) source(s *Source) {
	switch {
	case s.Edition == "" && s.Image == "":
		if !c.asked("source") {
			c.at("source", "say what to install: set source.edition to a catalog id (uai catalog list) or source.image to a bootc image ref")
		}
	case s.Edition != "" && s.Image != "":
		c.at("source.image", "source.edition and source.image are both set; keep one")
	case s.Edition != "":
		if !editionRe.MatchString(s.Edition) {
			c.at("source.edition", "%q is not a catalog edition id (lowercase letters, digits and '-'); see uai catalog list", s.Edition)
		}
		if s.Transport != "" {
			c.at("source.transport", "transport applies to source.image only; remove it or set image instead of edition")
		}
	default:
		switch s.Transport {
		case "", "registry", "containers-storage":
			if err := bootc.ValidateImageRef(s.Image); err != nil {
				c.at("source.image", "%v", err)
			}
		case "oci", "oci-archive":
			if !strings.HasPrefix(s.Image, "/") || strings.ContainsAny(s.Image, " \t\n") {
				c.at("source.image", "with transport %q the image is an absolute path to the OCI %s, not %q", s.Transport, map[string]string{"oci": "layout directory", "oci-archive": "archive"}[s.Transport], s.Image)
			}
			if s.TargetRef == "" {
				c.at("source.target_ref", "an image from %s has no registry ref to update from; set target_ref to the registry ref the system should follow", s.Transport)
			}
		default:
			c.at("source.transport", "transport %q is not known; use one of: %s", s.Transport, strings.Join(allowedTransports, ", "))
		}
	}
	if s.Runner != "" && !slices.Contains(allowedRunners, s.Runner) {
		c.at("source.runner", "runner %q is not known; use one of: %s", s.Runner, strings.Join(allowedRunners, ", "))
	}
	if s.Catalog != "" {
		switch {
		case strings.HasPrefix(s.Catalog, "https://"):
			if u, err := url.Parse(s.Catalog); err != nil || u.Host == "" {
				c.at("source.catalog", "%q is not a valid https URL", s.Catalog)
			}
		case strings.HasPrefix(s.Catalog, "http://"):
			c.at("source.catalog", "a catalog over plain http could be changed on the way; use https or a local path")
		case strings.HasPrefix(s.Catalog, "/"), strings.HasPrefix(s.Catalog, "file:///"):
		default:
			c.at("source.catalog", "%q is neither an https URL nor an absolute path", s.Catalog)
		}
		if s.Edition == "" && s.Image != "" {
			c.at("source.catalog", "a catalog only helps to look up source.edition; remove it or set edition")
		}
	}
	if s.TargetRef != "" {
		if err := bootc.ValidateImageRef(s.TargetRef); err != nil {
			c.at("source.target_ref", "%v", err)
		}
	}
	if s.Stateroot != "" && !stateRe.MatchString(s.Stateroot) {
		c.at("source.stateroot", "%q is not a valid stateroot name; use letters, digits, '.', '_' or '-' (at most 64, not starting with '.' or '-')", s.Stateroot)
	}
}

func (c *checker) disk(d *Disk) {
	s := d.Selector
	selects := s.Path != "" || s.ByID != "" || s.Serial != "" || s.WWN != "" || s.Model != "" || s.MinSize != "" || s.MaxSize != "" ||
		s.Transport != "" || s.Rotational != nil || s.Removable != nil || s.Largest || s.Smallest || s.Empty
	if !selects && !c.asked("disk") {
		c.at("disk", "no target disk; set disk.path (a /dev path, a /dev/disk/by-id link or a disk image file) or a selector such as serial or model, see `uai disks`")
	}
	if s.Path != "" && !strings.HasPrefix(s.Path, "/") {
		c.at("disk.path", "%q is not an absolute path; give /dev/NAME, a /dev/disk/by-id link or an image file's absolute path", s.Path)
	}
	if s.ByID != "" && (strings.Contains(strings.TrimPrefix(s.ByID, "/dev/disk/by-id/"), "/") || strings.TrimSpace(s.ByID) == "") {
		c.at("disk.by_id", "%q is not a name under /dev/disk/by-id; give the link's name, e.g. nvme-Samsung_SSD_980_S64ANS0R123456", s.ByID)
	}
	if s.Model != "" {
		if _, err := path.Match(s.Model, ""); err != nil {
			c.at("disk.model", "%q is not a valid shell glob; check its brackets", s.Model)
		}
	}
	var lo, hi uint64
	var okLo, okHi bool
	if s.MinSize != "" {
		lo, okLo = c.size("disk.min_size", s.MinSize)
	}
	if s.MaxSize != "" {
		hi, okHi = c.size("disk.max_size", s.MaxSize)
	}
	if okLo && okHi && lo > hi {
		c.at("disk.max_size", "max_size %s is smaller than min_size %s, so no disk can match", s.MaxSize, s.MinSize)
	}
	if s.Transport != "" && !slices.Contains(allowedDiskBuses, s.Transport) {
		c.at("disk.transport", "transport %q is not known; use one of: %s", s.Transport, strings.Join(allowedDiskBuses, ", "))
	}
	if s.Largest && s.Smallest {
		c.at("disk.smallest", "largest and smallest are both set; keep one")
	}
}

// size parses a size like "100GiB" and reports it when it is not one.
func (c *checker) size(p, v string) (uint64, bool) {
	n, err := partition.ParseSize(v)
	if err != nil {
		c.at(p, "%v", err)
		return 0, false
	}
	return n, true
}

func (c *checker) storage(s *Storage) {
	if s.Method != "" && !slices.Contains(allowedMethods, s.Method) {
		c.at("storage.method", "method %q is not known; use to-filesystem or to-disk", s.Method)
	}
	if s.Layout != "" && !slices.Contains(allowedLayouts, s.Layout) {
		c.at("storage.layout", "layout %q is not known; use whole or free", s.Layout)
	}
	if s.Filesystem != "" && !slices.Contains(allowedFilesystems, s.Filesystem) {
		c.at("storage.filesystem", "filesystem %q is not supported; use xfs, ext4 or btrfs", s.Filesystem)
	}
	toDisk := s.Method == "to-disk"
	if toDisk && s.Layout == "free" {
		c.at("storage.layout", "layout free needs method to-filesystem: bootc's to-disk always takes the whole disk")
	}
	if toDisk && s.SeparateBoot {
		c.at("storage.separate_boot", "separate_boot needs method to-filesystem: with to-disk bootc decides the layout")
	}
	if s.RootSize != "" {
		if n, ok := c.size("storage.root_size", s.RootSize); ok && n < 4<<30 {
			c.at("storage.root_size", "root_size %s is below 4GiB, too small for any bootc image; give at least 4GiB", s.RootSize)
		}
	}
	e := s.Encryption
	switch {
	case e.Enabled && e.Passphrase == "" && !e.TPM2:
		c.at("storage.encryption", "encryption is enabled without a way to unlock it; set passphrase, tpm2 = true, or both")
	case !e.Enabled && (e.Passphrase != "" || e.TPM2):
		c.at("storage.encryption.enabled", "a passphrase or tpm2 is given but enabled is not true; set enabled = true or remove them")
	}
	if e.Passphrase != "" && !c.redacted("storage.encryption.passphrase", e.Passphrase) {
		if n := len([]rune(e.Passphrase)); n < 8 {
			c.at("storage.encryption.passphrase", "the passphrase has %d characters; use at least 8", n)
		}
	}
	if toDisk && e.Enabled && (e.Passphrase != "" || !e.TPM2) {
		c.at("storage.encryption", "with method to-disk bootc encrypts only with the TPM2 (--block-setup tpm2-luks); use method to-filesystem for a passphrase")
	}
}

func (c *checker) system(s *System) {
	if s.Hostname != "" && (len(s.Hostname) > 64 || !hostnameRe.MatchString(s.Hostname)) {
		c.at("system.hostname", "%q is not a valid hostname; use letters, digits and '-' in dot-separated labels, at most 64 characters", s.Hostname)
	}
	if s.Timezone != "" {
		if !timezoneRe.MatchString(s.Timezone) || strings.EqualFold(s.Timezone, "local") {
			c.at("system.timezone", "%q is not an IANA time zone; write Area/City, e.g. Europe/Berlin, or UTC", s.Timezone)
		} else if _, err := time.LoadLocation(s.Timezone); err != nil {
			c.at("system.timezone", "%q is not a known time zone; see `timedatectl list-timezones`, e.g. America/New_York", s.Timezone)
		}
	}
	if s.Locale != "" && !localeRe.MatchString(s.Locale) {
		c.at("system.locale", "%q is not a locale name; write e.g. en_US.UTF-8 or de_DE.UTF-8", s.Locale)
	}
	if s.Keymap != "" && !keymapRe.MatchString(s.Keymap) {
		c.at("system.keymap", "%q is not a keymap name; write e.g. us or de-nodeadkeys (localectl list-keymaps)", s.Keymap)
	}
}

func (c *checker) password(p, plain, hash string) {
	if plain != "" && hash != "" {
		c.at(join(p, "password_hash"), "password and password_hash are both set; keep one (prefer password_hash)")
	}
	if plain != "" {
		c.redacted(join(p, "password"), plain)
	}
	if hash != "" && !c.redacted(join(p, "password_hash"), hash) {
		c.hash(join(p, "password_hash"), hash)
	}
}

func (c *checker) hash(p, h string) {
	switch {
	case strings.HasPrefix(h, "$1$"):
		c.at(p, "this is an MD5 crypt hash, too weak to protect a password; make a SHA-512 one with `openssl passwd -6` or a yescrypt one with `mkpasswd`")
		return
	case !strings.HasPrefix(h, "$"):
		c.at(p, "this is not a crypt(3) hash (it should start with $6$ or $y$); make one with `openssl passwd -6`, or use password for plain text")
		return
	}
	for prefix, re := range hashRes {
		if strings.HasPrefix(h, prefix) || prefix == "$2b$" && strings.HasPrefix(h, "$2") {
			if !re.MatchString(h) {
				c.at(p, "the %s hash is malformed (wrong length or characters); copy it again from `openssl passwd -6` or `mkpasswd`", prefix)
			}
			return
		}
	}
	c.at(p, "the hash format %q is not one uai knows; use SHA-512 ($6$) or yescrypt ($y$)", strings.SplitN(h, "$", 3)[1])
}

// sshKeyTypes are the key types current OpenSSH accepts by default; DSA
// was removed in OpenSSH 9.8.
var sshKeyTypes = []string{"ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
	"sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com"}

func (c *checker) sshKeys(p string, keys []string) {
	for i, k := range keys {
		if err := CheckSSHKey(k); err != nil {
			c.at(index(p, i), "%v", err)
		}
	}
}

// CheckSSHKey checks one authorized_keys line: a known type, a base64 key
// blob that names the same type, and an optional comment. Options before
// the type are not accepted; uai writes plain keys.
func CheckSSHKey(k string) error {
	fields := strings.Fields(k)
	if len(fields) < 2 {
		return fmt.Errorf("%q is not an OpenSSH public key; paste the whole line of the .pub file (type, key and comment)", shorten(k))
	}
	typ := fields[0]
	if typ == "ssh-dss" {
		return fmt.Errorf("DSA keys are no longer accepted by OpenSSH; use an ed25519 key (ssh-keygen -t ed25519)")
	}
	if !slices.Contains(sshKeyTypes, typ) {
		return fmt.Errorf("%q is not an OpenSSH public key type; paste the whole line of the .pub file, starting with e.g. ssh-ed25519", shorten(typ))
	}
	blob, err := base64.StdEncoding.DecodeString(fields[1])
	if err != nil || len(blob) < 4 {
		return fmt.Errorf("the %s key is not valid base64; paste the key again without line breaks", typ)
	}
	n := binary.BigEndian.Uint32(blob)
	if uint64(n)+4 > uint64(len(blob)) || string(blob[4:4+n]) != typ {
		return fmt.Errorf("the key data is not that of the %s key the line starts with; the line is cut or mixed up, paste it again", typ)
	}
	return nil
}

func shorten(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

func (c *checker) root(r *Root) {
	c.password("root", r.Password, r.PasswordHash)
	if r.Locked && (r.Password != "" || r.PasswordHash != "") {
		c.at("root.locked", "root is locked and also given a password; keep one (a locked root still logs in with ssh_authorized_keys)")
	}
	c.sshKeys("root.ssh_authorized_keys", r.SSHAuthorizedKeys)
}

func (c *checker) users(us []User) {
	names := map[string]int{}
	uids := map[int]int{}
	for i, u := range us {
		p := index("users", i)
		switch {
		case u.Name == "":
			c.at(p, "the user has no name; set name")
		case u.Name == "root":
			c.at(join(p, "name"), "root is configured in [root], not [[users]]")
		case !userRe.MatchString(u.Name):
			c.at(join(p, "name"), "%q is not a valid login name; use lowercase letters, digits, '_' and '-', starting with a letter, at most 32", u.Name)
		default:
			if j, dup := names[u.Name]; dup {
				c.at(join(p, "name"), "user %q is already defined in users[%d]; keep one", u.Name, j)
			}
			names[u.Name] = i
		}
		if strings.ContainsAny(u.GECOS, ":\n") {
			c.at(join(p, "gecos"), "gecos cannot contain ':' or a line break")
		}
		if c.set(join(p, "uid")) {
			if u.UID < 1000 || u.UID > 60000 {
				c.at(join(p, "uid"), "uid %d is outside 1000..60000, the range for people's accounts", u.UID)
			} else if j, dup := uids[u.UID]; dup {
				c.at(join(p, "uid"), "uid %d is already used by users[%d]", u.UID, j)
			}
			uids[u.UID] = i
		}
		for j, g := range u.Groups {
			if !userRe.MatchString(g) {
				c.at(index(join(p, "groups"), j), "%q is not a valid group name", g)
			}
		}
		c.password(p, u.Password, u.PasswordHash)
		c.sshKeys(join(p, "ssh_authorized_keys"), u.SSHAuthorizedKeys)
	}
}

func (c *checker) kernel(k *Kernel) {
	for i, a := range k.Args {
		p := index("kernel.args", i)
		switch {
		case !kargRe.MatchString(a):
			c.at(p, "%q is not one kernel argument; give each argument as its own string, without spaces", a)
		default:
			for _, pre := range installerOnlyKargPrefixes {
				if strings.HasPrefix(a, pre) {
					c.at(p, "%q configures the live installer, not the installed system; remove it", a)
				}
			}
		}
	}
}

func (c *checker) network(n *Network) {
	seen := map[string]int{}
	for i, w := range n.WiFi {
		p := index("network.wifi", i)
		switch {
		case w.SSID == "" || len(w.SSID) > 32:
			c.at(join(p, "ssid"), "the SSID must be 1 to 32 bytes long")
		default:
			if j, dup := seen[w.SSID]; dup {
				c.at(join(p, "ssid"), "network %q is already listed in network.wifi[%d]", w.SSID, j)
			}
			seen[w.SSID] = i
		}
		if w.PSK != "" && !c.redacted(join(p, "psk"), w.PSK) && !validPSK(w.PSK) {
			c.at(join(p, "psk"), "a WPA passphrase has 8 to 63 printable ASCII characters, or is 64 hex digits")
		}
	}
}

func validPSK(s string) bool {
	if len(s) == 64 && strings.Trim(s, "0123456789abcdefABCDEF") == "" {
		return true
	}
	if len(s) < 8 || len(s) > 63 {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r > 0x7e {
			return false
		}
	}
	return true
}

func (c *checker) post(p *Post) {
	if p.Action != "" && !slices.Contains(allowedActions, p.Action) {
		c.at("post.action", "action %q is not known; use reboot, poweroff, shell or none", p.Action)
	}
	if p.Eject && (p.Action == "" || p.Action == "none" || p.Action == "shell") {
		c.at("post.eject", "eject happens before a reboot or power-off; set action to reboot or poweroff, or remove eject")
	}
}

func (c *checker) reporting(r *Reporting) {
	if r.URL != "" && !c.redacted("reporting.url", r.URL) {
		u, err := url.Parse(r.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			c.at("reporting.url", "the webhook must be an http or https URL with a host, e.g. https://qa.example.com/uai/events")
		}
	}
	for k, v := range r.Headers {
		p := join("reporting.headers", k)
		if !validHeaderName(k) {
			c.at(p, "%q is not a valid HTTP header name", k)
		}
		if strings.ContainsAny(v, "\r\n") {
			c.at(p, "a header value cannot contain a line break")
		} else {
			c.redacted(p, v)
		}
		if canon := http.CanonicalHeaderKey(k); canon == "Content-Type" || canon == "Content-Length" || canon == "Host" {
			c.at(p, "uai sets %s itself; remove it", canon)
		}
	}
	if len(r.Headers) > 0 && r.URL == "" {
		c.at("reporting.headers", "headers are sent to the webhook, but reporting.url is not set")
	}
	if r.Retries != nil && (*r.Retries < 0 || *r.Retries > 10) {
		c.at("reporting.retries", "retries is %d; use 0 to 10 (a dead webhook must not hold the install up)", *r.Retries)
	}
	if r.Timeout != "" {
		d, err := time.ParseDuration(r.Timeout)
		if !durationRe.MatchString(r.Timeout) || err != nil || d < 100*time.Millisecond || d > time.Minute {
			c.at("reporting.timeout", "%q is not a timeout between 100ms and 60s; write e.g. 5s", r.Timeout)
		}
	}
	if r.File != "" && (!strings.HasPrefix(r.File, "/") || strings.HasSuffix(r.File, "/")) {
		c.at("reporting.file", "%q is not an absolute file path; write e.g. /run/uai/install.jsonl", r.File)
	}
	if r.Serial != "" && !strings.HasPrefix(r.Serial, "/dev/") {
		c.at("reporting.serial", "%q is not a device; write e.g. /dev/ttyS0", r.Serial)
	}
}

func validHeaderName(k string) bool {
	if k == "" {
		return false
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", r)) {
			return false
		}
	}
	return true
}
