package mcp

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

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

// runTool is a tools/call as a run. The finished run is answered by
// resultOf, or by pass when set (/mcp/{server} of a hosted MCP server,
// whose notifications are then relayed as the server sent them).
func (h *Handler) runTool(ctx context.Context, req *gomcp.CallToolRequest, actionID string, pass func(*domain.Run) *gomcp.CallToolResult) (*gomcp.CallToolResult, error) {
	r := requestOf(ctx)
	if r == nil {
		return nil, &jsonrpc.Error{Code: codeRefused, Message: "no authenticated caller for this request"}
	}
	var idem string
	if req.Extra != nil && req.Extra.Header != nil {
		idem = req.Extra.Header.Get("Idempotency-Key")
	}
	stream := true
	res, err := h.runner.Submit(ctx, core.Call{
		Action: actionID, Args: req.Params.Arguments, InputOnly: true,
		Mode:   core.ModeRequest{Stream: &stream},
		Caller: domain.CallerOf(r.key), IdempotencyKey: idem, Source: "mcp",
	})
	if err != nil {
		return h.errorResult(err, ""), nil
	}
	n := &notifier{ctx: ctx, req: req, runID: res.Run.ID, token: req.Params.GetProgressToken(), quiet: res.Replayed, relay: pass != nil}
	run, err := h.follow(ctx, n, r)
	if err != nil {
		return h.errorResult(err, res.Run.ID), nil
	}
	if pass != nil {
		return pass(run), nil
	}
	return resultOf(run), nil
}

// follow passes the run's events on (through n) until it ends, cancelling
// it when the client does, and returns its final record.
func (h *Handler) follow(ctx context.Context, n *notifier, r *request) (*domain.Run, error) {
	runID := n.runID
	bg := context.WithoutCancel(ctx)
	past, live, stop, err := h.runner.Follow(bg, runID, 0)
	if err != nil {
		return nil, err
	}
	defer stop()
	var end ending
	for _, e := range past {
		end.see(e)
		n.event(e)
	}
	var once sync.Once
	cancel := func() {
		once.Do(func() {
			go func() {
				if _, err := h.runner.Cancel(bg, runID); err != nil && domain.ErrorCode(err) != domain.CodeConflict {
					h.log.Warn("could not cancel the run the client cancelled", "run_id", runID, "error", err)
				}
			}()
		})
	}
	ctxDone, reqDone := ctx.Done(), r.done
	var clientCancel <-chan struct{}
	if r.call != nil {
		clientCancel = r.call.cancel
	}
	for {
		select {
		case e, ok := <-live:
			if !ok {
				if run := end.result(runID); run != nil {
					return run, nil
				}
				// Cut off before the end (a follower that fell behind):
				// the record has it.
				wctx, done := context.WithTimeout(bg, 30*time.Second)
				defer done()
				return h.runner.Wait(wctx, runID)
			}
			end.see(e)
			n.event(e)
		case <-ctxDone: // notifications/cancelled in a session, or the stream closed (2026-07-28)
			ctxDone = nil
			cancel()
		case <-reqDone: // the client closed the request's stream
			reqDone = nil
			cancel()
		case <-clientCancel: // notifications/cancelled naming this call
			clientCancel = nil
			cancel()
		}
	}
}

// ending is what a run's events tell of its end: the output (run.output)
// and the final state (the run.<status> event), so the answer is made from
// them rather than from the record read back from the store. The events
// channel closes only once the record is stored, so history still has the
// run when the client gets the answer.
type ending struct {
	output json.RawMessage
	status string
	err    *domain.RunError
}

func (f *ending) see(e domain.Event) {
	if e.Type == "run.output" {
		f.output = e.Data
		return
	}
	st, ok := strings.CutPrefix(e.Type, "run.")
	if !ok || !domain.IsTerminal(st) {
		return
	}
	f.status, f.err = st, nil
	if st == domain.StatusSucceeded {
		return
	}
	var s struct {
		Error *domain.RunError `json:"error"`
	}
	if json.Unmarshal(e.Data, &s) == nil {
		f.err = s.Error
	}
}

// result is the finished run as the events told it, nil when they did not
// reach its end.
func (f *ending) result(runID string) *domain.Run {
	if f.status == "" {
		return nil
	}
	run := &domain.Run{ID: runID, Status: f.status, Error: f.err}
	if f.status == domain.StatusSucceeded {
		run.Output = f.output
	}
	return run
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
