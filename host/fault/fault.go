// Package fault holds toolhost's error codes and the error type that carries
// them from the plugin supervisor and the runner up to the HTTP edge, where
// one table maps each code to a status.
package fault

import (
	"errors"
	"fmt"
)

// Error codes. They are part of the API contract: stable, lower snake case.
const (
	InvalidInput      = "invalid_input"
	InvalidRequest    = "invalid_request"
	NotFound          = "not_found"
	Unauthorized      = "unauthorized"
	Forbidden         = "forbidden"
	MethodNotAllowed  = "method_not_allowed"
	Conflict          = "conflict"
	TooLarge          = "request_too_large"
	RateLimited       = "rate_limited"
	ActionFailed      = "action_failed"
	OutputInvalid     = "output_invalid"
	PluginUnavailable = "plugin_unavailable"
	Misconfigured     = "plugin_misconfigured"
	ActionTimeout     = "action_timeout"
	Cancelled         = "cancelled"
	ShuttingDown      = "shutting_down"
	Interrupted       = "interrupted"
	ModelError        = "model_error"
	Expired           = "expired" // a run waited for tool outputs too long
	Internal          = "internal"
	// NotRecorded: the run finished but its final record could not be
	// made durable, so history will not show it.
	NotRecorded = "not_recorded"
)

// FieldError names one bad input field.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is an error with a code, a message fit to show a client, and, for
// invalid input, the fields at fault.
type Error struct {
	Code    string
	Message string
	Fields  []FieldError
	Err     error // the cause, for logs; never shown to clients
}

func (e *Error) Error() string { return e.Message }

func (e *Error) Unwrap() error { return e.Err }

// New returns an Error with a formatted message.
func New(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an Error that keeps err as its cause.
func Wrap(err error, code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}

// Code returns err's code, or Internal when err carries none.
func Code(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// As returns err as an *Error, wrapping unknown errors as Internal.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: Internal, Message: "internal error", Err: err}
}
