package e2e

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
)

// tsSDKVersion is the official TypeScript SDK the e2e client pins.
const tsSDKVersion = "1.32.2"

// TestMCPStdioBridge drives `toolhost mcp` through stdio, as Claude Desktop
// would, against a real `toolhost serve`.
func TestMCPStdioBridge(t *testing.T) {
	p := startServe(t, serveOpts{})
	cmd := exec.Command(bins.toolhost, "mcp")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "TOOLHOST_URL=" + p.URL, "TOOLHOST_API_KEY=" + p.Key}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := gomcp.NewClient(&gomcp.Implementation{Name: "e2e-stdio", Version: "1"}, nil)
	s, err := c.Connect(ctx, &gomcp.CommandTransport{Command: cmd}, &gomcp.ClientSessionOptions{ProtocolVersion: "2025-06-18"})
	if err != nil {
		t.Fatalf("connect through toolhost mcp: %v", err)
	}
	defer s.Close()
	lr, err := s.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, tool := range lr.Tools {
		found = found || tool.Name == "testkit__echo"
	}
	if !found {
		t.Fatalf("testkit__echo not listed through the bridge: %d tools", len(lr.Tools))
	}
	res, err := s.CallTool(ctx, &gomcp.CallToolParams{Name: "testkit__echo", Arguments: map[string]any{"text": "via stdio"}})
	if err != nil || res.IsError {
		t.Fatalf("call through the bridge: %v %+v", err, res)
	}
	b, _ := json.Marshal(res.StructuredContent)
	if !strings.Contains(string(b), "via stdio") {
		t.Fatalf("structured content %s", b)
	}
	runID, _ := res.Meta["toolhost/run_id"].(string)
	run := p.do("GET", "/v1/runs/"+runID, "").Data(t)
	if run["source"] != "mcp" || run["key_name"] != "bootstrap" {
		t.Fatalf("run in history: %v", run)
	}
}

// TestMCPTypeScriptClient lists and calls a tool with the official
// TypeScript SDK's client against a real `toolhost serve`.
func TestMCPTypeScriptClient(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: the TypeScript MCP client test needs node and npm")
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Skip("npm is not installed: the TypeScript MCP client test needs node and npm")
	}
	dir := tsClientDir(t, npm)
	p := startServe(t, serveOpts{})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, node, filepath.Join(dir, "client.mjs"), p.URL+"/mcp", p.Key).CombinedOutput()
	if err != nil {
		t.Fatalf("TypeScript client: %v\n%s", err, out)
	}
	var got struct {
		Protocol string   `json:"protocol"`
		Tools    []string `json:"tools"`
		Result   struct {
			IsError           bool              `json:"isError"`
			StructuredContent map[string]any    `json:"structuredContent"`
			Content           []json.RawMessage `json:"content"`
		} `json:"result"`
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &got); err != nil {
		t.Fatalf("client output: %v\n%s", err, out)
	}
	t.Logf("TypeScript SDK %s negotiated %s, listed %d tools", tsSDKVersion, got.Protocol, len(got.Tools))
	if !strings.Contains(strings.Join(got.Tools, ","), "testkit__echo") {
		t.Errorf("tools: %v", got.Tools)
	}
	if got.Result.IsError || got.Result.StructuredContent["text"] != "from typescript" || len(got.Result.Content) != 1 {
		t.Errorf("result: %+v", got.Result)
	}
}

// tsClientDir installs the pinned TypeScript SDK (once per machine, in the
// user cache) beside a small client script.
func tsClientDir(t *testing.T, npm string) string {
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "toolhost-e2e", "mcp-ts-sdk-"+tsSDKVersion)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@modelcontextprotocol", "sdk", "package.json")); err != nil {
		if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"private":true,"type":"module"}`), 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, npm, "install", "--no-audit", "--no-fund", "--loglevel=error", "@modelcontextprotocol/sdk@"+tsSDKVersion)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm install @modelcontextprotocol/sdk@%s: %v\n%s", tsSDKVersion, err, out)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "client.mjs"), []byte(tsClient), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

const tsClient = `import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [url, key] = process.argv.slice(2);
const transport = new StreamableHTTPClientTransport(new URL(url), {
  requestInit: { headers: { Authorization: "Bearer " + key } },
});
const client = new Client({ name: "toolhost-e2e", version: "1.0.0" });
await client.connect(transport);
const tools = await client.listTools();
const result = await client.callTool({ name: "testkit__echo", arguments: { text: "from typescript" } });
console.log(JSON.stringify({ protocol: transport.protocolVersion, tools: tools.tools.map((t) => t.name), result }));
await client.close();
`
