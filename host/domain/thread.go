package domain

import (
	"encoding/json"
	"time"
)

// Thread metadata limits (as the Tool API has them).
const (
	MaxMetadataKeys     = 16
	MaxMetadataKeyLen   = 64
	MaxMetadataValueLen = 512
)

// Thread is a conversation.
type Thread struct {
	ID        string            `json:"id"` // thread_<ULID>
	CreatedAt time.Time         `json:"created_at"`
	Metadata  map[string]string `json:"metadata"`
	// KeyID is the identity of the key that made the thread (its owner).
	KeyID string `json:"key_id,omitempty"`
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
