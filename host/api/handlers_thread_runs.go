package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"github.com/toolhost/toolhost/host/assistant"
	"github.com/toolhost/toolhost/host/core"
	"github.com/toolhost/toolhost/host/domain"
)

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
	if _, err := s.thread(r); err != nil {
		s.fail(w, r, err)
		return
	}
	var in threadRunIn
	if err := decodeObject(r, &in, true, `such as {"model":"local","instructions":"...","stream":true}`); err != nil {
		s.fail(w, r, err)
		return
	}
	mode, err := requestMode(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if in.ExpiresAfter < 0 {
		s.fail(w, r, fieldErr("expires_after", "must be a positive number of seconds"))
		return
	}
	res, err := s.cfg.Assistant.Start(r.Context(), assistant.RunRequest{
		ThreadID: mux.Vars(r)["threadId"], Model: in.Model, Instructions: in.Instructions, Actions: in.Actions,
		MaxSteps: in.MaxSteps, ToolExecution: in.ToolExecution,
		ExpiresAfter: time.Duration(in.ExpiresAfter * float64(time.Second)),
		Caller:       callerOf(r), IdempotencyKey: r.Header.Get("Idempotency-Key"), Source: "http",
		Mode: core.ModeRequest{Blocking: in.Blocking, Stream: in.Stream}.Over(mode),
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("X-Run-Id", res.Run.ID)
	if res.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	s.answerThreadRun(w, r, res.Run.ID, 0, res.Mode)
}

// answerThreadRun answers for a run that has started (or gone on) after
// event number after: streamed, at once (202), or when it reaches
// requires_action or ends.
func (s *server) answerThreadRun(w http.ResponseWriter, r *http.Request, id string, after int, mode core.Mode) {
	switch mode {
	case core.ModeStream:
		s.streamRun(w, r, id, after, assistant.Idle)
	case core.ModeBackground:
		run, err := s.runner.Get(r.Context(), id)
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
	Error          *domain.RunError          `json:"error,omitempty"`
	Steps          int                       `json:"steps"`
	Usage          *assistant.Usage          `json:"usage,omitempty"`
	CreatedAt      int64                     `json:"created_at"`
	StartedAt      *int64                    `json:"started_at,omitempty"`
	FinishedAt     *int64                    `json:"finished_at,omitempty"`
}

func viewThreadRun(run *domain.Run) threadRunView {
	v := threadRunView{ID: run.ID, RunID: run.ID, Object: "thread.run", ThreadID: run.ThreadID, Status: run.Status,
		Output: run.Output, Error: run.Error, CreatedAt: run.CreatedAt.Unix(),
		StartedAt: unixPtr(run.StartedAt), FinishedAt: unixPtr(run.FinishedAt)}
	if d, isAssistant := assistant.RunDetails(run); isAssistant {
		v.Model, v.Steps, v.Usage = d.Model, d.Steps, d.Usage
		if run.Status == domain.StatusRequiresAction {
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
func (s *server) threadRunAnswer(r *http.Request, run *domain.Run) (int, envelope) {
	switch run.Status {
	case domain.StatusSucceeded, domain.StatusRequiresAction:
		return http.StatusOK, envelope{Status: "success", Data: viewThreadRun(run)}
	}
	if !domain.IsTerminal(run.Status) {
		return http.StatusAccepted, envelope{Status: "success", Data: viewThreadRun(run)}
	}
	e := &domain.Error{Code: domain.CodeInternal, Message: "run " + run.Status}
	if run.Error != nil {
		e = &domain.Error{Code: run.Error.Code, Message: run.Error.Message}
	}
	status := httpStatus(e.Code)
	if e.Code == domain.CodeExpired {
		status = http.StatusConflict
	}
	return status, s.errorEnvelope(r, e, run.ID)
}

func (s *server) getThreadRun(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	run, err := s.runner.Owned(r.Context(), callerOf(r), v["runId"])
	if err != nil || run.ThreadID != v["threadId"] || run.Kind != assistant.Kind {
		s.fail(w, r, domain.Errorf(domain.CodeNotFound, "run %s of thread %s not found", v["runId"], v["threadId"]))
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
	mode, err := requestMode(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(in.ToolOutputs) == 0 {
		s.fail(w, r, fieldErr("tool_outputs", "is required: one {tool_call_id, output} per tool call of required_action"))
		return
	}
	if run, err := s.runner.Owned(r.Context(), callerOf(r), v["runId"]); err != nil || run.ThreadID != v["threadId"] {
		s.fail(w, r, domain.Errorf(domain.CodeNotFound, "run %s of thread %s not found", v["runId"], v["threadId"]))
		return
	}
	after, err := s.cfg.Assistant.SubmitToolOutputs(v["threadId"], v["runId"], in.ToolOutputs)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("X-Run-Id", v["runId"])
	s.answerThreadRun(w, r, v["runId"], after, core.ModeRequest{Blocking: in.Blocking, Stream: in.Stream}.Over(mode).Mode())
}
