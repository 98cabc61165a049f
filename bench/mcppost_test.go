package main

import (
	"strings"
	"testing"
)

// TestCheckToolAnswer: the plain-POST MCP client takes only a successful
// tool result, from an SSE stream or a JSON body, and names what is wrong
// with anything else.
func TestCheckToolAnswer(t *testing.T) {
	const ok = `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"{}"}],"structuredContent":{}}}`
	sse := func(msgs ...string) string {
		var b strings.Builder
		for _, m := range msgs {
			b.WriteString("event: message\r\ndata: " + m + "\r\n\r\n")
		}
		return b.String()
	}
	progress := `{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":1}}`
	for _, c := range []struct {
		name, ctype, body, err string
	}{
		{"sse", "text/event-stream", sse(ok), ""},
		{"sse after a notification", "text/event-stream", sse(progress, ok), ""},
		{"json", "application/json", ok, ""},
		{"not json", "application/json", "<html>", "not a JSON-RPC message"},
		{"sse without data", "text/event-stream", "event: message\n\n", "not a JSON-RPC message"},
		{"notification last", "text/event-stream", sse(ok, progress), "not a response"},
		{"protocol error", "application/json", `{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"unknown tool"}}`, "unknown tool"},
		{"isError", "application/json", `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"boom"}],"isError":true}}`, "isError true"},
		{"no structuredContent", "application/json", `{"jsonrpc":"2.0","id":1,"result":{"content":[]}}`, "structuredContent"},
		{"result not an object", "application/json", `{"jsonrpc":"2.0","id":1,"result":[1]}`, "result:"},
	} {
		err := checkToolAnswer("testkit__noop", c.ctype, []byte(c.body))
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.err)
		}
	}
}
