package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	gomcp "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolhost/toolhost/host/config"
	"github.com/toolhost/toolhost/host/domain"
	"github.com/toolhost/toolhost/internal/hosttest"
	"github.com/toolhost/toolhost/internal/testplugins/mcpserver/mcptools"
)

// notes collects the notifications a client session hears.
type notes struct {
	mu       sync.Mutex
	progress []*gomcp.ProgressNotificationParams
	logs     []*gomcp.LoggingMessageParams
}

func (n *notes) client() *gomcp.Client {
	return gomcp.NewClient(&gomcp.Implementation{Name: "test", Version: "1"}, &gomcp.ClientOptions{
		ProgressNotificationHandler: func(_ context.Context, r *gomcp.ProgressNotificationClientRequest) {
			n.mu.Lock()
			n.progress = append(n.progress, r.Params)
			n.mu.Unlock()
		},
		LoggingMessageHandler: func(_ context.Context, r *gomcp.LoggingMessageRequest) {
			n.mu.Lock()
			n.logs = append(n.logs, r.Params)
			n.mu.Unlock()
		},
	})
}

// inMemorySession is a session with the test server itself, in memory.
func inMemorySession(t *testing.T, n *notes) *gomcp.ClientSession {
	t.Helper()
	ct, st := gomcp.NewInMemoryTransports()
	ss, err := mcptools.New().Connect(context.Background(), st, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ss.Close() })
	cs, err := n.client().Connect(context.Background(), ct, &gomcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

// hostedSession is a session with /mcp/{server} at 2025-11-25, the
// version the conformance suite speaks (logging/setLevel still exists).
func hostedSession(t *testing.T, url string, n *notes) *gomcp.ClientSession {
	t.Helper()
	cs, err := n.client().Connect(context.Background(), &gomcp.StreamableClientTransport{Endpoint: url,
		HTTPClient: &http.Client{Transport: keyed{}}, DisableStandaloneSSE: true}, &gomcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

func toolsByName(t *testing.T, cs *gomcp.ClientSession) map[string]string {
	t.Helper()
	lr, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, tool := range lr.Tools {
		b, _ := json.Marshal(tool)
		out[tool.Name] = string(b)
	}
	return out
}

func call(t *testing.T, cs *gomcp.ClientSession, name string, args map[string]any) *gomcp.CallToolResult {
	t.Helper()
	p := &gomcp.CallToolParams{Name: name, Arguments: args}
	p.SetProgressToken("tok-" + name)
	res, err := cs.CallTool(context.Background(), p)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return res
}

// sameResult is the result as JSON without toolhost's _meta run id.
func sameResult(res *gomcp.CallToolResult) string {
	c := *res
	c.Meta = nil
	b, _ := json.Marshal(&c)
	return string(b)
}

// TestPassthroughLooksLikeTheServer: /mcp/{server} lists the server's
// tools as the server does and answers each call, with its notifications,
// as the server does; every call is a run in history.
func TestPassthroughLooksLikeTheServer(t *testing.T) {
	base := newServersHost(t, stdioServer(t, "test"))
	var dn, hn notes
	direct, hosted := inMemorySession(t, &dn), hostedSession(t, base+"/mcp/test", &hn)
	for _, cs := range []*gomcp.ClientSession{direct, hosted} {
		//lint:ignore SA1019 the test server logs only to clients that set a level
		if err := cs.SetLoggingLevel(context.Background(), &gomcp.SetLoggingLevelParams{Level: "info"}); err != nil {
			t.Fatal(err)
		}
	}

	want, got := toolsByName(t, direct), toolsByName(t, hosted)
	for name, w := range want {
		if got[name] != w {
			t.Errorf("tool %s:\n hosted %s\n direct %s", name, got[name], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("hosted lists %d tools, the server %d", len(got), len(want))
	}

	cases := []struct {
		tool string
		args map[string]any
	}{
		{"echo", map[string]any{"text": "hi"}},
		{"say_text", map[string]any{"text": "hi"}},
		{"fail", map[string]any{"text": "boom"}},
		{"image", map[string]any{}},
		{"progress", map[string]any{"steps": 3}},
	}
	for _, c := range cases {
		d, h := call(t, direct, c.tool, c.args), call(t, hosted, c.tool, c.args)
		if sameResult(d) != sameResult(h) {
			t.Errorf("%s:\n hosted %s\n direct %s", c.tool, sameResult(h), sameResult(d))
		}
		runID, _ := h.Meta["toolhost/run_id"].(string)
		if runID == "" {
			t.Errorf("%s: no run id in _meta: %+v", c.tool, h.Meta)
			continue
		}
		_, body := request(t, "GET", base+"/v1/runs/"+runID, "")
		if !strings.Contains(body, `"source":"mcp"`) {
			t.Errorf("%s: run %s: %s", c.tool, runID, body)
		}
		if c.tool == "image" && !strings.Contains(body, `{"mimeType":"image/png","size":12,"type":"image"}`) {
			t.Errorf("image: history keeps no summary: %s", body)
		}
	}
	// The same progress and log notifications, in the same order.
	dn.mu.Lock()
	hn.mu.Lock()
	defer dn.mu.Unlock()
	defer hn.mu.Unlock()
	dp, hp, dl, hl := marshal(dn.progress), marshal(hn.progress), marshal(dn.logs), marshal(hn.logs)
	if dp != hp || len(hn.progress) != 3 {
		t.Errorf("progress:\n hosted %s\n direct %s", hp, dp)
	}
	if dl != hl || len(hn.logs) != 3 {
		t.Errorf("logs:\n hosted %s\n direct %s", hl, dl)
	}
}

func marshal(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestPassthroughScrubsSecrets: a result and an error passed through keep
// no secret.
func TestPassthroughScrubsSecrets(t *testing.T) {
	sp := stdioServer(t, "test", "SECRET_TOKEN=s3cr3t-passthrough-value")
	sp.Secrets = []string{"SECRET_TOKEN"}
	base := newServersHost(t, sp)
	var n notes
	hosted := hostedSession(t, base+"/mcp/test", &n)
	res := call(t, hosted, "leak", map[string]any{})
	b, _ := json.Marshal(res)
	if !res.IsError || strings.Contains(string(b), "s3cr3t-passthrough-value") || !strings.Contains(string(b), "[redacted]") {
		t.Fatalf("leak: %s", b)
	}
}

// withHeader adds a header (and the API key) to every request.
type withHeader struct{ name, value string }

func (h withHeader) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(h.name, h.value)
	return keyed{}.RoundTrip(r)
}

// TestPassthroughKeepsThePipeline: on /mcp/{server}, a call still has the
// run's timeout and its Idempotency-Key replays the first call's run.
func TestPassthroughKeepsThePipeline(t *testing.T) {
	sp := stdioServer(t, "test")
	sp.Timeout = 400 * time.Millisecond
	base := newServersHost(t, sp)
	var n notes
	hosted := hostedSession(t, base+"/mcp/test", &n)
	res := call(t, hosted, "sleep", map[string]any{"ms": 5000})
	if b, _ := json.Marshal(res); !res.IsError || !strings.Contains(string(b), "timed out") {
		t.Fatalf("sleep past the timeout: %s", b)
	}

	cs, err := n.client().Connect(context.Background(), &gomcp.StreamableClientTransport{Endpoint: base + "/mcp/test",
		HTTPClient: &http.Client{Transport: withHeader{"Idempotency-Key", "same-call-1"}}, DisableStandaloneSSE: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	first := call(t, cs, "echo", map[string]any{"text": "once"})
	again := call(t, cs, "echo", map[string]any{"text": "once"})
	if first.Meta["toolhost/run_id"] == nil || first.Meta["toolhost/run_id"] != again.Meta["toolhost/run_id"] {
		t.Fatalf("runs %v and %v", first.Meta, again.Meta)
	}
	if sameResult(first) != sameResult(again) || again.IsError {
		t.Fatalf("replay:\n %s\n %s", sameResult(first), sameResult(again))
	}
}

// withKey sends another API key.
type withKey string

func (k withKey) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+string(k))
	return http.DefaultTransport.RoundTrip(r)
}

// TestPassthroughRelaysResourcesAndPrompts: resources and prompts of the
// server reach the client through /mcp/{server} (secrets scrubbed), with
// the read scope.
func TestPassthroughRelaysResourcesAndPrompts(t *testing.T) {
	sp := stdioServer(t, "test", "SECRET_TOKEN=s3cr3t-resource-value")
	sp.Secrets = []string{"SECRET_TOKEN"}
	h := hosttest.Serve(t, &config.Config{DataDir: t.TempDir(), ShutdownGrace: time.Second, StartTimeout: 3 * time.Second,
		KillGrace: 300 * time.Millisecond, Queue: config.Queue{Size: 16, Workers: 4}, MCPServers: []config.MCPServer{sp}}, serversKey)
	var n notes
	cs, err := n.client().Connect(context.Background(), &gomcp.StreamableClientTransport{Endpoint: h.URL + "/mcp/test",
		HTTPClient: &http.Client{Transport: keyed{}}, DisableStandaloneSSE: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if caps := cs.InitializeResult().Capabilities; caps.Resources == nil || caps.Prompts == nil {
		t.Fatalf("capabilities %+v", caps)
	}
	rr, err := cs.ReadResource(context.Background(), &gomcp.ReadResourceParams{URI: "test://hello"})
	if err != nil || len(rr.Contents) != 1 || rr.Contents[0].Text != "hello, [redacted]" {
		t.Fatalf("read: %v %s", err, marshal(rr))
	}
	gp, err := cs.GetPrompt(context.Background(), &gomcp.GetPromptParams{Name: "greet", Arguments: map[string]string{"who": "Ada"}})
	if err != nil || marshal(gp.Messages) != `[{"content":{"type":"text","text":"Greet Ada"},"role":"user"}]` {
		t.Fatalf("prompt: %v %s", err, marshal(gp))
	}
	if _, err := cs.ReadResource(context.Background(), &gomcp.ReadResourceParams{URI: "test://nothing"}); err == nil {
		t.Fatal("an unknown resource was read")
	}

	runOnly, _, err := h.DB.Keys().CreateKey(context.Background(), "runner", domain.ScopeRun)
	if err != nil {
		t.Fatal(err)
	}
	cs2, err := n.client().Connect(context.Background(), &gomcp.StreamableClientTransport{Endpoint: h.URL + "/mcp/test",
		HTTPClient: &http.Client{Transport: withKey(runOnly)}, DisableStandaloneSSE: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs2.Close()
	if _, err := cs2.ReadResource(context.Background(), &gomcp.ReadResourceParams{URI: "test://hello"}); err == nil || !strings.Contains(err.Error(), `"read" scope`) {
		t.Fatalf("a key without read read a resource: %v", err)
	}
}
