package store

import (
	"fmt"
	"math"
	"time"

	"go.etcd.io/bbolt"
)

// trimLimit bounds the runs one apply deletes for DB.LimitRuns (a lowered
// limit leaves a large excess, which Prune removes in chunks).
const trimLimit = txChunk

// wake tells the applier that records are waiting. Called with mu held.
func (j *journal) wake() {
	select {
	case j.kick <- struct{}{}:
	default:
	}
	if len(j.queue) >= j.cfg.applyBatch {
		select {
		case j.full <- struct{}{}:
		default:
		}
	}
}

// applier copies durable records into bbolt a while after they arrive.
func (j *journal) applier() {
	defer close(j.stopped)
	for {
		select {
		case <-j.stop:
			return
		case <-j.kick:
		}
		select {
		case <-j.stop:
			return
		case <-j.full:
		case <-time.After(j.cfg.applyDelay):
		}
		// A failure leaves the records queued and durable in the file:
		// the next apply retries them, and settle reports it.
		_ = j.apply()
	}
}

// apply copies every durable record not yet in bbolt into it, in one
// transaction, and records how far it got in the same transaction.
func (j *journal) apply() error { return j.applyThrough(math.MaxUint64) }

// applyThrough applies the durable records up to seq.
func (j *journal) applyThrough(seq uint64) error {
	j.applyMu.Lock()
	defer j.applyMu.Unlock()
	j.mu.Lock()
	n := 0
	for n < len(j.queue) && j.queue[n].seq <= min(j.durable, seq) {
		n++
	}
	batch := j.queue[:n:n]
	j.mu.Unlock()
	if n == 0 {
		return nil
	}
	err := j.db.update(func(tx *bbolt.Tx) error {
		if err := applyEntries(tx, batch); err != nil {
			return err
		}
		j.trim(tx)
		return nil
	})
	if err != nil {
		return fmt.Errorf("copying the run journal into the database: %w", err)
	}
	j.mu.Lock()
	j.applied = batch[n-1].seq
	for _, e := range batch {
		if j.latest[e.run.ID] == e {
			delete(j.latest, e.run.ID)
		}
	}
	// Clear the applied entries (batch shares them) before slicing them
	// off: the backing array outlives the slice, and its old slots would
	// keep every applied record's encoding alive until it is reallocated.
	clear(j.queue[:n])
	j.queue = j.queue[n:]
	j.mu.Unlock()
	return nil
}

// applyEntries writes entries, one record (one PutRuns call) at a time,
// and notes the last record's seq as applied. A record the state machine
// refuses was checked when it was journaled, so that cannot happen unless
// the file was changed by hand; it is skipped rather than stopping every
// later record.
func applyEntries(tx *bbolt.Tx, entries []*jentry) error {
	last := entries[len(entries)-1].seq
	for len(entries) > 0 {
		n := 1
		for n < len(entries) && entries[n].seq == entries[0].seq {
			n++
		}
		runs, enc := make([]*Run, n), make([][]byte, n)
		for i, e := range entries[:n] {
			runs[i], enc[i] = e.run, e.enc
		}
		if err := putRunsTx(tx, runs, enc); err != nil && !isRejected(err) {
			return err
		}
		entries = entries[n:]
	}
	return putUint64(tx.Bucket(bucketMeta), metaJournalApplied, last)
}

// trim deletes the oldest finished runs beyond DB.LimitRuns's limit, at
// most trimLimit of them, in the apply's transaction. A run it cannot read
// stops it without failing the apply: Prune meets the same run and
// reports it.
func (j *journal) trim(tx *bbolt.Tx) {
	if limit := j.maxRuns.Load(); limit > 0 {
		_, _ = pruneTx(tx, int(limit), nil, trimLimit)
	}
}

// settle applies every durable record, so that bbolt holds every run that
// was acknowledged. Reads that scan bbolt call it first.
func (j *journal) settle() error { return j.apply() }

// overlay replaces each run with its latest journaled state, if it has one
// that is not in bbolt yet.
func (j *journal) overlay(runs []*Run) {
	for i, r := range runs {
		if enc, ok := j.get(r.ID); ok {
			if latest, err := decodeRun(r.ID, enc); err == nil {
				runs[i] = latest
			}
		}
	}
}
