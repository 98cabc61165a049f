package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/toolhost/toolhost/host/domain"
	"github.com/toolhost/toolhost/host/store"
)

func Idempotency(t *testing.T, h Harness) {
	s := h.open(t)
	t0 := time.Now().UTC()
	digest := []byte("digest-1")
	rec := func(key string, digest []byte, at time.Time) *domain.IdempotencyRecord {
		return &domain.IdempotencyRecord{Key: key, BodyDigest: digest, RunID: "run_ignored_at_begin", CreatedAt: at}
	}

	// First use: claimed.
	first := rec("key1\x00abc", digest, t0)
	if existing, err := s.Idempotency().BeginIdempotent(bg, first); err != nil || existing != nil {
		t.Fatalf("Begin(new) = %v, %v", existing, err)
	}

	// While in flight: a retry sees the in-flight record (caller answers 409).
	ex, err := s.Idempotency().BeginIdempotent(bg, rec("key1\x00abc", digest, t0.Add(time.Second)))
	if err != nil || ex == nil || ex.RunID != "" {
		t.Fatalf("Begin(in flight) = %+v, %v", ex, err)
	}

	// Finished: a retry finds the run.
	runID := domain.NewID(domain.RunPrefix)
	if err := s.Idempotency().FinishIdempotent(bg, first.Key, runID); err != nil {
		t.Fatal(err)
	}
	ex, err = s.Idempotency().BeginIdempotent(bg, rec(first.Key, digest, t0.Add(time.Hour)))
	if err != nil || ex == nil || ex.RunID != runID || !bytes.Equal(ex.BodyDigest, digest) {
		t.Fatalf("Begin(replay) = %+v, %v", ex, err)
	}

	// Another body: the caller sees a different digest and answers 409.
	ex, err = s.Idempotency().BeginIdempotent(bg, rec(first.Key, []byte("digest-2"), t0.Add(time.Hour)))
	if err != nil || ex == nil || bytes.Equal(ex.BodyDigest, []byte("digest-2")) {
		t.Fatalf("Begin(other body) = %+v, %v", ex, err)
	}

	// Abandon refuses a finished record, frees an in-flight one.
	if err := s.Idempotency().AbandonIdempotent(bg, first.Key); !errors.Is(err, domain.ErrConflict) {
		t.Errorf("Abandon(finished) = %v", err)
	}
	if ex, _ := s.Idempotency().BeginIdempotent(bg, rec("key2", digest, t0)); ex != nil {
		t.Fatal("key2 taken")
	}
	if err := s.Idempotency().AbandonIdempotent(bg, "key2"); err != nil {
		t.Fatal(err)
	}
	if ex, err := s.Idempotency().BeginIdempotent(bg, rec("key2", digest, t0)); ex != nil || err != nil {
		t.Errorf("Begin after Abandon = %+v, %v", ex, err)
	}
	if err := s.Idempotency().AbandonIdempotent(bg, "never-used"); err != nil {
		t.Errorf("Abandon(absent) = %v", err)
	}

	// After 24 hours the key is free again.
	later := rec(first.Key, []byte("digest-3"), t0.Add(store.IdempotencyTTL+time.Minute))
	if ex, err := s.Idempotency().BeginIdempotent(bg, later); ex != nil || err != nil {
		t.Errorf("Begin(expired) = %+v, %v", ex, err)
	}

	// Finish on a missing key, bad arguments.
	if err := s.Idempotency().FinishIdempotent(bg, "missing", runID); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("Finish(missing) = %v", err)
	}
	if err := s.Idempotency().FinishIdempotent(bg, "key2", ""); !errors.Is(err, domain.ErrInvalid) {
		t.Errorf("Finish(no run id) = %v", err)
	}
	if _, err := s.Idempotency().BeginIdempotent(bg, &domain.IdempotencyRecord{}); !errors.Is(err, domain.ErrInvalid) {
		t.Errorf("Begin(empty key) = %v", err)
	}
}

func PruneIdempotency(t *testing.T, h Harness) {
	s := h.open(t)
	now := time.Now().UTC()
	for i, age := range []time.Duration{time.Hour, 23 * time.Hour, 25 * time.Hour, 48 * time.Hour} {
		r := &domain.IdempotencyRecord{Key: string(rune('a' + i)), CreatedAt: now.Add(-age)}
		if _, err := s.Idempotency().BeginIdempotent(bg, r); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Runs().Prune(bg, 0, 0, now); err != nil {
		t.Fatal(err)
	}
	// Pruned records are gone: beginning them again claims them, even with
	// a CreatedAt at which the old record would still have been valid.
	for i, wantGone := range []bool{false, false, true, true} {
		ex, err := s.Idempotency().BeginIdempotent(bg, &domain.IdempotencyRecord{Key: string(rune('a' + i)), CreatedAt: now.Add(-72 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if gone := ex == nil; gone != wantGone {
			t.Errorf("record %d gone = %v, want %v", i, gone, wantGone)
		}
	}
}

// IdempotencyConcurrentClaims: many requests with one key at once (from
// as many connections, or replicas) — exactly one claims it; every other
// one gets the winner's record.
func IdempotencyConcurrentClaims(t *testing.T, h Harness) {
	s := h.open(t)
	const n = 32
	for round := range 3 {
		key := fmt.Sprintf("key_1\x00round-%d", round)
		var wg sync.WaitGroup
		won := make(chan int, n)
		errs := make(chan error, n)
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				ex, err := s.Idempotency().BeginIdempotent(bg, &domain.IdempotencyRecord{Key: key, BodyDigest: []byte{byte(i)}})
				switch {
				case err != nil:
					errs <- err
				case ex == nil:
					won <- i
				case ex.Key != key:
					errs <- fmt.Errorf("existing record for %q has key %q", key, ex.Key)
				}
			}()
		}
		close(start)
		wg.Wait()
		close(won)
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if len(won) != 1 {
			t.Fatalf("round %d: %d claims won, want exactly 1", round, len(won))
		}
		winner := <-won
		ex, err := s.Idempotency().BeginIdempotent(bg, &domain.IdempotencyRecord{Key: key, BodyDigest: []byte("late")})
		if err != nil || ex == nil || !bytes.Equal(ex.BodyDigest, []byte{byte(winner)}) {
			t.Fatalf("round %d: the stored claim is %+v (%v), want the winner's (%d)", round, ex, err, winner)
		}
	}
}
