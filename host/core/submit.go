package core

import (
	"context"
	"time"

	"github.com/toolhost/toolhost/host/domain"
)

// Submit is the run pipeline, the one way into a run for every door:
// resolve the action → decode the arguments once → idempotency (a repeat
// returns the first call's run) → fill from the prompt → check once →
// redact → record → execute → check the output → record → answer.
//
// The idempotency check comes before the prompt is filled, so a retried
// prompt run does not ask the model again. Whatever the mode, the run does
// not depend on ctx once admitted: a caller that goes away does not cancel
// it (Cancel does).
func (r *Runner) Submit(ctx context.Context, c Call) (Result, error) {
	if err := r.StorageHealth(); err != nil {
		return Result{}, err
	}
	if c.Job != nil {
		return r.submitJob(ctx, c)
	}
	p := c.Prepared
	var in args
	if p == nil {
		a, err := r.resolve(c.Action)
		if err != nil {
			return Result{}, err
		}
		if in, err = a.decodeArgs(c.Args, c.InputOnly); err != nil {
			return Result{}, err
		}
		p = &Prepared{Action: a}
	}
	mode := in.mode.Over(c.Mode).Mode()
	t, res, err := r.idempotency.claim(ctx, c, mode, func() []byte { return actionDigest(p.Action, in) })
	if err != nil || res.Replayed {
		return res, err
	}
	if p.input == nil {
		if in.prompt != "" {
			if in.input, err = r.fill(ctx, p.Action, in.prompt, in.input); err != nil {
				return Result{}, t.abandon(ctx, err)
			}
		}
		if p.input, err = p.Action.CheckInput(in.input); err != nil {
			return Result{}, t.abandon(ctx, err)
		}
	}
	x := r.newActive(p.Action, r.newRun(c, p.Action, p.input), p.input)
	if mode == ModeBlocking {
		x.watch = c.Watch
	}
	return r.start(ctx, x, mode, t)
}

// submitJob is Submit for a Job: idempotency, then the job's own claim.
func (r *Runner) submitJob(ctx context.Context, c Call) (Result, error) {
	j := c.Job
	mode := c.Mode.Mode()
	t, res, err := r.idempotency.claim(ctx, c, mode, func() []byte { return jobDigest(j) })
	if err != nil || res.Replayed {
		return res, err
	}
	run := j.Run
	if run.ID == "" {
		run.ID = domain.NewID(domain.RunPrefix)
	}
	run.Status, run.CreatedAt = domain.StatusQueued, time.Now().UTC()
	run.KeyName, run.KeyID, run.Source, run.IdempotencyKey = c.Caller.KeyName, c.Caller.KeyID, c.Source, c.IdempotencyKey
	if j.Claim != nil {
		if err := j.Claim(run.ID); err != nil {
			return Result{}, t.abandon(ctx, err)
		}
	}
	x := r.newActive(nil, run, nil)
	x.job = j.Do
	res, err = r.start(ctx, x, ModeStream, t) // a job always starts at once
	if err != nil && j.Unclaim != nil {
		j.Unclaim()
	}
	res.Mode = mode
	return res, err
}

// start admits a new run and answers as mode says; t links the run to the
// call's idempotency key once it is admitted.
func (r *Runner) start(ctx context.Context, x *active, mode Mode, t ticket) (Result, error) {
	x.addRawEvent("run.created", runSummary(x.run))
	if err := r.admit(x); err != nil {
		return Result{}, t.abandon(ctx, err)
	}
	r.startSpan(ctx, x)
	if mode == ModeBackground {
		if r.shared != nil {
			return r.enqueueShared(ctx, x, t)
		}
		return r.enqueue(ctx, x, t)
	}
	if mode == ModeStream && r.cluster != nil {
		// Its id is answered at once, and the next request may reach
		// another replica: the run must be found there.
		if err := r.persistCreated(ctx, x); err != nil {
			r.drop(x, err)
			return Result{}, t.abandon(ctx, err)
		}
	}
	if err := t.link(ctx, x.run.ID); err != nil {
		r.drop(x, err)
		return Result{}, err
	}
	if mode == ModeStream {
		created := x.snapshot()
		go r.execute(x)
		return Result{Run: created, Mode: mode}, nil
	}
	if x.watch != nil {
		x.watch.Started(x.run.ID)
	}
	r.execute(x)
	run := x.snapshot()
	if err := x.recordError(); err != nil {
		return Result{Run: run, Mode: mode}, domain.WrapError(err, domain.CodeNotRecorded,
			"run %s %s, but its record could not be stored, so history will not show it (whatever the action did, it did); the host's log has the cause", run.ID, run.Status)
	}
	return Result{Run: run, Mode: mode}, nil
}

// enqueue records a queued run durably and leaves it to the worker pool. A
// full queue is a rate_limited error and makes no run.
func (r *Runner) enqueue(ctx context.Context, x *active, t ticket) (Result, error) {
	if !r.queue.reserve() {
		err := domain.Errorf(domain.CodeRateLimited, "the run queue is full (%d waiting); retry shortly", r.queue.size())
		r.drop(x, err)
		return Result{}, t.abandon(ctx, err)
	}
	x.persisted = true
	queued := x.snapshot() // the answer: a worker may start it at once
	sctx, end := r.child(ctx, x, "store.put_run")
	err := r.runs.PutRun(sctx, queued)
	end(err)
	if err != nil {
		r.queue.unreserve()
		err = storeError(err, "record run")
		r.drop(x, err)
		return Result{}, t.abandon(ctx, err)
	}
	if err := t.link(ctx, queued.ID); err != nil {
		r.log.Error("could not link the idempotency key to its run", "run_id", queued.ID, "error", err)
	}
	if !r.queue.push(x) {
		// Shutting down since the reservation: the run is recorded and
		// answered, so it still runs (shutdown waits for it).
		r.queue.unreserve()
		go r.execute(x)
	}
	return Result{Run: queued, Mode: ModeBackground}, nil
}

// newRun is the record of a new action run.
func (r *Runner) newRun(c Call, a *Action, input []byte) *domain.Run {
	return &domain.Run{
		ID: domain.NewID(domain.RunPrefix), Kind: "action", ActionID: a.ID, ActionKey: a.Alias,
		PluginID: a.Plugin.ID, PluginName: a.Plugin.Name, ThreadID: c.ThreadID, ParentRunID: c.ParentRunID,
		Status: domain.StatusQueued, Input: a.Redacted(input), CreatedAt: time.Now().UTC(),
		KeyName: c.Caller.KeyName, KeyID: c.Caller.KeyID, Source: c.Source, IdempotencyKey: c.IdempotencyKey,
		RawValid: true, // the input is checked; only checked output is stored
	}
}
