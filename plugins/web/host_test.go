package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/toolhost/toolhost/internal/hosttest"
)

// TestFetchThroughTheHost runs the real web binary under a real host: a
// page on loopback is fetched when the configuration allows it, and refused
// with a 400 naming url when it does not.
func TestFetchThroughTheHost(t *testing.T) {
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<title>Local page</title><h1>Served on loopback</h1>")
	}))
	defer page.Close()
	h := hosttest.Start(t,
		hosttest.Plugin{Name: "web", Package: "plugins/web", Config: map[string]string{"allow_private": "true"}},
		hosttest.Plugin{Name: "strictweb", Package: "plugins/web", Config: map[string]string{}},
	)

	r := h.Do("POST", "/v1/actions/web.fetch/run", `{"url":"`+page.URL+`"}`)
	_, data, _, _ := r.Envelope()
	var out struct {
		Output FetchOutput `json:"output"`
	}
	if err := json.Unmarshal(data, &out); err != nil || r.Status != 200 {
		t.Fatalf("fetch: %d %s", r.Status, r.Body)
	}
	if out.Output.Title != "Local page" || out.Output.Content != "# Served on loopback" || out.Output.ContentType != "text/html" {
		t.Errorf("output %+v", out.Output)
	}

	r = h.Do("POST", "/v1/actions/strictweb.fetch/run", `{"url":"`+page.URL+`"}`)
	_, _, msg, code := r.Envelope()
	if r.Status != 400 || code != "invalid_input" || !strings.Contains(msg, "127.0.0.1 is a loopback address") {
		t.Fatalf("strict fetch: %d %s", r.Status, r.Body)
	}
}
