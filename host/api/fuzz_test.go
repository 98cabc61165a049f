package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/toolhost/toolhost/host/api"
)

func TestAPIKeyFromHeaders(t *testing.T) {
	cases := []struct {
		xKey, auth, want string
		present          bool
	}{
		{"k1", "", "k1", true},
		{"  k1 ", "", "k1", true},
		{"", "Bearer k2", "k2", true},
		{"", "bearer   k2  ", "k2", true},
		{"k1", "Bearer k2", "k1", true},
		{"", "Basic abc", "", false},
		{"", "Bearer ", "", false},
		{"", "Bearer", "", false},
		{"   ", "", "", false},
	}
	for _, c := range cases {
		h := http.Header{}
		if c.xKey != "" {
			h.Set("x-api-key", c.xKey)
		}
		if c.auth != "" {
			h.Set("Authorization", c.auth)
		}
		got, present := api.APIKeyFromHeaders(h)
		if got != c.want || present != c.present {
			t.Errorf("%q/%q: got %q %v", c.xKey, c.auth, got, present)
		}
	}
}

func FuzzAPIKeyFromHeaders(f *testing.F) {
	f.Add("th_abc", "")
	f.Add("", "Bearer th_abc")
	f.Add("", "bEaReR \t x")
	f.Add("\x00", "Bearer\x00")
	f.Fuzz(func(t *testing.T, xKey, auth string) {
		h := http.Header{}
		h["X-Api-Key"] = []string{xKey}
		h["Authorization"] = []string{auth}
		key, present := api.APIKeyFromHeaders(h)
		if present != (key != "") {
			t.Fatalf("present=%v with key %q", present, key)
		}
		if key != strings.TrimSpace(key) {
			t.Fatalf("key %q not trimmed", key)
		}
	})
}
