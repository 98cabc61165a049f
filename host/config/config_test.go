package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/toolhost/toolhost/host/config"
)

func noEnv(string) string { return "" }

func TestParseFull(t *testing.T) {
	src := `
listen   = "127.0.0.1:9999"
data_dir = "./state"
auto_mtls = false
max_body_bytes = 2048
body_timeout = "45s"
cors_origins = ["https://app.example"]
rate_limit {
  runs_per_second = 3
}
retention {
  max_runs = 10
  max_age  = "1h"
  interval = "5s"
}
queue {
  size    = 8
  workers = 2
}
plugin "gmail" {
  path    = "./bin/gmail"
  sha256  = "ABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABAB"
  timeout = "30s"
  concurrency = 4
  lazy = true
  env = ["HOME", "MODE=test"]
  config = {
    gmailEmailAddress = env("GMAIL_EMAIL_ADDRESS")
    gmailAppPassword  = env("GMAIL_APP_PASSWORD")
    senderName        = "Assistant"
    port              = 587
  }
  action "sendEmail" {
    timeout = "10s"
  }
}
model "local" {
  base_url   = "http://127.0.0.1:11434/v1"
  model      = "llama3.1"
  api_key    = env("OPENAI_API_KEY")
  max_tokens = 512
}
`
	getenv := func(k string) string {
		if k == "GMAIL_EMAIL_ADDRESS" {
			return "me@example.com"
		}
		return ""
	}
	cfg, err := config.Parse([]byte(src), "/etc/toolhost/plugins.hcl", getenv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:9999" || cfg.DataDir != "/etc/toolhost/state" || cfg.AutoMTLS || cfg.MaxBodyBytes != 2048 ||
		cfg.BodyTimeout != 45*time.Second || cfg.RateLimit.RunsPerSecond != 3 || cfg.RateLimit.Burst != 6 {
		t.Fatalf("top level: %+v", cfg)
	}
	if cfg.Retention.MaxRuns != 10 || cfg.Retention.MaxAge != time.Hour || cfg.Retention.Interval != 5*time.Second || cfg.Queue.Workers != 2 {
		t.Fatalf("blocks: %+v %+v", cfg.Retention, cfg.Queue)
	}
	p := cfg.Plugins[0]
	if p.Path != "/etc/toolhost/bin/gmail" || p.SHA256 != strings.Repeat("ab", 32) || p.Timeout != 30*time.Second ||
		p.Concurrency != 4 || !p.Lazy || p.AutoMTLS || p.ActionTimeouts["sendEmail"] != 10*time.Second {
		t.Fatalf("plugin: %+v", p)
	}
	if p.Config["gmailEmailAddress"] != "me@example.com" || p.Config["gmailAppPassword"] != "" || p.Config["port"] != "587" ||
		p.ConfigEnv["gmailAppPassword"] != "GMAIL_APP_PASSWORD" {
		t.Fatalf("config: %v env %v", p.Config, p.ConfigEnv)
	}
	if m := cfg.Model(""); m == nil || m.Name != "local" || m.MaxTokens != 512 || m.Timeout != config.DefaultTimeout {
		t.Fatalf("model: %+v", m)
	}
}

// TestNumbersInRange: the numeric settings take their bounds and whole
// numbers written as such; max_runs = 0 keeps every run.
func TestNumbersInRange(t *testing.T) {
	src := "max_body_bytes = 1073741824\nqueue {\n  size = 1\n  workers = 10000\n}\nretention {\n  max_runs = 0\n}\n"
	cfg, err := config.Parse([]byte(src), "plugins.hcl", noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MaxBodyBytes != 1<<30 || cfg.Queue.Size != 1 || cfg.Queue.Workers != 10000 || cfg.Retention.MaxRuns != 0 {
		t.Fatalf("parsed %d %+v %+v", cfg.MaxBodyBytes, cfg.Queue, cfg.Retention)
	}
}

// TestRateLimit: off by default; burst defaults to twice the rate (at
// least 1).
func TestRateLimit(t *testing.T) {
	for _, c := range []struct {
		src   string
		rate  float64
		burst int
	}{
		{"", 0, 0},
		{"rate_limit {\n  runs_per_second = 20\n}", 20, 40},
		{"rate_limit {\n  runs_per_second = 0.2\n}", 0.2, 1},
		{"rate_limit {\n  runs_per_second = 2.5\n  burst = 3\n}", 2.5, 3},
	} {
		cfg, err := config.Parse([]byte(c.src), "plugins.hcl", noEnv)
		if err != nil {
			t.Fatalf("%q: %v", c.src, err)
		}
		if cfg.RateLimit.RunsPerSecond != c.rate || cfg.RateLimit.Burst != c.burst {
			t.Errorf("%q: %+v", c.src, cfg.RateLimit)
		}
	}
}

func TestParseDefaults(t *testing.T) {
	cfg, err := config.Parse([]byte(``), "plugins.hcl", noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != config.DefaultListen || !cfg.AutoMTLS || cfg.MaxBodyBytes != config.DefaultMaxBodyBytes || cfg.Retention.MaxRuns != config.DefaultMaxRuns ||
		cfg.BodyTimeout != config.DefaultBodyTimeout {
		t.Fatalf("defaults: %+v", cfg)
	}
}

// TestRelativePaths: paths in a config named without a directory start
// from the working directory and come out absolute, so that exec runs
// "./testkit" from there instead of looking "testkit" up in $PATH.
func TestRelativePaths(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	src := "data_dir = \"data\"\nplugin \"testkit\" {\n  path = \"./testkit\"\n}\n"
	for _, name := range []string{"plugins.hcl", "./plugins.hcl", filepath.Join("conf", "plugins.hcl")} {
		cfg, err := config.Parse([]byte(src), name, noEnv)
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(wd, filepath.Dir(name))
		if got, want := cfg.Plugins[0].Path, filepath.Join(dir, "testkit"); got != want {
			t.Errorf("%s: plugin path %q, want %q", name, got, want)
		}
		if got, want := cfg.DataDir, filepath.Join(dir, "data"); got != want {
			t.Errorf("%s: data_dir %q, want %q", name, got, want)
		}
	}
}

// TestBadFiles checks that every kind of mistake is reported with the
// file, line and column and what is wrong.
func TestBadFiles(t *testing.T) {
	cases := []struct {
		name, src string
		want      []string
	}{
		{"syntax error", "plugin \"a\" {\n  path = \n}", []string{"bad.hcl:2,", "Invalid expression"}},
		{"unclosed block", "plugin \"a\" {\n  path = \"x\"\n", []string{"bad.hcl:", "Unclosed"}},
		{"unknown attribute", "plugin \"a\" {\n  path = \"x\"\n  colour = 1\n}", []string{"bad.hcl:3,", `"colour"`}},
		{"unknown block", "plugins \"a\" {}", []string{"bad.hcl:1,", "plugins"}},
		{"bad duration", "plugin \"a\" {\n  path = \"x\"\n  timeout = \"soon\"\n}", []string{"bad.hcl:3,", "timeout", "soon"}},
		{"number duration", "start_timeout = 5", []string{"bad.hcl:1,", "start_timeout", "duration"}},
		{"bad body_timeout", "body_timeout = \"-1s\"", []string{"bad.hcl:1,", "body_timeout", "positive duration"}},
		{"bad name", "plugin \"Bad Name\" {\n  path = \"x\"\n}", []string{"bad.hcl:1,", "Bad Name"}},
		{"duplicate plugin", "plugin \"a\" {\n path = \"x\"\n}\nplugin \"a\" {\n path = \"y\"\n}", []string{"bad.hcl:4,", "declared twice"}},
		{"bad sha", "plugin \"a\" {\n  path = \"x\"\n  sha256 = \"abc\"\n}", []string{"bad.hcl:1,", "sha256", "64 hex"}},
		{"bad env entry", "plugin \"a\" {\n  path = \"x\"\n  env = [\"1BAD\"]\n}", []string{"bad.hcl:1,", "1BAD"}},
		{"bad concurrency", "plugin \"a\" {\n  path = \"x\"\n  concurrency = 0\n}", []string{"concurrency"}},
		{"config not object", "plugin \"a\" {\n  path = \"x\"\n  config = \"x\"\n}", []string{"bad.hcl:3,", "config"}},
		{"config nested", "plugin \"a\" {\n  path = \"x\"\n  config = { a = [1] }\n}", []string{"config.a"}},
		{"env bad name", "plugin \"a\" {\n  path = \"x\"\n  config = { a = env(\"no way\") }\n}", []string{"bad.hcl:3,", "no way"}},
		{"unknown function", "plugin \"a\" {\n  path = \"x\"\n  config = { a = file(\"x\") }\n}", []string{"bad.hcl:3,", "file"}},
		{"wrong type", "listen = 5\nauto_mtls = \"yes\"", []string{"bad.hcl:2,", "auto_mtls"}},
		{"model base_url", "model \"m\" {\n base_url = \"localhost:1\"\n model = \"x\"\n}", []string{"bad.hcl:1,", "base_url"}},
		{"model missing", "model \"m\" {\n base_url = \"http://x\"\n}", []string{"bad.hcl:1,", "model"}},
		{"negative queue size", "queue {\n  size = -1\n}", []string{"bad.hcl:2,", "size", "from 1 to 1000000"}},
		{"no workers", "queue {\n  workers = 0\n}", []string{"bad.hcl:2,", "workers", "from 1 to 10000"}},
		{"fractional workers", "queue {\n  workers = 2.5\n}", []string{"bad.hcl:2,", "workers", "whole number"}},
		{"negative max_runs", "retention {\n  max_runs = -5\n}", []string{"bad.hcl:2,", "max_runs", "from 0"}},
		{"max_runs not a number", "retention {\n  max_runs = \"many\"\n}", []string{"bad.hcl:2,", "max_runs"}},
		{"negative body cap", "max_body_bytes = -1", []string{"bad.hcl:1,", "max_body_bytes", "from 1 to 1073741824"}},
		{"huge body cap", "max_body_bytes = 1e12", []string{"bad.hcl:1,", "max_body_bytes"}},
		{"rate without runs_per_second", "rate_limit {\n  burst = 5\n}", []string{"bad.hcl:1,", "runs_per_second"}},
		{"zero rate", "rate_limit {\n  runs_per_second = 0\n}", []string{"bad.hcl:2,", "runs_per_second", "above 0"}},
		{"zero burst", "rate_limit {\n  runs_per_second = 5\n  burst = 0\n}", []string{"bad.hcl:3,", "burst", "from 1"}},
		{"negative max_tokens", "model \"m\" {\n base_url = \"http://x\"\n model = \"x\"\n max_tokens = -1\n}", []string{"bad.hcl:4,", "max_tokens"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := config.Parse([]byte(c.src), "bad.hcl", noEnv)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestAllPluginsFromDir(t *testing.T) {
	dir := t.TempDir()
	pd := filepath.Join(dir, "plugins")
	os.MkdirAll(pd, 0o755)
	os.WriteFile(filepath.Join(pd, "weather"), []byte("#!/bin/sh\n"), 0o755)
	os.WriteFile(filepath.Join(pd, "gmail"), []byte("#!/bin/sh\n"), 0o755)
	os.WriteFile(filepath.Join(pd, "notes.txt"), []byte("not executable"), 0o644)
	src := "plugin_dir = \"plugins\"\nplugin \"gmail\" {\n  config = { a = \"b\" }\n}\n"
	cfg, err := config.Parse([]byte(src), filepath.Join(dir, "plugins.hcl"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	all, err := cfg.AllPlugins()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].Name != "gmail" || all[0].Path != filepath.Join(pd, "gmail") || all[0].Config["a"] != "b" ||
		all[1].Name != "weather" || !all[1].FromDir {
		t.Fatalf("plugins: %+v", all)
	}
	cfg.Plugins = append(cfg.Plugins, config.Plugin{Name: "ghost"})
	if _, err := cfg.AllPlugins(); err == nil || !strings.Contains(err.Error(), `"ghost" has no path`) {
		t.Fatalf("missing path: %v", err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := config.Load(filepath.Join(t.TempDir(), "nope.hcl"), noEnv)
	if err == nil || !strings.Contains(err.Error(), "nope.hcl") {
		t.Fatalf("err %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`listen = "127.0.0.1:1"`))
	f.Add([]byte("plugin \"a\" {\n path = \"x\"\n config = { k = env(\"HOME\") }\n action \"b\" { timeout = \"1s\" }\n}"))
	f.Add([]byte("model \"m\" {\n base_url = \"http://x\"\n model = \"y\"\n timeout = \"2s\"\n}"))
	f.Add([]byte("retention {\n max_runs = 1\n max_age = \"1h\"\n}\nqueue {\n size = 1\n}"))
	f.Add([]byte("plugin \"a\" {"))
	f.Add([]byte("mcp_server \"fs\" {\n command = [\"npx\", \"-y\", \"x\"]\n env = [\"PATH\", \"T=${env(\"T\")}\"]\n secrets = [\"T\"]\n timeout = \"5s\"\n concurrency = 2\n lazy = true\n}"))
	f.Add([]byte("mcp_server \"r\" {\n url = \"https://x/mcp\"\n headers = { Authorization = env(\"T\") }\n}"))
	f.Fuzz(func(t *testing.T, src []byte) {
		cfg, err := config.Parse(src, "fuzz.hcl", func(string) string { return "v" })
		if err == nil && cfg == nil {
			t.Fatal("nil config without error")
		}
		if err != nil && cfg != nil {
			t.Fatal("config with error")
		}
	})
}
