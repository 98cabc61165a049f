package e2e

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/toolhost/toolhost/internal/testbin"
)

// tracedServe starts toolhost serve with a tracing block and the traced
// plugin, both exporting to rec; the plugin's batch delay is a minute, so
// its spans reach rec only when it flushes on its way out.
func tracedServe(t *testing.T, rec *otlpReceiver) *proc {
	t.Helper()
	traced, err := testbin.Build("internal/testplugins/traced")
	if err != nil {
		t.Fatal(err)
	}
	top := fmt.Sprintf(`tracing {
  endpoint = %q
  insecure = true
}
plugin "traced" {
  path = %q
  env  = ["OTEL_EXPORTER_OTLP_ENDPOINT=%s", "OTEL_BSP_SCHEDULE_DELAY=60000"]
}
`, rec.URL, traced, rec.URL)
	return startServe(t, serveOpts{Config: serveConfig{Top: top, NoTestkit: true}})
}

// TestTraceReachesThePluginsOwnSpans: a run's trace, exported by the real
// toolhost serve and by the real plugin process to one OTLP receiver, is
// one trace from the caller's traceparent down to the span the plugin's
// handler started: request → run → store write and plugin call → the
// sdk's span for the call → the handler's span.
func TestTraceReachesThePluginsOwnSpans(t *testing.T) {
	rec := newOTLPReceiver(t)
	p := tracedServe(t, rec)
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
	if req := spans["POST /v1/actions/{actionId}/run"]; req.ParentID != callerSpan || req.Service != "toolhost" {
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
