package domain

// What replicas of one deployment tell each other about runs (see the
// core's Cluster port, which a shared database implements).

// RunNote is what a replica hears of a run another replica runs: one of
// its events, or that it ended.
type RunNote struct {
	Event *Event // nil when Ended
	Ended bool   // the run's final record is stored
}

// RunRequest is a request for the replica running a run.
type RunRequest struct {
	Kind  RunRequestKind
	RunID string
	After int // AskEvents: the events after this seq (the asker has the rest)
}

// RunRequestKind is what a RunRequest asks.
type RunRequestKind string

// The requests a replica may send the one running a run.
const (
	// AskCancel asks it to cancel the run.
	AskCancel RunRequestKind = "cancel"
	// AskEvents asks it to publish the run's events so far and those to
	// come, because a replica follows it.
	AskEvents RunRequestKind = "events"
)

// ErrQueueFull is what a shared run queue answers when it holds its limit.
var ErrQueueFull = Errorf(CodeRateLimited, "the run queue is full; retry shortly")
