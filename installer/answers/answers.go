// Package answers reads answer files (TOML v1, and a kickstart subset): strict parsing with line and column for every problem, composition, per-host overrides, and validation into a report.
package answers

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/universal-atomic-installer/uai/partition"
)

// Version is the only answer-file version this build reads.
const Version = 1

// MaxSizeBytes is the largest answer file read. Real ones are a few KiB;
// the bound keeps a wrong URL or device from filling a live system's RAM.
const MaxSizeBytes = 1 << 20

// Answers is one effective answer file: every file composed in order and
// the matching [[hosts]] overrides applied. docs/answers.md describes each
// field; the field table in fields.go is the one description of the format.
type Answers struct {
	Version   int       `toml:"version"`
	Source    Source    `toml:"source"`
	Disk      Disk      `toml:"disk"`
	Storage   Storage   `toml:"storage"`
	System    System    `toml:"system"`
	Root      Root      `toml:"root"`
	Users     []User    `toml:"users"`
	Kernel    Kernel    `toml:"kernel"`
	Network   Network   `toml:"network"`
	Post      Post      `toml:"post"`
	Reporting Reporting `toml:"reporting"`
	// Interactive names the sections the TUI asks; the others come from
	// the file.
	Interactive []string `toml:"interactive"`
	// Confirm must be true (or the kernel command line carry
	// uai.autoinstall) for an unattended run to write a disk.
	Confirm bool `toml:"confirm"`
	// ExpectPlanSHA256 optionally pins the plan the run must make.
	ExpectPlanSHA256 string `toml:"expect_plan_sha256"`
}

// Source says what to install.
type Source struct {
	// Edition is a catalog edition id; Image is any bootc image. Exactly
	// one is set.
	Edition string `toml:"edition"`
	Image   string `toml:"image"`
	// Transport says where Image lives: registry (default), oci,
	// oci-archive or containers-storage.
	Transport string `toml:"transport"`
	// Catalog is a catalog to look Edition up in instead of the embedded one.
	Catalog string `toml:"catalog"`
	// TargetRef is what the installed system updates from.
	TargetRef string `toml:"target_ref"`
	// Stateroot is the ostree stateroot name (bootc --stateroot).
	Stateroot string `toml:"stateroot"`
	// Runner says how bootc runs: auto (default), podman or host.
	Runner string `toml:"runner"`
}

// Disk says where to install: a selector that must match exactly one disk.
type Disk struct {
	partition.Selector
	// Wipe allows erasing a disk that holds data.
	Wipe bool `toml:"wipe"`
	// PreserveOnError keeps a half-written disk for inspection instead of
	// wiping the new table after a failure.
	PreserveOnError bool `toml:"preserve_on_error"`
}

// Storage says how to lay the disk out.
type Storage struct {
	// Method is "to-filesystem" (uai partitions) or "to-disk" (bootc does).
	Method string `toml:"method"`
	// Layout is "whole" (the whole disk) or "free" (the largest free region).
	Layout string `toml:"layout"`
	// Filesystem of root: xfs, ext4 or btrfs; empty means the edition's default.
	Filesystem string `toml:"filesystem"`
	// RootSize limits root ("40GiB"); empty means the rest of the disk.
	RootSize     string     `toml:"root_size"`
	SeparateBoot bool       `toml:"separate_boot"`
	Encryption   Encryption `toml:"encryption"`
}

// Encryption asks for LUKS2 on root.
type Encryption struct {
	Enabled    bool   `toml:"enabled"`
	Passphrase string `toml:"passphrase"`
	TPM2       bool   `toml:"tpm2"`
}

// System is the installed system's identity and locale.
type System struct {
	Hostname string `toml:"hostname"`
	Timezone string `toml:"timezone"`
	Locale   string `toml:"locale"`
	Keymap   string `toml:"keymap"`
}

// Root configures the root account.
type Root struct {
	// Password is plain text (uai hashes it before it reaches the disk);
	// PasswordHash is a crypt(3) hash. At most one is set.
	Password          string   `toml:"password"`
	PasswordHash      string   `toml:"password_hash"`
	Locked            bool     `toml:"locked"`
	SSHAuthorizedKeys []string `toml:"ssh_authorized_keys"`
}

// User is one account to create.
type User struct {
	Name              string   `toml:"name"`
	GECOS             string   `toml:"gecos"`
	UID               int      `toml:"uid"`
	Groups            []string `toml:"groups"`
	Password          string   `toml:"password"`
	PasswordHash      string   `toml:"password_hash"`
	SSHAuthorizedKeys []string `toml:"ssh_authorized_keys"`
}

// Kernel holds extra kernel arguments for the installed system.
type Kernel struct {
	Args []string `toml:"args"`
}

// Network configures the live system's network and what the target keeps.
type Network struct {
	// CopyToTarget copies the live system's connections to the installed
	// system; nil means the default, true.
	CopyToTarget *bool  `toml:"copy_to_target"`
	WiFi         []WiFi `toml:"wifi"`
}

// WiFi is one Wi-Fi network to join on the live system.
type WiFi struct {
	SSID   string `toml:"ssid"`
	PSK    string `toml:"psk"`
	Hidden bool   `toml:"hidden"`
}

// Post says what happens after a successful install.
type Post struct {
	// Action is reboot, poweroff, shell or none (the default).
	Action string `toml:"action"`
	// Eject ejects the live medium before a reboot or power-off.
	Eject bool `toml:"eject"`
}

// Reporting says where events go besides stdout.
type Reporting struct {
	// URL receives every event as an HTTP POST.
	URL string `toml:"url"`
	// Headers are sent with every POST (e.g. an Authorization token).
	Headers map[string]string `toml:"headers"`
	// Retries is how often a failed POST is retried; nil means 3.
	Retries *int `toml:"retries"`
	// Timeout bounds each POST ("5s"); empty means 5s.
	Timeout string `toml:"timeout"`
	// File receives the JSON-lines events; the effective answers are
	// written next to it.
	File string `toml:"file"`
	// Serial is a serial console device that receives the JSON lines.
	Serial string `toml:"serial"`
}

// Problem is one thing wrong with an answer file.
type Problem struct {
	File   string `json:"file,omitempty"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
	// Key is the TOML key ("disk.path", "users[1].name") or the kickstart
	// command, when known.
	Key     string `json:"key,omitempty"`
	Message string `json:"message"`
	// path is the answer key the problem is about, also for kickstart
	// problems whose Key is the command.
	path string
}

func (p Problem) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		b.WriteString(":")
	}
	if p.Line > 0 {
		fmt.Fprintf(&b, "%d:%d:", p.Line, p.Column)
	}
	if b.Len() > 0 {
		b.WriteString(" ")
	}
	if p.Key != "" {
		b.WriteString(p.Key)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Report collects every problem of a file, not just the first.
type Report struct {
	Problems []Problem `json:"problems"`
}

// maxProblems bounds a report: a mangled 1 MiB file can have thousands,
// and the first hundred are enough to start fixing.
const maxProblems = 200

// OK reports whether there are no problems.
func (r *Report) OK() bool { return r == nil || len(r.Problems) == 0 }

// Err returns the report as an error, or nil when OK.
func (r *Report) Err() error {
	if r.OK() {
		return nil
	}
	return r
}

func (r *Report) Error() string {
	lines := make([]string, len(r.Problems))
	for i, p := range r.Problems {
		lines[i] = p.String()
	}
	if len(lines) == 1 {
		return "answer file: " + lines[0]
	}
	return fmt.Sprintf("answer file has %d problems:\n  %s", len(lines), strings.Join(lines, "\n  "))
}

func (r *Report) add(p Problem) {
	for _, q := range r.Problems {
		if q == p {
			return
		}
	}
	r.Problems = append(r.Problems, p)
}

func (r *Report) merge(o *Report) {
	if o == nil {
		return
	}
	for _, p := range o.Problems {
		r.add(p)
	}
}

// finish orders the problems by file, line and column (problems without a
// position first: they concern the file as a whole) and bounds the list.
func (r *Report) finish(fileOrder []string) *Report {
	rank := map[string]int{}
	for i, f := range fileOrder {
		rank[f] = i + 1
	}
	sort.SliceStable(r.Problems, func(i, j int) bool {
		a, b := r.Problems[i], r.Problems[j]
		if rank[a.File] != rank[b.File] {
			return rank[a.File] < rank[b.File]
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	if len(r.Problems) > maxProblems {
		n := len(r.Problems) - maxProblems
		r.Problems = append(r.Problems[:maxProblems], Problem{Message: fmt.Sprintf("%d more problems are not listed; fix the ones above and validate again", n)})
	}
	return r
}

// Input is one answer file to compose: a TOML answer file or a kickstart.
type Input struct {
	// Name is how problems name the file (a path or a URL).
	Name string
	Data []byte
	// Kickstart marks an Anaconda kickstart; otherwise Format decides.
	Kickstart bool
}

// Load reads and composes answer files in order (later files win) for a
// machine without [[hosts]] facts. A file that cannot be read is an error;
// everything wrong inside the files is in the report.
func Load(paths ...string) (*Answers, *Report, error) {
	var in []Input
	for _, p := range paths {
		i, err := ReadInput(p)
		if err != nil {
			return nil, nil, err
		}
		in = append(in, i)
	}
	c := Compose(in, Facts{})
	return c.Answers, c.Report, nil
}

// ReadInput reads one local answer file or kickstart, telling them apart
// by name and content (see IsKickstart).
func ReadInput(path string) (Input, error) {
	f, err := os.Open(path)
	if err != nil {
		return Input{}, fmt.Errorf("read answer file: %w", err)
	}
	defer f.Close()
	// Read one byte past the limit so an oversize file is reported, not cut.
	data, err := io.ReadAll(io.LimitReader(f, MaxSizeBytes+1))
	if err != nil {
		return Input{}, fmt.Errorf("read answer file %s: %w", path, err)
	}
	if len(data) > MaxSizeBytes {
		return Input{}, fmt.Errorf("answer file %s is larger than %d bytes; an answer file is a few KiB, check the path", path, MaxSizeBytes)
	}
	return Input{Name: path, Data: data, Kickstart: IsKickstart(path, data)}, nil
}

// IsKickstart tells a kickstart from a TOML answer file: by the name's
// extension (.ks, .cfg versus .toml) and otherwise by the first line that
// says something. A kickstart line is a command and its options; a TOML
// answer file starts with a key = value or a [table].
func IsKickstart(name string, data []byte) bool {
	lower := strings.ToLower(name)
	if i := strings.IndexAny(lower, "?#"); i >= 0 && strings.Contains(lower, "://") {
		lower = lower[:i]
	}
	switch {
	case strings.HasSuffix(lower, ".toml"):
		return false
	case strings.HasSuffix(lower, ".ks"), strings.HasSuffix(lower, ".cfg"):
		return true
	}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "[") {
			return false
		}
		if i := strings.IndexByte(line, '='); i > 0 {
			key := strings.TrimSpace(line[:i])
			if !strings.ContainsAny(key, " \t") && !strings.HasPrefix(key, "--") {
				return false
			}
		}
		return true
	}
	return false
}
