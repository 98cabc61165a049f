package host

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"

	"github.com/toolhost/toolhost/host/fault"
	"github.com/toolhost/toolhost/internal/schemacheck"
)

// CheckInput coerces Connery-style string values and validates input, as
// DecodeRunBody or DecodeInput gave it, against the action's schema. It
// returns the input to send to the plugin, encoded from the very values it
// validated, or a fault naming every bad field.
func (a *Action) CheckInput(input map[string]any) ([]byte, error) {
	if input == nil {
		input = map[string]any{}
	}
	for key, v := range input {
		if p := a.Input.Property(key); p != nil {
			input[key] = coerce(p.Type, v)
		}
	}
	if errs := a.inputCheck.Validate(input); errs != nil {
		return nil, invalidInput(errs)
	}
	return encodeInput(input)
}

// DecodeInput turns raw top-level values (a model's tool-call arguments)
// into the form CheckInput takes.
func DecodeInput(raw map[string]json.RawMessage) (map[string]any, error) {
	input := make(map[string]any, len(raw))
	for k, v := range raw {
		dv, err := schemacheck.Decode(v)
		if err != nil {
			return nil, &fault.Error{Code: fault.InvalidInput, Message: k + " is not valid JSON: " + err.Error(),
				Fields: []fault.FieldError{{Field: k, Message: "is not valid JSON"}}}
		}
		input[k] = dv
	}
	return input, nil
}

// encodeInput encodes checked input with its keys sorted and without
// HTML escaping, so the stored input reads as it was sent.
func encodeInput(input map[string]any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(input); err != nil {
		return nil, fault.Wrap(err, fault.Internal, "encode checked input")
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func invalidInput(errs schemacheck.Errors) *fault.Error {
	e := &fault.Error{Code: fault.InvalidInput, Message: "invalid input: " + errs.Error()}
	for _, f := range errs {
		e.Fields = append(e.Fields, fault.FieldError{Field: f.Field, Message: f.Message})
	}
	return e
}

// coerce converts a string holding exactly a number, integer or boolean
// for a parameter of that type. Anything else is left for validation to
// reject.
func coerce(typ string, v any) any {
	s, ok := v.(string)
	if !ok {
		return v
	}
	switch typ {
	case "integer":
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return json.Number(strconv.FormatInt(n, 10))
		}
	case "number":
		if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return json.Number(strconv.FormatFloat(f, 'g', -1, 64))
		}
	case "boolean":
		if s == "true" || s == "false" {
			return s == "true"
		}
	}
	return v
}

// CheckOutput validates a plugin's output against the action's schema.
func (a *Action) CheckOutput(out []byte) error {
	if errs := a.outputCheck.ValidateJSON(out); errs != nil {
		return fault.New(fault.OutputInvalid, "plugin %q returned output that does not match the output schema of %q: %s", a.Plugin.Name, a.Key, errs.Error())
	}
	return nil
}

// Redacted is the input as it may be stored: secret parameters replaced.
func (a *Action) Redacted(input []byte) json.RawMessage {
	if len(a.secret) == 0 || !a.mentionsSecret(input) {
		return input
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(input, &m) != nil {
		return nil
	}
	for k := range m {
		if a.secret[k] {
			m[k] = json.RawMessage(`"[redacted]"`)
		}
	}
	out, _ := json.Marshal(m)
	return out
}

// mentionsSecret reports whether input may hold a secret parameter: a
// cheap scan for the quoted key, so most runs skip a decode and encode.
func (a *Action) mentionsSecret(input []byte) bool {
	for k := range a.secret {
		if bytes.Contains(input, []byte(`"`+k+`"`)) {
			return true
		}
	}
	return false
}

// DecodeRunBody reads a run request body in either form: Connery's
// {"input":{...}} or the flat arguments object. It also takes the run-mode
// keys "blocking" and "stream" out of the body when the action has no
// parameters of those names. The body is decoded once, into the form the
// schema validator takes (numbers kept exact as json.Number).
func (a *Action) DecodeRunBody(body []byte) (input map[string]any, mode RunMode, err error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, mode, fault.New(fault.InvalidInput, "request body is empty; send a JSON object of the action's input, or {\"input\":{...}}")
	}
	if body[0] != '{' {
		return nil, mode, fault.New(fault.InvalidInput, "%s", NotAnObject(body, ""))
	}
	doc, err := schemacheck.Decode(body)
	if err != nil {
		return nil, mode, fault.Wrap(err, fault.InvalidInput, "request body is not valid JSON: %v", err)
	}
	obj := doc.(map[string]any) // valid JSON starting with '{'
	mode, err = a.takeMode(obj)
	if err != nil {
		return nil, mode, err
	}
	if v, ok := obj["input"]; ok && len(obj) == 1 && !a.hasParam("input") {
		in, isObject := v.(map[string]any)
		if !isObject {
			return nil, mode, &fault.Error{Code: fault.InvalidInput, Message: "input must be a JSON object, not " + kindOf(v),
				Fields: []fault.FieldError{{Field: "input", Message: "must be an object"}}}
		}
		return in, mode, nil
	}
	return obj, mode, nil
}

// RunMode is how the caller asked to be answered.
type RunMode struct {
	Blocking *bool
	Stream   *bool
}

func (a *Action) takeMode(obj map[string]any) (RunMode, error) {
	var m RunMode
	for _, k := range []string{"blocking", "stream"} {
		v, ok := obj[k]
		if !ok || a.hasParam(k) {
			continue
		}
		b, isBool := v.(bool) // null reads as false, as it always has
		if !isBool && v != nil {
			return m, &fault.Error{Code: fault.InvalidInput, Message: k + " must be true or false",
				Fields: []fault.FieldError{{Field: k, Message: "must be a boolean"}}}
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

func (a *Action) hasParam(key string) bool { return a.Input.Property(key) != nil }

// kindOf names the kind of a decoded JSON value for error messages.
func kindOf(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return "a number"
}

// JSONKind names the kind of a JSON value for error messages ("an
// array", "a string"...).
func JSONKind(raw []byte) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	if json.Valid(raw) {
		return "a number"
	}
	return "valid JSON"
}
