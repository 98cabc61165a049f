package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/toolhost/toolhost/internal/testbin"
)

// TestSecretsInEscapedForm (issue 12, defect 1): a secret config value
// and a declared env value, both with characters JSON escapes, logged by
// the plugin inside a list field, printed quoted to stderr, returned as
// output, and echoed by a plugin that dies at start: no form of either
// reaches the run's stream, its events, its answer, the plugin list, the
// host's output or the data files.
func TestSecretsInEscapedForm(t *testing.T) {
	const (
		token  = "SECRET&<x>pw-777" // "pw-777" is in every encoding of it
		envVal = "envS3cret&<q>\\-42"
	)
	leaks := func(where, text string) {
		t.Helper()
		for _, mark := range []string{"pw-777", "envS3cret"} {
			if i := strings.Index(text, mark); i >= 0 {
				t.Errorf("%s holds %q: ...%s...", where, mark, text[max(0, i-60):min(len(text), i+40)])
			}
		}
	}
	envecho, err := testbin.Build("internal/testplugins/envecho")
	if err != nil {
		t.Fatal(err)
	}
	hclEnv := fmt.Sprintf("  env = [%q]", "X_SECRET="+envVal)
	s := startServe(t, serveOptions(serveConfig{
		TestkitConfig: map[string]string{"token": token},
		TestkitExtra:  hclEnv,
		Top:           fmt.Sprintf("plugin \"envecho\" {\n  path = %q\n%s\n}", envecho, hclEnv),
	}))
	print := "/v1/actions/" + specActionID("testkit", "print") + "/run"

	r := s.do("POST", print+"?stream=true", `{}`)
	wantStatus(t, r, 200)
	if !strings.Contains(string(r.Body), "run.succeeded") || !strings.Contains(string(r.Body), "[redacted]") {
		t.Fatalf("stream has no scrubbed log event:\n%s", r.Body)
	}
	leaks("the run's stream", string(r.Body))

	r = s.do("POST", print, `{}`)
	wantStatus(t, r, 200)
	leaks("the run's answer", string(r.Body))
	d := r.Data(t)
	if out, _ := d["output"].(map[string]any); out == nil || !strings.Contains(fmt.Sprint(out["said"]), "[redacted]") {
		t.Errorf("output %v: the secrets are not replaced", d["output"])
	}
	id, _ := d["run_id"].(string)
	leaks("GET /v1/runs/{id}", string(s.do("GET", "/v1/runs/"+id, "").Body))
	leaks("GET /v1/runs/{id}/events", string(s.do("GET", "/v1/runs/"+id+"/events", "").Body))
	leaks("GET /v1/runs", string(s.do("GET", "/v1/runs", "").Body))

	// The plugin that died at start, echoing its env.
	deadline := time.Now().Add(20 * time.Second)
	var plugins string
	for time.Now().Before(deadline) {
		plugins = string(s.do("GET", "/v1/plugins", "").Body)
		if strings.Contains(plugins, "X_SECRET") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(plugins, "X_SECRET=[redacted]") {
		t.Errorf("GET /v1/plugins has no scrubbed reason for envecho:\n%s", plugins)
	}
	leaks("GET /v1/plugins", plugins)
	s.stop(t)
	leaks("the host's stdout", s.stdout.String())
	leaks("the host's log", s.stderr.String())
	if !strings.Contains(s.stderr.String(), "quoted") {
		t.Errorf("the quoted stderr line is not in the log:\n%s", tail(s.stderr.String(), 3000))
	}
	for _, name := range []string{"toolhost.db", "toolhost.journal"} {
		data, err := os.ReadFile(filepath.Join(s.DataDir, name))
		if err != nil {
			t.Fatal(err)
		}
		leaks(name, string(data))
	}
}
