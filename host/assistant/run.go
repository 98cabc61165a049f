package assistant

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/openai/openai-go/v3"

	"github.com/toolhost/toolhost/host/core"
	"github.com/toolhost/toolhost/host/domain"
)

// Tool execution modes.
const (
	ToolsOnServer = "server" // toolhost runs the tool calls through the plugins
	ToolsOnClient = "client" // the run stops in requires_action for the client to run them
)

// RunRequest asks for an assistant run on a thread.
type RunRequest struct {
	ThreadID     string
	Model        string   // a model block's name; the first when empty
	Instructions string   // sent first, as the system message
	Actions      []string // allow-list of action ids or aliases; nil: every action
	MaxSteps     int      // model calls at most; 0: the default (8)
	// ToolExecution is "server" (default) or "client".
	ToolExecution string
	// Stream asks the model for a streamed answer, so its tokens become
	// thread.message.delta events.
	Stream bool
	// ExpiresAfter bounds a client tool execution wait; 0: the default.
	ExpiresAfter time.Duration
	// Caller, IdempotencyKey, Mode and Source are the call's, as for an
	// action run (core.Call).
	Caller         domain.Caller
	IdempotencyKey string
	Mode           core.ModeRequest
	Source         string
}

// runInput is the request as recorded in the run's input.
type runInput struct {
	Model         string   `json:"model"`
	Instructions  string   `json:"instructions,omitempty"`
	Actions       []string `json:"actions,omitempty"`
	MaxSteps      int      `json:"max_steps"`
	ToolExecution string   `json:"tool_execution"`
	Stream        bool     `json:"stream,omitempty"`
}

// Start checks the request and submits the run to the core's pipeline,
// which applies the idempotency key and records and runs it. The run goes
// on without the caller; follow it through the Runner.
func (s *Service) Start(ctx context.Context, req RunRequest) (core.Result, error) {
	if err := s.usable(); err != nil {
		return core.Result{}, err
	}
	model, err := s.model(req.Model)
	if err != nil {
		return core.Result{}, err
	}
	switch req.ToolExecution {
	case "":
		req.ToolExecution = ToolsOnServer
	case ToolsOnServer, ToolsOnClient:
	default:
		return core.Result{}, fieldError("tool_execution", `must be "server" or "client"`)
	}
	switch {
	case req.MaxSteps == 0:
		req.MaxSteps = s.maxSteps
	case req.MaxSteps < 1 || req.MaxSteps > MaxMaxSteps:
		return core.Result{}, fieldError("max_steps", fmt.Sprintf("must be from 1 to %d", MaxMaxSteps))
	}
	if req.ExpiresAfter <= 0 {
		req.ExpiresAfter = s.expiresAfter
	}
	tools, err := newToolset(s.runner.Catalog(), req.Actions)
	if err != nil {
		return core.Result{}, err
	}
	if _, err := s.threads.GetThread(ctx, req.ThreadID); err != nil {
		if errors.Is(err, domain.ErrNotFound) {
			return core.Result{}, domain.WrapError(err, domain.CodeNotFound, "thread %s not found", req.ThreadID)
		}
		return core.Result{}, err
	}
	req.Stream = req.Mode.Mode() == core.ModeStream
	in, _ := json.Marshal(runInput{Model: model.cfg.Name, Instructions: req.Instructions, Actions: req.Actions,
		MaxSteps: req.MaxSteps, ToolExecution: req.ToolExecution, Stream: req.Stream})
	st := &runState{svc: s, req: req, model: model, tools: tools}
	st.details = Details{Model: model.cfg.Name, ToolExecution: req.ToolExecution, MaxSteps: req.MaxSteps, Tools: []string{}}
	for _, a := range tools.allowed {
		st.details.Tools = append(st.details.Tools, tools.names[a.ID])
	}
	var runID string
	job := &core.Job{
		Run:    &domain.Run{Kind: Kind, ThreadID: req.ThreadID, Input: in, Extra: mustJSON(st.details)},
		Target: "thread:" + req.ThreadID, Request: in,
		Claim: func(id string) error {
			runID = id
			return s.claim(req.ThreadID, id)
		},
		Unclaim: func() { s.release(req.ThreadID, runID) },
		Do: func(ctx context.Context, c *core.JobControl) (json.RawMessage, error) {
			defer s.release(req.ThreadID, runID)
			st.c = c
			return st.run(ctx)
		},
	}
	return s.runner.Submit(ctx, core.Call{Job: job, Caller: req.Caller, IdempotencyKey: req.IdempotencyKey,
		Mode: req.Mode, Source: req.Source, ThreadID: req.ThreadID})
}

// claim marks the thread busy with runID: one run at a time per thread, so
// two runs never interleave their messages.
func (s *Service) claim(threadID, runID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if other, ok := s.busy[threadID]; ok {
		return domain.Errorf(domain.CodeConflict, "thread %s already has an active run (%s); wait for it to end or cancel it with POST /v1/runs/%s/cancel",
			threadID, other, other)
	}
	s.busy[threadID] = runID
	return nil
}

func (s *Service) release(threadID, runID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.busy[threadID] == runID {
		delete(s.busy, threadID)
	}
}

func fieldError(field, msg string) *domain.Error {
	return &domain.Error{Code: domain.CodeInvalidRequest, Message: field + " " + msg,
		Fields: []domain.FieldError{{Field: field, Message: msg}}}
}

func mustJSON(v any) json.RawMessage {
	raw, _ := json.Marshal(v)
	return raw
}

// runState is one run's loop.
type runState struct {
	svc     *Service
	req     RunRequest
	model   *modelClient
	tools   *toolset
	c       *core.JobControl
	msgs    []openai.ChatCompletionMessageParamUnion
	details Details
	step    int
	// malformed is set once the model has been told about malformed
	// arguments; the next time fails the run.
	malformed bool
}

func (st *runState) run(ctx context.Context) (json.RawMessage, error) {
	history, err := st.svc.threadMessages(st.req.ThreadID)
	if err != nil {
		return nil, err
	}
	st.msgs = messagesFor(st.req.Instructions, history)
	for {
		if ctx.Err() != nil {
			return nil, domain.Errorf(domain.CodeCancelled, "run cancelled")
		}
		st.step++
		st.details.Steps = st.step
		st.c.SetExtra(st.details)
		st.c.Emit("thread.run.step", map[string]any{"step": st.step, "type": "model_call", "status": "in_progress", "model": st.model.cfg.Name})
		msgID := domain.NewID(domain.MessagePrefix)
		var onDelta func(delta)
		if st.req.Stream {
			onDelta = func(d delta) {
				st.c.Emit("thread.message.delta", map[string]any{"id": msgID, "object": "thread.message.delta", "run_id": st.c.ID(), "delta": d})
			}
		}
		ans, err := st.model.complete(ctx, request{Messages: st.msgs, Tools: st.tools.params()}, onDelta)
		if err != nil {
			st.c.Emit("thread.run.step", map[string]any{"step": st.step, "type": "model_call", "status": "failed", "error": domain.AsError(err).Message})
			return nil, err
		}
		st.addUsage(ans.Usage)
		st.c.Emit("thread.run.step", map[string]any{"step": st.step, "type": "model_call", "status": "completed",
			"finish_reason": ans.FinishReason, "tool_calls": len(ans.ToolCalls)})
		if len(ans.ToolCalls) == 0 {
			m := &domain.Message{ID: msgID, Role: "assistant", Content: ans.Content, RunID: st.c.ID()}
			if err := st.append(m); err != nil {
				return nil, err
			}
			st.c.Emit("thread.run.step", map[string]any{"step": st.step, "type": "message_creation", "status": "completed", "message_id": msgID})
			return mustJSON(Output{MessageID: msgID, Content: ans.Content, Steps: st.step}), nil
		}
		calls := ans.ToolCalls
		for i := range calls {
			if calls[i].ID == "" { // some local servers leave ids out
				calls[i].ID = "call_" + strings.ToLower(domain.NewID("")[10:])
			}
			calls[i].Type = "function"
		}
		asst := &domain.Message{ID: msgID, Role: "assistant", Content: ans.Content, ToolCalls: mustJSON(calls), RunID: st.c.ID()}
		if err := st.append(asst); err != nil {
			return nil, err
		}
		st.msgs = append(st.msgs, assistantParam(ans.Content, calls))
		if st.step >= st.req.MaxSteps {
			reason := fmt.Sprintf("not run: the run reached max_steps (%d)", st.req.MaxSteps)
			_ = st.appendResults(calls, uniform(calls, "error: "+reason), nil)
			return nil, domain.Errorf(domain.CodeModelError,
				"the assistant did not finish within max_steps (%d model calls): it still asked for %s; the thread keeps every message so far; run again to go on, or raise max_steps",
				st.req.MaxSteps, callNames(calls))
		}
		var results map[string]string
		var meta map[string]map[string]string
		var fatal error
		if st.req.ToolExecution == ToolsOnClient {
			results, err = st.waitForClient(ctx, calls)
			if err != nil {
				return nil, err
			}
		} else {
			st.c.Emit("thread.run.step", map[string]any{"step": st.step, "type": "tool_calls", "status": "in_progress", "tool_calls": calls})
			var outcomes []toolOutcome
			outcomes, fatal = st.runTools(ctx, calls)
			results, meta = map[string]string{}, map[string]map[string]string{}
			for _, o := range outcomes {
				results[o.CallID], meta[o.CallID] = o.content, o.meta()
			}
			st.c.Emit("thread.run.step", map[string]any{"step": st.step, "type": "tool_calls", "status": "completed", "tool_calls": outcomes})
		}
		if err := st.appendResults(calls, results, meta); err != nil {
			return nil, err
		}
		if fatal != nil {
			return nil, fatal
		}
		if ctx.Err() != nil {
			return nil, domain.Errorf(domain.CodeCancelled, "run cancelled")
		}
	}
}

func (st *runState) addUsage(u Usage) {
	if u.TotalTokens == 0 && u.PromptTokens == 0 && u.CompletionTokens == 0 {
		return
	}
	if st.details.Usage == nil {
		st.details.Usage = &Usage{}
	}
	st.details.Usage.add(u)
	st.c.SetExtra(st.details)
}

func uniform(calls []ToolCall, content string) map[string]string {
	out := map[string]string{}
	for _, c := range calls {
		out[c.ID] = content
	}
	return out
}

func callNames(calls []ToolCall) string {
	names := make([]string, len(calls))
	for i, c := range calls {
		names[i] = c.Function.Name
	}
	return strings.Join(names, ", ")
}

// append stores a message of this run on the thread and tells followers.
func (st *runState) append(msgs ...*domain.Message) error {
	if err := st.svc.threads.AddMessages(context.Background(), st.req.ThreadID, msgs...); err != nil {
		if errors.Is(err, domain.ErrNotFound) {
			return domain.WrapError(err, domain.CodeNotFound, "thread %s was deleted during the run", st.req.ThreadID)
		}
		return domain.WrapError(err, domain.CodeInternal, "could not store the message")
	}
	for _, m := range msgs {
		st.c.Emit("thread.message.created", ViewMessage(m))
	}
	return nil
}

// appendResults stores one tool message per call, in the calls' order, and
// adds them to the conversation.
func (st *runState) appendResults(calls []ToolCall, results map[string]string, meta map[string]map[string]string) error {
	var msgs []*domain.Message
	for _, c := range calls {
		content, ok := results[c.ID]
		if !ok {
			content = "error: no result"
		}
		msgs = append(msgs, &domain.Message{Role: "tool", Content: content, ToolCallID: c.ID, RunID: st.c.ID(), Metadata: meta[c.ID]})
		st.msgs = append(st.msgs, openai.ToolMessage(content, c.ID))
	}
	return st.append(msgs...)
}

// threadMessages reads the whole thread, oldest first.
func (s *Service) threadMessages(threadID string) ([]*domain.Message, error) {
	var all []*domain.Message
	page := domain.Page{Limit: domain.MaxLimit, Order: domain.OrderAsc}
	for {
		msgs, more, err := s.threads.ListMessages(context.Background(), threadID, page)
		if err != nil {
			if errors.Is(err, domain.ErrNotFound) {
				return nil, domain.WrapError(err, domain.CodeNotFound, "thread %s not found", threadID)
			}
			return nil, domain.WrapError(err, domain.CodeInternal, "could not read the thread")
		}
		all = append(all, msgs...)
		if !more || len(msgs) == 0 {
			return all, nil
		}
		page.After = msgs[len(msgs)-1].ID
	}
}

// toolOutcome is how one tool call went.
type toolOutcome struct {
	CallID   string `json:"id"`
	Name     string `json:"name"`
	ActionID string `json:"action_id,omitempty"`
	Action   string `json:"action,omitempty"`
	RunID    string `json:"run_id,omitempty"`
	Status   string `json:"status"` // succeeded, failed, ...; "rejected" when it did not run
	Error    string `json:"error,omitempty"`
	content  string
}

func (o toolOutcome) meta() map[string]string {
	m := map[string]string{"tool_name": o.Name, "status": o.Status}
	if o.ActionID != "" {
		m["action_id"] = o.ActionID
	}
	if o.RunID != "" {
		m["action_run_id"] = o.RunID
	}
	return m
}

// runTools runs the calls as action runs linked to this run, at the same
// time, and returns their outcomes in the calls' order. Calls that cannot
// run (unknown tool, malformed or invalid arguments) get an error for the
// model to read. A second round of malformed arguments returns a fatal
// error after nothing was run.
func (st *runState) runTools(ctx context.Context, calls []ToolCall) ([]toolOutcome, error) {
	out := make([]toolOutcome, len(calls))
	prepared := make([]*core.Prepared, len(calls))
	var malformed []string
	for i, c := range calls {
		o := &out[i]
		o.CallID, o.Name = c.ID, c.Function.Name
		a, why := st.tools.lookup(c.Function.Name)
		if a == nil {
			o.Status, o.Error, o.content = "rejected", why, why
			continue
		}
		o.ActionID, o.Action = a.ID, a.Alias
		p, err := st.svc.runner.Prepare(core.Call{Action: a.ID, Args: json.RawMessage(c.Function.Arguments), InputOnly: true})
		switch {
		case errors.Is(err, core.ErrMalformedArgs):
			malformed = append(malformed, c.Function.Name)
			o.Status = "rejected"
			o.Error = fmt.Sprintf("error: the arguments are not a valid JSON object (%v); call %s again with a JSON object that matches its parameters",
				errors.Unwrap(err), c.Function.Name)
			o.content = o.Error
			continue
		case err != nil:
			o.Status = "rejected"
			o.Error = "error: " + domain.AsError(err).Message + "; call " + c.Function.Name + " again with input that matches its parameters"
			o.content = o.Error
			continue
		}
		prepared[i] = p
	}
	if len(malformed) > 0 {
		if st.malformed {
			for i := range out {
				if prepared[i] != nil {
					prepared[i] = nil
					out[i].Status, out[i].Error = "rejected", "error: not run: the run failed on malformed tool arguments"
					out[i].content = out[i].Error
				}
			}
			return out, domain.Errorf(domain.CodeModelError,
				"the model sent malformed tool arguments again (%s) after being told once; the run stops here, with the thread kept",
				strings.Join(malformed, ", "))
		}
		st.malformed = true
	}
	var wg sync.WaitGroup
	for i := range calls {
		if prepared[i] == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			st.runTool(ctx, prepared[i], &out[i])
		}()
	}
	wg.Wait()
	return out, nil
}

func decodeArgs(s string) (map[string]json.RawMessage, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return map[string]json.RawMessage{}, nil // a call without arguments
	}
	var args map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &args); err != nil {
		return nil, err
	}
	if args == nil {
		return nil, errors.New("null is not an object")
	}
	return args, nil
}

// runTool runs one action and records how it went; the content is the
// action's output JSON or an error text.
func (st *runState) runTool(ctx context.Context, p *core.Prepared, o *toolOutcome) {
	r := st.svc.runner
	started := true
	res, err := r.Submit(ctx, core.Call{Prepared: p, Mode: core.ModeRequest{Stream: &started}, Caller: st.req.Caller,
		Source: "assistant", ThreadID: st.req.ThreadID, ParentRunID: st.c.ID()})
	if err != nil {
		f := domain.AsError(err)
		o.Status, o.Error = "failed", f.Message
		o.content = fmt.Sprintf("error (%s): %s", f.Code, f.Message)
		return
	}
	id := res.Run.ID
	o.RunID = id
	run, err := r.Wait(ctx, id)
	if err != nil { // this run was cancelled: cancel the action run too
		bg := context.WithoutCancel(ctx)
		run, _ = r.Cancel(bg, id)
		if run == nil {
			run, _ = r.Get(bg, id)
		}
	}
	if run == nil {
		o.Status, o.Error, o.content = "failed", "lost track of the action run", "error: lost track of the action run"
		return
	}
	o.Status = run.Status
	if run.Status == domain.StatusSucceeded {
		o.content = unescapeHTML(run.Output)
		if o.content == "" {
			o.content = "{}"
		}
		return
	}
	msg, code := "run "+run.Status, run.Status
	if run.Error != nil {
		msg, code = run.Error.Message, run.Error.Code
	}
	o.Error = msg
	o.content = fmt.Sprintf("error (%s): %s", code, msg)
}

// unescapeHTML undoes encoding/json's HTML escapes (\u003c, \u003e,
// \u0026) in a JSON text, so the model reads <, > and & as they are.
func unescapeHTML(raw []byte) string {
	if !bytes.Contains(raw, []byte(`\u00`)) {
		return string(raw)
	}
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' || i+1 >= len(raw) {
			out = append(out, c)
			continue
		}
		if raw[i+1] == 'u' && i+5 < len(raw) {
			switch string(raw[i+2 : i+6]) {
			case "003c", "003C":
				out, i = append(out, '<'), i+5
				continue
			case "003e", "003E":
				out, i = append(out, '>'), i+5
				continue
			case "0026":
				out, i = append(out, '&'), i+5
				continue
			}
		}
		out = append(out, c, raw[i+1]) // any other escape, kept whole
		i++
	}
	return string(out)
}
