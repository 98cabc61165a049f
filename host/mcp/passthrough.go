package mcp

import (
	"context"
	"encoding/json"
	"fmt"

	gomcp "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolhost/toolhost/host/core"
)

// /mcp/{server} for a hosted MCP server answers as that server would, for
// its tools: the tools as the server listed them (own names, title,
// schemas, annotations), each call's result as the server sent it
// (content of every type, structuredContent, isError), and its progress
// and log notifications as it sent them. Every call is still a run of the
// core (history, idempotency, scopes, timeouts, cancel); only the answer
// on this door differs from the other doors, which see the run's output
// (binary content summarised). Resources, prompts and completions are
// relayed to the server; server-to-client requests are not (see
// docs/API.md).

// Hosted is what /mcp/{server} needs of the hosted MCP servers.
type Hosted interface {
	// HostedServer is the hosted MCP server named name, nil when there is
	// none.
	HostedServer(name string) HostedServer
}

// HostedServer is one hosted MCP server, as /mcp/{server} uses it.
type HostedServer interface {
	// ServerTools are the server's tools as it listed them, by action key.
	ServerTools() map[string]*gomcp.Tool
	// Initialized is what the server said when initialized; nil before.
	Initialized() *gomcp.InitializeResult
	// ExpectResults says a call whose result will be taken is about to
	// be made; results are kept until done is called.
	ExpectResults() (done func())
	// TakeResult is the tool result of a run's call as the server sent
	// it (secrets scrubbed), once; nil when there is none.
	TakeResult(runID string) *gomcp.CallToolResult
	// Forward relays a resources, prompts or completion request.
	Forward(ctx context.Context, req gomcp.Request) (gomcp.Result, error)
}

// passthroughs are the /mcp/{server} servers of hosted MCP servers, and
// what each server was built from (the server's initialize answer).
type passthroughs struct {
	init map[*gomcp.Server]*gomcp.InitializeResult
}

func (h *Handler) hostedServer(name string) HostedServer {
	if h.hosted == nil {
		return nil
	}
	return h.hosted.HostedServer(name)
}

// pluginServer is the MCP server of /mcp/{p}, made anew when p became or
// stopped being a hosted MCP server, or the server was initialized again
// with other capabilities. It reports whether p is a hosted server.
func (s *servers) pluginServer(p *core.PluginEntry) (*gomcp.Server, bool) {
	if s.pt.init == nil {
		s.pt.init = map[*gomcp.Server]*gomcp.InitializeResult{}
	}
	hs := s.h.hostedServer(p.Name)
	srv := s.byPlugin[p.Name]
	init, wasHosted := s.pt.init[srv]
	var now *gomcp.InitializeResult
	if hs != nil {
		now = hs.Initialized()
	}
	if srv == nil || wasHosted != (hs != nil) || init != now {
		if srv != nil {
			delete(s.pt.init, srv)
			delete(s.tools, srv)
		}
		if hs == nil {
			srv = s.newServer("toolhost-" + p.Name)
		} else {
			srv = s.newPassthrough(p.Name, now)
			s.pt.init[srv] = now
		}
		s.byPlugin[p.Name] = srv
	}
	return srv, hs != nil
}

// newPassthrough is the MCP server of /mcp/{name} for a hosted server:
// its name, version and instructions, and the capabilities toolhost can
// serve of those it declared.
func (s *servers) newPassthrough(name string, init *gomcp.InitializeResult) *gomcp.Server {
	impl := &gomcp.Implementation{Name: "toolhost-" + name, Title: "toolhost", Version: s.h.cfg.Version}
	caps := &gomcp.ServerCapabilities{Tools: &gomcp.ToolCapabilities{ListChanged: true}, Logging: &gomcp.LoggingCapabilities{}}
	opts := &gomcp.ServerOptions{Capabilities: caps}
	if init != nil {
		if init.ServerInfo != nil {
			info := *init.ServerInfo
			impl = &info
		}
		opts.Instructions = init.Instructions
		if c := init.Capabilities; c != nil {
			if c.Resources != nil {
				caps.Resources = &gomcp.ResourceCapabilities{}
			}
			if c.Prompts != nil {
				caps.Prompts = &gomcp.PromptCapabilities{}
			}
			if c.Completions != nil {
				caps.Completions = &gomcp.CompletionCapabilities{}
			}
		}
	}
	srv := gomcp.NewServer(impl, opts)
	srv.AddReceivingMiddleware(s.h.guard, s.h.relay(name))
	s.tools[srv] = toolDigest{}
	return srv
}

// applyHosted makes srv list the server's own tools, one for each of the
// plugin's actions, each calling its action.
func (s *servers) applyHosted(srv *gomcp.Server, p *core.PluginEntry) {
	hs := s.h.hostedServer(p.Name)
	if hs == nil {
		return
	}
	tools := hs.ServerTools()
	old, now := s.tools[srv], toolDigest{}
	for _, a := range p.Actions {
		t := tools[a.Key]
		if t == nil {
			continue
		}
		j, err := json.Marshal(t)
		if err != nil || !toolNameRe.MatchString(t.Name) {
			s.h.log.Warn("tool left out of /mcp/"+p.Name, "action", a.Alias, "name", t.Name)
			continue
		}
		if old[t.Name] != string(j) {
			if err := addHostedTool(srv, t, s.h.passthroughTool(p.Name, a.ID)); err != nil {
				s.h.log.Warn("tool left out of /mcp/"+p.Name, "action", a.Alias, "error", err)
				continue
			}
		}
		now[t.Name] = string(j)
	}
	s.settle(srv, old, now)
}

// addHostedTool adds a tool the server listed. The SDK panics on a tool it
// cannot serve (no input schema, or not an object one): that is an error
// here, as the tool comes from outside.
func addHostedTool(srv *gomcp.Server, t *gomcp.Tool, h gomcp.ToolHandler) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the SDK cannot serve it: %v", r)
		}
	}()
	srv.AddTool(t, h)
	return nil
}
