package pgstore

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/toolhost/toolhost/host/domain"
	"github.com/toolhost/toolhost/host/store"
)

// CreateKey makes a new API key called name holding scopes (none: all of
// them) and returns its plaintext, which is shown once and never stored:
// only its SHA-256 digest is. A taken name gives ErrConflict.
func (ks Keys) CreateKey(ctx context.Context, name string, scopes ...string) (plaintext string, key *domain.APIKey, err error) {
	ctx, cancel := writeCtx(ctx)
	defer cancel()
	plaintext, key, err = store.NewKey(name, scopes...)
	if err != nil {
		return "", nil, err
	}
	enc, err := json.Marshal(key)
	if err != nil {
		return "", nil, fmt.Errorf("encoding key: %w", err)
	}
	tag, err := ks.db.pool.Exec(ctx, "INSERT INTO api_keys (name, digest, record) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
		name, key.Digest, enc)
	if err != nil {
		return "", nil, ks.db.fail("creating key", err)
	}
	if tag.RowsAffected() == 0 {
		return "", nil, fmt.Errorf("creating key: key %q already exists: %w", name, ErrConflict)
	}
	return plaintext, key, nil
}

// ListKeys returns every key, by name.
func (ks Keys) ListKeys(ctx context.Context) ([]*domain.APIKey, error) {
	rows, err := ks.db.pool.Query(ctx, `SELECT name, record FROM api_keys ORDER BY name COLLATE "C"`)
	if err != nil {
		return nil, ks.db.fail("listing keys", err)
	}
	keys, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*domain.APIKey, error) {
		var name string
		var v []byte
		if err := row.Scan(&name, &v); err != nil {
			return nil, err
		}
		return decodeKey(name, v)
	})
	if err != nil {
		return nil, ks.db.fail("listing keys", err)
	}
	return keys, nil
}

func decodeKey(name string, v []byte) (*domain.APIKey, error) {
	key := new(domain.APIKey)
	if err := json.Unmarshal(v, key); err != nil {
		return nil, fmt.Errorf("decoding key %q: %w", name, err)
	}
	return key, nil
}

// CountKeys returns how many keys exist.
func (ks Keys) CountKeys(ctx context.Context) (int, error) {
	var n int64
	if err := ks.db.pool.QueryRow(ctx, "SELECT count(*) FROM api_keys").Scan(&n); err != nil {
		return 0, ks.db.fail("counting keys", err)
	}
	return int(n), nil
}

// RevokeKey deletes the key called name; ErrNotFound when there is none.
func (ks Keys) RevokeKey(ctx context.Context, name string) error {
	ctx, cancel := writeCtx(ctx)
	defer cancel()
	tag, err := ks.db.pool.Exec(ctx, "DELETE FROM api_keys WHERE name = $1", name)
	if err != nil {
		return ks.db.fail("revoking key", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("revoking key: key %q: %w", name, ErrNotFound)
	}
	ks.db.keyUse.Forget(name)
	return nil
}

// Authenticate returns the key whose plaintext this is, or
// ErrUnauthorized. It reads only: LastUsedAt is written in the
// background, at most once a minute per key and replica.
func (ks Keys) Authenticate(ctx context.Context, plaintext string) (*domain.APIKey, error) {
	digest, ok := store.KeyDigest(plaintext)
	if !ok {
		return nil, ErrUnauthorized
	}
	var name string
	var v []byte
	err := ks.db.pool.QueryRow(ctx, "SELECT name, record FROM api_keys WHERE digest = $1", digest).Scan(&name, &v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrUnauthorized
	}
	if err != nil {
		return nil, ks.db.fail("authenticating", err)
	}
	key, err := decodeKey(name, v)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(key.Digest, digest) != 1 {
		return nil, ErrUnauthorized
	}
	now := time.Now().UTC()
	if ks.db.keyUse.Due(key.Name, now) {
		stamped := *key
		stamped.LastUsedAt = &now
		ks.db.background(func(ctx context.Context) { ks.touch(ctx, &stamped) })
		key.LastUsedAt = &now
	}
	return key, nil
}

// touch writes key's LastUsedAt, if the key is still the same one and
// has not been stamped later (by another replica).
func (ks Keys) touch(ctx context.Context, key *domain.APIKey) {
	enc, err := json.Marshal(key)
	if err != nil {
		return
	}
	_, _ = ks.db.pool.Exec(ctx, `UPDATE api_keys SET record = $3 WHERE name = $1 AND digest = $2
AND coalesce((convert_from(record, 'UTF8')::jsonb ->> 'last_used_at')::timestamptz, '-infinity') < $4`,
		key.Name, key.Digest, enc, *key.LastUsedAt)
}
