package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/toolhost/toolhost/host/domain"
	"github.com/toolhost/toolhost/host/store"
)

// upsertRun writes a run in one statement: a new run is inserted; an
// existing one is replaced only while its stored status may become the
// new one ($9: the statuses it may come from), so the state machine holds
// across replicas without a lock held between statements.
const upsertRun = `INSERT INTO runs (id, status, action_id, plugin_id, thread_id, key_id, created_at, record)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, action_id = EXCLUDED.action_id,
    plugin_id = EXCLUDED.plugin_id, thread_id = EXCLUDED.thread_id, key_id = EXCLUDED.key_id,
    created_at = EXCLUDED.created_at, record = EXCLUDED.record
WHERE runs.status = ANY($9)`

// fromStatuses maps each status to the statuses a run may have before it.
var fromStatuses = func() map[string][]string {
	m := map[string][]string{}
	for _, to := range domain.Statuses() {
		m[to] = []string{}
		for _, from := range domain.Statuses() {
			if domain.CheckTransition(from, to) == nil {
				m[to] = append(m[to], from)
			}
		}
	}
	return m
}()

// PutRun stores r, creating or updating it, and returns once the
// database has committed it. An update must follow the run state machine
// (see domain.CheckTransition): a finished run gives ErrTerminal. A run
// without ID gets NewID(RunPrefix); one without CreatedAt gets its id's
// time. Both are set on r.
func (rs Runs) PutRun(ctx context.Context, r *domain.Run) error {
	ctx, cancel := writeCtx(ctx)
	defer cancel()
	enc, err := prepareRun(r)
	if err != nil {
		return err
	}
	tag, err := rs.db.pool.Exec(ctx, upsertRun, runArgs(r, enc)...)
	if err != nil {
		return rs.db.fail("storing run "+r.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return rs.refused(ctx, rs.db.pool, r)
	}
	return nil
}

// PutRuns stores several runs in one transaction: all of them or, when
// one is refused, none.
func (rs Runs) PutRuns(ctx context.Context, runs []*domain.Run) error {
	ctx, cancel := writeCtx(ctx)
	defer cancel()
	encs := make([][]byte, len(runs))
	for i, r := range runs {
		var err error
		if encs[i], err = prepareRun(r); err != nil {
			return err
		}
	}
	err := rs.db.inTx(ctx, func(tx pgx.Tx) error {
		for i, r := range runs {
			tag, err := tx.Exec(ctx, upsertRun, runArgs(r, encs[i])...)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				return rs.refused(ctx, tx, r)
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, ErrTransition) && !errors.Is(err, ErrTerminal) {
		return fmt.Errorf("storing runs: %w", err)
	}
	return err
}

func prepareRun(r *domain.Run) ([]byte, error) {
	if err := store.PrepareRun(r); err != nil {
		return nil, err
	}
	return store.EncodeRun(r)
}

func runArgs(r *domain.Run, enc []byte) []any {
	return []any{r.ID, r.Status, r.ActionID, r.PluginID, r.ThreadID, r.KeyID, r.CreatedAt, enc, fromStatuses[r.Status]}
}

// querier is what a pool and a transaction both offer.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// refused says why the upsert of r changed nothing: the stored run's
// status may not become r's.
func (rs Runs) refused(ctx context.Context, q querier, r *domain.Run) error {
	var old string
	if err := q.QueryRow(ctx, "SELECT status FROM runs WHERE id = $1", r.ID).Scan(&old); err != nil {
		return rs.db.fail("storing run "+r.ID, err)
	}
	err := domain.CheckTransition(old, r.Status)
	if err == nil { // changed since: it was not allowed when we wrote
		err = &wrapped{Msg: fmt.Sprintf("run %s changed to %s meanwhile", r.ID, old), Err: ErrTransition}
	}
	return fmt.Errorf("updating run %s: %w", r.ID, err)
}

// GetRun returns the run with that id, or an error wrapping ErrNotFound.
func (rs Runs) GetRun(ctx context.Context, id string) (*domain.Run, error) {
	var v []byte
	err := rs.db.pool.QueryRow(ctx, "SELECT record FROM runs WHERE id = $1", id).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("run %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, rs.db.fail("reading run "+id, err)
	}
	return store.DecodeRun(id, v)
}

// ListRuns returns one page of the runs matching f, and whether more
// follow.
func (rs Runs) ListRuns(ctx context.Context, f domain.RunFilter, p domain.Page) (runs []*domain.Run, hasMore bool, err error) {
	pg, err := rs.ListRunsPage(ctx, f, p)
	return pg.Runs, pg.HasMore, err
}

// ListRunsPage is ListRuns that also names the records it skipped
// because they do not decode.
func (rs Runs) ListRunsPage(ctx context.Context, f domain.RunFilter, p domain.Page) (domain.RunPage, error) {
	if err := store.CheckRunFilter(f); err != nil {
		return domain.RunPage{}, err
	}
	q := pageQuery{table: "runs", cols: "id, record"}
	for _, c := range []struct{ col, v string }{{"action_id", f.ActionID}, {"plugin_id", f.PluginID},
		{"status", f.Status}, {"thread_id", f.ThreadID}, {"key_id", f.KeyID}} {
		if c.v != "" {
			q.cond(c.col+" = %s", c.v)
		}
	}
	if !f.From.IsZero() {
		q.cond("created_at >= %s", f.From)
	}
	if !f.To.IsZero() {
		q.cond("created_at < %s", f.To)
	}
	runs, more, damaged, err := readPage(ctx, rs.db, q, p, recordRows(store.DecodeRun))
	if err != nil {
		return domain.RunPage{}, err
	}
	return domain.RunPage{Runs: runs, HasMore: more, Damaged: damaged}, nil
}
