package tracing

import "testing"

func TestTracesURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://collector:4318":              "http://collector:4318/v1/traces",
		"http://collector:4318/":             "http://collector:4318/v1/traces",
		"https://otel.example/v1/traces":     "https://otel.example/v1/traces",
		"https://otel.example/custom/traces": "https://otel.example/custom/traces",
	} {
		if got := tracesURL(in); got != want {
			t.Errorf("tracesURL(%q) = %q; want %q", in, got, want)
		}
	}
}
