package mcpclient

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolhost/toolhost/host/domain"
)

// Forward sends a client's resources, prompts or completion request to
// the server and returns its answer, with the server's secrets scrubbed,
// for /mcp/{server}. These are not runs: they have the server's timeout
// and no concurrency slot. The server's JSON-RPC errors come back as they
// are; other failures are a JSON-RPC internal error naming the server.
func (s *Server) Forward(ctx context.Context, req mcp.Request) (mcp.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, s.spec.Timeout)
	defer cancel()
	l, _, err := s.connection(ctx, time.Now().Add(s.spec.Timeout), "")
	if err != nil {
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: domain.AsError(err).Message}
	}
	defer l.calls.Done()
	cs := l.session
	var res mcp.Result
	switch r := req.(type) {
	case *mcp.ListResourcesRequest:
		res, err = scrubbed(ctx, s, r.Params, cs.ListResources)
	case *mcp.ListResourceTemplatesRequest:
		res, err = scrubbed(ctx, s, r.Params, cs.ListResourceTemplates)
	case *mcp.ReadResourceRequest:
		res, err = scrubbed(ctx, s, r.Params, cs.ReadResource)
	case *mcp.ListPromptsRequest:
		res, err = scrubbed(ctx, s, r.Params, cs.ListPrompts)
	case *mcp.GetPromptRequest:
		res, err = scrubbed(ctx, s, r.Params, cs.GetPrompt)
	case *mcp.CompleteRequest:
		res, err = scrubbed(ctx, s, r.Params, cs.Complete)
	default:
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeMethodNotFound, Message: "toolhost does not relay this method to hosted MCP servers"}
	}
	if err != nil {
		return nil, s.forwardError(ctx, err)
	}
	return res, nil
}

// scrubbed calls the server with params (their protocol _meta keys
// dropped: the host's session has its own) and scrubs the answer.
func scrubbed[P, R any](ctx context.Context, s *Server, params *P, call func(context.Context, *P) (*R, error)) (*R, error) {
	if params == nil {
		params = new(P)
	}
	if m, ok := any(params).(metaParams); ok && m.GetMeta() != nil {
		meta := maps.Clone(m.GetMeta())
		maps.DeleteFunc(meta, func(k string, _ any) bool { return strings.HasPrefix(k, "io.modelcontextprotocol/") })
		m.SetMeta(meta)
	}
	res, err := call(ctx, params)
	if err != nil || res == nil || len(s.secrets) == 0 {
		return res, err
	}
	raw, err := json.Marshal(res)
	if err != nil {
		return nil, err
	}
	clean := s.scrub(string(raw))
	if clean == string(raw) {
		return res, nil
	}
	out := new(R)
	if err := json.Unmarshal([]byte(clean), out); err != nil {
		return nil, errors.New("the answer contains a secret inside its JSON syntax")
	}
	return out, nil
}

type metaParams interface {
	GetMeta() map[string]any
	SetMeta(map[string]any)
}

func (s *Server) forwardError(ctx context.Context, err error) error {
	var werr *jsonrpc.Error
	if errors.As(err, &werr) {
		out := &jsonrpc.Error{Code: werr.Code, Message: s.scrub(werr.Message)}
		if data := s.scrub(string(werr.Data)); json.Valid([]byte(data)) {
			out.Data = json.RawMessage(data)
		}
		return out
	}
	msg := "MCP server " + s.spec.Name + " did not answer: " + s.scrub(err.Error())
	if ctx.Err() != nil {
		msg = "MCP server " + s.spec.Name + " did not answer within " + s.spec.Timeout.String()
	}
	return &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: msg}
}
