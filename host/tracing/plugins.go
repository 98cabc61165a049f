package tracing

import (
	"net/url"
	"path"
	"strings"

	"github.com/toolhost/toolhost/host/config"
)

// defaultTracesURL is where otlptracehttp posts spans when neither the
// tracing block nor the environment names an endpoint.
const defaultTracesURL = "https://localhost:4318/v1/traces"

// ExportURL is the full URL the host's exporter posts spans to, resolved
// as Setup's exporter resolves it: the tracing block's endpoint (a URL, a
// path of /v1/traces when it has none; or a bare host:port, which keeps
// the environment's scheme and path), else OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
// (as it is), else OTEL_EXPORTER_OTLP_ENDPOINT (plus /v1/traces), else
// otlptracehttp's default; plain http when the block says insecure. It is
// "" when tracing is off or the endpoint names no host.
func ExportURL(cfg config.Tracing, getenv func(string) string) string {
	if !Enabled(cfg, getenv) {
		return ""
	}
	u := envExportURL(getenv)
	if ep := cfg.Endpoint; strings.Contains(ep, "://") {
		u = blockExportURL(ep)
	} else if ep != "" {
		u.Host = ep
	}
	if u == nil || u.Host == "" {
		return ""
	}
	if cfg.Insecure {
		u.Scheme = "http"
	}
	return u.String()
}

// blockExportURL is the destination of a tracing block's endpoint URL, as
// otlptracehttp.WithEndpointURL takes it: its host and its path (see
// tracesURL), plain http unless its scheme is https; what else the URL
// holds (a user, a query) the exporter does not use, and neither is it
// passed on. nil when it does not parse.
func blockExportURL(ep string) *url.URL {
	u, err := url.Parse(tracesURL(ep))
	if err != nil {
		return nil
	}
	scheme := "http"
	if u.Scheme == "https" {
		scheme = "https"
	}
	return &url.URL{Scheme: scheme, Host: u.Host, Path: u.Path}
}

// envExportURL is the exporter's destination as the environment alone
// sets it: the OTLP variables in the order the exporter reads them, the
// later winning (one whose URL does not parse is skipped, as the exporter
// skips it).
func envExportURL(getenv func(string) string) *url.URL {
	u, _ := url.Parse(defaultTracesURL)
	if base := envURL(getenv, "OTEL_EXPORTER_OTLP_ENDPOINT"); base != nil {
		u = &url.URL{Scheme: schemeOf(base), Host: base.Host, Path: path.Join(base.Path, "/v1/traces")}
	}
	if full := envURL(getenv, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"); full != nil {
		u = &url.URL{Scheme: schemeOf(full), Host: full.Host, Path: full.Path}
		if u.Path == "" {
			u.Path = "/"
		}
	}
	for _, name := range []string{"OTEL_EXPORTER_OTLP_INSECURE", "OTEL_EXPORTER_OTLP_TRACES_INSECURE"} {
		switch v := strings.TrimSpace(getenv(name)); {
		case strings.EqualFold(v, "true"):
			u.Scheme = "http"
		case v != "":
			u.Scheme = "https"
		}
	}
	return u
}

// envURL is the URL the variable name holds; nil when it is unset or
// does not parse.
func envURL(getenv func(string) string, name string) *url.URL {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil {
		return nil
	}
	return u
}

// schemeOf is the scheme the exporter speaks for an endpoint URL: plain
// http for http (and unix) URLs, https for any other.
func schemeOf(u *url.URL) string {
	if u.Scheme == "http" || u.Scheme == "unix" {
		return "http"
	}
	return "https"
}

// PluginEnv returns the entries to add to a plugin's environment so that
// the sdk in it exports the plugin's spans where the host's go:
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, the full exportURL, and
// OTEL_SERVICE_NAME, the plugin's name, unless env (the entries its block
// gave it) sets it. env setting any OTEL_EXPORTER_OTLP_* variable is the
// operator's own export settings, taken whole: nothing is added. Nothing
// is added either when exportURL is "" (tracing off). Headers are never
// added: they carry the collector's credentials, and a plugin's block
// passes them to it explicitly when it needs them.
func PluginEnv(exportURL, plugin string, env []string) []string {
	if exportURL == "" || setsAny(env, "OTEL_EXPORTER_OTLP_") {
		return nil
	}
	add := []string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=" + exportURL}
	if !setsAny(env, "OTEL_SERVICE_NAME=") {
		add = append(add, "OTEL_SERVICE_NAME="+plugin)
	}
	return add
}

// setsAny reports whether an entry of env (NAME=value) starts with prefix.
func setsAny(env []string, prefix string) bool {
	for _, e := range env {
		if strings.HasPrefix(e, prefix) {
			return true
		}
	}
	return false
}
