package pgstore_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/toolhost/toolhost/host/domain"
	"github.com/toolhost/toolhost/host/pgstore"
)

// TestTwoStoresOneDatabase: two stores on one database, as two replicas
// have. Racing final writes of one run: exactly one lands, the other gets
// ErrTerminal and the run keeps the winner's state. Racing claims of one
// idempotency key: exactly one wins. A key made through one
// authenticates through the other.
func TestTwoStoresOneDatabase(t *testing.T) {
	a, dsn := open(t)
	b, err := pgstore.Open(context.Background(), pgstore.Options{DSN: dsn, SecretKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	stores := []*pgstore.DB{a, b}
	for round := range 20 {
		r := &domain.Run{Kind: "action", ActionID: "CA1", Status: domain.StatusRunning}
		if err := a.Runs().PutRun(ctx, r); err != nil {
			t.Fatal(err)
		}
		finals := []string{domain.StatusSucceeded, domain.StatusCancelled}
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				mine := *r
				mine.Status = finals[i]
				errs[i] = stores[i].Runs().PutRun(ctx, &mine)
			}()
		}
		wg.Wait()
		won := -1
		for i, err := range errs {
			switch {
			case err == nil:
				if won >= 0 {
					t.Fatalf("round %d: both final writes landed", round)
				}
				won = i
			case !errors.Is(err, domain.ErrTerminal):
				t.Fatalf("round %d: the losing write = %v, want ErrTerminal", round, err)
			}
		}
		if won < 0 {
			t.Fatalf("round %d: no final write landed: %v", round, errs)
		}
		got, err := b.Runs().GetRun(ctx, r.ID)
		if err != nil || got.Status != finals[won] {
			t.Fatalf("round %d: stored %v (%v), want the winner's %s", round, got, err, finals[won])
		}
	}

	wins := make(chan int, 2)
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ex, err := stores[i].Idempotency().BeginIdempotent(ctx, &domain.IdempotencyRecord{Key: "key_1\x00same", BodyDigest: []byte{byte(i)}})
			if err != nil {
				t.Error(err)
			} else if ex == nil {
				wins <- i
			}
		}()
	}
	wg.Wait()
	if close(wins); len(wins) != 1 {
		t.Fatalf("%d stores claimed the key, want 1", len(wins))
	}

	plain, _, err := a.Keys().CreateKey(ctx, "ci")
	if err != nil {
		t.Fatal(err)
	}
	if k, err := b.Keys().Authenticate(ctx, plain); err != nil || k.Name != "ci" {
		t.Fatalf("the key made through one store, through the other: %v, %v", k, err)
	}
}
