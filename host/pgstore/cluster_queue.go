package pgstore

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/toolhost/toolhost/host/domain"
)

// claimPoll is how long an idle worker waits for a queue notification
// before it looks at the queue anyway (a notification lost while the
// listening connection was down).
const claimPoll = time.Second

// Own records that this replica runs runID (see the core's RunOwners),
// and returns once that is committed. Concurrent calls share one
// statement and one commit (group commit), as concurrent runs do.
func (c *Cluster) Own(ctx context.Context, runID string) error {
	req := ownReq{id: runID, done: make(chan error, 1)}
	select {
	case c.owns <- req:
	case <-ctx.Done():
		return ctx.Err()
	case <-c.ctx.Done():
		return errLeft
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-c.ctx.Done():
		return errLeft
	}
}

// errLeft is what Own answers once the replica has left the deployment.
var errLeft = errors.New("this replica has left the deployment (shutting down)")

// ownReq is one Own waiting for the statement that records it.
type ownReq struct {
	id   string
	done chan error
}

// ownBatch bounds the runs one statement records as owned.
const ownBatch = 256

// recordOwners records the runs Own is called for, those waiting together
// in one statement, until Close.
func (c *Cluster) recordOwners() {
	for {
		var batch []ownReq
		select {
		case <-c.ctx.Done():
			return
		case r := <-c.owns:
			batch = append(batch, r)
		}
	more:
		for len(batch) < ownBatch {
			select {
			case r := <-c.owns:
				batch = append(batch, r)
			default:
				break more
			}
		}
		seen := map[string]bool{}
		ids := make([]string, 0, len(batch))
		for _, r := range batch {
			if !seen[r.id] {
				seen[r.id] = true
				ids = append(ids, r.id)
			}
		}
		ctx, cancel := context.WithTimeout(c.ctx, c.lease)
		_, err := c.db.pool.Exec(ctx, `INSERT INTO run_owners (run_id, replica_id) SELECT unnest($1::text[]), $2
			ON CONFLICT (run_id) DO UPDATE SET replica_id = EXCLUDED.replica_id`, ids, c.id)
		cancel()
		if err != nil {
			err = c.errorf(err, "recording that replica %s runs %d run(s)", c.id, len(ids))
		}
		for _, r := range batch {
			r.done <- err
		}
	}
}

// Disown forgets that this replica runs runID, later, in a batch. It
// never blocks: when the batcher is behind, the row is left, which is
// harmless (a finished run is left as it is when its owner is reaped).
func (c *Cluster) Disown(runID string) {
	defer func() { _ = recover() }() // closed: Close flushed what it could
	select {
	case c.disowned <- runID:
	default:
	}
}

// disownBatch bounds the owner rows one statement deletes.
const disownBatch = 512

// deleteDisowned deletes disowned runs' owner rows, as many at a time as
// have come, until Close. A row left by a crash before it was deleted is
// harmless: reaping a finished run leaves it as it is.
func (c *Cluster) deleteDisowned() {
	for id := range c.disowned {
		ids := []string{id}
	more:
		for len(ids) < disownBatch {
			select {
			case id, open := <-c.disowned:
				if !open {
					break more
				}
				ids = append(ids, id)
			default:
				break more
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), c.lease)
		if _, err := c.db.pool.Exec(ctx, `DELETE FROM run_owners WHERE run_id = ANY($1)`, ids); err != nil {
			c.log.Warn("could not forget finished runs' owner", "runs", len(ids), "error", c.db.scrub(err))
		}
		cancel()
	}
}

// Enqueue queues a recorded run with its input, sealed, unless the queue
// holds limit runs (then domain.ErrQueueFull). The run is then no
// replica's until one claims it, and every replica's idle worker hears of
// it.
func (c *Cluster) Enqueue(ctx context.Context, runID string, input []byte, limit int) error {
	sealed, err := c.db.sealer.SealInput(runID, input)
	if err != nil {
		return err
	}
	rows, err := c.db.pool.Query(ctx, `WITH q AS (
			INSERT INTO run_queue (run_id, input) SELECT $1, $2 WHERE (SELECT count(*) FROM run_queue) < $3
			RETURNING run_id
		), d AS (DELETE FROM run_owners WHERE run_id IN (SELECT run_id FROM q))
		SELECT pg_notify('`+chanQueue+`', '') FROM q`, runID, sealed, limit)
	if err != nil {
		return c.errorf(err, "queueing run %s", runID)
	}
	n := 0
	for rows.Next() {
		n++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return c.errorf(err, "queueing run %s", runID)
	}
	if n == 0 {
		return domain.ErrQueueFull
	}
	return nil
}

// claimTimeout bounds one claim statement, which the caller's context
// does not cancel: a claim the database has made must reach its caller,
// or the run would be owned by a replica that never runs it.
const claimTimeout = 10 * time.Second

// Claim takes the oldest queued run no other replica is taking, which
// this replica then owns, and returns its input opened; it waits for one
// until ctx ends. Once a claim is under way ctx no longer cuts it short:
// a run it took is returned even if ctx ended meanwhile.
func (c *Cluster) Claim(ctx context.Context) (string, []byte, error) {
	for {
		if err := ctx.Err(); err != nil {
			return "", nil, err
		}
		qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), claimTimeout)
		id, sealed, err := c.claimOne(qctx)
		cancel()
		if err == nil {
			c.nudge() // there may be more: another idle worker looks
			input, err := c.db.sealer.OpenInput(id, sealed)
			return id, input, err
		}
		if ctx.Err() != nil {
			return "", nil, ctx.Err()
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return "", nil, c.errorf(err, "taking a run from the queue")
		}
		select {
		case <-ctx.Done():
			return "", nil, ctx.Err()
		case <-c.wake:
		case <-time.After(claimPoll):
		}
	}
}

func (c *Cluster) claimOne(ctx context.Context) (id string, sealed []byte, err error) {
	err = c.db.pool.QueryRow(ctx, `WITH c AS (
			DELETE FROM run_queue WHERE seq = (
				SELECT seq FROM run_queue ORDER BY seq FOR UPDATE SKIP LOCKED LIMIT 1)
			RETURNING run_id, input
		), o AS (
			INSERT INTO run_owners (run_id, replica_id) SELECT run_id, $1 FROM c
			ON CONFLICT (run_id) DO UPDATE SET replica_id = EXCLUDED.replica_id
		)
		SELECT run_id, input FROM c`, c.id).Scan(&id, &sealed)
	return id, sealed, err
}

// nudge wakes one idle worker, if none is awake already.
func (c *Cluster) nudge() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// Unqueue takes runID out of the queue if no replica has claimed it; this
// replica then owns it (to record it cancelled).
func (c *Cluster) Unqueue(ctx context.Context, runID string) (bool, error) {
	tag, err := c.db.pool.Exec(ctx, `WITH q AS (DELETE FROM run_queue WHERE run_id = $1 RETURNING run_id)
		INSERT INTO run_owners (run_id, replica_id) SELECT run_id, $2 FROM q
		ON CONFLICT (run_id) DO UPDATE SET replica_id = EXCLUDED.replica_id`, runID, c.id)
	if err != nil {
		return false, c.errorf(err, "taking run %s out of the queue", runID)
	}
	return tag.RowsAffected() == 1, nil
}
