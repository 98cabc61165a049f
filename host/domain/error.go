package domain

import (
	"errors"
	"fmt"
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

// Errorf returns an Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WrapError returns an Error that keeps err as its cause.
func WrapError(err error, code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}

// FieldErrorf returns an invalid-input Error naming one field.
func FieldErrorf(code, field, fieldMsg, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...),
		Fields: []FieldError{{Field: field, Message: fieldMsg}}}
}

// ErrorCode returns err's code, or Internal when err carries none.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// AsError returns err as an *Error, wrapping unknown errors as Internal.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: CodeInternal, Message: "internal error", Err: err}
}
