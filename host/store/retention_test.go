package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/toolhost/toolhost/host/backend"
	"github.com/toolhost/toolhost/host/store"
	"github.com/toolhost/toolhost/host/store/storetest"
)

// TestLimitRuns: with LimitRuns, copying the journal into bbolt deletes the
// oldest finished runs beyond the limit in the same transaction, by the
// same rule as Prune, and a limit of 0 keeps everything.
func TestLimitRuns(t *testing.T) {
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, limit := range []int{0, 1, 10, 19, 20, 100} {
		db := openDB(t, "")
		db.Runs().LimitRuns(limit)
		runs := storetest.AgeFixture(t, backend.Bolt(db), 20, now)
		keep := storetest.RefPrune(runs, limit, 0, now)
		var want []string
		for i, r := range runs {
			if limit <= 0 || keep(i, r) {
				want = append(want, r.ID)
			}
		}
		got := storetest.ListAll(t, backend.Bolt(db), store.RunFilter{}, store.Page{Limit: 100, Order: "asc"})
		if !slices.Equal(got, want) {
			t.Errorf("limit %d: kept %d runs, want %d", limit, len(got), len(want))
		}
		if st, _ := db.Stats(); st.Runs != len(want) {
			t.Errorf("limit %d: Stats.Runs = %d, want %d", limit, st.Runs, len(want))
		}
		mustCheck(t, db)
	}
}

// TestLimitRunsAsRunsArrive: runs stored one at a time, each finishing
// after it started, never leave more than the limit plus the runs of one
// apply in bbolt, and every run that is left reads back whole.
func TestLimitRunsAsRunsArrive(t *testing.T) {
	const limit = 50
	db := openDB(t, "")
	db.Runs().LimitRuns(limit)
	for i := range 400 {
		r := newRun(store.StatusRunning)
		mustPut(t, db, r)
		done := *r
		done.Status = store.StatusSucceeded
		mustPut(t, db, &done)
		if i%37 == 0 {
			if st, err := db.Stats(); err != nil || st.Runs > limit {
				t.Fatalf("after %d runs: Stats.Runs = %d (err %v), limit %d", i+1, st.Runs, err, limit)
			}
		}
	}
	got := storetest.ListAll(t, backend.Bolt(db), store.RunFilter{}, store.Page{Limit: 100, Order: "asc"})
	if len(got) != limit {
		t.Fatalf("%d runs kept, want %d", len(got), limit)
	}
	for _, id := range got {
		if r, err := db.Runs().GetRun(context.Background(), id); err != nil || r.Status != store.StatusSucceeded {
			t.Fatalf("GetRun(%s) = %v, %v", id, r, err)
		}
	}
	mustCheck(t, db)
}
