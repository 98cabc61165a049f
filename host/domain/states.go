package domain

import "fmt"

// transitions lists, for each unfinished status, where a run may go next.
// Rewriting a run with its current status is always allowed while it is
// unfinished; the terminal statuses have no way out.
var transitions = map[string][]string{
	StatusQueued:         {StatusRunning, StatusCancelled, StatusFailed},
	StatusRunning:        {StatusSucceeded, StatusFailed, StatusCancelled, StatusTimedOut, StatusRequiresAction},
	StatusRequiresAction: {StatusRunning, StatusCancelled, StatusExpired, StatusFailed},
}

var terminalStatuses = []string{StatusSucceeded, StatusFailed, StatusCancelled, StatusTimedOut, StatusExpired}

// TerminalStatuses lists the statuses a run ends in, in a fixed order.
func TerminalStatuses() []string { return append([]string(nil), terminalStatuses...) }

// Statuses lists every run status.
func Statuses() []string {
	return append([]string{StatusQueued, StatusRunning, StatusRequiresAction}, terminalStatuses...)
}

// IsTerminal reports whether status is one a run never leaves.
func IsTerminal(status string) bool {
	for _, s := range terminalStatuses {
		if s == status {
			return true
		}
	}
	return false
}

// ValidStatus reports whether status is a run status.
func ValidStatus(status string) bool {
	_, unfinished := transitions[status]
	return unfinished || IsTerminal(status)
}

// CheckTransition tells whether a run in status from may be rewritten with
// status to: nil, or an error wrapping ErrTerminal (from is terminal),
// ErrTransition (not an allowed move) or ErrInvalid (unknown status).
// Stores apply it on every write; the core uses it to answer early.
func CheckTransition(from, to string) error {
	if !ValidStatus(to) {
		return Invalidf("unknown run status %q", to)
	}
	if IsTerminal(from) {
		return &Wrapped{Msg: fmt.Sprintf("run already finished (%s), cannot become %s", from, to), Err: ErrTerminal}
	}
	next, ok := transitions[from]
	if !ok {
		return Invalidf("unknown run status %q", from)
	}
	if from == to {
		return nil
	}
	for _, s := range next {
		if s == to {
			return nil
		}
	}
	return &Wrapped{Msg: fmt.Sprintf("invalid run state transition %s → %s", from, to), Err: ErrTransition}
}
