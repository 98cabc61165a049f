package app_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/toolhost/toolhost/host/app"
	"github.com/toolhost/toolhost/host/config"
)

func tracedHost(t *testing.T) (*host, *tracetest.SpanRecorder) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })
	h := newHostWith(t, nil, func(o *app.Options) { o.TracerProvider = tp })
	return h, rec
}

// spansOf waits for the ended spans of trace id, by name.
func spansOf(t *testing.T, rec *tracetest.SpanRecorder, id trace.TraceID, want ...string) map[string]sdktrace.ReadOnlySpan {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := map[string]sdktrace.ReadOnlySpan{}
		for _, s := range rec.Ended() {
			if s.SpanContext().TraceID() == id {
				got[s.Name()] = s
			}
		}
		missing := ""
		for _, w := range want {
			if got[w] == nil {
				missing = w
			}
		}
		if missing == "" {
			return got
		}
		if time.Now().After(deadline) {
			names := []string{}
			for n := range got {
				names = append(names, n)
			}
			t.Fatalf("no span %q in trace %s; have %v", missing, id, names)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestTraceRequestRunPluginOneTrace(t *testing.T) {
	h, rec := tracedHost(t)
	const incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	code, body, _ := h.doWith(t, "POST", "/v1/actions/testkit.traceparent/run", `{}`, testKey,
		map[string]string{"traceparent": incoming})
	if code != 200 {
		t.Fatalf("run: %d %s", code, body)
	}
	id, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	spans := spansOf(t, rec, id, "POST /v1/actions/{actionId}/run", "run testkit.traceparent",
		"plugin.call testkit.traceparent", "store.put_run")
	req, run, call := spans["POST /v1/actions/{actionId}/run"], spans["run testkit.traceparent"], spans["plugin.call testkit.traceparent"]
	if req.Parent().SpanID().String() != "00f067aa0ba902b7" || !req.Parent().IsRemote() {
		t.Errorf("request span's parent = %v; want the incoming traceparent", req.Parent())
	}
	if run.Parent().SpanID() != req.SpanContext().SpanID() {
		t.Errorf("run span's parent is not the request span")
	}
	if call.Parent().SpanID() != run.SpanContext().SpanID() {
		t.Errorf("plugin call span's parent is not the run span")
	}
	if spans["store.put_run"].Parent().SpanID() != run.SpanContext().SpanID() {
		t.Errorf("store span's parent is not the run span")
	}
	// The plugin got the plugin call span's context over gRPC metadata.
	var out struct {
		Data struct {
			Output struct {
				TraceParent string `json:"traceparent"`
			} `json:"output"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	want := "00-" + id.String() + "-" + call.SpanContext().SpanID().String() + "-01"
	if out.Data.Output.TraceParent != want {
		t.Errorf("the plugin saw traceparent %q; want %q (the plugin call span); body %s", out.Data.Output.TraceParent, want, body)
	}
}

func TestTraceWithoutIncomingContextAndFailures(t *testing.T) {
	h, rec := tracedHost(t)
	code, body, _ := h.do(t, "POST", "/v1/actions/testkit.fail/run", `{}`, testKey)
	if code == 0 {
		t.Fatal(body)
	}
	var run sdktrace.ReadOnlySpan
	deadline := time.Now().Add(5 * time.Second)
	for run == nil && time.Now().Before(deadline) {
		for _, s := range rec.Ended() {
			if s.Name() == "run testkit.fail" {
				run = s
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if run == nil {
		t.Fatal("no run span")
	}
	if run.Status().Code.String() != "Error" || !strings.Contains(run.Status().Description, "failed") {
		t.Errorf("failed run's span status = %v", run.Status())
	}
	spansOf(t, rec, run.SpanContext().TraceID(), "POST /v1/actions/{actionId}/run", "plugin.call testkit.fail")
	// A bad traceparent starts a new trace rather than failing the request.
	code, _, _ = h.doWith(t, "POST", "/v1/actions/testkit.noop/run", `{}`, testKey, map[string]string{"traceparent": "00-zz-yy-01"})
	if code != 200 {
		t.Errorf("bad traceparent: %d; want the run to go ahead", code)
	}
}

func TestNoTracerNoTraceparentToPlugin(t *testing.T) {
	h := newHost(t, nil)
	code, body, _ := h.doWith(t, "POST", "/v1/actions/testkit.traceparent/run", `{}`, testKey,
		map[string]string{"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"})
	if code != 200 || !strings.Contains(body, `"traceparent":""`) {
		t.Errorf("tracing off: %d %s; want the plugin to see no trace", code, body)
	}
}

// pluginOTELEnv runs testkit.env on h and returns the plugin process's
// OTEL_ entries, sorted.
func pluginOTELEnv(t *testing.T, h *host) []string {
	t.Helper()
	code, body, _ := h.do(t, "POST", "/v1/actions/testkit.env/run", `{}`, testKey)
	var out struct {
		Data struct {
			Output struct {
				Env []string `json:"env"`
			} `json:"output"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &out); code != 200 || err != nil {
		t.Fatalf("run: %d %v %s", code, err, body)
	}
	var otel []string
	for _, e := range out.Data.Output.Env {
		if strings.HasPrefix(e, "OTEL_") {
			otel = append(otel, e)
		}
	}
	slices.Sort(otel)
	return otel
}

// TestPluginsExportWhereTheHostDoes: with the host exporting spans, a
// plugin whose block sets no OTLP variable gets the host's destination
// (the tracing block's, or the environment's) and its own service name,
// never the host's headers; without an exporter it gets nothing.
func TestPluginsExportWhereTheHostDoes(t *testing.T) {
	sink := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer sink.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer host-secret")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "authorization=Bearer host-secret")
	getenv := func(k string) string {
		if k == "TOOLHOST_API_KEY" {
			return testKey
		}
		return os.Getenv(k)
	}
	block := func(c *config.Config) {
		c.Tracing = config.Tracing{Enabled: true, Endpoint: strings.TrimPrefix(sink.URL, "http://"), Insecure: true, SampleRatio: 1}
	}
	want := []string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=" + sink.URL + "/v1/traces", "OTEL_SERVICE_NAME=testkit"}
	t.Run("tracing block", func(t *testing.T) {
		h := newHostWith(t, block, func(o *app.Options) { o.Getenv = getenv })
		if got := pluginOTELEnv(t, h); !slices.Equal(got, want) {
			t.Errorf("the plugin's OTEL_ environment is %q; want %q", got, want)
		}
	})
	t.Run("environment", func(t *testing.T) {
		t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", sink.URL)
		h := newHostWith(t, nil, func(o *app.Options) { o.Getenv = getenv })
		if got := pluginOTELEnv(t, h); !slices.Equal(got, want) {
			t.Errorf("the plugin's OTEL_ environment is %q; want %q", got, want)
		}
	})
	t.Run("tracing off", func(t *testing.T) {
		t.Setenv("OTEL_SDK_DISABLED", "true")
		h := newHostWith(t, block, func(o *app.Options) { o.Getenv = getenv })
		if got := pluginOTELEnv(t, h); len(got) != 0 {
			t.Errorf("tracing off: the plugin's OTEL_ environment is %q; want none", got)
		}
	})
	t.Run("a tracer provider of the caller's", func(t *testing.T) {
		h, _ := tracedHost(t)
		if got := pluginOTELEnv(t, h); len(got) != 0 {
			t.Errorf("no OTLP exporter: the plugin's OTEL_ environment is %q; want none", got)
		}
	})
}
