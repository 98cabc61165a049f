package store

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/toolhost/toolhost/host/domain"
	"go.etcd.io/bbolt"
)

// Prune deletes finished runs: the oldest ones while more than maxRuns runs
// are stored, and those created before now-maxAge. maxRuns ≤ 0 or
// maxAge ≤ 0 turns that limit off. Unfinished runs are never deleted (and
// count toward maxRuns). It works in transactions of at most txChunk
// deletions, keeping the indexes in step, so serving goes on meanwhile.
//
// Prune also drops idempotency records older than IdempotencyTTL and the
// messages of threads whose deletion was interrupted. deleted counts runs.
func (rs Runs) Prune(ctx context.Context, maxRuns int, maxAge time.Duration, now time.Time) (deleted int, err error) {
	if err := rs.db.journal.settle(); err != nil {
		return 0, err
	}
	for {
		n, err := rs.db.pruneChunk(maxRuns, maxAge, now)
		deleted += n
		if err != nil {
			return deleted, fmt.Errorf("pruning runs: %w", err)
		}
		if n < txChunk {
			break
		}
	}
	if _, err := rs.db.pruneIdempotency(now); err != nil {
		return deleted, err
	}
	if err := rs.db.sweepOrphanMessages(); err != nil {
		return deleted, err
	}
	return deleted, nil
}

// pruneChunk deletes up to txChunk runs in one transaction.
func (db *DB) pruneChunk(maxRuns int, maxAge time.Duration, now time.Time) (n int, err error) {
	var cutoff []byte // runs with smaller ids are too old
	if maxAge > 0 {
		cutoff = []byte(idFloor(RunPrefix, now.Add(-maxAge)))
	}
	err = db.update(func(tx *bbolt.Tx) error {
		n, err = pruneTx(tx, maxRuns, cutoff, txChunk)
		return err
	})
	return n, err
}

// LimitRuns makes every copy of the run journal into bbolt also delete, in
// the same transaction, the oldest finished runs beyond maxRuns, so that
// history stays near maxRuns however fast runs arrive. Prune's interval
// then matters only for age and idempotency records. maxRuns ≤ 0 turns
// it off (the default).
func (rs Runs) LimitRuns(maxRuns int) { rs.db.journal.maxRuns.Store(int64(max(maxRuns, 0))) }

// pruneTx deletes up to limit finished runs in tx, oldest first: those
// beyond maxRuns stored (maxRuns ≤ 0: no limit) and those whose ids sort
// before cutoff (nil: none). On an unreadable record it stops there and
// returns the error; the run count stays right for what it deleted.
func pruneTx(tx *bbolt.Tx, maxRuns int, cutoff []byte, limit int) (n int, err error) {
	excess := 0
	if maxRuns > 0 {
		excess = int(getUint64(tx.Bucket(bucketMeta), metaRunCount)) - maxRuns
	}
	if excess <= 0 && cutoff == nil {
		return 0, nil
	}
	var doomed []string
	finishedOldestFirst(tx, func(id []byte) bool {
		if excess <= len(doomed) && (cutoff == nil || bytes.Compare(id, cutoff) >= 0) {
			return false
		}
		doomed = append(doomed, string(id))
		return len(doomed) < limit
	})
	for _, id := range doomed {
		deleted, derr := deleteRunByID(tx, id)
		if derr != nil {
			err = derr
			break
		}
		if deleted {
			n++
		}
	}
	if cerr := addRunCount(tx, -n); cerr != nil {
		return n, cerr
	}
	return n, err
}

// deleteRunByID deletes one stored run and its index entries; deleted is
// false if there was no such run.
func deleteRunByID(tx *bbolt.Tx, id string) (deleted bool, err error) {
	v := tx.Bucket(bucketRuns).Get([]byte(id))
	if v == nil {
		return false, nil
	}
	r, err := decodeRunKeys(v)
	if err != nil {
		return false, fmt.Errorf("reading run %s: %w", id, err)
	}
	r.ID = id
	if err := deleteRun(tx, r); err != nil {
		return false, fmt.Errorf("deleting run %s: %w", id, err)
	}
	return true, nil
}

// finishedOldestFirst visits the ids of finished runs in id (creation)
// order by merging the status index ranges of the terminal statuses, until
// visit returns false. Ids point into the transaction's memory.
func finishedOldestFirst(tx *bbolt.Tx, visit func(id []byte) bool) {
	b := tx.Bucket(runIndexByName("status").bucket)
	type head struct {
		c  *idCursor
		id []byte
	}
	var heads []*head
	for _, s := range domain.TerminalStatuses() {
		c := newIDCursor(b, indexPrefix(s))
		if id, ok := c.seekGE(nil); ok {
			heads = append(heads, &head{c, id})
		}
	}
	for len(heads) > 0 {
		low := 0
		for i, h := range heads {
			if bytes.Compare(h.id, heads[low].id) < 0 {
				low = i
			}
		}
		h := heads[low]
		if !visit(h.id) {
			return
		}
		id, ok := h.c.next()
		if !ok {
			heads = append(heads[:low], heads[low+1:]...)
			continue
		}
		h.id = id
	}
}
