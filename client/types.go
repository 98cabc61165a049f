package client

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// Envelope is the API's answer: {"status":"success","data":...} or
// {"status":"error","error":{...}}.
type Envelope struct {
	Status string          `json:"status"`
	Data   json.RawMessage `json:"data"`
	Error  *Error          `json:"error"`
}

// Error is an error answer.
type Error struct {
	Status  int          `json:"-"` // the HTTP status
	Code    string       `json:"code"`
	Message string       `json:"message"`
	Fields  []FieldError `json:"fields,omitempty"`
	RunID   string       `json:"run_id,omitempty"`
}

// FieldError names one field at fault.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e *Error) Error() string {
	if e.Message != "" {
		return e.Message
	}
	return fmt.Sprintf("HTTP %d %s", e.Status, http.StatusText(e.Status))
}

// Run is a run as GET /v1/runs/{id} shows it.
type Run struct {
	ID             string          `json:"id"`
	Object         string          `json:"object"`
	Kind           string          `json:"kind"`
	ActionID       string          `json:"action_id,omitempty"`
	Action         string          `json:"action,omitempty"`
	PluginID       string          `json:"plugin_id,omitempty"`
	ThreadID       string          `json:"thread_id,omitempty"`
	ParentRunID    string          `json:"parent_run_id,omitempty"`
	Status         string          `json:"status"`
	Input          json.RawMessage `json:"input,omitempty"`
	Output         json.RawMessage `json:"output,omitempty"`
	Error          *RunError       `json:"error,omitempty"`
	Logs           []LogLine       `json:"logs,omitempty"`
	LogsDropped    int             `json:"logs_dropped,omitempty"`
	Details        json.RawMessage `json:"details,omitempty"`
	CreatedAt      time.Time       `json:"created_at"`
	StartedAt      *time.Time      `json:"started_at,omitempty"`
	FinishedAt     *time.Time      `json:"finished_at,omitempty"`
	DurationMS     float64         `json:"duration_ms,omitempty"`
	KeyName        string          `json:"key_name,omitempty"`
	Source         string          `json:"source,omitempty"`
	IdempotencyKey string          `json:"idempotency_key,omitempty"`
}

// RunError is why a run did not succeed.
type RunError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// LogLine is a line a plugin logged during a run.
type LogLine struct {
	At      time.Time       `json:"at"`
	Level   string          `json:"level"`
	Message string          `json:"message"`
	Fields  json.RawMessage `json:"fields,omitempty"`
}

// List is one page of a list.
type List[T any] struct {
	List    []T  `json:"list"`
	HasMore bool `json:"has_more"`
	// Damaged counts the records in the page's range left out because
	// they do not decode, and DamagedIDs names them (absent when none).
	Damaged    int      `json:"damaged,omitempty"`
	DamagedIDs []string `json:"damaged_ids,omitempty"`
}

// Key is an API key as the admin routes show it. Key (the plaintext) is
// set only in the answer that creates it.
type Key struct {
	Name       string   `json:"name"`
	Prefix     string   `json:"prefix"`
	Scopes     []string `json:"scopes"`
	CreatedAt  string   `json:"created_at"`
	LastUsedAt string   `json:"last_used_at,omitempty"`
	Key        string   `json:"key,omitempty"`
}

// NewKey is a key as the admin routes show it, from what the server
// keeps of it.
func NewKey(name, prefix string, scopes []string, createdAt time.Time, lastUsedAt *time.Time) Key {
	k := Key{Name: name, Prefix: prefix, Scopes: scopes, CreatedAt: createdAt.UTC().Format(time.RFC3339)}
	if lastUsedAt != nil {
		k.LastUsedAt = lastUsedAt.UTC().Format(time.RFC3339)
	}
	return k
}

// RunAnswer is a blocking run's answer (Connery's shape).
type RunAnswer struct {
	Output json.RawMessage `json:"output"`
	Used   struct {
		ActionID string          `json:"actionId"`
		Input    json.RawMessage `json:"input"`
	} `json:"used"`
	RunID string `json:"run_id"`
}

// Started is a non-blocking run's answer.
type Started struct {
	RunID  string `json:"run_id"`
	Status string `json:"status"`
}
