package answers

import "github.com/universal-atomic-installer/uai/partition"

// The field table below is the one description of answer file v1. The
// strict decoder walks it to find unknown and mistyped keys, the typed
// decoder and the encoder map it onto the Go structs, Schema turns it into
// docs/answers.schema.json, Example into docs/answers.example.toml, and a
// test checks it against the struct tags, so none of them can drift apart.
// Rules between fields or that need real parsing live in validate.go.

type kind int

const (
	kindString kind = iota
	kindBool
	kindInt
	kindStringList
	kindStringMap
	kindObject
	kindObjectList
)

// field describes one TOML key.
type field struct {
	name string
	kind kind
	doc  string
	// def is the documented default, for the docs.
	def string

	enum    []string
	pattern string // schema pattern; the validator checks the same rule in code
	maxLen  int
	min     int
	max     int

	// secret values are redacted from effective answers, exports and
	// events.
	secret bool

	// example is the value docs/answers.example.toml shows; commented
	// keeps it commented out (an alternative or an optional extra).
	example   any
	commented bool

	obj *object
}

// object is a TOML table with a fixed set of keys.
type object struct {
	name   string
	title  string
	doc    string
	fields []field
}

// Allowed values.
var (
	allowedTransports  = []string{"registry", "oci", "oci-archive", "containers-storage"}
	allowedRunners     = []string{"auto", "podman", "host"}
	allowedMethods     = []string{"to-filesystem", "to-disk"}
	allowedLayouts     = []string{"whole", "free"}
	allowedFilesystems = []string{"xfs", "ext4", "btrfs"}
	allowedActions     = []string{"reboot", "poweroff", "shell", "none"}
	allowedSections    = []string{"source", "disk", "storage", "system", "root", "users", "kernel", "network", "post", "*"}
	allowedDiskBuses   = partition.Transports

	// installerOnlyKargPrefixes configure the live installer; on the
	// installed system they are at best noise and at worst start an
	// installer again.
	installerOnlyKargPrefixes = []string{"rd.live.", "inst.", "uai."}
)

// Patterns shared by the validator and the schema; only syntax that Go's
// RE2 and ECMA-262 read alike.
const (
	sha256Pattern   = `^[0-9a-f]{64}$`
	hostnamePattern = `^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$`
	timezonePattern = `^(?:UTC|[A-Za-z][A-Za-z0-9_+-]*(?:/[A-Za-z0-9_+-]+)*)$`
	localePattern   = `^(?:C|POSIX|[a-z]{2,3}(?:_[A-Z]{2})?)(?:\.[A-Za-z0-9-]+)?(?:@[A-Za-z0-9]+)?$`
	keymapPattern   = `^[A-Za-z0-9][A-Za-z0-9_.-]*$`
	userPattern     = `^[a-z_][a-z0-9_-]{0,31}$`
	hashPattern     = `^\$(?:y|gy|7|2[aby]|5|6)\$[!-~]+$`
	sshKeyPattern   = `^(?:ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(?:256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+={0,2}(?: .*)?$`
	kargPattern     = `^[^\s\x00-\x1f\x7f-\x9f-][^\s\x00-\x1f\x7f-\x9f]*$`
	sizePattern     = `^[0-9]+(?:\.[0-9]+)? ?(?:[BbKkMmGgTtPp]|[KkMmGgTtPp][Ii]?[Bb])?$`
	durationPattern = `^[0-9]+(?:ms|s|m)$`
	macPattern      = `^[0-9A-Fa-f]{2}(?:[:-][0-9A-Fa-f]{2}){5}$`
	urlPattern      = `^https?://\S+$`
	absPathPattern  = `^/\S*$`
	devPattern      = `^/dev/\S+$`
	statePattern    = `^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$`
)

var sourceObject = &object{
	name:  "source",
	title: "[source]",
	doc:   "What to install: a catalog edition or any bootc image.",
	fields: []field{
		{name: "edition", kind: kindString, example: "fedora-bootc-44",
			doc: "A catalog edition id (`uai catalog list`). Exactly one of edition and image is set."},
		{name: "image", kind: kindString, example: "quay.io/example/my-os:1", commented: true,
			doc: "Any bootc image: a registry ref (HOST/PATH:TAG or @sha256:DIGEST), or a path for the oci and oci-archive transports."},
		{name: "transport", kind: kindString, enum: allowedTransports, def: "registry", example: "registry", commented: true,
			doc: "Where image lives: a registry, an OCI layout directory (oci), an OCI archive (oci-archive) or the live system's container storage (containers-storage)."},
		{name: "catalog", kind: kindString, example: "https://example.com/catalog.json", commented: true,
			doc: "A catalog (https URL, absolute path or file:/// URL) to look edition up in instead of the embedded one. A --catalog flag wins over it. A remote catalog must be signed by a trusted key (--catalog-key) unless --insecure-catalog is given."},
		{name: "target_ref", kind: kindString, example: "quay.io/example/my-os:stable", commented: true,
			doc: "The registry ref the installed system updates from (bootc --target-imgref, no transport). Default: the image. Required with the oci and oci-archive transports."},
		{name: "stateroot", kind: kindString, pattern: statePattern, def: "default", example: "default", commented: true,
			doc: "The ostree stateroot (bootc --stateroot)."},
		{name: "runner", kind: kindString, enum: allowedRunners, def: "auto", example: "auto", commented: true,
			doc: "How bootc runs: auto (uai chooses: the live system's bootc when the image is on the install medium or RAM is short, else the image's own bootc under podman; see docs/engine.md), podman (the image's own bootc in a podman container) or host (the live system's bootc with --source-imgref). `uai install --runner` overrides it."},
	},
}

var diskObject = &object{
	name:  "disk",
	title: "[disk]",
	doc:   "Where to install: a selector that must match exactly one disk. Every key given must match; `uai answers explain` shows every disk and why it did or did not match.",
	fields: []field{
		{name: "path", kind: kindString, example: "/dev/disk/by-id/nvme-Example_SSD_1234",
			doc: "A /dev path, a /dev/disk/by-id or by-path link, or a disk image file."},
		{name: "by_id", kind: kindString, example: "nvme-Example_SSD_1234", commented: true,
			doc: "A name under /dev/disk/by-id."},
		{name: "serial", kind: kindString, example: "S5GXNX0R123456", commented: true, doc: "The disk's serial number."},
		{name: "wwn", kind: kindString, example: "eui.0025385b71b0c1e4", commented: true, doc: "The disk's World Wide Name."},
		{name: "model", kind: kindString, example: "Samsung SSD 9*", commented: true, doc: "The disk's model, a shell glob."},
		{name: "min_size", kind: kindString, pattern: sizePattern, example: "100GiB", commented: true, doc: "The smallest size that matches, e.g. 100GiB or 120GB."},
		{name: "max_size", kind: kindString, pattern: sizePattern, example: "2TiB", commented: true, doc: "The largest size that matches."},
		{name: "transport", kind: kindString, enum: allowedDiskBuses, example: "nvme", commented: true, doc: "The bus the disk hangs on."},
		{name: "rotational", kind: kindBool, example: false, commented: true, doc: "true matches spinning disks, false solid state; unset matches both."},
		{name: "removable", kind: kindBool, example: false, commented: true, doc: "true matches removable media; unset matches both."},
		{name: "largest", kind: kindBool, example: true, commented: true, doc: "Pick the largest of the disks the other keys leave."},
		{name: "smallest", kind: kindBool, example: true, commented: true, doc: "Pick the smallest of the disks the other keys leave."},
		{name: "empty", kind: kindBool, example: true, commented: true, doc: "Match only disks with no partition table and no filesystem."},
		{name: "allow_boot_medium", kind: kindBool, def: "false", example: false, commented: true,
			doc: "Let the selector match the disk the live system booted from. Never set it unless that is really meant."},
		{name: "wipe", kind: kindBool, def: "false", example: true,
			doc: "Allow erasing a disk that holds data. Without it uai refuses a disk that is not empty."},
		{name: "preserve_on_error", kind: kindBool, def: "false", example: false, commented: true,
			doc: "Keep a half-written disk for inspection instead of wiping its new partition table after a failure."},
	},
}

var encryptionObject = &object{
	name:  "encryption",
	title: "[storage.encryption]",
	doc:   "LUKS2 on the root filesystem.",
	fields: []field{
		{name: "enabled", kind: kindBool, def: "false", example: true, doc: "Encrypt root with LUKS2 (needs a passphrase, tpm2, or both)."},
		{name: "passphrase", kind: kindString, secret: true, example: "correct horse battery staple",
			doc: "Unlocks the volume, and is the recovery passphrase with tpm2."},
		{name: "tpm2", kind: kindBool, def: "false", example: false, commented: true, doc: "Also enrol the machine's TPM2 so booting needs no typing."},
	},
}

var storageObject = &object{
	name:  "storage",
	title: "[storage]",
	doc:   "How to lay the disk out.",
	fields: []field{
		{name: "method", kind: kindString, enum: allowedMethods, def: "to-filesystem", example: "to-filesystem",
			doc: "to-filesystem: uai partitions and formats, then bootc installs into the mounted tree. to-disk: bootc partitions the whole disk itself."},
		{name: "layout", kind: kindString, enum: allowedLayouts, def: "whole", example: "whole",
			doc: "whole: the whole disk. free: keep every partition and install into the largest free region (to-filesystem only)."},
		{name: "filesystem", kind: kindString, enum: allowedFilesystems, def: "the edition's", example: "xfs", doc: "The root filesystem."},
		{name: "root_size", kind: kindString, pattern: sizePattern, example: "40GiB", commented: true,
			doc: "Limits root, e.g. 40GiB; default: the rest of the disk or region."},
		{name: "separate_boot", kind: kindBool, def: "false", example: false, commented: true, doc: "Add a /boot partition (always added with encryption)."},
		{name: "encryption", kind: kindObject, obj: encryptionObject, doc: encryptionObject.doc},
	},
}

var systemObject = &object{
	name:  "system",
	title: "[system]",
	doc:   "The installed system's identity and locale.",
	fields: []field{
		{name: "hostname", kind: kindString, pattern: hostnamePattern, maxLen: 64, example: "lab-node", doc: "The static hostname (at most 64 characters)."},
		{name: "timezone", kind: kindString, pattern: timezonePattern, example: "Europe/Berlin", doc: "An IANA time zone, e.g. Europe/Berlin or UTC."},
		{name: "locale", kind: kindString, pattern: localePattern, example: "en_US.UTF-8", doc: "The system locale (LANG), e.g. en_US.UTF-8."},
		{name: "keymap", kind: kindString, pattern: keymapPattern, example: "us", doc: "The console keymap, e.g. us or de-nodeadkeys (X11 follows it)."},
	},
}

var rootObject = &object{
	name:  "root",
	title: "[root]",
	doc:   "The root account.",
	fields: []field{
		{name: "password", kind: kindString, secret: true, example: "change-me", commented: true,
			doc: "A plain-text password; uai hashes it before it reaches the disk. Prefer password_hash."},
		{name: "password_hash", kind: kindString, pattern: hashPattern, secret: true,
			example: "$6$uai.example$2AMendYfJMRPqRqYnCRH0Dv6muE3fW7fjgtLURdsvqI3k29rH6n4coLRjtS/dJaihTd8L857DS9hqXsQa9nS8.", commented: true,
			doc: "A crypt(3) hash (yescrypt $y$ or SHA-512 $6$, as `mkpasswd` or `openssl passwd -6` print)."},
		{name: "locked", kind: kindBool, def: "false", example: true, doc: "Lock the root password (SSH keys still work)."},
		{name: "ssh_authorized_keys", kind: kindStringList, pattern: sshKeyPattern,
			example: []any{"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl qa@example.com"},
			doc:     "OpenSSH public keys that may log in as root."},
	},
}

var userObject = &object{
	name:  "user",
	title: "[[users]]",
	doc:   "Accounts to create, one [[users]] table each.",
	fields: []field{
		{name: "name", kind: kindString, pattern: userPattern, example: "qa", doc: "The login name (lowercase, at most 32 characters)."},
		{name: "gecos", kind: kindString, example: "QA Automation", doc: "The full name."},
		{name: "uid", kind: kindInt, min: 1000, max: 60000, example: int64(1000), commented: true, doc: "The user id; default: the next free one."},
		{name: "groups", kind: kindStringList, pattern: userPattern, example: []any{"wheel"}, doc: "Extra groups; they must exist in the image (wheel grants sudo)."},
		{name: "password", kind: kindString, secret: true, example: "change-me", commented: true, doc: "A plain-text password; prefer password_hash."},
		{name: "password_hash", kind: kindString, pattern: hashPattern, secret: true,
			example: "$6$uai.example$2AMendYfJMRPqRqYnCRH0Dv6muE3fW7fjgtLURdsvqI3k29rH6n4coLRjtS/dJaihTd8L857DS9hqXsQa9nS8.",
			doc:     "A crypt(3) hash of the password."},
		{name: "ssh_authorized_keys", kind: kindStringList, pattern: sshKeyPattern,
			example: []any{"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl qa@example.com"},
			doc:     "OpenSSH public keys that may log in as this user."},
	},
}

var kernelObject = &object{
	name:  "kernel",
	title: "[kernel]",
	doc:   "Kernel arguments for the installed system, added to the edition's.",
	fields: []field{
		{name: "args", kind: kindStringList, pattern: kargPattern, example: []any{"console=ttyS0,115200n8"},
			doc: "Each one argument (no spaces); installer-only arguments (rd.live.*, inst.*, uai.*) are refused."},
	},
}

var wifiObject = &object{
	name:  "wifi",
	title: "[[network.wifi]]",
	doc:   "Wi-Fi networks the live system joins, one [[network.wifi]] table each.",
	fields: []field{
		{name: "ssid", kind: kindString, maxLen: 32, example: "lab-wifi", doc: "The network name (1 to 32 bytes)."},
		{name: "psk", kind: kindString, secret: true, example: "wifi passphrase here",
			doc: "The WPA passphrase (8 to 63 characters) or the 64-hex-digit key; empty for an open network."},
		{name: "hidden", kind: kindBool, def: "false", example: false, commented: true, doc: "The network does not broadcast its name."},
	},
}

var networkObject = &object{
	name:  "network",
	title: "[network]",
	doc:   "The live system's network, and what the installed system keeps of it.",
	fields: []field{
		{name: "copy_to_target", kind: kindBool, def: "true", example: true,
			doc: "Copy the live system's NetworkManager connections (Wi-Fi included) to the installed system."},
		{name: "wifi", kind: kindObjectList, obj: wifiObject, doc: wifiObject.doc},
	},
}

var postObject = &object{
	name:  "post",
	title: "[post]",
	doc:   "What happens after a successful install.",
	fields: []field{
		{name: "action", kind: kindString, enum: allowedActions, def: "none", example: "reboot",
			doc: "reboot, poweroff, shell (a root shell on the console) or none (exit with the result)."},
		{name: "eject", kind: kindBool, def: "false", example: false, commented: true, doc: "Eject the live medium before rebooting or powering off."},
	},
}

var reportingObject = &object{
	name:  "reporting",
	title: "[reporting]",
	doc:   "Where the JSON-lines events go besides stdout. A reporting target that fails never fails the install.",
	fields: []field{
		{name: "url", kind: kindString, pattern: urlPattern, secret: true, example: "https://qa.example.com/uai/events", commented: true,
			doc: "A webhook: every event is POSTed to it as one JSON object, in order. Only its scheme and host are ever shown, since tokens hide in URLs."},
		{name: "headers", kind: kindStringMap, secret: true, example: map[string]any{"Authorization": "Bearer token-here"}, commented: true,
			doc: "HTTP headers sent with every POST, e.g. an Authorization token."},
		{name: "retries", kind: kindInt, min: 0, max: 10, def: "3", example: int64(3), commented: true,
			doc: "How often a failed POST is retried before the webhook is given up."},
		{name: "timeout", kind: kindString, pattern: durationPattern, def: "5s", example: "5s", commented: true, doc: "Bounds each POST (at most 60s)."},
		{name: "file", kind: kindString, pattern: absPathPattern, example: "/run/uai/install.jsonl",
			doc: "A file that receives the events as JSON lines. The effective answers, secrets redacted, are written next to it (NAME.answers.toml) so the run can be replayed."},
		{name: "serial", kind: kindString, pattern: devPattern, example: "/dev/ttyS0", commented: true, doc: "A serial console device that receives the JSON lines."},
	},
}

var answersObject = &object{
	name:  "answers",
	title: "Top level",
	doc:   "Plain keys come first in the file, then the tables.",
	fields: []field{
		{name: "version", kind: kindInt, min: Version, max: Version, example: int64(Version), doc: "The format version; must be 1."},
		{name: "confirm", kind: kindBool, def: "false", example: true,
			doc: "Write the disk without asking. Without it (or uai.autoinstall on the kernel command line) uai stops after the plan, exit 8."},
		{name: "expect_plan_sha256", kind: kindString, pattern: sha256Pattern,
			example: "0000000000000000000000000000000000000000000000000000000000000000", commented: true,
			doc: "Refuse to run unless the plan's sha256 (from `uai plan`) is exactly this."},
		{name: "interactive", kind: kindStringList, enum: allowedSections, example: []any{"users"}, commented: true,
			doc: `Sections the TUI asks for (and may be missing here); "*" means all. Everything else is taken from the file.`},
		{name: "source", kind: kindObject, obj: sourceObject, doc: sourceObject.doc},
		{name: "disk", kind: kindObject, obj: diskObject, doc: diskObject.doc},
		{name: "storage", kind: kindObject, obj: storageObject, doc: storageObject.doc},
		{name: "system", kind: kindObject, obj: systemObject, doc: systemObject.doc},
		{name: "root", kind: kindObject, obj: rootObject, doc: rootObject.doc},
		{name: "users", kind: kindObjectList, obj: userObject, doc: userObject.doc},
		{name: "kernel", kind: kindObject, obj: kernelObject, doc: kernelObject.doc},
		{name: "network", kind: kindObject, obj: networkObject, doc: networkObject.doc},
		{name: "post", kind: kindObject, obj: postObject, doc: postObject.doc},
		{name: "reporting", kind: kindObject, obj: reportingObject, doc: reportingObject.doc},
		{name: "hosts", kind: kindObjectList, obj: hostObject, doc: hostObject.doc},
	},
}

// hostMatchKeys are the keys of a [[hosts]] entry that say which machine it
// is for; the rest of the entry overrides the file.
var hostMatchKeys = []field{
	{name: "mac", kind: kindString, pattern: macPattern, example: "52:54:00:12:34:56",
		doc: "Matches a machine with a network interface of this MAC address (/sys/class/net/*/address)."},
	{name: "serial", kind: kindString, example: "PF2ABCDE", commented: true,
		doc: "Matches the machine's serial number (/sys/class/dmi/id/product_serial)."},
	{name: "product", kind: kindString, example: "ThinkPad T14*", commented: true,
		doc: "Matches the machine's product name (/sys/class/dmi/id/product_name), a shell glob."},
}

var hostObject = &object{
	name:  "host",
	title: "[[hosts]]",
	doc: "Per-host overrides, so a fleet ships one file. An entry applies to a machine that matches every match key it gives " +
		"(mac, serial, product); its other tables override the file's, key by key, in the order the entries are written.",
}

func init() {
	hostObject.fields = append([]field(nil), hostMatchKeys...)
	for _, f := range answersObject.fields {
		if f.name == "version" || f.name == "hosts" {
			continue
		}
		f.example = nil
		hostObject.fields = append(hostObject.fields, f)
	}
}

// lookup finds a field by name.
func (o *object) lookup(name string) (field, bool) {
	for _, f := range o.fields {
		if f.name == name {
			return f, true
		}
	}
	return field{}, false
}
