package mcp

import (
	"strings"
	"testing"
)

func TestPeek(t *testing.T) {
	cases := []struct {
		body, method, id, cancelled string
		ok                          bool
	}{
		{`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{}}`, "tools/call", "int64:7", "", true},
		{`{"jsonrpc":"2.0","id":"a","method":"tools/call"}`, "tools/call", "string:a", "", true},
		{`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":7}}`, "notifications/cancelled", "", "int64:7", true},
		{`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"a"}}`, "notifications/cancelled", "", "string:a", true},
		{`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":{}}}`, "", "", "", false},
		{`{"jsonrpc":"2.0","method":"notifications/cancelled"}`, "", "", "", false},
		{`[{"jsonrpc":"2.0","id":1,"method":"tools/call"}]`, "", "", "", false},
		{`{"jsonrpc":"2.0","id":1,"result":{}}`, "", "", "", false},
		{`not json`, "", "", "", false},
		{``, "", "", "", false},
	}
	for _, c := range cases {
		m, id, cancelled, ok := peek([]byte(c.body))
		if m != c.method || id != c.id || cancelled != c.cancelled || ok != c.ok {
			t.Errorf("%s: got %q %q %q %v", c.body, m, id, cancelled, ok)
		}
	}
}

// FuzzPeek: whatever a client sends, peek neither panics nor claims a
// cancellation without a method.
func FuzzPeek(f *testing.F) {
	f.Add([]byte(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{}}`))
	f.Add([]byte(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1e300}}`))
	f.Add([]byte(`{"jsonrpc":"2.0","id":null,"method":""}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		m, _, cancelled, ok := peek(body)
		if !ok && (m != "" || cancelled != "") {
			t.Fatalf("not ok but method %q cancelled %q", m, cancelled)
		}
		if cancelled != "" && m != "notifications/cancelled" {
			t.Fatalf("cancelled %q from method %q", cancelled, m)
		}
	})
}

func TestPluginOf(t *testing.T) {
	for path, want := range map[string]string{"/mcp": "", "/mcp/": "", "/mcp/gmail": "gmail"} {
		if got, ok := pluginOf(path); !ok || got != want {
			t.Errorf("%s: %q %v", path, got, ok)
		}
	}
	for _, path := range []string{"/mcp/a/b", "/mcpx", "/v1/mcp"} {
		if _, ok := pluginOf(path); ok {
			t.Errorf("%s accepted", path)
		}
	}
	if !strings.HasPrefix(toolSep, "_") {
		t.Fatal("separator")
	}
}
