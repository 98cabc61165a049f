// Package hosttest runs a real toolhost host in a test: plugin processes
// under the supervisor, a bbolt file in a temporary directory, the runner
// and the HTTP API over loopback. Plugin packages use it for integration
// tests through their real binary.
package hosttest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/toolhost/toolhost/client"
	"github.com/toolhost/toolhost/host/app"
	"github.com/toolhost/toolhost/host/config"
	"github.com/toolhost/toolhost/host/core"
	"github.com/toolhost/toolhost/internal/testbin"
)

// Key is the API key the test host accepts.
const Key = "th_hosttest_key_0123456789abcdef"

// Host is a running test host.
type Host struct {
	URL    string
	Runner *core.Runner
	Client *client.Client // sends Key
	t      testing.TB
}

// Plugin describes one plugin to load: the package to build (relative to
// the repository root) and its configuration.
type Plugin struct {
	Name    string
	Package string
	Config  map[string]string
	Timeout time.Duration
}

// Start builds the plugins, starts the host and stops it when the test ends.
func Start(t testing.TB, ps ...Plugin) *Host {
	t.Helper()
	var specs []config.Plugin
	for _, p := range ps {
		bin, err := testbin.Build(p.Package)
		if err != nil {
			t.Fatal(err)
		}
		timeout := p.Timeout
		if timeout == 0 {
			timeout = 20 * time.Second
		}
		specs = append(specs, config.Plugin{Name: p.Name, Path: bin, Config: p.Config, ConfigEnv: map[string]string{},
			Timeout: timeout, Concurrency: 8, AutoMTLS: true, ActionTimeouts: map[string]time.Duration{}})
	}
	cfg := &config.Config{DataDir: t.TempDir(), Plugins: specs, ShutdownGrace: time.Second,
		Queue: config.Queue{Size: 16, Workers: 2}}
	a := Serve(t, cfg, Key)
	return &Host{URL: a.URL, Runner: a.Runner, Client: a.Client, t: t}
}

// StartConfig starts a host on cfg (its plugins and MCP servers as they
// are) and stops it when the test ends.
func StartConfig(t testing.TB, cfg *config.Config) *Host {
	t.Helper()
	a := Serve(t, cfg, Key)
	return &Host{URL: a.URL, Runner: a.Runner, Client: a.Client, t: t}
}

// App is a host built by app.New from a config, served over loopback.
type App struct {
	*app.App
	URL    string
	Client *client.Client // sends the bootstrap key
}

// Serve builds a host from cfg with app.New, as serve does, with key as
// its bootstrap key (TOOLHOST_API_KEY), serves it over loopback and stops
// it when the test ends.
func Serve(tb testing.TB, cfg *config.Config, key string) *App {
	tb.Helper()
	a, err := app.New(context.Background(), app.Options{Config: cfg, Version: "test",
		Logger:    hclog.New(&hclog.LoggerOptions{Output: io.Discard}),
		SecretKey: bytes.Repeat([]byte{7}, 32), KillGrace: 300 * time.Millisecond,
		Getenv: func(k string) string {
			if k == "TOOLHOST_API_KEY" {
				return key
			}
			return ""
		}})
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler)
	tb.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = a.Close(ctx)
	})
	c := client.New(srv.URL, key, client.WithHTTPClient(&http.Client{Timeout: 60 * time.Second}))
	return &App{App: a, URL: srv.URL, Client: c}
}

// Do sends a request with the test key.
func (h *Host) Do(method, path, body string) Response {
	h.t.Helper()
	return Do(h.t, h.Client, method, path, body)
}
