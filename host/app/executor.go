package app

import (
	"github.com/toolhost/toolhost/host/core"
	"github.com/toolhost/toolhost/host/mcp"
	"github.com/toolhost/toolhost/host/mcpclient"
	"github.com/toolhost/toolhost/host/supervisor"
)

// executor is the supervisor's Go plugins and the hosted MCP servers as
// the core's Executor, one list (*supervisor.Plugin and
// *mcpclient.Server both implement core.Plugin).
type executor struct {
	sup *supervisor.Supervisor
	mcp *mcpclient.Set
}

func (e executor) Plugins() []core.Plugin {
	ps, ms := e.sup.List(), e.mcp.List()
	out := make([]core.Plugin, 0, len(ps)+len(ms))
	for _, p := range ps {
		out = append(out, p)
	}
	for _, m := range ms {
		out = append(out, m)
	}
	return out
}

// hostedServers are the hosted MCP servers as /mcp/{server} sees them.
type hostedServers struct{ set *mcpclient.Set }

func (h hostedServers) HostedServer(name string) mcp.HostedServer {
	if s := h.set.Get(name); s != nil {
		return s
	}
	return nil
}
