package mcp

import (
	"context"
	"sync"

	"github.com/toolhost/toolhost/host/domain"
)

// watch is the core.Watcher of one tools/call. The run's log and progress
// events become notifications, sent in order by a goroutine started at the
// first of them (a run that tells nothing costs no goroutine); the
// client's cancellation — the call's context ending (notifications/cancelled
// in a session, the stream closed on 2026-07-28), the HTTP request ending,
// or a notifications/cancelled naming the call (cancel.go) — cancels the
// run, watched without a goroutine (context.AfterFunc).
type watch struct {
	h   *Handler
	ctx context.Context
	r   *request
	n   *notifier

	once  sync.Once
	stops []func() bool

	mu      sync.Mutex
	queue   []domain.Event
	sending chan struct{} // set while a sender runs; closed when it stops
	ended   bool
}

func (h *Handler) newWatch(ctx context.Context, r *request, n *notifier) *watch {
	return &watch{h: h, ctx: ctx, r: r, n: n}
}

// Started listens for the client's cancellation of the run.
func (w *watch) Started(runID string) {
	w.mu.Lock()
	w.n.runID = runID
	w.mu.Unlock()
	cancel := func() {
		w.once.Do(func() {
			go func() {
				if _, err := w.h.runner.Cancel(context.Background(), runID); err != nil && domain.ErrorCode(err) != domain.CodeConflict {
					w.h.log.Warn("could not cancel the run the client cancelled", "run_id", runID, "error", err)
				}
			}()
		})
	}
	w.stops = append(w.stops, context.AfterFunc(w.ctx, cancel))
	if w.r.ctx != nil {
		w.stops = append(w.stops, context.AfterFunc(w.r.ctx, cancel))
	}
	if w.r.call != nil {
		w.r.call.onFire(cancel)
	}
}

// Event queues the events the client can be told of. It runs under the
// run's lock, so it only queues.
func (w *watch) Event(e domain.Event) {
	if e.Type != "run.log" && (e.Type != "run.progress" || w.n.token == nil) {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ended {
		return
	}
	w.queue = append(w.queue, e)
	if w.sending == nil {
		w.sending = make(chan struct{})
		go w.send(w.sending)
	}
}

func (w *watch) send(done chan struct{}) {
	defer close(done)
	for {
		w.mu.Lock()
		if len(w.queue) == 0 {
			w.sending = nil
			w.mu.Unlock()
			return
		}
		e := w.queue[0]
		w.queue = w.queue[1:]
		w.mu.Unlock()
		w.n.event(e)
	}
}

// end, once the run is over, stops listening for cancellation and waits
// for the queued notifications to be sent, so they come before the
// answer.
func (w *watch) end() {
	for _, stop := range w.stops {
		stop()
	}
	w.mu.Lock()
	w.ended = true
	sending := w.sending
	w.mu.Unlock()
	if sending != nil {
		<-sending
	}
}
