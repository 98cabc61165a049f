package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gorilla/mux"

	"github.com/toolhost/toolhost/host"
	"github.com/toolhost/toolhost/host/assistant"
	"github.com/toolhost/toolhost/host/fault"
	"github.com/toolhost/toolhost/host/store"
)

// threadRoutes registers /v1/threads, its messages and runs, and
// /v1/actions/identify.
func (s *server) threadRoutes(r muxRouter) {
	r.Handle(http.MethodPost, "/threads", s.createThread)
	r.Handle(http.MethodGet, "/threads", s.listThreads)
	r.Handle(http.MethodGet, "/threads/{threadId}", s.getThread)
	r.Handle(http.MethodPost, "/threads/{threadId}", s.updateThread)
	r.Handle(http.MethodDelete, "/threads/{threadId}", s.deleteThread)
	r.Handle(http.MethodPost, "/threads/{threadId}/messages", s.createMessage)
	r.Handle(http.MethodGet, "/threads/{threadId}/messages", s.listMessages)
	r.Handle(http.MethodGet, "/threads/{threadId}/messages/{messageId}", s.getMessage)
	r.Handle(http.MethodPost, "/threads/{threadId}/runs", s.createThreadRun)
	r.Handle(http.MethodGet, "/threads/{threadId}/runs/{runId}", s.getThreadRun)
	r.Handle(http.MethodPost, "/threads/{threadId}/runs/{runId}/submit_tool_outputs", s.submitToolOutputs)
	r.Handle(http.MethodPost, "/actions/identify", s.identifyAction)
}

// decodeObject reads a JSON object body into dst. An empty body is an
// error unless emptyOK; then dst stays as it is.
func decodeObject(r *http.Request, dst any, emptyOK bool, what string) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		if emptyOK {
			return nil
		}
		return fault.New(fault.InvalidRequest, "request body is empty; send a JSON object %s", what)
	}
	if body[0] != '{' {
		return fault.New(fault.InvalidRequest, "%s", host.NotAnObject(body, what))
	}
	if err := json.Unmarshal(body, dst); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return fieldErr(te.Field, "must be "+jsonTypeName(te.Type.String())+", not "+te.Value)
		}
		return fault.Wrap(err, fault.InvalidRequest, "request body is not valid JSON: %v", err)
	}
	return nil
}

func jsonTypeName(goType string) string {
	switch {
	case goType == "string":
		return "a string"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case strings.HasPrefix(goType, "map["), strings.Contains(goType, "struct"):
		return "an object"
	case goType == "bool", goType == "*bool":
		return "a boolean"
	case strings.Contains(goType, "int"), strings.Contains(goType, "float"):
		return "a number"
	}
	return "of type " + goType
}

// checkMetadata applies the Tool API's limits, naming the key at fault.
func checkMetadata(md map[string]json.RawMessage) (map[string]string, error) {
	if md == nil {
		return nil, nil
	}
	if len(md) > store.MaxMetadataKeys {
		return nil, fieldErr("metadata", fmt.Sprintf("has %d keys; at most %d are allowed", len(md), store.MaxMetadataKeys))
	}
	keys := make([]string, 0, len(md))
	for k := range md {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(map[string]string, len(md))
	for _, k := range keys {
		field := "metadata." + k
		if len(k) > store.MaxMetadataKeyLen {
			field = "metadata." + truncateRunes(k, 20) + "..."
			return nil, fieldErr(field, fmt.Sprintf("key is %d characters long; keys may have at most %d", utf8.RuneCountInString(k), store.MaxMetadataKeyLen))
		}
		var v string
		if err := json.Unmarshal(md[k], &v); err != nil {
			return nil, fieldErr(field, "must be a string")
		}
		if len(v) > store.MaxMetadataValueLen {
			return nil, fieldErr(field, fmt.Sprintf("value is %d characters long; values may have at most %d", len(v), store.MaxMetadataValueLen))
		}
		out[k] = v
	}
	return out, nil
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}

type messageIn struct {
	Role     *string                    `json:"role"`
	Content  json.RawMessage            `json:"content"`
	Metadata map[string]json.RawMessage `json:"metadata"`
}

// message checks a message a client posts: role user or assistant, and
// content (a string, or an array of text parts).
func (in messageIn) message(prefix string) (*store.Message, error) {
	if in.Role == nil || *in.Role == "" {
		return nil, fieldErr(prefix+"role", `is required: "user" or "assistant"`)
	}
	if *in.Role != "user" && *in.Role != "assistant" {
		return nil, fieldErr(prefix+"role", fmt.Sprintf(`must be "user" or "assistant", not %q (tool messages come from runs)`, *in.Role))
	}
	content, err := contentText(in.Content)
	if err != nil {
		return nil, fieldErr(prefix+"content", err.Error())
	}
	md, err := checkMetadata(in.Metadata)
	if err != nil {
		f := fault.As(err)
		return nil, fieldErr(prefix+f.Fields[0].Field, f.Fields[0].Message)
	}
	return &store.Message{Role: *in.Role, Content: content, Metadata: md}, nil
}

func contentText(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return "", fmt.Errorf("is required")
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if strings.TrimSpace(s) == "" {
			return "", fmt.Errorf("must not be empty")
		}
		return s, nil
	}
	var parts []struct {
		Type    string          `json:"type"`
		RawText json.RawMessage `json:"text"` // "..." or {"value":"..."}
	}
	if json.Unmarshal(raw, &parts) != nil {
		return "", fmt.Errorf("must be a string")
	}
	var b strings.Builder
	for _, p := range parts {
		if p.Type != "text" {
			return "", fmt.Errorf("has a %q part; only text is supported", p.Type)
		}
		var t string
		if json.Unmarshal(p.RawText, &t) != nil {
			var obj struct {
				Value string `json:"value"`
			}
			if json.Unmarshal(p.RawText, &obj) != nil {
				return "", fmt.Errorf("text parts need a text string")
			}
			t = obj.Value
		}
		b.WriteString(t)
	}
	if strings.TrimSpace(b.String()) == "" {
		return "", fmt.Errorf("must not be empty")
	}
	return b.String(), nil
}

func (s *server) createThread(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Metadata map[string]json.RawMessage `json:"metadata"`
		Messages []messageIn                `json:"messages"`
	}
	if err := decodeObject(r, &in, true, `such as {"metadata":{...},"messages":[{"role":"user","content":"..."}]}`); err != nil {
		s.fail(w, r, err)
		return
	}
	md, err := checkMetadata(in.Metadata)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var msgs []*store.Message
	for i, m := range in.Messages {
		msg, err := m.message("messages[" + strconv.Itoa(i) + "].")
		if err != nil {
			s.fail(w, r, err)
			return
		}
		msgs = append(msgs, msg)
	}
	t := &store.Thread{Metadata: md}
	if err := s.db.CreateThread(t, msgs); err != nil {
		s.fail(w, r, err)
		return
	}
	ok(w, http.StatusOK, assistant.ViewThread(t))
}

func (s *server) listThreads(w http.ResponseWriter, r *http.Request) {
	page, err := parsePage(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	threads, more, err := s.db.ListThreads(page)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := listView[assistant.ThreadView]{List: []assistant.ThreadView{}, HasMore: more}
	for _, t := range threads {
		out.List = append(out.List, assistant.ViewThread(t))
	}
	ok(w, http.StatusOK, out)
}

// thread loads the thread named in the path; unknown is a 404.
func (s *server) thread(r *http.Request) (*store.Thread, error) {
	id := mux.Vars(r)["threadId"]
	t, err := s.db.GetThread(id)
	if err != nil {
		return nil, threadErr(err, id)
	}
	return t, nil
}

func threadErr(err error, id string) error {
	if fault.Code(err) == fault.Internal && toFault(err).Code == fault.NotFound {
		return fault.Wrap(err, fault.NotFound, "thread %s not found", id)
	}
	return err
}

func (s *server) getThread(w http.ResponseWriter, r *http.Request) {
	t, err := s.thread(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ok(w, http.StatusOK, assistant.ViewThread(t))
}

func (s *server) updateThread(w http.ResponseWriter, r *http.Request) {
	if _, err := s.thread(r); err != nil {
		s.fail(w, r, err)
		return
	}
	var in struct {
		Metadata map[string]json.RawMessage `json:"metadata"`
	}
	if err := decodeObject(r, &in, false, `such as {"metadata":{"key":"value"}}`); err != nil {
		s.fail(w, r, err)
		return
	}
	if in.Metadata == nil {
		s.fail(w, r, fieldErr("metadata", "is required: the thread's new metadata (an object of strings; {} clears it)"))
		return
	}
	md, err := checkMetadata(in.Metadata)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	id := mux.Vars(r)["threadId"]
	t, err := s.db.UpdateThreadMetadata(id, md)
	if err != nil {
		s.fail(w, r, threadErr(err, id))
		return
	}
	ok(w, http.StatusOK, assistant.ViewThread(t))
}

func (s *server) deleteThread(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["threadId"]
	if err := s.db.DeleteThread(id); err != nil {
		s.fail(w, r, threadErr(err, id))
		return
	}
	ok(w, http.StatusOK, map[string]any{"id": id, "object": "thread.deleted", "deleted": true})
}

func (s *server) createMessage(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["threadId"]
	if _, err := s.thread(r); err != nil {
		s.fail(w, r, err)
		return
	}
	var in messageIn
	if err := decodeObject(r, &in, false, `such as {"role":"user","content":"..."}`); err != nil {
		s.fail(w, r, err)
		return
	}
	m, err := in.message("")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.db.AddMessages(id, m); err != nil {
		s.fail(w, r, threadErr(err, id))
		return
	}
	ok(w, http.StatusOK, assistant.ViewMessage(m))
}

func (s *server) listMessages(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["threadId"]
	page, err := parsePage(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	msgs, more, err := s.db.ListMessages(id, page)
	if err != nil {
		s.fail(w, r, threadErr(err, id))
		return
	}
	out := listView[assistant.MessageView]{List: []assistant.MessageView{}, HasMore: more}
	for _, m := range msgs {
		out.List = append(out.List, assistant.ViewMessage(m))
	}
	ok(w, http.StatusOK, out)
}

func (s *server) getMessage(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	if _, err := s.thread(r); err != nil {
		s.fail(w, r, err)
		return
	}
	m, err := s.db.GetMessage(v["threadId"], v["messageId"])
	if err != nil {
		if toFault(err).Code == fault.NotFound {
			err = fault.Wrap(err, fault.NotFound, "message %s not found in thread %s", v["messageId"], v["threadId"])
		}
		s.fail(w, r, err)
		return
	}
	ok(w, http.StatusOK, assistant.ViewMessage(m))
}

// threadRunIn is the body of POST /v1/threads/{id}/runs.
type threadRunIn struct {
	Model         string   `json:"model"`
	Instructions  string   `json:"instructions"`
	Actions       []string `json:"actions"`
	MaxSteps      int      `json:"max_steps"`
	Blocking      *bool    `json:"blocking"`
	Stream        *bool    `json:"stream"`
	ToolExecution string   `json:"tool_execution"`
	// ExpiresAfter is how many seconds a run in requires_action waits.
	ExpiresAfter float64 `json:"expires_after"`
}

func (s *server) createThreadRun(w http.ResponseWriter, r *http.Request) {
	threadID := mux.Vars(r)["threadId"]
	if _, err := s.thread(r); err != nil {
		s.fail(w, r, err)
		return
	}
	body, err := readBody(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	var in threadRunIn
	if err := decodeObject(r, &in, true, `such as {"model":"local","instructions":"...","stream":true}`); err != nil {
		s.fail(w, r, err)
		return
	}
	stream, blocking, err := runMode(r, host.RunMode{Blocking: in.Blocking, Stream: in.Stream})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if in.ExpiresAfter < 0 {
		s.fail(w, r, fieldErr("expires_after", "must be a positive number of seconds"))
		return
	}
	// An Idempotency-Key makes a retried request replay the first answer
	// rather than run the assistant (and its tools) again.
	s.withIdempotency(w, r, "thread:"+threadID, body, func(w http.ResponseWriter, _ string) {
		id, err := s.cfg.Assistant.Start(assistant.RunRequest{
			ThreadID: threadID, Model: in.Model, Instructions: in.Instructions, Actions: in.Actions,
			MaxSteps: in.MaxSteps, ToolExecution: in.ToolExecution, Stream: stream,
			ExpiresAfter: time.Duration(in.ExpiresAfter * float64(time.Second)), KeyName: keyName(r),
		})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		w.Header().Set("X-Run-Id", id)
		s.answerThreadRun(w, r, id, 0, stream, blocking)
	})
}

// answerThreadRun answers for a run that has started (or gone on) after
// event number after: streamed, at once (202), or when it reaches
// requires_action or ends.
func (s *server) answerThreadRun(w http.ResponseWriter, r *http.Request, id string, after int, stream, blocking bool) {
	switch {
	case stream:
		s.streamRun(w, r, id, after, assistant.Idle)
	case !blocking:
		run, err := s.runner.Get(id)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		ok(w, http.StatusAccepted, map[string]any{"run_id": id, "id": id, "object": "thread.run", "thread_id": run.ThreadID, "status": run.Status})
	default:
		run, err := s.cfg.Assistant.WaitIdle(r.Context(), id, after)
		if err != nil {
			if r.Context().Err() == nil {
				s.fail(w, r, err)
			}
			return // the client went away; the run goes on and is recorded
		}
		status, body := s.threadRunAnswer(r, run)
		writeJSON(w, status, body)
	}
}

// threadRunView is an assistant run as the thread routes show it.
type threadRunView struct {
	ID             string                    `json:"id"`
	RunID          string                    `json:"run_id"`
	Object         string                    `json:"object"`
	ThreadID       string                    `json:"thread_id"`
	Status         string                    `json:"status"`
	Model          string                    `json:"model,omitempty"`
	Output         json.RawMessage           `json:"output,omitempty"`
	RequiredAction *assistant.RequiredAction `json:"required_action,omitempty"`
	ExpiresAt      *int64                    `json:"expires_at,omitempty"`
	Error          *store.RunError           `json:"error,omitempty"`
	Steps          int                       `json:"steps"`
	Usage          *assistant.Usage          `json:"usage,omitempty"`
	CreatedAt      int64                     `json:"created_at"`
	StartedAt      *int64                    `json:"started_at,omitempty"`
	FinishedAt     *int64                    `json:"finished_at,omitempty"`
}

func viewThreadRun(run *store.Run) threadRunView {
	v := threadRunView{ID: run.ID, RunID: run.ID, Object: "thread.run", ThreadID: run.ThreadID, Status: run.Status,
		Output: run.Output, Error: run.Error, CreatedAt: run.CreatedAt.Unix(),
		StartedAt: unixPtr(run.StartedAt), FinishedAt: unixPtr(run.FinishedAt)}
	if d, isAssistant := assistant.RunDetails(run); isAssistant {
		v.Model, v.Steps, v.Usage = d.Model, d.Steps, d.Usage
		if run.Status == store.StatusRequiresAction {
			v.RequiredAction, v.ExpiresAt = d.RequiredAction, unixPtr(d.ExpiresAt)
		}
	}
	return v
}

func unixPtr(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	u := t.Unix()
	return &u
}

// threadRunAnswer is the answer for a run that reached requires_action or
// ended: the run, or the error envelope (with run_id) when it failed.
func (s *server) threadRunAnswer(r *http.Request, run *store.Run) (int, envelope) {
	switch run.Status {
	case store.StatusSucceeded, store.StatusRequiresAction:
		return http.StatusOK, envelope{Status: "success", Data: viewThreadRun(run)}
	}
	if !store.IsTerminal(run.Status) {
		return http.StatusAccepted, envelope{Status: "success", Data: viewThreadRun(run)}
	}
	e := &fault.Error{Code: fault.Internal, Message: "run " + run.Status}
	if run.Error != nil {
		e = &fault.Error{Code: run.Error.Code, Message: run.Error.Message}
	}
	status := httpStatus(e.Code)
	if e.Code == fault.Expired {
		status = http.StatusConflict
	}
	return status, s.errorEnvelope(r, e, run.ID)
}

func (s *server) getThreadRun(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	run, err := s.runner.Get(v["runId"])
	if err != nil || run.ThreadID != v["threadId"] || run.Kind != assistant.Kind {
		s.fail(w, r, fault.New(fault.NotFound, "run %s of thread %s not found", v["runId"], v["threadId"]))
		return
	}
	ok(w, http.StatusOK, viewThreadRun(run))
}

func (s *server) submitToolOutputs(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	var in struct {
		ToolOutputs []assistant.ToolOutput `json:"tool_outputs"`
		Blocking    *bool                  `json:"blocking"`
		Stream      *bool                  `json:"stream"`
	}
	if err := decodeObject(r, &in, false, `such as {"tool_outputs":[{"tool_call_id":"call_...","output":"..."}]}`); err != nil {
		s.fail(w, r, err)
		return
	}
	stream, blocking, err := runMode(r, host.RunMode{Blocking: in.Blocking, Stream: in.Stream})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(in.ToolOutputs) == 0 {
		s.fail(w, r, fieldErr("tool_outputs", "is required: one {tool_call_id, output} per tool call of required_action"))
		return
	}
	after, err := s.cfg.Assistant.SubmitToolOutputs(v["threadId"], v["runId"], in.ToolOutputs)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("X-Run-Id", v["runId"])
	s.answerThreadRun(w, r, v["runId"], after, stream, blocking)
}

func (s *server) identifyAction(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Prompt *string `json:"prompt"`
		Model  string  `json:"model"`
	}
	if err := decodeObject(r, &in, false, `such as {"prompt":"send an email to ..."}`); err != nil {
		s.fail(w, r, err)
		return
	}
	if in.Prompt == nil || strings.TrimSpace(*in.Prompt) == "" {
		s.fail(w, r, fieldErr("prompt", "is required: say what the action should do"))
		return
	}
	out, err := s.cfg.Assistant.Identify(r.Context(), *in.Prompt, in.Model)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ok(w, http.StatusOK, out)
}

// takePrompt takes a top-level "prompt" string out of an action run body
// (when the action has no parameter of that name) and returns the rest of
// the body, for DecodeRunBody, and the prompt.
func takePrompt(a *host.Action, body []byte) ([]byte, string, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' || a.Input.Property("prompt") != nil ||
		!bytes.Contains(trimmed, []byte(`"prompt"`)) { // the common case: no decode
		return body, "", nil
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(trimmed, &obj) != nil {
		return body, "", nil // DecodeRunBody explains
	}
	raw, found := obj["prompt"]
	if !found {
		return body, "", nil
	}
	var prompt string
	if err := json.Unmarshal(raw, &prompt); err != nil || strings.TrimSpace(prompt) == "" {
		return nil, "", fieldErr("prompt", "must be a non-empty string saying what the input should be")
	}
	delete(obj, "prompt")
	rest, _ := json.Marshal(obj)
	return rest, prompt, nil
}

// fillFromPrompt asks the model for the input the prompt describes and adds
// the keys input does not have: explicit input keys win.
func (s *server) fillFromPrompt(ctx context.Context, a *host.Action, prompt string, input map[string]any) (map[string]any, error) {
	if prompt == "" {
		return input, nil
	}
	raw, err := s.cfg.Assistant.FillInput(ctx, a, prompt)
	if err != nil {
		return nil, err
	}
	filled, err := host.DecodeInput(raw)
	if err != nil {
		return nil, err
	}
	if input == nil {
		input = map[string]any{}
	}
	for k, v := range filled {
		if _, given := input[k]; !given {
			input[k] = v
		}
	}
	return input, nil
}
