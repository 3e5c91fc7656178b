package installer

import (
	"strconv"
	"time"

	"github.com/universal-atomic-installer/uai/installer/answers"
	"github.com/universal-atomic-installer/uai/partition"
)

// Request is what the user asked for, from any front-end: answer file,
// flags or TUI. Secrets (passphrases) live here and in the engine's
// memory only; the Plan records that they are set, never their values.
type Request struct {
	EditionID string
	// Image is a custom bootc image ref (instead of EditionID).
	Image string
	// Digest pins the edition (EditionID) to this manifest digest
	// ("sha256:..."), in place of the catalog's pin: the front-end sets
	// it when the user prefers the registry's build to the one on the
	// install medium. The installed system still follows the edition's
	// ref. A custom image is pinned in Image itself (repo@sha256:...).
	// Not an answer.
	Digest string
	// TargetRef overrides the ref the installed system updates from.
	TargetRef string
	// DiskPath names the target disk directly; Selector picks it by its
	// facts. Exactly one is used: DiskPath wins when both are set.
	DiskPath        string
	Selector        partition.Selector
	Wipe            bool
	PreserveOnError bool
	Storage         StorageRequest
	// Filesystem overrides the edition's default root filesystem.
	Filesystem string
	// Demo restricts targets to image files and stands the simulator in
	// for bootc and podman.
	Demo bool
	// TargetDir overrides DefaultTargetDir.
	TargetDir string
	// Arch is the OCI architecture to install for; empty means this machine's.
	Arch string

	// The fields below carry the rest of an answer file (docs/answers.md),
	// so every front-end fills one Request and a run's answers can be
	// exported again (AnswersFromRequest). Resolve acts on Transport,
	// Runner, Stateroot, System, Root, Users, Kargs, Network.NoCopyToTarget
	// and Post.Action. CatalogURL is read by the front-end, which loads
	// the catalog the session looks EditionID up in; the engine does not
	// act on Network.WiFi and Post.Eject yet, so the unattended front-end
	// warns about them until it does ("What an install does with each
	// section today" in docs/answers.md).

	// Transport says where Image lives ("" or registry, oci, oci-archive,
	// containers-storage); other than registry, the host runner installs
	// from TRANSPORT:IMAGE and TargetRef is what the system follows.
	Transport string
	// Runner is the runner asked for: "" or auto (chooseRunner's rules
	// decide), podman or host.
	Runner string
	// ImageSizeBytes is the image's size when the front-end resolved it
	// (catalog.ImageInfo.SizeBytes), for the runner's RAM rule; 0 is
	// unknown. Not an answer.
	ImageSizeBytes int64
	// CatalogURL is a catalog to look EditionID up in instead of the
	// embedded one (the answers' source.catalog); the front-end loads it
	// into the Session unless a --catalog flag names others.
	CatalogURL string
	// Stateroot is the ostree stateroot (bootc --stateroot); empty means
	// bootc's default.
	Stateroot string
	System    SystemRequest
	Root      RootRequest
	Users     []UserRequest
	// Kargs are kernel arguments added to the edition's.
	Kargs     []string
	Network   NetworkRequest
	Post      PostRequest
	Reporting ReportingRequest
	// Interactive names the answer-file sections the TUI asks for.
	Interactive []string
	// Confirm and ExpectPlanSHA256 come from the answer file; the front-end
	// enforces them before Engine.Run.
	Confirm          bool
	ExpectPlanSHA256 string
}

// SystemRequest is the installed system's identity and locale.
type SystemRequest struct {
	Hostname string
	Timezone string
	Locale   string
	Keymap   string
}

// RootRequest configures the root account. Password is plain text (a
// secret the engine hashes); PasswordHash a crypt(3) hash.
type RootRequest struct {
	Password          string
	PasswordHash      string
	Locked            bool
	SSHAuthorizedKeys []string
}

// UserRequest is one account to create.
type UserRequest struct {
	Name              string
	GECOS             string
	UID               int
	Groups            []string
	Password          string
	PasswordHash      string
	SSHAuthorizedKeys []string
}

// NetworkRequest is the live system's Wi-Fi and what the target keeps.
type NetworkRequest struct {
	// NoCopyToTarget keeps the live system's connections (Wi-Fi included)
	// off the installed system; by default they are copied.
	NoCopyToTarget bool
	WiFi           []WiFiRequest
}

// WiFiRequest is one Wi-Fi network; PSK is a secret.
type WiFiRequest struct {
	SSID   string
	PSK    string
	Hidden bool
}

// PostRequest says what happens after a successful install.
type PostRequest struct {
	// Action is "reboot", "poweroff", "shell" or "none" ("" means none).
	Action string
	Eject  bool
}

// ReportingRequest says where events go besides stdout. URL and Headers
// are secrets (tokens hide in them).
type ReportingRequest struct {
	URL     string
	Headers map[string]string
	Retries int
	Timeout time.Duration
	File    string
	Serial  string
}

// StorageRequest says how to lay the disk out.
type StorageRequest struct {
	// Layout is "whole" (the default: the whole disk) or "free" (keep every
	// existing partition and install into the largest free region).
	Layout string
	// Method is "to-filesystem" (the default: uai partitions) or "to-disk"
	// (bootc partitions the whole disk).
	Method string
	// RootSizeBytes limits root; 0 means the rest of the disk or region.
	RootSizeBytes uint64
	// SeparateBoot adds a /boot partition (required with encryption).
	SeparateBoot bool
	Encryption   EncryptionRequest
}

// EncryptionRequest asks for LUKS2 on root.
type EncryptionRequest struct {
	// Enabled turns LUKS2 on.
	Enabled bool
	// Passphrase unlocks the volume (and is the recovery passphrase with TPM2).
	Passphrase string
	// TPM2 also enrols the machine's TPM2 so boot needs no typing.
	TPM2 bool
}

// Defaults of the reporting targets when the answer file leaves them out.
const (
	DefaultWebhookRetries = 3
	DefaultWebhookTimeout = 5 * time.Second
)

// RequestFromAnswers turns an effective answer file into a Request. A
// [disk] table that names only a path keeps it in DiskPath; any other
// selector rule moves the whole selector into Selector (with DiskPath
// empty), so a path and a serial given together must both match.
func RequestFromAnswers(a *answers.Answers) Request {
	r := Request{
		EditionID:        a.Source.Edition,
		Image:            a.Source.Image,
		Transport:        a.Source.Transport,
		Runner:           a.Source.Runner,
		CatalogURL:       a.Source.Catalog,
		TargetRef:        a.Source.TargetRef,
		Stateroot:        a.Source.Stateroot,
		Wipe:             a.Disk.Wipe,
		PreserveOnError:  a.Disk.PreserveOnError,
		Filesystem:       a.Storage.Filesystem,
		Kargs:            clone(a.Kernel.Args),
		Interactive:      clone(a.Interactive),
		Confirm:          a.Confirm,
		ExpectPlanSHA256: a.ExpectPlanSHA256,
		System:           SystemRequest(a.System),
		Root: RootRequest{
			Password: a.Root.Password, PasswordHash: a.Root.PasswordHash, Locked: a.Root.Locked,
			SSHAuthorizedKeys: clone(a.Root.SSHAuthorizedKeys),
		},
		Storage: StorageRequest{
			Layout:       a.Storage.Layout,
			Method:       a.Storage.Method,
			SeparateBoot: a.Storage.SeparateBoot,
			Encryption:   EncryptionRequest(a.Storage.Encryption),
		},
		Network: NetworkRequest{NoCopyToTarget: a.Network.CopyToTarget != nil && !*a.Network.CopyToTarget},
		Post:    PostRequest(a.Post),
		Reporting: ReportingRequest{
			URL: a.Reporting.URL, File: a.Reporting.File, Serial: a.Reporting.Serial,
			Retries: DefaultWebhookRetries, Timeout: DefaultWebhookTimeout,
		},
	}
	sel := a.Disk.Selector
	onlyPath := sel
	onlyPath.Path, onlyPath.AllowBootMedium = "", false
	if onlyPath == (partition.Selector{}) {
		r.DiskPath = sel.Path
	}
	r.Selector = sel
	if r.DiskPath != "" {
		// DiskPath wins over Selector; keep only what it cannot say.
		r.Selector = partition.Selector{AllowBootMedium: sel.AllowBootMedium}
	}
	if a.Storage.RootSize != "" {
		// The answer file was validated, so the size parses.
		r.Storage.RootSizeBytes, _ = partition.ParseSize(a.Storage.RootSize)
	}
	for _, u := range a.Users {
		r.Users = append(r.Users, UserRequest{
			Name: u.Name, GECOS: u.GECOS, UID: u.UID, Groups: clone(u.Groups),
			Password: u.Password, PasswordHash: u.PasswordHash, SSHAuthorizedKeys: clone(u.SSHAuthorizedKeys),
		})
	}
	for _, w := range a.Network.WiFi {
		r.Network.WiFi = append(r.Network.WiFi, WiFiRequest(w))
	}
	if len(a.Reporting.Headers) > 0 {
		r.Reporting.Headers = map[string]string{}
		for k, v := range a.Reporting.Headers {
			r.Reporting.Headers[k] = v
		}
	}
	if a.Reporting.Retries != nil {
		r.Reporting.Retries = *a.Reporting.Retries
	}
	if a.Reporting.Timeout != "" {
		if d, err := time.ParseDuration(a.Reporting.Timeout); err == nil {
			r.Reporting.Timeout = d
		}
	}
	return r
}

// AnswersFromRequest turns a Request back into an answer file, for
// `uai answers export` and for writing the answers of a TUI run, so any
// run can be replayed unattended. Secrets are carried over as they are:
// call Redacted on the result before it leaves the machine.
func AnswersFromRequest(r Request) *answers.Answers {
	a := &answers.Answers{
		Version: answers.Version,
		Source: answers.Source{
			Edition: r.EditionID, Image: r.Image, Transport: r.Transport, Catalog: r.CatalogURL,
			TargetRef: r.TargetRef, Stateroot: r.Stateroot, Runner: r.Runner,
		},
		Disk: answers.Disk{Selector: r.Selector, Wipe: r.Wipe, PreserveOnError: r.PreserveOnError},
		Storage: answers.Storage{
			Method: r.Storage.Method, Layout: r.Storage.Layout, Filesystem: r.Filesystem,
			SeparateBoot: r.Storage.SeparateBoot, Encryption: answers.Encryption(r.Storage.Encryption),
		},
		System: answers.System(r.System),
		Root: answers.Root{
			Password: r.Root.Password, PasswordHash: r.Root.PasswordHash, Locked: r.Root.Locked,
			SSHAuthorizedKeys: clone(r.Root.SSHAuthorizedKeys),
		},
		Kernel:           answers.Kernel{Args: clone(r.Kargs)},
		Post:             answers.Post(r.Post),
		Interactive:      clone(r.Interactive),
		Confirm:          r.Confirm,
		ExpectPlanSHA256: r.ExpectPlanSHA256,
		Reporting: answers.Reporting{
			URL: r.Reporting.URL, File: r.Reporting.File, Serial: r.Reporting.Serial,
		},
	}
	if r.DiskPath != "" {
		a.Disk.Path = r.DiskPath
	}
	if r.Storage.RootSizeBytes > 0 {
		a.Storage.RootSize = sizeText(r.Storage.RootSizeBytes)
	}
	for _, u := range r.Users {
		a.Users = append(a.Users, answers.User{
			Name: u.Name, GECOS: u.GECOS, UID: u.UID, Groups: clone(u.Groups),
			Password: u.Password, PasswordHash: u.PasswordHash, SSHAuthorizedKeys: clone(u.SSHAuthorizedKeys),
		})
	}
	if r.Network.NoCopyToTarget {
		no := false
		a.Network.CopyToTarget = &no
	}
	for _, w := range r.Network.WiFi {
		a.Network.WiFi = append(a.Network.WiFi, answers.WiFi(w))
	}
	if len(r.Reporting.Headers) > 0 {
		a.Reporting.Headers = map[string]string{}
		for k, v := range r.Reporting.Headers {
			a.Reporting.Headers[k] = v
		}
	}
	if r.Reporting.URL != "" {
		if r.Reporting.Retries != DefaultWebhookRetries {
			n := r.Reporting.Retries
			a.Reporting.Retries = &n
		}
		if r.Reporting.Timeout != 0 && r.Reporting.Timeout != DefaultWebhookTimeout {
			a.Reporting.Timeout = r.Reporting.Timeout.String()
		}
	}
	return a
}

// sizeText writes bytes in the largest binary unit that divides them.
func sizeText(n uint64) string {
	for _, u := range []struct {
		name string
		size uint64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n%u.size == 0 {
			return strconv.FormatUint(n/u.size, 10) + u.name
		}
	}
	return strconv.FormatUint(n, 10) + "B"
}

func clone(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return append([]string(nil), s...)
}
