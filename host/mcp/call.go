package mcp

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	gomcp "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolhost/toolhost/host/core"
	"github.com/toolhost/toolhost/host/domain"
)

// runIDMeta is the _meta key of a result's run id, for GET /v1/runs/{id}.
const runIDMeta = "toolhost/run_id"

// callTool is the tool handler of one action: a tools/call is a run
// submitted to the core (its arguments are the input), followed until it
// ends, its events passed on as notifications.
func (h *Handler) callTool(actionID string) gomcp.ToolHandler {
	return func(ctx context.Context, req *gomcp.CallToolRequest) (*gomcp.CallToolResult, error) {
		return h.runTool(ctx, req, actionID, nil)
	}
}

// runTool is a tools/call as a run, run in the handler's goroutine (a
// blocking run: no goroutine hand-off before the answer) while w sends its
// events on as notifications. The finished run is answered by resultOf,
// or by pass when set (/mcp/{server} of a hosted MCP server, whose
// notifications are then relayed as the server sent them).
func (h *Handler) runTool(ctx context.Context, req *gomcp.CallToolRequest, actionID string, pass func(*domain.Run) *gomcp.CallToolResult) (*gomcp.CallToolResult, error) {
	r := requestOf(ctx)
	if r == nil {
		return nil, &jsonrpc.Error{Code: codeRefused, Message: "no authenticated caller for this request"}
	}
	var idem string
	if req.Extra != nil && req.Extra.Header != nil {
		idem = req.Extra.Header.Get("Idempotency-Key")
	}
	w := h.newWatch(ctx, r, &notifier{ctx: ctx, req: req, token: req.Params.GetProgressToken(), relay: pass != nil})
	blocking := true
	res, err := h.runner.Submit(ctx, core.Call{
		Action: actionID, Args: req.Params.Arguments, InputOnly: true,
		Mode: core.ModeRequest{Blocking: &blocking}, Watch: w,
		Caller: domain.CallerOf(r.key), IdempotencyKey: idem, Source: "mcp",
	})
	w.end()
	if err != nil {
		var runID string
		if res.Run != nil {
			runID = res.Run.ID
		}
		return h.errorResult(err, runID), nil
	}
	if pass != nil {
		return pass(res.Run), nil
	}
	return resultOf(res.Run), nil
}

// resultOf is a finished run as a tool result: the output as
// structuredContent and as JSON text, or isError with the run's message.
func resultOf(run *domain.Run) *gomcp.CallToolResult {
	meta := gomcp.Meta{runIDMeta: run.ID}
	if run.Status == domain.StatusSucceeded {
		out := run.Output
		if len(out) == 0 {
			out = json.RawMessage("{}")
		}
		return &gomcp.CallToolResult{Meta: meta, StructuredContent: out,
			Content: []gomcp.Content{&gomcp.TextContent{Text: string(out)}}}
	}
	msg := fmt.Sprintf("the run ended %s", run.Status)
	if run.Error != nil && run.Error.Message != "" {
		msg = run.Error.Message
	}
	return &gomcp.CallToolResult{Meta: meta, IsError: true, Content: []gomcp.Content{&gomcp.TextContent{Text: msg}}}
}

// errorResult is a call the core refused or could not follow (bad
// arguments, shutting down, storage): isError with the core's message,
// which names the failing fields.
func (h *Handler) errorResult(err error, runID string) *gomcp.CallToolResult {
	e := domain.AsError(err)
	if e.Code == domain.CodeInternal {
		h.log.Error("tools/call failed inside the host", "run_id", runID, "error", err)
	}
	msg := e.Message
	for _, f := range e.Fields {
		msg += fmt.Sprintf("\n- %s: %s", f.Field, f.Message)
	}
	res := &gomcp.CallToolResult{IsError: true, Content: []gomcp.Content{&gomcp.TextContent{Text: msg}}}
	if runID != "" {
		res.Meta = gomcp.Meta{runIDMeta: runID}
	}
	return res
}
