package host

import (
	"bytes"
	"encoding/json"
	"math"
	"sort"
	"strconv"

	"github.com/toolhost/toolhost/host/fault"
	"github.com/toolhost/toolhost/internal/schemacheck"
)

// CheckInput coerces Connery-style string values and validates input against
// the action's schema. It returns the input to send to the plugin, or a
// fault naming every bad field.
func (a *Action) CheckInput(input map[string]json.RawMessage) ([]byte, error) {
	for key, raw := range input {
		if p := a.Input.Property(key); p != nil {
			input[key] = coerce(p.Type, raw)
		}
	}
	out := encodeObject(input)
	if errs := a.inputCheck.ValidateJSON(out); errs != nil {
		return nil, invalidInput(errs)
	}
	return out, nil
}

func invalidInput(errs schemacheck.Errors) *fault.Error {
	e := &fault.Error{Code: fault.InvalidInput, Message: "invalid input: " + errs.Error()}
	for _, f := range errs {
		e.Fields = append(e.Fields, fault.FieldError{Field: f.Field, Message: f.Message})
	}
	return e
}

// coerce converts a JSON string holding exactly a number, integer or boolean
// for a parameter of that type. Anything else is left for validation to
// reject.
func coerce(typ string, raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 || raw[0] != '"' {
		return raw
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return raw
	}
	switch typ {
	case "integer":
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return json.RawMessage(strconv.FormatInt(n, 10))
		}
	case "number":
		if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return json.RawMessage(strconv.FormatFloat(f, 'g', -1, 64))
		}
	case "boolean":
		if s == "true" || s == "false" {
			return json.RawMessage(s)
		}
	}
	return raw
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

// encodeObject writes an object of already valid JSON values, keys sorted,
// without encoding/json's re-validation of every value.
func encodeObject(m map[string]json.RawMessage) []byte {
	keys := make([]string, 0, len(m))
	size := 2
	for k, v := range m {
		keys = append(keys, k)
		size += len(k) + len(v) + 4
	}
	sort.Strings(keys)
	out := make([]byte, 0, size)
	out = append(out, '{')
	for i, k := range keys {
		if i > 0 {
			out = append(out, ',')
		}
		kq, _ := json.Marshal(k)
		out = append(out, kq...)
		out = append(out, ':')
		out = append(out, bytes.TrimSpace(m[k])...)
	}
	return append(out, '}')
}

// DecodeRunBody reads a run request body in either form: Connery's
// {"input":{...}} or the flat arguments object. It also takes the run-mode
// keys "blocking" and "stream" out of the body when the action has no
// parameters of those names.
func (a *Action) DecodeRunBody(body []byte) (input map[string]json.RawMessage, mode RunMode, err error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, mode, fault.New(fault.InvalidInput, "request body is empty; send a JSON object of the action's input, or {\"input\":{...}}")
	}
	if body[0] != '{' {
		return nil, mode, fault.New(fault.InvalidInput, "request body must be a JSON object, not %s", JSONKind(body))
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		return nil, mode, fault.Wrap(err, fault.InvalidInput, "request body is not valid JSON: %v", err)
	}
	mode, err = a.takeMode(obj)
	if err != nil {
		return nil, mode, err
	}
	if raw, ok := obj["input"]; ok && len(obj) == 1 && !a.hasParam("input") {
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 || raw[0] != '{' {
			return nil, mode, &fault.Error{Code: fault.InvalidInput, Message: "input must be a JSON object, not " + JSONKind(raw),
				Fields: []fault.FieldError{{Field: "input", Message: "must be an object"}}}
		}
		var in map[string]json.RawMessage
		if err := json.Unmarshal(raw, &in); err != nil {
			return nil, mode, fault.Wrap(err, fault.InvalidInput, "input is not valid JSON: %v", err)
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

func (a *Action) takeMode(obj map[string]json.RawMessage) (RunMode, error) {
	var m RunMode
	for _, k := range []string{"blocking", "stream"} {
		raw, ok := obj[k]
		if !ok || a.hasParam(k) {
			continue
		}
		var b bool
		if err := json.Unmarshal(raw, &b); err != nil {
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
