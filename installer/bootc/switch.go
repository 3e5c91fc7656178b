package bootc

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/universal-atomic-installer/uai/installer/host"
)

// SwitchOptions are the `bootc switch` flags uai uses (bootc.md §2).
type SwitchOptions struct {
	// Image is the target without a transport prefix; for the registry
	// transport it must pass ValidateImageRef.
	Image string
	// Transport is empty or "registry" for a registry image.
	Transport string
	// EnforceSigPolicy records `signature: containerPolicy`; the pull then
	// fails unless the containers policy verifies the image.
	EnforceSigPolicy bool
	// Retain keeps a reference to the booted image (otherwise the old
	// ostree ref of an rpm-ostree origin is pruned).
	Retain bool
	// Apply reboots into the new image once staged. bootc then never
	// returns (it waits for the shutdown), so uai reboots itself instead.
	Apply bool
	// Quiet turns off bootc's progress bars.
	Quiet bool
	// ProgressFD, when non-zero, is the child's fd (>= 3, a pipe) for the
	// hidden --progress-fd JSON Lines (bootc 1.1.4 and newer).
	ProgressFD int
}

// SwitchArgs builds `bootc switch [OPTIONS] TARGET`.
func SwitchArgs(o SwitchOptions) ([]string, error) {
	switch {
	case o.Image == "":
		return nil, errors.New("bootc switch: no target image; name the image to switch to")
	case strings.HasPrefix(o.Image, "-"):
		return nil, fmt.Errorf("bootc switch: target %q starts with '-', which bootc would read as a flag; give an image name", o.Image)
	case o.ProgressFD != 0 && o.ProgressFD < 3:
		// bootc refuses these itself ("Cannot use fd N for progress JSON").
		return nil, fmt.Errorf("bootc switch: --progress-fd %d is stdin, stdout or stderr; use a pipe on fd 3 or above", o.ProgressFD)
	}
	transport := o.Transport
	if transport == TransportRegistry {
		transport = ""
	}
	if transport == "" {
		if err := ValidateImageRef(o.Image); err != nil {
			return nil, fmt.Errorf("bootc switch: %w", err)
		}
	} else if !isTransport(transport) {
		return nil, fmt.Errorf("bootc switch: transport %q is not one bootc knows; use one of %s", transport, strings.Join(transports, ", "))
	}
	args := []string{"switch"}
	if transport != "" {
		args = append(args, "--transport", transport)
	}
	if o.EnforceSigPolicy {
		args = append(args, "--enforce-container-sigpolicy")
	}
	if o.Retain {
		args = append(args, "--retain")
	}
	if o.Quiet {
		args = append(args, "--quiet")
	}
	if o.Apply {
		args = append(args, "--apply")
	}
	if o.ProgressFD != 0 {
		args = append(args, "--progress-fd", strconv.Itoa(o.ProgressFD))
	}
	return append(args, o.Image), nil
}

func isTransport(t string) bool {
	for _, k := range transports {
		if k == t {
			return true
		}
	}
	return false
}

// SwitchCommand is SwitchArgs as a host command.
func SwitchCommand(o SwitchOptions) (host.Command, error) {
	args, err := SwitchArgs(o)
	if err != nil {
		return host.Command{}, err
	}
	return host.Command{Tool: host.Bootc, Args: args}, nil
}

// NoProgressFD reports whether a failed `bootc switch --progress-fd` was
// refused because this bootc predates the flag (clap's usage error, exit
// status 2), so the caller can run it again without.
func NoProgressFD(err error) bool {
	var ee *host.ExitError
	return errors.As(err, &ee) && ee.Code == 2 && strings.Contains(ee.Stderr, "unexpected argument '--progress-fd'")
}

// Progress event types of bootc's JSON Lines protocol (progress_jsonl.rs,
// docs/src/progress-v0.schema.json).
const (
	ProgressStart = "Start"
	ProgressBytes = "ProgressBytes"
	ProgressSteps = "ProgressSteps"
)

// Task names bootc sends during switch and upgrade.
const (
	TaskPulling   = "pulling"
	TaskImporting = "importing"
	TaskStaging   = "staging"
)

// Progress is one line of --progress-fd output. Fields unused by its Type
// are zero. "New stages or fields may be added at any time": unknown
// types are passed on, unknown fields ignored.
type Progress struct {
	Type string `json:"type"`
	// Version is the protocol version, on the Start line only.
	Version     string `json:"version,omitempty"`
	Task        string `json:"task,omitempty"`
	Description string `json:"description,omitempty"`
	ID          string `json:"id,omitempty"`
	// Bytes so far of BytesTotal to fetch this time (0: unknown);
	// BytesCached were already present locally (ProgressBytes).
	Bytes       uint64 `json:"bytes,omitempty"`
	BytesTotal  uint64 `json:"bytesTotal,omitempty"`
	BytesCached uint64 `json:"bytesCached,omitempty"`
	// Steps so far of StepsTotal (layers while pulling, stages while
	// staging); StepsCached were already present.
	Steps       uint64    `json:"steps,omitempty"`
	StepsTotal  uint64    `json:"stepsTotal,omitempty"`
	StepsCached uint64    `json:"stepsCached,omitempty"`
	Subtasks    []Subtask `json:"subtasks,omitempty"`
}

// Subtask is a layer being fetched (ProgressBytes) or a stage of staging
// (ProgressSteps). bootc repeats finished subtasks in every later event.
type Subtask struct {
	// Subtask is "ostree chunk" or "layer" while pulling; "importing",
	// "merging", "deploying", "bound_images" or "cleanup" otherwise.
	Subtask     string `json:"subtask"`
	Description string `json:"description,omitempty"`
	ID          string `json:"id,omitempty"`
	Bytes       uint64 `json:"bytes,omitempty"`
	BytesTotal  uint64 `json:"bytesTotal,omitempty"`
	BytesCached uint64 `json:"bytesCached,omitempty"`
	Completed   bool   `json:"completed,omitempty"`
}

// Done reports a finished subtask: completed, or all its bytes fetched.
func (s Subtask) Done() bool {
	return s.Completed || (s.BytesTotal > 0 && s.Bytes >= s.BytesTotal)
}

// ParseProgress reads one line of --progress-fd output.
func ParseProgress(line []byte) (Progress, error) {
	var p Progress
	if err := json.Unmarshal(line, &p); err != nil {
		return Progress{}, fmt.Errorf("bootc progress line %q is not JSON: %w", shorten(string(line)), err)
	}
	if p.Type == "" {
		return Progress{}, fmt.Errorf("bootc progress line %q has no type", shorten(string(line)))
	}
	return p, nil
}

// ReadProgress calls each for every event read from r until EOF. It keeps
// reading past a bad line, because a reader that stops would fill the pipe
// and make bootc give up its progress ("Failed to write to jsonl"); the
// first bad line is returned at the end.
func ReadProgress(r io.Reader, each func(Progress)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	var first error
	for sc.Scan() {
		line := sc.Bytes()
		if len(strings.TrimSpace(string(line))) == 0 {
			continue
		}
		p, err := ParseProgress(line)
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		each(p)
	}
	if err := sc.Err(); err != nil && first == nil {
		first = fmt.Errorf("read bootc progress: %w", err)
	}
	return first
}

// Lines `bootc switch` prints on stdout (crates/lib/src/deploy.rs,
// cli.rs); uai reads them in every mode, and they are all there is from
// a bootc without --progress-fd.
const (
	// UnchangedLine means the new spec equals the current one: nothing
	// was pulled or staged, and bootc exits 0.
	UnchangedLine     = "Image specification is unchanged."
	layersPrefix      = "layers already present: "
	queuedPrefix      = "Queued for next boot: "
	digestLinePrefix  = "Digest: "
	versionLinePrefix = "Version: "
)

// SwitchOutput collects what `bootc switch` said on stdout.
type SwitchOutput struct {
	// Unchanged is set by UnchangedLine.
	Unchanged bool
	// LayersPresent and LayersNeeded come from "layers already present:
	// N; layers needed: M (SIZE)"; BytesNeeded is SIZE (decimal units,
	// as glib's format_size prints it), 0 when unreadable.
	LayersPresent, LayersNeeded int
	BytesNeeded                 uint64
	SawLayers                   bool
	// Queued is the reference bootc staged ("Queued for next boot: REF").
	Queued string
	// Version and Digest follow the Queued line.
	Version, Digest string
}

// Feed reads one stdout line and reports whether it was recognised.
func (o *SwitchOutput) Feed(line string) bool {
	t := strings.TrimSpace(line)
	switch {
	case t == UnchangedLine:
		o.Unchanged = true
	case strings.HasPrefix(t, layersPrefix):
		// layers already present: 0; layers needed: 3 (559.6 MB)
		rest := strings.TrimPrefix(t, layersPrefix)
		present, needed, ok := strings.Cut(rest, "; layers needed: ")
		if !ok {
			return false
		}
		n, size, _ := strings.Cut(needed, " (")
		o.LayersPresent, _ = strconv.Atoi(present)
		o.LayersNeeded, _ = strconv.Atoi(n)
		o.BytesNeeded = parseDecimalSize(strings.TrimSuffix(size, ")"))
		o.SawLayers = true
	case strings.HasPrefix(t, queuedPrefix):
		o.Queued = strings.TrimPrefix(t, queuedPrefix)
	case strings.HasPrefix(t, digestLinePrefix) && o.Queued != "":
		o.Digest = strings.TrimPrefix(t, digestLinePrefix)
	case strings.HasPrefix(t, versionLinePrefix) && o.Queued != "":
		o.Version = strings.TrimPrefix(t, versionLinePrefix)
	default:
		return false
	}
	return true
}

// parseDecimalSize reads glib's format_size output ("559.6 MB", "12 bytes").
func parseDecimalSize(s string) uint64 {
	num, unit, ok := strings.Cut(strings.TrimSpace(s), " ")
	if !ok {
		return 0
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f < 0 {
		return 0
	}
	mult := map[string]float64{"byte": 1, "bytes": 1, "B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12, "PB": 1e15}[unit]
	return uint64(f * mult)
}
