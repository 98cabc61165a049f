package mcp

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	gomcp "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolhost/toolhost/host/domain"
)

// passthroughTool is the handler of a hosted server's tool on
// /mcp/{server}: a run of the action, answered with the server's own
// result.
func (h *Handler) passthroughTool(server, actionID string) gomcp.ToolHandler {
	return func(ctx context.Context, req *gomcp.CallToolRequest) (*gomcp.CallToolResult, error) {
		if hs := h.hostedServer(server); hs != nil {
			defer hs.ExpectResults()()
		}
		return h.runTool(ctx, req, actionID, func(run *domain.Run) *gomcp.CallToolResult {
			return passthroughResult(h.hostedServer(server), run)
		})
	}
}

// passthroughResult answers a finished run with the server's result when
// the run ended as the server said (succeeded, or failed by isError). A
// run the host ended (timeout, cancel, the server gone, an output that
// does not match the tool's outputSchema), and a replayed run (an
// Idempotency-Key seen before: the result was given to the first call),
// are answered from the run's record as on /mcp.
func passthroughResult(hs HostedServer, run *domain.Run) *gomcp.CallToolResult {
	var raw *gomcp.CallToolResult
	if hs != nil {
		raw = hs.TakeResult(run.ID)
	}
	serverSaid := run.Status == domain.StatusSucceeded ||
		(run.Status == domain.StatusFailed && run.Error != nil && run.Error.Code == domain.CodeActionFailed && raw != nil && raw.IsError)
	if raw == nil || !serverSaid {
		return resultOf(run)
	}
	// A new result of the same fields: the protocol's own parts of the
	// server's answer (its result type, the _meta keys of its protocol
	// version) belong to the host's session with the server, not to the
	// client's with the host.
	meta := maps.Clone(raw.Meta)
	maps.DeleteFunc(meta, func(k string, _ any) bool { return strings.HasPrefix(k, "io.modelcontextprotocol/") })
	if meta == nil {
		meta = gomcp.Meta{}
	}
	meta[runIDMeta] = run.ID
	return &gomcp.CallToolResult{Meta: meta, Content: raw.Content, StructuredContent: raw.StructuredContent, IsError: raw.IsError}
}

// relayed relays a hosted server's notification kept in the event's
// fields ({"mcp":{...}}, see mcpclient) as the server sent it; false when
// the event has none (it is then sent as on /mcp).
func (n *notifier) relayed(typ string, pe domain.PluginEvent) bool {
	var f struct {
		MCP json.RawMessage `json:"mcp"`
	}
	if len(pe.Fields) == 0 || json.Unmarshal(pe.Fields, &f) != nil || len(f.MCP) == 0 {
		return false
	}
	switch typ {
	case "run.progress":
		var p gomcp.ProgressNotificationParams
		if json.Unmarshal(f.MCP, &p) != nil {
			return false
		}
		if n.token != nil {
			p.ProgressToken = n.token
			_ = n.req.Session.NotifyProgress(n.ctx, &p)
		}
		return true
	case "run.log":
		var p gomcp.LoggingMessageParams
		if json.Unmarshal(f.MCP, &p) != nil || p.Level == "" {
			return false
		}
		_ = n.req.Session.Log(n.ctx, &p)
		return true
	}
	return false
}

// relayedMethods are the client requests relayed to a hosted server, with
// the scope each needs.
var relayedMethods = map[string]string{
	"resources/list": domain.ScopeRead, "resources/templates/list": domain.ScopeRead,
	"resources/read": domain.ScopeRead, "prompts/list": domain.ScopeRead,
	"prompts/get": domain.ScopeRead, "completion/complete": domain.ScopeRead,
}

// relay is the receiving middleware of /mcp/{server} for a hosted server:
// resources, prompts and completion requests go to the server (with the
// read scope); the rest to the SDK (tools through guard).
func (h *Handler) relay(server string) gomcp.Middleware {
	return func(next gomcp.MethodHandler) gomcp.MethodHandler {
		return func(ctx context.Context, method string, req gomcp.Request) (gomcp.Result, error) {
			need, ok := relayedMethods[method]
			if !ok {
				return next(ctx, method, req)
			}
			r := requestOf(ctx)
			if r == nil {
				return nil, &jsonrpc.Error{Code: codeRefused, Message: "no authenticated caller for this request"}
			}
			if !r.key.Allows(need) {
				return nil, &jsonrpc.Error{Code: codeRefused, Message: fmt.Sprintf("API key %q lacks the %q scope that %s needs", r.key.Name, need, method)}
			}
			hs := h.hostedServer(server)
			if hs == nil {
				return nil, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: fmt.Sprintf("MCP server %q is no longer hosted", server)}
			}
			return hs.Forward(ctx, req)
		}
	}
}
