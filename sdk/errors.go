package sdk

import (
	"errors"
	"fmt"
)

// Error codes a run can fail with inside a plugin.
const (
	CodeInvalidInput  = "invalid_input"
	CodeActionFailed  = "action_failed"
	CodePanic         = "panic"
	CodeOutputInvalid = "output_invalid"
	CodeUnknownAction = "unknown_action"
	CodeMisconfigured = "misconfigured"
)

// Error is a failed run as the host sees it.
type Error struct {
	Code    string
	Message string
	Field   string // set for invalid_input when one field is at fault
}

func (e *Error) Error() string { return e.Message }

// InputError fails the run as invalid input and names the field at fault.
// The host answers such a run with 400.
func InputError(field, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return &Error{Code: CodeInvalidInput, Field: field, Message: field + ": " + msg}
}

func asRunError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		c := *e
		return &c
	}
	return &Error{Code: CodeActionFailed, Message: err.Error()}
}
