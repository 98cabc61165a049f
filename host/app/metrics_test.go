package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/toolhost/toolhost/host/config"
	"github.com/toolhost/toolhost/host/domain"
)

// scrape GETs /metrics and parses it as Prometheus' text format.
func scrape(t *testing.T, h *host, key string) map[string]*dto.MetricFamily {
	t.Helper()
	code, body, hdr := h.do(t, "GET", "/metrics", "", key)
	if code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", code, body)
	}
	if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("Content-Type %q; want the text format", ct)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("the scrape does not parse: %v\n%s", err, body)
	}
	return fams
}

// find is the metric of family name whose labels include want.
func find(fams map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
	f := fams[name]
	if f == nil {
		return nil
	}
next:
	for _, m := range f.Metric {
		got := map[string]string{}
		for _, l := range m.Label {
			got[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if got[k] != v {
				continue next
			}
		}
		return m
	}
	return nil
}

func TestMetricsAfterKnownRuns(t *testing.T) {
	h := newHost(t, nil)
	for i := 0; i < 3; i++ {
		if code, body, _ := h.do(t, "POST", "/v1/actions/testkit.echo/run", `{"text":"hi"}`, testKey); code != 200 {
			t.Fatalf("echo: %d %s", code, body)
		}
	}
	if code, body, _ := h.do(t, "POST", "/v1/actions/testkit.fail/run", `{}`, testKey); code == 200 && !strings.Contains(body, "failed") {
		t.Fatalf("fail: %d %s", code, body)
	}
	h.do(t, "GET", "/v1/runs/run_nope", "", testKey) // a 404 on a templated route

	fams := scrape(t, h, testKey)
	if m := find(fams, "toolhost_runs_total", map[string]string{"action": "testkit.echo", "status": "succeeded"}); m == nil || m.Counter.GetValue() != 3 {
		t.Errorf("runs_total{testkit.echo,succeeded} = %v; want 3", m)
	}
	if m := find(fams, "toolhost_runs_total", map[string]string{"action": "testkit.fail", "status": "failed"}); m == nil || m.Counter.GetValue() != 1 {
		t.Errorf("runs_total{testkit.fail,failed} = %v; want 1", m)
	}
	hist := find(fams, "toolhost_run_duration_seconds", map[string]string{"action": "testkit.echo"})
	if hist == nil || hist.Histogram.GetSampleCount() != 3 {
		t.Fatalf("run_duration_seconds{testkit.echo} = %v; want 3 samples", hist)
	}
	// An echo takes well under 5s: the 5s bucket holds all three, and the
	// buckets never decrease.
	var last uint64
	for _, b := range hist.Histogram.Bucket {
		if b.GetCumulativeCount() < last {
			t.Errorf("bucket le=%v count %d < %d", b.GetUpperBound(), b.GetCumulativeCount(), last)
		}
		last = b.GetCumulativeCount()
		if b.GetUpperBound() == 5 && b.GetCumulativeCount() != 3 {
			t.Errorf("bucket le=5 holds %d; want 3", b.GetCumulativeCount())
		}
	}
	if m := find(fams, "toolhost_http_requests_total", map[string]string{"method": "POST", "route": "/v1/actions/{actionId}/run", "code": "200"}); m == nil || m.Counter.GetValue() < 3 {
		t.Errorf("http_requests_total for the run route = %v; want ≥ 3", m)
	}
	if m := find(fams, "toolhost_http_requests_total", map[string]string{"route": "/v1/runs/{runId}", "code": "404"}); m == nil || m.Counter.GetValue() != 1 {
		t.Errorf("http_requests_total{/v1/runs/{runId},404} = %v; want 1 (by template, not path)", m)
	}
	if m := find(fams, "toolhost_plugin_up", map[string]string{"plugin": "testkit"}); m == nil || m.Gauge.GetValue() != 1 {
		t.Errorf("plugin_up{testkit} = %v; want 1", m)
	}
	if m := find(fams, "toolhost_plugin_restarts_total", map[string]string{"plugin": "testkit"}); m == nil || m.Counter.GetValue() != 0 {
		t.Errorf("plugin_restarts_total{testkit} = %v; want 0", m)
	}
	if m := find(fams, "toolhost_runs_in_flight", nil); m == nil || m.Gauge.GetValue() != 0 {
		t.Errorf("runs_in_flight = %v; want 0", m)
	}
	if m := find(fams, "toolhost_queue_capacity", nil); m == nil || m.Gauge.GetValue() != 16 {
		t.Errorf("queue_capacity = %v; want 16", m)
	}
	if m := find(fams, "toolhost_queue_depth", nil); m == nil || m.Gauge.GetValue() != 0 {
		t.Errorf("queue_depth = %v; want 0", m)
	}
	// promtool check metrics' rules (promlint) find nothing to fault.
	problems, err := testutil.GatherAndLint(h.app.Metrics.Registry())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
	// Echo and fail write nothing before the plugin call (blocking runs of
	// actions without side effects), but the end of each run is stored.
	if m := find(fams, "toolhost_store_journal_write_duration_seconds", nil); m == nil || m.Histogram.GetSampleCount() == 0 {
		t.Errorf("store_journal_write_duration_seconds = %v; want samples", m)
	}
}

func TestMetricsNeedsReadScope(t *testing.T) {
	h := newHost(t, nil)
	if code, _, hdr := h.do(t, "GET", "/metrics", "", ""); code != 401 || hdr.Get("WWW-Authenticate") == "" {
		t.Errorf("no key: %d (WWW-Authenticate %q); want 401 with a challenge", code, hdr.Get("WWW-Authenticate"))
	}
	if code, _, _ := h.do(t, "GET", "/metrics", "", "th_not_a_key"); code != 401 {
		t.Errorf("bad key: %d; want 401", code)
	}
	runOnly, _, err := h.app.DB.Keys().CreateKey(context.Background(), "runner", domain.ScopeRun)
	if err != nil {
		t.Fatal(err)
	}
	if code, body, _ := h.do(t, "GET", "/metrics", "", runOnly); code != 403 || !strings.Contains(body, "read") {
		t.Errorf("run-only key: %d %s; want 403 naming the read scope", code, body)
	}
	reader, _, err := h.app.DB.Keys().CreateKey(context.Background(), "prometheus", domain.ScopeRead)
	if err != nil {
		t.Fatal(err)
	}
	scrape(t, h, reader)
	if code, _, _ := h.do(t, "POST", "/metrics", "", reader); code != 405 {
		t.Errorf("POST /metrics: %d; want 405", code)
	}
	if code, _, _ := h.do(t, "GET", "/metricsx", "", reader); code != 404 {
		t.Errorf("GET /metricsx: %d; want 404 (not the metrics door)", code)
	}
}

func TestMetricsPublicAndSeparateListen(t *testing.T) {
	pub := newHost(t, func(c *config.Config) { c.Metrics.Public = true })
	scrape(t, pub, "")

	sep := newHost(t, func(c *config.Config) { c.Metrics.Listen = "127.0.0.1:0" })
	if code, _, _ := sep.do(t, "GET", "/metrics", "", testKey); code != 404 {
		t.Errorf("GET /metrics on the main address with metrics_listen set: %d; want 404", code)
	}
	if sep.app.MetricsHandler() == nil {
		t.Fatal("no handler for the metrics address")
	}

	off := newHost(t, func(c *config.Config) { c.Metrics.Disabled = true })
	if code, _, _ := off.do(t, "GET", "/metrics", "", testKey); code != 404 {
		t.Errorf("GET /metrics with metrics off: %d; want 404", code)
	}
}

func TestMetricsCountMCPRequests(t *testing.T) {
	h := newHost(t, nil)
	hdr := map[string]string{"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
	code, body, _ := h.doWith(t, "POST", "/mcp", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`, testKey, hdr)
	if code != 200 {
		t.Fatalf("initialize: %d %s", code, body)
	}
	hdr["MCP-Protocol-Version"] = "2025-06-18"
	for _, b := range []string{
		`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`,
		`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"testkit_echo","arguments":{"text":"x"}}}`,
	} {
		if code, body, _ := h.doWith(t, "POST", "/mcp", b, testKey, hdr); code != 200 {
			t.Fatalf("%s: %d %s", b, code, body)
		}
	}
	fams := scrape(t, h, testKey)
	for _, m := range []string{"initialize", "tools/list", "tools/call"} {
		if got := find(fams, "toolhost_mcp_requests_total", map[string]string{"method": m}); got == nil || got.Counter.GetValue() < 1 {
			t.Errorf("mcp_requests_total{method=%q} = %v; want ≥ 1", m, got)
		}
	}
	if got := find(fams, "toolhost_http_requests_total", map[string]string{"route": "/mcp", "method": "POST"}); got == nil || got.Counter.GetValue() != 3 {
		t.Errorf("http_requests_total{route=/mcp} = %v; want 3", got)
	}
}
