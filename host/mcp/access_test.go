package mcp_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	gomcp "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolhost/toolhost/host/domain"
)

const initBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`

func post(t *testing.T, url, body string, headers ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func TestAccess(t *testing.T) {
	h := newHost(t)
	cases := []struct {
		name    string
		headers []string
		status  int
		want    string
	}{
		{"no key", nil, 401, "no API key"},
		{"bad key", []string{"Authorization", "Bearer nope"}, 401, "not valid"},
		{"foreign origin", []string{"x-api-key", testKey, "Origin", "https://evil.example"}, 403, "evil.example"},
		{"allowed origin", []string{"x-api-key", testKey, "Origin", "https://app.example"}, 200, `"protocolVersion"`},
		{"x-api-key", []string{"x-api-key", testKey}, 200, `"protocolVersion"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, body := post(t, h.URL+"/mcp", initBody, c.headers...)
			if res.StatusCode != c.status || !strings.Contains(body, c.want) {
				t.Fatalf("status %d, body %s; want %d with %q", res.StatusCode, body, c.status, c.want)
			}
			if c.status == 401 && !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate: %q", res.Header.Get("WWW-Authenticate"))
			}
		})
	}
	res, body := post(t, h.URL+"/mcp/nosuch", initBody, "x-api-key", testKey)
	if res.StatusCode != 404 || !strings.Contains(body, "nosuch") {
		t.Errorf("unknown plugin endpoint: %d %s", res.StatusCode, body)
	}
}

func TestReadKeyListsButCannotCall(t *testing.T) {
	h := newHost(t)
	plain, _, err := h.app.DB.Keys().CreateKey(context.Background(), "reader", domain.ScopeRead)
	if err != nil {
		t.Fatal(err)
	}
	s := connect(t, h, "/mcp", plain, "2025-06-18", nil)
	lr, err := s.ListTools(context.Background(), nil)
	if err != nil || len(lr.Tools) == 0 {
		t.Fatalf("read key lists: %v, %d tools", err, len(lr.Tools))
	}
	_, err = s.CallTool(context.Background(), &gomcp.CallToolParams{Name: "testkit__echo", Arguments: map[string]any{"text": "x"}})
	if err == nil || !strings.Contains(err.Error(), `lacks the "run" scope`) {
		t.Fatalf("read key calls: %v", err)
	}
	runs, _, _ := h.app.Runner.ListRuns(context.Background(), domain.CallerOf(domain.BootstrapKey()), domain.RunFilter{}, domain.Page{Limit: 5})
	if len(runs) != 0 {
		t.Errorf("a refused call made %d runs", len(runs))
	}
}

// TestPluginEndpoint serves one plugin's actions under their own keys.
func TestPluginEndpoint(t *testing.T) {
	h := newHost(t)
	s := connect(t, h, "/mcp/testkit", testKey, "2025-11-25", nil)
	lr, err := s.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, tool := range lr.Tools {
		names[tool.Name] = true
	}
	if !names["echo"] || names["testkit__echo"] {
		t.Fatalf("tools on /mcp/testkit: %v", names)
	}
	res := call(t, s, "echo", map[string]any{"text": "one plugin"})
	if res.IsError || !strings.Contains(text(t, res), "one plugin") {
		t.Fatalf("echo: %+v", res)
	}
}

// TestCancelNotification cancels a call the way clients that keep the
// stream open do: notifications/cancelled in a POST of its own.
func TestCancelNotification(t *testing.T) {
	h := newHost(t)
	hdr := []string{"x-api-key", testKey, "Mcp-Protocol-Version", "2025-06-18"}
	done := make(chan string, 1)
	start := time.Now()
	go func() {
		_, body := post(t, h.URL+"/mcp", `{"jsonrpc":"2.0","id":"call-7","method":"tools/call","params":{"name":"testkit__sleep","arguments":{"ms":10000}}}`, hdr...)
		done <- body
	}()
	time.Sleep(400 * time.Millisecond)
	cancelAt := time.Now()
	res, body := post(t, h.URL+"/mcp", `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"call-7","reason":"user"}}`, hdr...)
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("cancel notification: %d %s", res.StatusCode, body)
	}
	checkCancelled(t, h, start, cancelAt)
	select {
	case body := <-done:
		if !strings.Contains(body, "cancel") {
			t.Errorf("the cancelled call answered %s", body)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the cancelled call's stream did not end")
	}
}
