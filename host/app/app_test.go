package app_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/toolhost/toolhost/host/app"
	"github.com/toolhost/toolhost/host/config"
	"github.com/toolhost/toolhost/internal/testbin"
)

const testKey = "th_test_metrics_key_0123456789"

type host struct {
	URL string
	app *app.App
}

// newHost starts a host with the testkit plugin on loopback; tweak
// changes its configuration first.
func newHost(t testing.TB, tweak func(*config.Config)) *host {
	t.Helper()
	return newHostWith(t, tweak, nil)
}

// newHostWith is newHost with a change to the app's options too.
func newHostWith(t testing.TB, tweak func(*config.Config), tweakOpts func(*app.Options)) *host {
	t.Helper()
	bin, err := testbin.Build("internal/testplugins/testkit")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := &config.Config{DataDir: dir, ShutdownGrace: time.Second,
		Queue: config.Queue{Size: 16, Workers: 2},
		Plugins: []config.Plugin{{Name: "testkit", Path: bin, Timeout: 20 * time.Second, Concurrency: 8,
			Config: map[string]string{"counterFile": dir + "/count"}, ConfigEnv: map[string]string{},
			ActionTimeouts: map[string]time.Duration{}}}}
	if tweak != nil {
		tweak(cfg)
	}
	opts := app.Options{Config: cfg, Version: "test",
		Logger:    hclog.New(&hclog.LoggerOptions{Output: io.Discard}),
		SecretKey: bytes.Repeat([]byte{7}, 32), KillGrace: 300 * time.Millisecond,
		Getenv: func(k string) string {
			if k == "TOOLHOST_API_KEY" {
				return testKey
			}
			return ""
		}}
	if tweakOpts != nil {
		tweakOpts(&opts)
	}
	a, err := app.New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = a.Close(ctx)
	})
	return &host{URL: srv.URL, app: a}
}

// do sends a request; key "" sends none.
func (h *host) do(t *testing.T, method, path, body, key string) (int, string, http.Header) {
	t.Helper()
	return h.doWith(t, method, path, body, key, nil)
}

// doWith is do with more headers.
func (h *host) doWith(t *testing.T, method, path, body, key string, hdr map[string]string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, h.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res.Header
}
