package cli

import (
	"testing"

	"github.com/toolhost/toolhost/internal/testbin"
)

func TestMCPProbe(t *testing.T) {
	bin, err := testbin.Build("internal/testplugins/mcpserver")
	if err != nil {
		t.Fatal(err)
	}
	r := must(t, run(t, nil, "mcp", "probe", "--", bin), 0)
	contains(t, "probe", r.stdout, "Test MCP server 1.0.0: 10 tools", "sayText", "say_text", "echo      read")
	must(t, run(t, nil, "mcp", "probe"), ExitUsage)
	must(t, run(t, nil, "mcp", "probe", "--url", "http://127.0.0.1:1/mcp", "--", bin), ExitUsage)
	must(t, run(t, nil, "mcp", "probe", "--header", "novalue", "--url", "http://127.0.0.1:1/mcp"), ExitUsage)
	t.Setenv("MCPTEST_MODE", "junk")
	r = must(t, run(t, nil, "mcp", "probe", "--", bin), ExitFailed)
	contains(t, "junk probe", r.stderr, "not JSON-RPC to stdout")
}
