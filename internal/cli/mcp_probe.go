package cli

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/toolhost/toolhost/host/config"
	"github.com/toolhost/toolhost/host/domain"
	"github.com/toolhost/toolhost/host/mcpclient"
)

// mcpProbe is `toolhost mcp probe`: it starts an MCP server as an
// mcp_server block would (or connects to a URL), lists its tools as the
// actions they would become, and stops it. Nothing is installed.
func mcpProbe(e *env, args []string) error {
	fs := newFlags(e, "mcp probe", "[--url URL] [--header NAME=VALUE]... [--timeout 10s] [-- COMMAND ARGS...]")
	u := fs.String("url", "", "a remote server's Streamable HTTP endpoint instead of a command")
	var headers multiFlag
	fs.Var(&headers, "header", "a header for --url, NAME=VALUE (repeatable)")
	timeout := fs.Duration("timeout", 10*time.Second, "how long the server may take to start and list its tools")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	sp := config.MCPServer{Name: "probe", Command: fs.Args(), URL: *u, Timeout: config.DefaultTimeout, Concurrency: 1,
		Env: os.Environ(), Headers: map[string]string{}}
	for _, h := range headers {
		k, v, ok := strings.Cut(h, "=")
		if !ok {
			return fail(ExitUsage, "--header %q: want NAME=VALUE", h)
		}
		sp.Headers[k] = v
	}
	if (len(sp.Command) == 0) == (sp.URL == "") {
		return fail(ExitUsage, "give either a command after -- or --url")
	}
	st := mcpclient.New(mcpclient.Options{StartTimeout: *timeout, Getenv: e.getenv, Version: Version})
	st.Load(e.ctx, []config.MCPServer{sp}, time.Second)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		st.Shutdown(ctx)
	}()
	s := st.List()[0]
	if in := s.Info(); in.Status == domain.PluginFailed {
		return fail(ExitFailed, "%s", in.Reason)
	}
	m, tools := s.Manifest(), s.Tools()
	if m == nil || len(m.Actions) == 0 {
		fmt.Fprintf(e.stdout, "%s %s offers no tools toolhost can serve\n", m.Title, m.Version)
		return nil
	}
	fmt.Fprintf(e.stdout, "%s %s: %d tools (as the actions of an mcp_server block named NAME: NAME.<action>)\n", m.Title, m.Version, len(m.Actions))
	t := newTable(e.stdout, "ACTION", "TYPE", "TOOL", "TITLE")
	for _, a := range m.Actions {
		t.row(a.Key, a.Type, tools[a.Key], a.Title)
	}
	t.flush()
	return nil
}

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
