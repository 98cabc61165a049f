package store_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/toolhost/toolhost/host/store"
)

func TestIdempotency(t *testing.T) {
	db := openDB(t, "")
	t0 := time.Now().UTC()
	digest := []byte("digest-1")
	rec := func(key string, digest []byte, at time.Time) *store.IdempotencyRecord {
		return &store.IdempotencyRecord{Key: key, BodyDigest: digest, RunID: "run_ignored_at_begin", CreatedAt: at}
	}

	// First use: claimed.
	first := rec("key1\x00abc", digest, t0)
	if existing, err := db.Idempotency().BeginIdempotent(context.Background(), first); err != nil || existing != nil {
		t.Fatalf("Begin(new) = %v, %v", existing, err)
	}

	// While in flight: a retry sees the in-flight record (caller answers 409).
	ex, err := db.Idempotency().BeginIdempotent(context.Background(), rec("key1\x00abc", digest, t0.Add(time.Second)))
	if err != nil || ex == nil || ex.RunID != "" {
		t.Fatalf("Begin(in flight) = %+v, %v", ex, err)
	}

	// Finished: a retry finds the run.
	runID := store.NewID(store.RunPrefix)
	if err := db.Idempotency().FinishIdempotent(context.Background(), first.Key, runID); err != nil {
		t.Fatal(err)
	}
	ex, err = db.Idempotency().BeginIdempotent(context.Background(), rec(first.Key, digest, t0.Add(time.Hour)))
	if err != nil || ex == nil || ex.RunID != runID || !bytes.Equal(ex.BodyDigest, digest) {
		t.Fatalf("Begin(replay) = %+v, %v", ex, err)
	}

	// Another body: the caller sees a different digest and answers 409.
	ex, err = db.Idempotency().BeginIdempotent(context.Background(), rec(first.Key, []byte("digest-2"), t0.Add(time.Hour)))
	if err != nil || ex == nil || bytes.Equal(ex.BodyDigest, []byte("digest-2")) {
		t.Fatalf("Begin(other body) = %+v, %v", ex, err)
	}

	// Abandon refuses a finished record, frees an in-flight one.
	if err := db.Idempotency().AbandonIdempotent(context.Background(), first.Key); !errors.Is(err, store.ErrConflict) {
		t.Errorf("Abandon(finished) = %v", err)
	}
	if ex, _ := db.Idempotency().BeginIdempotent(context.Background(), rec("key2", digest, t0)); ex != nil {
		t.Fatal("key2 taken")
	}
	if err := db.Idempotency().AbandonIdempotent(context.Background(), "key2"); err != nil {
		t.Fatal(err)
	}
	if ex, err := db.Idempotency().BeginIdempotent(context.Background(), rec("key2", digest, t0)); ex != nil || err != nil {
		t.Errorf("Begin after Abandon = %+v, %v", ex, err)
	}
	if err := db.Idempotency().AbandonIdempotent(context.Background(), "never-used"); err != nil {
		t.Errorf("Abandon(absent) = %v", err)
	}

	// After 24 hours the key is free again.
	later := rec(first.Key, []byte("digest-3"), t0.Add(store.IdempotencyTTL+time.Minute))
	if ex, err := db.Idempotency().BeginIdempotent(context.Background(), later); ex != nil || err != nil {
		t.Errorf("Begin(expired) = %+v, %v", ex, err)
	}

	// Finish on a missing key, bad arguments.
	if err := db.Idempotency().FinishIdempotent(context.Background(), "missing", runID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Finish(missing) = %v", err)
	}
	if err := db.Idempotency().FinishIdempotent(context.Background(), "key2", ""); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("Finish(no run id) = %v", err)
	}
	if _, err := db.Idempotency().BeginIdempotent(context.Background(), &store.IdempotencyRecord{}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("Begin(empty key) = %v", err)
	}
}

func TestPruneIdempotency(t *testing.T) {
	db := openDB(t, "")
	now := time.Now().UTC()
	for i, age := range []time.Duration{time.Hour, 23 * time.Hour, 25 * time.Hour, 48 * time.Hour} {
		r := &store.IdempotencyRecord{Key: string(rune('a' + i)), CreatedAt: now.Add(-age)}
		if _, err := db.Idempotency().BeginIdempotent(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Runs().Prune(context.Background(), 0, 0, now); err != nil {
		t.Fatal(err)
	}
	// Pruned records are gone: beginning them again claims them, even with
	// a CreatedAt at which the old record would still have been valid.
	for i, wantGone := range []bool{false, false, true, true} {
		ex, err := db.Idempotency().BeginIdempotent(context.Background(), &store.IdempotencyRecord{Key: string(rune('a' + i)), CreatedAt: now.Add(-72 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if gone := ex == nil; gone != wantGone {
			t.Errorf("record %d gone = %v, want %v", i, gone, wantGone)
		}
	}
}
