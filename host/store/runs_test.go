package store_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/toolhost/toolhost/host/store"
)

// refPage is the pagination contract, applied to ids sorted ascending.
func refPage(all []string, p store.Page) ([]string, bool) {
	limit := p.Limit
	if limit == 0 {
		limit = store.DefaultLimit
	}
	inOrder := slices.Clone(all)
	if p.Order != store.OrderAsc {
		slices.Reverse(inOrder)
	}
	// "x comes before y in the chosen order"
	less := func(x, y string) bool {
		if p.Order == store.OrderAsc {
			return x < y
		}
		return x > y
	}
	var keep []string
	for _, id := range inOrder {
		if p.After != "" && !less(p.After, id) {
			continue
		}
		if p.Before != "" && !less(id, p.Before) {
			continue
		}
		keep = append(keep, id)
	}
	if len(keep) <= limit {
		return keep, false
	}
	if p.Before != "" && p.After == "" {
		return keep[len(keep)-limit:], true
	}
	return keep[:limit], true
}

func TestListRunsPagination(t *testing.T) {
	db := openDB(t, "")
	var all []string
	for range 25 {
		r := newRun(store.StatusSucceeded)
		mustPut(t, db, r)
		all = append(all, r.ID)
	}
	at := func(i int) string { return all[i] }
	newest20 := slices.Clone(all[5:])
	slices.Reverse(newest20)
	tests := []struct {
		name    string
		page    store.Page
		want    []string // ids by index into all
		hasMore bool
	}{
		{"default: newest 20", store.Page{}, newest20, true},
		{"desc limit 3", store.Page{Limit: 3}, []string{at(24), at(23), at(22)}, true},
		{"asc limit 3", store.Page{Limit: 3, Order: "asc"}, []string{at(0), at(1), at(2)}, true},
		{"desc after", store.Page{Limit: 3, After: at(10)}, []string{at(9), at(8), at(7)}, true},
		{"asc after", store.Page{Limit: 3, Order: "asc", After: at(10)}, []string{at(11), at(12), at(13)}, true},
		{"desc before", store.Page{Limit: 3, Before: at(10)}, []string{at(13), at(12), at(11)}, true},
		{"asc before", store.Page{Limit: 3, Order: "asc", Before: at(10)}, []string{at(7), at(8), at(9)}, true},
		{"desc after, last page", store.Page{Limit: 3, After: at(2)}, []string{at(1), at(0)}, false},
		{"asc after, last page exact", store.Page{Limit: 3, Order: "asc", After: at(21)}, []string{at(22), at(23), at(24)}, false},
		{"desc before, first page", store.Page{Limit: 5, Before: at(22)}, []string{at(24), at(23)}, false},
		{"asc before, first page", store.Page{Limit: 5, Order: "asc", Before: at(2)}, []string{at(0), at(1)}, false},
		{"asc after and before", store.Page{Limit: 2, Order: "asc", After: at(3), Before: at(7)}, []string{at(4), at(5)}, true},
		{"desc after and before", store.Page{Limit: 5, After: at(7), Before: at(3)}, []string{at(6), at(5), at(4)}, false},
		{"after the newest", store.Page{Order: "asc", After: at(24)}, nil, false},
		{"cursor not an id", store.Page{Limit: 2, After: "run_ZZZZ"}, []string{at(24), at(23)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runs, hasMore, err := db.Runs().ListRuns(context.Background(), store.RunFilter{}, tt.page)
			if err != nil {
				t.Fatal(err)
			}
			want, wantMore := refPage(all, tt.page)
			if tt.want != nil && !sameStrings(want, tt.want) || wantMore != tt.hasMore {
				t.Fatalf("reference gives %v %v, table %v %v", indexes(all, want), wantMore, indexes(all, tt.want), tt.hasMore)
			}
			if got := runIDs(runs); !sameStrings(got, want) || hasMore != tt.hasMore {
				t.Errorf("got %v has_more=%v, want %v has_more=%v", indexes(all, got), hasMore, indexes(all, want), tt.hasMore)
			}
		})
	}
}

func TestListRunsPageErrors(t *testing.T) {
	db := openDB(t, "")
	for _, p := range []store.Page{{Limit: -1}, {Limit: 101}, {Order: "up"}} {
		_, _, err := db.Runs().ListRuns(context.Background(), store.RunFilter{}, p)
		if !errors.Is(err, store.ErrInvalid) {
			t.Errorf("ListRuns(%+v) = %v, want ErrInvalid", p, err)
			continue
		}
		field := "limit"
		if p.Order != "" {
			field = "order"
		}
		if !strings.Contains(err.Error(), field) {
			t.Errorf("error %q does not name %s", err, field)
		}
	}
	if _, _, err := db.Runs().ListRuns(context.Background(), store.RunFilter{Status: "bogus"}, store.Page{}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("unknown status filter = %v", err)
	}
	for _, limit := range []int{1, 100} {
		if _, _, err := db.Runs().ListRuns(context.Background(), store.RunFilter{}, store.Page{Limit: limit}); err != nil {
			t.Errorf("limit %d: %v", limit, err)
		}
	}
}

// filterFixture stores runs with mixed fields, one a minute, and returns
// them by id.
func filterFixture(t *testing.T, db *store.DB, n int, start time.Time) map[string]*store.Run {
	rng := rand.New(rand.NewPCG(1, 2))
	runs := map[string]*store.Run{}
	var batch []*store.Run
	for i := range n {
		at := start.Add(time.Duration(i) * time.Minute)
		r := &store.Run{
			ID:        runID(at),
			Kind:      "action",
			ActionID:  fmt.Sprintf("CA%d", rng.IntN(4)),
			PluginID:  fmt.Sprintf("CP%d", rng.IntN(2)),
			Status:    store.Statuses()[rng.IntN(len(store.Statuses()))],
			CreatedAt: at,
		}
		if rng.IntN(3) == 0 {
			r.ThreadID = fmt.Sprintf("thread_%d", rng.IntN(3))
		}
		runs[r.ID] = r
		batch = append(batch, r)
	}
	if err := db.Runs().PutRuns(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	return runs
}

func matches(r *store.Run, f store.RunFilter) bool {
	return (f.ActionID == "" || r.ActionID == f.ActionID) &&
		(f.PluginID == "" || r.PluginID == f.PluginID) &&
		(f.Status == "" || r.Status == f.Status) &&
		(f.ThreadID == "" || r.ThreadID == f.ThreadID) &&
		(f.From.IsZero() || !r.CreatedAt.Before(f.From)) &&
		(f.To.IsZero() || r.CreatedAt.Before(f.To))
}

// listAll pages through ListRuns with p's order and limit.
func listAll(t *testing.T, db *store.DB, f store.RunFilter, p store.Page) []string {
	t.Helper()
	var got []string
	for pages := 0; ; pages++ {
		runs, hasMore, err := db.Runs().ListRuns(context.Background(), f, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range runs {
			if !matches(r, f) {
				t.Fatalf("run %+v does not match %+v", r, f)
			}
		}
		got = append(got, runIDs(runs)...)
		if !hasMore {
			return got
		}
		if len(runs) == 0 || pages > 1000 {
			t.Fatalf("has_more with an empty page")
		}
		p.After = runs[len(runs)-1].ID
	}
}

func TestListRunsFilters(t *testing.T) {
	db := openDB(t, "")
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	runs := filterFixture(t, db, 300, start)
	mid := start.Add(100 * time.Minute)
	filters := []store.RunFilter{
		{},
		{ActionID: "CA1"},
		{PluginID: "CP0"},
		{Status: store.StatusSucceeded},
		{ThreadID: "thread_2"},
		{ActionID: "CA2", Status: store.StatusFailed},
		{ActionID: "CA3", PluginID: "CP1", Status: store.StatusRunning},
		{ActionID: "CA0", PluginID: "CP1", Status: store.StatusQueued, ThreadID: "thread_0"},
		{PluginID: "CP1", ThreadID: "thread_1"},
		{ActionID: "nope"},
		{From: mid},
		{To: mid},
		{From: mid, To: mid.Add(50 * time.Minute)},
		{From: mid.Add(30 * time.Second), To: mid.Add(90*time.Second + 1)}, // one run inside
		{ActionID: "CA1", Status: store.StatusSucceeded, From: mid, To: mid.Add(2 * time.Hour)},
	}
	for _, f := range filters {
		var want []string
		for id, r := range runs {
			if matches(r, f) {
				want = append(want, id)
			}
		}
		slices.Sort(want)
		for _, order := range []string{"asc", "desc"} {
			for _, limit := range []int{1, 7, 100} {
				t.Run(fmt.Sprintf("%+v/%s/%d", f, order, limit), func(t *testing.T) {
					got := listAll(t, db, f, store.Page{Limit: limit, Order: order})
					exp := slices.Clone(want)
					if order == "desc" {
						slices.Reverse(exp)
					}
					if !sameStrings(got, exp) {
						t.Errorf("got %d runs %v\nwant %d runs %v", len(got), got, len(exp), exp)
					}
				})
			}
		}
	}
}

// TestListRunsRandomPages compares random filtered pages with the
// reference pagination.
func TestListRunsRandomPages(t *testing.T) {
	db := openDB(t, "")
	runs := filterFixture(t, db, 200, time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC))
	var sorted []string
	for id := range runs {
		sorted = append(sorted, id)
	}
	slices.Sort(sorted)
	rng := rand.New(rand.NewPCG(3, 4))
	pick := func(vals ...string) string { return vals[rng.IntN(len(vals))] }
	for i := range 300 {
		f := store.RunFilter{
			ActionID: pick("", "", "CA0", "CA1"),
			Status:   pick("", "", store.StatusSucceeded, store.StatusFailed),
			ThreadID: pick("", "", "", "thread_1"),
		}
		p := store.Page{Limit: 1 + rng.IntN(10), Order: pick("", "asc", "desc")}
		if rng.IntN(2) == 0 {
			p.After = sorted[rng.IntN(len(sorted))]
		}
		if rng.IntN(2) == 0 {
			p.Before = sorted[rng.IntN(len(sorted))]
		}
		var all []string
		for _, id := range sorted {
			if matches(runs[id], f) {
				all = append(all, id)
			}
		}
		want, wantMore := refPage(all, p)
		got, hasMore, err := db.Runs().ListRuns(context.Background(), f, p)
		if err != nil {
			t.Fatal(err)
		}
		if !sameStrings(runIDs(got), want) || hasMore != wantMore {
			t.Fatalf("case %d %+v %+v: got %v %v, want %v %v", i, f, p, runIDs(got), hasMore, want, wantMore)
		}
	}
}

func TestIndexesFollowStatusChanges(t *testing.T) {
	db := openDB(t, "")
	r := newRun(store.StatusQueued)
	r.ThreadID = "thread_a"
	mustPut(t, db, r)
	for _, s := range []string{store.StatusRunning, store.StatusRequiresAction, store.StatusRunning, store.StatusSucceeded} {
		r.Status = s
		mustPut(t, db, r)
		mustCheck(t, db)
		for _, other := range store.Statuses() {
			got, _, err := db.Runs().ListRuns(context.Background(), store.RunFilter{Status: other}, store.Page{})
			if err != nil {
				t.Fatal(err)
			}
			if want := other == s; (len(got) == 1) != want {
				t.Errorf("after → %s, status=%s lists %d runs", s, other, len(got))
			}
		}
	}
	// Moving a run to another action moves its index entry too.
	r2 := newRun(store.StatusRunning)
	mustPut(t, db, r2)
	r2.ActionID, r2.ThreadID = "CA9", "thread_b"
	mustPut(t, db, r2)
	mustCheck(t, db)
	if got, _, _ := db.Runs().ListRuns(context.Background(), store.RunFilter{ActionID: "CA1"}, store.Page{}); !sameStrings(runIDs(got), []string{r.ID}) {
		t.Errorf("action CA1 lists %v", runIDs(got))
	}
}

func TestPutRunConcurrent(t *testing.T) {
	db := openDB(t, "")
	const workers, perWorker = 64, 5
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				r := newRun(store.StatusQueued)
				r.ActionID = fmt.Sprintf("CA%d", w%8)
				for seq, s := range []string{store.StatusQueued, store.StatusRunning, store.StatusSucceeded} {
					r.Status = s
					r.Events = append(r.Events, store.Event{Seq: seq + 1, Type: "run." + s, At: time.Now()})
					if err := db.Runs().PutRun(context.Background(), r); err != nil {
						errs <- fmt.Errorf("worker %d run %d → %s: %w", w, i, s, err)
						return
					}
				}
				// A second final write must be refused, also under load.
				r.Status = store.StatusFailed
				if err := db.Runs().PutRun(context.Background(), r); !errors.Is(err, store.ErrTerminal) {
					errs <- fmt.Errorf("worker %d: rewrite after success = %v", w, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	runs, _, err := db.Runs().ListRuns(context.Background(), store.RunFilter{Status: store.StatusSucceeded}, store.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 100 {
		t.Errorf("listed %d succeeded runs", len(runs))
	}
	st, _ := db.Stats()
	if st.Runs != workers*perWorker {
		t.Errorf("Stats.Runs = %d, want %d", st.Runs, workers*perWorker)
	}
	mustCheck(t, db)
}

func indexes(all, ids []string) []int {
	var out []int
	for _, id := range ids {
		out = append(out, slices.Index(all, id))
	}
	return out
}
