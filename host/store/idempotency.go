package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// IdempotencyTTL is how long an idempotency record answers for its key.
const IdempotencyTTL = 24 * time.Hour

// maxIdempotencyKey bounds the stored key (scope + the client's key).
const maxIdempotencyKey = 1024

// BeginIdempotent claims rec.Key for a request. When the key is free (never
// used, or its record is older than IdempotencyTTL at rec.CreatedAt) it
// stores rec as in flight (no RunID yet) and returns nil, nil. Otherwise it
// stores nothing and returns the existing record; the caller decides: same
// BodyDigest and a run → replay that run, else → 409.
// rec.CreatedAt defaults to now.
func (is Idempotency) BeginIdempotent(ctx context.Context, rec *IdempotencyRecord) (existing *IdempotencyRecord, err error) {
	enc, err := PrepareIdempotent(rec)
	if err != nil {
		return nil, err
	}
	err = is.db.batch(func(tx *bbolt.Tx) error {
		existing = nil
		old, err := getIdempotent(tx, rec.Key)
		if err != nil {
			return err
		}
		if old != nil && !idempotencyExpired(old, rec.CreatedAt) {
			existing = old
			return nil
		}
		return tx.Bucket(bucketIdempotency).Put([]byte(rec.Key), enc)
	})
	if err != nil {
		return nil, fmt.Errorf("beginning idempotent request: %w", err)
	}
	return existing, nil
}

// PrepareIdempotent checks rec's key, makes it an in-flight claim
// (no run yet; CreatedAt now when zero) and encodes it as stored.
func PrepareIdempotent(rec *IdempotencyRecord) ([]byte, error) {
	if rec.Key == "" || len(rec.Key) > maxIdempotencyKey {
		return nil, invalidf("idempotency key must be 1 to %d bytes long", maxIdempotencyKey)
	}
	if rec.CreatedAt.IsZero() {
		rec.CreatedAt = time.Now().UTC()
	}
	rec.RunID, rec.Status, rec.Response = "", 0, nil
	enc, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("encoding idempotency record: %w", err)
	}
	return enc, nil
}

// IdempotencyExpired reports whether rec no longer answers for its key at
// now.
func IdempotencyExpired(rec *IdempotencyRecord, now time.Time) bool {
	return idempotencyExpired(rec, now)
}

// FinishIdempotent links key's claim to the run its request made, so
// that a retry finds that run. A missing record gives ErrNotFound and
// stores nothing.
func (is Idempotency) FinishIdempotent(ctx context.Context, key, runID string) error {
	if runID == "" {
		return invalidf("run id must not be empty")
	}
	err := is.db.batch(func(tx *bbolt.Tx) error {
		rec, err := getIdempotent(tx, key)
		if err != nil {
			return err
		}
		if rec == nil {
			return reject(ErrNotFound)
		}
		rec.RunID = runID
		enc, err := json.Marshal(rec)
		if err != nil {
			return reject(err)
		}
		return tx.Bucket(bucketIdempotency).Put([]byte(key), enc)
	})
	if err != nil {
		return fmt.Errorf("finishing idempotent request: %w", err)
	}
	return nil
}

// AbandonIdempotent deletes key's record while it is in flight, freeing the
// key (say, the request failed validation and did nothing). An absent
// record is fine; a finished one gives ErrConflict and stays.
func (is Idempotency) AbandonIdempotent(ctx context.Context, key string) error {
	err := is.db.batch(func(tx *bbolt.Tx) error {
		rec, err := getIdempotent(tx, key)
		if err != nil || rec == nil {
			return err
		}
		if rec.RunID != "" || rec.Status != 0 {
			return reject(fmt.Errorf("request already made a run: %w", ErrConflict))
		}
		return tx.Bucket(bucketIdempotency).Delete([]byte(key))
	})
	if err != nil {
		return fmt.Errorf("abandoning idempotent request: %w", err)
	}
	return nil
}

func getIdempotent(tx *bbolt.Tx, key string) (*IdempotencyRecord, error) {
	v := tx.Bucket(bucketIdempotency).Get([]byte(key))
	if v == nil {
		return nil, nil
	}
	rec := new(IdempotencyRecord)
	if err := json.Unmarshal(v, rec); err != nil {
		return nil, reject(fmt.Errorf("decoding idempotency record: %w", err))
	}
	return rec, nil
}

func idempotencyExpired(rec *IdempotencyRecord, now time.Time) bool {
	return now.Sub(rec.CreatedAt) > IdempotencyTTL
}

// pruneIdempotency deletes records older than IdempotencyTTL, txChunk per
// transaction.
func (db *DB) pruneIdempotency(now time.Time) (deleted int, err error) {
	var old [][]byte
	err = db.view(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketIdempotency).ForEach(func(k, v []byte) error {
			var rec struct {
				CreatedAt time.Time `json:"created_at"`
			}
			if json.Unmarshal(v, &rec) == nil && now.Sub(rec.CreatedAt) > IdempotencyTTL {
				old = append(old, append([]byte(nil), k...))
			}
			return nil
		})
	})
	for len(old) > 0 && err == nil {
		chunk := old[:min(len(old), txChunk)]
		old = old[len(chunk):]
		err = db.update(func(tx *bbolt.Tx) error {
			for _, k := range chunk {
				rec, err := getIdempotent(tx, string(k))
				if err != nil || rec == nil || !idempotencyExpired(rec, now) {
					continue // replaced meanwhile
				}
				if err := tx.Bucket(bucketIdempotency).Delete(k); err != nil {
					return err
				}
				deleted++
			}
			return nil
		})
	}
	if err != nil {
		return deleted, fmt.Errorf("pruning idempotency records: %w", err)
	}
	return deleted, nil
}
