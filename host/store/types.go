package store

import (
	"encoding/json"
	"time"
)

// Run states. Terminal states never change again.
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
	ID             string          `json:"id"`   // run_<ULID>
	Kind           string          `json:"kind"` // "action" or "assistant"
	ActionID       string          `json:"action_id,omitempty"`
	ActionKey      string          `json:"action_key,omitempty"` // plugin.actionKey
	PluginID       string          `json:"plugin_id,omitempty"`
	PluginName     string          `json:"plugin_name,omitempty"`
	ThreadID       string          `json:"thread_id,omitempty"`
	ParentRunID    string          `json:"parent_run_id,omitempty"`
	Status         string          `json:"status"`
	Input          json.RawMessage `json:"input,omitempty"` // secrets already redacted
	Output         json.RawMessage `json:"output,omitempty"`
	Error          *RunError       `json:"error,omitempty"`
	Events         []Event         `json:"events,omitempty"` // log/progress/output/state events, capped
	EventsDropped  int             `json:"events_dropped,omitempty"`
	Extra          json.RawMessage `json:"extra,omitempty"` // kind-specific state (assistant runs)
	CreatedAt      time.Time       `json:"created_at"`
	StartedAt      *time.Time      `json:"started_at,omitempty"`
	FinishedAt     *time.Time      `json:"finished_at,omitempty"`
	DurationMS     float64         `json:"duration_ms,omitempty"`
	KeyName        string          `json:"key_name,omitempty"`
	IdempotencyKey string          `json:"idempotency_key,omitempty"`
	// RawValid says the caller has checked that Input, Output and Extra
	// are valid JSON (the host's runner has: it made the input from the
	// checked request and checked the output against the action's schema),
	// so the store copies them without scanning every byte again.
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

// RunFilter selects runs. Zero fields match everything.
type RunFilter struct {
	ActionID string
	PluginID string
	Status   string
	ThreadID string
	From, To time.Time // created_at range, inclusive From, exclusive To
}

// Page asks for one page of a list. IDs sort by creation time.
type Page struct {
	Limit  int    // 1..100, 0 means 20
	Order  string // "asc" or "desc" (default desc)
	After  string // an id: return items after it in the chosen order
	Before string // an id: return items before it in the chosen order
}

// APIKey is a stored API key. Only its SHA-256 digest is kept.
type APIKey struct {
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"` // first characters, for people to tell keys apart
	Digest     []byte     `json:"digest"`
	Scopes     []string   `json:"scopes,omitempty"` // none: every scope (keys made before scopes)
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

// PluginRecord is an installed plugin.
type PluginRecord struct {
	Name        string            `json:"name"`
	Path        string            `json:"path"`
	SHA256      string            `json:"sha256"`
	Version     string            `json:"version"`
	Manifest    json.RawMessage   `json:"manifest,omitempty"`
	Config      map[string]string `json:"config,omitempty"` // plain in memory; secret values sealed at rest
	SecretKeys  []string          `json:"secret_keys,omitempty"`
	InstalledAt time.Time         `json:"installed_at"`
	UpdatedAt   time.Time         `json:"updated_at"`
}

// IdempotencyRecord remembers the answer to a request made with an
// Idempotency-Key.
type IdempotencyRecord struct {
	Key        string          `json:"key"` // scoped: keyName + "\x00" + Idempotency-Key
	BodyDigest []byte          `json:"body_digest"`
	RunID      string          `json:"run_id"`
	Status     int             `json:"status"` // HTTP status; 0 while in flight
	Response   json.RawMessage `json:"response,omitempty"`
	CreatedAt  time.Time       `json:"created_at"`
}

// Thread is a conversation.
type Thread struct {
	ID        string            `json:"id"` // thread_<ULID>
	CreatedAt time.Time         `json:"created_at"`
	Metadata  map[string]string `json:"metadata"`
}

// Message is one message on a thread.
type Message struct {
	ID         string            `json:"id"` // msg_<ULID>
	ThreadID   string            `json:"thread_id"`
	Role       string            `json:"role"` // user, assistant, tool
	Content    string            `json:"content"`
	ToolCalls  json.RawMessage   `json:"tool_calls,omitempty"`
	ToolCallID string            `json:"tool_call_id,omitempty"`
	RunID      string            `json:"run_id,omitempty"`
	Metadata   map[string]string `json:"metadata,omitempty"`
	CreatedAt  time.Time         `json:"created_at"`
}
