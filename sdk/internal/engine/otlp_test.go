package engine

import (
	"context"
	"io"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"
)

func TestTracingOffSetsNothingUp(t *testing.T) {
	before := otel.GetTracerProvider()
	for name, env := range map[string]map[string]string{
		"no endpoint": {},
		"disabled":    {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_SDK_DISABLED": "true"},
	} {
		tp, err := setupTracing("p", "1", func(k string) string { return env[k] }, io.Discard)
		if tp != nil || err != nil {
			t.Errorf("%s: tracer provider %v, %v; want none", name, tp, err)
		}
	}
	if otel.GetTracerProvider() != before {
		t.Error("tracing off changed the global tracer provider")
	}
	ctx := context.Background()
	got, end := startActionSpan(ctx, nil, "p", "a", "run_1")
	end(&Error{Code: CodeActionFailed})
	if got != ctx || trace.SpanFromContext(got).SpanContext().IsValid() {
		t.Error("tracing off: the call's context changed")
	}
	flushTracing(nil)
}
