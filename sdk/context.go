package sdk

import (
	"context"
	"sort"
)

// Config holds a plugin's configuration values by key.
type Config map[string]string

// Get returns the value for key, or "" when it is not set.
func (c Config) Get(key string) string { return c[key] }

// Missing returns the required keys of params that have no value, sorted.
func (c Config) Missing(params []ConfigParam) []string {
	var out []string
	for _, p := range params {
		if p.Required && c[p.Key] == "" {
			out = append(out, p.Key)
		}
	}
	sort.Strings(out)
	return out
}

// Events receives what a handler reports while it runs. The plugin server
// streams them to the host; sdktest records them.
type Events interface {
	Log(level, msg string, fields map[string]any)
	Progress(fraction float64, msg string)
}

type callKey struct{}

type call struct {
	runID   string
	config  Config
	events  Events
	secrets *secretSet
}

func withCall(ctx context.Context, c *call) context.Context {
	return context.WithValue(ctx, callKey{}, c)
}

func callFrom(ctx context.Context) *call {
	if c, ok := ctx.Value(callKey{}).(*call); ok {
		return c
	}
	return &call{config: Config{}, events: discard{}}
}

// ConfigFrom returns the plugin's configuration for the current run.
func ConfigFrom(ctx context.Context) Config { return callFrom(ctx).config }

// RunID returns the host's id of the current run ("" in sdktest).
func RunID(ctx context.Context) string { return callFrom(ctx).runID }

// LoggerFrom returns a logger whose lines go to the host, live, and into
// the run's history. Never log secrets.
func LoggerFrom(ctx context.Context) *Logger { return &Logger{events: callFrom(ctx).events} }

// Progress reports how far the action is, fraction in 0..1 (negative when
// unknown), with a short message.
func Progress(ctx context.Context, fraction float64, msg string) {
	callFrom(ctx).events.Progress(fraction, msg)
}

// Logger writes log lines to the host. Arguments after the message are
// key/value pairs, as with hclog.
type Logger struct{ events Events }

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

type discard struct{}

func (discard) Log(string, string, map[string]any) {}
func (discard) Progress(float64, string)           {}
