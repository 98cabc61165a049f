package supervisor

import (
	"context"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/metadata"

	"github.com/toolhost/toolhost/internal/pluginrpc"
)

// withTraceContext passes the trace of ctx's span (the run's plugin call
// span) on to the plugin as W3C traceparent/tracestate gRPC metadata; the
// sdk puts it in the handler's context. Without a span ctx is unchanged.
func withTraceContext(ctx context.Context) context.Context {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ctx
	}
	md := metadata.MD{}
	propagation.TraceContext{}.Inject(ctx, pluginrpc.MetadataCarrier(md))
	kv := make([]string, 0, 2*len(md))
	for k, vs := range md {
		for _, v := range vs {
			kv = append(kv, k, v)
		}
	}
	return metadata.AppendToOutgoingContext(ctx, kv...)
}
