package schemacheck

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// numberErrors reports the numbers in doc that a plugin cannot take,
// although JSON Schema allows them: any number beyond a 64-bit float
// (1e999), and, where the schema asks for an integer, one written with a
// fraction or an exponent (1.0, 1e3) or beyond a 64-bit integer
// (9223372036854775808). The SDK decodes into Go's float64 and int types,
// which refuse those with Go type names in the message; the host refuses
// them first, naming the field.
func numberErrors(s *jsonschema.Schema, doc any, at string, out *Errors) {
	switch v := doc.(type) {
	case json.Number:
		if msg := numberProblem(string(v), wantsInteger(s)); msg != "" {
			*out = append(*out, FieldError{Field: at, Message: msg})
		}
	case map[string]any:
		for k, item := range v {
			numberErrors(propertySchema(s, k), item, join(at, k), out)
		}
	case []any:
		for i, item := range v {
			numberErrors(itemSchema(s, i), item, join(at, strconv.Itoa(i)), out)
		}
	}
}

// numberProblem says what is wrong with the number text n, or "".
func numberProblem(n string, integer bool) string {
	if integer {
		if strings.ContainsAny(n, ".eE") {
			return "must be an integer written without a fraction or exponent"
		}
		if _, err := strconv.ParseInt(n, 10, 64); err != nil {
			return "must be an integer from -9223372036854775808 to 9223372036854775807"
		}
		return ""
	}
	if _, err := strconv.ParseFloat(n, 64); err != nil {
		return "must be a number within the range of a 64-bit float (about ±1.8e308)"
	}
	return ""
}

// resolve follows $ref chains (bounded, in case of a cycle).
func resolve(s *jsonschema.Schema) *jsonschema.Schema {
	for i := 0; s != nil && s.Ref != nil && i < 32; i++ {
		s = s.Ref
	}
	return s
}

// wantsInteger reports whether s (or one of its allOf parts) allows
// integers and no other numbers.
func wantsInteger(s *jsonschema.Schema) bool {
	s = resolve(s)
	if s == nil {
		return false
	}
	if s.Types != nil {
		ts := s.Types.ToStrings()
		hasInt, hasNum := false, false
		for _, t := range ts {
			hasInt = hasInt || t == "integer"
			hasNum = hasNum || t == "number"
		}
		if hasInt && !hasNum {
			return true
		}
	}
	for _, part := range s.AllOf {
		if wantsInteger(part) {
			return true
		}
	}
	return false
}

// propertySchema is the schema of property k of an object under s, or
// nil when it is not known.
func propertySchema(s *jsonschema.Schema, k string) *jsonschema.Schema {
	s = resolve(s)
	if s == nil {
		return nil
	}
	if p, ok := s.Properties[k]; ok {
		return p
	}
	if ap, ok := s.AdditionalProperties.(*jsonschema.Schema); ok {
		return ap
	}
	return nil
}

// itemSchema is the schema of item i of an array under s, or nil.
func itemSchema(s *jsonschema.Schema, i int) *jsonschema.Schema {
	s = resolve(s)
	if s == nil {
		return nil
	}
	if i < len(s.PrefixItems) {
		return s.PrefixItems[i]
	}
	if s.Items2020 != nil {
		return s.Items2020
	}
	switch it := s.Items.(type) {
	case *jsonschema.Schema:
		return it
	case []*jsonschema.Schema:
		if i < len(it) {
			return it[i]
		}
	}
	return nil
}
