package sim

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"time"
)

var switchStages = []string{"pull", "stage"}

func switchCmd(r *run, m *matches) int {
	if err := r.checkFailKnob(switchStages...); err != nil {
		fmt.Fprintf(r.env.Stderr, "error: %v\n", err)
		return 1
	}
	if err := r.doSwitch(m); err != nil {
		fmt.Fprintf(r.env.Stderr, "error: Switching: %v\n", err)
		return 1
	}
	return 0
}

// switchRef is bootc's imgref_for_switch.
func (r *run) switchRef(m *matches) (imgRef, error) {
	t := m.get("transport")
	if t == "" {
		t = "registry"
	}
	transport, err := parseTransport(t)
	if err != nil {
		return imgRef{}, err
	}
	return imgRef{signed: m.has("enforce-container-sigpolicy"), transport: transport, name: m.pos[0]}, nil
}

func (r *run) doSwitch(m *matches) error {
	if m.has("mutate-in-place") {
		ref, err := r.switchRef(m)
		if err != nil {
			return err
		}
		id, err := mutateInPlace(r.env.Root, ref)
		if err != nil {
			return err
		}
		r.say("Updated %s to pull from %s", id, ref)
		return nil
	}
	// get_storage -> prepare_for_write
	if r.env.InContainer {
		return errors.New("Detected container; this command requires a booted host system.")
	}
	if err := r.requireRoot(false); err != nil {
		return err
	}
	h, err := loadHost(r.env.StateDir)
	if err != nil {
		return err
	}
	if h == nil {
		return errors.New("System not booted via bootc")
	}
	if err := r.switchOstree(m, h); err != nil {
		return fmt.Errorf("Switching (ostree): %w", err)
	}
	return nil
}

func (r *run) switchOstree(m *matches, h *hostState) error {
	ref, err := r.switchRef(m)
	if err != nil {
		return err
	}
	prog, err := r.openProgress(m.get("progress-fd"))
	if err != nil {
		return err
	}
	defer prog.close()

	spec := hostImage{Image: ref.name, Transport: ref.transport}
	if ref.signed {
		spec.Signature = "containerPolicy"
	}
	if h.Spec != nil && *h.Spec == spec {
		r.say("Image specification is unchanged.")
		if m.has("apply") && h.Staged != nil {
			reboot(h)
			return saveHost(r.env.StateDir, h)
		}
		return nil
	}
	if ref.transport == "registry" {
		if _, err := normalizeRef(ref.name); err != nil {
			return fmt.Errorf("Pulling: Creating importer: failed to invoke method OpenImage: Invalid image name %q: %v", ref.name, err)
		}
	}

	digest := ImageDigest(ref.name)
	layers := simLayers(ref.name)
	var total uint64
	for _, l := range layers {
		total += l.size
	}
	r.say("layers already present: 0; layers needed: %d (%s)", len(layers), formatSize(total))
	if err := r.stage("pull", true); err != nil {
		return fmt.Errorf("Pulling: %v", err)
	}
	var done []any
	var read uint64
	for i, l := range layers {
		for _, part := range []uint64{l.size / 3, 2 * l.size / 3} {
			prog.send(bytesEvent(digest, read+part, total, i, len(layers), append(append([]any(nil), done...), l.subtask(part))))
			r.pause()
		}
		done = append(done, l.subtask(l.size))
		read += l.size
		prog.send(bytesEvent(digest, read, total, i+1, len(layers), done))
	}
	// The simulated fetch "takes" one second plus the pauses, so the rate
	// bootc prints is stable.
	el := time.Second + time.Duration(3*len(layers))*r.env.Delay
	r.say("Fetched layers: %s in %s (%s/s)", humanBytes(total), humanDuration(el), humanBytes(uint64(float64(total)/el.Seconds())))
	prog.send(stepsEvent("importing", "Importing Image", digest, 0, 1, []any{stepObj("importing", "Importing Image", "importing", false)}))

	var subtasks []any
	stagingSteps := []struct {
		subtask, description, id string
		steps                    int
	}{
		{"merging", "Merging Image", "fetching", 0},
		{"deploying", "Deploying Image", "deploying", 1},
		{"bound_images", "Pulling Bound Images", "bound_images", 1},
		{"cleanup", "Removing old images", "cleanup", 2},
	}
	for i, s := range stagingSteps {
		if i == 1 {
			if err := r.stage("stage", false); err != nil {
				return fmt.Errorf("Staging: %v", err)
			}
		}
		prog.send(stepsEvent("staging", "Deploying Image", digest, s.steps, 3, append(append([]any(nil), subtasks...), stepObj(s.subtask, s.description, s.id, false))))
		r.pause()
		subtasks = append(subtasks, stepObj(s.subtask, s.description, s.id, true))
	}
	entry := newEntry(spec, h.Booted.Stateroot, h.Booted.DeploySerial+1)
	if ref.transport == "registry" && !ref.signed {
		r.say("Queued for next boot: %s", ref.name)
	} else {
		r.say("Queued for next boot: %s", ref)
	}
	if entry.Version != "" {
		r.say("  Version: %s", entry.Version)
	}
	r.say("  Digest: %s", digest)
	// bootc re-sends the finished cleanup step alongside the completed
	// list, so it appears twice in the last event.
	prog.send(stepsEvent("staging", "Deploying Image", digest, 3, 3, append(append([]any(nil), subtasks...), subtasks[len(subtasks)-1])))

	h.Spec = &spec
	h.Staged = &entry
	if m.has("apply") {
		reboot(h)
	}
	return saveHost(r.env.StateDir, h)
}

// reboot is what --apply leads to: the staged deployment boots and the
// old one becomes the rollback.
func reboot(h *hostState) {
	if h.Staged == nil {
		return
	}
	h.Rollback, h.Booted, h.Staged = h.Booted, h.Staged, nil
}

type simLayer struct {
	kind string // "ostree chunk" or "layer", as bootc names them
	id   string // short digest (21 hex digits)
	size uint64
}

func (l simLayer) subtask(bytes uint64) obj {
	return obj{
		{"subtask", l.kind}, {"description", l.kind + ": " + l.id}, {"id", l.id},
		{"bytesCached", 0}, {"bytes", bytes}, {"bytesTotal", l.size},
	}
}

// simLayers gives an image three layers of stable, realistic sizes.
func simLayers(image string) []simLayer {
	d := []byte(hexSum("layers:" + image))
	mb := uint64(1000 * 1000)
	return []simLayer{
		{"ostree chunk", hexSum(image + ":0")[:21], 300*mb + uint64(d[0])*mb},
		{"ostree chunk", hexSum(image + ":1")[:21], 150*mb + uint64(d[1])*mb},
		{"layer", hexSum(image + ":2")[:21], 5*mb + uint64(d[2])*100*1000},
	}
}

func bytesEvent(digest string, bytes, total uint64, steps, stepsTotal int, subtasks []any) obj {
	return obj{
		{"type", "ProgressBytes"}, {"task", "pulling"}, {"description", "Pulling Image: " + digest}, {"id", digest},
		{"bytesCached", 0}, {"bytes", bytes}, {"bytesTotal", total},
		{"stepsCached", 0}, {"steps", steps}, {"stepsTotal", stepsTotal}, {"subtasks", subtasks},
	}
}

func stepsEvent(task, description, id string, steps, stepsTotal int, subtasks []any) obj {
	return obj{
		{"type", "ProgressSteps"}, {"task", task}, {"description", description}, {"id", id},
		{"stepsCached", 0}, {"steps", steps}, {"stepsTotal", stepsTotal}, {"subtasks", subtasks},
	}
}

func stepObj(subtask, description, id string, completed bool) obj {
	return obj{{"subtask", subtask}, {"description", description}, {"id", id}, {"completed", completed}}
}

// humanBytes is indicatif's HumanBytes (binary units, two decimals).
func humanBytes(n uint64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	units := []string{"KiB", "MiB", "GiB", "TiB"}
	f := float64(n) / 1024
	i := 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	return fmt.Sprintf("%.2f %s", f, units[i])
}

// progress writes bootc's JSON Lines progress; a nil writer sends nothing.
type progress struct {
	r       *run
	w       io.WriteCloser
	started bool
	failed  bool
}

func (r *run) openProgress(fdArg string) (*progress, error) {
	p := &progress{r: r}
	if fdArg == "" {
		return p, nil
	}
	fd, _ := strconv.Atoi(fdArg) // clap already validated it
	w, err := r.env.OpenFD(fd)
	if err != nil {
		return nil, errors.New(ioErr(err))
	}
	p.w = w
	return p, nil
}

func (p *progress) send(o obj) {
	if p.w == nil || p.failed {
		return
	}
	line := canonJSON(o) + "\n"
	if !p.started {
		line = canonJSON(obj{{"type", "Start"}, {"version", "0.1.0"}}) + "\n" + line
		p.started = true
	}
	if _, err := io.WriteString(p.w, line); err != nil {
		// bootc keeps going without progress when the reader goes away.
		fmt.Fprintf(p.r.env.Stderr, "Failed to write to jsonl: %s\n", ioErr(err))
		p.failed = true
	}
}

func (p *progress) close() {
	if p.w != nil {
		_ = p.w.Close()
	}
}

// openPipeFD is tokio's pipe::Sender::from_owned_fd on this process's fd:
// it must be open, a FIFO, and writable.
func openPipeFD(fd int) (io.WriteCloser, error) {
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, err
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFIFO {
		return nil, errors.New("not a pipe")
	}
	flags, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFL, 0)
	if errno != 0 {
		return nil, errno
	}
	if mode := flags & syscall.O_ACCMODE; mode != syscall.O_WRONLY && mode != syscall.O_RDWR {
		return nil, errors.New("not in O_WRONLY or O_RDWR access mode")
	}
	return os.NewFile(uintptr(fd), "progress-fd"), nil
}

// mutateInPlace is bootc's switch_origin_inplace: rewrite the origin of
// the newest deployment under ROOT/sysroot/ostree/deploy/*/deploy.
func mutateInPlace(root string, ref imgRef) (string, error) {
	base := filepath.Join(root, "sysroot", "ostree", "deploy")
	ents, err := os.ReadDir(base)
	if err != nil {
		return "", errors.New(ioErr(err))
	}
	deployDir := ""
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		d := filepath.Join(base, e.Name(), "deploy")
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			deployDir = d
			break
		}
	}
	if deployDir == "" {
		return "", errors.New("Failed to find a deployment")
	}
	dirs, err := os.ReadDir(deployDir)
	if err != nil {
		return "", errors.New(ioErr(err))
	}
	type cand struct {
		name  string
		mtime time.Time
	}
	var cands []cand
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		fi, err := d.Info()
		if err != nil {
			return "", errors.New(ioErr(err))
		}
		cands = append(cands, cand{d.Name(), fi.ModTime()})
	}
	if len(cands) == 0 {
		return "", errors.New("No deployment directory found")
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].mtime.Before(cands[j].mtime) })
	newest := cands[len(cands)-1].name
	origin := "[origin]\ncontainer-image-reference=" + ref.String() + "\n"
	if err := os.WriteFile(filepath.Join(deployDir, newest+".origin"), []byte(origin), 0o644); err != nil {
		return "", fmt.Errorf("Writing origin: %s", ioErr(err))
	}
	return newest, nil
}
