package store

import (
	"bytes"
	"context"
	"fmt"

	"github.com/toolhost/toolhost/host/domain"
	"go.etcd.io/bbolt"
)

// bucketQuarantine holds run records that no longer decode (flipped bytes,
// a bad sector), moved there by QuarantineDamagedRuns under their id, as
// they were, so that nothing is thrown away.
var bucketQuarantine = []byte("runs_quarantine")

// RunPage is one page of runs, as ListRunsPage returns it.
type RunPage = domain.RunPage

// ListRunsPage is ListRuns that also names the damaged records it skipped.
func (rs Runs) ListRunsPage(ctx context.Context, f RunFilter, p Page) (RunPage, error) {
	runs, more, damaged, err := rs.listRuns(f, p)
	return RunPage{Runs: runs, HasMore: more, Damaged: damaged}, err
}

// DamagedRun is a run record that does not decode.
type DamagedRun struct {
	ID     string
	Reason string
}

// DamagedRuns reads every run record and returns those that do not decode
// (as GetRun and ListRuns would find them). It reads txChunk records per
// transaction, so that writers are not held up by a long read.
func (db *DB) DamagedRuns() ([]DamagedRun, error) {
	if err := db.journal.settle(); err != nil {
		return nil, err
	}
	var out []DamagedRun
	var from []byte
	for {
		var next []byte
		err := db.view(func(tx *bbolt.Tx) error {
			c := tx.Bucket(bucketRuns).Cursor()
			n := 0
			for k, v := c.Seek(from); k != nil; k, v = c.Next() {
				if n == txChunk {
					next = bytes.Clone(k)
					return nil
				}
				n++
				if reason := runDamage(k, v); reason != "" {
					out = append(out, DamagedRun{ID: string(k), Reason: reason})
				}
			}
			return nil
		})
		if err != nil {
			return out, fmt.Errorf("reading run records: %w", err)
		}
		if next == nil {
			db.damagedRuns.Store(int64(len(out)) + 1)
			return out, nil
		}
		from = next
	}
}

// runDamage says why the record v stored under k is damaged, or "".
func runDamage(k, v []byte) string {
	r, err := decodeRun(string(k), v)
	if err != nil {
		return err.Error()
	}
	if r.ID != string(k) {
		return fmt.Sprintf("stored under %s but has id %q", k, r.ID)
	}
	return ""
}

// QuarantineDamagedRuns moves every damaged run record (see DamagedRuns)
// into the quarantine bucket, unchanged, and removes the index entries
// that point to it, so that the file passes Check again. It returns the
// ids moved. Run it with the server stopped (toolhost db repair).
func (db *DB) QuarantineDamagedRuns() ([]DamagedRun, error) {
	bad, err := db.DamagedRuns()
	if err != nil || len(bad) == 0 {
		return nil, err
	}
	err = db.update(func(tx *bbolt.Tx) error {
		q, err := tx.CreateBucketIfNotExists(bucketQuarantine)
		if err != nil {
			return fmt.Errorf("creating bucket %s: %w", bucketQuarantine, err)
		}
		runs := tx.Bucket(bucketRuns)
		ids := make(map[string]bool, len(bad))
		for _, d := range bad {
			v := runs.Get([]byte(d.ID))
			if v == nil {
				continue
			}
			if err := q.Put([]byte(d.ID), bytes.Clone(v)); err != nil {
				return fmt.Errorf("quarantining run %s: %w", d.ID, err)
			}
			if err := runs.Delete([]byte(d.ID)); err != nil {
				return fmt.Errorf("quarantining run %s: %w", d.ID, err)
			}
			ids[d.ID] = true
		}
		// The record's fields cannot be read, so every index is searched
		// for entries under its id.
		for _, ix := range runIndexes {
			if err := dropIndexEntries(tx.Bucket(ix.bucket), ids); err != nil {
				return fmt.Errorf("updating %s index: %w", ix.name, err)
			}
		}
		return addRunCount(tx, -len(ids))
	})
	if err != nil {
		return nil, fmt.Errorf("quarantining damaged runs: %w", err)
	}
	db.damagedRuns.Store(1)
	return bad, nil
}

// Damage is what the store knows to be damaged, for /health.
type Damage struct {
	// Journal is what Open's replay of the run journal could not read.
	Journal JournalDamage
	// Runs is how many run records do not decode, as DamagedRuns last
	// found; -1 before it has run.
	Runs int
	// File says what Open found damaged in the file but could read
	// around (one meta page); "" when nothing.
	File string
}

// Damage returns what Open and the last DamagedRuns found damaged.
func (db *DB) Damage() Damage {
	return Damage{Journal: db.journalDamage, Runs: int(db.damagedRuns.Load()) - 1, File: db.fileWarning}
}

// Damage is what the store found damaged, as the domain shows it.
func (rs Runs) Damage() domain.StorageDamage {
	d := rs.db.Damage()
	return domain.StorageDamage{Runs: d.Runs, JournalLost: d.Journal.Lost, JournalFirstSeq: d.Journal.FirstSeq,
		JournalLastSeq: d.Journal.LastSeq, File: d.File}
}

// QuarantinedRuns returns how many run records the quarantine bucket holds.
func (db *DB) QuarantinedRuns() (int, error) {
	n := 0
	err := db.view(func(tx *bbolt.Tx) error {
		if q := tx.Bucket(bucketQuarantine); q != nil {
			n = q.Stats().KeyN
		}
		return nil
	})
	return n, err
}

// dropIndexEntries deletes the entries of b whose id is in ids.
func dropIndexEntries(b *bbolt.Bucket, ids map[string]bool) error {
	var drop [][]byte
	err := b.ForEach(func(k, _ []byte) error {
		if _, id, ok := splitIndexKey(k); ok && ids[id] {
			drop = append(drop, bytes.Clone(k))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range drop {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
