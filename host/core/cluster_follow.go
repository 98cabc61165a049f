package core

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/toolhost/toolhost/host/domain"
)

// remotePoll is how often a replica following (or waiting for, or
// cancelling) a run that another replica runs reads the run's record, to
// fill what the cluster's signals lost and to see the end of a run whose
// replica died. Each Runner takes it when made; tests shorten it.
var remotePoll = 500 * time.Millisecond

// followRemote is Follow for a run that another replica runs: the stored
// events after seq, then the events that replica publishes once asked,
// put in order and checked against the stored record until the run ends.
func (r *Runner) followRemote(ctx context.Context, id string, after int) ([]domain.Event, <-chan domain.Event, func(), error) {
	notes, unwatch := r.cluster.Watch(id) // before reading, so nothing falls between
	run, err := r.runs.GetRun(ctx, id)
	if err != nil {
		unwatch()
		return nil, nil, nil, err
	}
	var past []domain.Event
	for _, e := range run.Events {
		if e.Seq > after {
			past = append(past, withOutput(e, run))
		}
	}
	ch := make(chan domain.Event, 256)
	if domain.IsTerminal(run.Status) {
		unwatch()
		close(ch)
		return past, ch, func() {}, nil
	}
	f := &remoteFollower{r: r, id: id, last: after, out: ch, done: make(chan struct{}), pending: map[int]domain.Event{}}
	if n := len(past); n > 0 {
		f.last = max(after, past[n-1].Seq)
	}
	r.askEvents(id, f.last)
	go func() {
		defer unwatch()
		defer close(ch)
		f.relay(notes)
	}()
	var once sync.Once
	return past, ch, func() { once.Do(func() { close(f.done) }) }, nil
}

// askEvents asks the replica running id to publish its events after seq.
func (r *Runner) askEvents(id string, after int) {
	ctx, cancel := context.WithTimeout(context.Background(), r.poll)
	defer cancel()
	if err := r.cluster.Ask(ctx, domain.RunRequest{Kind: domain.AskEvents, RunID: id, After: after}); err != nil {
		r.log.Warn("could not ask for a run's events", "run_id", id, "error", err)
	}
}

// remoteFollower hands on a remote run's events in order, without gaps
// or repeats, until the run ends or done is closed.
type remoteFollower struct {
	r       *Runner
	id      string
	last    int // the last seq handed on
	out     chan<- domain.Event
	done    chan struct{}
	pending map[int]domain.Event // heard ahead of a gap
}

func (f *remoteFollower) relay(notes <-chan domain.RunNote) {
	tick := time.NewTicker(f.r.poll)
	defer tick.Stop()
	heard := false
	for {
		select {
		case <-f.done:
			return
		case n := <-notes:
			heard = true
			if n.Ended {
				f.catchUp()
				return
			}
			if n.Event != nil && f.hear(*n.Event) {
				return
			}
		case <-tick.C:
			if f.catchUp() {
				return
			}
			if !heard { // not asked yet where it runs (it may have been claimed since), or the ask was lost
				f.r.askEvents(f.id, f.last)
			}
			heard = false
		}
	}
}

// hear takes a published event; it reports whether the run ended.
func (f *remoteFollower) hear(e domain.Event) bool {
	if e.Seq <= f.last {
		return false
	}
	f.pending[e.Seq] = e
	return f.drain()
}

// drain hands on the pending events that follow the last one; it reports
// whether the run ended (or the follower left).
func (f *remoteFollower) drain() bool {
	for {
		next, ok := f.pending[f.last+1]
		if !ok {
			return false
		}
		delete(f.pending, next.Seq)
		if !f.send(next) || endsRun(next) {
			return true
		}
	}
}

// catchUp hands on what the stored record has beyond the last event; it
// reports whether the run ended (or the follower left).
func (f *remoteFollower) catchUp() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*f.r.poll)
	defer cancel()
	run, err := f.r.runs.GetRun(ctx, f.id)
	if err != nil {
		f.r.log.Warn("could not read a followed run", "run_id", f.id, "error", err)
		return false
	}
	for _, e := range run.Events {
		if e.Seq == f.last+1 {
			delete(f.pending, e.Seq)
			if !f.send(withOutput(e, run)) {
				return true
			}
		}
	}
	return domain.IsTerminal(run.Status) || f.drain()
}

func (f *remoteFollower) send(e domain.Event) bool {
	select {
	case f.out <- e:
		f.last = e.Seq
		return true
	case <-f.done:
		return false
	}
}

// endsRun reports whether e is a run's final state event.
func endsRun(e domain.Event) bool {
	s, ok := strings.CutPrefix(e.Type, "run.")
	return ok && domain.IsTerminal(s)
}

// waitRemote is Wait for a run that another replica runs.
func (r *Runner) waitRemote(ctx context.Context, id string) (*domain.Run, error) {
	_, live, stop, err := r.followRemote(ctx, id, 1<<30)
	if err != nil {
		return nil, err
	}
	defer stop()
	for {
		select {
		case _, open := <-live:
			if !open {
				return r.runs.GetRun(ctx, id)
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// serveRequests answers other replicas' requests about the runs this one
// runs, until ctx ends.
func (r *Runner) serveRequests(ctx context.Context) {
	reqs := r.cluster.Requests()
	for {
		select {
		case <-ctx.Done():
			return
		case req, open := <-reqs:
			if !open {
				return
			}
			x := r.lookup(req.RunID)
			if x == nil {
				continue // not ours (or already ended)
			}
			switch req.Kind {
			case domain.AskCancel:
				x.cancel()
				go r.endUnstarted(x)
			case domain.AskEvents:
				x.publishAfter(req.After)
			}
		}
	}
}

// publishAfter publishes the run's events so far after seq and, from now
// on, each event as it is added.
func (x *active) publishAfter(seq int) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.remote = true
	for _, e := range x.run.Events {
		if e.Seq > seq {
			x.r.cluster.Publish(x.run.ID, e)
		}
	}
}
