package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"go.opentelemetry.io/otel/trace"

	"github.com/toolhost/toolhost/host/domain"
)

// Runner runs actions and keeps their history. Submit (submit.go) is the
// way in; the rest reads, follows and cancels runs.
type Runner struct {
	exec        Executor
	runs        RunStore
	idempotency *idempotency
	filler      PromptFiller
	log         hclog.Logger
	catalog     catalogCache
	queue       *queue
	observer    Observer
	tracer      trace.Tracer
	cluster     Cluster       // nil: a host alone
	shared      *sharedQueue  // the cluster's queue workers; nil without a cluster
	poll        time.Duration // remotePoll when made

	mu       sync.Mutex
	active   map[string]*active
	closing  bool
	inflight sync.WaitGroup
}

// Options configure a Runner.
type Options struct {
	Executor    Executor
	Runs        RunStore
	Idempotency IdempotencyStore // nil: idempotency keys are ignored
	Logger      hclog.Logger
	QueueSize   int // non-blocking runs waiting for a worker
	Workers     int // workers serving the queue
	// Cluster, when set, makes this Runner one replica of several on one
	// database: non-blocking runs queue there (QueueSize bounds that
	// queue), and runs are followed and cancelled across replicas.
	Cluster Cluster
}

// NewRunner returns a Runner over an executor and a run store.
func NewRunner(opts Options) *Runner {
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	r := &Runner{exec: opts.Executor, runs: opts.Runs, log: opts.Logger.Named("runner"), active: map[string]*active{}}
	r.idempotency = &idempotency{store: opts.Idempotency, r: r}
	if opts.Cluster != nil {
		r.cluster, r.poll = opts.Cluster, remotePoll
		r.shared = startSharedQueue(r, max(opts.QueueSize, 1), max(opts.Workers, 1))
		return r
	}
	r.queue = newQueue(r, max(opts.QueueSize, 1), max(opts.Workers, 1))
	return r
}

// SetPromptFiller sets what fills an action's input from a prompt (the
// assistant service, which is made after the Runner).
func (r *Runner) SetPromptFiller(f PromptFiller) { r.filler = f }

// Catalog returns the current plugins and actions.
func (r *Runner) Catalog() *Catalog { return r.catalog.get(r.exec) }

// admit registers a new active run unless the runner is shutting down.
func (r *Runner) admit(x *active) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closing {
		return domain.Errorf(domain.CodeShuttingDown, "toolhost is shutting down; try again shortly")
	}
	r.active[x.run.ID] = x
	r.inflight.Add(1)
	return nil
}

func (r *Runner) release(x *active) {
	r.mu.Lock()
	delete(r.active, x.run.ID)
	r.mu.Unlock()
	r.inflight.Done()
}

// Wait blocks until the run ends or ctx ends, and returns its record.
func (r *Runner) Wait(ctx context.Context, id string) (*domain.Run, error) {
	x := r.lookup(id)
	if x == nil {
		run, err := r.runs.GetRun(ctx, id)
		if err == nil && r.cluster != nil && !domain.IsTerminal(run.Status) {
			return r.waitRemote(ctx, id)
		}
		return run, err
	}
	select {
	case <-x.done:
		return x.snapshot(), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (r *Runner) lookup(id string) *active {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.active[id]
}

// Live reports whether the run is in progress on this host.
func (r *Runner) Live(id string) bool { return r.lookup(id) != nil }

// Get returns a run, live or stored.
func (r *Runner) Get(ctx context.Context, id string) (*domain.Run, error) {
	if x := r.lookup(id); x != nil {
		return x.snapshot(), nil
	}
	return r.runs.GetRun(ctx, id)
}

// ListRuns lists the recorded runs the caller may see: its own, or every
// key's when it holds admin or audit.
func (r *Runner) ListRuns(ctx context.Context, c domain.Caller, f domain.RunFilter, p domain.Page) ([]*domain.Run, bool, error) {
	if !c.SeesAll() {
		f.KeyID = c.KeyID
	}
	return r.runs.ListRuns(ctx, f, p)
}

// ListRunsPage is ListRuns naming the damaged records the page skipped,
// when the store can tell.
func (r *Runner) ListRunsPage(ctx context.Context, c domain.Caller, f domain.RunFilter, p domain.Page) (domain.RunPage, error) {
	if !c.SeesAll() {
		f.KeyID = c.KeyID
	}
	if pl, ok := r.runs.(PageLister); ok {
		return pl.ListRunsPage(ctx, f, p)
	}
	runs, more, err := r.runs.ListRuns(ctx, f, p)
	return domain.RunPage{Runs: runs, HasMore: more}, err
}

// StorageDamage is what the run store found damaged (nothing when it
// cannot tell).
func (r *Runner) StorageDamage() domain.StorageDamage {
	if dr, ok := r.runs.(DamageReporter); ok {
		return dr.Damage()
	}
	return domain.StorageDamage{Runs: -1}
}

// Owned returns a run the caller may see and change (its own, or any with
// admin or audit); another key's run is not found, as if it did not exist.
func (r *Runner) Owned(ctx context.Context, c domain.Caller, id string) (*domain.Run, error) {
	run, err := r.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if !c.Owns(run.KeyID) {
		return nil, fmt.Errorf("run %s: %w", id, domain.ErrNotFound) // as for a run that does not exist
	}
	return run, nil
}

// Cancel stops a queued or running run. A finished run is a conflict.
func (r *Runner) Cancel(ctx context.Context, id string) (*domain.Run, error) {
	x := r.lookup(id)
	if x == nil {
		run, err := r.runs.GetRun(ctx, id)
		if err != nil {
			return nil, err
		}
		if domain.IsTerminal(run.Status) {
			return run, domain.Errorf(domain.CodeConflict, "run %s already finished (%s)", id, run.Status)
		}
		if r.cluster != nil {
			return r.cancelRemote(ctx, run)
		}
		return run, domain.Errorf(domain.CodeConflict, "run %s is not in progress on this host (%s)", id, run.Status)
	}
	x.cancel()
	if r.endUnstarted(x) {
		return x.snapshot(), nil
	}
	select {
	case <-x.done:
	case <-time.After(10 * time.Second):
	}
	return cancelAnswer(x.snapshot())
}

// cancelAnswer is Cancel's answer once the run has ended (or the wait for
// it has): a run that succeeded first is a conflict.
func cancelAnswer(run *domain.Run) (*domain.Run, error) {
	if run.Status != domain.StatusCancelled && domain.IsTerminal(run.Status) && run.Error == nil {
		return run, domain.Errorf(domain.CodeConflict, "run %s finished (%s) before it could be cancelled", run.ID, run.Status)
	}
	return run, nil
}

// execute runs an admitted run to its end and records it.
func (r *Runner) execute(x *active) {
	defer r.release(x)
	defer close(x.done)
	defer x.cancel()
	if x.ctx.Err() != nil {
		r.finish(x, nil, domain.Errorf(domain.CodeCancelled, "run cancelled before it started"))
		return
	}
	if x.job == nil && x.action == nil { // a queued run another replica took in
		r.finish(x, nil, domain.Errorf(domain.CodeNotFound, "action %s is not served by the replica that took the run from the queue", x.run.ActionKey))
		return
	}
	if !x.markRunning() {
		return // ended before it started (cancelled while queued)
	}
	if x.job != nil || x.action.SideEffects() || x.persisted {
		sctx, end := r.child(x.ctx, x, "store.put_run")
		err := r.own(sctx, x)
		if err == nil {
			err = r.runs.PutRun(sctx, x.snapshot())
		}
		end(err)
		if err != nil {
			what := "record the run before calling the plugin; it was not called"
			if x.job != nil {
				what = "record the run"
			}
			r.finish(x, nil, storeError(err, what))
			return
		}
	}
	if x.job != nil {
		out, err := x.runJob()
		r.finish(x, out, err)
		return
	}
	pctx, end := r.child(x.ctx, x, "plugin.call "+x.action.Alias)
	out, err := x.action.Plugin.plugin.Run(pctx, domain.Invocation{
		RunID: x.run.ID, Action: x.action.Key, Input: x.input, OnEvent: x.pluginEvent,
	})
	end(err)
	if err == nil {
		err = x.action.CheckOutput(out)
	}
	r.finish(x, out, err)
}

func (x *active) pluginEvent(e domain.PluginEvent) {
	e = capPluginEvent(e)
	if e.Kind == "progress" {
		x.addEvent("run.progress", e)
		return
	}
	x.addEvent("run.log", e)
}

// finish records the run's end durably, then tells followers. A run that
// has already ended is left as it is: a finished run never changes.
func (r *Runner) finish(x *active, out []byte, err error) {
	x.mu.Lock()
	snap := r.endLocked(x, out, err)
	x.mu.Unlock()
	if snap != nil {
		r.record(x, snap)
	}
}

// endUnstarted ends a run that no worker has started yet (it waits in the
// queue) as cancelled, at once, and reports whether it did; the worker
// that reaches it later leaves it as it is.
func (r *Runner) endUnstarted(x *active) bool {
	x.mu.Lock()
	var snap *domain.Run
	if x.run.Status == domain.StatusQueued {
		snap = r.endLocked(x, nil, domain.Errorf(domain.CodeCancelled, "run cancelled before it started"))
	}
	x.mu.Unlock()
	if snap == nil {
		return false
	}
	r.record(x, snap)
	return true
}

// endLocked ends the run with its output or error and returns the record
// to store, or nil when the run has already ended. x.mu is held.
func (r *Runner) endLocked(x *active, out []byte, err error) *domain.Run {
	run := x.run
	if domain.IsTerminal(run.Status) {
		return nil
	}
	now := time.Now().UTC()
	run.FinishedAt = &now
	if run.StartedAt != nil {
		run.DurationMS = float64(now.Sub(*run.StartedAt).Microseconds()) / 1000
	}
	if err == nil {
		run.Status, run.Output = domain.StatusSucceeded, out
		x.addLocked("run.output", out)
	} else {
		f := domain.AsError(err)
		if f.Code == domain.CodeInternal {
			r.log.Error("run failed inside the host", "run_id", run.ID, "error", f.Err)
		}
		run.Status = statusFor(f.Code)
		run.Error = &domain.RunError{Code: f.Code, Message: f.Message}
	}
	x.addLocked("run."+run.Status, runSummary(run))
	return copyRun(run)
}

// record stores a run's end, then tells followers.
func (r *Runner) record(x *active, snap *domain.Run) {
	withoutOutputEvent(snap)
	sctx, end := r.child(context.WithoutCancel(x.ctx), x, "store.put_run")
	err := r.runs.PutRun(sctx, snap)
	end(err)
	if err != nil {
		r.log.Error("could not record the run's end", "run_id", snap.ID, "error", err)
		x.mu.Lock()
		x.recordErr = err
		x.mu.Unlock()
	}
	r.observe(snap)
	endSpan(x, snap)
	x.closeFollowers()
	r.ended(x)
}

func statusFor(code string) string {
	switch code {
	case domain.CodeActionTimeout:
		return domain.StatusTimedOut
	case domain.CodeCancelled:
		return domain.StatusCancelled
	case domain.CodeExpired:
		return domain.StatusExpired
	}
	return domain.StatusFailed
}

// runSummary is the data of a state event (run.created, run.succeeded...)
// for the run as it is now: {"id","status","action_id","error"}, the last
// two omitted when empty, encoded as encoding/json would encode such a
// struct (written by hand: every run has two or three of these).
func runSummary(r *domain.Run) json.RawMessage {
	b := make([]byte, 0, 96)
	b = domain.AppendJSONString(append(b, `{"id":`...), r.ID)
	b = domain.AppendJSONString(append(b, `,"status":`...), r.Status)
	if r.ActionID != "" {
		b = domain.AppendJSONString(append(b, `,"action_id":`...), r.ActionID)
	}
	if e := r.Error; e != nil {
		b = domain.AppendJSONString(append(b, `,"error":{"code":`...), e.Code)
		b = append(domain.AppendJSONString(append(b, `,"message":`...), e.Message), '}')
	}
	return append(b, '}')
}

// Follow returns a run's events after seq and, while it is live, a channel
// of the ones to come (closed at the end). For a finished run the channel
// is closed at once. stop releases the follower.
func (r *Runner) Follow(ctx context.Context, id string, after int) (past []domain.Event, live <-chan domain.Event, stop func(), err error) {
	if x := r.lookup(id); x != nil {
		p, ch := x.follow(after)
		return p, ch, func() { x.unfollow(ch) }, nil
	}
	run, err := r.runs.GetRun(ctx, id)
	if err != nil {
		return nil, nil, nil, err
	}
	if r.cluster != nil && !domain.IsTerminal(run.Status) {
		return r.followRemote(ctx, id, after)
	}
	for _, e := range run.Events {
		if e.Seq > after {
			past = append(past, withOutput(e, run))
		}
	}
	ch := make(chan domain.Event)
	close(ch)
	return past, ch, func() {}, nil
}

// Shutdown refuses new runs and waits for the ones in flight until ctx ends;
// then it cancels what is left and waits for those to be recorded.
func (r *Runner) Shutdown(ctx context.Context) error {
	r.mu.Lock()
	r.closing = true
	r.mu.Unlock()
	done := make(chan struct{})
	if r.shared != nil {
		defer r.shared.stopRequests()
		r.shared.stopClaims()
		go func() { r.shared.workers.Wait(); r.inflight.Wait(); close(done) }()
	} else {
		r.queue.close()
		go func() { r.inflight.Wait(); close(done) }()
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	r.mu.Lock()
	for _, x := range r.active {
		x.cancel()
	}
	r.mu.Unlock()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
	return errors.New("shutdown grace ended with runs in flight; they were cancelled")
}

// The run.output event carries the run's output. The stored record keeps
// the output once, in Output, and the event without data; withOutput puts
// it back when the event is replayed.
func withoutOutputEvent(r *domain.Run) {
	for i := range r.Events {
		if r.Events[i].Type == "run.output" {
			r.Events[i].Data = nil
		}
	}
}

func withOutput(e domain.Event, r *domain.Run) domain.Event {
	if e.Type == "run.output" && len(e.Data) == 0 {
		e.Data = r.Output
	}
	return e
}
