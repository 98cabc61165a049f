package core

import (
	"context"
	"encoding/json"

	"github.com/toolhost/toolhost/host/domain"
)

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
	if err := domain.CheckTransition(c.x.run.Status, status); err != nil {
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
	return c.x.r.runs.PutRun(context.WithoutCancel(c.x.ctx), c.x.snapshot())
}

// Snapshot returns a copy of the run as it is now.
func (c *JobControl) Snapshot() *domain.Run { return c.x.snapshot() }

// runJob runs the job's Do and returns its end: a job whose run was
// cancelled ends cancelled, and a panic is a failed run.
func (x *active) runJob() (json.RawMessage, error) {
	out, err := runJob(x.ctx, &JobControl{x: x}, x.job)
	if err == nil && x.ctx.Err() != nil {
		err = domain.Errorf(domain.CodeCancelled, "run cancelled")
	}
	return out, err
}

func runJob(ctx context.Context, c *JobControl, do func(context.Context, *JobControl) (json.RawMessage, error)) (out json.RawMessage, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = domain.Errorf(domain.CodeInternal, "run panicked: %v", v)
		}
	}()
	return do(ctx, c)
}
