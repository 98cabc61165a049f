// Package schemacheck validates JSON values against action schemas and
// reports every failing field by name, in a form the HTTP API and plugins
// can show to a person. It wraps santhosh-tekuri/jsonschema.
package schemacheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// FieldError is one failing field. Field is a dotted path ("recipient",
// "items.0.name"); it is empty when the whole value is at fault.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Errors lists every failing field.
type Errors []FieldError

func (e Errors) Error() string {
	parts := make([]string, len(e))
	for i, f := range e {
		if f.Field == "" {
			parts[i] = f.Message
		} else {
			parts[i] = f.Field + ": " + f.Message
		}
	}
	return strings.Join(parts, "; ")
}

// Fields returns the failing field names, sorted and unique.
func (e Errors) Fields() []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range e {
		if !seen[f.Field] {
			seen[f.Field] = true
			out = append(out, f.Field)
		}
	}
	sort.Strings(out)
	return out
}

// Validator checks values against one compiled schema. It is safe for
// concurrent use.
type Validator struct {
	schema *jsonschema.Schema
}

var printer = message.NewPrinter(language.English)

// Compile compiles a JSON Schema document.
func Compile(raw json.RawMessage) (*Validator, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("schema is not JSON: %w", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("mem://schema.json", doc); err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	s, err := c.Compile("mem://schema.json")
	if err != nil {
		return nil, fmt.Errorf("schema does not compile: %w", err)
	}
	return &Validator{schema: s}, nil
}

// Decode parses JSON into the generic form Validate expects (numbers kept
// exact as json.Number).
func Decode(raw []byte) (any, error) {
	return jsonschema.UnmarshalJSON(bytes.NewReader(raw))
}

// ValidateJSON parses raw and validates it; a parse failure is returned as
// a single whole-value FieldError.
func (v *Validator) ValidateJSON(raw []byte) Errors {
	_, errs := v.Check(raw)
	return errs
}

// Check is ValidateJSON that also returns the decoded value, for callers
// that need more from it than the check.
func (v *Validator) Check(raw []byte) (any, Errors) {
	doc, err := Decode(raw)
	if err != nil {
		return nil, Errors{{Message: "invalid JSON: " + err.Error()}}
	}
	return doc, v.Validate(doc)
}

// Validate checks a decoded value and returns nil when it is valid.
func (v *Validator) Validate(doc any) Errors {
	var out Errors
	numberErrors(v.schema, doc, "", &out)
	err := v.schema.Validate(doc)
	if err == nil {
		return dedupe(out)
	}
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return append(out, FieldError{Message: err.Error()})
	}
	collect(ve, &out)
	if len(out) == 0 {
		out = Errors{{Message: ve.Error()}}
	}
	return dedupe(out)
}

func collect(ve *jsonschema.ValidationError, out *Errors) {
	if len(ve.Causes) > 0 {
		for _, c := range ve.Causes {
			collect(c, out)
		}
		return
	}
	at := strings.Join(ve.InstanceLocation, ".")
	switch k := ve.ErrorKind.(type) {
	case *kind.Required:
		for _, m := range k.Missing {
			*out = append(*out, FieldError{Field: join(at, m), Message: "is required"})
		}
	case *kind.AdditionalProperties:
		for _, p := range k.Properties {
			*out = append(*out, FieldError{Field: join(at, p), Message: "is not a known parameter"})
		}
	case *kind.Type:
		*out = append(*out, FieldError{Field: at, Message: fmt.Sprintf("must be %s, got %s", strings.Join(k.Want, " or "), k.Got)})
	default:
		*out = append(*out, FieldError{Field: at, Message: constraintMessage(ve.ErrorKind)})
	}
}

// constraintMessage says which constraint a value broke without quoting the
// value (the library's messages do, for patterns, formats and bounds), so
// that a secret input never comes back in an error, a log line or history.
func constraintMessage(k jsonschema.ErrorKind) string {
	switch k := k.(type) {
	case *kind.Pattern:
		return fmt.Sprintf("must match the pattern %q", k.Want)
	case *kind.Format:
		return fmt.Sprintf("must be a valid %s", k.Want)
	case *kind.Minimum:
		return "must be at least " + ratText(k.Want)
	case *kind.Maximum:
		return "must be at most " + ratText(k.Want)
	case *kind.ExclusiveMinimum:
		return "must be greater than " + ratText(k.Want)
	case *kind.ExclusiveMaximum:
		return "must be less than " + ratText(k.Want)
	case *kind.MultipleOf:
		return "must be a multiple of " + ratText(k.Want)
	}
	return k.LocalizedString(printer)
}

// ratText writes a schema bound as JSON would: 5, 2.5, 1e-7.
func ratText(r *big.Rat) string {
	if r.IsInt() {
		return r.Num().String()
	}
	f, _ := r.Float64()
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func join(at, key string) string {
	if at == "" {
		return key
	}
	return at + "." + key
}

func dedupe(in Errors) Errors {
	seen := map[FieldError]bool{}
	out := in[:0]
	for _, f := range in {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}
