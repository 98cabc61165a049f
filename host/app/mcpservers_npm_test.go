package app_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gomcp "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolhost/toolhost/host/assistant/assistanttest"
	"github.com/toolhost/toolhost/host/config"
)

// filesystemPkg is the npm MCP server the test hosts, pinned.
const filesystemPkg = "@modelcontextprotocol/server-filesystem@2026.8.31"

// TestNPMFilesystemServer hosts the reference filesystem server from npm
// over stdio and reads a file through the run route and through /mcp.
func TestNPMFilesystemServer(t *testing.T) {
	if _, err := exec.LookPath("npx"); err != nil {
		t.Skip("npx (node) is not installed: the npm MCP server cannot run here")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "note.txt"), []byte("hello from a hosted MCP server"), 0o644); err != nil {
		t.Fatal(err)
	}
	sp := config.MCPServer{Name: "fs", Command: []string{"npx", "-y", filesystemPkg, dir},
		Env: []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, Timeout: 30 * time.Second, Concurrency: 4}
	model := assistanttest.New(t)
	base := hostWithModels(t, 120*time.Second, []config.Model{{Name: "fake", BaseURL: model.URL, Model: "fake-model",
		Timeout: 10 * time.Second}}, sp)
	_, body := request(t, "GET", base+"/v1/plugins", "")
	if !strings.Contains(body, `"key":"fs"`) || !strings.Contains(body, `"status":"ready"`) {
		t.Fatalf("the npm server did not start (it is fetched with npx on first use): %s", body)
	}
	code, body := request(t, "POST", base+"/v1/actions/fs.readTextFile/run", `{"input":{"path":"`+filepath.Join(dir, "note.txt")+`"}}`)
	if code != 200 || !strings.Contains(body, "hello from a hosted MCP server") {
		t.Fatalf("read_text_file: %d %s", code, body)
	}
	s := mcpSession(t, base+"/mcp")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := s.CallTool(ctx, &gomcp.CallToolParams{Name: "fs__readTextFile", Arguments: map[string]any{"path": filepath.Join(dir, "note.txt")}})
	if err != nil || res.IsError {
		t.Fatalf("/mcp: %v %+v", err, res)
	}
	tc, ok := res.Content[0].(*gomcp.TextContent)
	if !ok || !strings.Contains(tc.Text, "hello from a hosted MCP server") {
		t.Fatalf("/mcp content: %+v", res.Content)
	}
	// A thread run: the scripted model calls the tool, toolhost runs it.
	note := filepath.Join(dir, "note.txt")
	model.Push(
		assistanttest.Reply{Calls: []assistanttest.Call{{ID: "call_read", Name: "fs_readTextFile", Arguments: `{"path":"` + note + `"}`}}},
		assistanttest.Reply{Content: "The note says hello.", Check: func(t testing.TB, r assistanttest.Request) {
			last := r.Messages[len(r.Messages)-1]
			if text, _ := last.Content.(string); last.Role != "tool" || !strings.Contains(text, "hello from a hosted MCP server") {
				t.Errorf("tool result fed back: %+v", last)
			}
		}},
	)
	_, body = request(t, "POST", base+"/v1/threads", `{"messages":[{"role":"user","content":"What does the note say?"}]}`)
	var th struct {
		Data struct{ ID string } `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &th); err != nil || th.Data.ID == "" {
		t.Fatalf("thread: %s", body)
	}
	code, body = request(t, "POST", base+"/v1/threads/"+th.Data.ID+"/runs", `{}`)
	if code != 200 || !strings.Contains(body, `"status":"succeeded"`) || !strings.Contains(body, "The note says hello.") {
		t.Fatalf("thread run: %d %s", code, body)
	}

	// Outside the allowed directory: the server's error is a failed run.
	code, body = request(t, "POST", base+"/v1/actions/fs.readTextFile/run", `{"path":"/etc/passwd"}`)
	if !strings.Contains(body, "action_failed") {
		t.Fatalf("outside: %d %s", code, body)
	}
}
