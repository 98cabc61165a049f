package config_test

import (
	"strings"
	"testing"

	"github.com/toolhost/toolhost/host/config"
)

func TestMetricsAndTracingBlocks(t *testing.T) {
	cfg, err := config.Parse([]byte(`
access_log = true
metrics {
  public = true
  listen = "127.0.0.1:9464"
}
tracing {
  endpoint = "127.0.0.1:4318"
  insecure = true
  service_name = "th"
  sample_ratio = 0.5
}
`), "plugins.hcl", noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.AccessLog {
		t.Error("access_log = true not read")
	}
	if cfg.Metrics.Disabled || !cfg.Metrics.Public || cfg.Metrics.Listen != "127.0.0.1:9464" {
		t.Errorf("metrics = %+v", cfg.Metrics)
	}
	want := config.Tracing{Enabled: true, Endpoint: "127.0.0.1:4318", Insecure: true, ServiceName: "th", SampleRatio: 0.5}
	if cfg.Tracing != want {
		t.Errorf("tracing = %+v, want %+v", cfg.Tracing, want)
	}

	def, err := config.Parse([]byte(``), "plugins.hcl", noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if def.Metrics != (config.Metrics{}) || def.Tracing.Enabled {
		t.Errorf("defaults: metrics %+v tracing %+v; want metrics on behind a key, tracing off", def.Metrics, def.Tracing)
	}
}

func TestMetricsAndTracingBadInput(t *testing.T) {
	for _, src := range []string{
		`metrics { listen = "9464" }`,
		`metrics { public = "yes please" }`,
		`tracing { sample_ratio = 2 }`,
		`tracing { endpoint = "a b" }`,
		`metrics { bogus = 1 }`,
	} {
		if _, err := config.Parse([]byte(src), "plugins.hcl", noEnv); err == nil {
			t.Errorf("%s: parsed; want an error", src)
		} else if !strings.Contains(err.Error(), "plugins.hcl") {
			t.Errorf("%s: error %q does not name the file", src, err)
		}
	}
}
