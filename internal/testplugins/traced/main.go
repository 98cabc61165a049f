// Command traced is a plugin for the tracing tests: its action starts a
// span of its own with the sdk, under the sdk's span for the call, which
// continues the host's trace. It exports them over OTLP when its
// environment names an endpoint.
package main

import (
	"context"

	"go.opentelemetry.io/otel/attribute"

	"github.com/toolhost/toolhost/sdk"
)

// Input names the step span.
type Input struct {
	Step string `json:"step" title:"Step" description:"Name of the span the action starts."`
}

// Output is what the handler saw.
type Output struct {
	TraceParent string `json:"traceparent" title:"Trace parent" description:"The traceparent in the handler's context."`
	StepSpanID  string `json:"stepSpanId" title:"Step span id" description:"The id of the span the action started."`
}

func work(ctx context.Context, in Input) (Output, error) {
	parent := sdk.TraceParent(ctx)
	_, span := sdk.StartSpan(ctx, in.Step)
	defer span.End()
	span.SetAttributes(attribute.String("traced.step", in.Step))
	return Output{TraceParent: parent, StepSpanID: span.SpanContext().SpanID().String()}, nil
}

func main() {
	sdk.Serve(sdk.Plugin{
		Name: "traced", Title: "Traced", Description: "Starts a span of its own in each run.", Version: "0.1.0",
		Actions: []sdk.Action{
			{Key: "work", Title: "Work", Description: "Starts a span named by its input and ends it.", Type: sdk.Read, Handler: sdk.NewHandler(work)},
		},
	})
}
