package rebase

import (
	"time"

	"github.com/universal-atomic-installer/uai/installer"
)

// The switch's events share the installer's JSON-lines envelope ({"v":1,
// "type":..., "time":...}), its step_* types and the final result record,
// so one reader handles both streams; docs/switch.md lists the fields.

// Event types only a switch emits.
const (
	// EventHost carries what bootc status says, matched to the catalog.
	EventHost installer.EventType = "host"
	// EventTarget carries the checked plan: target, command, warnings.
	EventTarget installer.EventType = "target"
)

// The steps of a switch, in the order they can run. Pull, import and
// stage follow bootc's own progress tasks (pulling, importing, staging).
const (
	StepStatus installer.StepID = "status"
	StepCheck  installer.StepID = "check"
	StepPull   installer.StepID = "pull"
	StepImport installer.StepID = "import"
	StepStage  installer.StepID = "stage"
	// StepRebase is `rpm-ostree rebase`, instead of pull/import/stage.
	StepRebase installer.StepID = "rebase"
	StepVerify installer.StepID = "verify"
	StepReboot installer.StepID = "reboot"
)

// Event is one line of the switch's event stream: installer.Event's
// fields under the same names, and the switch's own.
type Event struct {
	V     int                 `json:"v"`
	Type  installer.EventType `json:"type"`
	Time  time.Time           `json:"time"`
	Step  installer.StepID    `json:"step,omitempty"`
	Title string              `json:"title,omitempty"`
	// Done and Total measure progress in Unit ("bytes" or "steps").
	Done  int64  `json:"done,omitempty"`
	Total int64  `json:"total,omitempty"`
	Unit  string `json:"unit,omitempty"`
	// Steps and StepsTotal count layers while pulling (Unit "bytes").
	Steps      int64 `json:"steps,omitempty"`
	StepsTotal int64 `json:"steps_total,omitempty"`
	// Subtasks are bootc's layers (pull) or stages (stage), finished ones
	// included, so a reader needs no state.
	Subtasks []Subtask `json:"subtasks,omitempty"`
	// Stream and Line carry a log line: stdout, stderr, cmd or info.
	Stream string `json:"stream,omitempty"`
	Line   string `json:"line,omitempty"`
	// Status, Reason and Error close a step (step_finished).
	Status installer.StepStatus `json:"status,omitempty"`
	Reason string               `json:"reason,omitempty"`
	Error  string               `json:"error,omitempty"`
	// Simulated marks work done by the built-in bootc simulator.
	Simulated bool      `json:"simulated,omitempty"`
	Host      *Overview `json:"host,omitempty"`
	Plan      *Plan     `json:"plan,omitempty"`
	Result    *Result   `json:"result,omitempty"`
}

// Subtask is one layer or stage of a progress event.
type Subtask struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Done        bool   `json:"done"`
	Bytes       int64  `json:"bytes,omitempty"`
	BytesTotal  int64  `json:"bytes_total,omitempty"`
}

// Result is the final record of a switch.
type Result struct {
	ExitCode int    `json:"exit_code"`
	Class    string `json:"class,omitempty"`
	Error    string `json:"error,omitempty"`
	// Edition and Image are the target; ImageDigest what was staged.
	Edition     string `json:"edition,omitempty"`
	Image       string `json:"image,omitempty"`
	ImageDigest string `json:"image_digest,omitempty"`
	// TargetRef is where the system updates from after the switch.
	TargetRef string `json:"target_ref,omitempty"`
	// From and FromEdition are the booted image before the switch.
	From        string `json:"from,omitempty"`
	FromEdition string `json:"from_edition,omitempty"`
	// Method is "bootc" (bootc switch) or "rpm-ostree" (rpm-ostree rebase).
	Method Method `json:"method,omitempty"`
	// Staged is true when a deployment of the target waits for the next
	// boot; Unchanged when bootc found nothing to do.
	Staged    bool `json:"staged"`
	Unchanged bool `json:"unchanged,omitempty"`
	// Rebooting is true when the reboot was asked for (--apply).
	Rebooting  bool  `json:"rebooting,omitempty"`
	DurationMS int64 `json:"duration_ms"`
	Simulated  bool  `json:"simulated"`
	// Completed lists the steps that finished ok.
	Completed []installer.StepID `json:"completed,omitempty"`
	// Warnings are the codes of the plan's warnings.
	Warnings []string `json:"warnings,omitempty"`
	// Stopped explains a run that ended early on purpose (a listing, a
	// plan nobody confirmed).
	Stopped string `json:"stopped,omitempty"`
}

// Sink receives a switch's events; Emit must not block for long.
type Sink = installer.SinkOf[Event]

// SinkFunc adapts a function to Sink.
type SinkFunc = installer.SinkFuncOf[Event]

// Collector keeps every event of a switch; for tests and replays.
type Collector = installer.CollectorOf[Event]
