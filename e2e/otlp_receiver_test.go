package e2e

import (
	"compress/gzip"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// otlpSpan is one span as an OTLP receiver got it.
type otlpSpan struct {
	Service, Name             string
	TraceID, SpanID, ParentID string // hex; ParentID "" for a root
	Attrs                     map[string]string
	Auth                      string // the Authorization header it came with
}

// otlpReceiver is an OTLP/HTTP trace receiver in the test process: it
// decodes the protobuf ExportTraceServiceRequest bodies posted to
// /v1/traces, as any collector would, and keeps their spans.
type otlpReceiver struct {
	URL   string
	mu    sync.Mutex
	spans []otlpSpan
}

func newOTLPReceiver(t *testing.T) *otlpReceiver {
	t.Helper()
	r := &otlpReceiver{}
	srv := httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

func (r *otlpReceiver) serve(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost || req.URL.Path != "/v1/traces" {
		http.Error(w, "not an OTLP traces request", http.StatusNotFound)
		return
	}
	var body io.Reader = http.MaxBytesReader(w, req.Body, 16<<20)
	if req.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	raw, err := io.ReadAll(body)
	var msg collectortrace.ExportTraceServiceRequest
	if err == nil {
		err = proto.Unmarshal(raw, &msg)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.add(&msg, req.Header.Get("Authorization"))
	out, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

func (r *otlpReceiver) add(msg *collectortrace.ExportTraceServiceRequest, auth string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rs := range msg.ResourceSpans {
		service := ""
		for _, kv := range rs.GetResource().GetAttributes() {
			if kv.Key == "service.name" {
				service = kv.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				attrs := map[string]string{}
				for _, kv := range s.Attributes {
					attrs[kv.Key] = kv.GetValue().GetStringValue()
				}
				r.spans = append(r.spans, otlpSpan{Service: service, Name: s.Name, Attrs: attrs, Auth: auth,
					TraceID: hex.EncodeToString(s.TraceId), SpanID: hex.EncodeToString(s.SpanId),
					ParentID: hex.EncodeToString(s.ParentSpanId)})
			}
		}
	}
}

// waitTrace waits up to timeout for spans named want in trace id, and
// returns the trace's spans by name.
func (r *otlpReceiver) waitTrace(t *testing.T, traceID string, timeout time.Duration, want ...string) map[string]otlpSpan {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got := map[string]otlpSpan{}
		r.mu.Lock()
		for _, s := range r.spans {
			if s.TraceID == traceID {
				got[s.Name] = s
			}
		}
		r.mu.Unlock()
		missing := ""
		for _, w := range want {
			if _, ok := got[w]; !ok {
				missing = w
			}
		}
		if missing == "" {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("the receiver has no span %q in trace %s; it has %v", missing, traceID, got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// count is the number of spans received.
func (r *otlpReceiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.spans)
}
