package core

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/toolhost/toolhost/host/domain"
	"github.com/toolhost/toolhost/internal/schemacheck"
)

// ErrMalformedArgs is wrapped by the error for arguments that are not a
// JSON object at all (as opposed to an object the schema refuses).
var ErrMalformedArgs = errors.New("arguments are not a JSON object")

// args are a call's raw arguments, decoded once: the action's input, the
// prompt to fill it from, and the answer mode the arguments asked for.
type args struct {
	input  map[string]any
	prompt string
	mode   ModeRequest
}

// decodeArgs reads a call's arguments in either form: Connery's
// {"input":{...}} or the flat arguments object. It takes the keys
// "blocking", "stream" and "prompt" out when the action has no parameters
// of those names. The body is decoded once, into the form the schema
// validator takes (numbers kept exact as json.Number).
func (a *Action) decodeArgs(body []byte, inputOnly bool) (args, error) {
	var out args
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		if inputOnly {
			out.input = map[string]any{} // a tool call without arguments
			return out, nil
		}
		return out, domain.WrapError(ErrMalformedArgs, domain.CodeInvalidInput, "request body is empty; send a JSON object of the action's input, or {\"input\":{...}}")
	}
	if body[0] != '{' {
		return out, domain.WrapError(ErrMalformedArgs, domain.CodeInvalidInput, "%s", NotAnObject(body, ""))
	}
	doc, err := schemacheck.Decode(body)
	if err != nil {
		return out, domain.WrapError(fmt.Errorf("%w: %w", ErrMalformedArgs, err), domain.CodeInvalidInput, "request body is not valid JSON: %v", err)
	}
	obj := doc.(map[string]any) // valid JSON starting with '{'
	if inputOnly {
		out.input = obj
		return out, nil
	}
	if out.mode, err = a.takeMode(obj); err != nil {
		return out, err
	}
	if out.prompt, err = a.takePrompt(obj); err != nil {
		return out, err
	}
	out.input = obj
	if v, ok := obj["input"]; ok && len(obj) == 1 && !a.hasParam("input") {
		in, isObject := v.(map[string]any)
		if !isObject {
			return out, &domain.Error{Code: domain.CodeInvalidInput, Message: "input must be a JSON object, not " + kindOf(v),
				Fields: []domain.FieldError{{Field: "input", Message: "must be an object"}}}
		}
		out.input = in
	}
	return out, nil
}

// ModeRequest is how a caller asked to be answered; nil fields were not
// given.
type ModeRequest struct {
	Blocking *bool
	Stream   *bool
}

// Over returns m with the fields o gives replaced.
func (m ModeRequest) Over(o ModeRequest) ModeRequest {
	if o.Blocking != nil {
		m.Blocking = o.Blocking
	}
	if o.Stream != nil {
		m.Stream = o.Stream
	}
	return m
}

// Mode is the answer mode a request comes to: streamed first, then
// non-blocking, else blocking.
func (m ModeRequest) Mode() Mode {
	switch {
	case m.Stream != nil && *m.Stream:
		return ModeStream
	case m.Blocking != nil && !*m.Blocking:
		return ModeBackground
	}
	return ModeBlocking
}

func (a *Action) takeMode(obj map[string]any) (ModeRequest, error) {
	var m ModeRequest
	for _, k := range []string{"blocking", "stream"} {
		v, ok := obj[k]
		if !ok || a.hasParam(k) {
			continue
		}
		b, isBool := v.(bool) // null reads as false, as it always has
		if !isBool && v != nil {
			return m, &domain.Error{Code: domain.CodeInvalidInput, Message: k + " must be true or false",
				Fields: []domain.FieldError{{Field: k, Message: "must be a boolean"}}}
		}
		if k == "blocking" {
			m.Blocking = &b
		} else {
			m.Stream = &b
		}
		delete(obj, k)
	}
	return m, nil
}

// takePrompt takes a top-level "prompt" string out of the arguments when
// the action has no parameter of that name: the model fills the input
// from it.
func (a *Action) takePrompt(obj map[string]any) (string, error) {
	v, ok := obj["prompt"]
	if !ok || a.hasParam("prompt") {
		return "", nil
	}
	prompt, isString := v.(string)
	if !isString || strings.TrimSpace(prompt) == "" {
		return "", &domain.Error{Code: domain.CodeInvalidRequest, Message: "prompt must be a non-empty string saying what the input should be",
			Fields: []domain.FieldError{{Field: "prompt", Message: "must be a non-empty string saying what the input should be"}}}
	}
	delete(obj, "prompt")
	return prompt, nil
}

func (a *Action) hasParam(key string) bool { return a.Input.Property(key) != nil }
