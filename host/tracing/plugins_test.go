package tracing

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/toolhost/toolhost/host/config"
)

// envOf is a getenv over vars.
func envOf(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestExportURL(t *testing.T) {
	on := func(ep string, insecure bool) config.Tracing {
		return config.Tracing{Enabled: true, Endpoint: ep, Insecure: insecure, SampleRatio: 1}
	}
	for _, c := range []struct {
		name string
		cfg  config.Tracing
		env  map[string]string
		want string
	}{
		{"off", config.Tracing{}, nil, ""},
		{"off: OTEL_SDK_DISABLED wins", on("http://c:4318", false), map[string]string{"OTEL_SDK_DISABLED": "true"}, ""},
		{"block: bare host:port", on("c:4318", false), nil, "https://c:4318/v1/traces"},
		{"block: bare host:port, insecure", on("c:4318", true), nil, "http://c:4318/v1/traces"},
		{"block: URL without a path", on("http://c:4318", false), nil, "http://c:4318/v1/traces"},
		{"block: URL with /", on("https://c:4318/", false), nil, "https://c:4318/v1/traces"},
		{"block: URL with a path", on("https://otel.example/custom/traces", false), nil, "https://otel.example/custom/traces"},
		{"block: https URL, insecure", on("https://c:4318", true), nil, "http://c:4318/v1/traces"},
		{"block: URL's user and query dropped", on("https://u:p@c:4318/t?x=1", false), nil, "https://c:4318/t"},
		{"block: URL over the environment's", on("http://c:4318", false),
			map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://env:1/x", "OTEL_EXPORTER_OTLP_INSECURE": "false"}, "http://c:4318/v1/traces"},
		{"block: bare host:port keeps the environment's scheme and path", on("c:4318", false),
			map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://env:1/base"}, "http://c:4318/base/v1/traces"},
		{"block without an endpoint: the default", on("", false), nil, "https://localhost:4318/v1/traces"},
		{"block without an endpoint, insecure", on("", true), nil, "http://localhost:4318/v1/traces"},
		{"block without an endpoint: the environment's", on("", false),
			map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://env:4318"}, "http://env:4318/v1/traces"},
		{"env: base URL", config.Tracing{}, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://env:4318"}, "http://env:4318/v1/traces"},
		{"env: base URL with a path", config.Tracing{}, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://env/otlp/"}, "https://env/otlp/v1/traces"},
		{"env: traces URL as it is", config.Tracing{}, map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://env:4318/custom"}, "http://env:4318/custom"},
		{"env: traces URL without a path", config.Tracing{}, map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://env:4318"}, "http://env:4318/"},
		{"env: traces URL over the base", config.Tracing{}, map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT": "http://base:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://traces:4318/v1/traces"}, "https://traces:4318/v1/traces"},
		{"env: insecure", config.Tracing{}, map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT": "https://env:4318", "OTEL_EXPORTER_OTLP_TRACES_INSECURE": "TRUE"}, "http://env:4318/v1/traces"},
		{"env: user dropped", config.Tracing{}, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://u:p@env:4318"}, "https://env:4318/v1/traces"},
		{"env: no host", config.Tracing{}, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "env:4318"}, ""},
	} {
		if got := ExportURL(c.cfg, envOf(c.env)); got != c.want {
			t.Errorf("%s: ExportURL = %q; want %q", c.name, got, c.want)
		}
	}
}

// TestExportURLIsWhereTheExporterPosts checks ExportURL against the real
// exporter Setup makes: each span batch reaches a server at the URL
// ExportURL names.
func TestExportURLIsWhereTheExporterPosts(t *testing.T) {
	got := make(chan string, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- "http://" + r.Host + r.URL.Path
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	for _, c := range []struct {
		name string
		cfg  config.Tracing
		env  map[string]string
	}{
		{"block URL", config.Tracing{Enabled: true, Endpoint: srv.URL, SampleRatio: 1}, nil},
		{"block URL with a path", config.Tracing{Enabled: true, Endpoint: srv.URL + "/custom/traces", SampleRatio: 1}, nil},
		{"block host:port, insecure", config.Tracing{Enabled: true, Endpoint: addr, Insecure: true, SampleRatio: 1}, nil},
		{"block host:port, the environment's scheme and path", config.Tracing{Enabled: true, Endpoint: addr, SampleRatio: 1},
			map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://elsewhere:1/base"}},
		{"env base URL", config.Tracing{}, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": srv.URL + "/otlp"}},
		{"env traces URL", config.Tracing{}, map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT": "http://elsewhere:1", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": srv.URL + "/t"}},
		{"env https URL made insecure", config.Tracing{}, map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT": "https://" + addr, "OTEL_EXPORTER_OTLP_INSECURE": "true"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, k := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
				"OTEL_EXPORTER_OTLP_INSECURE", "OTEL_EXPORTER_OTLP_TRACES_INSECURE", "OTEL_SDK_DISABLED"} {
				t.Setenv(k, c.env[k]) // the exporter reads the process's environment
			}
			want := ExportURL(c.cfg, os.Getenv)
			tp, err := Setup(context.Background(), c.cfg, os.Getenv, "test")
			if err != nil || tp == nil {
				t.Fatalf("Setup: %v, %v", tp, err)
			}
			_, span := tp.Tracer(Name).Start(context.Background(), "probe")
			span.End()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := tp.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			select {
			case posted := <-got:
				if posted != want {
					t.Errorf("the exporter posted to %s; ExportURL says %s", posted, want)
				}
			default:
				t.Errorf("the exporter posted nothing; ExportURL says %s", want)
			}
		})
	}
}

func TestPluginEnv(t *testing.T) {
	const url = "http://c:4318/v1/traces"
	for _, c := range []struct {
		name     string
		url      string
		env      []string
		want     []string
		notNames []string
	}{
		{"tracing off", "", nil, nil, nil},
		{"on", url, []string{"FOO=1"}, []string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=" + url, "OTEL_SERVICE_NAME=web"}, nil},
		{"the block's endpoint", url, []string{"OTEL_EXPORTER_OTLP_ENDPOINT=http://mine:4318"}, nil, nil},
		{"the block's traces endpoint", url, []string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://mine:4318/t"}, nil, nil},
		{"the block's headers: its own settings, whole", url, []string{"OTEL_EXPORTER_OTLP_HEADERS=a=b"}, nil, nil},
		{"the block's service name", url, []string{"OTEL_SERVICE_NAME=mine"}, []string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=" + url}, nil},
		{"other OTEL settings add to the host's", url, []string{"OTEL_BSP_SCHEDULE_DELAY=100"},
			[]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=" + url, "OTEL_SERVICE_NAME=web"}, nil},
	} {
		got := PluginEnv(c.url, "web", c.env)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: PluginEnv = %q; want %q", c.name, got, c.want)
		}
		for _, e := range got {
			if strings.Contains(e, "HEADERS") {
				t.Errorf("%s: PluginEnv passes %s", c.name, e)
			}
		}
	}
}
