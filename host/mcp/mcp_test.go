package mcp_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	gomcp "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolhost/toolhost/host/app"
	"github.com/toolhost/toolhost/host/config"
	"github.com/toolhost/toolhost/host/domain"
	"github.com/toolhost/toolhost/internal/hosttest"
	"github.com/toolhost/toolhost/internal/testbin"
)

const testKey = "th_test_mcp_bootstrap_key_0123456789ab"

func TestMain(m *testing.M) {
	code := m.Run()
	testbin.Cleanup()
	os.Exit(code)
}

// host is a real toolhost over loopback: the testkit plugin as a process,
// a bbolt file in a temp dir, the API and the MCP door.
type host struct {
	URL string
	app *app.App
}

func newHost(t testing.TB) *host {
	t.Helper()
	bin, err := testbin.Build("internal/testplugins/testkit")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := &config.Config{DataDir: dir, ShutdownGrace: time.Second, CORSOrigins: []string{"https://app.example"},
		Queue: config.Queue{Size: 16, Workers: 2},
		Plugins: []config.Plugin{{Name: "testkit", Path: bin, Timeout: 20 * time.Second, Concurrency: 32,
			Config: map[string]string{"counterFile": dir + "/count"}, ConfigEnv: map[string]string{},
			ActionTimeouts: map[string]time.Duration{}}}}
	a := hosttest.Serve(t, cfg, testKey)
	return &host{URL: a.URL, app: a.App}
}

// keyed adds an API key to every request.
type keyed struct{ key string }

func (k keyed) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+k.key)
	return http.DefaultTransport.RoundTrip(r)
}

// notes collects what the server notified, with when it arrived.
type notes struct {
	mu       sync.Mutex
	progress []time.Time
	logs     []string
}

func connect(t *testing.T, h *host, path, key, version string, n *notes) *gomcp.ClientSession {
	t.Helper()
	opts := &gomcp.ClientOptions{}
	if n != nil {
		opts.ProgressNotificationHandler = func(_ context.Context, r *gomcp.ProgressNotificationClientRequest) {
			n.mu.Lock()
			n.progress = append(n.progress, time.Now())
			n.mu.Unlock()
		}
		opts.LoggingMessageHandler = func(_ context.Context, r *gomcp.LoggingMessageRequest) {
			b, _ := json.Marshal(r.Params.Data)
			n.mu.Lock()
			n.logs = append(n.logs, string(b))
			n.mu.Unlock()
		}
	}
	c := gomcp.NewClient(&gomcp.Implementation{Name: "toolhost-test", Version: "1"}, opts)
	s, err := c.Connect(context.Background(), &gomcp.StreamableClientTransport{
		Endpoint: h.URL + path, HTTPClient: &http.Client{Transport: keyed{key}}, DisableStandaloneSSE: true,
	}, &gomcp.ClientSessionOptions{ProtocolVersion: version})
	if err != nil {
		t.Fatalf("connect %s on %s: %v", path, version, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func text(t *testing.T, res *gomcp.CallToolResult) string {
	t.Helper()
	if len(res.Content) != 1 {
		t.Fatalf("content has %d items, want 1: %+v", len(res.Content), res.Content)
	}
	tc, ok := res.Content[0].(*gomcp.TextContent)
	if !ok {
		t.Fatalf("content is %T, not text", res.Content[0])
	}
	return tc.Text
}

func call(t *testing.T, s *gomcp.ClientSession, name string, args any) *gomcp.CallToolResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := s.CallTool(ctx, &gomcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("call %s: %v", name, err)
	}
	return res
}

var toolNameRe = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// TestEras drives /mcp with the go-sdk's own client on every protocol
// version the SDK speaks.
func TestEras(t *testing.T) {
	h := newHost(t)
	for _, v := range gomcp.SupportedProtocolVersions() {
		t.Run(v, func(t *testing.T) {
			n := &notes{}
			s := connect(t, h, "/mcp", testKey, v, n)
			if got := s.InitializeResult().ProtocolVersion; got != v {
				t.Errorf("negotiated %s, asked %s", got, v)
			}
			ctx := context.Background()

			// list: every action, names that pass into function names,
			// schemas and annotations from the action type and hints.
			lr, err := s.ListTools(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			tools := map[string]*gomcp.Tool{}
			for _, tool := range lr.Tools {
				if !toolNameRe.MatchString(tool.Name) {
					t.Errorf("tool name %q does not match %s", tool.Name, toolNameRe)
				}
				tools[tool.Name] = tool
			}
			echo, sleep, crash := tools["testkit__echo"], tools["testkit__sleep"], tools["testkit__crash"]
			if echo == nil || sleep == nil || crash == nil || len(tools) != len(h.app.Runner.Catalog().Actions()) {
				t.Fatalf("tools: %v", keys(tools))
			}
			if echo.Title != "Echo" || echo.Description != "Returns its input." || echo.OutputSchema == nil {
				t.Errorf("echo tool: %+v", echo)
			}
			schema, _ := json.Marshal(echo.InputSchema)
			if !strings.Contains(string(schema), `"text"`) || !strings.Contains(string(schema), `"type":"object"`) {
				t.Errorf("echo inputSchema: %s", schema)
			}
			if a := echo.Annotations; a == nil || a.ReadOnlyHint || a.DestructiveHint == nil || *a.DestructiveHint ||
				!a.IdempotentHint || a.OpenWorldHint == nil || *a.OpenWorldHint {
				t.Errorf("echo (create, idempotent, closed world) annotations: %+v", echo.Annotations)
			}
			if a := sleep.Annotations; a == nil || !a.ReadOnlyHint {
				t.Errorf("sleep (read) annotations: %+v", sleep.Annotations)
			}
			if a := crash.Annotations; a == nil || a.DestructiveHint == nil || !*a.DestructiveHint {
				t.Errorf("crash (update) annotations: %+v", crash.Annotations)
			}

			// call: structured content and the same as JSON text.
			res := call(t, s, "testkit__echo", map[string]any{"text": "hi " + v})
			if res.IsError {
				t.Fatalf("echo failed: %s", text(t, res))
			}
			var fromText, structured map[string]any
			if err := json.Unmarshal([]byte(text(t, res)), &fromText); err != nil {
				t.Fatalf("text content is not JSON: %v", err)
			}
			b, _ := json.Marshal(res.StructuredContent)
			_ = json.Unmarshal(b, &structured)
			if fromText["text"] != "hi "+v || structured["text"] != "hi "+v {
				t.Errorf("echo: text %v structured %v", fromText, structured)
			}
			runID, _ := res.Meta["toolhost/run_id"].(string)

			// the run is in history with its key and door.
			run, err := h.app.Runner.Get(ctx, runID)
			if err != nil {
				t.Fatalf("run %q of the call: %v", runID, err)
			}
			if run.Source != "mcp" || run.KeyName != domain.BootstrapKeyName || run.Status != domain.StatusSucceeded {
				t.Errorf("run: source %q key %q status %q", run.Source, run.KeyName, run.Status)
			}
			hist := httpGet(t, h.URL+"/v1/runs/"+runID)
			if !strings.Contains(hist, `"source":"mcp"`) {
				t.Errorf("GET /v1/runs/%s: %s", runID, hist)
			}

			// a failed action is isError with its message.
			res = call(t, s, "testkit__fail", map[string]any{})
			if !res.IsError || !strings.Contains(text(t, res), "the thing failed") {
				t.Errorf("fail: isError %v, %q", res.IsError, text(t, res))
			}

			// missing and extra arguments name the field.
			res = call(t, s, "testkit__echo", map[string]any{})
			if !res.IsError || !strings.Contains(text(t, res), "text") {
				t.Errorf("missing text: isError %v, %q", res.IsError, text(t, res))
			}
			res = call(t, s, "testkit__echo", map[string]any{"text": "x", "bogus": 1})
			if !res.IsError || !strings.Contains(text(t, res), "bogus") {
				t.Errorf("extra bogus: isError %v, %q", res.IsError, text(t, res))
			}

			// an unknown tool is a protocol error.
			if _, err := s.CallTool(ctx, &gomcp.CallToolParams{Name: "testkit__nope", Arguments: map[string]any{}}); err == nil ||
				!strings.Contains(err.Error(), "testkit__nope") {
				t.Errorf("unknown tool: %v", err)
			}

			// progress arrives live, before the result; logs as messages.
			start := time.Now()
			res, err = s.CallTool(ctx, &gomcp.CallToolParams{Name: "testkit__chatty",
				Arguments: map[string]any{"lines": 4, "delayMs": 100}, Meta: gomcp.Meta{"progressToken": "p-" + v}})
			done := time.Now()
			if err != nil || res.IsError {
				t.Fatalf("chatty: %v %+v", err, res)
			}
			n.mu.Lock()
			prog, logs := n.progress, n.logs
			n.mu.Unlock()
			if len(prog) != 4 {
				t.Fatalf("%d progress notifications, want 4", len(prog))
			}
			if first := prog[0].Sub(start); first > done.Sub(start)-200*time.Millisecond {
				t.Errorf("first progress came %v after the call, the result %v: not live", first, done.Sub(start))
			}
			if v < "2026-07-28" && (len(logs) < 4 || !strings.Contains(logs[0], "line 1")) {
				t.Errorf("log messages: %q", logs)
			}

			// cancelling the call cancels the run; the plugin sees it fast.
			callStart := time.Now()
			cctx, cancel := context.WithCancel(ctx)
			var cancelAt time.Time
			go func() {
				time.Sleep(500 * time.Millisecond)
				cancelAt = time.Now()
				cancel()
			}()
			_, err = s.CallTool(cctx, &gomcp.CallToolParams{Name: "testkit__sleep", Arguments: map[string]any{"ms": 10000}})
			if err == nil {
				t.Fatal("cancelled call returned no error")
			}
			checkCancelled(t, h, callStart, cancelAt)
		})
	}
}

// checkCancelled finds the newest sleep run and checks it was cancelled
// and that the plugin saw it within 100 ms of cancelAt.
func checkCancelled(t *testing.T, h *host, since, cancelAt time.Time) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		runs, _, err := h.app.Runner.ListRuns(context.Background(), domain.CallerOf(domain.BootstrapKey()), domain.RunFilter{}, domain.Page{Limit: 5, Order: "desc"})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range runs {
			if r.ActionKey != "testkit.sleep" || r.CreatedAt.Before(since) || !domain.IsTerminal(r.Status) {
				continue
			}
			if r.Status != domain.StatusCancelled {
				t.Fatalf("sleep run %s ended %s, want cancelled", r.ID, r.Status)
			}
			// The run ends when the plugin's handler returns, which it
			// does on seeing the cancellation.
			if lag := r.FinishedAt.Sub(cancelAt); lag > 100*time.Millisecond || lag < 0 {
				t.Errorf("the run ended %v after the client cancelled, want ≤ 100ms", lag)
			} else {
				t.Logf("the run ended %v after the client cancelled", lag)
			}
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no finished sleep run")
}

func keys(m map[string]*gomcp.Tool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("x-api-key", testKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}
