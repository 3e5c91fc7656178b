package installer

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/universal-atomic-installer/uai/partition"
)

// ReceiptVersion is the version of receipt.json.
const ReceiptVersion = 1

// Paths on the installed system (inside its /var).
const (
	ReceiptPath = "/var/lib/uai/receipt.json"
	LogDir      = "/var/log/uai"
	LogName     = "install.jsonl"
)

// StepTiming is how long one step took.
type StepTiming struct {
	Step StepID `json:"step"`
	MS   int64  `json:"ms"`
	OK   bool   `json:"ok"`
}

// Receipt is the record uai leaves on the installed system: what was
// installed, from where, onto which disk, how, and how long it took. It
// holds no secret: the configuration records only that passwords were set.
type Receipt struct {
	Version    int         `json:"version"`
	UAIVersion string      `json:"uai_version"`
	Edition    PlanEdition `json:"edition"`
	TargetRef  string      `json:"target_ref"`
	// ImageDigest is the digest bootc installed, from the deployment's
	// .bootc-aleph.json.
	ImageDigest string `json:"image_digest,omitempty"`
	// Signature says how the image was verified; "not verified" until the
	// catalog's signature policy is checked before install.
	Signature  string           `json:"signature"`
	Disk       PlanDisk         `json:"disk"`
	Method     string           `json:"method"`
	Runner     string           `json:"runner"`
	Filesystem string           `json:"filesystem"`
	Layout     partition.Layout `json:"layout"`
	// Command is the handoff as run: the plan's, adapted to the image's
	// bootc by the probe.
	Command []string `json:"command"`
	// ImageRootFS and ImageBlockSetups are the image's install config
	// defaults, as its bootc printed them in preflight.
	ImageRootFS      string       `json:"image_root_fs,omitempty"`
	ImageBlockSetups []string     `json:"image_block_setups,omitempty"`
	Configure        *PlanConfig  `json:"configure,omitempty"`
	PlanSHA256       string       `json:"plan_sha256"`
	AnswersSHA256    string       `json:"answers_sha256,omitempty"`
	Stateroot        string       `json:"stateroot"`
	Deployment       string       `json:"deployment"`
	Simulated        bool         `json:"simulated,omitempty"`
	Steps            []StepTiming `json:"steps"`
	Started          string       `json:"started"`
}

// alephDigest reads the digest bootc recorded at the root of the
// physical root; an absent or unreadable aleph leaves it empty (older
// bootc wrote none).
func alephDigest(targetDir string) string {
	b, err := os.ReadFile(filepath.Join(targetDir, ".bootc-aleph.json"))
	if err != nil {
		return ""
	}
	var a struct {
		Digest string `json:"digest"`
	}
	if json.Unmarshal(b, &a) != nil {
		return ""
	}
	return a.Digest
}

func (r *run) receipt() Receipt {
	p := r.p
	rc := Receipt{
		Version: ReceiptVersion, UAIVersion: r.e.Version, Edition: p.Edition, TargetRef: p.TargetRef,
		ImageDigest: alephDigest(p.TargetDir), Signature: "not verified", Disk: p.Disk, Method: p.Method,
		Runner: p.Runner, Filesystem: p.Filesystem, Layout: p.Layout, Command: r.command, Configure: p.Configure,
		PlanSHA256: p.SHA256(), AnswersSHA256: r.e.AnswersSHA256, Simulated: p.Simulated,
		Steps: r.timings, Started: r.start.UTC().Format("2006-01-02T15:04:05Z"),
	}
	if r.probed != nil {
		rc.ImageRootFS, rc.ImageBlockSetups = r.probed.RootFSType, r.probed.Block
	}
	if r.dep != nil {
		rc.Stateroot, rc.Deployment = r.dep.Stateroot, filepath.Base(r.dep.Dir)
	}
	if rc.UAIVersion == "" {
		rc.UAIVersion = "unknown"
	}
	return rc
}

// writeReceipt writes the receipt and this run's events so far into the
// stateroot's /var, which the installed system mounts as /var.
func (r *run) writeReceipt() error {
	if r.dep == nil {
		return fmt.Errorf("write the receipt: the new deployment was not found; check the configure step")
	}
	varDir := filepath.Join(r.p.TargetDir, "ostree", "deploy", r.dep.Stateroot, "var")
	rc := r.receipt()
	if rc.ImageDigest != "" {
		r.digest = rc.ImageDigest
	}
	b, err := json.MarshalIndent(rc, "", "  ")
	if err != nil {
		return fmt.Errorf("encode the receipt: %w", err)
	}
	path := filepath.Join(varDir, ReceiptPath[len("/var/"):])
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("make %s: %w", filepath.Dir(path), err)
	}
	// The receipt names the disk and the image: readable by root only.
	if err := writeAtomic(path, append(b, '\n'), 0o600); err != nil {
		return err
	}
	logDir := filepath.Join(varDir, LogDir[len("/var/"):])
	if err := os.MkdirAll(logDir, 0o700); err != nil {
		return fmt.Errorf("make %s: %w", logDir, err)
	}
	if err := writeAtomic(filepath.Join(logDir, LogName), r.eventLog.Bytes(), 0o600); err != nil {
		return err
	}
	r.log(StepReceipt, "info", "receipt: "+ReceiptPath+", log: "+LogDir+"/"+LogName)
	return nil
}
