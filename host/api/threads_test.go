package api_test

// Threads, messages and assistant runs over real parts: the testkit plugin
// as a process, bbolt in a temp dir, the API over loopback, and a scripted
// OpenAI-compatible model server on 127.0.0.1 (assistanttest) that checks
// each request.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/toolhost/toolhost/client"
	"github.com/toolhost/toolhost/host/api"
	"github.com/toolhost/toolhost/host/assistant"
	"github.com/toolhost/toolhost/host/assistant/assistanttest"
	"github.com/toolhost/toolhost/host/config"
	"github.com/toolhost/toolhost/host/core"
	"github.com/toolhost/toolhost/internal/hosttest"
)

// thrEnv is a server with the assistant wired to the fake model.
type thrEnv struct {
	*env
	t     *testing.T
	model *assistanttest.Server
}

type thrOptions struct {
	noModels bool
}

func newThrEnv(t *testing.T, opts ...thrOptions) *thrEnv {
	t.Helper()
	var o thrOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	fake := assistanttest.New(t)
	var models []config.Model
	if !o.noModels {
		models = []config.Model{
			{Name: "fake", BaseURL: fake.URL, Model: "fake-model", APIKey: "sk-test", Timeout: 10 * time.Second, MaxTokens: 256},
			{Name: "slow", BaseURL: fake.URL, Model: "slow-model", Timeout: 300 * time.Millisecond},
		}
	}
	e := newEnv(t, envOptions{queueSize: 16, workers: 4, models: models})
	t.Cleanup(func() {
		if n := fake.Left(); n > 0 && !t.Failed() {
			t.Errorf("%d scripted model replies were not asked for", n)
		}
	})
	return &thrEnv{env: e, t: t, model: fake}
}

type thrResp struct{ hosttest.Response }

// errorDetail decodes the error envelope.
func (r thrResp) errorDetail(t *testing.T) (code, msg string, fields []string, runID string) {
	t.Helper()
	var env struct {
		Status string `json:"status"`
		Error  struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			RunID   string `json:"run_id"`
			Fields  []struct {
				Field string `json:"field"`
			} `json:"fields"`
		} `json:"error"`
	}
	if err := json.Unmarshal(r.Body, &env); err != nil || env.Status != "error" {
		t.Fatalf("not an error envelope (HTTP %d): %s", r.Status, r.Body)
	}
	for _, f := range env.Error.Fields {
		fields = append(fields, f.Field)
	}
	return env.Error.Code, env.Error.Message, fields, env.Error.RunID
}

func (e *thrEnv) do(method, path, body string, headers ...string) thrResp {
	e.t.Helper()
	r := e.env.do(method, path, body, headers...)
	return thrResp{r}
}

func (e *thrEnv) want(r thrResp, status int) thrResp {
	e.t.Helper()
	if r.Status != status {
		e.t.Fatalf("HTTP %d, want %d: %s", r.Status, status, r.Body)
	}
	return r
}

// badRequest checks a 400 that names field (when given) and says want.
func (e *thrEnv) badRequest(r thrResp, field, want string) {
	e.t.Helper()
	e.want(r, http.StatusBadRequest)
	_, msg, fields, _ := r.errorDetail(e.t)
	if field != "" && !slices.Contains(fields, field) {
		e.t.Errorf("400 does not name %q (fields %v): %s", field, fields, r.Body)
	}
	if !strings.Contains(msg, want) {
		e.t.Errorf("400 message %q does not say %q", msg, want)
	}
}

func (e *thrEnv) newThread(body string) string {
	e.t.Helper()
	return e.want(e.do("POST", "/v1/threads", body), 200).Data(e.t)["id"].(string)
}

func (e *thrEnv) say(threadID, text string) {
	e.t.Helper()
	e.want(e.do("POST", "/v1/threads/"+threadID+"/messages", mustJSON(map[string]any{"role": "user", "content": text})), 200)
}

// messages lists the thread oldest first.
func (e *thrEnv) messages(threadID string) []map[string]any {
	e.t.Helper()
	d := e.want(e.do("GET", "/v1/threads/"+threadID+"/messages?order=asc&limit=100", ""), 200).Data(e.t)
	var out []map[string]any
	for _, m := range d["list"].([]any) {
		out = append(out, m.(map[string]any))
	}
	return out
}

func (e *thrEnv) run(id string) map[string]any {
	e.t.Helper()
	return e.want(e.do("GET", "/v1/runs/"+id, ""), 200).Data(e.t)
}

func (e *thrEnv) waitRun(id string, statuses ...string) map[string]any {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		r := e.run(id)
		if slices.Contains(statuses, r["status"].(string)) {
			return r
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("run %s is %s, want one of %v", id, r["status"], statuses)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func mustJSON(v any) string {
	raw, _ := json.Marshal(v)
	return string(raw)
}

func roles(msgs []map[string]any) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m["role"].(string))
	}
	return out
}

// wantMessages checks a request's messages: role and (when given) a piece
// of the content, in order.
func wantMessages(t testing.TB, r assistanttest.Request, want ...string) {
	t.Helper()
	if len(r.Messages) != len(want) {
		t.Errorf("model got %d messages %v, want %d %v", len(r.Messages), r.Roles(), len(want), want)
		return
	}
	for i, w := range want {
		role, text, _ := strings.Cut(w, ":")
		m := r.Messages[i]
		if m.Role != role || !strings.Contains(m.Text(), text) {
			t.Errorf("model message %d is %s %q, want %s containing %q", i, m.Role, m.Text(), role, text)
		}
	}
}

func echoID() string { return core.ActionID("testkit", "echo") }

func TestThreadRunPlainAnswer(t *testing.T) {
	e := newThrEnv(t)
	th := e.newThread(`{"metadata":{"user":"abc123"},"messages":[{"role":"user","content":"Hi, how are you?"},{"role":"assistant","content":"Good. Anything I can help with?"}]}`)
	e.say(th, "What is toolhost?")
	e.model.Push(assistanttest.Reply{Content: "A runner for assistant actions.", Check: func(t testing.TB, r assistanttest.Request) {
		if r.Model != "fake-model" || r.Stream || r.MaxTokens != 256 || r.Auth != "Bearer sk-test" {
			t.Errorf("request model %q stream %v max_tokens %d auth %q", r.Model, r.Stream, r.MaxTokens, r.Auth)
		}
		wantMessages(t, r, "system:Answer briefly.", "user:Hi, how are you?", "assistant:Good.", "user:What is toolhost?")
		names := r.ToolNames()
		if !slices.Contains(names, "testkit_echo") || !slices.Contains(names, "testkit_sleep") || !slices.Contains(names, "testkit_fail") {
			t.Errorf("tools offered: %v", names)
		}
		for _, tool := range r.Tools {
			if tool.Function.Name != "testkit_echo" {
				continue
			}
			if tool.Type != "function" || tool.Function.Description != "Echo: Returns its input." {
				t.Errorf("echo tool: %+v", tool)
			}
			props, _ := tool.Function.Parameters["properties"].(map[string]any)
			if tool.Function.Parameters["type"] != "object" || props["text"] == nil {
				t.Errorf("echo parameters are not its input schema: %v", tool.Function.Parameters)
			}
		}
	}})
	d := e.want(e.do("POST", "/v1/threads/"+th+"/runs", `{"instructions":"Answer briefly."}`), 200).Data(t)
	if d["status"] != "succeeded" || d["object"] != "thread.run" || d["thread_id"] != th || d["model"] != "fake" {
		t.Fatalf("run answer: %v", d)
	}
	out := d["output"].(map[string]any)
	if out["content"] != "A runner for assistant actions." || out["steps"] != 1.0 {
		t.Errorf("output: %v", out)
	}
	msgs := e.messages(th)
	if got := roles(msgs); !slices.Equal(got, []string{"user", "assistant", "user", "assistant"}) {
		t.Fatalf("thread roles %v", got)
	}
	last := msgs[3]
	if last["content"] != "A runner for assistant actions." || last["run_id"] != d["id"] || last["object"] != "thread.message" ||
		last["id"] != out["message_id"] || last["thread_id"] != th {
		t.Errorf("assistant message: %v", last)
	}
	if _, ok := last["created_at"].(float64); !ok {
		t.Errorf("created_at is not unix seconds: %v", last["created_at"])
	}
	run := e.run(d["id"].(string))
	details := run["details"].(map[string]any)
	if run["kind"] != "assistant" || run["thread_id"] != th || details["model"] != "fake" || details["steps"] != 1.0 {
		t.Errorf("run record: %v", run)
	}
	// The run's events tell every step.
	evs := e.events(d["id"].(string))
	for _, want := range []string{"run.created", "run.running", "thread.run.step", "thread.message.created", "run.succeeded"} {
		if !slices.Contains(evs, want) {
			t.Errorf("events %v lack %s", evs, want)
		}
	}
}

// events returns the event names of a finished run.
func (e *thrEnv) events(runID string) []string {
	e.t.Helper()
	r := e.want(e.do("GET", "/v1/runs/"+runID+"/events", ""), 200)
	var names []string
	for _, ev := range thrSSE(string(r.Body)) {
		names = append(names, ev.event)
	}
	return names
}

type thrEvent struct {
	event string
	data  map[string]any // the event's own data (inside the seq/at wrapper)
	raw   string
}

func thrSSE(body string) []thrEvent {
	var out []thrEvent
	for _, sse := range parseSSE(body) {
		ev := thrEvent{event: sse.Event, raw: sse.Data}
		if ev.raw == "[DONE]" {
			ev.event = "[DONE]"
		} else if ev.raw != "" {
			var w struct {
				Data map[string]any `json:"data"`
			}
			_ = json.Unmarshal([]byte(ev.raw), &w)
			ev.data = w.Data
		}
		if ev.event != "" {
			out = append(out, ev)
		}
	}
	return out
}

func TestThreadRunOneToolCall(t *testing.T) {
	e := newThrEnv(t)
	th := e.newThread(`{"messages":[{"role":"user","content":"Echo ping"}]}`)
	e.model.Push(
		assistanttest.Reply{Calls: []assistanttest.Call{{ID: "call_echo", Name: "testkit_echo", Arguments: `{"text":"ping"}`}}},
		assistanttest.Reply{Content: "It said ping.", Check: func(t testing.TB, r assistanttest.Request) {
			wantMessages(t, r, "user:Echo ping", "assistant:", `tool:{"text":"ping"}`)
			tc := r.Messages[1].ToolCalls
			if len(tc) != 1 || tc[0].ID != "call_echo" || tc[0].Function.Name != "testkit_echo" || tc[0].Function.Arguments != `{"text":"ping"}` {
				t.Errorf("assistant tool calls fed back: %+v", tc)
			}
			if r.Messages[2].ToolCallID != "call_echo" {
				t.Errorf("tool result for %q", r.Messages[2].ToolCallID)
			}
		}},
	)
	d := e.want(e.do("POST", "/v1/threads/"+th+"/runs", `{}`), 200).Data(t)
	if d["status"] != "succeeded" || d["output"].(map[string]any)["content"] != "It said ping." || d["steps"] != 2.0 {
		t.Fatalf("run: %v", d)
	}
	msgs := e.messages(th)
	if got := roles(msgs); !slices.Equal(got, []string{"user", "assistant", "tool", "assistant"}) {
		t.Fatalf("thread roles %v", got)
	}
	calls := msgs[1]["tool_calls"].([]any)
	if len(calls) != 1 || calls[0].(map[string]any)["id"] != "call_echo" {
		t.Errorf("stored tool calls: %v", calls)
	}
	tool := msgs[2]
	if tool["tool_call_id"] != "call_echo" || tool["content"] != `{"text":"ping"}` {
		t.Errorf("tool message: %v", tool)
	}
	md := tool["metadata"].(map[string]any)
	if md["action_id"] != echoID() || md["status"] != "succeeded" {
		t.Errorf("tool message metadata: %v", md)
	}
	// The action ran as its own run, linked to the thread run.
	child := e.run(md["action_run_id"].(string))
	if child["parent_run_id"] != d["id"] || child["thread_id"] != th || child["action_id"] != echoID() || child["status"] != "succeeded" {
		t.Errorf("action run: %v", child)
	}
}

func TestThreadRunParallelToolCallsRunConcurrently(t *testing.T) {
	e := newThrEnv(t)
	th := e.newThread(`{"messages":[{"role":"user","content":"Sleep twice"}]}`)
	e.model.Push(
		assistanttest.Reply{Calls: []assistanttest.Call{
			{ID: "call_a", Name: "testkit_sleep", Arguments: `{"ms":700}`},
			{ID: "call_b", Name: "testkit_echo", Arguments: `{"text":"b"}`},
			{ID: "call_c", Name: "testkit_sleep", Arguments: `{"ms":700}`},
		}},
		assistanttest.Reply{Content: "Done.", Check: func(t testing.TB, r assistanttest.Request) {
			wantMessages(t, r, "user:", "assistant:", "tool:sleptMs", `tool:{"text":"b"}`, "tool:sleptMs")
			for i, id := range []string{"call_a", "call_b", "call_c"} {
				if got := r.Messages[2+i].ToolCallID; got != id {
					t.Errorf("tool result %d is for %s, want %s (the calls' order)", i, got, id)
				}
			}
		}},
	)
	d := e.want(e.do("POST", "/v1/threads/"+th+"/runs", `{}`), 200).Data(t)
	if d["status"] != "succeeded" {
		t.Fatalf("run: %v", d)
	}
	msgs := e.messages(th)
	a := e.run(msgs[2]["metadata"].(map[string]any)["action_run_id"].(string))
	c := e.run(msgs[4]["metadata"].(map[string]any)["action_run_id"].(string))
	at := func(r map[string]any, k string) time.Time {
		tm, err := time.Parse(time.RFC3339Nano, r[k].(string))
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	if !at(a, "started_at").Before(at(c, "finished_at")) || !at(c, "started_at").Before(at(a, "finished_at")) {
		t.Errorf("the two sleeps did not overlap: a %v..%v, c %v..%v", a["started_at"], a["finished_at"], c["started_at"], c["finished_at"])
	}
}

func TestThreadRunFailingToolIsFedBack(t *testing.T) {
	e := newThrEnv(t)
	th := e.newThread(`{"messages":[{"role":"user","content":"Try the failing thing"}]}`)
	e.model.Push(
		assistanttest.Reply{Calls: []assistanttest.Call{{Name: "testkit_fail", Arguments: `{}`}}},
		assistanttest.Reply{Content: "It failed, sorry.", Check: func(t testing.TB, r assistanttest.Request) {
			wantMessages(t, r, "user:", "assistant:", "tool:the thing failed")
			if !strings.HasPrefix(r.Messages[2].Text(), "error (action_failed)") {
				t.Errorf("tool error text: %q", r.Messages[2].Text())
			}
		}},
	)
	d := e.want(e.do("POST", "/v1/threads/"+th+"/runs", `{}`), 200).Data(t)
	if d["status"] != "succeeded" {
		t.Fatalf("run: %v", d)
	}
	tool := e.messages(th)[2]
	if tool["metadata"].(map[string]any)["status"] != "failed" {
		t.Errorf("tool message: %v", tool)
	}
}

func TestThreadRunUnknownAndNotAllowedToolsAreFedBack(t *testing.T) {
	e := newThrEnv(t)
	th := e.newThread(`{"messages":[{"role":"user","content":"go"}]}`)
	e.model.Push(
		assistanttest.Reply{
			Check: func(t testing.TB, r assistanttest.Request) {
				if got := r.ToolNames(); !slices.Equal(got, []string{"testkit_echo"}) {
					t.Errorf("allow-list offered %v", got)
				}
			},
			Calls: []assistanttest.Call{
				{ID: "c1", Name: "made_up_tool", Arguments: `{}`},
				{ID: "c2", Name: "testkit_fail", Arguments: `{}`},
				{ID: "c3", Name: "testkit_echo", Arguments: `{"text":42}`},
			}},
		assistanttest.Reply{Content: "ok", Check: func(t testing.TB, r assistanttest.Request) {
			wantMessages(t, r, "user:go", "assistant:",
				`tool:there is no tool named "made_up_tool"`,
				`tool:is not allowed in this run`,
				"tool:invalid input")
		}},
	)
	d := e.want(e.do("POST", "/v1/threads/"+th+"/runs", `{"actions":["testkit.echo"]}`), 200).Data(t)
	if d["status"] != "succeeded" {
		t.Fatalf("run: %v", d)
	}
	// Nothing ran: the fail action was not allowed.
	runs := e.want(e.do("GET", "/v1/runs?thread_id="+th, ""), 200).Data(t)["list"].([]any)
	for _, r := range runs {
		if r.(map[string]any)["kind"] == "action" {
			t.Errorf("an action ran: %v", r)
		}
	}
	// An allow-list naming an unknown action is a 400 naming it.
	e.badRequest(e.do("POST", "/v1/threads/"+th+"/runs", `{"actions":["testkit.echo","nope.nothing"]}`), "actions[1]", "nope.nothing")
}

func TestThreadRunMaxSteps(t *testing.T) {
	e := newThrEnv(t)
	th := e.newThread(`{"messages":[{"role":"user","content":"loop"}]}`)
	call := assistanttest.Reply{Calls: []assistanttest.Call{{Name: "testkit_echo", Arguments: `{"text":"again"}`}}}
	e.model.Push(call, call)
	r := e.do("POST", "/v1/threads/"+th+"/runs", `{"max_steps":2}`)
	e.want(r, http.StatusBadGateway)
	code, msg, _, runID := r.errorDetail(t)
	if code != "model_error" || !strings.Contains(msg, "max_steps (2") || runID == "" {
		t.Errorf("error %s %q run %q", code, msg, runID)
	}
	if run := e.run(runID); run["status"] != "failed" {
		t.Errorf("run: %v", run)
	}
	msgs := e.messages(th)
	if got := roles(msgs); !slices.Equal(got, []string{"user", "assistant", "tool", "assistant", "tool"}) {
		t.Fatalf("thread roles %v (nothing may be lost)", got)
	}
	if c := msgs[4]["content"].(string); !strings.Contains(c, "not run") {
		t.Errorf("the last call was run or not explained: %q", c)
	}
	if n := len(e.model.Requests()); n != 2 {
		t.Errorf("model was called %d times, want 2", n)
	}
	e.badRequest(e.do("POST", "/v1/threads/"+th+"/runs", `{"max_steps":1000}`), "max_steps", "max_steps")
}

func TestThreadRunModelHTTPErrors(t *testing.T) {
	e := newThrEnv(t)
	th := e.newThread(`{"messages":[{"role":"user","content":"hello"}]}`)
	cases := []struct {
		reply assistanttest.Reply
		want  string
	}{
		{assistanttest.Reply{Status: 500, Body: `{"error":{"message":"model exploded","type":"server_error"}}`}, "answered HTTP 500: model exploded"},
		{assistanttest.Reply{Status: 404, Body: `{"error":"model \"llama9\" not found, try pulling it first"}`}, `answered HTTP 404: model "llama9" not found`},
		{assistanttest.Reply{Status: 401, Body: `Unauthorized: bad key`}, "answered HTTP 401: Unauthorized: bad key"},
	}
	for _, c := range cases {
		e.model.Push(c.reply)
		r := e.do("POST", "/v1/threads/"+th+"/runs", `{}`)
		e.want(r, http.StatusBadGateway)
		code, msg, _, runID := r.errorDetail(t)
		if code != "model_error" || !strings.Contains(msg, c.want) || !strings.Contains(msg, `model "fake"`) {
			t.Errorf("error %s %q, want it to say %q", code, msg, c.want)
		}
		run := e.run(runID)
		if run["status"] != "failed" || !strings.Contains(run["error"].(map[string]any)["message"].(string), c.want) {
			t.Errorf("run record: %v", run)
		}
	}
	if got := roles(e.messages(th)); !slices.Equal(got, []string{"user"}) {
		t.Errorf("thread after failed runs: %v", got)
	}
	// The model cannot be reached at all.
	dead := newThrEnvWithModelURL(t, "http://127.0.0.1:1/v1")
	th2 := dead.newThread(`{"messages":[{"role":"user","content":"hello"}]}`)
	r := dead.want(dead.do("POST", "/v1/threads/"+th2+"/runs", `{}`), http.StatusBadGateway)
	if _, msg, _, _ := r.errorDetail(t); !strings.Contains(msg, "could not reach model") {
		t.Errorf("unreachable model: %q", msg)
	}
}

// newThrEnvWithModelURL is an env whose only model is at url.
func newThrEnvWithModelURL(t *testing.T, url string) *thrEnv {
	e := newThrEnv(t, thrOptions{noModels: true})
	svc := assistant.New(assistant.Options{Runner: e.runner, Threads: e.db.Threads(),
		Models: []config.Model{{Name: "dead", BaseURL: url, Model: "m", Timeout: 2 * time.Second}}})
	srv := httptest.NewServer(api.NewServer(api.Deps{Runner: e.runner, Keys: e.db.Keys(), Threads: e.db.Threads()},
		api.Config{BootstrapKey: testKey, Assistant: svc}))
	t.Cleanup(srv.Close)
	e.URL, e.client = srv.URL, client.New(srv.URL, testKey)
	return e
}

func TestThreadRunModelTimeout(t *testing.T) {
	e := newThrEnv(t)
	th := e.newThread(`{"messages":[{"role":"user","content":"hello"}]}`)
	e.model.Push(assistanttest.Reply{Content: "too late", Delay: 3 * time.Second})
	start := time.Now()
	r := e.want(e.do("POST", "/v1/threads/"+th+"/runs", `{"model":"slow"}`), http.StatusBadGateway)
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the 300ms model timeout took %v", took)
	}
	code, msg, _, runID := r.errorDetail(t)
	if code != "model_error" || !strings.Contains(msg, `model "slow"`) || !strings.Contains(msg, "did not answer within 300ms") {
		t.Errorf("error %s %q", code, msg)
	}
	if run := e.run(runID); run["status"] != "failed" {
		t.Errorf("run: %v", run)
	}
	e.badRequest(e.do("POST", "/v1/threads/"+th+"/runs", `{"model":"nope"}`), "model", "fake, slow")
}

func TestThreadRunMalformedArguments(t *testing.T) {
	e := newThrEnv(t)
	th := e.newThread(`{"messages":[{"role":"user","content":"echo"}]}`)
	bad := assistanttest.Call{Name: "testkit_echo", Arguments: `{"text": "unterminated`}
	e.model.Push(
		assistanttest.Reply{Calls: []assistanttest.Call{bad}},
		assistanttest.Reply{Calls: []assistanttest.Call{bad}, Check: func(t testing.TB, r assistanttest.Request) {
			wantMessages(t, r, "user:echo", "assistant:", "tool:not a valid JSON object")
		}},
	)
	r := e.want(e.do("POST", "/v1/threads/"+th+"/runs", `{}`), http.StatusBadGateway)
	code, msg, _, _ := r.errorDetail(t)
	if code != "model_error" || !strings.Contains(msg, "malformed tool arguments again") {
		t.Errorf("error %s %q", code, msg)
	}
	if got := roles(e.messages(th)); !slices.Equal(got, []string{"user", "assistant", "tool", "assistant", "tool"}) {
		t.Errorf("thread roles %v (nothing may be lost)", got)
	}

	// Told once, the model corrects itself and the run goes on.
	th2 := e.newThread(`{"messages":[{"role":"user","content":"echo"}]}`)
	e.model.Push(
		assistanttest.Reply{Calls: []assistanttest.Call{bad}},
		assistanttest.Reply{Calls: []assistanttest.Call{{Name: "testkit_echo", Arguments: `{"text":"fixed"}`}}},
		assistanttest.Reply{Content: "fixed it"},
	)
	d := e.want(e.do("POST", "/v1/threads/"+th2+"/runs", `{}`), 200).Data(t)
	if d["status"] != "succeeded" {
		t.Errorf("run: %v", d)
	}
}

func TestThreadRunStreamsDeltasInOrder(t *testing.T) {
	e := newThrEnv(t)
	th := e.newThread(`{"messages":[{"role":"user","content":"stream please"}]}`)
	e.model.Push(
		assistanttest.Reply{Chunks: []string{"Let me ", "check."}, Content: "Let me check.",
			Calls: []assistanttest.Call{{ID: "call_s", Name: "testkit_echo", Arguments: `{"text":"streamed args"}`}},
			Check: func(t testing.TB, r assistanttest.Request) {
				if !r.Stream {
					t.Errorf("a streamed run did not ask the model to stream")
				}
			}},
		assistanttest.Reply{Chunks: []string{"The ", "echo ", "said: ", "streamed ", "args."}, Content: "The echo said: streamed args.",
			Check: func(t testing.TB, r assistanttest.Request) {
				wantMessages(t, r, "user:", "assistant:Let me check.", `tool:{"text":"streamed args"}`)
				if tc := r.Messages[1].ToolCalls; len(tc) != 1 || tc[0].Function.Arguments != `{"text":"streamed args"}` || tc[0].ID != "call_s" {
					t.Errorf("streamed tool call put together as %+v", tc)
				}
			}},
	)
	r := e.want(e.do("POST", "/v1/threads/"+th+"/runs", `{"stream":true}`), 200)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("content type %q", ct)
	}
	evs := thrSSE(string(r.Body))
	if len(evs) == 0 || evs[len(evs)-1].event != "[DONE]" {
		t.Fatalf("stream does not end with [DONE]: %s", r.Body)
	}
	var text []string
	var order []string
	created := map[string]bool{}
	for _, ev := range evs {
		switch ev.event {
		case "thread.message.delta":
			id := ev.data["id"].(string)
			if created[id] {
				t.Errorf("a delta of %s came after its thread.message.created", id)
			}
			if c, ok := ev.data["delta"].(map[string]any)["content"].(string); ok {
				text = append(text, c)
			}
		case "thread.message.created":
			created[ev.data["id"].(string)] = true
			order = append(order, "created:"+ev.data["role"].(string))
		case "run.succeeded":
			order = append(order, "succeeded")
		}
	}
	if got := strings.Join(text, "|"); got != "Let |me |check.|The |echo |said: |streamed |args." && got != "Let me |check.|The |echo |said: |streamed |args." {
		t.Errorf("deltas in order: %q", got)
	}
	if !slices.Equal(order, []string{"created:assistant", "created:tool", "created:assistant", "succeeded"}) {
		t.Errorf("event order %v", order)
	}
	msgs := e.messages(th)
	if got := msgs[len(msgs)-1]["content"]; got != "The echo said: streamed args." {
		t.Errorf("final message %q", got)
	}
	// Tool call deltas are streamed too, and the accept header asks for a stream as well.
	if !strings.Contains(string(r.Body), `"tool_calls":[{"index":0,"id":"call_s"`) {
		t.Errorf("no tool call delta in the stream")
	}
	e.model.Push(assistanttest.Reply{Content: "again"})
	r = e.want(e.do("POST", "/v1/threads/"+th+"/runs", `{}`, "Accept", "text/event-stream"), 200)
	if !strings.Contains(string(r.Body), "event: thread.message.delta") {
		t.Errorf("Accept: text/event-stream did not stream: %s", r.Body)
	}
}

func TestThreadRunClientToolExecution(t *testing.T) {
	e := newThrEnv(t)
	th := e.newThread(`{"messages":[{"role":"user","content":"look it up"}]}`)
	e.model.Push(
		assistanttest.Reply{Calls: []assistanttest.Call{
			{ID: "call_1", Name: "testkit_echo", Arguments: `{"text":"one"}`},
			{ID: "call_2", Name: "lookup_weather", Arguments: `{"city":"Oslo"}`},
		}},
		assistanttest.Reply{Content: "Sunny in Oslo.", Check: func(t testing.TB, r assistanttest.Request) {
			wantMessages(t, r, "user:", "assistant:", "tool:client one", "tool:sunny")
		}},
	)
	d := e.want(e.do("POST", "/v1/threads/"+th+"/runs", `{"tool_execution":"client"}`), 200).Data(t)
	runID := d["id"].(string)
	if d["status"] != "requires_action" {
		t.Fatalf("run: %v", d)
	}
	ra := d["required_action"].(map[string]any)
	calls := ra["submit_tool_outputs"].(map[string]any)["tool_calls"].([]any)
	if ra["type"] != "submit_tool_outputs" || len(calls) != 2 {
		t.Fatalf("required_action: %v", ra)
	}
	c0 := calls[0].(map[string]any)
	fn := c0["function"].(map[string]any)
	if c0["id"] != "call_1" || c0["type"] != "function" || fn["name"] != "testkit_echo" || fn["arguments"] != `{"text":"one"}` {
		t.Errorf("tool call: %v", c0)
	}
	// GET /v1/runs/{id} shows it in details.
	run := e.run(runID)
	if run["status"] != "requires_action" || run["details"].(map[string]any)["required_action"] == nil {
		t.Errorf("run record: %v", run)
	}
	// A second run on the busy thread is a conflict.
	e.want(e.do("POST", "/v1/threads/"+th+"/runs", `{}`), http.StatusConflict)

	path := "/v1/threads/" + th + "/runs/" + runID + "/submit_tool_outputs"
	e.badRequest(e.do("POST", path, `{"tool_outputs":[{"tool_call_id":"call_9","output":"x"},{"tool_call_id":"call_2","output":"y"}]}`),
		"tool_outputs[0].tool_call_id", `unknown tool_call_id "call_9"`)
	e.badRequest(e.do("POST", path, `{"tool_outputs":[{"tool_call_id":"call_1","output":"x"}]}`), "tool_outputs", "call_2")
	e.badRequest(e.do("POST", path, `{"tool_outputs":[{"output":"x"}]}`), "tool_outputs[0].tool_call_id", "required")
	e.badRequest(e.do("POST", path, ``), "", "empty")
	e.want(e.do("POST", "/v1/threads/thread_01J0000000000000000000000/runs/"+runID+"/submit_tool_outputs",
		`{"tool_outputs":[{"tool_call_id":"call_1","output":"x"}]}`), http.StatusNotFound)
	if run := e.run(runID); run["status"] != "requires_action" {
		t.Fatalf("bad submissions moved the run: %v", run["status"])
	}

	d = e.want(e.do("POST", path, `{"tool_outputs":[{"tool_call_id":"call_2","output":"sunny, 21C"},{"tool_call_id":"call_1","output":"client one"}]}`), 200).Data(t)
	if d["status"] != "succeeded" || d["output"].(map[string]any)["content"] != "Sunny in Oslo." {
		t.Fatalf("after submit: %v", d)
	}
	e.want(e.do("POST", path, `{"tool_outputs":[{"tool_call_id":"call_1","output":"x"}]}`), http.StatusConflict)
	msgs := e.messages(th)
	if got := roles(msgs); !slices.Equal(got, []string{"user", "assistant", "tool", "tool", "assistant"}) {
		t.Fatalf("thread roles %v", got)
	}
	if msgs[2]["tool_call_id"] != "call_1" || msgs[2]["content"] != "client one" {
		t.Errorf("tool message: %v", msgs[2])
	}
	if got := e.run(runID); got["status"] != "succeeded" || got["details"].(map[string]any)["required_action"] != nil {
		t.Errorf("run after submit: %v", got)
	}
}

func TestThreadRunClientToolsStreamedAndExpired(t *testing.T) {
	e := newThrEnv(t)
	th := e.newThread(`{"messages":[{"role":"user","content":"x"}]}`)
	e.model.Push(assistanttest.Reply{Calls: []assistanttest.Call{{ID: "call_x", Name: "testkit_echo", Arguments: `{"text":"x"}`}}})
	// The stream ends when the run needs the client.
	r := e.want(e.do("POST", "/v1/threads/"+th+"/runs", `{"tool_execution":"client","stream":true,"expires_after":0.5}`), 200)
	evs := thrSSE(string(r.Body))
	var names []string
	for _, ev := range evs {
		names = append(names, ev.event)
	}
	if len(names) < 3 || names[len(names)-1] != "[DONE]" || names[len(names)-2] != "run.requires_action" || !slices.Contains(names, "thread.run.requires_action") {
		t.Fatalf("stream events %v", names)
	}
	runID := r.Header.Get("X-Run-Id")
	run := e.waitRun(runID, "expired")
	if run["error"].(map[string]any)["code"] != "expired" {
		t.Errorf("expired run: %v", run)
	}
	msgs := e.messages(th)
	if got := roles(msgs); !slices.Equal(got, []string{"user", "assistant", "tool"}) || !strings.Contains(msgs[2]["content"].(string), "expired") {
		t.Errorf("thread after expiry: %v", msgs)
	}
	e.want(e.do("POST", "/v1/threads/"+th+"/runs/"+runID+"/submit_tool_outputs", `{"tool_outputs":[{"tool_call_id":"call_x","output":"late"}]}`), http.StatusConflict)

	// Cancelling a waiting run works too; the thread is free afterwards.
	e.model.Push(assistanttest.Reply{Calls: []assistanttest.Call{{ID: "call_y", Name: "testkit_echo", Arguments: `{"text":"y"}`}}})
	d := e.want(e.do("POST", "/v1/threads/"+th+"/runs?blocking=false", `{"tool_execution":"client"}`), 202).Data(t)
	id := d["run_id"].(string)
	e.waitRun(id, "requires_action")
	e.want(e.do("POST", "/v1/runs/"+id+"/cancel", ``), 200)
	e.waitRun(id, "cancelled")
	// The next run gets a well-formed conversation.
	e.model.Push(assistanttest.Reply{Content: "fine", Check: func(t testing.TB, r assistanttest.Request) {
		wantMessages(t, r, "user:x", "assistant:", "tool:expired", "assistant:", "tool:cancelled")
	}})
	e.want(e.do("POST", "/v1/threads/"+th+"/runs", `{}`), 200)
}

func TestIdentifyAndPromptFilledRuns(t *testing.T) {
	e := newThrEnv(t)
	e.model.Push(assistanttest.Reply{Calls: []assistanttest.Call{{Name: "testkit_echo", Arguments: `{"text":"hello there"}`}},
		Check: func(t testing.TB, r assistanttest.Request) {
			wantMessages(t, r, "system:pick the one tool", `user:Echo "hello there"`)
			if !slices.Contains(r.ToolNames(), "testkit_echo") {
				t.Errorf("tools: %v", r.ToolNames())
			}
		}})
	d := e.want(e.do("POST", "/v1/actions/identify", `{"prompt":"Echo \"hello there\""}`), 200).Data(t)
	if d["identified"] != true || d["actionId"] != echoID() || d["input"].(map[string]any)["text"] != "hello there" ||
		d["used"].(map[string]any)["prompt"] != `Echo "hello there"` {
		t.Errorf("identify: %v", d)
	}
	e.model.Push(assistanttest.Reply{Content: "None of the tools can book flights."})
	d = e.want(e.do("POST", "/v1/actions/identify", `{"prompt":"book a flight"}`), 200).Data(t)
	if d["identified"] != false || d["actionId"] != nil || len(d["input"].(map[string]any)) != 0 {
		t.Errorf("identify without a match: %v", d)
	}
	e.badRequest(e.do("POST", "/v1/actions/identify", `{}`), "prompt", "required")
	e.badRequest(e.do("POST", "/v1/actions/identify", `{"prompt":`), "", "not valid JSON")

	// prompt in an action run: the model fills the input for that action.
	fill := func(args string) assistanttest.Reply {
		return assistanttest.Reply{Calls: []assistanttest.Call{{Name: "testkit_echo", Arguments: args}},
			Check: func(t testing.TB, r assistanttest.Request) {
				if got := r.ToolNames(); !slices.Equal(got, []string{"testkit_echo"}) || string(r.ToolChoice) != `"required"` {
					t.Errorf("fill request tools %v tool_choice %s", got, r.ToolChoice)
				}
			}}
	}
	e.model.Push(fill(`{"text":"from the prompt"}`))
	d = e.want(e.do("POST", "/v1/actions/testkit.echo/run", `{"prompt":"say from the prompt"}`), 200).Data(t)
	if d["output"].(map[string]any)["text"] != "from the prompt" {
		t.Errorf("prompt-filled run: %v", d)
	}
	// Explicit input keys win over the ones from the prompt, in both body forms.
	e.model.Push(fill(`{"text":"model text"}`), fill(`{"text":"model text"}`))
	d = e.want(e.do("POST", "/v1/actions/"+echoID()+"/run", `{"prompt":"anything","input":{"text":"explicit"}}`), 200).Data(t)
	if d["output"].(map[string]any)["text"] != "explicit" {
		t.Errorf("explicit input lost: %v", d)
	}
	d = e.want(e.do("POST", "/v1/actions/testkit.echo/run", `{"prompt":"anything","text":"flat explicit"}`), 200).Data(t)
	if d["output"].(map[string]any)["text"] != "flat explicit" {
		t.Errorf("explicit flat input lost: %v", d)
	}
	e.badRequest(e.do("POST", "/v1/actions/testkit.echo/run", `{"prompt":""}`), "prompt", "non-empty")

	// With an Idempotency-Key, a retried prompt run replays the first
	// answer without asking the model again.
	e.model.Push(fill(`{"text":"asked once"}`))
	asked := len(e.model.Requests())
	first := e.want(e.do("POST", "/v1/actions/testkit.echo/run", `{"prompt":"say asked once"}`, "Idempotency-Key", "p1"), 200)
	again := e.want(e.do("POST", "/v1/actions/testkit.echo/run", `{"prompt":"say asked once"}`, "Idempotency-Key", "p1"), 200)
	if string(first.Body) != string(again.Body) || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay differs:\n%s\n%s", first.Body, again.Body)
	}
	if n := len(e.model.Requests()) - asked; n != 1 {
		t.Errorf("the model was asked %d times for one idempotent prompt run", n)
	}
}

func TestNoModelConfigured(t *testing.T) {
	e := newThrEnv(t, thrOptions{noModels: true})
	th := e.newThread(`{"messages":[{"role":"user","content":"hi"}]}`)
	for _, r := range []thrResp{
		e.do("POST", "/v1/threads/"+th+"/runs", `{}`),
		e.do("POST", "/v1/actions/identify", `{"prompt":"echo hi"}`),
		e.do("POST", "/v1/actions/testkit.echo/run", `{"prompt":"echo hi"}`),
	} {
		e.badRequest(r, "model", "add a block like this to plugins.hcl\n\nmodel \"local\" {\n  base_url = \"http://127.0.0.1:11434/v1\"\n  model    = \"llama3.1\"\n}\n")
	}
	// Plain runs need no model.
	e.want(e.do("POST", "/v1/actions/testkit.echo/run", `{"text":"no model needed"}`), 200)
}

func TestThreadsAndMessagesCRUDAndPagination(t *testing.T) {
	e := newThrEnv(t)
	var ids []string
	for i := range 5 {
		ids = append(ids, e.newThread(fmt.Sprintf(`{"metadata":{"n":"%d"}}`, i)))
	}
	// An empty body makes a thread too.
	r := e.want(e.do("POST", "/v1/threads", ""), 200).Data(t)
	if r["object"] != "thread" || len(r["metadata"].(map[string]any)) != 0 {
		t.Errorf("empty thread: %v", r)
	}
	ids = append(ids, r["id"].(string))
	list := func(path string) ([]string, bool) {
		d := e.want(e.do("GET", path, ""), 200).Data(t)
		var out []string
		for _, x := range d["list"].([]any) {
			out = append(out, x.(map[string]any)["id"].(string))
		}
		return out, d["has_more"].(bool)
	}
	got, more := list("/v1/threads?limit=2")
	if !slices.Equal(got, []string{ids[5], ids[4]}) || !more {
		t.Errorf("threads newest first: %v %v", got, more)
	}
	got, more = list("/v1/threads?limit=2&after=" + ids[4])
	if !slices.Equal(got, []string{ids[3], ids[2]}) || !more {
		t.Errorf("threads after: %v %v", got, more)
	}
	got, more = list("/v1/threads?order=asc&limit=4&after=" + ids[1])
	if !slices.Equal(got, ids[2:6]) || more {
		t.Errorf("threads asc after: %v %v", got, more)
	}
	got, _ = list("/v1/threads?order=asc&limit=2&before=" + ids[3])
	if !slices.Equal(got, []string{ids[1], ids[2]}) {
		t.Errorf("threads asc before: %v", got)
	}

	th := ids[0]
	var msgIDs []string
	for i := range 5 {
		d := e.want(e.do("POST", "/v1/threads/"+th+"/messages", fmt.Sprintf(`{"role":"user","content":"m%d","metadata":{"i":"%d"}}`, i, i)), 200).Data(t)
		if d["object"] != "thread.message" || d["thread_id"] != th || d["role"] != "user" || d["content"] != fmt.Sprintf("m%d", i) {
			t.Fatalf("message: %v", d)
		}
		msgIDs = append(msgIDs, d["id"].(string))
	}
	base := "/v1/threads/" + th + "/messages"
	got, more = list(base + "?limit=2")
	if !slices.Equal(got, []string{msgIDs[4], msgIDs[3]}) || !more {
		t.Errorf("messages newest first by default: %v %v", got, more)
	}
	got, more = list(base + "?limit=2&after=" + msgIDs[3])
	if !slices.Equal(got, []string{msgIDs[2], msgIDs[1]}) || !more {
		t.Errorf("messages desc after: %v %v", got, more)
	}
	got, more = list(base + "?order=asc&limit=3")
	if !slices.Equal(got, msgIDs[:3]) || !more {
		t.Errorf("messages asc: %v %v", got, more)
	}
	got, more = list(base + "?order=asc&after=" + msgIDs[2])
	if !slices.Equal(got, msgIDs[3:]) || more {
		t.Errorf("messages asc after: %v %v", got, more)
	}
	got, _ = list(base + "?order=desc&before=" + msgIDs[2])
	if !slices.Equal(got, []string{msgIDs[4], msgIDs[3]}) {
		t.Errorf("messages desc before: %v", got)
	}
	e.badRequest(e.do("GET", base+"?limit=0", ""), "limit", "1 to 100")
	e.badRequest(e.do("GET", base+"?order=sideways", ""), "order", "asc or desc")
	d := e.want(e.do("GET", base+"/"+msgIDs[1], ""), 200).Data(t)
	if d["content"] != "m1" || d["metadata"].(map[string]any)["i"] != "1" {
		t.Errorf("one message: %v", d)
	}

	// Metadata: update, limits naming the key.
	d = e.want(e.do("POST", "/v1/threads/"+th, `{"metadata":{"user":"abc123","plan":"pro"}}`), 200).Data(t)
	if md := d["metadata"].(map[string]any); md["user"] != "abc123" || md["n"] != nil {
		t.Errorf("metadata replaced: %v", d)
	}
	if d := e.want(e.do("GET", "/v1/threads/"+th, ""), 200).Data(t); d["metadata"].(map[string]any)["plan"] != "pro" {
		t.Errorf("thread: %v", d)
	}
	many := map[string]string{}
	for i := range 17 {
		many[fmt.Sprintf("k%02d", i)] = "v"
	}
	e.badRequest(e.do("POST", "/v1/threads", mustJSON(map[string]any{"metadata": many})), "metadata", "at most 16")
	long := strings.Repeat("k", 65)
	e.badRequest(e.do("POST", "/v1/threads/"+th, mustJSON(map[string]any{"metadata": map[string]string{long: "v"}})), "", "at most 64")
	e.badRequest(e.do("POST", "/v1/threads/"+th, mustJSON(map[string]any{"metadata": map[string]string{"bio": strings.Repeat("x", 513)}})), "metadata.bio", "at most 512")
	e.badRequest(e.do("POST", "/v1/threads/"+th, `{"metadata":{"n":5}}`), "metadata.n", "must be a string")
	e.badRequest(e.do("POST", base, mustJSON(map[string]any{"role": "user", "content": "x", "metadata": map[string]string{"bio": strings.Repeat("x", 513)}})), "metadata.bio", "at most 512")
	// 16 keys of the longest size are fine.
	ok16 := map[string]string{}
	for i := range 16 {
		ok16[fmt.Sprintf("%064d", i)] = strings.Repeat("v", 512)
	}
	e.want(e.do("POST", "/v1/threads/"+th, mustJSON(map[string]any{"metadata": ok16})), 200)

	// Messages: roles, content, bodies.
	e.badRequest(e.do("POST", base, `{"role":"tool","content":"x"}`), "role", `"user" or "assistant"`)
	e.badRequest(e.do("POST", base, `{"role":"asistant","content":"x"}`), "role", `not "asistant"`)
	e.badRequest(e.do("POST", base, `{"content":"x"}`), "role", "required")
	e.badRequest(e.do("POST", base, `{"role":"user"}`), "content", "required")
	e.badRequest(e.do("POST", base, `{"role":"user","content":"  "}`), "content", "empty")
	e.badRequest(e.do("POST", base, ``), "", "request body is empty")
	e.badRequest(e.do("POST", base, `{"role":"user",`), "", "not valid JSON")
	e.badRequest(e.do("POST", base, `["role"]`), "", "not an array")
	e.badRequest(e.do("POST", "/v1/threads", `{"messages":[{"role":"user","content":"ok"},{"role":"system","content":"x"}]}`), "messages[1].role", "user")
	d = e.want(e.do("POST", base, `{"role":"assistant","content":[{"type":"text","text":"part one, "},{"type":"text","text":{"value":"part two"}}]}`), 200).Data(t)
	if d["content"] != "part one, part two" {
		t.Errorf("content parts: %v", d)
	}

	// Unknown threads are 404s everywhere.
	missing := "/v1/threads/thread_01J0000000000000000000000"
	for _, r := range []thrResp{
		e.do("GET", missing, ""), e.do("POST", missing, `{"metadata":{}}`), e.do("DELETE", missing, ""),
		e.do("GET", missing+"/messages", ""), e.do("POST", missing+"/messages", `{"role":"user","content":"x"}`),
		e.do("POST", missing+"/runs", `{}`), e.do("GET", base+"/msg_01J0000000000000000000000", ""),
	} {
		e.want(r, http.StatusNotFound)
		if code, _, _, _ := r.errorDetail(t); code != "not_found" {
			t.Errorf("code %s", code)
		}
	}

	// Delete removes the thread and its messages.
	d = e.want(e.do("DELETE", "/v1/threads/"+th, ""), 200).Data(t)
	if d["deleted"] != true || d["id"] != th {
		t.Errorf("delete: %v", d)
	}
	e.want(e.do("GET", "/v1/threads/"+th, ""), http.StatusNotFound)
	e.want(e.do("GET", base, ""), http.StatusNotFound)
	for _, id := range msgIDs {
		if _, err := e.db.Threads().GetMessage(context.Background(), th, id); err == nil {
			t.Errorf("message %s outlived its thread", id)
		}
	}
	got, _ = list("/v1/threads?limit=100")
	if slices.Contains(got, th) || len(got) != 5 {
		t.Errorf("threads after delete: %v", got)
	}
}

func TestThreadRunIdempotencyKey(t *testing.T) {
	e := newThrEnv(t)
	th := e.newThread(`{"messages":[{"role":"user","content":"Hi"}]}`)
	e.model.Push(assistanttest.Reply{Content: "Hello once."})
	first := e.do("POST", "/v1/threads/"+th+"/runs", `{}`, "Idempotency-Key", "turn-1")
	second := e.do("POST", "/v1/threads/"+th+"/runs", `{}`, "Idempotency-Key", "turn-1")
	if first.Status != 200 || string(first.Body) != string(second.Body) || second.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay:\n%d %s\n%d %s", first.Status, first.Body, second.Status, second.Body)
	}
	if r := e.do("POST", "/v1/threads/"+th+"/runs", `{"max_steps":2}`, "Idempotency-Key", "turn-1"); r.Status != 409 {
		t.Fatalf("other body, same key: %d %s", r.Status, r.Body)
	}
}
