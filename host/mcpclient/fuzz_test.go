package mcpclient

import (
	"encoding/json"
	"regexp"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolhost/toolhost/internal/manifest"
)

var keyRe = regexp.MustCompile(`^[a-z][a-zA-Z0-9]{0,49}$`)

// FuzzToolCatalog: any tools/list answer maps to valid, unique action keys
// whose schemas the catalog takes, and any tool result maps to JSON output
// or an error.
func FuzzToolCatalog(f *testing.F) {
	f.Add([]byte(`[{"name":"read_file","inputSchema":{"type":"object","properties":{"path":{"type":"string"}}}},{"name":"read-file","inputSchema":{"type":"object"}}]`),
		[]byte(`{"content":[{"type":"text","text":"x"}],"structuredContent":{"a":1}}`))
	f.Add([]byte(`[{"name":"9lives","inputSchema":{"type":"object"},"outputSchema":{"type":"object"},"annotations":{"destructiveHint":true}}]`),
		[]byte(`{"content":[{"type":"image","data":"AAA=","mimeType":"image/png"}],"isError":true}`))
	f.Add([]byte(`[{"name":"ü","inputSchema":{"type":"string"}}]`), []byte(`{"content":[{"type":"resource","resource":{"uri":"x","blob":"AA=="}}]}`))
	f.Fuzz(func(t *testing.T, toolsJSON, resultJSON []byte) {
		var tools []*mcp.Tool
		if json.Unmarshal(toolsJSON, &tools) == nil {
			for i, tl := range tools {
				if tl == nil {
					tools[i] = &mcp.Tool{}
				}
			}
			c := buildCatalog("fuzz", nil, tools)
			seen := map[string]bool{}
			for _, a := range c.manifest.Actions {
				if !keyRe.MatchString(a.Key) || seen[a.Key] {
					t.Fatalf("key %q (dup %v)", a.Key, seen[a.Key])
				}
				seen[a.Key] = true
				if _, err := manifest.ParseSchema(a.InputSchema); err != nil {
					t.Fatalf("input schema %s: %v", a.InputSchema, err)
				}
				if _, err := manifest.ParseSchema(a.OutputSchema); err != nil {
					t.Fatalf("output schema %s: %v", a.OutputSchema, err)
				}
			}
			if len(c.manifest.Actions)+len(c.skipped) != len(tools) {
				t.Fatal("a tool was neither mapped nor skipped")
			}
		}
		var res mcp.CallToolResult
		if json.Unmarshal(resultJSON, &res) == nil {
			out, err := output(&res, func(s string) string { return s })
			if err == nil && !json.Valid(out) {
				t.Fatalf("output %q is not JSON", out)
			}
		}
	})
}

func TestActionKeys(t *testing.T) {
	for in, want := range map[string]string{
		"read_file": "readFile", "read-multiple-files": "readMultipleFiles", "Echo": "echo", "9lives": "t9lives",
		"__x": "x", "": "t", "a.b/c": "aBC", "日本": "t",
	} {
		if got := actionKey(in); got != want {
			t.Errorf("actionKey(%q) = %q, want %q", in, got, want)
		}
	}
	taken := map[string]string{"readFile": "read_file"}
	if got := uniqueKey("readFile", taken); got != "readFile2" {
		t.Errorf("unique: %q", got)
	}
}
