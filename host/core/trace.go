package core

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/toolhost/toolhost/host/domain"
)

// Traces: with a tracer set (SetTracer), each run has a span, the child of
// the span in the submitting request's context (the door's), from its
// admission to its recorded end, with child spans for the store writes
// and the plugin call. The plugin call's context carries its span, so the
// executor can pass the trace on to the plugin. Without a tracer nothing
// of this runs.

// SetTracer sets the tracer of run spans (nil: no spans). Set it before
// the runner takes runs.
func (r *Runner) SetTracer(t trace.Tracer) { r.tracer = t }

// startSpan opens the run's span under ctx's span and makes it the parent
// of everything the run does (x.ctx carries it). Called before the run is
// shared.
func (r *Runner) startSpan(ctx context.Context, x *active) {
	if r.tracer == nil {
		return
	}
	name := x.run.ActionKey
	if name == "" {
		name = x.run.Kind
	}
	_, x.span = r.tracer.Start(ctx, "run "+name, trace.WithAttributes(
		attribute.String("toolhost.run.id", x.run.ID),
		attribute.String("toolhost.action", name),
		attribute.String("toolhost.source", x.run.Source)))
	x.ctx = trace.ContextWithSpan(x.ctx, x.span)
}

// endSpan closes the run's span with its final status.
func endSpan(x *active, run *domain.Run) {
	if x.span == nil {
		return
	}
	x.span.SetAttributes(attribute.String("toolhost.run.status", run.Status))
	if run.Error != nil {
		x.span.SetStatus(codes.Error, run.Error.Code+": "+run.Error.Message)
	}
	x.span.End()
}

// child opens a span under the run's for one step; end closes it with the
// step's error. Without a tracer ctx is x.ctx as it is and end does
// nothing.
func (r *Runner) child(ctx context.Context, x *active, name string) (context.Context, func(error)) {
	if x.span == nil {
		return ctx, func(error) {}
	}
	ctx, span := r.tracer.Start(trace.ContextWithSpan(ctx, x.span), name)
	return ctx, func(err error) {
		if err != nil {
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
	}
}

// drop releases an admitted run that will not run (refused before it was
// handed on), closing its span with the reason.
func (r *Runner) drop(x *active, err error) {
	if x.span != nil {
		f := domain.AsError(err)
		endSpan(x, &domain.Run{Status: "refused", Error: &domain.RunError{Code: f.Code, Message: f.Message}})
	}
	r.release(x)
}
