package assistant

import (
	"encoding/json"
	"time"

	"github.com/toolhost/toolhost/host/domain"
)

// ThreadView is a thread as the Tool API shows it.
type ThreadView struct {
	ID        string            `json:"id"`
	Object    string            `json:"object"`
	CreatedAt int64             `json:"created_at"`
	Metadata  map[string]string `json:"metadata"`
}

// ViewThread returns the API view of t.
func ViewThread(t *domain.Thread) ThreadView {
	md := t.Metadata
	if md == nil {
		md = map[string]string{}
	}
	return ThreadView{ID: t.ID, Object: "thread", CreatedAt: t.CreatedAt.Unix(), Metadata: md}
}

// MessageView is a message as the Tool API shows it.
type MessageView struct {
	ID         string            `json:"id"`
	Object     string            `json:"object"`
	CreatedAt  int64             `json:"created_at"`
	ThreadID   string            `json:"thread_id"`
	Role       string            `json:"role"`
	Content    string            `json:"content"`
	RunID      string            `json:"run_id,omitempty"`
	ToolCalls  json.RawMessage   `json:"tool_calls,omitempty"`
	ToolCallID string            `json:"tool_call_id,omitempty"`
	Metadata   map[string]string `json:"metadata,omitempty"`
}

// ViewMessage returns the API view of m.
func ViewMessage(m *domain.Message) MessageView {
	return MessageView{
		ID: m.ID, Object: "thread.message", CreatedAt: m.CreatedAt.Unix(), ThreadID: m.ThreadID,
		Role: m.Role, Content: m.Content, RunID: m.RunID, ToolCalls: m.ToolCalls, ToolCallID: m.ToolCallID,
		Metadata: m.Metadata,
	}
}

// RequiredAction is what a run in requires_action waits for.
type RequiredAction struct {
	Type              string            `json:"type"` // submit_tool_outputs
	SubmitToolOutputs SubmitToolOutputs `json:"submit_tool_outputs"`
}

// SubmitToolOutputs lists the tool calls the client is to run.
type SubmitToolOutputs struct {
	ToolCalls []ToolCall `json:"tool_calls"`
}

// Details is an assistant run's own state, kept in the run's Extra (shown
// as "details" by GET /v1/runs/{id}).
type Details struct {
	Model          string          `json:"model"`
	ToolExecution  string          `json:"tool_execution"`
	MaxSteps       int             `json:"max_steps"`
	Steps          int             `json:"steps"`
	Tools          []string        `json:"tools"`
	RequiredAction *RequiredAction `json:"required_action,omitempty"`
	ExpiresAt      *time.Time      `json:"expires_at,omitempty"`
	Usage          *Usage          `json:"usage,omitempty"`
}

// RunDetails decodes a run's Extra; ok is false for runs that are not
// assistant runs.
func RunDetails(run *domain.Run) (d Details, ok bool) {
	if run == nil || run.Kind != Kind || len(run.Extra) == 0 {
		return d, false
	}
	return d, json.Unmarshal(run.Extra, &d) == nil
}

// Output is what a finished assistant run returns.
type Output struct {
	MessageID string `json:"message_id"`
	Content   string `json:"content"`
	Steps     int    `json:"steps"`
}

// Kind is the domain.Run kind of assistant runs.
const Kind = "assistant"
