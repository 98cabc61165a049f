package core

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/toolhost/toolhost/host/domain"
	"github.com/toolhost/toolhost/internal/manifest"
)

func testAction(t testing.TB) *Action {
	t.Helper()
	pe := &PluginEntry{ID: PluginID("kit"), Name: "kit"}
	a := newAction(pe, manifest.Action{
		Key: "typed", Title: "Typed", Type: "read",
		InputSchema: json.RawMessage(`{"type":"object","additionalProperties":false,"required":["s"],"properties":{
			"s":{"type":"string"},"n":{"type":"number"},"i":{"type":"integer"},"b":{"type":"boolean"},
			"a":{"type":"array","items":{"type":"string"}},"o":{"type":"object"},"k":{"type":"string"}}}`),
		OutputSchema: json.RawMessage(`{"type":"object"}`),
		SecretInputs: []string{"k"},
	})
	if a == nil {
		t.Fatal("action did not build")
	}
	return a
}

func TestDecodeRunBodyForms(t *testing.T) {
	a := testAction(t)
	cases := []struct {
		body, want string
		blocking   *bool
	}{
		{`{"input":{"s":"x"}}`, `{"s":"x"}`, nil},
		{`{"s":"x"}`, `{"s":"x"}`, nil},
		{`{"s":"x","blocking":false}`, `{"s":"x"}`, new(bool)},
		{`  {"s":"x","i":"10","n":"2.5","b":"false"} `, `{"b":false,"i":10,"n":2.5,"s":"x"}`, nil},
		{`{"input":{"s":"<a&b>\u00e9","o":{"z":[1, 2.50],"a":12345678901234567890123}}}`,
			`{"o":{"a":12345678901234567890123,"z":[1,2.50]},"s":"<a&b>é"}`, nil},
		{`{"s":"x","stream":null}`, `{"s":"x"}`, nil},
	}
	for _, c := range cases {
		d, err := a.decodeArgs([]byte(c.body), false)
		in, mode := d.input, d.mode
		if err != nil {
			t.Fatalf("%s: %v", c.body, err)
		}
		out, err := a.CheckInput(in)
		if err != nil || string(out) != c.want {
			t.Fatalf("%s: got %s %v, want %s", c.body, out, err, c.want)
		}
		if (c.blocking == nil) != (mode.Blocking == nil) {
			t.Fatalf("%s: blocking %v", c.body, mode.Blocking)
		}
	}
}

func TestCheckInputNamesEveryField(t *testing.T) {
	a := testAction(t)
	d, _ := a.decodeArgs([]byte(`{"n":"ten","i":1.5,"b":"yes","a":"x","zz":1}`), false)
	in := d.input
	_, err := a.CheckInput(in)
	var f *domain.Error
	if !errors.As(err, &f) || f.Code != domain.CodeInvalidInput {
		t.Fatalf("err %v", err)
	}
	for _, field := range []string{"s", "n", "i", "b", "a", "zz"} {
		found := false
		for _, fe := range f.Fields {
			found = found || fe.Field == field
		}
		if !found || !strings.Contains(f.Message, field) {
			t.Errorf("field %q not named: %s %+v", field, f.Message, f.Fields)
		}
	}
}

func TestRedacted(t *testing.T) {
	a := testAction(t)
	got := string(a.Redacted([]byte(`{"s":"x","k":"secret"}`)))
	if strings.Contains(got, "secret") || !strings.Contains(got, `"k":"[redacted]"`) {
		t.Fatal(got)
	}
}

func FuzzDecodeRunBody(f *testing.F) {
	for _, s := range []string{`{"input":{"s":"x"}}`, `{"s":"x","i":"1"}`, `[]`, `"x"`, ``, `{"input":5}`,
		`{"s":"x","blocking":"no"}`, `{"input":{"a":[1,{"b":null}]}}`, `{"s":"\u0000","n":"1e400"}`} {
		f.Add([]byte(s))
	}
	a := testAction(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		d, err := a.decodeArgs(body, false)
		in := d.input
		if err != nil {
			if domain.ErrorCode(err) != domain.CodeInvalidInput {
				t.Fatalf("decode error without invalid_input code: %v", err)
			}
			return
		}
		out, err := a.CheckInput(in)
		if err != nil {
			if domain.ErrorCode(err) != domain.CodeInvalidInput || len(domain.AsError(err).Fields) == 0 && !strings.Contains(err.Error(), "JSON") {
				t.Fatalf("check error %v", err)
			}
			return
		}
		if errs := a.inputCheck.ValidateJSON(out); errs != nil {
			t.Fatalf("checked input %s does not pass its own check: %v", out, errs)
		}
	})
}
