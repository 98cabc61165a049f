package core

import "sync"

// queue holds non-blocking runs for a fixed pool of workers. Its capacity
// is reserved before a run is recorded, so a full queue answers at once.
type queue struct {
	ch       chan *active
	mu       sync.Mutex
	reserved int
	closed   bool
}

func newQueue(r *Runner, size, workers int) *queue {
	q := &queue{ch: make(chan *active, size)}
	for i := 0; i < workers; i++ {
		go func() {
			for x := range q.ch {
				q.unreserve()
				r.execute(x)
			}
		}()
	}
	return q
}

func (q *queue) size() int { return cap(q.ch) }

func (q *queue) reserve() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed || q.reserved >= cap(q.ch) {
		return false
	}
	q.reserved++
	return true
}

func (q *queue) unreserve() {
	q.mu.Lock()
	q.reserved--
	q.mu.Unlock()
}

// push hands a reserved run to the workers. It reports false when the
// queue closed after the reservation; the caller then runs it itself.
// The send never blocks: the run's slot was reserved.
func (q *queue) push(x *active) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return false
	}
	q.ch <- x
	return true
}

// close stops taking runs; queued ones still run.
func (q *queue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.closed {
		q.closed = true
		close(q.ch)
	}
}
