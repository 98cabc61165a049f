package core

import (
	"context"
	"encoding/json"
	"go.opentelemetry.io/otel/trace"
	"sync"
	"time"

	"github.com/toolhost/toolhost/host/domain"
)

// maxStoredEvents caps the events kept per run; later log and progress
// events are counted in EventsDropped instead.
const maxStoredEvents = 1000

// active is a run in progress: its record, its events so far, and the
// followers waiting for more.
type active struct {
	r      *Runner
	action *Action                                                     // nil for jobs
	input  []byte                                                      // as sent to the plugin (secrets intact; never stored)
	job    func(context.Context, *JobControl) (json.RawMessage, error) // nil for actions
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	span   trace.Span // the run's span; nil without a tracer
	watch  Watcher    // the blocking caller's, told of each event; or nil
	// persisted is set once a record of the run is stored, so every later
	// state is stored too (queued runs are recorded before they start).
	persisted bool
	recordErr error // the final record could not be stored (under mu)
	owned     bool  // the cluster knows this replica runs it (under mu)
	remote    bool  // another replica follows it: publish its events (under mu)

	mu         sync.Mutex
	run        *domain.Run
	followers  map[chan domain.Event]struct{}
	eventBytes int   // log and progress event data stored (see overRunCap)
	capState   uint8 // capOpen, capMarking or capReached
}

func (r *Runner) newActive(a *Action, run *domain.Run, input []byte) *active {
	ctx, cancel := context.WithCancel(context.Background())
	return &active{r: r, action: a, input: input, ctx: ctx, cancel: cancel, done: make(chan struct{}),
		run: run, followers: map[chan domain.Event]struct{}{}}
}

// addEvent appends an event to the run and hands it to followers. Log and
// progress events past the cap are dropped (and counted).
func (x *active) addEvent(typ string, data any) {
	raw, _ := json.Marshal(data)
	x.addRawEvent(typ, raw)
}

// addRawEvent is addEvent for data already encoded.
func (x *active) addRawEvent(typ string, raw json.RawMessage) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.addLocked(typ, raw)
}

func (x *active) addLocked(typ string, raw json.RawMessage) {
	r := x.run
	if (typ == "run.log" || typ == "run.progress") && (len(r.Events) >= maxStoredEvents || x.overRunCap(raw)) {
		r.EventsDropped++
		return
	}
	ev := domain.Event{Seq: len(r.Events) + 1, Type: typ, Data: raw, At: time.Now().UTC()}
	r.Events = append(r.Events, ev)
	if x.remote {
		x.r.cluster.Publish(r.ID, ev)
	}
	if x.watch != nil {
		x.watch.Event(ev)
	}
	for ch := range x.followers {
		select {
		case ch <- ev:
		default: // a follower that cannot keep up is cut off; it can resume
			delete(x.followers, ch)
			close(ch)
		}
	}
}

// markRunning moves the run to running and adds its run.running event;
// it reports false, changing nothing, when the run has already ended.
func (x *active) markRunning() bool {
	now := time.Now().UTC()
	x.mu.Lock()
	defer x.mu.Unlock()
	if domain.IsTerminal(x.run.Status) {
		return false
	}
	x.run.Status, x.run.StartedAt = domain.StatusRunning, &now
	x.addLocked("run.running", startedData(now))
	return true
}

// startedData is the data of the run.running event, {"started_at":t},
// encoded as encoding/json would (by hand: every run has one).
func startedData(t time.Time) json.RawMessage {
	b, err := t.AppendText([]byte(`{"started_at":"`))
	if err != nil {
		return nil // a year outside 0-9999, which encoding/json refuses too
	}
	return append(b, `"}`...)
}

func (x *active) recordError() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.recordErr
}

// snapshot returns a copy of the run record.
func (x *active) snapshot() *domain.Run {
	x.mu.Lock()
	defer x.mu.Unlock()
	return copyRun(x.run)
}

func copyRun(r *domain.Run) *domain.Run {
	c := *r
	c.Events = append([]domain.Event(nil), r.Events...)
	return &c
}

// follow returns the events after seq so far and a channel of the ones to
// come, closed when the run ends (or the follower falls behind).
func (x *active) follow(after int) ([]domain.Event, chan domain.Event) {
	x.mu.Lock()
	defer x.mu.Unlock()
	var past []domain.Event
	for _, e := range x.run.Events {
		if e.Seq > after {
			past = append(past, e)
		}
	}
	ch := make(chan domain.Event, 256)
	if domain.IsTerminal(x.run.Status) {
		close(ch)
		return past, ch
	}
	x.followers[ch] = struct{}{}
	return past, ch
}

func (x *active) unfollow(ch chan domain.Event) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if _, ok := x.followers[ch]; ok {
		delete(x.followers, ch)
		close(ch)
	}
}

// closeFollowers ends every follower's channel; called once the run is final.
func (x *active) closeFollowers() {
	x.mu.Lock()
	defer x.mu.Unlock()
	for ch := range x.followers {
		close(ch)
	}
	x.followers = map[chan domain.Event]struct{}{}
}
