package schemacheck_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/toolhost/toolhost/internal/schemacheck"
)

// TestMessagesNameTheConstraintNotTheValue: every failing field is named
// with the constraint it broke, and the offending value (it may be a
// secret input) is never quoted back.
func TestMessagesNameTheConstraintNotTheValue(t *testing.T) {
	const schema = `{"type":"object","additionalProperties":false,"required":["pin"],"properties":{
		"code":{"type":"string","pattern":"^[a-z]+$"},
		"pin":{"type":"integer","minimum":1000,"maximum":9999},
		"low":{"type":"number","exclusiveMinimum":0.5},
		"high":{"type":"number","exclusiveMaximum":10},
		"step":{"type":"integer","multipleOf":7},
		"kind":{"type":"string","enum":["a","b"]},
		"name":{"type":"string","minLength":3}}}`
	v, err := schemacheck.Compile([]byte(schema))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		input, field, want, value string
	}{
		{`{"pin":1234,"code":"S3CRET-VALUE"}`, "code", `must match the pattern "^[a-z]+$"`, "S3CRET"},
		{`{"pin":271}`, "pin", "must be at least 1000", "271"},
		{`{"pin":31415}`, "pin", "must be at most 9999", "31415"},
		{`{"pin":1234,"low":0.25}`, "low", "must be greater than 0.5", "0.25"},
		{`{"pin":1234,"high":12.75}`, "high", "must be less than 10", "12.75"},
		{`{"pin":1234,"step":7919}`, "step", "must be a multiple of 7", "7919"},
		{`{"pin":1234,"kind":"zzz"}`, "kind", "must be one of 'a', 'b'", "zzz"},
		{`{"pin":1234,"name":"xy"}`, "name", "3", `"xy"`},
		{`{"pin":"1234"}`, "pin", "must be integer, got string", "1234"},
	}
	for _, tt := range tests {
		errs := v.ValidateJSON([]byte(tt.input))
		if len(errs) != 1 || errs[0].Field != tt.field {
			t.Errorf("%s: errors %v, want one for %s", tt.input, errs, tt.field)
			continue
		}
		msg := errs[0].Message
		if !strings.Contains(msg, tt.want) || strings.Contains(msg, tt.value) {
			t.Errorf("%s: message %q, want it to contain %q and not the value %q", tt.input, msg, tt.want, tt.value)
		}
	}
}

// TestEveryFieldIsNamed: missing, unknown and mistyped fields are all
// reported at once, sorted by Fields.
func TestEveryFieldIsNamed(t *testing.T) {
	v, err := schemacheck.Compile([]byte(`{"type":"object","additionalProperties":false,"required":["a","b"],"properties":{"a":{"type":"string"},"b":{"type":"boolean"},"c":{"type":"integer"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	errs := v.ValidateJSON([]byte(`{"b":"yes","c":1.5,"d":1}`))
	if got := strings.Join(errs.Fields(), ","); got != "a,b,c,d" {
		t.Fatalf("fields %q (%v)", got, errs)
	}
	if errs := v.ValidateJSON([]byte(`{"a":`)); len(errs) != 1 || errs[0].Field != "" || !strings.HasPrefix(errs[0].Message, "invalid JSON") {
		t.Fatalf("broken JSON: %v", errs)
	}
}

// TestNumbersAPluginCannotTake (issue 12, defect 9): JSON Schema lets
// 1e999, 9223372036854775808 and 1.0 through as integers; Go plugins
// cannot decode them, so the check refuses them, naming the field, also
// in arrays, nested objects and through $ref.
func TestNumbersAPluginCannotTake(t *testing.T) {
	v, err := schemacheck.Compile([]byte(`{"type":"object","$defs":{"n":{"type":"integer"}},"properties":{
		"i":{"type":"integer"},"f":{"type":"number"},"list":{"type":"array","items":{"$ref":"#/$defs/n"}},
		"o":{"type":"object","additionalProperties":{"type":"integer"}},"any":{}}}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ doc, field string }{
		{`{"i":1e999}`, "i"},
		{`{"i":9223372036854775808}`, "i"},
		{`{"i":-9223372036854775809}`, "i"},
		{`{"i":1.0}`, "i"},
		{`{"i":1e2}`, "i"},
		{`{"f":1e999}`, "f"},
		{`{"f":-1e400}`, "f"},
		{`{"list":[1,2.0]}`, "list.1"},
		{`{"o":{"k":4.0}}`, "o.k"},
		{`{"any":1e999}`, "any"},
	} {
		errs := v.ValidateJSON([]byte(c.doc))
		if len(errs) == 0 || !slices.Contains(errs.Fields(), c.field) {
			t.Errorf("%s: %v, want an error for %q", c.doc, errs, c.field)
		}
	}
	for _, ok := range []string{`{"i":9223372036854775807}`, `{"i":-3}`, `{"f":1.5e308}`, `{"f":1}`, `{"list":[1,2]}`, `{"any":1.5}`} {
		if errs := v.ValidateJSON([]byte(ok)); errs != nil {
			t.Errorf("%s: %v", ok, errs)
		}
	}
}
