package supervisor_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/toolhost/toolhost/host/domain"
	"github.com/toolhost/toolhost/host/supervisor"
	"github.com/toolhost/toolhost/host/tracing"
)

// otlpSink accepts OTLP posts and drops them: where the testkit plugin
// exports its spans when it is given an endpoint.
func otlpSink(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(srv.Close)
	return srv.URL + "/v1/traces"
}

// otelEnv runs testkit.env and returns the plugin process's OTEL_ entries.
func otelEnv(t *testing.T, p *supervisor.Plugin) []string {
	t.Helper()
	out, err := run(t, p, "env", `{}`)
	if err != nil {
		t.Fatal(err)
	}
	var got struct{ Env []string }
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	var otel []string
	for _, e := range got.Env {
		if strings.HasPrefix(e, "OTEL_") {
			otel = append(otel, e)
		}
	}
	slices.Sort(otel)
	return otel
}

// traceEnv is the ExtraEnv the host gives the supervisor when it exports
// spans to url.
func traceEnv(url string) func(string, []string) []string {
	return func(plugin string, env []string) []string { return tracing.PluginEnv(url, plugin, env) }
}

func TestPluginGetsTheHostsTraceDestination(t *testing.T) {
	url := otlpSink(t)
	// The host's own export settings, headers included, are not the
	// plugin's: it gets the destination alone.
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://host-only:4318")
	t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer host-secret")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "authorization=Bearer host-secret")
	cases := []struct {
		name     string
		extraEnv func(string, []string) []string
		env      []string
		want     []string
	}{
		{"tracing off", nil, nil, nil},
		{"tracing on", traceEnv(url), nil,
			[]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=" + url, "OTEL_SERVICE_NAME=testkit"}},
		{"the block's endpoint", traceEnv(url), []string{"OTEL_EXPORTER_OTLP_ENDPOINT=" + strings.TrimSuffix(url, "/v1/traces")},
			[]string{"OTEL_EXPORTER_OTLP_ENDPOINT=" + strings.TrimSuffix(url, "/v1/traces")}},
		{"the block's traces endpoint", traceEnv(url), []string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=" + url},
			[]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=" + url}},
		{"the block's service name", traceEnv(url), []string{"OTEL_SERVICE_NAME=web"},
			[]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=" + url, "OTEL_SERVICE_NAME=web"}},
		{"headers copied by the block", traceEnv(url), []string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=" + url, "OTEL_EXPORTER_OTLP_HEADERS"},
			[]string{"OTEL_EXPORTER_OTLP_HEADERS=[redacted]", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=" + url}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sp := spec("testkit")
			sp.Env = c.env
			s := newSupervisorOpts(t, supervisor.Options{ExtraEnv: c.extraEnv}, sp)
			if got := otelEnv(t, ready(t, s, "testkit")); !slices.Equal(got, c.want) {
				t.Errorf("the plugin's OTEL_ environment is %q; want %q", got, c.want)
			}
		})
	}
}

func TestRestartedPluginKeepsTheTraceDestination(t *testing.T) {
	url := otlpSink(t)
	s := newSupervisorOpts(t, supervisor.Options{ExtraEnv: traceEnv(url)}, spec("testkit"))
	p := ready(t, s, "testkit")
	want := []string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=" + url, "OTEL_SERVICE_NAME=testkit"}
	pid := p.Info().PID
	_, err := run(t, p, "crash", `{"ms":10}`)
	wantCode(t, err, domain.CodePluginUnavailable)
	waitFor(t, "the restart", 10*time.Second, func() bool {
		in := p.Info()
		return in.Status == supervisor.StatusReady && in.PID != pid
	})
	if got := otelEnv(t, p); !slices.Equal(got, want) {
		t.Errorf("after a restart the plugin's OTEL_ environment is %q; want %q", got, want)
	}
}
