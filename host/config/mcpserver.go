package config

import (
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// MCPServer is one mcp_server block: an MCP server toolhost hosts as a
// plugin, either a command it runs and speaks to over stdio, or a remote
// Streamable HTTP endpoint.
type MCPServer struct {
	Name string
	// Command is the program and its arguments (stdio transport); empty
	// for a remote server.
	Command []string
	// Env is the command's whole environment: NAME (copied from the host)
	// or NAME=value, as for plugin blocks.
	Env []string
	// Secrets names env variables whose values are scrubbed from the
	// server's stderr, its errors and run history.
	Secrets []string
	// URL is a remote server's endpoint; empty for a command.
	URL string
	// Headers are sent with every request to URL; their values count as
	// secrets.
	Headers     map[string]string
	Timeout     time.Duration
	Concurrency int
	Lazy        bool
}

// Transport names how the host reaches the server: "stdio" or "http".
func (s *MCPServer) Transport() string {
	if s.URL != "" {
		return "http"
	}
	return "stdio"
}

type mcpServerBlock struct {
	Name        string            `hcl:"name,label"`
	Command     []string          `hcl:"command,optional"`
	Env         []string          `hcl:"env,optional"`
	Secrets     []string          `hcl:"secrets,optional"`
	URL         *string           `hcl:"url"`
	Headers     map[string]string `hcl:"headers,optional"`
	Timeout     hcl.Expression    `hcl:"timeout,optional"`
	Concurrency hcl.Expression    `hcl:"concurrency,optional"`
	Lazy        *bool             `hcl:"lazy"`
	DefRange    hcl.Range         `hcl:",def_range"`
}

func (d *decoder) mcpServer(b *mcpServerBlock) MCPServer {
	s := MCPServer{
		Name: b.Name, Command: b.Command, Env: b.Env, Secrets: b.Secrets, URL: str(b.URL, ""),
		Headers: b.Headers, Lazy: boolean(b.Lazy, false),
		Timeout:     d.duration(b.Timeout, "timeout", DefaultTimeout),
		Concurrency: int(d.count(b.Concurrency, "concurrency", DefaultConcurrency, 1, 10000)),
	}
	bad := func(summary, format string, args ...any) {
		d.errorf(b.DefRange, summary, "mcp_server %q: "+format, append([]any{b.Name}, args...)...)
	}
	if !pluginNameRe.MatchString(b.Name) {
		bad("Invalid plugin name", "the name must match %s", pluginNameRe)
	}
	switch {
	case len(b.Command) == 0 && b.URL == nil:
		bad("Missing command or url", "set command = [\"program\", \"arg\", ...] for a local server or url = \"https://...\" for a remote one")
	case len(b.Command) > 0 && b.URL != nil:
		bad("Both command and url", "set either command (a local server) or url (a remote one), not both")
	case b.URL != nil:
		d.checkURL(b, bad)
	default:
		if strings.TrimSpace(b.Command[0]) == "" {
			bad("Invalid command", "the command's first element is the program to run and must not be empty")
		}
		if len(b.Headers) > 0 {
			bad("Headers without url", "headers are sent to a remote server; this one is a command")
		}
	}
	for _, e := range b.Env {
		name, _, _ := strings.Cut(e, "=")
		if !envNameRe.MatchString(name) {
			bad("Invalid env entry", "env entry %q must be NAME or NAME=value", e)
		}
	}
	for _, name := range b.Secrets {
		if !envNameRe.MatchString(name) {
			bad("Invalid secrets entry", "secrets entry %q must name an env variable", name)
		}
	}
	return s
}

func (d *decoder) checkURL(b *mcpServerBlock, bad func(summary, format string, args ...any)) {
	if b.Lazy != nil {
		bad("lazy without command", "lazy applies to a command; a remote server is connected to on start")
	}
	if len(b.Env) > 0 {
		bad("env without command", "env is the environment of a command; send a remote server headers instead")
	}
	u, err := url.Parse(*b.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("Invalid url", "url %q must be an http:// or https:// address", *b.URL)
	}
}
