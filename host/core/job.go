package core

import (
	"context"
	"encoding/json"
	"time"

	"github.com/toolhost/toolhost/host/domain"
	"github.com/toolhost/toolhost/host/store"
)

// Job is work that the Runner runs and records like an action run, with
// the same events, following, cancelling and history. The assistant loop
// runs as a Job.
type Job struct {
	// Run is the record to start from. Kind and the links (ThreadID,
	// ParentRunID) come from the caller; StartJob fills ID, Status and
	// CreatedAt when they are empty.
	Run *store.Run
	// Do does the work. Its output (or error, as a *domain.Error) ends the
	// run. ctx ends when the run is cancelled.
	Do func(ctx context.Context, c *JobControl) (json.RawMessage, error)
}

// JobControl is what a Job's Do may do to its own run.
type JobControl struct{ x *active }

// ID is the run's id.
func (c *JobControl) ID() string { return c.x.run.ID }

// Emit appends an event (type such as "thread.message.delta") to the run
// and hands it to followers.
func (c *JobControl) Emit(typ string, data any) { c.x.addEvent(typ, data) }

// SetExtra replaces the run's kind-specific state.
func (c *JobControl) SetExtra(v any) {
	raw, _ := json.Marshal(v)
	c.x.mu.Lock()
	c.x.run.Extra = raw
	c.x.mu.Unlock()
}

// SetStatus moves the run to an unfinished status (running or
// requires_action), emits run.<status> and records it durably.
func (c *JobControl) SetStatus(status string) error {
	c.x.mu.Lock()
	if err := store.CheckTransition(c.x.run.Status, status); err != nil {
		c.x.mu.Unlock()
		return err
	}
	c.x.run.Status = status
	c.x.addLocked("run."+status, runSummary(c.x.run))
	c.x.mu.Unlock()
	return c.Persist()
}

// Persist records the run's current state durably.
func (c *JobControl) Persist() error {
	return c.x.r.db.Runs().PutRun(context.Background(), c.x.snapshot())
}

// Snapshot returns a copy of the run as it is now.
func (c *JobControl) Snapshot() *store.Run { return c.x.snapshot() }

// StartJob starts a job and returns its run id; the run is recorded durably
// as running before Do is called.
func (r *Runner) StartJob(j Job) (string, error) {
	run := j.Run
	if run.ID == "" {
		run.ID = store.NewID("run_")
	}
	run.Status = store.StatusQueued
	if run.CreatedAt.IsZero() {
		run.CreatedAt = time.Now().UTC()
	}
	x := newActive(r, nil, run, nil)
	x.addRawEvent("run.created", runSummary(run))
	if err := r.admit(x); err != nil {
		return "", err
	}
	go r.executeJob(x, j.Do)
	return run.ID, nil
}

func (r *Runner) executeJob(x *active, do func(context.Context, *JobControl) (json.RawMessage, error)) {
	defer r.release(x)
	defer close(x.done)
	defer x.cancel()
	x.markRunning()
	if err := r.db.Runs().PutRun(context.Background(), x.snapshot()); err != nil {
		r.finish(x, nil, domain.WrapError(err, domain.CodeInternal, "could not record the run"))
		return
	}
	out, err := runJob(x.ctx, &JobControl{x: x}, do)
	if err == nil && x.ctx.Err() != nil {
		err = domain.Errorf(domain.CodeCancelled, "run cancelled")
	}
	r.finish(x, out, err)
}

func runJob(ctx context.Context, c *JobControl, do func(context.Context, *JobControl) (json.RawMessage, error)) (out json.RawMessage, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = domain.Errorf(domain.CodeInternal, "run panicked: %v", v)
		}
	}()
	return do(ctx, c)
}
