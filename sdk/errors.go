package sdk

import (
	"errors"
	"fmt"

	"github.com/toolhost/toolhost/sdk/internal/engine"
)

// Error codes a run can fail with inside a plugin, as Error.Code. The host
// answers invalid_input with 400 and misconfigured as plugin_misconfigured;
// output_invalid stays output_invalid; the rest are action_failed.
const (
	CodeInvalidInput  = engine.CodeInvalidInput  // "invalid_input": the input does not fit
	CodeActionFailed  = engine.CodeActionFailed  // "action_failed": the action failed
	CodePanic         = engine.CodePanic         // "panic": the handler panicked
	CodeOutputInvalid = engine.CodeOutputInvalid // "output_invalid": the output breaks its schema
	CodeUnknownAction = engine.CodeUnknownAction // "unknown_action": no such action
	CodeMisconfigured = engine.CodeMisconfigured // "misconfigured": the configuration is not usable
)

// Error is a failed run as the host sees it. A handler may return one to
// choose the code (CodeInvalidInput, CodeMisconfigured); any other error
// fails the run as CodeActionFailed.
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

// engineError hands the engine a handler's *Error with its code; other
// errors pass unchanged.
func engineError(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return &engine.Error{Code: e.Code, Message: e.Message, Field: e.Field}
	}
	return err
}
