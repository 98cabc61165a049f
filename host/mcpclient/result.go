package mcpclient

import (
	"encoding/json"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolhost/toolhost/host/domain"
)

// output maps a tool result to the run's output: structuredContent when
// the server sent it, else {"content":[...]} (see contentSummary). An
// isError result is an action_failed error with the result's text.
// scrub removes the server's secrets.
func output(res *mcp.CallToolResult, scrub func(string) string) ([]byte, error) {
	if res.IsError {
		msg := strings.TrimSpace(scrub(resultText(res)))
		if msg == "" {
			msg = "the MCP server reported a tool error without a message"
		}
		return nil, domain.Errorf(domain.CodeActionFailed, "%s", msg)
	}
	var doc any = map[string]any{"content": contentSummary(res.Content)}
	if res.StructuredContent != nil {
		doc = res.StructuredContent
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, domain.Errorf(domain.CodeOutputInvalid, "the MCP server's result cannot be encoded: %v", err)
	}
	clean := scrub(string(raw))
	if clean != string(raw) && !json.Valid([]byte(clean)) {
		return nil, domain.Errorf(domain.CodeOutputInvalid, "the MCP server's result contains a secret inside its JSON syntax")
	}
	return []byte(clean), nil
}

// resultText is the text of the result's text content, one block a line.
func resultText(res *mcp.CallToolResult) string {
	var parts []string
	for _, c := range res.Content {
		if t, ok := c.(*mcp.TextContent); ok {
			parts = append(parts, t.Text)
		}
	}
	return strings.Join(parts, "\n")
}

// contentSummary is the content as run history keeps it: text as it is;
// images, audio and embedded resources by type, MIME type and size (their
// bytes are not stored); resource links as they are.
func contentSummary(content []mcp.Content) []map[string]any {
	out := make([]map[string]any, 0, len(content))
	for _, c := range content {
		switch v := c.(type) {
		case *mcp.TextContent:
			out = append(out, map[string]any{"type": "text", "text": v.Text})
		case *mcp.ImageContent:
			out = append(out, map[string]any{"type": "image", "mimeType": v.MIMEType, "size": len(v.Data)})
		case *mcp.AudioContent:
			out = append(out, map[string]any{"type": "audio", "mimeType": v.MIMEType, "size": len(v.Data)})
		case *mcp.ResourceLink:
			out = append(out, map[string]any{"type": "resource_link", "uri": v.URI, "name": v.Name, "mimeType": v.MIMEType})
		case *mcp.EmbeddedResource:
			out = append(out, resourceSummary(v.Resource))
		default:
			out = append(out, map[string]any{"type": "unknown"})
		}
	}
	return out
}

func resourceSummary(r *mcp.ResourceContents) map[string]any {
	m := map[string]any{"type": "resource"}
	if r == nil {
		return m
	}
	m["uri"], m["mimeType"] = r.URI, r.MIMEType
	if r.Blob != nil {
		m["size"] = len(r.Blob)
	} else {
		m["size"] = len(r.Text)
		m["text"] = r.Text
	}
	return m
}
