package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	gomcp "github.com/modelcontextprotocol/go-sdk/mcp"
)

// mcpPostDoor names the target that sends each noop run as one Streamable
// HTTP POST of a tools/call on protocol 2025-11-25 (the era most clients
// speak), its answer read and checked with the go-sdk's JSON-RPC decoding:
// a client as lean as the HTTP run route's, so the two doors' figures
// differ by what the server does, where the go-sdk client's (mcpDoor)
// also carry that client's own work on the shared CPUs.
const mcpPostDoor = "toolhost-mcp-post"

// mcpPostVersion is the protocol version mcpPostDoor speaks.
const mcpPostVersion = "2025-11-25"

// newMCPPostTarget prepares the tools/call bodies of mcpTools for base's
// /mcp.
func newMCPPostTarget(base, key string) (*target, error) {
	t := newTarget(mcpPostDoor, base, key)
	t.mcpBodies = map[string][]byte{}
	for _, tool := range mcpTools {
		params, err := json.Marshal(&gomcp.CallToolParams{Name: tool, Arguments: map[string]any{}})
		if err != nil {
			return nil, err
		}
		id, err := jsonrpc.MakeID(float64(1)) // as a decoded JSON number
		if err != nil {
			return nil, err
		}
		body, err := jsonrpc.EncodeMessage(&jsonrpc.Request{ID: id, Method: "tools/call", Params: params})
		if err != nil {
			return nil, err
		}
		t.mcpBodies[tool] = body
	}
	return t, nil
}

// postTool sends one tools/call of tool and checks its answer: a JSON-RPC
// result with structuredContent and without isError.
func (t *target) postTool(ctx context.Context, tool string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.base+"/mcp", bytes.NewReader(t.mcpBodies[tool]))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Protocol-Version", mcpPostVersion)
	req.Header.Set("Authorization", "Bearer "+t.key)
	res, err := t.client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return &errStatus{res.StatusCode, string(body[:min(len(body), 300)])}
	}
	return checkToolAnswer(tool, res.Header.Get("Content-Type"), body)
}

// checkToolAnswer finds the JSON-RPC response in an answer (the last
// message of an SSE stream, or the JSON body) and checks it is a
// successful tool result.
func checkToolAnswer(tool, contentType string, body []byte) error {
	data := body
	if bytes.HasPrefix([]byte(contentType), []byte("text/event-stream")) {
		data = nil
		for _, line := range bytes.Split(body, []byte("\n")) {
			if d, ok := bytes.CutPrefix(bytes.TrimRight(line, "\r"), []byte("data:")); ok {
				data = bytes.TrimSpace(d)
			}
		}
	}
	msg, err := jsonrpc.DecodeMessage(data)
	if err != nil {
		return fmt.Errorf("tools/call %s: answer is not a JSON-RPC message (%v): %.300s", tool, err, body)
	}
	resp, ok := msg.(*jsonrpc.Response)
	if !ok {
		return fmt.Errorf("tools/call %s: last message is not a response: %.300s", tool, body)
	}
	if resp.Error != nil {
		return fmt.Errorf("tools/call %s: %w", tool, resp.Error)
	}
	var r struct {
		IsError           bool            `json:"isError"`
		StructuredContent json.RawMessage `json:"structuredContent"`
		Content           json.RawMessage `json:"content"`
	}
	if err := json.Unmarshal(resp.Result, &r); err != nil {
		return fmt.Errorf("tools/call %s: result: %w", tool, err)
	}
	if r.IsError || len(r.StructuredContent) == 0 {
		return fmt.Errorf("tools/call %s: isError %v, structuredContent %q: %.300s", tool, r.IsError, r.StructuredContent, r.Content)
	}
	return nil
}
