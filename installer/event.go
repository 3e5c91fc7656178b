package installer

import (
	"sync"
	"time"
)

// EventVersion is the version of the JSON-lines event format.
const EventVersion = 1

// EventType names an event in the JSON-lines stream.
type EventType string

// The event types, in the order a run emits them.
const (
	EventPlan         EventType = "plan"
	EventStepStarted  EventType = "step_started"
	EventStepProgress EventType = "step_progress"
	EventStepLog      EventType = "step_log"
	EventStepFinished EventType = "step_finished"
	EventResult       EventType = "result"
)

// StepID names an engine step; stable, used in events and docs.
type StepID string

// The engine's steps in order.
const (
	StepPreflight StepID = "preflight"
	StepAttach    StepID = "attach"
	StepPartition StepID = "partition"
	StepFormat    StepID = "format"
	StepMount     StepID = "mount"
	StepBootc     StepID = "bootc"
	StepVerify    StepID = "verify"
	StepUnmount   StepID = "unmount"
)

// StepStatus is how a step ended.
type StepStatus string

// Step outcomes.
const (
	StatusOK      StepStatus = "ok"
	StatusFailed  StepStatus = "failed"
	StatusSkipped StepStatus = "skipped"
)

// Event is one line of the event stream. One flat struct keeps the JSON
// easy to consume from any language; fields unused by a type are omitted.
type Event struct {
	V    int       `json:"v"`
	Type EventType `json:"type"`
	Time time.Time `json:"time"`
	Step StepID    `json:"step,omitempty"`
	// Title is the human name of a step (step_started).
	Title string `json:"title,omitempty"`
	// Done and Total measure progress in Unit ("bytes" or "steps").
	Done  int64  `json:"done,omitempty"`
	Total int64  `json:"total,omitempty"`
	Unit  string `json:"unit,omitempty"`
	// Stream and Line carry a log line (step_log).
	Stream string `json:"stream,omitempty"`
	Line   string `json:"line,omitempty"`
	// Status, Reason and Error close a step (step_finished).
	Status StepStatus `json:"status,omitempty"`
	Reason string     `json:"reason,omitempty"`
	Error  string     `json:"error,omitempty"`
	// Simulated marks work done by the built-in bootc simulator.
	Simulated bool `json:"simulated,omitempty"`
	// PlanSHA256 and PlanText describe the plan (plan).
	PlanSHA256 string  `json:"plan_sha256,omitempty"`
	Result     *Result `json:"result,omitempty"`
}

// Result is the final record of a run.
type Result struct {
	ExitCode    int    `json:"exit_code"`
	Class       string `json:"class,omitempty"`
	Error       string `json:"error,omitempty"`
	PlanSHA256  string `json:"plan_sha256,omitempty"`
	Edition     string `json:"edition,omitempty"`
	Image       string `json:"image,omitempty"`
	ImageDigest string `json:"image_digest,omitempty"`
	TargetRef   string `json:"target_ref,omitempty"`
	Disk        string `json:"disk,omitempty"`
	DurationMS  int64  `json:"duration_ms"`
	Simulated   bool   `json:"simulated"`
	// Completed lists the steps that finished ok.
	Completed []StepID `json:"completed,omitempty"`
	// Stopped explains a run that ended early on purpose (e.g. not root).
	Stopped string `json:"stopped,omitempty"`
	// LogPath is the JSON-lines log of this run, when one was written
	// (answer file [reporting] file, or --log); the effective answers lie
	// next to it. The front-end fills it in, not the engine.
	LogPath string `json:"log_path,omitempty"`
}

// SinkOf receives events of type E: the engine's (Event) or a switch's.
// Emit must not block for long: a slow front-end coalesces progress
// itself.
type SinkOf[E any] interface {
	Emit(E)
}

// SinkFuncOf adapts a function to SinkOf.
type SinkFuncOf[E any] func(E)

// Emit implements SinkOf.
func (f SinkFuncOf[E]) Emit(e E) { f(e) }

// CollectorOf keeps every event; for tests and for replaying into a
// report.
type CollectorOf[E any] struct {
	mu     sync.Mutex
	Events []E
}

// Emit implements SinkOf.
func (c *CollectorOf[E]) Emit(e E) {
	c.mu.Lock()
	c.Events = append(c.Events, e)
	c.mu.Unlock()
}

// Snapshot returns a copy of the events so far.
func (c *CollectorOf[E]) Snapshot() []E {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]E(nil), c.Events...)
}

// MultiSinkOf sends each event to every sink in order.
type MultiSinkOf[E any] []SinkOf[E]

// Emit implements SinkOf.
func (m MultiSinkOf[E]) Emit(e E) {
	for _, s := range m {
		s.Emit(e)
	}
}

// Sink receives the engine's events.
type Sink = SinkOf[Event]

// SinkFunc adapts a function to Sink.
type SinkFunc = SinkFuncOf[Event]

// Collector keeps every engine event.
type Collector = CollectorOf[Event]

// MultiSink sends each engine event to every sink in order.
type MultiSink = MultiSinkOf[Event]
