package domain

import (
	"errors"
	"fmt"
)

// These errors can be returned by a store. Test for them with errors.Is:
// most are wrapped with what was being done.
var (
	// ErrNotFound is returned when the plugin, run, key, thread, message or
	// manifest asked for does not exist.
	ErrNotFound = errors.New("not found")

	// ErrConflict is returned when a record with the same unique name
	// already exists (an API key name).
	ErrConflict = errors.New("conflict")

	// ErrTerminal is returned when a run that has already finished
	// (succeeded, failed, cancelled, timed_out or expired) would be
	// rewritten: a finished run never changes again.
	ErrTerminal = errors.New("run already finished")

	// ErrTransition is returned for a status change the run state machine
	// does not allow between two unfinished states (queued → succeeded, for
	// example). It means a bug in the caller.
	ErrTransition = errors.New("invalid run state transition")

	// ErrInvalid is returned when an argument is malformed: a bad page
	// limit, an unknown status, a key name with forbidden characters. The
	// message names the offending field.
	ErrInvalid = errors.New("invalid argument")

	// ErrUnauthorized is returned when an API key is not one of the stored
	// keys (unknown, malformed or revoked).
	ErrUnauthorized = errors.New("api key is not valid")
)

// Wrapped is an error with its own message that still matches a sentinel
// with errors.Is, for messages that read better without "sentinel: " in
// front.
type Wrapped struct {
	Msg string
	Err error
}

func (e *Wrapped) Error() string { return e.Msg }
func (e *Wrapped) Unwrap() error { return e.Err }

// Invalidf returns an ErrInvalid whose message is the formatted text.
func Invalidf(format string, args ...any) error {
	return &Wrapped{Msg: fmt.Sprintf(format, args...), Err: ErrInvalid}
}
