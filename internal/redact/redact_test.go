package redact_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/toolhost/toolhost/internal/redact"
)

// TestScrub: short values are ignored, repeats kept once, and a secret
// that contains another is replaced whole, whatever order they came in.
func TestScrub(t *testing.T) {
	vs := redact.Values(nil).With("abcd", "xy", "zzzz", "abcd").With("abcd1234", "zzzz")
	if len(vs) != 3 || vs[0] != "abcd1234" {
		t.Fatalf("values %q", vs)
	}
	got := vs.Scrub("pass abcd1234, token abcd, tag xy, zzzz")
	if want := "pass [redacted], token [redacted], tag xy, [redacted]"; got != want {
		t.Fatalf("Scrub = %q, want %q", got, want)
	}
	if got := redact.Values(nil).Scrub("abcd"); got != "abcd" {
		t.Fatalf("no values changed text: %q", got)
	}
}

// TestScrubEscapedForms (issue 12, defect 1): a secret with characters
// that JSON or Go's %q escape is found in every such form, in text and,
// decoded, in JSON however it was escaped.
func TestScrubEscapedForms(t *testing.T) {
	const pw = "SECRET&<x>pw-777"
	vs := redact.Values(nil).With(pw, "tab\there\"q\\é-9")
	for _, text := range []string{
		`list=["SECRET\u0026\u003cx\u003epw-777"]`, // Go's json.Marshal
		`list=["SECRET&<x>pw-777"]`,                // without HTML escaping
		`error: "SECRET&<x>pw-777" refused`,        // %q
		`{"a":"tab\there\"q\\\u00e9-9"}`,           // JSON, non-ASCII escaped (Python)
		`{"a":"tab\there\"q\\é-9"}`,                // JSON
		`bad value "tab\there\"q\\\u00e9-9"`,       // strconv.QuoteToASCII
	} {
		if got := vs.Scrub(text); strings.Contains(got, "pw-777") || strings.Contains(got, "-9") || !strings.Contains(got, redact.Mark) {
			t.Errorf("Scrub(%s) = %s", text, got)
		}
	}
	for _, raw := range []string{
		`{"list":["\u0053ECRET\u0026<x>pw-777"],"n":1}`, // any character may be escaped
		`{"k":{"deep":["a","SECRET\u0026\u003Cx\u003Epw\u002d777"]}}`,
		`["SECRET&<x>pw-777"]`,
		`{"SECRET\u0026\u003cx\u003epw-777":true}`,
	} {
		got := vs.ScrubJSON([]byte(raw))
		if strings.Contains(string(got), "777") || !json.Valid(got) || !strings.Contains(string(got), redact.Mark) {
			t.Errorf("ScrubJSON(%s) = %s", raw, got)
		}
	}
	// Without a secret the bytes are kept as they were.
	keep := `{"b":"x\u0026y", "a":[1, 2.50]}`
	if got := vs.ScrubJSON([]byte(keep)); string(got) != keep {
		t.Errorf("ScrubJSON changed %s into %s", keep, got)
	}
	// Order and numbers are kept when a secret is replaced.
	got := vs.ScrubJSON([]byte(`{"z":"SECRET\u0026\u003cx\u003epw-777","a":[1.50,null,false]}`))
	if want := `{"z":"[redacted]","a":[1.50,null,false]}`; string(got) != want {
		t.Errorf("ScrubJSON = %s, want %s", got, want)
	}
	// Not JSON: scrubbed as text.
	if got := vs.ScrubJSON([]byte(`{"a":"SECRET\u0026\u003cx\u003epw-777"`)); strings.Contains(string(got), "777") {
		t.Errorf("ScrubJSON of broken JSON = %s", got)
	}
}
