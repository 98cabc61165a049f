package e2e

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestNumbersAndEncodings (issue 12, defect 9): numbers a plugin cannot
// take, invalid UTF-8 and a bogus list cursor are 400s at the host that
// name the field, not plugin failures with Go type names or an empty page.
func TestNumbersAndEncodings(t *testing.T) {
	s := startServe(t, serveOptions(serveConfig{}))
	typed := "/v1/actions/" + specActionID("testkit", "typed") + "/run"
	for _, c := range []struct {
		name, body, field string
	}{
		{"integer 1e999", `{"s":"x","n":1,"i":1e999,"b":true}`, "i"},
		{"integer past int64", `{"s":"x","n":1,"i":9223372036854775808,"b":true}`, "i"},
		{"integer written 1.0", `{"s":"x","n":1,"i":1.0,"b":true}`, "i"},
		{"number 1e999", `{"s":"x","n":1e999,"i":1,"b":true}`, "n"},
		{"nested integer written 3.0", `{"s":"x","n":1,"i":1,"b":true,"o":{"k":3.0}}`, "o.k"},
		{"invalid UTF-8", "{\"s\":\"ab\xff\xfecd\",\"n\":1,\"i\":1,\"b\":true}", "s"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := s.do("POST", typed, c.body)
			if r.Status != 400 {
				t.Fatalf("status %d, want 400: %s", r.Status, r.Body)
			}
			_, msg := r.ErrorOf(t)
			if strings.Contains(msg, "int64") || strings.Contains(msg, "float64") || strings.Contains(msg, "Go struct") {
				t.Errorf("message has Go type names: %s", msg)
			}
			fields := r.JSON(t)["error"].(map[string]any)["fields"]
			if !strings.Contains(msg, c.field) || !strings.Contains(toJSON(t, fields), `"`+c.field+`"`) {
				t.Errorf("error does not name field %q: %s", c.field, r.Body)
			}
		})
	}
	// The same values within range still run.
	r := s.do("POST", typed, `{"s":"x","n":1.5e300,"i":9223372036854775807,"b":true,"o":{"k":-3}}`)
	wantStatus(t, r, 200)

	for _, q := range []string{"after=bogus", "before=run_bogus", "after=run_01J0000000000000000000000Z!"} {
		r := s.do("GET", "/v1/runs?"+q, "")
		if r.Status != 400 {
			t.Errorf("GET /v1/runs?%s: status %d, want 400: %s", q, r.Status, r.Body)
			continue
		}
		if _, msg := r.ErrorOf(t); !strings.Contains(msg, strings.SplitN(q, "=", 2)[0]) {
			t.Errorf("GET /v1/runs?%s: message does not name the parameter: %s", q, msg)
		}
	}
	wantStatus(t, s.do("GET", "/v1/threads?after=bogus", ""), 400)
	wantStatus(t, s.do("GET", "/v1/runs?after=run_01J00000000000000000000000", ""), 200)
}

func toJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
