package sdk

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"

	"github.com/toolhost/toolhost/sdk/internal/engine"
)

// Config holds a plugin's configuration values by key.
type Config map[string]string

// Get returns the value for key, or "" when it is not set.
func (c Config) Get(key string) string { return c[key] }

// ConfigFrom returns the plugin's configuration for the current run.
func ConfigFrom(ctx context.Context) Config { return Config(engine.ConfigFrom(ctx)) }

// RunID returns the host's id of the current run ("" in sdktest).
func RunID(ctx context.Context) string { return engine.RunID(ctx) }

// AddSecret registers another form of a secret (a normalised password, a
// token derived from one) so that it, too, is scrubbed from the run's error
// message and log lines.
func AddSecret(ctx context.Context, value string) { engine.AddSecret(ctx, value) }

// LoggerFrom returns a logger whose lines go to the host, live, and into
// the run's history. Never log secrets.
func LoggerFrom(ctx context.Context) *Logger { return &Logger{events: engine.EventsFrom(ctx)} }

// Progress reports how far the action is, fraction in 0..1 (negative when
// unknown), with a short message.
func Progress(ctx context.Context, fraction float64, msg string) {
	engine.EventsFrom(ctx).Progress(fraction, msg)
}

// Logger writes log lines to the host. Arguments after the message are
// key/value pairs, as with hclog.
type Logger struct{ events engine.Events }

// Debug logs at debug level.
func (l *Logger) Debug(msg string, kv ...any) { l.log("debug", msg, kv) }

// Info logs at info level.
func (l *Logger) Info(msg string, kv ...any) { l.log("info", msg, kv) }

// Warn logs at warn level.
func (l *Logger) Warn(msg string, kv ...any) { l.log("warn", msg, kv) }

// Error logs at error level.
func (l *Logger) Error(msg string, kv ...any) { l.log("error", msg, kv) }

func (l *Logger) log(level, msg string, kv []any) {
	var fields map[string]any
	if len(kv) > 0 {
		fields = make(map[string]any, len(kv)/2)
		for i := 0; i < len(kv); i += 2 {
			key, _ := kv[i].(string)
			if key == "" {
				key = "arg"
			}
			if i+1 < len(kv) {
				fields[key] = kv[i+1]
			} else {
				fields[key] = nil
			}
		}
	}
	l.events.Log(level, msg, fields)
}

// TraceParent is the W3C traceparent of the span in the handler's context
// ("" when the host does not trace): the host's span for this run's plugin
// call, or, when the plugin exports spans of its own, the sdk's span for
// the call, the child of the host's. Spans started from ctx (StartSpan, or
// any OpenTelemetry tracer) join the run's trace; TraceParent is for
// passing it on by hand (to an HTTP call's traceparent header, say).
func TraceParent(ctx context.Context) string { return engine.TraceParent(ctx) }

// StartSpan starts an OpenTelemetry span named name, the child of the
// span in ctx (for a handler's ctx, the sdk's span for this call, itself
// the child of the host's). End it when the work is done:
//
//	ctx, span := sdk.StartSpan(ctx, "fetch page")
//	defer span.End()
//
// Spans are exported when the plugin's environment names an OTLP endpoint
// (the host passes its own when it exports spans; plugins.hcl's env
// entries may set another); otherwise they are OpenTelemetry's no-op
// spans, which cost next to nothing. Spans from otel.Tracer(...) go to the
// same place.
func StartSpan(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	return otel.Tracer(engine.TracerName).Start(ctx, name, opts...)
}
