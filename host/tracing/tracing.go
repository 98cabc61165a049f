// Package tracing sets up OpenTelemetry traces for the host: an OTLP/HTTP
// exporter when plugins.hcl has a tracing block or the standard
// OTEL_EXPORTER_OTLP_* variables name an endpoint, else nothing at all
// (no tracer: the doors and the core skip every span). It also holds the
// HTTP middleware the doors share, the W3C trace-context propagator, and
// what plugin processes are given to export their spans where the host
// does (plugins.go).
package tracing

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/toolhost/toolhost/host/config"
)

// Name is the instrumentation scope of the host's spans.
const Name = "github.com/toolhost/toolhost"

// Propagator is W3C trace context (traceparent, tracestate).
var Propagator = propagation.TraceContext{}

// Enabled reports whether traces are to be exported: a tracing block, or
// an OTLP endpoint in the environment (OTEL_SDK_DISABLED=true wins).
func Enabled(cfg config.Tracing, getenv func(string) string) bool {
	if strings.EqualFold(getenv("OTEL_SDK_DISABLED"), "true") {
		return false
	}
	return cfg.Enabled || getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// Setup makes the tracer provider that exports over OTLP/HTTP (the
// exporter reads the OTEL_EXPORTER_OTLP_* variables itself; the tracing
// block's endpoint and insecure override them). It returns nil when
// tracing is off. Shut the provider down to flush the last spans.
func Setup(ctx context.Context, cfg config.Tracing, getenv func(string) string, version string) (*sdktrace.TracerProvider, error) {
	if !Enabled(cfg, getenv) {
		return nil, nil
	}
	var opts []otlptracehttp.Option
	if ep := cfg.Endpoint; ep != "" {
		if strings.Contains(ep, "://") {
			opts = append(opts, otlptracehttp.WithEndpointURL(tracesURL(ep)))
		} else {
			opts = append(opts, otlptracehttp.WithEndpoint(ep))
		}
	}
	if cfg.Insecure {
		opts = append(opts, otlptracehttp.WithInsecure())
	}
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, err
	}
	service := cfg.ServiceName
	if service == "" {
		service = getenv("OTEL_SERVICE_NAME")
	}
	if service == "" {
		service = "toolhost"
	}
	ratio := cfg.SampleRatio
	if !cfg.Enabled {
		ratio = 1
	}
	res := resource.NewSchemaless(attribute.String("service.name", service), attribute.String("service.version", version))
	return sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(2*time.Second)),
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio))),
	), nil
}

// tracesURL is the URL spans are posted to: a URL with a path as it is, a
// bare scheme://host:port with /v1/traces (as OTEL_EXPORTER_OTLP_ENDPOINT
// is read).
func tracesURL(ep string) string {
	u, err := url.Parse(ep)
	if err != nil || strings.Trim(u.Path, "/") != "" {
		return ep
	}
	u.Path = "/v1/traces"
	return u.String()
}

// Middleware gives each request a server span, the child of an incoming
// traceparent when there is one. route names the request once it has been
// served (a route template, so that span names stay few); nil tracer: next
// as it is.
func Middleware(tracer trace.Tracer, route func(*http.Request) string, next http.Handler) http.Handler {
	if tracer == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := Propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := tracer.Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("http.request.method", r.Method), attribute.String("url.path", r.URL.Path)))
		defer span.End()
		rec := &StatusWriter{ResponseWriter: w}
		r = r.WithContext(ctx)
		next.ServeHTTP(rec, r)
		if rt := route(r); rt != "" {
			span.SetName(r.Method + " " + rt)
			span.SetAttributes(attribute.String("http.route", rt))
		}
		status := rec.Status()
		span.SetAttributes(attribute.Int("http.response.status_code", status))
		if status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(status))
		}
	})
}

// StatusWriter remembers the status a handler answered with; it passes
// flushes through for streams.
type StatusWriter struct {
	http.ResponseWriter
	status int
}

// Status is the status written (200 when the handler wrote none).
func (s *StatusWriter) Status() int {
	if s.status == 0 {
		return http.StatusOK
	}
	return s.status
}

// WriteHeader notes the first status.
func (s *StatusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *StatusWriter) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(p)
}

// Flush flushes when the writer below can.
func (s *StatusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap is for http.ResponseController.
func (s *StatusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
