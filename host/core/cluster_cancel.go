package core

import (
	"context"
	"errors"
	"time"

	"github.com/toolhost/toolhost/host/domain"
)

// cancelWait bounds how long Cancel waits for a run to end once asked.
const cancelWait = 10 * time.Second

// cancelRemote is Cancel for a run this replica does not run: a queued
// run nobody claimed is taken out of the queue and never starts; a run
// another replica runs is cancelled there (asked again until it ends, or
// until cancelWait).
func (r *Runner) cancelRemote(ctx context.Context, run *domain.Run) (*domain.Run, error) {
	id := run.ID
	if run.Status == domain.StatusQueued {
		took, err := r.cluster.Unqueue(ctx, id)
		if err != nil {
			return run, storeError(err, "take the run out of the queue")
		}
		if took {
			return r.cancelUnclaimed(ctx, run)
		}
	}
	notes, unwatch := r.cluster.Watch(id)
	defer unwatch()
	tick := time.NewTicker(r.poll)
	defer tick.Stop()
	deadline := time.After(cancelWait)
	for {
		if err := r.cluster.Ask(ctx, domain.RunRequest{Kind: domain.AskCancel, RunID: id}); err != nil {
			return run, storeError(err, "ask for the run to be cancelled")
		}
		select {
		case <-notes:
		case <-tick.C:
		case <-deadline:
			return run, nil
		case <-ctx.Done():
			return run, ctx.Err()
		}
		now, err := r.runs.GetRun(ctx, id)
		if err != nil {
			return run, err
		}
		if run = now; domain.IsTerminal(run.Status) {
			return cancelAnswer(run)
		}
	}
}

// cancelUnclaimed ends a run taken out of the queue (this replica now
// owns it) as cancelled before it started.
func (r *Runner) cancelUnclaimed(ctx context.Context, run *domain.Run) (*domain.Run, error) {
	x := r.newActive(nil, run, nil)
	x.persisted, x.owned = true, true
	x.cancel()
	r.finish(x, nil, domain.Errorf(domain.CodeCancelled, "run cancelled before it started"))
	close(x.done)
	if err := x.recordError(); err != nil {
		return nil, storeError(err, "record the cancelled run")
	}
	return x.snapshot(), nil
}

// InterruptRun fails a run that a replica which died left in progress, as
// a restart fails a stopped host's runs: failed, interrupted, never run
// again (it may or may not have taken effect). A run that is finished,
// unknown, or live on this replica is left as it is. The cluster calls it
// for the runs a replica whose lease expired owned.
func (r *Runner) InterruptRun(ctx context.Context, id string) error {
	if r.lookup(id) != nil {
		return nil
	}
	run, err := r.runs.GetRun(ctx, id)
	if errors.Is(err, domain.ErrNotFound) {
		return nil
	}
	if err != nil || domain.IsTerminal(run.Status) {
		return err
	}
	run.Interrupt(time.Now().UTC())
	withoutOutputEvent(run)
	if err := r.runs.PutRun(ctx, run); err != nil {
		return err
	}
	r.observe(run)
	return nil
}
