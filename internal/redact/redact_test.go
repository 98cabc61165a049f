package redact_test

import (
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
