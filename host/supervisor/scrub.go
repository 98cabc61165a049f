package supervisor

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/hashicorp/go-hclog"

	"github.com/toolhost/toolhost/internal/manifest"
	"github.com/toolhost/toolhost/internal/redact"
)

// secrets are the configuration values of one plugin that must not reach
// a log line, an API answer or run history through what the plugin says:
// its stderr, its log events, its error messages. The sdk scrubs them on
// the plugin's side; this is the host's own guard, for plugins that print
// them anyway or are not built with the sdk. Until the plugin's manifest
// is known every configuration value counts as secret; after, the values
// of the parameters it declares secret.
type secrets struct {
	vals atomic.Pointer[redact.Values]
	env  []string // the values of the plugin's env entries: always secret
}

func newSecrets(config map[string]string) *secrets {
	s := &secrets{}
	s.set(slices.Collect(maps.Values(config)))
	return s
}

// withEnv makes the values of the plugin's env entries (plugins.hcl's
// env = ["NAME=value", "NAME"]) secret too, whatever the manifest says:
// they are how tokens reach plugins that read them from the environment.
func (s *secrets) withEnv(entries []string, getenv func(string) string) *secrets {
	s.env = envValues(entries, getenv)
	if vs := s.vals.Load(); vs != nil {
		s.set(*vs)
	}
	return s
}

// useManifest narrows the secrets to the values of the parameters m
// declares secret.
func (s *secrets) useManifest(m *manifest.Plugin, config map[string]string) {
	var vals []string
	for _, c := range m.Config {
		if c.Secret {
			vals = append(vals, config[c.Key])
		}
	}
	s.set(vals)
}

// widen adds the new configuration's secret values (every value while m
// is nil) and keeps the old ones, which runs in flight may still say.
func (s *secrets) widen(m *manifest.Plugin, config map[string]string) {
	var vals []string
	for _, c := range configParams(m, config) {
		if c.Secret {
			vals = append(vals, config[c.Key])
		}
	}
	old := s.vals.Load()
	if old == nil {
		s.set(vals)
		return
	}
	vs := old.With(vals...)
	s.vals.Store(&vs)
}

// configParams is m's configuration parameters, or, while m is nil, one
// secret parameter per key of config.
func configParams(m *manifest.Plugin, config map[string]string) []manifest.ConfigParam {
	if m != nil {
		return m.Config
	}
	var out []manifest.ConfigParam
	for k := range config {
		out = append(out, manifest.ConfigParam{Key: k, Secret: true})
	}
	return out
}

func (s *secrets) set(vals []string) {
	vs := redact.Values(nil).With(vals...).With(s.env...)
	s.vals.Store(&vs)
}

// scrub replaces every secret in text. A nil set has none.
func (s *secrets) scrub(text string) string {
	if s == nil {
		return text
	}
	if vs := s.vals.Load(); vs != nil {
		return vs.Scrub(text)
	}
	return text
}

// scrubBytes is scrub for raw text, such as a log event's JSON fields: a
// secret is a JSON string's content there, and "[redacted]" needs no
// escaping, so the JSON stays valid unless a secret spans its syntax, in
// which case the fields are dropped rather than passed on.
func (s *secrets) scrubBytes(raw []byte, valid func([]byte) bool) []byte {
	clean := s.scrubJSON(raw)
	if string(clean) == string(raw) {
		return raw
	}
	if !valid(clean) {
		return nil
	}
	return clean
}

// scrubJSON replaces every secret in the strings of a JSON value, however
// they are escaped (see redact.Values.ScrubJSON).
func (s *secrets) scrubJSON(raw []byte) []byte {
	if s == nil {
		return raw
	}
	if vs := s.vals.Load(); vs != nil {
		return vs.ScrubJSON(raw)
	}
	return raw
}

// scrubArgs scrubs a log line's key/value pairs, as text, copying args
// only when something changes.
func (s *secrets) scrubArgs(args []any) []any {
	var out []any
	for i, a := range args {
		text := argText(a)
		clean := s.scrub(text)
		if clean == text {
			continue
		}
		if out == nil {
			out = slices.Clone(args)
		}
		out[i] = clean
	}
	if out == nil {
		return args
	}
	return out
}

// argText is how a log argument reads.
func argText(a any) string {
	switch v := a.(type) {
	case string:
		return v
	case hclog.Format:
		if len(v) > 0 {
			if f, ok := v[0].(string); ok {
				return fmt.Sprintf(f, v[1:]...)
			}
		}
	}
	return fmt.Sprint(a)
}

// scrubLogger is a logger that scrubs a plugin's secrets from every message
// and argument, including the plugin's stderr lines go-plugin relays
// through it, and the loggers derived from it.
type scrubLogger struct {
	hclog.Logger
	s *secrets
}

func (l scrubLogger) Log(level hclog.Level, msg string, args ...any) {
	if min := l.Logger.GetLevel(); min > hclog.NoLevel && level < min {
		return // not printed: skip the scrubbing
	}
	l.Logger.Log(level, l.s.scrub(msg), l.s.scrubArgs(args)...)
}
func (l scrubLogger) Trace(msg string, args ...any) { l.Log(hclog.Trace, msg, args...) }
func (l scrubLogger) Debug(msg string, args ...any) { l.Log(hclog.Debug, msg, args...) }
func (l scrubLogger) Info(msg string, args ...any)  { l.Log(hclog.Info, msg, args...) }
func (l scrubLogger) Warn(msg string, args ...any)  { l.Log(hclog.Warn, msg, args...) }
func (l scrubLogger) Error(msg string, args ...any) { l.Log(hclog.Error, msg, args...) }

func (l scrubLogger) With(args ...any) hclog.Logger {
	return scrubLogger{l.Logger.With(l.s.scrubArgs(args)...), l.s}
}
func (l scrubLogger) Named(name string) hclog.Logger {
	return scrubLogger{l.Logger.Named(name), l.s}
}
func (l scrubLogger) ResetNamed(name string) hclog.Logger {
	return scrubLogger{l.Logger.ResetNamed(name), l.s}
}

// commonEnv are variables that hold no secret and whose values (paths, a
// locale) appear in ordinary text: scrubbing them would garble messages
// and hide nothing.
var commonEnv = map[string]bool{"PATH": true, "HOME": true, "TMPDIR": true, "USER": true, "LOGNAME": true,
	"LANG": true, "LANGUAGE": true, "TZ": true, "SHELL": true, "PWD": true, "TERM": true}

// plainEnv reports whether an env variable holds no secret: the common
// ones, the locale, and OpenTelemetry's settings (an endpoint, a batch
// delay) except its headers, which carry exporters' credentials.
func plainEnv(name string) bool {
	switch {
	case commonEnv[name], strings.HasPrefix(name, "LC_"):
		return true
	case strings.HasPrefix(name, "OTEL_"):
		return !strings.Contains(name, "HEADERS")
	}
	return false
}

// envValues returns the values of env entries: NAME=value's value, or the
// host's value of a NAME copied from it.
func envValues(entries []string, getenv func(string) string) []string {
	var vals []string
	for _, e := range entries {
		name, v, fixed := strings.Cut(e, "=")
		if plainEnv(name) {
			continue
		}
		if !fixed && getenv != nil {
			v = getenv(name)
		}
		vals = append(vals, v)
	}
	return vals
}
