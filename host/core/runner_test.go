package core_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/toolhost/toolhost/host/core"
	"github.com/toolhost/toolhost/host/domain"
)

// TestCancelRunningRun cancels a run while its plugin works: the plugin's
// ctx ends, the run ends cancelled and is stored so; a second Cancel is a
// conflict.
func TestCancelRunningRun(t *testing.T) {
	for _, mode := range []struct {
		name string
		call core.Call
	}{
		{"stream", stream(actUpdate, `{"s":"x"}`)},
		{"background", background(actUpdate, `{"s":"x"}`)},
	} {
		t.Run(mode.name, func(t *testing.T) {
			h := newHarness(t, 4, 1)
			h.plugin.set("change", block(nil))
			res := h.submit(t, mode.call)
			pc := h.plugin.nextCall(t)

			run, err := h.r.Cancel(context.Background(), res.Run.ID)
			if err != nil {
				t.Fatalf("Cancel: %v", err)
			}
			if run.Status != domain.StatusCancelled || run.Error == nil || run.Error.Code != domain.CodeCancelled {
				t.Fatalf("Cancel = %s %+v, want cancelled", run.Status, run.Error)
			}
			if pc.ctx.Err() == nil {
				t.Fatal("the plugin's ctx is not done after Cancel")
			}
			if s := h.runs.stored(res.Run.ID); s == nil || s.Status != domain.StatusCancelled || s.FinishedAt == nil {
				t.Fatalf("stored = %+v, want cancelled and finished", s)
			}
			h.waitGone(t, res.Run.ID) // Cancel returns once the run ended; it is let go just after
			_, err = h.r.Cancel(context.Background(), res.Run.ID)
			wantCode(t, err, domain.CodeConflict, "already finished")
			wantUnchangedAfterEnd(t, h.runs, res.Run.ID)
		})
	}
}

// TestCancelQueuedRun cancels a run waiting in the queue behind a busy
// worker: it ends cancelled at once, stored so, and never runs.
func TestCancelQueuedRun(t *testing.T) {
	h := newHarness(t, 2, 1)
	release := make(chan struct{})
	busy, queued := h.runningAndQueued(t, "make", release)

	start := time.Now()
	run, err := h.r.Cancel(context.Background(), queued.Run.ID)
	if err != nil || run.Status != domain.StatusCancelled {
		t.Fatalf("Cancel = %+v, %v; want cancelled", run, err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Cancel of a queued run took %v", d)
	}
	if s := h.runs.stored(queued.Run.ID); s == nil || s.Status != domain.StatusCancelled || s.StartedAt != nil {
		t.Fatalf("stored = %+v, want cancelled, never started", s)
	}

	close(release)
	h.wait(t, busy.Run.ID)
	if run := h.wait(t, queued.Run.ID); run.Status != domain.StatusCancelled {
		t.Fatalf("queued run ended %s, want cancelled", run.Status)
	}
	if n := h.plugin.callCount(); n != 1 {
		t.Fatalf("plugin called %d times, want 1: the cancelled run must not run", n)
	}
	wantUnchangedAfterEnd(t, h.runs, queued.Run.ID)
}

// TestCancelFinishedRunIsConflict cancels a run that already succeeded.
func TestCancelFinishedRunIsConflict(t *testing.T) {
	h := newHarness(t, 0, 0)
	res := h.submit(t, call(actCreate, `{"s":"x"}`))
	if res.Run.Status != domain.StatusSucceeded {
		t.Fatalf("run = %s, want succeeded", res.Run.Status)
	}
	run, err := h.r.Cancel(context.Background(), res.Run.ID)
	wantCode(t, err, domain.CodeConflict, "already finished (succeeded)")
	if run == nil || run.Status != domain.StatusSucceeded {
		t.Fatalf("Cancel answered %+v, want the succeeded run", run)
	}
	wantUnchangedAfterEnd(t, h.runs, res.Run.ID)
}

// TestPluginErrorStatus maps a plugin's error code to the run's status.
func TestPluginErrorStatus(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		status string
		code   string
	}{
		{"timeout", domain.Errorf(domain.CodeActionTimeout, "action timed out after 1s"), domain.StatusTimedOut, domain.CodeActionTimeout},
		{"cancelled", domain.Errorf(domain.CodeCancelled, "run cancelled"), domain.StatusCancelled, domain.CodeCancelled},
		{"expired", domain.Errorf(domain.CodeExpired, "waited too long"), domain.StatusExpired, domain.CodeExpired},
		{"action failed", domain.Errorf(domain.CodeActionFailed, "boom"), domain.StatusFailed, domain.CodeActionFailed},
		{"unavailable", domain.Errorf(domain.CodePluginUnavailable, "down"), domain.StatusFailed, domain.CodePluginUnavailable},
		{"plain error", errors.New("boom"), domain.StatusFailed, domain.CodeInternal},
		{"wrapped timeout", domain.WrapError(context.DeadlineExceeded, domain.CodeActionTimeout, "late"), domain.StatusTimedOut, domain.CodeActionTimeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, 0, 0)
			h.plugin.set("get", fail(tc.err))
			res := h.submit(t, call(actRead, `{"s":"x"}`))
			if res.Run.Status != tc.status || res.Run.Error == nil || res.Run.Error.Code != tc.code {
				t.Fatalf("run = %s %+v, want %s with code %s", res.Run.Status, res.Run.Error, tc.status, tc.code)
			}
			if s := h.runs.stored(res.Run.ID); s == nil || s.Status != tc.status {
				t.Fatalf("stored = %+v, want %s", s, tc.status)
			}
		})
	}
}

// TestCallerGoneDoesNotCancelBlockingRun cancels the caller's ctx while a
// blocking run's plugin works: the run goes on and succeeds.
func TestCallerGoneDoesNotCancelBlockingRun(t *testing.T) {
	h := newHarness(t, 0, 0)
	release := make(chan struct{})
	h.plugin.set("get", block(release))
	ctx, cancel := context.WithCancel(context.Background())
	type answer struct {
		res core.Result
		err error
	}
	done := make(chan answer, 1)
	go func() {
		res, err := h.r.Submit(ctx, call(actRead, `{"s":"x"}`))
		done <- answer{res, err}
	}()
	pc := h.plugin.nextCall(t)
	cancel()
	time.Sleep(20 * time.Millisecond) // room for a wrong link to the caller's ctx to show
	if pc.ctx.Err() != nil {
		t.Fatal("the caller going away cancelled the run")
	}
	if !h.r.Live(pc.inv.RunID) {
		t.Fatal("the run is not live after the caller went away")
	}
	close(release)
	a := <-done
	if a.err != nil || a.res.Run.Status != domain.StatusSucceeded {
		t.Fatalf("Submit = %+v, %v; want succeeded", a.res.Run, a.err)
	}
	if s := h.runs.stored(pc.inv.RunID); s == nil || s.Status != domain.StatusSucceeded {
		t.Fatalf("stored = %+v, want succeeded", s)
	}
}

// TestShutdownWaitsForRuns shuts down while a run is in flight: new calls
// are refused shutting_down in every mode, and Shutdown returns once the
// run ends, which is stored as it ended.
func TestShutdownWaitsForRuns(t *testing.T) {
	h := newHarness(t, 0, 0)
	release := make(chan struct{})
	h.plugin.set("get", block(release))
	res := h.submit(t, stream(actRead, `{"s":"in flight"}`))
	h.plugin.nextCall(t)

	shut := make(chan error, 1)
	go func() { shut <- h.r.Shutdown(context.Background()) }()
	// Calls the plugin answers at once, until Shutdown has begun.
	deadline := time.Now().Add(waitFor)
	for {
		_, err := h.r.Submit(context.Background(), call(actCreate, `{"s":"probe"}`))
		if domain.ErrorCode(err) == domain.CodeShuttingDown {
			break
		}
		if err != nil || time.Now().After(deadline) {
			t.Fatalf("Submit during shutdown: %v", err)
		}
		h.plugin.nextCall(t) // the probe's
	}
	for _, c := range []core.Call{call(actRead, `{}`), background(actRead, `{}`), stream(actRead, `{}`),
		withKey(background(actRead, `{}`), "during-shutdown")} {
		_, err := h.r.Submit(context.Background(), c)
		wantCode(t, err, domain.CodeShuttingDown, "shutting down")
	}
	if h.idem.held(caller.KeyID, "during-shutdown") {
		t.Fatal("a refused call's idempotency key is still claimed")
	}

	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v with a run in flight", err)
	case <-time.After(20 * time.Millisecond):
	}
	close(release)
	select {
	case err := <-shut:
		if err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
	case <-time.After(waitFor):
		t.Fatal("Shutdown did not return after the run ended")
	}
	if s := h.runs.stored(res.Run.ID); s == nil || s.Status != domain.StatusSucceeded {
		t.Fatalf("stored = %+v, want succeeded", s)
	}
}

// TestShutdownGraceCancelsTheRest shuts down with a short ctx: the running
// run and the one queued behind it are cancelled and stored so.
func TestShutdownGraceCancelsTheRest(t *testing.T) {
	h := newHarness(t, 2, 1)
	running, queued := h.runningAndQueued(t, "remove", nil)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := h.r.Shutdown(ctx); err == nil {
		t.Fatal("Shutdown = nil, want the grace-ended error")
	}
	for _, id := range []string{running.Run.ID, queued.Run.ID} {
		s := h.runs.stored(id)
		if s == nil || s.Status != domain.StatusCancelled || s.Error == nil || s.Error.Code != domain.CodeCancelled {
			t.Fatalf("stored %s = %+v, want cancelled", id, s)
		}
		if h.r.Live(id) {
			t.Fatalf("run %s is still live after Shutdown", id)
		}
	}
	if n := h.plugin.callCount(); n != 1 {
		t.Fatalf("plugin called %d times, want 1: the queued run must not start", n)
	}
	_, err := h.r.Submit(context.Background(), call(actRead, `{}`))
	wantCode(t, err, domain.CodeShuttingDown, "")
}

// TestFinishedRunNeverChanges tries, after a run ended, every way of
// changing it: the stored record keeps its end.
func TestFinishedRunNeverChanges(t *testing.T) {
	t.Run("cancel after success", func(t *testing.T) {
		h := newHarness(t, 0, 0)
		res := h.submit(t, call(actCreate, `{"s":"x"}`))
		_, err := h.r.Cancel(context.Background(), res.Run.ID)
		wantCode(t, err, domain.CodeConflict, "")
		wantUnchangedAfterEnd(t, h.runs, res.Run.ID)
	})

	t.Run("second finish", func(t *testing.T) {
		for _, again := range []struct {
			name string
			out  []byte
			err  error
		}{
			{"failed", nil, domain.Errorf(domain.CodeActionFailed, "late failure")},
			{"cancelled", nil, domain.Errorf(domain.CodeCancelled, "late cancel")},
			{"succeeded with other output", []byte(`{"other":1}`), nil},
		} {
			t.Run(again.name, func(t *testing.T) {
				h := newHarness(t, 0, 0)
				release := make(chan struct{})
				h.plugin.set("make", block(release))
				res := h.submit(t, stream(actCreate, `{"s":"x"}`))
				h.plugin.nextCall(t)
				finish := core.FinishAgain(h.r, res.Run.ID)
				if finish == nil {
					t.Fatal("run is not live")
				}
				close(release)
				if run := h.wait(t, res.Run.ID); run.Status != domain.StatusSucceeded {
					t.Fatalf("run = %s, want succeeded", run.Status)
				}
				finish(again.out, again.err)
				wantUnchangedAfterEnd(t, h.runs, res.Run.ID)
				if s := h.runs.stored(res.Run.ID); string(s.Output) != `{"ok":true}` {
					t.Fatalf("stored output = %s", s.Output)
				}
			})
		}
	})

	t.Run("job status after the end", func(t *testing.T) {
		h := newHarness(t, 0, 0)
		ctl := make(chan *core.JobControl, 1)
		res := h.submit(t, core.Call{Caller: caller, Source: "test", Job: &core.Job{
			Run: &domain.Run{Kind: "assistant"}, Target: "t",
			Do: func(ctx context.Context, c *core.JobControl) (json.RawMessage, error) {
				ctl <- c
				return json.RawMessage(`{"done":true}`), nil
			},
		}})
		run := h.wait(t, res.Run.ID)
		if run.Status != domain.StatusSucceeded {
			t.Fatalf("job = %s %+v, want succeeded", run.Status, run.Error)
		}
		c := <-ctl
		for _, status := range domain.Statuses() {
			if err := c.SetStatus(status); !errors.Is(err, domain.ErrTerminal) {
				t.Errorf("SetStatus(%s) on a finished job = %v, want ErrTerminal", status, err)
			}
		}
		if c.Snapshot().Status != domain.StatusSucceeded {
			t.Fatalf("job's own record = %s after SetStatus", c.Snapshot().Status)
		}
		wantUnchangedAfterEnd(t, h.runs, res.Run.ID)
	})
}

// TestCheckTransitionRefusesTerminal checks the state machine: no status
// leaves a terminal one, not even the same status again.
func TestCheckTransitionRefusesTerminal(t *testing.T) {
	for _, from := range domain.Statuses() {
		for _, to := range domain.Statuses() {
			err := domain.CheckTransition(from, to)
			switch {
			case domain.IsTerminal(from) && !errors.Is(err, domain.ErrTerminal):
				t.Errorf("CheckTransition(%s, %s) = %v, want ErrTerminal", from, to, err)
			case !domain.IsTerminal(from) && from == to && err != nil:
				t.Errorf("CheckTransition(%s, %s) = %v, want nil (rewriting an unfinished run)", from, to, err)
			}
		}
	}
}

// TestPluginEventsAreRecorded has the plugin send log and progress events:
// the run keeps them in order between run.running and run.output.
func TestPluginEventsAreRecorded(t *testing.T) {
	h := newHarness(t, 0, 0)
	half := 0.5
	h.plugin.set("get", func(ctx context.Context, inv domain.Invocation) ([]byte, error) {
		inv.OnEvent(domain.PluginEvent{Kind: "log", Level: "info", Message: "hello"})
		inv.OnEvent(domain.PluginEvent{Kind: "progress", Message: "half", Fraction: &half})
		return []byte(`{"ok":true}`), nil
	})
	res := h.submit(t, call(actRead, `{"s":"x"}`))
	if types := typesOf(h.runs.stored(res.Run.ID).Events); !slices.Equal(types, eventsWithLogAndProgress) {
		t.Fatalf("events %v, want %v", types, eventsWithLogAndProgress)
	}
}

// eventsWithLogAndProgress are the events of a run whose plugin logs once,
// reports progress once and succeeds.
var eventsWithLogAndProgress = []string{"run.created", "run.running", "run.log", "run.progress", "run.output", "run.succeeded"}

func typesOf(events []domain.Event) []string {
	var types []string
	for _, e := range events {
		types = append(types, e.Type)
	}
	return types
}
