package core

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"

	"github.com/toolhost/toolhost/host/domain"
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
			return nil, &domain.Error{Code: domain.CodeInvalidInput, Message: k + " is not valid JSON: " + err.Error(),
				Fields: []domain.FieldError{{Field: k, Message: "is not valid JSON"}}}
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
		return nil, domain.WrapError(err, domain.CodeInternal, "encode checked input")
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func invalidInput(errs schemacheck.Errors) *domain.Error {
	e := &domain.Error{Code: domain.CodeInvalidInput, Message: "invalid input: " + errs.Error()}
	for _, f := range errs {
		e.Fields = append(e.Fields, domain.FieldError{Field: f.Field, Message: f.Message})
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
		return domain.Errorf(domain.CodeOutputInvalid, "plugin %q returned output that does not match the output schema of %q: %s", a.Plugin.Name, a.Key, errs.Error())
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
