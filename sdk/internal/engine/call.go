package engine

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/toolhost/toolhost/internal/redact"
)

// Events receives what a handler reports while it runs. The plugin server
// streams them to the host; sdktest records them.
type Events interface {
	Log(level, msg string, fields map[string]any)
	Progress(fraction float64, msg string)
}

type callKey struct{}

// call is what a handler's context carries about its run.
type call struct {
	runID   string
	config  map[string]string
	events  Events
	secrets *secretSet
}

func withCall(ctx context.Context, c *call) context.Context {
	return context.WithValue(ctx, callKey{}, c)
}

var outside = &call{config: map[string]string{}, events: discard{}}

func callFrom(ctx context.Context) *call {
	if c, ok := ctx.Value(callKey{}).(*call); ok {
		return c
	}
	return outside
}

// ConfigFrom returns the configuration of the run ctx belongs to (empty
// outside a run).
func ConfigFrom(ctx context.Context) map[string]string { return callFrom(ctx).config }

// RunID returns the host's id of the run ctx belongs to.
func RunID(ctx context.Context) string { return callFrom(ctx).runID }

// EventsFrom returns where the run's logs and progress go.
func EventsFrom(ctx context.Context) Events { return callFrom(ctx).events }

// AddSecret registers a value that the run's error message and log lines
// must not reveal. Outside a run it does nothing.
func AddSecret(ctx context.Context, value string) {
	if c := callFrom(ctx); c.secrets != nil {
		c.secrets.add(value)
	}
}

// secretSet holds the values a run must never reveal: the plugin's secret
// configuration values, the action's secret inputs, and whatever the
// handler adds with AddSecret. Error messages and log lines are scrubbed
// of them before they leave the plugin.
type secretSet struct {
	mu     sync.Mutex
	values redact.Values
}

func (s *secretSet) add(v ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.values = s.values.With(v...)
}

// scrub replaces every secret in text.
func (s *secretSet) scrub(text string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.values.Scrub(text)
}

// scrubJSON replaces every secret in the strings of a JSON value.
func (s *secretSet) scrubJSON(raw []byte) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.values.ScrubJSON(raw)
}

// scrubbingEvents passes events on with secrets scrubbed from messages and
// string fields.
type scrubbingEvents struct {
	next    Events
	secrets *secretSet
}

func (e scrubbingEvents) Log(level, msg string, fields map[string]any) {
	for k, v := range fields {
		if s, ok := v.(string); ok {
			fields[k] = e.secrets.scrub(s)
		} else if v != nil {
			// Scrub the value as its JSON decodes: json.Marshal escapes
			// &, <, > and more, which a scrub of the bytes would miss.
			if raw, err := json.Marshal(v); err == nil {
				if clean := e.secrets.scrubJSON(raw); string(clean) == string(raw) {
					// nothing secret
				} else if json.Valid(clean) {
					fields[k] = json.RawMessage(clean)
				} else {
					fields[k] = redact.Mark // a secret spanned the JSON syntax
				}
			}
		}
	}
	e.next.Log(level, e.secrets.scrub(msg), fields)
}

func (e scrubbingEvents) Progress(fraction float64, msg string) {
	e.next.Progress(fraction, e.secrets.scrub(msg))
}

type discard struct{}

func (discard) Log(string, string, map[string]any) {}
func (discard) Progress(float64, string)           {}
