package mcp

import (
	"context"
	"encoding/json"
	"testing"

	gomcp "github.com/modelcontextprotocol/go-sdk/mcp"
)

// A hosted server's tools are outside input: one the SDK cannot serve is
// an error, never a panic, and the others are served.
func TestAddHostedToolRefusesBadTools(t *testing.T) {
	srv := gomcp.NewServer(&gomcp.Implementation{Name: "t", Version: "1"}, nil)
	h := func(context.Context, *gomcp.CallToolRequest) (*gomcp.CallToolResult, error) {
		return &gomcp.CallToolResult{}, nil
	}
	bad := []*gomcp.Tool{
		{Name: "no_schema"},
		{Name: "array_schema", InputSchema: json.RawMessage(`{"type":"array"}`)},
		{Name: "not_json", InputSchema: json.RawMessage(`[1,2`)},
	}
	for _, tool := range bad {
		if err := addHostedTool(srv, tool, h); err == nil {
			t.Errorf("%s: no error", tool.Name)
		}
	}
	if err := addHostedTool(srv, &gomcp.Tool{Name: "good", InputSchema: json.RawMessage(`{"type":"object"}`)}, h); err != nil {
		t.Fatal(err)
	}
	ct, st := gomcp.NewInMemoryTransports()
	ss, err := srv.Connect(context.Background(), st, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	cs, err := gomcp.NewClient(&gomcp.Implementation{Name: "c", Version: "1"}, nil).Connect(context.Background(), ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	lr, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, tool := range lr.Tools {
		names[tool.Name] = true
	}
	if !names["good"] || names["no_schema"] || names["array_schema"] {
		t.Fatalf("tools %v", names)
	}
}

func TestSameLoopbackOrigin(t *testing.T) {
	cases := []struct {
		origin, host string
		want         bool
	}{
		{"http://127.0.0.1:4201", "127.0.0.1:4201", true},
		{"http://localhost:4201", "localhost:4201", true},
		{"http://[::1]:4201", "[::1]:4201", true},
		{"http://127.0.0.1:4201", "127.0.0.1:9999", false},
		{"http://evil.example.com:4201", "evil.example.com:4201", false},
		{"http://10.0.0.5:4201", "10.0.0.5:4201", false},
		{"file://127.0.0.1:4201", "127.0.0.1:4201", false},
		{"null", "127.0.0.1:4201", false},
		{"http://127.0.0.1:4201/%zz", "127.0.0.1:4201", false},
	}
	for _, c := range cases {
		if got := sameLoopbackOrigin(c.origin, c.host); got != c.want {
			t.Errorf("sameLoopbackOrigin(%q, %q) = %v", c.origin, c.host, got)
		}
	}
}
