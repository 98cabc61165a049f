package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/toolhost/toolhost/host/domain"
	"go.etcd.io/bbolt"
)

// txChunk bounds the records one maintenance transaction touches, so that
// a long job never holds the writer for long.
const txChunk = 1000

// InterruptedError is the error recorded on runs that InterruptRuns fails.
var InterruptedError = domain.InterruptedError

// InterruptRuns fails every run left queued or running by a host that
// stopped: status failed, Error InterruptedError, FinishedAt now, and a
// run.failed event. Runs waiting in requires_action are failed too: what
// they waited on (the assistant loop) lived in the stopped process, so they
// can never continue. Call it at start, before serving.
func (rs Runs) InterruptRuns(ctx context.Context) (n int, err error) {
	if err := rs.db.journal.settle(); err != nil {
		return 0, err
	}
	now := time.Now().UTC()
	damaged := map[string]bool{} // records that do not decode: left as they are
	for _, status := range []string{StatusQueued, StatusRunning, StatusRequiresAction} {
		for {
			done, more, err := rs.db.interruptChunk(status, now, damaged)
			n += done
			if err != nil {
				return n, fmt.Errorf("interrupting %s runs: %w", status, err)
			}
			if !more {
				break
			}
		}
	}
	return n, nil
}

// interruptChunk fails up to txChunk runs in status in one transaction,
// skipping (and adding to damaged) the records that do not decode, which
// DamagedRuns reports. more says whether runs in status may remain.
func (db *DB) interruptChunk(status string, now time.Time, damaged map[string]bool) (n int, more bool, err error) {
	err = db.update(func(tx *bbolt.Tx) error {
		n = 0
		limit := txChunk + len(damaged)
		ids := indexIDs(tx.Bucket(runIndexByName("status").bucket), status, limit)
		more = len(ids) == limit
		for _, id := range ids {
			if damaged[id] {
				continue
			}
			r, err := getRun(tx, id)
			if err != nil && !errors.Is(err, ErrNotFound) {
				damaged[id] = true
				continue
			}
			if err != nil {
				return err
			}
			old := *r
			interrupt(r, now)
			enc, err := encodeRun(r)
			if err != nil {
				return fmt.Errorf("encoding run %s: %w", id, err)
			}
			if err := writeRun(tx, &old, r, enc); err != nil {
				return fmt.Errorf("writing run %s: %w", id, err)
			}
			n++
		}
		return nil
	})
	return n, more, err
}

func interrupt(r *Run, now time.Time) { r.Interrupt(now) }

// indexIDs returns up to limit ids (copied) stored in an index under value.
func indexIDs(b *bbolt.Bucket, value string, limit int) []string {
	prefix := indexPrefix(value)
	var ids []string
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(ids) < limit; k, _ = c.Next() {
		ids = append(ids, string(k[len(prefix):]))
	}
	return ids
}

func runIndexByName(name string) runIndex {
	for _, ix := range runIndexes {
		if ix.name == name {
			return ix
		}
	}
	panic("store: no run index " + name)
}
