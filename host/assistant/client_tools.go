package assistant

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/toolhost/toolhost/host/domain"
)

// ToolOutput is the client's result of one tool call.
type ToolOutput struct {
	ToolCallID string `json:"tool_call_id"`
	Output     string `json:"output"`
}

// waiter is a run in requires_action, waiting in memory for its outputs.
type waiter struct {
	threadID string
	runID    string
	calls    []ToolCall
	ch       chan map[string]string // gets the outputs once
}

// waitForClient stops the run in requires_action until the client submits
// the outputs of calls, the wait expires, or the run is cancelled.
func (st *runState) waitForClient(ctx context.Context, calls []ToolCall) (map[string]string, error) {
	w := &waiter{threadID: st.req.ThreadID, runID: st.c.ID(), calls: calls, ch: make(chan map[string]string, 1)}
	expires := time.Now().UTC().Add(st.req.ExpiresAfter)
	ra := &RequiredAction{Type: "submit_tool_outputs", SubmitToolOutputs: SubmitToolOutputs{ToolCalls: calls}}
	st.details.RequiredAction, st.details.ExpiresAt = ra, &expires
	st.c.SetExtra(st.details)
	st.svc.addWaiter(w)
	st.c.Emit("thread.run.requires_action", map[string]any{"id": st.c.ID(), "thread_id": st.req.ThreadID,
		"status": domain.StatusRequiresAction, "required_action": ra, "expires_at": expires})
	if err := st.c.SetStatus(domain.StatusRequiresAction); err != nil {
		st.svc.removeWaiter(w)
		return nil, domain.WrapError(err, domain.CodeInternal, "could not record the run as requires_action")
	}
	timer := time.NewTimer(time.Until(expires))
	defer timer.Stop()
	var outs map[string]string
	select {
	case outs = <-w.ch:
	case <-ctx.Done():
		if !st.svc.removeWaiter(w) {
			outs = <-w.ch
			break
		}
		_ = st.appendResults(calls, uniform(calls, "error: no output: the run was cancelled while waiting for it"), nil)
		return nil, domain.Errorf(domain.CodeCancelled, "run cancelled while waiting for tool outputs")
	case <-timer.C:
		if !st.svc.removeWaiter(w) {
			outs = <-w.ch
			break
		}
		_ = st.appendResults(calls, uniform(calls, "error: no output was submitted before the run expired"), nil)
		return nil, domain.Errorf(domain.CodeExpired, "no tool outputs were submitted within %s; the run expired (submit them with POST /v1/threads/%s/runs/%s/submit_tool_outputs while the run is in requires_action)",
			st.req.ExpiresAfter, st.req.ThreadID, st.c.ID())
	}
	st.details.RequiredAction, st.details.ExpiresAt = nil, nil
	st.c.SetExtra(st.details)
	if err := st.c.SetStatus(domain.StatusRunning); err != nil {
		return nil, domain.WrapError(err, domain.CodeInternal, "could not record the run as running")
	}
	return outs, nil
}

func (s *Service) addWaiter(w *waiter) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waiters[w.runID] = w
}

// removeWaiter takes w out of the waiting runs; false when a submission
// took it first (its outputs are then on w.ch).
func (s *Service) removeWaiter(w *waiter) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.waiters[w.runID] != w {
		return false
	}
	delete(s.waiters, w.runID)
	return true
}

// SubmitToolOutputs hands the client's tool outputs to a run waiting in
// requires_action, which then goes on. It returns the run's last event
// number before it went on (to follow it from there). An unknown run is
// not_found; a run that is not waiting is a conflict; a missing, unknown
// or repeated tool_call_id is invalid_request naming it.
func (s *Service) SubmitToolOutputs(threadID, runID string, outputs []ToolOutput) (int, error) {
	if s == nil || s.runner == nil {
		return 0, s.usable()
	}
	s.mu.Lock()
	w := s.waiters[runID]
	if w == nil || w.threadID != threadID {
		s.mu.Unlock()
		run, err := s.runner.Get(context.Background(), runID)
		if err != nil || run.ThreadID != threadID || run.Kind != Kind {
			return 0, domain.Errorf(domain.CodeNotFound, "run %s of thread %s not found", runID, threadID)
		}
		return 0, domain.Errorf(domain.CodeConflict, "run %s is not waiting for tool outputs (status %s)", runID, run.Status)
	}
	defer s.mu.Unlock()
	want := map[string]bool{}
	var ids []string
	for _, c := range w.calls {
		want[c.ID] = true
		ids = append(ids, c.ID)
	}
	got := map[string]string{}
	var bad []domain.FieldError
	for i, o := range outputs {
		field := "tool_outputs[" + strconv.Itoa(i) + "].tool_call_id"
		switch {
		case o.ToolCallID == "":
			bad = append(bad, domain.FieldError{Field: field, Message: "is required"})
		case !want[o.ToolCallID]:
			bad = append(bad, domain.FieldError{Field: field, Message: fmt.Sprintf("unknown tool_call_id %q; the run waits for %s", o.ToolCallID, strings.Join(ids, ", "))})
		case hasKey(got, o.ToolCallID):
			bad = append(bad, domain.FieldError{Field: field, Message: fmt.Sprintf("tool_call_id %q is given twice", o.ToolCallID)})
		default:
			got[o.ToolCallID] = o.Output
		}
	}
	if len(bad) == 0 {
		var missing []string
		for _, id := range ids {
			if !hasKey(got, id) {
				missing = append(missing, id)
			}
		}
		sort.Strings(missing)
		if len(missing) > 0 {
			bad = append(bad, domain.FieldError{Field: "tool_outputs", Message: "missing the output of tool_call_id " + strings.Join(missing, ", ")})
		}
	}
	if len(bad) > 0 {
		return 0, &domain.Error{Code: domain.CodeInvalidRequest, Message: bad[0].Field + ": " + bad[0].Message, Fields: bad}
	}
	seq := 0
	if run, err := s.runner.Get(context.Background(), runID); err == nil && len(run.Events) > 0 {
		seq = run.Events[len(run.Events)-1].Seq
	}
	delete(s.waiters, runID)
	w.ch <- got
	return seq, nil
}

func hasKey(m map[string]string, k string) bool { _, ok := m[k]; return ok }

// Idle reports whether an event ends a wait for a run: it reached
// requires_action or a final status.
func Idle(e domain.Event) bool {
	if e.Type == "run."+domain.StatusRequiresAction {
		return true
	}
	status, ok := strings.CutPrefix(e.Type, "run.")
	return ok && domain.IsTerminal(status)
}

// WaitIdle waits until the run, after event number after, reaches
// requires_action or ends, and returns it then.
func (s *Service) WaitIdle(ctx context.Context, runID string, after int) (*domain.Run, error) {
	if s == nil || s.runner == nil {
		return nil, s.usable()
	}
	for {
		past, live, stop, err := s.runner.Follow(ctx, runID, after)
		if err != nil {
			return nil, err
		}
		idle := false
		for _, e := range past {
			after = e.Seq
			idle = idle || Idle(e)
		}
		for !idle {
			select {
			case e, open := <-live:
				if !open {
					goto next
				}
				if e.Seq > after {
					after = e.Seq
					idle = Idle(e)
				}
			case <-ctx.Done():
				stop()
				return nil, ctx.Err()
			}
		}
	next:
		stop()
		run, err := s.runner.Get(context.Background(), runID)
		if err != nil {
			return nil, err
		}
		if idle || domain.IsTerminal(run.Status) {
			return run, nil
		}
		// The follower fell behind and was cut off: go on from where it was.
	}
}
