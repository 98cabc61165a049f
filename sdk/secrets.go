package sdk

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/toolhost/toolhost/internal/redact"
)

// secretSet holds the values a run must never reveal: the plugin's secret
// configuration values, the action's secret inputs, and whatever the
// handler adds with AddSecret. Error messages and log lines are scrubbed
// of them before they leave the plugin.
type secretSet struct {
	mu     sync.Mutex
	values redact.Values
}

func (s *secretSet) add(v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.values = s.values.With(v)
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

// AddSecret registers another form of a secret (a normalised password, a
// token derived from one) so that it, too, is scrubbed from the run's error
// message and log lines.
func AddSecret(ctx context.Context, value string) {
	if c := callFrom(ctx); c.secrets != nil {
		c.secrets.add(value)
	}
}

// runSecrets collects the secret configuration values and the secret
// inputs, from the input as the input check decoded it.
func runSecrets(params []ConfigParam, config Config, secretInputs []string, input any) *secretSet {
	s := &secretSet{}
	for _, p := range params {
		if p.Secret {
			s.add(config[p.Key])
		}
	}
	if in, ok := input.(map[string]any); ok {
		for _, k := range secretInputs {
			if v, ok := in[k].(string); ok {
				s.add(v)
			}
		}
	}
	return s
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
