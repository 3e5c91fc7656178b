package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

// kv and obj keep field order, because bootc emits YAML in struct order
// and JSON in canonical (sorted) order.
type kv struct {
	k string
	v any
}

type obj []kv

// canonJSON renders canonical JSON: sorted keys, no whitespace, no
// trailing newline (canon_json's writer, which bootc uses).
func canonJSON(v any) string {
	var b strings.Builder
	writeJSON(&b, v)
	return b.String()
}

func writeJSON(b *strings.Builder, v any) {
	switch t := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(t))
	case int:
		b.WriteString(strconv.Itoa(t))
	case uint64:
		b.WriteString(strconv.FormatUint(t, 10))
	case string:
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(t)
		b.WriteString(strings.TrimSuffix(buf.String(), "\n"))
	case []string:
		b.WriteByte('[')
		for i, s := range t {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSON(b, s)
		}
		b.WriteByte(']')
	case []any:
		b.WriteByte('[')
		for i, s := range t {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSON(b, s)
		}
		b.WriteByte(']')
	case obj:
		sorted := append(obj(nil), t...)
		sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].k < sorted[j].k })
		b.WriteByte('{')
		for i, f := range sorted {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSON(b, f.k)
			b.WriteByte(':')
			writeJSON(b, f.v)
		}
		b.WriteByte('}')
	default:
		panic(fmt.Sprintf("sim: cannot render %T as JSON", v))
	}
}

// yamlOf renders YAML the way serde_yaml lays out bootc's structs.
func yamlOf(v any) string {
	var b strings.Builder
	writeYAML(&b, v, 0)
	return b.String()
}

func writeYAML(b *strings.Builder, v any, indent int) {
	pad := strings.Repeat("  ", indent)
	o, ok := v.(obj)
	if !ok {
		b.WriteString(pad + yamlScalar(v) + "\n")
		return
	}
	for _, f := range o {
		switch t := f.v.(type) {
		case obj:
			if len(t) == 0 {
				b.WriteString(pad + f.k + ": {}\n")
				continue
			}
			b.WriteString(pad + f.k + ":\n")
			writeYAML(b, t, indent+1)
		case []any:
			if len(t) == 0 {
				b.WriteString(pad + f.k + ": []\n")
				continue
			}
			b.WriteString(pad + f.k + ":\n")
			for _, item := range t {
				var sub strings.Builder
				writeYAML(&sub, item, indent+1)
				s := sub.String()
				b.WriteString(pad + "- " + strings.TrimPrefix(s, pad+"  "))
			}
		default:
			b.WriteString(pad + f.k + ": " + yamlScalar(f.v) + "\n")
		}
	}
}

func yamlScalar(v any) string {
	switch t := v.(type) {
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(t)
	case int:
		return strconv.Itoa(t)
	case string:
		if t == "" || t == "null" || t == "true" || t == "false" || t == "~" ||
			strings.ContainsAny(t[:1], "-?:,[]{}#&*!|>'\"%@` ") || strings.Contains(t, ": ") || strings.Contains(t, " #") {
			return "'" + strings.ReplaceAll(t, "'", "''") + "'"
		}
		if _, err := strconv.ParseFloat(t, 64); err == nil {
			return "'" + t + "'"
		}
		return t
	}
	return fmt.Sprint(v)
}

// The simulated booted host, persisted in Env.StateDir/host.json. Its JSON
// is the simulator's own, not bootc's; status renders bootc's.

// hostImage is an image reference of the host spec.
type hostImage struct {
	Image     string `json:"image"`
	Transport string `json:"transport"`
	// Signature is "", "containerPolicy", "insecure" or "ostreeRemote:NAME".
	Signature string `json:"signature,omitempty"`
}

// hostEntry is one deployment (booted, staged or rollback).
type hostEntry struct {
	Image        hostImage `json:"image"`
	Version      string    `json:"version,omitempty"`
	Timestamp    time.Time `json:"timestamp"`
	ImageDigest  string    `json:"imageDigest"`
	Architecture string    `json:"architecture"`
	Stateroot    string    `json:"stateroot"`
	Checksum     string    `json:"checksum"`
	DeploySerial int       `json:"deploySerial"`
}

// hostState is the simulated booted system.
type hostState struct {
	Spec     *hostImage `json:"spec"`
	Booted   *hostEntry `json:"booted"`
	Staged   *hostEntry `json:"staged,omitempty"`
	Rollback *hostEntry `json:"rollback,omitempty"`
}

const hostStateFile = "host.json"

// SeedBootedHost writes a state in which image (a registry name) is booted,
// so status and switch behave as on an installed bootc system.
func SeedBootedHost(stateDir, image string) error {
	img := hostImage{Image: image, Transport: "registry"}
	e := newEntry(img, "default", 0)
	return saveHost(stateDir, &hostState{Spec: &img, Booted: &e})
}

func newEntry(img hostImage, stateroot string, serial int) hostEntry {
	return hostEntry{
		Image: img, Version: imageTag(img.Image), Timestamp: imageCreated(img.Image),
		ImageDigest: ImageDigest(img.Image), Architecture: ociArch(),
		Stateroot: stateroot, Checksum: CommitChecksum(img.Image), DeploySerial: serial,
	}
}

// ociArch is the OCI architecture name, which for Linux matches GOARCH
// (amd64, arm64, ppc64le, s390x), not uname -m.
func ociArch() string { return runtime.GOARCH }

// loadHost returns nil when the host is not booted via bootc.
func loadHost(stateDir string) (*hostState, error) {
	if stateDir == "" {
		return nil, nil
	}
	data, err := os.ReadFile(filepath.Join(stateDir, hostStateFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var h hostState
	if err := json.Unmarshal(data, &h); err != nil {
		return nil, fmt.Errorf("simulator state %s: %v", filepath.Join(stateDir, hostStateFile), err)
	}
	if h.Booted == nil {
		return nil, nil
	}
	return &h, nil
}

func saveHost(stateDir string, h *hostState) error {
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(h, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(stateDir, hostStateFile), append(data, '\n'), 0o644)
}

func imageRefObj(i hostImage) obj {
	o := obj{{"image", i.Image}, {"transport", i.Transport}}
	switch {
	case i.Signature == "":
	case strings.HasPrefix(i.Signature, "ostreeRemote:"):
		o = append(o, kv{"signature", obj{{"ostreeRemote", strings.TrimPrefix(i.Signature, "ostreeRemote:")}}})
	default:
		o = append(o, kv{"signature", i.Signature})
	}
	return o
}

// hostObj renders bootc's Host (spec.rs) with the fields release ver
// emits, in struct order.
func (r *run) hostObj(h *hostState, bootedOnly bool) obj {
	var spec any
	var staged, booted, rollback any
	hostType := any(nil)
	if h != nil {
		if h.Spec != nil {
			spec = imageRefObj(*h.Spec)
		}
		booted = r.entryObj(h.Booted)
		if !bootedOnly {
			staged, rollback = r.entryObj(h.Staged), r.entryObj(h.Rollback)
		}
		hostType = "bootcHost"
	}
	status := obj{{"staged", staged}, {"booted", booted}, {"rollback", rollback}, {"rollbackQueued", false}, {"type", hostType}}
	if r.ver.atLeast(v(1, 14, 0)) {
		status = append(status, kv{"usrOverlay", nil})
	}
	if r.ver.atLeast(v(1, 16, 7)) {
		status = append(status, kv{"readOnly", false})
	}
	return obj{
		{"apiVersion", "org.containers.bootc/v1"},
		{"kind", "BootcHost"},
		{"metadata", obj{{"name", "host"}}},
		{"spec", obj{{"image", spec}, {"bootOrder", "default"}}},
		{"status", status},
	}
}

func (r *run) entryObj(e *hostEntry) any {
	if e == nil {
		return nil
	}
	var version any
	if e.Version != "" {
		version = e.Version
	}
	img := obj{
		{"image", imageRefObj(e.Image)},
		{"version", version},
		{"timestamp", e.Timestamp.UTC().Format(time.RFC3339)},
		{"imageDigest", e.ImageDigest},
		{"architecture", e.Architecture},
	}
	o := obj{{"image", img}, {"cachedUpdate", nil}, {"incompatible", false}, {"pinned", false}}
	if r.ver.atLeast(v(1, 7, 0)) {
		o = append(o, kv{"softRebootCapable", false})
	}
	if r.ver.atLeast(v(1, 12, 0)) {
		o = append(o, kv{"downloadOnly", false})
	}
	o = append(o, kv{"store", "ostreeContainer"},
		kv{"ostree", obj{{"stateroot", e.Stateroot}, {"checksum", e.Checksum}, {"deploySerial", e.DeploySerial}}})
	if r.ver.atLeast(v(1, 9, 0)) {
		o = append(o, kv{"composefs", nil})
	}
	return o
}

// statusCmd is `bootc status`.
func statusCmd(r *run, m *matches) int {
	fail := func(format string, a ...any) int {
		fmt.Fprintf(r.env.Stderr, "error: Status: "+format+"\n", a...)
		return 1
	}
	if fv := m.get("format-version"); fv != "" {
		if n, _ := strconv.Atoi(fv); n > 1 {
			return fail("Unsupported format version: %d", n)
		}
	}
	h, err := loadHost(r.env.StateDir)
	if err != nil {
		return fail("%v", err)
	}
	if h != nil && r.env.InContainer {
		// Inside a container bootc never sees the host's deployments.
		h = nil
	}
	host := r.hostObj(h, m.has("booted"))
	format := m.get("format")
	if format == "" {
		// Stdout is not a terminal here, so bootc defaults to YAML.
		format = "yaml"
		if m.has("json") {
			format = "json"
		}
	}
	switch format {
	case "json":
		fmt.Fprint(r.env.Stdout, canonJSON(host))
	case "yaml":
		fmt.Fprint(r.env.Stdout, yamlOf(host))
	default:
		fmt.Fprint(r.env.Stdout, humanStatus(h, m.has("booted"), m.has("verbose")))
	}
	return 0
}

func humanStatus(h *hostState, bootedOnly, verbose bool) string {
	if h == nil {
		return "System is not deployed via bootc.\n"
	}
	var b strings.Builder
	slots := []struct {
		prefix string
		e      *hostEntry
	}{{"  Staged image", h.Staged}, {"● Booted image", h.Booted}, {"  Rollback image", h.Rollback}}
	first := true
	for _, s := range slots {
		if s.e == nil || (bootedOnly && s.prefix != "● Booted image") {
			continue
		}
		if !first {
			b.WriteString("\n")
		}
		first = false
		ref := s.e.Image.Image
		if s.e.Image.Transport != "registry" {
			ref = s.e.Image.Transport + ":" + ref
		}
		width := len([]rune(s.prefix))
		row := func(name, val string) {
			fmt.Fprintf(&b, "%*s: %s\n", width, name, val)
		}
		fmt.Fprintf(&b, "%s: %s\n", s.prefix, ref)
		row("Digest", fmt.Sprintf("%s (%s)", s.e.ImageDigest, s.e.Architecture))
		ts := s.e.Timestamp.UTC().Format("2006-01-02T15:04:05Z")
		if s.e.Version != "" {
			row("Version", fmt.Sprintf("%s (%s)", s.e.Version, ts))
		} else {
			row("Timestamp", ts)
		}
		if verbose {
			row("StateRoot", s.e.Stateroot)
			row("Deploy serial", strconv.Itoa(s.e.DeploySerial))
			row("Commit", s.e.Checksum)
		}
	}
	return b.String()
}
