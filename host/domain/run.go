package domain

import (
	"encoding/json"
	"time"
)

// Run states. Terminal states never change again (see CheckTransition).
const (
	StatusQueued         = "queued"
	StatusRunning        = "running"
	StatusRequiresAction = "requires_action"
	StatusSucceeded      = "succeeded"
	StatusFailed         = "failed"
	StatusCancelled      = "cancelled"
	StatusTimedOut       = "timed_out"
	StatusExpired        = "expired"
)

// Run is one execution of an action, or of an assistant on a thread.
type Run struct {
	ID          string `json:"id"`   // run_<ULID>
	Kind        string `json:"kind"` // "action" or "assistant"
	ActionID    string `json:"action_id,omitempty"`
	ActionKey   string `json:"action_key,omitempty"` // plugin.actionKey
	PluginID    string `json:"plugin_id,omitempty"`
	PluginName  string `json:"plugin_name,omitempty"`
	ThreadID    string `json:"thread_id,omitempty"`
	ParentRunID string `json:"parent_run_id,omitempty"`
	Status      string `json:"status"`
	// KeyID is the identity of the key that asked for the run (its owner).
	// It follows Status so a store reads a run's index fields first.
	KeyID         string          `json:"key_id,omitempty"`
	Input         json.RawMessage `json:"input,omitempty"` // secrets already redacted
	Output        json.RawMessage `json:"output,omitempty"`
	Error         *RunError       `json:"error,omitempty"`
	Events        []Event         `json:"events,omitempty"` // log/progress/output/state events, capped
	EventsDropped int             `json:"events_dropped,omitempty"`
	Extra         json.RawMessage `json:"extra,omitempty"` // kind-specific state (assistant runs)
	CreatedAt     time.Time       `json:"created_at"`
	StartedAt     *time.Time      `json:"started_at,omitempty"`
	FinishedAt    *time.Time      `json:"finished_at,omitempty"`
	DurationMS    float64         `json:"duration_ms,omitempty"`
	KeyName       string          `json:"key_name,omitempty"`
	// Source is the door the run came in by: "http", "mcp", "assistant"...
	Source         string `json:"source,omitempty"`
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	// RawValid says the caller has checked that Input, Output and Extra
	// are valid JSON (the core has: it made the input from the checked
	// request and checked the output against the action's schema), so a
	// store copies them without scanning every byte again.
	RawValid bool `json:"-"`
}

// RunError is why a run did not succeed.
type RunError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Event is one step of a run, in order; Seq starts at 1 and has no gaps.
type Event struct {
	Seq  int             `json:"seq"`
	Type string          `json:"type"` // run.created, run.running, run.log, run.progress, run.output, run.succeeded, ...
	Data json.RawMessage `json:"data,omitempty"`
	At   time.Time       `json:"at"`
}

// InterruptedError is the error recorded on a run that was in progress
// when the host running it stopped.
var InterruptedError = RunError{
	Code:    CodeInterrupted,
	Message: "the host stopped while this run was in progress; it was not retried (it may or may not have taken effect)",
}

// RunFilter selects runs. Zero fields match everything.
type RunFilter struct {
	ActionID string
	PluginID string
	Status   string
	ThreadID string
	KeyID    string    // the owner's key identity
	From, To time.Time // created_at range, inclusive From, exclusive To
}
