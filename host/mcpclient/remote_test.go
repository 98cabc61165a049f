package mcpclient

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolhost/toolhost/host/config"
	"github.com/toolhost/toolhost/host/domain"
	"github.com/toolhost/toolhost/internal/testplugins/mcpserver/mcptools"
)

// remoteServer is the test tools served over Streamable HTTP on
// 127.0.0.1; sessions counts the initialize requests clients sent.
func remoteServer(t *testing.T) (string, *atomic.Int32) {
	t.Helper()
	var sessions atomic.Int32
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return mcptools.New() }, nil)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			body, _ := io.ReadAll(r.Body)
			if bytes.Contains(body, []byte(`"method":"initialize"`)) {
				sessions.Add(1)
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	return ts.URL, &sessions
}

func remoteSpec(url string, timeout time.Duration) config.MCPServer {
	return config.MCPServer{Name: "remote", URL: url, Timeout: timeout, Concurrency: 4}
}

// A remote server that ignores notifications/cancelled has the kill grace
// to end the call; then the session is dropped and a new one connected.
func TestRemoteIgnoredCancelReconnects(t *testing.T) {
	url, sessions := remoteServer(t)
	st, logs := newSet(t, remoteSpec(url, 200*time.Millisecond))
	s := server(t, st, "remote")
	before := sessions.Load()
	start := time.Now()
	// It sleeps far longer than the test waits for the new session.
	_, err := run(s, "stubborn", `{"ms":6000}`)
	wantCode(t, err, domain.CodeActionTimeout)
	if time.Since(start) > 2*time.Second {
		t.Fatalf("the timed-out call took %s", time.Since(start))
	}
	waitFor(t, "a new session", 3*time.Second, func() bool {
		in := s.Info()
		return in.Restarts == 1 && in.Status == domain.PluginReady && sessions.Load() > before
	})
	if !contains(logs.String(), "dropping the session and reconnecting") {
		t.Fatalf("log: %s", logs.String())
	}
	out, err := run(s, "echo", `{"text":"again"}`)
	if err != nil || string(out) != `{"text":"again"}` {
		t.Fatalf("after reconnecting: %s %v", out, err)
	}
}

// A remote server that honours the cancellation keeps its session.
func TestRemoteHonouredCancelKeepsSession(t *testing.T) {
	url, sessions := remoteServer(t)
	st, _ := newSet(t, remoteSpec(url, 200*time.Millisecond))
	s := server(t, st, "remote")
	before := sessions.Load()
	_, err := run(s, "sleep", `{"ms":4000}`)
	wantCode(t, err, domain.CodeActionTimeout)
	time.Sleep(700 * time.Millisecond) // past the kill grace
	if in := s.Info(); in.Restarts != 0 || in.Status != domain.PluginReady || sessions.Load() != before {
		t.Fatalf("info %+v, sessions %d → %d", in, before, sessions.Load())
	}
	if _, err := run(s, "echo", `{"text":"still"}`); err != nil {
		t.Fatal(err)
	}
}
