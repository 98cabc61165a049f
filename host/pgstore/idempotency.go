package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/toolhost/toolhost/host/domain"
	"github.com/toolhost/toolhost/host/store"
)

// claimKey inserts a claim, or takes over one that has expired ($4: the
// creation time before which a record no longer answers). The primary key
// makes concurrent claims of one key, from any replica, have one winner:
// the others wait for its commit and then find the key taken.
const claimKey = `INSERT INTO idempotency (key, created_at, record) VALUES ($1, $2, $3)
ON CONFLICT (key) DO UPDATE SET created_at = EXCLUDED.created_at, record = EXCLUDED.record
WHERE idempotency.created_at < $4`

// BeginIdempotent claims rec.Key for a request. When the key is free
// (never used, or its record is older than store.IdempotencyTTL at
// rec.CreatedAt) it stores rec as in flight (no RunID yet) and returns
// nil, nil. Otherwise it stores nothing and returns the existing record.
// rec.CreatedAt defaults to now.
func (is Idempotency) BeginIdempotent(ctx context.Context, rec *domain.IdempotencyRecord) (existing *domain.IdempotencyRecord, err error) {
	ctx, cancel := writeCtx(ctx)
	defer cancel()
	enc, err := store.PrepareIdempotent(rec)
	if err != nil {
		return nil, err
	}
	cutoff := rec.CreatedAt.Add(-store.IdempotencyTTL)
	for range 3 {
		tag, err := is.db.pool.Exec(ctx, claimKey, []byte(rec.Key), rec.CreatedAt, enc, cutoff)
		if err != nil {
			return nil, is.db.fail("beginning idempotent request", err)
		}
		if tag.RowsAffected() == 1 {
			return nil, nil
		}
		existing, err = getIdempotent(ctx, is.db, is.db.pool, rec.Key, "")
		if err != nil {
			return nil, fmt.Errorf("beginning idempotent request: %w", err)
		}
		if existing != nil {
			return existing, nil
		}
		// Abandoned between the two statements: claim again.
	}
	return nil, fmt.Errorf("beginning idempotent request: the key is being claimed and abandoned repeatedly: %w", ErrConflict)
}

func getIdempotent(ctx context.Context, db *DB, q querier, key, suffix string) (*domain.IdempotencyRecord, error) {
	var v []byte
	err := q.QueryRow(ctx, "SELECT record FROM idempotency WHERE key = $1"+suffix, []byte(key)).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, db.fail("reading idempotency record", err)
	}
	rec := new(domain.IdempotencyRecord)
	if err := json.Unmarshal(v, rec); err != nil {
		return nil, fmt.Errorf("decoding idempotency record: %w", err)
	}
	return rec, nil
}

// FinishIdempotent links key's claim to the run its request made, so
// that a retry finds that run. A missing record gives ErrNotFound and
// stores nothing.
func (is Idempotency) FinishIdempotent(ctx context.Context, key, runID string) error {
	ctx, cancel := writeCtx(ctx)
	defer cancel()
	if runID == "" {
		return invalidf("run id must not be empty")
	}
	err := is.db.inTx(ctx, func(tx pgx.Tx) error {
		rec, err := getIdempotent(ctx, is.db, tx, key, " FOR UPDATE")
		if err != nil {
			return err
		}
		if rec == nil {
			return ErrNotFound
		}
		rec.RunID = runID
		enc, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "UPDATE idempotency SET record = $2 WHERE key = $1", []byte(key), enc)
		return err
	})
	if err != nil {
		return fmt.Errorf("finishing idempotent request: %w", err)
	}
	return nil
}

// AbandonIdempotent deletes key's record while it is in flight, freeing
// the key. An absent record is fine; a finished one gives ErrConflict and
// stays.
func (is Idempotency) AbandonIdempotent(ctx context.Context, key string) error {
	ctx, cancel := writeCtx(ctx)
	defer cancel()
	err := is.db.inTx(ctx, func(tx pgx.Tx) error {
		rec, err := getIdempotent(ctx, is.db, tx, key, " FOR UPDATE")
		if err != nil || rec == nil {
			return err
		}
		if rec.RunID != "" || rec.Status != 0 {
			return fmt.Errorf("request already made a run: %w", ErrConflict)
		}
		_, err = tx.Exec(ctx, "DELETE FROM idempotency WHERE key = $1", []byte(key))
		return err
	})
	if err != nil {
		return fmt.Errorf("abandoning idempotent request: %w", err)
	}
	return nil
}
