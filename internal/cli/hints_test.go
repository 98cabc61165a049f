package cli

import (
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/toolhost/toolhost/host/config"
)

// TestHintsAgainstARunningServer: what the commands advise against a
// running server is advice that works.
func TestHintsAgainstARunningServer(t *testing.T) {
	s := newSite(t)
	srv := s.start(t)
	noKey := map[string]string{"TOOLHOST_URL": srv.url}

	t.Run("thread say without a model prints a model block that is valid HCL", func(t *testing.T) {
		r := must(t, run(t, srv.vars, "thread", "new"), ExitOK)
		id := regexp.MustCompile(`thread_[0-9A-Za-z]+`).FindString(r.stdout)
		if id == "" {
			t.Fatalf("no thread id in %s", r)
		}
		r = must(t, run(t, srv.vars, "thread", "say", id, "hello"), ExitUsage)
		block := regexp.MustCompile(`(?s)model "local" \{.*?\n\}`).FindString(r.stderr)
		if block == "" {
			t.Fatalf("no model block in %s", r)
		}
		if _, diags := hclsyntax.ParseConfig([]byte(block), "pasted.hcl", hcl.InitialPos); diags.HasErrors() {
			t.Fatalf("the printed block is not HCL: %v\n%s", diags, block)
		}
		// Pasted into plugins.hcl, it configures a model.
		cfg, err := config.Parse([]byte(block+"\n"), "plugins.hcl", func(string) string { return "" })
		if err != nil {
			t.Fatalf("the printed block is not a valid model block: %v\n%s", err, block)
		}
		if len(cfg.Models) != 1 || cfg.Models[0].BaseURL != "http://127.0.0.1:11434/v1" || cfg.Models[0].Model != "llama3.1" {
			t.Errorf("models %+v", cfg.Models)
		}
	})

	t.Run("key create with no key does not advise key create", func(t *testing.T) {
		r := must(t, run(t, noKey, s.args("key", "create", "--name", "ci")...), ExitAuth)
		contains(t, "key create", r.stderr, "TOOLHOST_API_KEY is not set", "holds the database", "printed when it first started", "stop the server")
		if strings.Contains(r.stderr, "toolhost key create") {
			t.Errorf("advises the command that just failed:\n%s", r.stderr)
		}
		r = must(t, run(t, map[string]string{"TOOLHOST_URL": srv.url, "TOOLHOST_API_KEY": "th_wrong"}, s.args("key", "create", "--name", "ci")...), ExitAuth)
		contains(t, "key create, wrong key", r.stderr, "not a key this server accepts", "stop the server")
		if strings.Contains(r.stderr, "toolhost key create") {
			t.Errorf("advises the command that just failed:\n%s", r.stderr)
		}
	})

	t.Run("plugin install with no key does not advise key create", func(t *testing.T) {
		r := must(t, run(t, noKey, s.args("plugin", "install", testkitBin, "--name", "kit3")...), ExitAuth)
		contains(t, "plugin install", r.stderr, "TOOLHOST_API_KEY is not set", "holds the database", "stop the server")
		if strings.Contains(r.stderr, "toolhost key create") {
			t.Errorf("advises a command that fails the same way:\n%s", r.stderr)
		}
	})

	t.Run("the banner's version is what --version prints", func(t *testing.T) {
		r := must(t, run(t, nil, "--version"), ExitOK)
		v := strings.TrimSpace(r.stdout)
		if !strings.HasPrefix(v, "toolhost ") || v != "toolhost "+Version {
			t.Fatalf("--version printed %q", r.stdout)
		}
		if r2 := must(t, run(t, nil, "version"), ExitOK); r2.stdout != r.stdout {
			t.Errorf("version %q, --version %q", r2.stdout, r.stdout)
		}
		if !strings.Contains(srv.out.String(), v+" listening on ") {
			t.Errorf("banner does not start with %q:\n%s", v, srv.out)
		}
	})
}
