package mcp_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	gomcp "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolhost/toolhost/host/app"
	"github.com/toolhost/toolhost/host/config"
	"github.com/toolhost/toolhost/internal/testbin"
)

// reloadable is a host started from a plugins.hcl it can rewrite and
// refresh: the testkit plugin, and the test MCP server hosted as "ms".
type reloadable struct {
	URL, path, dir, testkit, mcpserver string
	app                                *app.App
}

func newReloadable(t *testing.T) *reloadable {
	t.Helper()
	r := &reloadable{dir: t.TempDir()}
	var err error
	if r.testkit, err = testbin.Build("internal/testplugins/testkit"); err != nil {
		t.Fatal(err)
	}
	if r.mcpserver, err = testbin.Build("internal/testplugins/mcpserver"); err != nil {
		t.Fatal(err)
	}
	r.path = filepath.Join(r.dir, "plugins.hcl")
	r.write(t, false)
	getenv := func(k string) string {
		if k == "TOOLHOST_API_KEY" {
			return testKey
		}
		return ""
	}
	cfg, err := config.Load(r.path, getenv)
	if err != nil {
		t.Fatal(err)
	}
	r.app, err = app.New(context.Background(), app.Options{Config: cfg, ConfigPath: r.path, Getenv: getenv, Version: "test",
		Logger: hclog.New(&hclog.LoggerOptions{Output: io.Discard}), SecretKey: bytes.Repeat([]byte{5}, 32), KillGrace: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(r.app.Handler)
	r.URL = srv.URL
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = r.app.Close(ctx)
	})
	return r
}

// write writes plugins.hcl: testkit and ms, and a second testkit named
// "second" when second is set.
func (r *reloadable) write(t *testing.T, second bool) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "data_dir = %q\n", filepath.Join(r.dir, "data"))
	fmt.Fprintf(&b, "plugin \"testkit\" {\n  path = %q\n  auto_mtls = false\n}\n", r.testkit)
	if second {
		fmt.Fprintf(&b, "plugin \"second\" {\n  path = %q\n  auto_mtls = false\n}\n", r.testkit)
	}
	fmt.Fprintf(&b, "mcp_server \"ms\" {\n  command = [%q]\n}\n", r.mcpserver)
	if err := os.WriteFile(r.path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// post sends an API request with the test key and wants a 200.
func (r *reloadable) post(t *testing.T, path, body string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, r.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	got, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %d %s", path, res.StatusCode, got)
	}
	return string(got)
}

// listener is a client session told of list_changed on changed.
func listener(t *testing.T, url, version string, changed chan<- struct{}) *gomcp.ClientSession {
	t.Helper()
	c := gomcp.NewClient(&gomcp.Implementation{Name: "toolhost-test", Version: "1"}, &gomcp.ClientOptions{
		ToolListChangedHandler: func(context.Context, *gomcp.ToolListChangedRequest) {
			select {
			case changed <- struct{}{}:
			default:
			}
		},
	})
	s, err := c.Connect(context.Background(), &gomcp.StreamableClientTransport{Endpoint: url + "/mcp",
		HTTPClient: &http.Client{Transport: keyed{testKey}}}, &gomcp.ClientSessionOptions{ProtocolVersion: version})
	if err != nil {
		t.Fatalf("connect on %s: %v", version, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func toolNames(t *testing.T, s *gomcp.ClientSession) []string {
	t.Helper()
	lr, err := s.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range lr.Tools {
		names = append(names, tool.Name)
	}
	return names
}

// step makes a change and wants list_changed on changed, sent without any
// request in between, then every session's tools/list to satisfy want.
// Notifications of the change before are drained first.
func step(t *testing.T, changed chan struct{}, what string, change func(), want func([]string) bool, sessions ...*gomcp.ClientSession) {
	t.Helper()
	time.Sleep(200 * time.Millisecond) // the SDK sends list_changed 10 ms after the last change
	select {
	case <-changed:
	default:
	}
	change()
	select {
	case <-changed:
	case <-time.After(10 * time.Second):
		t.Fatalf("no notifications/tools/list_changed within 10s after %s", what)
	}
	for _, s := range sessions {
		deadline := time.Now().Add(10 * time.Second)
		for names := toolNames(t, s); !want(names); names = toolNames(t, s) {
			if time.Now().After(deadline) {
				t.Fatalf("after %s, tools/list says %v", what, names)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// TestToolListChanged: a 2026-07-28 session (subscriptions/listen, which
// the go-sdk client opens when it has a ToolListChangedHandler) gets
// notifications/tools/list_changed when plugins change: a hosted server
// adds a tool, a refresh adds a plugin, a hosted server restarts with its
// first tool list. A 2025-11-25 session cannot get it from a stateless
// server (no standalone stream: GET /mcp is 405); it sees each change in
// its next tools/list.
func TestToolListChanged(t *testing.T) {
	r := newReloadable(t)
	modern, legacy := make(chan struct{}, 1), make(chan struct{}, 1)
	ms := listener(t, r.URL, "2026-07-28", modern)
	ls := listener(t, r.URL, "2025-11-25", legacy)
	if got := ls.InitializeResult().Capabilities.Tools; got == nil || !got.ListChanged {
		t.Fatalf("tools capability %+v: want listChanged", got)
	}
	if names := toolNames(t, ms); !slices.Contains(names, "ms__addTool") || slices.Contains(names, "ms__lateTool") {
		t.Fatalf("tools before: %v", names)
	}

	// A hosted server's tools change while it runs.
	step(t, modern, "a hosted server added a tool", func() { r.post(t, "/v1/actions/ms.addTool/run", `{"input":{}}`) },
		func(names []string) bool { return slices.Contains(names, "ms__lateTool") }, ms, ls)

	// A refresh adds a plugin.
	step(t, modern, "a refresh added a plugin", func() {
		r.write(t, true)
		r.post(t, "/v1/admin/plugins/refresh", "")
	}, func(names []string) bool { return slices.Contains(names, "second__noop") }, ms, ls)

	// The hosted server dies and is restarted: its tools are its first
	// ones again (late_tool is gone), noticed without any request.
	step(t, modern, "the hosted server restarted with other tools", func() {
		pid := 0
		for _, s := range r.app.MCPServers.List() {
			if s.Name() == "ms" {
				pid = s.Info().PID
			}
		}
		if pid <= 1 {
			t.Fatalf("hosted server ms has pid %d", pid)
		}
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
	}, func(names []string) bool {
		return !slices.Contains(names, "ms__lateTool") && slices.Contains(names, "ms__addTool")
	}, ms, ls)

	select {
	case <-legacy:
		t.Fatal("a 2025-11-25 session got list_changed from a stateless server: update the docs")
	default:
	}
	req, _ := http.NewRequest(http.MethodGet, r.URL+"/mcp", nil)
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("Accept", "text/event-stream")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET /mcp (a standalone stream): %d, want 405", res.StatusCode)
	}
}
