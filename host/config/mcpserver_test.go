package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/toolhost/toolhost/host/config"
)

func TestMCPServerBlocks(t *testing.T) {
	src := `
mcp_server "filesystem" {
  command     = ["npx", "-y", "@modelcontextprotocol/server-filesystem", "/srv/shared"]
  env         = ["HOME", "PATH", "GITHUB_TOKEN=${env("GITHUB_TOKEN")}"]
  secrets     = ["GITHUB_TOKEN"]
  timeout     = "90s"
  concurrency = 8
  lazy        = true
}
mcp_server "remote" {
  url     = "https://mcp.example.com/mcp"
  headers = { Authorization = "Bearer ${env("REMOTE_MCP_TOKEN")}" }
}
`
	getenv := func(k string) string { return map[string]string{"GITHUB_TOKEN": "ghp_x", "REMOTE_MCP_TOKEN": "tok"}[k] }
	cfg, err := config.Parse([]byte(src), "plugins.hcl", getenv)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.MCPServers) != 2 {
		t.Fatalf("servers: %+v", cfg.MCPServers)
	}
	fs, r := cfg.MCPServers[0], cfg.MCPServers[1]
	if fs.Name != "filesystem" || len(fs.Command) != 4 || fs.Env[2] != "GITHUB_TOKEN=ghp_x" || fs.Secrets[0] != "GITHUB_TOKEN" ||
		fs.Timeout != 90*time.Second || fs.Concurrency != 8 || !fs.Lazy || fs.Transport() != "stdio" {
		t.Fatalf("filesystem: %+v", fs)
	}
	if r.URL != "https://mcp.example.com/mcp" || r.Headers["Authorization"] != "Bearer tok" || r.Timeout != config.DefaultTimeout ||
		r.Concurrency != config.DefaultConcurrency || r.Transport() != "http" {
		t.Fatalf("remote: %+v", r)
	}
}

func TestBadMCPServerBlocks(t *testing.T) {
	for _, c := range []struct {
		name, src string
		want      []string
	}{
		{"neither", "mcp_server \"a\" {\n}", []string{"bad.hcl:1,", "command", "url"}},
		{"both", "mcp_server \"a\" {\n command = [\"x\"]\n url = \"http://x\"\n}", []string{"bad.hcl:1,", "not both"}},
		{"empty program", "mcp_server \"a\" {\n command = [\"\"]\n}", []string{"bad.hcl:1,", "first element"}},
		{"bad url", "mcp_server \"a\" {\n url = \"ftp://x\"\n}", []string{"bad.hcl:1,", "http:// or https://"}},
		{"headers on command", "mcp_server \"a\" {\n command = [\"x\"]\n headers = { A = \"b\" }\n}", []string{"bad.hcl:1,", "headers"}},
		{"env on url", "mcp_server \"a\" {\n url = \"http://x\"\n env = [\"HOME\"]\n}", []string{"bad.hcl:1,", "env"}},
		{"lazy on url", "mcp_server \"a\" {\n url = \"http://x\"\n lazy = true\n}", []string{"bad.hcl:1,", "lazy"}},
		{"bad env", "mcp_server \"a\" {\n command = [\"x\"]\n env = [\"1X\"]\n}", []string{"bad.hcl:1,", "1X"}},
		{"bad secret", "mcp_server \"a\" {\n command = [\"x\"]\n secrets = [\"not a name\"]\n}", []string{"bad.hcl:1,", "not a name"}},
		{"bad timeout", "mcp_server \"a\" {\n command = [\"x\"]\n timeout = \"soon\"\n}", []string{"bad.hcl:3,", "timeout"}},
		{"bad concurrency", "mcp_server \"a\" {\n command = [\"x\"]\n concurrency = 0\n}", []string{"bad.hcl:3,", "concurrency"}},
		{"bad name", "mcp_server \"A B\" {\n command = [\"x\"]\n}", []string{"bad.hcl:1,", "A B"}},
		{"unknown attribute", "mcp_server \"a\" {\n command = [\"x\"]\n args = []\n}", []string{"bad.hcl:3,", "args"}},
		{"command not a list", "mcp_server \"a\" {\n command = \"npx x\"\n}", []string{"bad.hcl:2,", "command"}},
		{"same name as plugin", "plugin \"a\" {\n path = \"x\"\n}\nmcp_server \"a\" {\n command = [\"x\"]\n}", []string{"bad.hcl:4,", "another plugin"}},
		{"twice", "mcp_server \"a\" {\n command = [\"x\"]\n}\nmcp_server \"a\" {\n command = [\"y\"]\n}", []string{"bad.hcl:4,", "another plugin"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := config.Parse([]byte(c.src), "bad.hcl", noEnv)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
