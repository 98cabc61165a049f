package core

import (
	"time"

	"github.com/toolhost/toolhost/host/domain"
)

// Observer hears of every run's end, for metrics. It is called once per run
// on the goroutine that ended it, after the end is recorded; keep it cheap
// (a counter and a histogram) and never block in it.
type Observer interface {
	// RunEnded reports a run's action ("plugin.action", or the run's kind
	// for a run of no action such as an assistant run), its final status
	// and how long it ran; started is false for a run that ended before it
	// started (cancelled in the queue), whose ran is zero.
	RunEnded(action, status string, ran time.Duration, started bool)
}

// SetObserver sets who hears of runs' ends (nil: nobody). Set it before the
// runner takes runs.
func (r *Runner) SetObserver(o Observer) { r.observer = o }

// InFlight is the number of runs admitted and not yet ended on this host
// (running, or waiting in the queue).
func (r *Runner) InFlight() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.active)
}

// QueueDepth is the number of non-blocking runs waiting for a worker, and
// the queue's capacity.
func (r *Runner) QueueDepth() (waiting, capacity int) {
	r.queue.mu.Lock()
	defer r.queue.mu.Unlock()
	return r.queue.reserved, cap(r.queue.ch)
}

// observe tells the observer of a run's end.
func (r *Runner) observe(run *domain.Run) {
	if r.observer == nil {
		return
	}
	action := run.ActionKey
	if action == "" {
		action = run.Kind
	}
	ran := time.Duration(run.DurationMS * float64(time.Millisecond))
	r.observer.RunEnded(action, run.Status, ran, run.StartedAt != nil)
}
