package core

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/toolhost/toolhost/host/domain"
)

// claimRetry is how long a worker waits after the cluster failed to hand
// it a run (an unreachable database) before it asks again.
const claimRetry = time.Second

// sharedQueue is the Runner's side of the cluster's queue: the workers
// that claim queued runs from it, and the reader of other replicas'
// requests. It replaces the in-memory queue when there is a Cluster.
type sharedQueue struct {
	limit        int
	workers      sync.WaitGroup // claim loops, and the runs they run
	stopClaims   context.CancelFunc
	stopRequests context.CancelFunc
}

func startSharedQueue(r *Runner, limit, workers int) *sharedQueue {
	claims, stopClaims := context.WithCancel(context.Background())
	reqs, stopRequests := context.WithCancel(context.Background())
	q := &sharedQueue{limit: limit, stopClaims: stopClaims, stopRequests: stopRequests}
	for i := 0; i < workers; i++ {
		q.workers.Add(1)
		go func() {
			defer q.workers.Done()
			r.claimLoop(claims)
		}()
	}
	go r.serveRequests(reqs)
	return q
}

// claimLoop runs queued runs, claimed from the cluster one at a time,
// until ctx ends. A run claimed as ctx ended is still run: it is this
// replica's now, and shutdown waits for it.
func (r *Runner) claimLoop(ctx context.Context) {
	for {
		id, input, err := r.cluster.Claim(ctx)
		if err == nil {
			r.runClaimed(id, input)
			continue
		}
		if ctx.Err() != nil {
			return
		}
		r.log.Error("could not take a run from the queue", "error", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(claimRetry):
		}
	}
}

// runClaimed runs a queued run this replica has claimed (and now owns).
func (r *Runner) runClaimed(id string, input []byte) {
	ctx := context.Background()
	run, err := r.runs.GetRun(ctx, id)
	if err != nil {
		// Left owned: when this replica stops, another fails it as
		// interrupted.
		r.log.Error("could not read a run taken from the queue", "run_id", id, "error", err)
		return
	}
	if domain.IsTerminal(run.Status) {
		r.cluster.Disown(id)
		return
	}
	x := r.newActive(r.Catalog().Action(run.ActionID), run, input)
	x.persisted, x.owned = true, true
	r.adopt(x)
	r.startSpan(ctx, x)
	r.execute(x)
}

// adopt registers a run taken from the queue: it was recorded and
// answered already, so it runs even while the runner shuts down (which
// stops claiming first and waits for the workers).
func (r *Runner) adopt(x *active) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.active[x.run.ID] = x
	r.inflight.Add(1)
}

// enqueueShared is enqueue for a replica: the run is recorded queued and
// owned by this replica, then handed to the cluster's queue, from which
// any replica's worker (this one's too) takes it. A full queue ends the
// run as failed (rate_limited) and answers that error.
func (r *Runner) enqueueShared(ctx context.Context, x *active, t ticket) (Result, error) {
	if err := r.persistCreated(ctx, x); err != nil {
		r.drop(x, err)
		return Result{}, t.abandon(ctx, err)
	}
	queued := x.snapshot()
	r.release(x) // from here on the run is the queue's
	err := r.cluster.Enqueue(ctx, queued.ID, x.input, r.shared.limit)
	if err != nil {
		if !errors.Is(err, ErrQueueFull) {
			err = storeError(err, "queue the run")
		}
		r.finish(x, nil, err)
		close(x.done)
		x.cancel()
		return Result{}, t.abandon(ctx, err)
	}
	endSpan(x, queued)
	x.cancel()
	if err := t.link(ctx, queued.ID); err != nil {
		r.log.Error("could not link the idempotency key to its run", "run_id", queued.ID, "error", err)
	}
	return Result{Run: queued, Mode: ModeBackground}, nil
}

// persistCreated records a new run as it is (queued), owned by this
// replica, before its id is answered.
func (r *Runner) persistCreated(ctx context.Context, x *active) error {
	x.persisted = true
	sctx, end := r.child(ctx, x, "store.put_run")
	err := r.own(sctx, x)
	if err == nil {
		err = r.runs.PutRun(sctx, x.snapshot())
	}
	end(err)
	if err != nil {
		return storeError(err, "record run")
	}
	return nil
}

// own records, once, that this replica runs x (see RunOwners.Own).
func (r *Runner) own(ctx context.Context, x *active) error {
	if r.cluster == nil {
		return nil
	}
	x.mu.Lock()
	owned := x.owned
	x.mu.Unlock()
	if owned {
		return nil
	}
	if err := r.cluster.Own(ctx, x.run.ID); err != nil {
		return err
	}
	x.mu.Lock()
	x.owned = true
	x.mu.Unlock()
	return nil
}

// ended tells the cluster that x's final record is stored.
func (r *Runner) ended(x *active) {
	if r.cluster == nil {
		return
	}
	x.mu.Lock()
	owned, remote := x.owned, x.remote
	x.mu.Unlock()
	if owned {
		r.cluster.Disown(x.run.ID)
	}
	if remote {
		r.cluster.Ended(x.run.ID)
	}
}
