package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/toolhost/toolhost/client"
	"github.com/toolhost/toolhost/host/config"
	"github.com/toolhost/toolhost/host/core"
	"github.com/toolhost/toolhost/host/store"
	"github.com/toolhost/toolhost/host/supervisor"
	"github.com/toolhost/toolhost/internal/hosttest"
	"github.com/toolhost/toolhost/internal/testbin"
)

const testKey = "th_test_bootstrap_key_0123456789abcdef"

// env is a real API over loopback: the testkit plugin as a process, a bbolt
// file in a temp dir, the runner and the HTTP server.
type env struct {
	t      testing.TB
	URL    string
	db     *store.DB
	runner *core.Runner
	sup    *supervisor.Supervisor
	dir    string
	client *client.Client
}

type envOptions struct {
	queueSize, workers int
	maxBody            int64
	runsPerSecond      float64 // per-key rate limit on run routes (0: none)
	runBurst           int
	bodyTimeout        time.Duration
	mutate             func(*config.Plugin)
	// models are the model blocks the assistant serves.
	models []config.Model
	// dataDir, when set, is the data directory (default: a temp dir).
	dataDir string
}

func testkit(t testing.TB) string {
	t.Helper()
	p, err := testbin.Build("internal/testplugins/testkit")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func newEnv(t testing.TB, opts ...envOptions) *env {
	t.Helper()
	var o envOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	dir := t.TempDir()
	sp := config.Plugin{Name: "testkit", Path: testkit(t), Timeout: 10 * time.Second, Concurrency: 32,
		Config: map[string]string{"counterFile": dir + "/count", "token": "s3cr3t-config-token"}, ConfigEnv: map[string]string{},
		ActionTimeouts: map[string]time.Duration{}}
	if o.mutate != nil {
		o.mutate(&sp)
	}
	if o.queueSize == 0 {
		o.queueSize, o.workers = 64, 4
	}
	dataDir := dir
	if o.dataDir != "" {
		dataDir = o.dataDir
	}
	cfg := &config.Config{DataDir: dataDir, Plugins: []config.Plugin{sp}, Models: o.models,
		ShutdownGrace: time.Second, MaxBodyBytes: o.maxBody, CORSOrigins: []string{"https://app.example"},
		BodyTimeout: o.bodyTimeout, Queue: config.Queue{Size: o.queueSize, Workers: o.workers},
		RateLimit: config.RateLimit{RunsPerSecond: o.runsPerSecond, Burst: o.runBurst}}
	a := hosttest.Serve(t, cfg, testKey)
	return &env{t: t, URL: a.URL, db: a.DB, runner: a.Runner, sup: a.Supervisor, dir: dir, client: a.Client}
}

type resp = hosttest.Response

// do sends a request with the test key unless headers say otherwise.
func (e *env) do(method, path, body string, headers ...string) resp {
	e.t.Helper()
	return hosttest.Do(e.t, e.client, method, path, body, headers...)
}

func (e *env) wantStatus(r resp, status int) {
	e.t.Helper()
	if r.Status != status {
		e.t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
}

// sseEvent is one parsed Server-Sent Event.
type sseEvent struct {
	ID    string
	Event string
	Data  string
}

func parseSSE(body string) []sseEvent {
	var out []sseEvent
	for _, block := range strings.Split(body, "\n\n") {
		var ev sseEvent
		for _, line := range strings.Split(block, "\n") {
			switch {
			case strings.HasPrefix(line, "id: "):
				ev.ID = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.Event = line[7:]
			case strings.HasPrefix(line, "data: "):
				ev.Data = line[6:]
			}
		}
		if ev.Event != "" || ev.Data != "" {
			out = append(out, ev)
		}
	}
	return out
}

func eventNames(evs []sseEvent) []string {
	var out []string
	for _, e := range evs {
		if e.Event != "" {
			out = append(out, e.Event)
		} else {
			out = append(out, e.Data)
		}
	}
	return out
}
