package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	gomcp "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolhost/toolhost/host/config"
	"github.com/toolhost/toolhost/internal/hosttest"
	"github.com/toolhost/toolhost/internal/pgtest"
	"github.com/toolhost/toolhost/internal/testbin"
	"github.com/toolhost/toolhost/internal/testplugins/mcpserver/mcptools"
)

const serversKey = hosttest.Key

func TestMain(m *testing.M) {
	code := m.Run()
	testbin.Cleanup()
	pgtest.Stop()
	os.Exit(code)
}

// newServersHost is a real host over loopback with the given MCP servers.
func newServersHost(t testing.TB, servers ...config.MCPServer) string {
	t.Helper()
	return hostWithStart(t, 3*time.Second, servers...)
}

func hostWithStart(t testing.TB, start time.Duration, servers ...config.MCPServer) string {
	t.Helper()
	return hostWithModels(t, start, nil, servers...)
}

func hostWithModels(t testing.TB, start time.Duration, models []config.Model, servers ...config.MCPServer) string {
	t.Helper()
	return hosttest.StartConfig(t, &config.Config{DataDir: t.TempDir(), ShutdownGrace: time.Second, StartTimeout: start,
		KillGrace: 300 * time.Millisecond, Queue: config.Queue{Size: 16, Workers: 4}, MCPServers: servers, Models: models}).URL
}

func stdioServer(t testing.TB, name string, env ...string) config.MCPServer {
	bin, err := testbin.Build("internal/testplugins/mcpserver")
	if err != nil {
		t.Fatal(err)
	}
	return config.MCPServer{Name: name, Command: []string{bin}, Env: env, Timeout: 5 * time.Second, Concurrency: 4}
}

func request(t testing.TB, method, url, body string, headers ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("x-api-key", serversKey)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

type keyed struct{}

func (keyed) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+serversKey)
	return http.DefaultTransport.RoundTrip(r)
}

func mcpSession(t testing.TB, url string) *gomcp.ClientSession {
	t.Helper()
	c := gomcp.NewClient(&gomcp.Implementation{Name: "test", Version: "1"}, nil)
	s, err := c.Connect(context.Background(), &gomcp.StreamableClientTransport{Endpoint: url,
		HTTPClient: &http.Client{Transport: keyed{}}, DisableStandaloneSSE: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestHostedServerThroughEveryDoor(t *testing.T) {
	bad := stdioServer(t, "broken", "MCPTEST_MODE=junk")
	// A long start timeout: the junk is named as soon as it is read, and a
	// loaded machine may take seconds to start the process at all.
	base := hostWithStart(t, 15*time.Second, stdioServer(t, "test"), bad)

	// The HTTP run route: structured output, text output, isError.
	code, body := request(t, "POST", base+"/v1/actions/test.echo/run", `{"input":{"text":"hello"}}`)
	if code != 200 || !strings.Contains(body, `"output":{"text":"hello"}`) {
		t.Fatalf("echo: %d %s", code, body)
	}
	code, body = request(t, "POST", base+"/v1/actions/test.sayText/run", `{"text":"hi"}`)
	if code != 200 || !strings.Contains(body, `"text":"said: hi"`) {
		t.Fatalf("say_text: %d %s", code, body)
	}
	code, body = request(t, "POST", base+"/v1/actions/test.fail/run", `{"text":"boom"}`)
	if !strings.Contains(body, "it failed: boom") || !strings.Contains(body, "action_failed") {
		t.Fatalf("fail: %d %s", code, body)
	}

	// Progress and logs become the run's SSE events.
	code, body = request(t, "POST", base+"/v1/actions/test.progress/run?stream=true", `{"steps":2}`)
	for _, want := range []string{"event: run.progress", "step 2", "event: run.log", "steps: did step 1", "event: run.succeeded"} {
		if !strings.Contains(body, want) {
			t.Fatalf("stream lacks %q: %d %s", want, code, body)
		}
	}

	// The broken server is named with its reason; the good one serves.
	_, body = request(t, "GET", base+"/v1/plugins", "")
	if !strings.Contains(body, `"key":"broken"`) || !strings.Contains(body, "not JSON-RPC to stdout") || !strings.Contains(body, `"transport":"stdio"`) {
		t.Fatalf("plugins: %s", body)
	}
	_, body = request(t, "GET", base+"/health", "")
	if !strings.Contains(body, `"name":"broken","status":"failed"`) || !strings.Contains(body, `"name":"test","status":"ready"`) {
		t.Fatalf("health: %s", body)
	}

	// History has the run, with the action's id.
	_, body = request(t, "GET", base+"/v1/runs?status=succeeded", "")
	if !strings.Contains(body, "test.echo") && !strings.Contains(body, `"hello"`) {
		t.Fatalf("runs: %s", body)
	}

	// /mcp: the tools as test__echo, and the result.
	s := mcpSession(t, base+"/mcp")
	res, err := s.CallTool(context.Background(), &gomcp.CallToolParams{Name: "test__echo", Arguments: map[string]any{"text": "via mcp"}})
	if err != nil || res.IsError {
		t.Fatalf("/mcp call: %v %+v", err, res)
	}
	raw, _ := json.Marshal(res.StructuredContent)
	if string(raw) != `{"text":"via mcp"}` {
		t.Fatalf("/mcp structured: %s", raw)
	}
	res, err = s.CallTool(context.Background(), &gomcp.CallToolParams{Name: "test__fail", Arguments: map[string]any{"text": "x"}})
	if err != nil || !res.IsError {
		t.Fatalf("/mcp fail: %v %+v", err, res)
	}
	// /mcp/test: the server's tools under their own names.
	s2 := mcpSession(t, base+"/mcp/test")
	res, err = s2.CallTool(context.Background(), &gomcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "direct"}})
	if err != nil || res.IsError {
		t.Fatalf("/mcp/test call: %v %+v", err, res)
	}
}

// TestRemoteServerOverHTTP hosts a go-sdk Streamable HTTP server on
// 127.0.0.1 and checks the configured headers reach it.
func TestRemoteServerOverHTTP(t *testing.T) {
	var team atomic.Value // the X-Team header last seen
	var swapped atomic.Value
	swapped.Store(http.Handler(gomcp.NewStreamableHTTPHandler(func(*http.Request) *gomcp.Server { return mcptools.New() }, nil)))
	remote := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer remote-token-123456" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		team.Store(r.Header.Get("X-Team"))
		swapped.Load().(http.Handler).ServeHTTP(w, r)
	}))
	t.Cleanup(remote.Close) // after the hosts' cleanups
	sp := config.MCPServer{Name: "remote", URL: remote.URL, Timeout: 5 * time.Second, Concurrency: 4,
		Headers: map[string]string{"Authorization": "Bearer remote-token-123456", "X-Team": "blue"}}
	base := newServersHost(t, sp)
	code, body := request(t, "POST", base+"/v1/actions/remote.echo/run", `{"text":"far"}`)
	if code != 200 || !strings.Contains(body, `"text":"far"`) {
		t.Fatalf("remote echo: %d %s", code, body)
	}
	code, body = request(t, "POST", base+"/v1/actions/remote.progress/run?stream=true", `{"steps":2}`)
	if !strings.Contains(body, "event: run.progress") || !strings.Contains(body, "event: run.succeeded") {
		t.Fatalf("remote progress: %d %s", code, body)
	}
	if v, _ := team.Load().(string); v != "blue" {
		t.Fatalf("X-Team seen: %q", v)
	}
	_, body = request(t, "GET", base+"/v1/plugins", "")
	if !strings.Contains(body, `"transport":"http"`) || strings.Contains(body, "remote-token-123456") {
		t.Fatalf("plugins: %s", body)
	}
	// The remote server restarts and forgets its sessions: the call that
	// meets the lost session fails as plugin_unavailable, toolhost
	// reconnects, and the next call succeeds.
	h2 := gomcp.NewStreamableHTTPHandler(func(*http.Request) *gomcp.Server { return mcptools.New() }, nil)
	swapped.Store(http.Handler(h2))
	code, body = request(t, "POST", base+"/v1/actions/remote.echo/run", `{"text":"lost"}`)
	if !strings.Contains(body, "plugin_unavailable") {
		t.Fatalf("after the remote restart: %d %s", code, body)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, body = request(t, "POST", base+"/v1/actions/remote.echo/run", `{"text":"again"}`)
		if code == 200 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code != 200 || !strings.Contains(body, `"text":"again"`) {
		t.Fatalf("no reconnect: %d %s", code, body)
	}

	// A wrong token: the server is failed with the reason, not hanging.
	sp.Headers = map[string]string{"Authorization": "Bearer wrong-token-0000000"}
	sp.Name = "denied"
	base = newServersHost(t, sp)
	_, body = request(t, "GET", base+"/v1/plugins", "")
	if !strings.Contains(body, `"status":"failed"`) || strings.Contains(body, "wrong-token-0000000") {
		t.Fatalf("denied: %s", body)
	}
}
