package discover

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/universal-atomic-installer/uai/installer/answers"
	"github.com/universal-atomic-installer/uai/partition"
)

// Where discovery looks, in this order (docs/answers.md, "Discovery"):
// the --answers flag; uai.answers= on the kernel command line; Anaconda's
// inst.ks= (a kickstart); /uai/answers.toml inside the live ISO; a volume
// labelled UAI-ANSWERS (answers.toml) or OEMDRV (ks.cfg).
const (
	// DefaultLiveMedium is where dracut's live boot mounts the ISO.
	DefaultLiveMedium = "/run/initramfs/live"
	// EmbeddedPath is the answer file's path inside the live ISO.
	EmbeddedPath = "/uai/answers.toml"
	// VolumeLabel and VolumeFile: a volume with this label holds this file.
	VolumeLabel = "UAI-ANSWERS"
	VolumeFile  = "/answers.toml"
	// OEMDRVLabel and OEMDRVFile follow Anaconda: a volume labelled OEMDRV
	// holds a kickstart named ks.cfg.
	OEMDRVLabel = "OEMDRV"
	OEMDRVFile  = "/ks.cfg"
	// KargAnswers and KargKickstart name the kernel arguments.
	KargAnswers   = "uai.answers"
	KargKickstart = "inst.ks"
	// DefaultFetchTimeout bounds each network fetch, retries included: at
	// boot the network may come up a little after uai starts.
	DefaultFetchTimeout = 60 * time.Second
)

// Errors, for the caller to pick an exit code.
var (
	// ErrChecksum: the file's sha256 is not the one the kernel argument gives.
	ErrChecksum = errors.New("checksum mismatch")
	// ErrFetch: a server or volume named on the command line failed.
	ErrFetch = errors.New("fetch failed")
	// ErrNotFound: a named location holds no such file.
	ErrNotFound = errors.New("answer file not found")
)

// Options says where to look; the zero value looks at the real system.
type Options struct {
	// Flags are the --answers files, in order.
	Flags []string
	// Cmdline is the kernel command line.
	Cmdline Cmdline
	// LiveMedium is the live medium's mount point; "" means
	// DefaultLiveMedium.
	LiveMedium string
	// Devices lists the disks to look for volumes on; nil scans the
	// machine (partition.Scan). Tests give image files.
	Devices func() ([]partition.Disk, error)
	// Client fetches http(s) locations; nil means a client with the
	// system's certificate roots.
	Client *http.Client
	// FetchTimeout bounds each fetch with its retries; 0 means
	// DefaultFetchTimeout.
	FetchTimeout time.Duration
	// Log receives one line per source tried.
	Log func(string)
}

// Found is what discovery found.
type Found struct {
	// Source names where the inputs came from ("kernel argument
	// uai.answers", "volume UAI-ANSWERS", ...); "" when nothing was found.
	Source string
	Inputs []answers.Input
}

type discoverer struct {
	o       Options
	disks   []partition.Disk
	scanned bool
}

// Discover tries each source in order and returns the first that names
// answers. A source that is named explicitly (a flag or kernel argument)
// and fails is an error, never a reason to try the next: an install from
// the wrong answers is worse than none. Sources found by looking (the live
// medium, labelled volumes) are skipped when absent.
func Discover(ctx context.Context, o Options) (Found, error) {
	if o.LiveMedium == "" {
		o.LiveMedium = DefaultLiveMedium
	}
	if o.FetchTimeout == 0 {
		o.FetchTimeout = DefaultFetchTimeout
	}
	if o.Log == nil {
		o.Log = func(string) {}
	}
	d := &discoverer{o: o}

	if len(o.Flags) > 0 {
		f := Found{Source: "--answers"}
		for _, p := range o.Flags {
			in, err := answers.ReadInput(p)
			if err != nil {
				return Found{}, fmt.Errorf("%w: %w", ErrNotFound, err)
			}
			f.Inputs = append(f.Inputs, in)
			o.Log(fmt.Sprintf("answers: using %s (--answers)", p))
		}
		return f, nil
	}
	o.Log("answers: no --answers flag")

	for _, k := range []struct {
		karg      string
		kickstart bool
	}{{KargAnswers, false}, {KargKickstart, true}} {
		vals := o.Cmdline.Values(k.karg)
		if len(vals) == 0 {
			o.Log(fmt.Sprintf("answers: no %s= on the kernel command line", k.karg))
			continue
		}
		f := Found{Source: "kernel argument " + k.karg}
		for _, v := range vals {
			if v == "" {
				return Found{}, fmt.Errorf("%w %s without a value: uai does not ask DHCP for the location; give %s=https://HOST/PATH", ErrLocation, k.karg, k.karg)
			}
			l, err := ParseLocation(v)
			if err != nil {
				return Found{}, fmt.Errorf("kernel argument %s: %w", k.karg, err)
			}
			o.Log(fmt.Sprintf("answers: %s=%s", k.karg, l))
			data, name, err := d.read(ctx, l)
			if err != nil {
				return Found{}, fmt.Errorf("kernel argument %s=%s: %w", k.karg, l, err)
			}
			if err := checkSum(data, l.SHA256); err != nil {
				return Found{}, fmt.Errorf("kernel argument %s=%s: %w", k.karg, l, err)
			}
			if l.SHA256 != "" {
				o.Log(fmt.Sprintf("answers: sha256 of %s matches", name))
			}
			// inst.ks always names a kickstart; uai.answers may too (ks.cfg).
			ks := k.kickstart || answers.IsKickstart(l.URL+l.Path, data)
			f.Inputs = append(f.Inputs, answers.Input{Name: name, Data: data, Kickstart: ks})
		}
		return f, nil
	}

	if f, ok, err := d.embedded(); err != nil || ok {
		return f, err
	}
	return d.labelled()
}

// read fetches the file a location names; name is how problems refer to
// it (never with a URL's token).
func (d *discoverer) read(ctx context.Context, l Location) ([]byte, string, error) {
	switch l.Kind {
	case KindHTTPS, KindHTTP:
		data, err := d.fetch(ctx, l)
		return data, l.String(), err
	case KindFile:
		in, err := answers.ReadInput(l.Path)
		if errors.Is(err, os.ErrNotExist) {
			return nil, "", fmt.Errorf("%w: %s does not exist on the live system", ErrNotFound, l.Path)
		}
		if err != nil {
			return nil, "", fmt.Errorf("%w: %w", ErrFetch, err)
		}
		return in.Data, l.Path, nil
	case KindHD, KindCDROM:
		vols, err := d.volumesFor(l)
		if err != nil {
			return nil, "", err
		}
		var tried []string
		for _, v := range vols {
			data, err := v.ReadFile(l.Path)
			if err == nil {
				return data, v.Name + ":" + l.Path, nil
			}
			if !errors.Is(err, errNoFile) {
				return nil, "", fmt.Errorf("%w: %w", ErrFetch, err)
			}
			tried = append(tried, v.String())
		}
		return nil, "", fmt.Errorf("%w: %s is not on %s", ErrNotFound, l.Path, strings.Join(tried, ", "))
	}
	return nil, "", fmt.Errorf("%w: unknown location kind %q", ErrLocation, l.Kind)
}

// volumesFor finds the volumes an hd: or cdrom: location may mean.
func (d *discoverer) volumesFor(l Location) ([]Volume, error) {
	if l.Device != "" {
		fs, label, err := probeDevice(l.Device)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrFetch, err)
		}
		if l.Kind == KindCDROM && fs != "iso9660" {
			return nil, fmt.Errorf("%w: %s holds %s, not an ISO 9660 medium; use hd:%s:%s", ErrFetch, l.Device, fs, l.Device, l.Path)
		}
		return []Volume{{Device: l.Device, Name: filepath.Base(l.Device), Filesystem: fs, Label: label}}, nil
	}
	disks, err := d.devices()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFetch, err)
	}
	var out []Volume
	for _, disk := range disks {
		for _, v := range Volumes(disk) {
			switch {
			case l.Kind == KindCDROM && v.Filesystem == "iso9660":
				out = append(out, v)
			case l.Kind == KindHD && v.Label == l.Label:
				out = append(out, v)
			}
		}
	}
	switch {
	case len(out) == 0 && l.Kind == KindCDROM:
		return nil, fmt.Errorf("%w: no ISO 9660 medium (CD, DVD or ISO stick) was found", ErrNotFound)
	case len(out) == 0:
		return nil, fmt.Errorf("%w: no volume is labelled %q; label it (mkfs.fat -n %s, e2label) or name the device (hd:sdb1:%s)", ErrNotFound, l.Label, l.Label, l.Path)
	case len(out) > 1 && l.Kind == KindHD:
		return nil, fmt.Errorf("%w: %d volumes are labelled %q (%s); relabel one, or name the device (hd:DEVICE:%s)", ErrFetch, len(out), l.Label, volNames(out), l.Path)
	}
	return out, nil
}

func volNames(vs []Volume) string {
	var n []string
	for _, v := range vs {
		n = append(n, v.Name)
	}
	return strings.Join(n, ", ")
}

// devices lists the disks once per discovery. Disks with neither a table
// nor a known filesystem are probed again for ISO 9660: the inventory
// skips optical drives' 2048-byte sectors.
func (d *discoverer) devices() ([]partition.Disk, error) {
	if d.scanned {
		return d.disks, nil
	}
	d.scanned = true
	list := d.o.Devices
	if list == nil {
		list = func() ([]partition.Disk, error) { return partition.Scan(partition.ScanOptions{}) }
	}
	disks, err := list()
	if err != nil {
		return nil, fmt.Errorf("list the disks: %w", err)
	}
	for i := range disks {
		dk := &disks[i]
		if dk.Table == "" && dk.Filesystem == "" && len(dk.Partitions) == 0 && dk.SizeBytes > 0 {
			if fs, label, err := probeDevice(dk.Path); err == nil {
				dk.Filesystem, dk.Label = fs, label
			}
		}
	}
	// The boot medium first: it is the ISO that carries our own file.
	sort.SliceStable(disks, func(i, j int) bool { return disks[i].BootMedium() && !disks[j].BootMedium() })
	d.disks = disks
	return disks, nil
}

// embedded looks for /uai/answers.toml on the live medium: the mounted
// one first, then any ISO 9660 volume (the boot medium first).
func (d *discoverer) embedded() (Found, bool, error) {
	p := filepath.Join(d.o.LiveMedium, EmbeddedPath)
	in, err := answers.ReadInput(p)
	switch {
	case err == nil && len(bytes.TrimSpace(in.Data)) == 0:
		// A uai ISO always has the file; it is empty until `uai iso embed`.
		d.o.Log(fmt.Sprintf("answers: %s on the live medium is empty: nothing embedded", p))
		return Found{}, false, nil
	case err == nil:
		d.o.Log(fmt.Sprintf("answers: found %s on the live medium", p))
		return Found{Source: "live medium", Inputs: []answers.Input{in}}, true, nil
	case !errors.Is(err, os.ErrNotExist):
		return Found{}, false, fmt.Errorf("%w: %w", ErrFetch, err)
	}
	disks, err := d.devices()
	if err != nil {
		d.o.Log(fmt.Sprintf("answers: no %s on the live medium (%s), and the disks cannot be listed: %v", EmbeddedPath, d.o.LiveMedium, err))
		return Found{}, false, nil
	}
	for _, disk := range disks {
		for _, v := range Volumes(disk) {
			if v.Filesystem != "iso9660" {
				continue
			}
			data, err := v.ReadFile(EmbeddedPath)
			if errors.Is(err, errNoFile) {
				continue
			}
			if err != nil {
				d.o.Log(fmt.Sprintf("answers: cannot read %s: %v", v, err))
				continue
			}
			if len(bytes.TrimSpace(data)) == 0 {
				d.o.Log(fmt.Sprintf("answers: %s in the ISO 9660 volume %s is empty: nothing embedded", EmbeddedPath, v))
				continue
			}
			name := v.Name + ":" + EmbeddedPath
			d.o.Log(fmt.Sprintf("answers: found %s in the ISO 9660 volume %s", EmbeddedPath, v))
			return Found{Source: "live medium", Inputs: []answers.Input{{Name: name, Data: data}}}, true, nil
		}
	}
	d.o.Log(fmt.Sprintf("answers: no %s on the live medium (%s) or any ISO 9660 volume", EmbeddedPath, d.o.LiveMedium))
	return Found{}, false, nil
}

// labelled looks for a UAI-ANSWERS volume, then an OEMDRV one.
func (d *discoverer) labelled() (Found, error) {
	disks, err := d.devices()
	if err != nil {
		d.o.Log(fmt.Sprintf("answers: no labelled volume: %v", err))
		return Found{}, nil
	}
	for _, want := range []struct {
		label, file string
		kickstart   bool
	}{{VolumeLabel, VolumeFile, false}, {OEMDRVLabel, OEMDRVFile, true}} {
		var vols []Volume
		for _, disk := range disks {
			for _, v := range Volumes(disk) {
				if v.Label == want.label {
					vols = append(vols, v)
				}
			}
		}
		switch len(vols) {
		case 0:
			d.o.Log(fmt.Sprintf("answers: no volume labelled %s", want.label))
			continue
		case 1:
		default:
			return Found{}, fmt.Errorf("%w: %d volumes are labelled %s (%s); remove or relabel all but one", ErrFetch, len(vols), want.label, volNames(vols))
		}
		v := vols[0]
		data, err := v.ReadFile(want.file)
		if err != nil {
			if errors.Is(err, errNoFile) {
				return Found{}, fmt.Errorf("%w: the volume %s has no %s; put the file at its top level", ErrNotFound, v, want.file)
			}
			return Found{}, fmt.Errorf("%w: %w", ErrFetch, err)
		}
		d.o.Log(fmt.Sprintf("answers: found %s on %s", want.file, v))
		return Found{Source: "volume " + want.label, Inputs: []answers.Input{{Name: v.Name + ":" + want.file, Data: data, Kickstart: want.kickstart}}}, nil
	}
	d.o.Log("answers: none found")
	return Found{}, nil
}

func checkSum(data []byte, want string) error {
	if want == "" {
		return nil
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != want {
		return fmt.Errorf("%w: the file's sha256 is %s, the kernel argument expects %s; the file changed or the checksum is wrong", ErrChecksum, got, want)
	}
	return nil
}

// fetch GETs an http(s) location, retrying what may pass (no route yet,
// a server error) until the fetch timeout, and never what will not (404).
func (d *discoverer) fetch(ctx context.Context, l Location) ([]byte, error) {
	client := d.o.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	ctx, cancel := context.WithTimeout(ctx, d.o.FetchTimeout)
	defer cancel()
	wait := 500 * time.Millisecond
	var last error
	for attempt := 1; ; attempt++ {
		data, retry, err := get(ctx, client, l.URL)
		if err == nil {
			return data, nil
		}
		last = err
		if !retry {
			return nil, fmt.Errorf("%w: %w", ErrFetch, err)
		}
		d.o.Log(fmt.Sprintf("answers: fetch %s failed (attempt %d): %v; retrying", l, attempt, err))
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: gave up after %s: %w", ErrFetch, d.o.FetchTimeout, last)
		case <-time.After(wait):
		}
		wait = min(wait*2, 5*time.Second)
	}
}

func get(ctx context.Context, client *http.Client, url string) (data []byte, retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, false, err
	}
	req.Header.Set("User-Agent", "uai")
	resp, err := client.Do(req)
	if err != nil {
		// The URL (with any token) stays out of the message.
		var ue interface{ Unwrap() error }
		if errors.As(err, &ue) && ue.Unwrap() != nil {
			err = ue.Unwrap()
		}
		return nil, ctx.Err() == nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		retry := resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests
		return nil, retry, fmt.Errorf("the server answered %s", resp.Status)
	}
	data, err = io.ReadAll(io.LimitReader(resp.Body, answers.MaxSizeBytes+1))
	if err != nil {
		return nil, true, err
	}
	if len(data) > answers.MaxSizeBytes {
		return nil, false, fmt.Errorf("the answer file is larger than %d bytes", answers.MaxSizeBytes)
	}
	return data, false, nil
}
