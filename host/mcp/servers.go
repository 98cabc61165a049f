package mcp

import (
	"context"
	"encoding/json"
	"fmt"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	gomcp "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolhost/toolhost/host/core"
	"github.com/toolhost/toolhost/host/domain"
)

// servers are the MCP servers of /mcp (all) and of each /mcp/{plugin},
// kept in step with the catalog. A server lives as long as the host, so a
// session listening for changes (subscriptions/listen) hears when its
// tools change; a plugin that goes away leaves its server with no tools.
type servers struct {
	h        *Handler
	all      *gomcp.Server
	mu       sync.Mutex
	cat      *core.Catalog
	byPlugin map[string]*gomcp.Server
	present  map[string]bool              // plugins in the catalog now
	tools    map[*gomcp.Server]toolDigest // what each server lists now
	pt       passthroughs                 // the servers of hosted MCP servers
}

// toolDigest is a server's tools by name, each as its JSON, to tell what
// changed.
type toolDigest map[string]string

func (s *servers) init(h *Handler) {
	s.h = h
	s.byPlugin, s.present, s.tools = map[string]*gomcp.Server{}, map[string]bool{}, map[*gomcp.Server]toolDigest{}
	s.all = s.newServer("toolhost")
}

func (s *servers) newServer(name string) *gomcp.Server {
	srv := gomcp.NewServer(&gomcp.Implementation{Name: name, Title: "toolhost", Version: s.h.cfg.Version}, &gomcp.ServerOptions{
		Capabilities: &gomcp.ServerCapabilities{
			Tools:   &gomcp.ToolCapabilities{ListChanged: true},
			Logging: &gomcp.LoggingCapabilities{},
		},
	})
	srv.AddReceivingMiddleware(s.h.guard)
	s.tools[srv] = toolDigest{}
	return srv
}

// get is the server of an installed plugin, nil for one not installed.
func (s *servers) get(plugin string) *gomcp.Server {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.present[plugin] {
		return nil
	}
	return s.byPlugin[plugin]
}

// sync makes the servers list the catalog's actions. The SDK tells
// listening sessions (tools/list_changed) about each change.
func (s *servers) sync(cat *core.Catalog) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cat == nil || cat == s.cat {
		return
	}
	s.cat = cat
	s.apply(s.all, cat.Actions(), true)
	present := map[string]bool{}
	for _, p := range cat.Plugins {
		present[p.Name] = true
		if srv, hosted := s.pluginServer(p); hosted {
			s.applyHosted(srv, p)
		} else {
			s.apply(srv, p.Actions, false)
		}
	}
	for name, srv := range s.byPlugin {
		if !present[name] {
			s.apply(srv, nil, false)
		}
	}
	s.present = present
}

// apply adds, replaces and removes srv's tools so it lists actions.
func (s *servers) apply(srv *gomcp.Server, actions []*core.Action, withPlugin bool) {
	old, now := s.tools[srv], toolDigest{}
	for _, a := range actions {
		t := toolFor(a, withPlugin)
		if !toolNameRe.MatchString(t.Name) {
			s.h.log.Warn("action left out of MCP: its tool name is not valid", "action", a.Alias, "name", t.Name)
			continue
		}
		if _, dup := now[t.Name]; dup {
			s.h.log.Warn("action left out of MCP: another action has its tool name", "action", a.Alias, "name", t.Name)
			continue
		}
		j, err := json.Marshal(t)
		if err != nil {
			s.h.log.Warn("action left out of MCP: its tool does not encode", "action", a.Alias, "error", err)
			continue
		}
		now[t.Name] = string(j)
		if old[t.Name] != now[t.Name] {
			srv.AddTool(t, s.h.callTool(a.ID))
		}
	}
	s.settle(srv, old, now)
}

// settle removes the tools srv listed (old) that it no longer lists (now).
func (s *servers) settle(srv *gomcp.Server, old, now toolDigest) {
	var gone []string
	for name := range old {
		if _, ok := now[name]; !ok {
			gone = append(gone, name)
		}
	}
	if len(gone) > 0 {
		srv.RemoveTools(gone...)
	}
	s.tools[srv] = now
}

// guard is every server's receiving middleware: tools/list needs the read
// scope and sees the catalog as it is now; tools/call needs the run scope.
func (h *Handler) guard(next gomcp.MethodHandler) gomcp.MethodHandler {
	return func(ctx context.Context, method string, req gomcp.Request) (gomcp.Result, error) {
		var need string
		switch method {
		case "tools/list":
			need = domain.ScopeRead
			h.servers.sync(h.runner.Catalog())
		case "tools/call":
			need = domain.ScopeRun
		}
		if need != "" {
			r := requestOf(ctx)
			if r == nil {
				return nil, &jsonrpc.Error{Code: codeRefused, Message: "no authenticated caller for this request"}
			}
			if !r.key.Allows(need) {
				h.observe(method, true)
				return nil, &jsonrpc.Error{Code: codeRefused, Message: fmt.Sprintf("API key %q lacks the %q scope that %s needs", r.key.Name, need, method)}
			}
		}
		if h.tracer != nil {
			ctx = h.traceFromMeta(ctx, method, req)
		}
		res, err := next(ctx, method, req)
		h.observe(method, err != nil || isErrorResult(res))
		return res, err
	}
}

// observe tells the observer of a request, its method bounded to the
// protocol's (a client's made-up method is "other").
func (h *Handler) observe(method string, failed bool) {
	if h.observer == nil {
		return
	}
	if !knownMethods[method] {
		method = "other"
	}
	h.observer.MCPCall(method, failed)
}

func isErrorResult(res gomcp.Result) bool {
	r, ok := res.(*gomcp.CallToolResult)
	return ok && r != nil && r.IsError
}

var knownMethods = map[string]bool{
	"initialize": true, "ping": true, "tools/list": true, "tools/call": true,
	"resources/list": true, "resources/read": true, "resources/templates/list": true,
	"resources/subscribe": true, "resources/unsubscribe": true,
	"prompts/list": true, "prompts/get": true, "completion/complete": true,
	"logging/setLevel": true, "notifications/initialized": true,
	"notifications/cancelled": true, "notifications/progress": true,
	"notifications/roots/list_changed": true,
}

// traceFromMeta honours a traceparent (and tracestate) in the request's
// _meta, as MCP clients that trace send it: that remote span becomes the
// parent of the spans of the runs the request starts, in place of the HTTP
// request's span.
func (h *Handler) traceFromMeta(ctx context.Context, method string, req gomcp.Request) context.Context {
	p := req.GetParams()
	if p == nil {
		return ctx
	}
	meta := p.GetMeta()
	tp, _ := meta["traceparent"].(string)
	if tp == "" {
		return ctx
	}
	c := propagation.MapCarrier{"traceparent": tp}
	if ts, ok := meta["tracestate"].(string); ok {
		c["tracestate"] = ts
	}
	remote := propagation.TraceContext{}.Extract(context.Background(), c)
	if !trace.SpanContextFromContext(remote).IsValid() {
		return ctx
	}
	return trace.ContextWithRemoteSpanContext(ctx, trace.SpanContextFromContext(remote))
}
