package pgstore

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// renew takes or extends this replica's lease; lost says a lease taken
// anew was expected to be there (the heartbeat's renewal).
func (c *Cluster) renew(ctx context.Context, lost bool) error {
	tag, err := c.db.pool.Exec(ctx, `UPDATE replicas SET expires_at = now() + $2 * interval '1 millisecond' WHERE id = $1`,
		c.id, ms(c.lease))
	if err != nil {
		return c.errorf(err, "renewing the lease of replica %s", c.id)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	if lost {
		c.log.Error("this replica's lease expired and another replica failed its runs as interrupted; taking a new lease", "replica", c.id)
	}
	_, err = c.db.pool.Exec(ctx, `INSERT INTO replicas (id, expires_at) VALUES ($1, now() + $2 * interval '1 millisecond')`,
		c.id, ms(c.lease))
	if err != nil {
		return c.errorf(err, "taking a lease for replica %s", c.id)
	}
	return nil
}

// heartbeat renews the lease every third of it until ctx ends. A lease
// found gone was taken by another replica, which has failed this one's
// runs as interrupted (it could not reach the database for a whole
// lease): it is taken again, and said loudly.
func (c *Cluster) heartbeat(ctx context.Context) {
	t := time.NewTicker(c.lease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rctx, cancel := context.WithTimeout(ctx, c.lease/3)
		err := c.renew(rctx, true)
		cancel()
		if err != nil && ctx.Err() == nil {
			c.log.Warn("could not renew the replica's lease", "replica", c.id, "error", err)
		}
	}
}

// Reap starts failing, every half lease until Close, the runs of
// replicas whose lease expired: interrupt is called for each run such a
// replica owned (the Runner's InterruptRun), and the run is forgotten once
// it returns nil. Runs they queued are not theirs any more: any replica's
// worker takes them.
func (c *Cluster) Reap(interrupt func(ctx context.Context, runID string) error) {
	ctx := c.ctx
	c.goBg(func() {
		t := time.NewTicker(c.lease / 2)
		defer t.Stop()
		for {
			if _, err := c.ReapOnce(ctx, interrupt); err != nil && ctx.Err() == nil {
				c.log.Warn("could not fail the runs of expired replicas", "error", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
}

// reapBatch bounds the runs one reaping transaction locks.
const reapBatch = 100

// ReapOnce deletes the replicas whose lease expired and fails the runs
// they owned (see Reap); it returns how many runs it failed.
func (c *Cluster) ReapOnce(ctx context.Context, interrupt func(ctx context.Context, runID string) error) (int, error) {
	rows, err := c.db.pool.Query(ctx, `DELETE FROM replicas WHERE expires_at < now() AND id <> $1 RETURNING id`, c.id)
	if err != nil {
		return 0, c.errorf(err, "ending expired leases")
	}
	gone, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, c.errorf(err, "ending expired leases")
	}
	for _, id := range gone {
		c.log.Warn("a replica's lease expired; its runs in progress are failed as interrupted", "replica", id)
	}
	total := 0
	for {
		n, err := c.reapBatch(ctx, interrupt)
		total += n
		if err != nil || n < reapBatch {
			return total, err
		}
	}
}

// reapBatch fails up to reapBatch orphaned runs in one transaction, whose
// row locks keep other reapers off them.
func (c *Cluster) reapBatch(ctx context.Context, interrupt func(ctx context.Context, runID string) error) (int, error) {
	n := 0
	err := c.db.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT run_id FROM run_owners o
			WHERE NOT EXISTS (SELECT 1 FROM replicas r WHERE r.id = o.replica_id)
			ORDER BY run_id LIMIT $1 FOR UPDATE SKIP LOCKED`, reapBatch)
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := interrupt(ctx, id); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM run_owners WHERE run_id = ANY($1)`, ids); err != nil {
			return err
		}
		n = len(ids)
		return nil
	})
	if err != nil {
		return 0, c.errorf(err, "failing the runs of expired replicas")
	}
	return n, nil
}

// TakeTurn reports whether this replica does task now: it is true for one
// replica at most once every period, whichever asks first (retention runs
// once per deployment, not once per replica).
func (c *Cluster) TakeTurn(ctx context.Context, task string, every time.Duration) (bool, error) {
	tag, err := c.db.pool.Exec(ctx, `INSERT INTO turns (task, last_at) VALUES ($1, now())
		ON CONFLICT (task) DO UPDATE SET last_at = now()
		WHERE turns.last_at <= now() - $2 * interval '1 millisecond'`, task, ms(every))
	if err != nil {
		return false, c.errorf(err, "taking the turn for %s", task)
	}
	return tag.RowsAffected() == 1, nil
}
