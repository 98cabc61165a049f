package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/toolhost/toolhost/host/store"
)

// ageFixture stores n runs an hour apart ending at now, every fifth one
// unfinished, and returns their ids oldest first.
func ageFixture(t *testing.T, db *store.DB, n int, now time.Time) []*store.Run {
	var runs []*store.Run
	for i := range n {
		at := now.Add(-time.Duration(n-1-i) * time.Hour)
		s := store.StatusSucceeded
		switch i % 5 {
		case 1:
			s = store.StatusFailed
		case 2:
			s = store.StatusRunning
		case 3:
			s = store.StatusTimedOut
		}
		runs = append(runs, &store.Run{ID: runID(at), Status: s, ActionID: "CA1", PluginID: "CP1", ThreadID: "thread_1", CreatedAt: at})
	}
	if err := db.Runs().PutRuns(context.Background(), runs); err != nil {
		t.Fatal(err)
	}
	return runs
}

func TestPrune(t *testing.T) {
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		n       int
		maxRuns int
		maxAge  time.Duration
		keep    func(i int, r *store.Run) bool // by position, oldest first
	}{
		{"nothing to do", 20, 100, 0, func(int, *store.Run) bool { return true }},
		{"by count", 20, 10, 0, nil}, // checked below: oldest finished go first
		{"by age", 48, 0, 24 * time.Hour, func(i int, r *store.Run) bool {
			return !store.IsTerminal(r.Status) || !r.CreatedAt.Before(now.Add(-24*time.Hour))
		}},
		{"count and age", 48, 40, 30 * time.Hour, nil},
		{"more than one transaction", 2600, 100, 0, nil},
		{"only unfinished left", 20, 1, 0, func(i int, r *store.Run) bool { return !store.IsTerminal(r.Status) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openDB(t, "")
			runs := ageFixture(t, db, tt.n, now)
			keep := tt.keep
			if keep == nil {
				keep = refPrune(runs, tt.maxRuns, tt.maxAge, now)
			}
			deleted, err := db.Runs().Prune(context.Background(), tt.maxRuns, tt.maxAge, now)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for i, r := range runs {
				if keep(i, r) {
					want = append(want, r.ID)
				}
			}
			got := listAll(t, db, store.RunFilter{}, store.Page{Limit: 100, Order: "asc"})
			if !slices.Equal(got, want) {
				t.Errorf("kept %d runs, want %d", len(got), len(want))
			}
			if deleted != tt.n-len(want) {
				t.Errorf("Prune = %d, want %d", deleted, tt.n-len(want))
			}
			st, _ := db.Stats()
			if st.Runs != len(want) {
				t.Errorf("Stats.Runs = %d, want %d", st.Runs, len(want))
			}
			mustCheck(t, db)
		})
	}
}

// refPrune is the retention rule: oldest finished runs go while there are
// more than maxRuns, and finished runs older than maxAge go.
func refPrune(runs []*store.Run, maxRuns int, maxAge time.Duration, now time.Time) func(int, *store.Run) bool {
	gone := map[int]bool{}
	excess := len(runs) - maxRuns
	for i, r := range runs {
		if !store.IsTerminal(r.Status) {
			continue
		}
		if excess > 0 || (maxAge > 0 && r.CreatedAt.Before(now.Add(-maxAge))) {
			gone[i] = true
			excess--
		}
	}
	return func(i int, _ *store.Run) bool { return !gone[i] }
}

// TestLimitRuns: with LimitRuns, copying the journal into bbolt deletes the
// oldest finished runs beyond the limit in the same transaction, by the
// same rule as Prune, and a limit of 0 keeps everything.
func TestLimitRuns(t *testing.T) {
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, limit := range []int{0, 1, 10, 19, 20, 100} {
		db := openDB(t, "")
		db.Runs().LimitRuns(limit)
		runs := ageFixture(t, db, 20, now)
		keep := refPrune(runs, limit, 0, now)
		var want []string
		for i, r := range runs {
			if limit <= 0 || keep(i, r) {
				want = append(want, r.ID)
			}
		}
		got := listAll(t, db, store.RunFilter{}, store.Page{Limit: 100, Order: "asc"})
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
	got := listAll(t, db, store.RunFilter{}, store.Page{Limit: 100, Order: "asc"})
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
