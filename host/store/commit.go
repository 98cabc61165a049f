package store

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"go.etcd.io/bbolt"
)

// defaultMaxBatch caps the number of calls that share one transaction.
const defaultMaxBatch = 1000

// committer is a group commit in front of bbolt's single writer. Callers
// hand it a function; one goroutine runs every function waiting at that
// moment in a single transaction and fsyncs once for all of them.
//
// It differs from bbolt's DB.Batch in one way that matters for latency:
// DB.Batch holds each batch open for MaxBatchDelay (10 ms by default) so
// that company can arrive, which is ten fsyncs' worth of latency for a lone
// caller. Here a batch is cut as soon as the writer is free: a lone caller
// commits at once, and the calls that arrive during a commit's fsync form
// the next batch. The batch size adapts to the load by itself.
//
// Like DB.Batch, a function that fails makes the transaction roll back; it
// is then run alone and the others are retried without it, so a function
// may run more than once. A function that fails before writing anything can
// say so by wrapping its error with reject: the group then goes on without
// a retry.
type committer struct {
	bolt     *bbolt.DB
	maxBatch int
	observer Observer

	mu     sync.RWMutex // guards closed against sends on calls
	closed bool
	calls  chan *call
	done   chan struct{}
}

type call struct {
	fn  func(*bbolt.Tx) error
	err chan error
}

func newCommitter(b *bbolt.DB, maxBatch int) *committer {
	if maxBatch <= 0 {
		maxBatch = defaultMaxBatch
	}
	c := &committer{
		bolt:     b,
		maxBatch: maxBatch,
		calls:    make(chan *call, maxBatch),
		done:     make(chan struct{}),
	}
	go c.loop()
	return c
}

// do runs fn in the next group commit and returns once it is durable.
func (c *committer) do(fn func(*bbolt.Tx) error) error {
	cl := &call{fn: fn, err: make(chan error, 1)}
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return ErrClosed
	}
	c.calls <- cl
	c.mu.RUnlock()
	return unreject(<-cl.err)
}

// close stops accepting calls, finishes the pending ones and returns.
func (c *committer) close() {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.calls)
	}
	c.mu.Unlock()
	<-c.done
}

func (c *committer) loop() {
	defer close(c.done)
	group := make([]*call, 0, c.maxBatch)
	for first := range c.calls {
		group = append(group[:0], first)
	gather:
		for len(group) < c.maxBatch {
			select {
			case cl, ok := <-c.calls:
				if !ok {
					break gather
				}
				group = append(group, cl)
			default:
				break gather
			}
		}
		c.run(group)
	}
}

// run commits group, retrying without the calls that fail.
func (c *committer) run(group []*call) {
	results := make([]error, len(group))
	for len(group) > 0 {
		failed := -1
		start := time.Now()
		err := c.bolt.Update(func(tx *bbolt.Tx) error {
			for i, cl := range group {
				results[i] = safeCall(cl.fn, tx)
				if results[i] != nil && !isRejected(results[i]) {
					failed = i
					return results[i]
				}
			}
			return nil
		})
		if c.observer != nil {
			c.observer.Committed(time.Since(start), len(group))
		}
		if failed >= 0 {
			solo := group[failed]
			solo.err <- c.bolt.Update(func(tx *bbolt.Tx) error { return safeCall(solo.fn, tx) })
			group = append(group[:failed], group[failed+1:]...)
			results = results[:len(group)]
			continue
		}
		for i, cl := range group {
			if results[i] != nil {
				cl.err <- results[i] // rejected: wrote nothing, unaffected by err
			} else {
				cl.err <- err
			}
		}
		return
	}
}

// safeCall runs fn, turning a panic into an error.
func safeCall(fn func(*bbolt.Tx) error, tx *bbolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in store write: %v", p)
		}
	}()
	return fn(tx)
}

// rejected marks an error returned before the function wrote anything.
type rejected struct{ err error }

func (r rejected) Error() string { return r.err.Error() }
func (r rejected) Unwrap() error { return r.err }

// reject marks err as a failure that left the transaction untouched.
func reject(err error) error {
	if err == nil {
		return nil
	}
	return rejected{err}
}

func isRejected(err error) bool {
	var r rejected
	return errors.As(err, &r)
}

// unreject strips the rejected mark from err.
func unreject(err error) error {
	if r, ok := err.(rejected); ok {
		return r.err
	}
	return err
}
