package answers

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/universal-atomic-installer/uai/installer/bootc"
)

// Kickstart import: the subset of Anaconda kickstart that QA suites and
// image builders use with bootc images (docs/answers-kickstart.md). Every
// accepted command and option maps onto the same Answers as TOML; every
// other command, section or option is refused by name and line with a
// hint, because silently ignoring a line of someone's kickstart installs
// something they did not ask for.

// ParseKickstart imports one kickstart. The answers are nil unless the
// report is OK.
func ParseKickstart(data []byte) (*Answers, *Report) {
	c := Compose([]Input{{Data: data, Kickstart: true}}, Facts{})
	return c.Answers, c.Report
}

// Convert imports a kickstart and returns it as a TOML answer file, with
// a header naming the source. Secrets stay in: the output is the user's
// own file, and it is useless without them.
func Convert(name string, data []byte) ([]byte, *Report) {
	c := Compose([]Input{{Name: name, Data: data, Kickstart: true}}, Facts{})
	if !c.Report.OK() {
		return nil, c.Report
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Converted by uai from the kickstart %s.\n", name)
	if len(c.Answers.Secrets()) > 0 {
		b.WriteString("# It holds secrets (passwords or passphrases): keep it private.\n")
	}
	if !c.Answers.Confirm {
		b.WriteString("# A kickstart never confirms an install by itself: add confirm = true, or boot with uai.autoinstall.\n")
	}
	b.WriteString("\n")
	b.Write(Encode(c.Answers))
	return b.Bytes(), c.Report
}

// ksSectionHints say what to do instead of each kickstart section.
var ksSectionHints = map[string]string{
	"%packages":    "uai installs a bootc image as it is; add packages in the image's Containerfile (RUN dnf install ...)",
	"%post":        "put first-boot configuration into the image (a systemd unit, /usr/lib/bootc/kargs.d); for `bootc switch` in %post set [source] target_ref instead",
	"%pre":         "uai runs no installer-time scripts; choose the disk with ignoredisk --only-use or a [disk] selector",
	"%pre-install": "uai runs no installer-time scripts; put the change into the image",
	"%onerror":     "uai reports failures in its events and result record; send them to a webhook with [reporting] url",
	"%traceback":   "uai reports failures in its events and result record; send them to a webhook with [reporting] url",
	"%addon":       "uai has no add-ons; configure the feature in the image",
	"%anaconda":    "Anaconda's own UI settings do not apply to uai",
	"%include":     "uai does not include files; compose answer files instead (uai install --answers A --answers B)",
	"%ksappend":    "uai does not include files; compose answer files instead (uai install --answers A --answers B)",
}

// ksCommandHints say what to do instead of each refused command.
var ksCommandHints = map[string]string{}

func init() {
	hint := func(h string, cmds ...string) {
		for _, c := range cmds {
			ksCommandHints[c] = h
		}
	}
	hint("uai installs bootc images only; use bootc --source-imgref=registry:IMAGE or ostreecontainer --url=IMAGE",
		"url", "repo", "cdrom", "harddrive", "nfs", "liveimg", "ostreesetup", "install", "upgrade", "module", "method")
	hint("uai plans the partition layout itself; use autopart (and --fstype, --encrypted), or [storage] in a TOML answer file",
		"part", "partition", "raid", "volgroup", "logvol", "reqpart", "btrfs", "mount", "snapshot", "autostep")
	hint("configure this in the image (its Containerfile), not at install time",
		"firewall", "selinux", "services", "firstboot", "skipx", "xconfig", "authselect", "auth", "authconfig", "realm",
		"eula", "rhsm", "syspurpose", "timesource", "zipl", "pwpolicy", "device", "deviceprobe", "monitor", "rescue")
	hint("create groups in the image; user --groups may name groups the image has", "group")
	hint("send events to a webhook, file or serial console with [reporting] in a TOML answer file", "logging")
	hint("this configures Anaconda's own environment, which uai does not use",
		"vnc", "rdp", "sshpw", "mediacheck", "updates", "driverdisk", "interactive", "key", "lilo", "lilocheck", "langsupport", "mouse")
	hint("uai installs to local disks only", "iscsi", "iscsiname", "fcoe", "zfcp", "nvdimm", "dmraid", "multipath", "hmc")
	hint("uai runs unattended from the answer file or shows its own TUI; remove it", "graphical", "autopart-interactive")
}

// ksOption describes one option of a command.
type ksOption struct {
	value bool   // takes a value (--opt=V or --opt V)
	hint  string // non-empty: refused, with this hint
}

// ksCommands are the accepted commands and their options.
var ksCommands = map[string]map[string]ksOption{
	"ostreecontainer": {
		"url": {value: true}, "transport": {value: true}, "stateroot": {value: true},
		"no-signature-verification": {},
		"remote":                    {value: true, hint: "bootc records the image itself and has no ostree remote; drop --remote"},
		"osname":                    {value: true, hint: "use --stateroot"},
	},
	"bootc": {
		"source-imgref": {value: true}, "target-imgref": {value: true}, "stateroot": {value: true},
		"bootloader": {value: true, hint: "the image's bootc picks its boot loader; drop --bootloader"},
		"composefs":  {hint: "the image decides whether it boots with composefs; drop --composefs"},
	},
	"clearpart": {
		"all": {}, "initlabel": {}, "none": {}, "drives": {value: true}, "disklabel": {value: true},
		"linux": {hint: "uai wipes the whole target disk or installs into free space; use --all, or [storage] layout = \"free\""},
		"list":  {value: true, hint: "uai does not remove single partitions; use --all, or [storage] layout = \"free\""},
		"cdl":   {hint: "uai installs to local disks only"},
	},
	"zerombr": {},
	"ignoredisk": {
		"only-use":    {value: true},
		"drives":      {value: true, hint: "name the one disk to use with --only-use, or use a [disk] selector"},
		"interactive": {hint: "uai asks nothing in an unattended install; name the disk with --only-use"},
	},
	"autopart": {
		"type": {value: true}, "fstype": {value: true}, "encrypted": {}, "passphrase": {value: true},
		"luks-version": {value: true}, "nohome": {}, "noswap": {}, "noboot": {}, "nolvm": {},
		"escrowcert":       {value: true, hint: "uai does not escrow keys; enrol the TPM2 with [storage.encryption] tpm2 = true"},
		"backuppassphrase": {hint: "uai does not escrow keys"},
		"cipher":           {value: true, hint: "uai uses cryptsetup's LUKS2 defaults"},
		"pbkdf":            {value: true, hint: "uai uses cryptsetup's LUKS2 defaults"},
		"pbkdf-memory":     {value: true, hint: "uai uses cryptsetup's LUKS2 defaults"},
		"pbkdf-time":       {value: true, hint: "uai uses cryptsetup's LUKS2 defaults"},
		"pbkdf-iterations": {value: true, hint: "uai uses cryptsetup's LUKS2 defaults"},
		"hibernation":      {hint: "uai creates no swap; configure swap in the image (zram is the default)"},
	},
	"rootpw": {
		"iscrypted": {}, "plaintext": {}, "lock": {},
		"allow-ssh": {hint: "password logins over SSH are configured in the image's sshd_config; use sshkey instead"},
	},
	"user": {
		"name": {value: true}, "gecos": {value: true}, "groups": {value: true}, "password": {value: true},
		"iscrypted": {}, "plaintext": {}, "uid": {value: true},
		"homedir": {value: true, hint: "bootc systems keep homes in /var/home; drop --homedir"},
		"shell":   {value: true, hint: "set the default shell in the image"},
		"gid":     {value: true, hint: "uai gives each user a group of the same name and id"},
		"lock":    {hint: "leave out the password instead, and log in with sshkey"},
	},
	"sshkey": {"username": {value: true}},
	"network": {
		"bootproto": {value: true}, "device": {value: true}, "activate": {}, "onboot": {value: true},
		"hostname": {value: true}, "essid": {value: true}, "wpakey": {value: true}, "ipv6": {value: true},
		"ip": {value: true, hint: staticHint}, "netmask": {value: true, hint: staticHint}, "gateway": {value: true, hint: staticHint},
		"nameserver": {value: true, hint: staticHint}, "noipv4": {hint: staticHint}, "noipv6": {hint: staticHint},
		"nodns": {hint: staticHint}, "nodefroute": {hint: staticHint}, "mtu": {value: true, hint: staticHint},
		"ethtool": {value: true, hint: staticHint}, "no-activate": {hint: staticHint}, "wepkey": {value: true, hint: "WEP is broken; use a WPA network with --essid and --wpakey"},
		"bondslaves": {value: true, hint: staticHint}, "bondopts": {value: true, hint: staticHint}, "vlanid": {value: true, hint: staticHint},
		"interfacename": {value: true, hint: staticHint}, "teamslaves": {value: true, hint: staticHint}, "teamconfig": {value: true, hint: staticHint},
		"bridgeslaves": {value: true, hint: staticHint}, "bridgeopts": {value: true, hint: staticHint}, "bindto": {value: true, hint: staticHint},
	},
	"timezone": {
		"utc": {}, "isUtc": {},
		"nontp":      {hint: "time sync is configured in the image (chronyd); drop --nontp"},
		"ntpservers": {value: true, hint: "time servers are configured in the image (chrony.conf)"},
	},
	"lang": {"addsupport": {value: true, hint: "install language support in the image"}},
	"keyboard": {
		"vckeymap": {value: true}, "xlayouts": {value: true},
		"switch": {value: true, hint: "layout switching is configured in the image's desktop"},
	},
	"bootloader": {
		"append":         {value: true},
		"location":       {value: true, hint: bootHint},
		"timeout":        {value: true, hint: bootHint},
		"password":       {value: true, hint: bootHint},
		"iscrypted":      {hint: bootHint},
		"leavebootorder": {hint: bootHint},
		"driveorder":     {value: true, hint: bootHint},
		"boot-drive":     {value: true, hint: bootHint},
		"md5pass":        {value: true, hint: bootHint},
		"extlinux":       {hint: bootHint},
		"disabled":       {hint: bootHint},
		"nombr":          {hint: bootHint},
		"sdboot":         {hint: bootHint},
		"upgrade":        {hint: bootHint},
	},
	"reboot":   {"eject": {}, "kexec": {hint: "uai reboots normally; drop --kexec"}},
	"poweroff": {"eject": {}},
	"shutdown": {"eject": {}},
	"halt":     {"eject": {}},
	"text":     {"non-interactive": {}},
	"cmdline":  {},
}

const (
	staticHint = "uai uses the live system's network (DHCP); set static addresses with nmcli on the live system or in the image"
	bootHint   = "bootc installs and configures the boot loader itself (bootupd); only --append is honoured"
)

// ksDoc builds the answers a kickstart maps to.
type ksDoc struct {
	name string
	rep  *Report
	a    Answers
	locs map[string]loc
	line int
	cmd  string
	// sshkeys are resolved at the end: a user may be defined after its key.
	sshkeys []ksKey
	payload string // the first of ostreecontainer or bootc, for the conflict check
	bad     map[string]bool
}

type ksKey struct {
	user, key, cmd string
	line           int
}

func (k *ksDoc) problem(format string, args ...any) {
	k.rep.add(Problem{File: k.name, Line: k.line, Column: 1, Key: k.cmd, Message: fmt.Sprintf(format, args...)})
	// What a refused line would have set is missing for that reason
	// alone; "no target disk" after a refused ignoredisk would only
	// repeat it.
	for _, p := range ksSets[k.cmd] {
		k.bad[p] = true
	}
	if _, ok := ksCommandHints[k.cmd]; ok && ksCommandHints[k.cmd] == ksCommandHints["url"] {
		k.bad["source"] = true
	}
}

// ksSets names the answer keys each command sets.
var ksSets = map[string][]string{
	"bootc": {"source"}, "ostreecontainer": {"source"}, "ignoredisk": {"disk"}, "clearpart": {"disk"},
	"autopart": {"storage"}, "rootpw": {"root"}, "user": {"users"}, "sshkey": {"root", "users"},
	"network": {"system.hostname", "network"}, "timezone": {"system.timezone"}, "lang": {"system.locale"},
	"keyboard": {"system.keymap"}, "bootloader": {"kernel"},
	"reboot": {"post"}, "poweroff": {"post"}, "shutdown": {"post"}, "halt": {"post"},
}

// set records that path came from the current line.
func (k *ksDoc) set(path string) {
	k.locs[path] = loc{file: k.name, keyLine: k.line, keyCol: 1, valLine: k.line, valCol: 1, kickstartCommand: k.cmd}
}

func parseKickstartDoc(name string, data []byte, rep *Report) *doc {
	if len(data) > MaxSizeBytes {
		rep.add(Problem{File: name, Message: fmt.Sprintf("the kickstart is larger than %d bytes; check its source", MaxSizeBytes)})
		return nil
	}
	if !utf8.Valid(data) {
		line := 1 + bytes.Count(data[:firstInvalidUTF8(data)], []byte("\n"))
		rep.add(Problem{File: name, Line: line, Column: 1, Message: "the kickstart is not UTF-8 text; save it as UTF-8"})
		return nil
	}
	k := &ksDoc{name: name, rep: rep, locs: map[string]loc{}, bad: map[string]bool{}}
	k.a.Version = Version
	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines); i++ {
		k.line, k.cmd = i+1, ""
		line := strings.TrimSpace(strings.TrimSuffix(lines[i], "\r"))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "%") {
			i = k.section(line, lines, i)
			continue
		}
		if f := strings.Fields(line); len(f) > 0 {
			k.cmd = f[0]
		}
		args, err := shellSplit(line)
		if err != nil {
			k.problem("%v; close the quote", err)
			continue
		}
		if len(args) == 0 {
			continue
		}
		k.cmd = args[0]
		k.command(args[0], args[1:])
	}
	k.finish()
	return &doc{name: name, tree: encode(&k.a, answersObject), locs: k.locs, bad: k.bad}
}

// section refuses a %section and skips to its %end; it returns the index
// of the last line it consumed.
func (k *ksDoc) section(line string, lines []string, i int) int {
	name := strings.Fields(line)[0]
	k.cmd = name
	if name == "%end" {
		k.problem("%%end without a section to close; remove it")
		return i
	}
	hint, known := ksSectionHints[name]
	if !known {
		hint = "uai does not know this section; see docs/answers-kickstart.md for the supported subset"
	}
	if name == "%include" || name == "%ksappend" {
		k.problem("the section %s is not supported: %s", name, hint)
		return i
	}
	for j := i + 1; j < len(lines); j++ {
		if f := strings.Fields(lines[j]); len(f) > 0 && f[0] == "%end" {
			k.problem("the section %s is not supported: %s", name, hint)
			return j
		}
	}
	k.problem("the section %s is not supported: %s; it also has no %%end, so every line after it belongs to it", name, hint)
	return len(lines)
}

// shellSplit splits a kickstart line as pykickstart does (Python's shlex
// in POSIX mode with comments): quotes group, a backslash escapes, and a
// '#' outside quotes ends the line.
func shellSplit(s string) ([]string, error) {
	var out []string
	var tok strings.Builder
	inTok := false
	quote := rune(0)
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case quote == '\'':
			if r == '\'' {
				quote = 0
			} else {
				tok.WriteRune(r)
			}
		case quote == '"':
			switch {
			case r == '"':
				quote = 0
			case r == '\\' && i+1 < len(rs) && (rs[i+1] == '"' || rs[i+1] == '\\'):
				i++
				tok.WriteRune(rs[i])
			default:
				tok.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inTok = r, true
		case r == '\\':
			if i+1 < len(rs) {
				i++
				tok.WriteRune(rs[i])
			}
			inTok = true
		case r == '#':
			if inTok {
				out = append(out, tok.String())
			}
			return out, nil
		case r == ' ' || r == '\t':
			if inTok {
				out = append(out, tok.String())
				tok.Reset()
				inTok = false
			}
		default:
			tok.WriteRune(r)
			inTok = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("no closing quotation (%c)", quote)
	}
	if inTok {
		out = append(out, tok.String())
	}
	return out, nil
}

// opts parses a command's options against its table. Refused options are
// reported by name with their hint; positional arguments are returned.
func (k *ksDoc) opts(cmd string, args []string) (map[string]string, []string, bool) {
	spec := ksCommands[cmd]
	got := map[string]string{}
	var pos []string
	ok := true
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") || a == "-" {
			pos = append(pos, a)
			continue
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		o, known := spec[name]
		switch {
		case !strings.HasPrefix(a, "--"):
			k.problem("option %s of %s is not supported; kickstart options start with --", a, cmd)
			ok = false
			continue
		case !known:
			k.problem("option --%s of %s is not supported; see docs/answers-kickstart.md for the options uai honours", name, cmd)
			ok = false
			continue
		case o.hint != "":
			k.problem("option --%s of %s is not supported: %s", name, cmd, o.hint)
			ok = false
			if o.value && !hasVal && i+1 < len(args) {
				i++
			}
			continue
		case o.value && !hasVal:
			if i+1 >= len(args) {
				k.problem("option --%s of %s needs a value (--%s=VALUE)", name, cmd, name)
				ok = false
				continue
			}
			i++
			val = args[i]
		case !o.value && hasVal:
			k.problem("option --%s of %s takes no value; write --%s alone", name, cmd, name)
			ok = false
			continue
		}
		got[name] = val
	}
	return got, pos, ok
}

func (k *ksDoc) command(cmd string, args []string) {
	if _, ok := ksCommands[cmd]; !ok {
		hint, known := ksCommandHints[cmd]
		if !known {
			hint = "see docs/answers-kickstart.md for the supported subset"
		}
		k.problem("the kickstart command %q is not supported: %s", cmd, hint)
		return
	}
	o, pos, ok := k.opts(cmd, args)
	if !ok {
		return
	}
	noArgs := func() bool {
		if len(pos) > 0 {
			k.problem("%s takes no argument %q; remove it", cmd, pos[0])
			return false
		}
		return true
	}
	switch cmd {
	case "ostreecontainer", "bootc":
		k.payloadCmd(cmd, o, pos)
	case "clearpart":
		if !noArgs() {
			return
		}
		k.clearpart(o)
	case "zerombr", "text", "cmdline":
		// zerombr: uai always writes a fresh GPT; text and cmdline: an
		// unattended uai run is already non-graphical.
		noArgs()
	case "ignoredisk":
		if !noArgs() {
			return
		}
		if v, ok := o["only-use"]; ok {
			k.onlyUse(v)
		}
	case "autopart":
		if !noArgs() {
			return
		}
		k.autopart(o)
	case "rootpw":
		k.rootpw(o, pos)
	case "user":
		if !noArgs() {
			return
		}
		k.user(o)
	case "sshkey":
		if _, ok := o["username"]; !ok {
			k.problem("sshkey needs --username=NAME")
			return
		}
		if len(pos) != 1 {
			k.problem("sshkey takes exactly one key, in quotes: sshkey --username=NAME \"ssh-ed25519 AAAA... comment\"")
			return
		}
		k.sshkeys = append(k.sshkeys, ksKey{user: o["username"], key: pos[0], line: k.line, cmd: cmd})
	case "network":
		if !noArgs() {
			return
		}
		k.network(o)
	case "timezone":
		k.timezone(pos)
	case "lang":
		if len(pos) != 1 {
			k.problem("lang takes one locale, e.g. lang en_US.UTF-8")
			return
		}
		k.a.System.Locale = pos[0]
		k.set("system.locale")
	case "keyboard":
		k.keyboard(o, pos)
	case "bootloader":
		if !noArgs() {
			return
		}
		if v, ok := o["append"]; ok {
			args, err := shellSplit(v)
			if err != nil {
				k.problem("--append: %v", err)
				return
			}
			k.a.Kernel.Args = append(k.a.Kernel.Args, args...)
			k.set("kernel.args")
		}
	case "reboot", "poweroff", "shutdown", "halt":
		if !noArgs() {
			return
		}
		// Like pykickstart, the last of these commands wins.
		k.a.Post.Action = map[string]string{"reboot": "reboot", "poweroff": "poweroff", "shutdown": "poweroff", "halt": "none"}[cmd]
		_, k.a.Post.Eject = o["eject"]
		k.set("post.action")
		k.set("post.eject")
	}
}

func (k *ksDoc) payloadCmd(cmd string, o map[string]string, pos []string) {
	if len(pos) > 0 {
		k.problem("%s takes no argument %q; give the image with an option", cmd, pos[0])
		return
	}
	if k.payload != "" && k.payload != cmd {
		k.problem("%s and %s cannot be used together (pykickstart refuses it too); keep one", k.payload, cmd)
		return
	}
	k.payload = cmd
	s := &k.a.Source
	if cmd == "ostreecontainer" {
		url, ok := o["url"]
		if !ok {
			k.problem("ostreecontainer needs --url=IMAGE")
			return
		}
		s.Image = url
		if t := o["transport"]; t != "" && t != "registry" {
			s.Transport = t
		}
	} else {
		src, ok := o["source-imgref"]
		if !ok {
			k.problem("bootc needs --source-imgref=TRANSPORT:IMAGE, e.g. registry:quay.io/fedora/fedora-bootc:44")
			return
		}
		t, name, hasT := bootc.SplitTransport(src)
		if !hasT {
			k.problem("--source-imgref %q needs a transport prefix, e.g. registry:%s", src, src)
			return
		}
		switch t {
		case bootc.TransportRegistry:
		case "oci", "oci-archive", "containers-storage":
			s.Transport = t
		default:
			k.problem("--source-imgref transport %q is not supported; use registry:, oci:, oci-archive: or containers-storage:", t)
			return
		}
		s.Image = name
		if v, ok := o["target-imgref"]; ok {
			s.TargetRef = v
			k.set("source.target_ref")
		}
	}
	if v, ok := o["stateroot"]; ok {
		s.Stateroot = v
		k.set("source.stateroot")
	}
	k.set("source")
	k.set("source.image")
	k.set("source.transport")
}

func (k *ksDoc) clearpart(o map[string]string) {
	if v, ok := o["disklabel"]; ok && v != "gpt" {
		k.problem("--disklabel=%s is not supported: uai always writes a GPT; use --disklabel=gpt or drop it", v)
		return
	}
	_, all := o["all"]
	_, none := o["none"]
	if all && none {
		k.problem("--all and --none contradict each other; keep one")
		return
	}
	if v, ok := o["drives"]; ok {
		if !k.onlyUse(v) {
			return
		}
		all = !none
	}
	if all {
		k.a.Disk.Wipe = true
		k.set("disk.wipe")
	}
}

// onlyUse names the one target disk; Anaconda's names are relative to /dev.
func (k *ksDoc) onlyUse(v string) bool {
	disks := strings.Split(v, ",")
	if len(disks) != 1 || strings.TrimSpace(disks[0]) == "" {
		k.problem("%q names %d disks; uai installs to exactly one, name it alone", v, len(disks))
		return false
	}
	d := strings.TrimSpace(disks[0])
	if !strings.HasPrefix(d, "/") {
		// Anaconda names disks relative to /dev: vda, disk/by-id/...
		d = "/dev/" + d
	}
	if p := k.a.Disk.Path; p != "" && p != d {
		k.problem("the disk %s differs from %s named earlier; name one disk", d, p)
		return false
	}
	k.a.Disk.Path = d
	k.set("disk.path")
	k.set("disk")
	return true
}

func (k *ksDoc) autopart(o map[string]string) {
	st := &k.a.Storage
	typ := o["type"]
	if _, ok := o["nolvm"]; ok {
		typ = "plain"
	}
	switch typ {
	case "", "plain":
	case "btrfs":
		st.Filesystem = "btrfs"
	case "lvm", "thinp":
		k.problem("--type=%s is not supported: uai puts root on a plain partition (no LVM); use --type=plain or --type=btrfs", typ)
		return
	default:
		k.problem("--type=%s is not a partitioning scheme uai knows; use plain or btrfs", typ)
		return
	}
	if fs, ok := o["fstype"]; ok {
		if st.Filesystem == "btrfs" && fs != "btrfs" {
			k.problem("--type=btrfs and --fstype=%s contradict each other; keep one", fs)
			return
		}
		st.Filesystem = fs
	}
	if st.Filesystem != "" {
		k.set("storage.filesystem")
	}
	if v, ok := o["luks-version"]; ok && v != "luks2" {
		k.problem("--luks-version=%s is not supported: uai makes LUKS2 volumes", v)
		return
	}
	_, enc := o["encrypted"]
	pass, hasPass := o["passphrase"]
	if hasPass && !enc {
		k.problem("--passphrase needs --encrypted")
		return
	}
	if enc {
		st.Encryption.Enabled = true
		k.set("storage.encryption")
		k.set("storage.encryption.enabled")
		if hasPass {
			st.Encryption.Passphrase = pass
			k.set("storage.encryption.passphrase")
		} else {
			k.problem("--encrypted needs --passphrase=...: an unattended install cannot ask for one (or enrol the TPM2 with [storage.encryption] tpm2 = true in a TOML file)")
		}
	}
	k.set("storage")
}

func (k *ksDoc) rootpw(o map[string]string, pos []string) {
	r := &k.a.Root
	_, lock := o["lock"]
	_, crypted := o["iscrypted"]
	_, plain := o["plaintext"]
	if crypted && plain {
		k.problem("--iscrypted and --plaintext contradict each other; keep one")
		return
	}
	switch {
	case len(pos) > 1:
		k.problem("rootpw takes one password; quote it if it has spaces")
		return
	case len(pos) == 1 && lock:
		k.problem("--lock with a password: uai either locks root or sets its password; drop one (a locked root still logs in with sshkey)")
		return
	case len(pos) == 0 && !lock:
		k.problem("rootpw needs a password or --lock")
		return
	case len(pos) == 1 && crypted:
		r.PasswordHash = pos[0]
		k.set("root.password_hash")
	case len(pos) == 1:
		r.Password = pos[0]
		k.set("root.password")
	}
	if lock {
		r.Locked = true
		k.set("root.locked")
	}
	k.set("root")
}

func (k *ksDoc) user(o map[string]string) {
	name, ok := o["name"]
	if !ok {
		k.problem("user needs --name=NAME")
		return
	}
	_, crypted := o["iscrypted"]
	_, plain := o["plaintext"]
	if crypted && plain {
		k.problem("--iscrypted and --plaintext contradict each other; keep one")
		return
	}
	u := User{Name: name, GECOS: o["gecos"]}
	if g, ok := o["groups"]; ok {
		for _, s := range strings.Split(g, ",") {
			if s = strings.TrimSpace(s); s != "" {
				u.Groups = append(u.Groups, s)
			}
		}
	}
	if pw, ok := o["password"]; ok {
		if crypted {
			u.PasswordHash = pw
		} else {
			u.Password = pw
		}
	} else if crypted {
		k.problem("--iscrypted needs --password=HASH")
		return
	}
	p := index("users", len(k.a.Users))
	if v, ok := o["uid"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			k.problem("--uid=%s is not a number", v)
			return
		}
		u.UID = n
		k.set(join(p, "uid"))
	}
	k.a.Users = append(k.a.Users, u)
	k.set(p)
	for _, f := range []string{"name", "gecos", "groups", "password", "password_hash"} {
		k.set(join(p, f))
	}
}

func (k *ksDoc) network(o map[string]string) {
	if v, ok := o["bootproto"]; ok && v != "dhcp" {
		k.problem("--bootproto=%s is not supported: %s", v, staticHint)
		return
	}
	if v, ok := o["onboot"]; ok && !isYes(v) {
		k.problem("--onboot=%s is not supported: the installed system keeps the live system's connections active; drop it or use --onboot=on", v)
		return
	}
	if v, ok := o["ipv6"]; ok && v != "auto" && v != "dhcp" {
		k.problem("--ipv6=%s is not supported: %s", v, staticHint)
		return
	}
	if h, ok := o["hostname"]; ok {
		k.a.System.Hostname = h
		k.set("system.hostname")
	}
	essid, hasESSID := o["essid"]
	psk, hasPSK := o["wpakey"]
	switch {
	case hasPSK && !hasESSID:
		k.problem("--wpakey needs --essid, the network it unlocks")
	case hasESSID:
		p := index("network.wifi", len(k.a.Network.WiFi))
		k.a.Network.WiFi = append(k.a.Network.WiFi, WiFi{SSID: essid, PSK: psk})
		k.set(p)
		k.set(join(p, "ssid"))
		k.set(join(p, "psk"))
	}
}

func isYes(v string) bool {
	switch strings.ToLower(v) {
	case "on", "yes", "true", "1":
		return true
	}
	return false
}

func (k *ksDoc) timezone(pos []string) {
	switch len(pos) {
	case 0:
		// `timezone --utc` alone only says how the hardware clock runs,
		// which is UTC on every bootc image anyway.
	case 1:
		k.a.System.Timezone = pos[0]
		k.set("system.timezone")
	default:
		k.problem("timezone takes one zone, e.g. timezone America/New_York")
	}
}

func (k *ksDoc) keyboard(o map[string]string, pos []string) {
	if len(pos) > 1 {
		k.problem("keyboard takes one layout, e.g. keyboard us or keyboard --vckeymap=us")
		return
	}
	km := o["vckeymap"]
	if km == "" && len(pos) == 1 {
		km = pos[0]
	}
	if km == "" {
		if x := o["xlayouts"]; x != "" {
			// The console keymap follows the first X layout, as
			// localed does when only an X layout is given.
			km = strings.TrimSpace(strings.Split(x, ",")[0])
			km, _, _ = strings.Cut(km, " ")
		}
	}
	if km == "" {
		k.problem("keyboard needs a layout, e.g. keyboard --vckeymap=us")
		return
	}
	k.a.System.Keymap = km
	k.set("system.keymap")
}

// finish resolves the sshkey lines now that every user is known.
func (k *ksDoc) finish() {
	for _, s := range k.sshkeys {
		k.line, k.cmd = s.line, s.cmd
		if s.user == "root" {
			p := index("root.ssh_authorized_keys", len(k.a.Root.SSHAuthorizedKeys))
			k.a.Root.SSHAuthorizedKeys = append(k.a.Root.SSHAuthorizedKeys, s.key)
			k.set(p)
			continue
		}
		found := false
		for i := range k.a.Users {
			if k.a.Users[i].Name == s.user {
				p := index(join(index("users", i), "ssh_authorized_keys"), len(k.a.Users[i].SSHAuthorizedKeys))
				k.a.Users[i].SSHAuthorizedKeys = append(k.a.Users[i].SSHAuthorizedKeys, s.key)
				k.set(p)
				found = true
				break
			}
		}
		if !found {
			k.problem("sshkey names the user %q, who is not created by any user line; add user --name=%s or use --username=root", s.user, s.user)
		}
	}
}

// KickstartCommands lists the accepted commands and, for each, the options
// uai honours, for the docs.
func KickstartCommands() map[string][]string {
	out := map[string][]string{}
	for c, opts := range ksCommands {
		var names []string
		for n, o := range opts {
			if o.hint == "" {
				names = append(names, "--"+n)
			}
		}
		sort.Strings(names)
		out[c] = names
	}
	return out
}
