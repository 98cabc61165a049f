package engine

import (
	"context"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/metadata"

	"github.com/toolhost/toolhost/internal/pluginrpc"
)

// withTraceContext continues the host's trace: the traceparent (and
// tracestate) the host sent as gRPC metadata become the remote parent span
// in ctx, so a handler's OpenTelemetry spans join the run's trace.
func withTraceContext(ctx context.Context) context.Context {
	md, ok := metadata.FromIncomingContext(ctx)
	if !ok || len(md.Get("traceparent")) == 0 {
		return ctx
	}
	return propagation.TraceContext{}.Extract(ctx, pluginrpc.MetadataCarrier(md))
}

// TraceParent is the W3C traceparent of the span in ctx (for a handler,
// the host's plugin call span), "" when there is none.
func TraceParent(ctx context.Context) string {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ""
	}
	c := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, c)
	return c["traceparent"]
}
