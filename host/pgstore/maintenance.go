package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/toolhost/toolhost/host/domain"
	"github.com/toolhost/toolhost/host/store"
)

// chunk bounds the rows one maintenance statement touches, so that a
// long job never holds many locks for long.
const chunk = 1000

// unfinished are the statuses InterruptRuns fails.
var unfinished = []string{domain.StatusQueued, domain.StatusRunning, domain.StatusRequiresAction}

// InterruptRuns fails every run left queued, running or requires_action:
// status failed, Error InterruptedError, FinishedAt now, and a run.failed
// event, as host/store does at start. Runs whose records do not decode
// are left as they are. With one toolhost on the database, call it at
// start, before serving; with several, only for runs no live replica
// holds.
func (rs Runs) InterruptRuns(ctx context.Context) (n int, err error) {
	now := time.Now().UTC()
	after := ""
	for {
		done, last, more, err := rs.interruptChunk(ctx, now, after)
		n += done
		if err != nil {
			return n, fmt.Errorf("interrupting runs: %w", err)
		}
		if !more {
			return n, nil
		}
		after = last
	}
}

// interruptChunk fails up to chunk unfinished runs with ids after after,
// in one transaction; last is the largest id it read.
func (rs Runs) interruptChunk(ctx context.Context, now time.Time, after string) (n int, last string, more bool, err error) {
	err = rs.db.inTx(ctx, func(tx pgx.Tx) error {
		n = 0
		rows, err := tx.Query(ctx, `SELECT id, record FROM runs WHERE status = ANY($1) AND id > $2
ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED`, unfinished, after, chunk)
		if err != nil {
			return err
		}
		var runs []*domain.Run
		read := 0
		for rows.Next() {
			read++
			var v []byte
			if err := rows.Scan(&last, &v); err != nil {
				return err
			}
			if r, err := store.DecodeRun(last, v); err == nil {
				runs = append(runs, r)
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		more = read == chunk
		var b pgx.Batch
		for _, r := range runs {
			store.Interrupt(r, now)
			enc, err := store.EncodeRun(r)
			if err != nil {
				return fmt.Errorf("encoding run %s: %w", r.ID, err)
			}
			b.Queue("UPDATE runs SET status = $2, record = $3 WHERE id = $1", r.ID, r.Status, enc)
		}
		n = len(runs)
		return tx.SendBatch(ctx, &b).Close()
	})
	return n, last, more, err
}

// Prune deletes finished runs: the oldest ones while more than maxRuns
// runs are stored, and those created before now-maxAge. maxRuns ≤ 0 or
// maxAge ≤ 0 turns that limit off. Unfinished runs are never deleted
// (and count toward maxRuns). It deletes at most chunk runs per
// statement. It also drops idempotency records older than
// store.IdempotencyTTL. deleted counts runs.
func (rs Runs) Prune(ctx context.Context, maxRuns int, maxAge time.Duration, now time.Time) (deleted int, err error) {
	terminal := domain.TerminalStatuses()
	if maxAge > 0 {
		cutoff := now.Add(-maxAge)
		n, err := rs.deleteChunks(ctx, `DELETE FROM runs WHERE id IN (SELECT id FROM runs
WHERE status = ANY($1) AND created_at < $2 ORDER BY id LIMIT $3)`, terminal, cutoff)
		deleted += n
		if err != nil {
			return deleted, fmt.Errorf("pruning runs: %w", err)
		}
	}
	if maxRuns > 0 {
		for {
			var total int64
			if err := rs.db.pool.QueryRow(ctx, "SELECT count(*) FROM runs").Scan(&total); err != nil {
				return deleted, rs.db.fail("pruning runs", err)
			}
			excess := min(int(total)-maxRuns, chunk)
			if excess <= 0 {
				break
			}
			tag, err := rs.db.pool.Exec(ctx, `DELETE FROM runs WHERE id IN (SELECT id FROM runs
WHERE status = ANY($1) ORDER BY id LIMIT $2)`, terminal, excess)
			if err != nil {
				return deleted, rs.db.fail("pruning runs", err)
			}
			deleted += int(tag.RowsAffected())
			if tag.RowsAffected() < int64(excess) {
				break // the rest are unfinished
			}
		}
	}
	if _, err := rs.deleteChunks(ctx, `DELETE FROM idempotency WHERE key IN (SELECT key FROM idempotency
WHERE created_at < $1 LIMIT $2)`, now.Add(-store.IdempotencyTTL)); err != nil {
		return deleted, fmt.Errorf("pruning idempotency records: %w", err)
	}
	return deleted, nil
}

// deleteChunks runs a chunked DELETE (args, then the chunk size as the
// last parameter) until it deletes less than a chunk.
func (rs Runs) deleteChunks(ctx context.Context, sql string, args ...any) (deleted int, err error) {
	args = append(args, chunk)
	for {
		tag, err := rs.db.pool.Exec(ctx, sql, args...)
		if err != nil {
			return deleted, rs.db.fail("", err)
		}
		deleted += int(tag.RowsAffected())
		if tag.RowsAffected() < chunk {
			return deleted, nil
		}
	}
}

// Stats are the database's record counts and size.
type Stats struct {
	Size        int64 // bytes, pg_database_size
	Runs        int
	Threads     int
	Messages    int
	Plugins     int
	Keys        int
	Manifests   int
	Idempotency int
}

// Stats counts the records.
func (db *DB) Stats(ctx context.Context) (Stats, error) {
	var s Stats
	err := db.pool.QueryRow(ctx, `SELECT pg_database_size(current_database()),
(SELECT count(*) FROM runs), (SELECT count(*) FROM threads), (SELECT count(*) FROM messages),
(SELECT count(*) FROM plugins), (SELECT count(*) FROM api_keys), (SELECT count(*) FROM manifests),
(SELECT count(*) FROM idempotency)`).Scan(&s.Size, &s.Runs, &s.Threads, &s.Messages, &s.Plugins, &s.Keys, &s.Manifests, &s.Idempotency)
	if err != nil {
		return s, db.fail("counting records", err)
	}
	return s, nil
}

// maxCheckErrors bounds the problems Check reports.
const maxCheckErrors = 100

// Check reads every run, thread, key and plugin record and verifies that
// it decodes and agrees with its columns (id, status and the filtered
// fields of runs, key names and digests), and that sealed secrets open
// with the secret key (when the store was opened with one). It returns nil or an error wrapping ErrCorrupt
// that names each problem.
func (db *DB) Check(ctx context.Context) error {
	var problems []error
	report := func(format string, args ...any) bool {
		problems = append(problems, fmt.Errorf(format, args...))
		return len(problems) < maxCheckErrors
	}
	for _, c := range []func(context.Context, func(string, ...any) bool) error{db.checkRuns, db.checkKeys, db.checkPlugins} {
		if err := c(ctx, report); err != nil {
			return db.fail("checking database", err)
		}
	}
	if len(problems) > 0 {
		return &wrapped{Msg: fmt.Sprintf("%s: %v", ErrCorrupt, errors.Join(problems...)), Err: ErrCorrupt}
	}
	return nil
}

func (db *DB) checkRuns(ctx context.Context, report func(string, ...any) bool) error {
	rows, err := db.pool.Query(ctx, "SELECT id, status, action_id, plugin_id, thread_id, key_id, record FROM runs ORDER BY id")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var col domain.Run
		var v []byte
		if err := rows.Scan(&col.ID, &col.Status, &col.ActionID, &col.PluginID, &col.ThreadID, &col.KeyID, &v); err != nil {
			return err
		}
		r, err := store.DecodeRun(col.ID, v)
		switch {
		case err != nil:
			if !report("%v", err) {
				return nil
			}
		case r.ID != col.ID || r.Status != col.Status || r.ActionID != col.ActionID || r.PluginID != col.PluginID ||
			r.ThreadID != col.ThreadID || r.KeyID != col.KeyID:
			if !report("run %s: the record (id %s, status %s) disagrees with its columns (status %s)", col.ID, r.ID, r.Status, col.Status) {
				return nil
			}
		}
	}
	return rows.Err()
}

func (db *DB) checkKeys(ctx context.Context, report func(string, ...any) bool) error {
	rows, err := db.pool.Query(ctx, "SELECT name, digest, record FROM api_keys")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var digest, v []byte
		if err := rows.Scan(&name, &digest, &v); err != nil {
			return err
		}
		k, err := decodeKey(name, v)
		if err != nil {
			report("%v", err)
		} else if k.Name != name || string(k.Digest) != string(digest) {
			report("key %q: the record disagrees with its columns", name)
		}
	}
	return rows.Err()
}

func (db *DB) checkPlugins(ctx context.Context, report func(string, ...any) bool) error {
	rows, err := db.pool.Query(ctx, "SELECT name, record FROM plugins")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var v []byte
		if err := rows.Scan(&name, &v); err != nil {
			return err
		}
		p, err := db.sealer.DecodePlugin(v)
		if errors.Is(err, ErrSecretKey) && !db.hasKey {
			var named struct{ Name string }
			err = json.Unmarshal(v, &named) // without the key: the record's shape only
			p = &domain.PluginRecord{Name: named.Name}
		}
		if err != nil {
			report("plugin %q: %v", name, err)
		} else if p.Name != name {
			report("plugin %q: the record names %q", name, p.Name)
		}
	}
	return rows.Err()
}
