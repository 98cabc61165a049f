package engine

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// TracerName is the instrumentation scope of the sdk's own spans.
const TracerName = "github.com/toolhost/toolhost/sdk"

// tracingEnabled reports whether the plugin's environment names an OTLP
// endpoint (the host puts its own there when it exports spans, or
// plugins.hcl's env entries set one); OTEL_SDK_DISABLED=true wins.
func tracingEnabled(getenv func(string) string) bool {
	if strings.EqualFold(getenv("OTEL_SDK_DISABLED"), "true") {
		return false
	}
	return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// setupTracing makes the plugin's OTLP/HTTP exporter (configured by the
// standard OTEL_EXPORTER_OTLP_* and OTEL_BSP_* variables) and installs it
// as OpenTelemetry's global tracer provider, so that otel.Tracer works in
// handlers. It returns nil when tracing is off: then nothing is set up and
// spans started in handlers are OpenTelemetry's no-op ones. Errors of the
// exporter go to stderr (the host logs them), never to stdout, which
// belongs to the go-plugin handshake.
func setupTracing(name, version string, getenv func(string) string, stderr io.Writer) (*sdktrace.TracerProvider, error) {
	if !tracingEnabled(getenv) {
		return nil, nil
	}
	exp, err := otlptracehttp.New(context.Background())
	if err != nil {
		return nil, err
	}
	service := getenv("OTEL_SERVICE_NAME")
	if service == "" {
		service = name
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(resource.NewSchemaless(
			attribute.String("service.name", service), attribute.String("service.version", version))),
	)
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		fmt.Fprintf(stderr, "toolhost plugin %q: tracing: %v\n", name, err)
	}))
	otel.SetTextMapPropagator(propagation.TraceContext{})
	otel.SetTracerProvider(tp)
	return tp, nil
}

// flushTracing sends the spans not yet exported and stops the exporter:
// the plugin calls it on its way out, within the host's grace period.
func flushTracing(tp *sdktrace.TracerProvider) {
	if tp == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	_ = tp.Shutdown(ctx)
}

// startActionSpan starts the plugin's span for one call of an action, the
// child of the host's plugin call span; tracer nil (tracing off): ctx as
// it is and an end that does nothing.
func startActionSpan(ctx context.Context, tracer trace.Tracer, plugin, action, runID string) (context.Context, func(*Error)) {
	if tracer == nil {
		return ctx, func(*Error) {}
	}
	ctx, span := tracer.Start(ctx, "action "+plugin+"."+action, trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("toolhost.action", plugin+"."+action), attribute.String("toolhost.run_id", runID)))
	return ctx, func(rerr *Error) {
		if rerr != nil {
			span.SetStatus(codes.Error, rerr.Code)
		}
		span.End()
	}
}
