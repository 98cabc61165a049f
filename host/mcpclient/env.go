package mcpclient

import (
	"maps"
	"slices"
	"strings"

	"github.com/toolhost/toolhost/host/config"
	"github.com/toolhost/toolhost/internal/redact"
)

// environ is the command's whole environment: each env entry NAME=value as
// written, NAME copied from the host (left out when the host has none).
func environ(spec *config.MCPServer, getenv func(string) string) []string {
	out := []string{}
	for _, e := range spec.Env {
		if strings.Contains(e, "=") {
			out = append(out, e)
		} else if v := getenv(e); v != "" {
			out = append(out, e+"="+v)
		}
	}
	return out
}

// secretValues are the values scrubbed from what the server says: those of
// the env variables secrets names (as env sets them, else the host's) and
// every header value.
func secretValues(spec *config.MCPServer, getenv func(string) string) redact.Values {
	set := map[string]string{}
	for _, e := range spec.Env {
		if name, v, ok := strings.Cut(e, "="); ok {
			set[name] = v
		}
	}
	var vals []string
	for _, name := range spec.Secrets {
		v, ok := set[name]
		if !ok {
			v = getenv(name)
		}
		vals = append(vals, v)
	}
	for _, k := range slices.Sorted(maps.Keys(spec.Headers)) {
		v := spec.Headers[k]
		vals = append(vals, v)
		// "Bearer TOKEN": the token alone is secret too.
		if _, tok, ok := strings.Cut(v, " "); ok {
			vals = append(vals, tok)
		}
	}
	return redact.Values(nil).With(vals...)
}
