package host

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/toolhost/toolhost/host/fault"
	"github.com/toolhost/toolhost/host/plugins"
	"github.com/toolhost/toolhost/host/store"
)

// Runner runs actions and keeps their history.
type Runner struct {
	sup     *plugins.Supervisor
	db      *store.DB
	log     hclog.Logger
	catalog catalogCache
	queue   *queue

	mu       sync.Mutex
	active   map[string]*active
	closing  bool
	inflight sync.WaitGroup
}

// Options configure a Runner.
type Options struct {
	Logger    hclog.Logger
	QueueSize int // non-blocking runs waiting for a worker
	Workers   int // workers serving the queue
}

// NewRunner returns a Runner over a supervisor and a store.
func NewRunner(sup *plugins.Supervisor, db *store.DB, opts Options) *Runner {
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	r := &Runner{sup: sup, db: db, log: opts.Logger.Named("runner"), active: map[string]*active{}}
	r.queue = newQueue(r, max(opts.QueueSize, 1), max(opts.Workers, 1))
	return r
}

// Catalog returns the current plugins and actions.
func (r *Runner) Catalog() *Catalog { return r.catalog.get(r.sup) }

// Supervisor returns the plugin supervisor.
func (r *Runner) Supervisor() *plugins.Supervisor { return r.sup }

// Store returns the store.
func (r *Runner) Store() *store.DB { return r.db }

// Request is one action run to start.
type Request struct {
	Action         *Action
	Input          []byte // checked input (CheckInput)
	KeyName        string
	IdempotencyKey string
	ThreadID       string
	ParentRunID    string
}

func (r *Runner) newRun(req Request, status string) *store.Run {
	a := req.Action
	return &store.Run{
		ID: store.NewID("run_"), Kind: "action", ActionID: a.ID, ActionKey: a.Alias,
		PluginID: a.Plugin.ID, PluginName: a.Plugin.Name, ThreadID: req.ThreadID, ParentRunID: req.ParentRunID,
		Status: status, Input: a.Redacted(req.Input), CreatedAt: time.Now().UTC(),
		KeyName: req.KeyName, IdempotencyKey: req.IdempotencyKey,
		RawValid: true, // req.Input is checked; only checked output is stored
	}
}

// admit registers a new active run unless the runner is shutting down.
func (r *Runner) admit(x *active) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closing {
		return fault.New(fault.ShuttingDown, "toolhost is shutting down; try again shortly")
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

// admitNew creates a queued run for req and registers it as active.
func (r *Runner) admitNew(req Request) (*active, error) {
	run := r.newRun(req, store.StatusQueued)
	x := newActive(r, req.Action, run, req.Input)
	x.addRawEvent("run.created", runSummary(run))
	if err := r.admit(x); err != nil {
		return nil, err
	}
	return x, nil
}

// Start begins a run now and returns its id; it runs to the end even if the
// caller goes away. Use Wait or Follow to see it finish.
func (r *Runner) Start(req Request) (string, error) {
	x, err := r.admitNew(req)
	if err != nil {
		return "", err
	}
	go r.execute(x)
	return x.run.ID, nil
}

// Run runs a request to its end on the caller's goroutine and returns the
// record (blocking runs: one goroutine hand-off fewer than Start and Wait).
// The run does not depend on the caller's context: a client that leaves
// does not cancel it.
func (r *Runner) Run(req Request) (*store.Run, error) {
	x, err := r.admitNew(req)
	if err != nil {
		return nil, err
	}
	r.execute(x)
	run := x.snapshot()
	if err := x.recordError(); err != nil {
		return run, fault.Wrap(err, fault.NotRecorded,
			"run %s %s, but its record could not be stored, so history will not show it (whatever the action did, it did); the host's log has the cause", run.ID, run.Status)
	}
	return run, nil
}

// Enqueue records a queued run durably and leaves it to the worker pool. A
// full queue is a rate_limited fault.
func (r *Runner) Enqueue(req Request) (*store.Run, error) {
	x, err := r.admitNew(req)
	if err != nil {
		return nil, err
	}
	if !r.queue.reserve() {
		r.release(x)
		return nil, fault.New(fault.RateLimited, "the run queue is full (%d waiting); retry shortly", r.queue.size())
	}
	x.persisted = true
	queued := x.snapshot() // the answer: a worker may start it at once
	if err := r.db.PutRun(queued); err != nil {
		r.queue.unreserve()
		r.release(x)
		return nil, fault.Wrap(err, fault.Internal, "record run")
	}
	if !r.queue.push(x) {
		// Shutting down since the reservation: the run is recorded and
		// answered 202, so it still runs (shutdown waits for it).
		r.queue.unreserve()
		go r.execute(x)
	}
	return queued, nil
}

// Wait blocks until the run ends or ctx ends, and returns its record.
func (r *Runner) Wait(ctx context.Context, id string) (*store.Run, error) {
	x := r.lookup(id)
	if x == nil {
		return r.db.GetRun(id)
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
func (r *Runner) Get(id string) (*store.Run, error) {
	if x := r.lookup(id); x != nil {
		return x.snapshot(), nil
	}
	return r.db.GetRun(id)
}

// Cancel stops a queued or running run. A finished run is a conflict.
func (r *Runner) Cancel(id string) (*store.Run, error) {
	x := r.lookup(id)
	if x == nil {
		run, err := r.db.GetRun(id)
		if err != nil {
			return nil, err
		}
		if store.IsTerminal(run.Status) {
			return run, fault.New(fault.Conflict, "run %s already finished (%s)", id, run.Status)
		}
		return run, fault.New(fault.Conflict, "run %s is not in progress on this host (%s)", id, run.Status)
	}
	x.cancel()
	select {
	case <-x.done:
	case <-time.After(10 * time.Second):
	}
	run := x.snapshot()
	if run.Status != store.StatusCancelled && store.IsTerminal(run.Status) && run.Error == nil {
		return run, fault.New(fault.Conflict, "run %s finished (%s) before it could be cancelled", id, run.Status)
	}
	return run, nil
}

// execute runs an admitted run to its end and records it.
func (r *Runner) execute(x *active) {
	defer r.release(x)
	defer close(x.done)
	defer x.cancel()
	if x.ctx.Err() != nil {
		r.finish(x, nil, fault.New(fault.Cancelled, "run cancelled before it started"))
		return
	}
	x.markRunning()
	if x.action.SideEffects() || x.persisted {
		if err := r.db.PutRun(x.snapshot()); err != nil {
			r.finish(x, nil, fault.Wrap(err, fault.Internal, "could not record the run before calling the plugin; it was not called"))
			return
		}
	}
	out, err := x.action.Plugin.sup.Run(x.ctx, plugins.Call{
		RunID: x.run.ID, Action: x.action.Key, Input: x.input, OnEvent: x.pluginEvent,
	})
	if err == nil {
		err = x.action.CheckOutput(out)
	}
	r.finish(x, out, err)
}

func (x *active) pluginEvent(e plugins.Event) {
	e = capPluginEvent(e)
	if e.Kind == "progress" {
		x.addEvent("run.progress", e)
		return
	}
	x.addEvent("run.log", e)
}

// finish records the run's end durably, then tells followers.
func (r *Runner) finish(x *active, out []byte, err error) {
	now := time.Now().UTC()
	x.mu.Lock()
	run := x.run
	run.FinishedAt = &now
	if run.StartedAt != nil {
		run.DurationMS = float64(now.Sub(*run.StartedAt).Microseconds()) / 1000
	}
	if err == nil {
		run.Status, run.Output = store.StatusSucceeded, out
		x.addLocked("run.output", out)
	} else {
		f := fault.As(err)
		if f.Code == fault.Internal {
			r.log.Error("run failed inside the host", "run_id", run.ID, "error", f.Err)
		}
		run.Status = statusFor(f.Code)
		run.Error = &store.RunError{Code: f.Code, Message: f.Message}
	}
	x.addLocked("run."+run.Status, runSummary(run))
	snap := copyRun(run)
	x.mu.Unlock()
	withoutOutputEvent(snap)
	if err := r.db.PutRun(snap); err != nil {
		r.log.Error("could not record the run's end", "run_id", snap.ID, "error", err)
		x.mu.Lock()
		x.recordErr = err
		x.mu.Unlock()
	}
	x.closeFollowers()
}

func statusFor(code string) string {
	switch code {
	case fault.ActionTimeout:
		return store.StatusTimedOut
	case fault.Cancelled:
		return store.StatusCancelled
	case fault.Expired:
		return store.StatusExpired
	}
	return store.StatusFailed
}

// runSummary is the data of a state event (run.created, run.succeeded...)
// for the run as it is now: {"id","status","action_id","error"}, the last
// two omitted when empty, encoded as encoding/json would encode such a
// struct (written by hand: every run has two or three of these).
func runSummary(r *store.Run) json.RawMessage {
	b := make([]byte, 0, 96)
	b = store.AppendJSONString(append(b, `{"id":`...), r.ID)
	b = store.AppendJSONString(append(b, `,"status":`...), r.Status)
	if r.ActionID != "" {
		b = store.AppendJSONString(append(b, `,"action_id":`...), r.ActionID)
	}
	if e := r.Error; e != nil {
		b = store.AppendJSONString(append(b, `,"error":{"code":`...), e.Code)
		b = append(store.AppendJSONString(append(b, `,"message":`...), e.Message), '}')
	}
	return append(b, '}')
}

// Follow returns a run's events after seq and, while it is live, a channel
// of the ones to come (closed at the end). For a finished run the channel
// is closed at once. stop releases the follower.
func (r *Runner) Follow(id string, after int) (past []store.Event, live <-chan store.Event, stop func(), err error) {
	if x := r.lookup(id); x != nil {
		p, ch := x.follow(after)
		return p, ch, func() { x.unfollow(ch) }, nil
	}
	run, err := r.db.GetRun(id)
	if err != nil {
		return nil, nil, nil, err
	}
	for _, e := range run.Events {
		if e.Seq > after {
			past = append(past, withOutput(e, run))
		}
	}
	ch := make(chan store.Event)
	close(ch)
	return past, ch, func() {}, nil
}

// Shutdown refuses new runs and waits for the ones in flight until ctx ends;
// then it cancels what is left and waits for those to be recorded.
func (r *Runner) Shutdown(ctx context.Context) error {
	r.mu.Lock()
	r.closing = true
	r.mu.Unlock()
	r.queue.close()
	done := make(chan struct{})
	go func() { r.inflight.Wait(); close(done) }()
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
func withoutOutputEvent(r *store.Run) {
	for i := range r.Events {
		if r.Events[i].Type == "run.output" {
			r.Events[i].Data = nil
		}
	}
}

func withOutput(e store.Event, r *store.Run) store.Event {
	if e.Type == "run.output" && len(e.Data) == 0 {
		e.Data = r.Output
	}
	return e
}
