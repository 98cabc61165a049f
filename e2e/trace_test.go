package e2e

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/toolhost/toolhost/internal/testbin"
)

// tracing says how a traced toolhost serve exports: top-level lines of
// plugins.hcl (a tracing block or none), the server's environment, and
// the traced plugin's env entries.
type tracing struct {
	top, pluginEnv string
	env            []string
}

// tracedServe starts toolhost serve with the traced plugin, set up to
// export spans as tr says.
func tracedServe(t *testing.T, tr tracing) *proc {
	t.Helper()
	traced, err := testbin.Build("internal/testplugins/traced")
	if err != nil {
		t.Fatal(err)
	}
	top := fmt.Sprintf("%s\nplugin \"traced\" {\n  path = %q\n  %s\n}\n", tr.top, traced, tr.pluginEnv)
	return startServe(t, serveOpts{Config: serveConfig{Top: top, NoTestkit: true}, Env: tr.env})
}

// TestTraceReachesThePluginsOwnSpans: a run's trace, exported by the real
// toolhost serve and by the real plugin process to one OTLP receiver, is
// one trace from the caller's traceparent down to the span the plugin's
// handler started: request → run → store write and plugin call → the
// sdk's span for the call → the handler's span. The plugin exports there
// with its block's env entries, or, without them, because the host passes
// it its own destination (from the tracing block or from the host's
// environment), never the host's headers.
func TestTraceReachesThePluginsOwnSpans(t *testing.T) {
	block := func(url string) string { return fmt.Sprintf("tracing {\n  endpoint = %q\n  insecure = true\n}", url) }
	for _, c := range []struct {
		name string
		tr   func(url string) tracing // url: the receiver's
		auth string                   // the host's spans come with it; the plugin's never
	}{
		// The plugin's batch delay is a minute: its spans reach the
		// receiver only when it flushes on its way out.
		{"the block's env entries", func(url string) tracing {
			return tracing{top: block(url),
				pluginEnv: fmt.Sprintf("env = [\"OTEL_EXPORTER_OTLP_ENDPOINT=%s\", \"OTEL_BSP_SCHEDULE_DELAY=60000\"]", url)}
		}, ""},
		{"the host's tracing block", func(url string) tracing { return tracing{top: block(url)} }, ""},
		{"the host's environment", func(url string) tracing {
			return tracing{env: []string{"OTEL_EXPORTER_OTLP_ENDPOINT=" + url, "OTEL_EXPORTER_OTLP_HEADERS=authorization=Bearer host-secret"}}
		}, "Bearer host-secret"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := newOTLPReceiver(t)
			checkPluginTrace(t, rec, tracedServe(t, c.tr(rec.URL)), c.auth)
		})
	}
}

// checkPluginTrace runs traced.work on p in a trace of its own and checks
// the spans rec got for it.
func checkPluginTrace(t *testing.T, rec *otlpReceiver, p *proc, auth string) {
	t.Helper()
	const traceID, callerSpan = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	r := p.do("POST", "/v1/actions/traced.work/run", `{"input":{"step":"fetch page"}}`,
		"traceparent", "00-"+traceID+"-"+callerSpan+"-01")
	wantStatus(t, r, 200)
	var out struct {
		Output struct {
			TraceParent string `json:"traceparent"`
			StepSpanID  string `json:"stepSpanId"`
		} `json:"output"`
	}
	_, data, _, _ := r.Envelope()
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("%v: %s", err, r.Body)
	}
	// Stopping the server stops the plugin gracefully: both flush.
	p.stop(t)
	spans := rec.waitTrace(t, traceID, 10*time.Second, "POST /v1/actions/{actionId}/run", "run traced.work",
		"store.put_run", "plugin.call traced.work", "action traced.work", "fetch page")
	link := func(child, parent string) {
		t.Helper()
		if c, p := spans[child], spans[parent]; c.ParentID != p.SpanID {
			t.Errorf("span %q (%s) has parent %s; want %q (%s)", child, c.Service, c.ParentID, parent, p.SpanID)
		}
	}
	req := spans["POST /v1/actions/{actionId}/run"]
	if req.ParentID != callerSpan || req.Service != "toolhost" {
		t.Errorf("request span: parent %s, service %q; want the caller's span %s, toolhost", req.ParentID, req.Service, callerSpan)
	}
	link("run traced.work", "POST /v1/actions/{actionId}/run")
	link("store.put_run", "run traced.work")
	link("plugin.call traced.work", "run traced.work")
	link("action traced.work", "plugin.call traced.work")
	link("fetch page", "action traced.work")
	action, step := spans["action traced.work"], spans["fetch page"]
	if action.Service != "traced" || step.Service != "traced" {
		t.Errorf("the plugin's spans come from service %q and %q; want traced", action.Service, step.Service)
	}
	if req.Auth != auth || action.Auth != "" || step.Auth != "" {
		t.Errorf("authorization: the host's spans came with %q, the plugin's with %q and %q; want %q and none",
			req.Auth, action.Auth, step.Auth, auth)
	}
	if action.Attrs["toolhost.action"] != "traced.work" || action.Attrs["toolhost.run_id"] == "" || step.Attrs["traced.step"] != "fetch page" {
		t.Errorf("attributes: action %v, step %v", action.Attrs, step.Attrs)
	}
	// What the handler saw is what was exported.
	if want := "00-" + traceID + "-" + action.SpanID + "-01"; out.Output.TraceParent != want {
		t.Errorf("the handler saw traceparent %q; want %q (the sdk's span for the call)", out.Output.TraceParent, want)
	}
	if out.Output.StepSpanID != step.SpanID {
		t.Errorf("the handler's span id %s; the receiver got %s", out.Output.StepSpanID, step.SpanID)
	}
}
