package core

import (
	"context"
	"encoding/json"

	"github.com/toolhost/toolhost/host/domain"
)

// Mode is how a run is answered.
type Mode int

// Answer modes.
const (
	// ModeBlocking runs to the end; the answer is the final record.
	ModeBlocking Mode = iota
	// ModeBackground records the run as queued and answers at once; a
	// worker runs it.
	ModeBackground
	// ModeStream starts the run at once and answers with its first
	// record; the caller follows its events (Runner.Follow).
	ModeStream
)

func (m Mode) String() string {
	switch m {
	case ModeBackground:
		return "background"
	case ModeStream:
		return "stream"
	}
	return "blocking"
}

// Call is one request for a run, from any door.
type Call struct {
	// Action is the action's id or plugin.actionKey alias.
	Action string
	// Args is the raw arguments: a JSON object of the action's input,
	// flat or as {"input":{...}}. It may hold "prompt" (the model fills
	// the input) and "blocking"/"stream", when the action has no
	// parameters of those names.
	Args json.RawMessage
	// InputOnly says Args is the input itself (a model's or an MCP
	// client's tool arguments): no {"input":...} form, no prompt or mode
	// keys, and empty arguments are an empty input.
	InputOnly bool
	// Mode is what the door asked for besides the arguments (query
	// string, headers); it wins over the arguments' keys.
	Mode ModeRequest
	// Caller is the key asking; its identity scopes IdempotencyKey.
	Caller domain.Caller
	// IdempotencyKey, when set, makes a repeat of this call (same caller,
	// same key, same request) return the run the first one made.
	IdempotencyKey string
	// Source names the door ("http", "mcp", "assistant"...), recorded.
	Source string
	// ThreadID and ParentRunID link the run (an assistant's tool call).
	ThreadID    string
	ParentRunID string
	// Prepared is the result of Runner.Prepare for this call: its action
	// and checked input, so they are not decoded and checked again.
	Prepared *Prepared
	// Job, instead of an action, is work the Runner runs and records as a
	// run (the assistant loop).
	Job *Job
	// Watch, for an action call answered blocking, hears of the run while
	// Submit runs it: no Follow, and no goroutine besides the caller's.
	Watch Watcher
}

// Watcher hears of a blocking run as it goes. Started comes once the run
// is admitted, before it runs, with its id (to cancel it by); Event comes
// for each of its events in order (run.created first, before Started),
// while the run's lock is held: it must not block or call the Runner.
type Watcher interface {
	Started(runID string)
	Event(domain.Event)
}

// Result is what Submit made.
type Result struct {
	// Run is the run's record: final (blocking), queued (background) or
	// just started (stream).
	Run *domain.Run
	// Mode is how the run is answered; for a replay, how the first
	// request was.
	Mode Mode
	// Replayed says Run was made by an earlier call with the same
	// idempotency key.
	Replayed bool
}

// Job is work that the Runner runs and records like an action run, with
// the same events, following, cancelling and history. The assistant loop
// runs as a Job.
type Job struct {
	// Run is the record to start from. Kind and the links (ThreadID,
	// ParentRunID) come from the caller; Submit fills ID, Status,
	// CreatedAt and the caller's fields.
	Run *domain.Run
	// Target and Request identify the work for idempotency: a repeat
	// with the same key must name the same target and request.
	Target  string
	Request json.RawMessage
	// Claim, when set, is called with the new run's id before the run is
	// admitted; its error refuses the run. Unclaim undoes it when the run
	// is then not started.
	Claim   func(runID string) error
	Unclaim func()
	// Do does the work. Its output (or error, as a *domain.Error) ends the
	// run. ctx ends when the run is cancelled.
	Do func(ctx context.Context, c *JobControl) (json.RawMessage, error)
}
