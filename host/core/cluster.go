package core

import (
	"context"

	"github.com/toolhost/toolhost/host/domain"
)

// Cluster is what the core needs to run as one of several replicas on one
// database (host/pgstore implements it). It is optional: without one
// (Options.Cluster nil) runs are queued, followed and cancelled in this
// process alone, as with one toolhost on a bbolt file.
//
// With one, a run is still run by the replica that started it (or, for a
// queued run, by the one whose worker claimed it), and that replica alone
// changes its record; the Cluster lets the others see it, follow it and ask
// for it to be cancelled, and lets a live replica fail the runs of a dead
// one.
type Cluster interface {
	RunOwners
	RunQueue
	RunSignals
}

// RunOwners records which replica runs what, so that when a replica dies
// another fails its runs as interrupted (never runs them again).
type RunOwners interface {
	// Own records that this replica runs runID. It is called before the
	// run's first unfinished record is stored.
	Own(ctx context.Context, runID string) error
	// Disown says the run's final record is stored. It must not block;
	// the implementation may forget owned runs later, in batches.
	Disown(runID string)
}

// RunQueue is the deployment's queue of non-blocking runs, which every
// replica's workers take from.
type RunQueue interface {
	// Enqueue queues a run whose queued record is stored (and owned by
	// this replica), with its input as the plugin is to get it: secrets
	// intact, which the implementation must not store in the clear. It
	// returns ErrQueueFull when the queue holds its limit.
	Enqueue(ctx context.Context, runID string, input []byte, limit int) error
	// Claim waits until it takes a queued run (queued by any replica),
	// which this replica then owns, or until ctx ends.
	Claim(ctx context.Context) (runID string, input []byte, err error)
	// Unqueue takes runID out of the queue if no replica has claimed it,
	// and reports whether it did.
	Unqueue(ctx context.Context, runID string) (bool, error)
}

// RunSignals carries what replicas tell each other about runs: the events
// of a run that another replica follows, and requests for the replica
// running a run. Delivery is at most once and may reorder; the core reads
// the run's record to fill what was lost.
type RunSignals interface {
	// Publish hands an event of a run this replica runs to the replicas
	// watching it. It must not block. An event too large to carry may be
	// left out; a follower reads it from the run's final record.
	Publish(runID string, ev domain.Event)
	// Ended tells the replicas watching runID that its final record is
	// stored. It must not block.
	Ended(runID string)
	// Watch returns what this replica hears of runID until stop is called.
	Watch(runID string) (notes <-chan domain.RunNote, stop func())
	// Ask sends a request to whichever replica runs the run it names.
	Ask(ctx context.Context, req domain.RunRequest) error
	// Requests is where the requests of other replicas (and this one's)
	// arrive; the Runner reads it from NewRunner until Shutdown.
	Requests() <-chan domain.RunRequest
}

// ErrQueueFull is what RunQueue.Enqueue returns when the queue is full.
var ErrQueueFull = domain.ErrQueueFull
