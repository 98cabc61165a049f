package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/toolhost/toolhost/host/backend"
	"github.com/toolhost/toolhost/host/domain"
)

// refPage is the pagination contract, applied to ids sorted ascending.
func refPage(all []string, p domain.Page) ([]string, bool) {
	limit := p.Limit
	if limit == 0 {
		limit = domain.DefaultLimit
	}
	inOrder := slices.Clone(all)
	if p.Order != domain.OrderAsc {
		slices.Reverse(inOrder)
	}
	// "x comes before y in the chosen order"
	less := func(x, y string) bool {
		if p.Order == domain.OrderAsc {
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

func RunsPagination(t *testing.T, h Harness) {
	s := h.open(t)
	var all []string
	for range 25 {
		r := newRun(domain.StatusSucceeded)
		mustPut(t, s, r)
		all = append(all, r.ID)
	}
	at := func(i int) string { return all[i] }
	newest20 := slices.Clone(all[5:])
	slices.Reverse(newest20)
	tests := []struct {
		name    string
		page    domain.Page
		want    []string // ids by index into all
		hasMore bool
	}{
		{"default: newest 20", domain.Page{}, newest20, true},
		{"desc limit 3", domain.Page{Limit: 3}, []string{at(24), at(23), at(22)}, true},
		{"asc limit 3", domain.Page{Limit: 3, Order: "asc"}, []string{at(0), at(1), at(2)}, true},
		{"desc after", domain.Page{Limit: 3, After: at(10)}, []string{at(9), at(8), at(7)}, true},
		{"asc after", domain.Page{Limit: 3, Order: "asc", After: at(10)}, []string{at(11), at(12), at(13)}, true},
		{"desc before", domain.Page{Limit: 3, Before: at(10)}, []string{at(13), at(12), at(11)}, true},
		{"asc before", domain.Page{Limit: 3, Order: "asc", Before: at(10)}, []string{at(7), at(8), at(9)}, true},
		{"desc after, last page", domain.Page{Limit: 3, After: at(2)}, []string{at(1), at(0)}, false},
		{"asc after, last page exact", domain.Page{Limit: 3, Order: "asc", After: at(21)}, []string{at(22), at(23), at(24)}, false},
		{"desc before, first page", domain.Page{Limit: 5, Before: at(22)}, []string{at(24), at(23)}, false},
		{"asc before, first page", domain.Page{Limit: 5, Order: "asc", Before: at(2)}, []string{at(0), at(1)}, false},
		{"asc after and before", domain.Page{Limit: 2, Order: "asc", After: at(3), Before: at(7)}, []string{at(4), at(5)}, true},
		{"desc after and before", domain.Page{Limit: 5, After: at(7), Before: at(3)}, []string{at(6), at(5), at(4)}, false},
		{"after the newest", domain.Page{Order: "asc", After: at(24)}, nil, false},
		{"cursor not an id", domain.Page{Limit: 2, After: "run_ZZZZ"}, []string{at(24), at(23)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runs, hasMore, err := s.Runs().ListRuns(bg, domain.RunFilter{}, tt.page)
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

func RunsPageErrors(t *testing.T, h Harness) {
	s := h.open(t)
	for _, p := range []domain.Page{{Limit: -1}, {Limit: 101}, {Order: "up"}} {
		_, _, err := s.Runs().ListRuns(bg, domain.RunFilter{}, p)
		if !errors.Is(err, domain.ErrInvalid) {
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
	if _, _, err := s.Runs().ListRuns(bg, domain.RunFilter{Status: "bogus"}, domain.Page{}); !errors.Is(err, domain.ErrInvalid) {
		t.Errorf("unknown status filter = %v", err)
	}
	for _, limit := range []int{1, 100} {
		if _, _, err := s.Runs().ListRuns(bg, domain.RunFilter{}, domain.Page{Limit: limit}); err != nil {
			t.Errorf("limit %d: %v", limit, err)
		}
	}
}

// filterFixture stores runs with mixed fields, one a minute, and returns
// them by id.
func filterFixture(t *testing.T, s backend.Store, n int, start time.Time) map[string]*domain.Run {
	rng := rand.New(rand.NewPCG(1, 2))
	runs := map[string]*domain.Run{}
	var batch []*domain.Run
	for i := range n {
		at := start.Add(time.Duration(i) * time.Minute)
		r := &domain.Run{
			ID:        runID(at),
			Kind:      "action",
			ActionID:  fmt.Sprintf("CA%d", rng.IntN(4)),
			PluginID:  fmt.Sprintf("CP%d", rng.IntN(2)),
			Status:    domain.Statuses()[rng.IntN(len(domain.Statuses()))],
			CreatedAt: at,
		}
		if rng.IntN(3) == 0 {
			r.ThreadID = fmt.Sprintf("thread_%d", rng.IntN(3))
		}
		runs[r.ID] = r
		batch = append(batch, r)
	}
	if err := s.Runs().PutRuns(bg, batch); err != nil {
		t.Fatal(err)
	}
	return runs
}

func matches(r *domain.Run, f domain.RunFilter) bool {
	return (f.ActionID == "" || r.ActionID == f.ActionID) &&
		(f.PluginID == "" || r.PluginID == f.PluginID) &&
		(f.Status == "" || r.Status == f.Status) &&
		(f.ThreadID == "" || r.ThreadID == f.ThreadID) &&
		(f.From.IsZero() || !r.CreatedAt.Before(f.From)) &&
		(f.To.IsZero() || r.CreatedAt.Before(f.To))
}

// ListAll pages through ListRuns with p's order and limit.
func ListAll(t *testing.T, s backend.Store, f domain.RunFilter, p domain.Page) []string {
	t.Helper()
	var got []string
	for pages := 0; ; pages++ {
		runs, hasMore, err := s.Runs().ListRuns(bg, f, p)
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

func RunsFilters(t *testing.T, h Harness) {
	s := h.open(t)
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	runs := filterFixture(t, s, 300, start)
	mid := start.Add(100 * time.Minute)
	filters := []domain.RunFilter{
		{},
		{ActionID: "CA1"},
		{PluginID: "CP0"},
		{Status: domain.StatusSucceeded},
		{ThreadID: "thread_2"},
		{ActionID: "CA2", Status: domain.StatusFailed},
		{ActionID: "CA3", PluginID: "CP1", Status: domain.StatusRunning},
		{ActionID: "CA0", PluginID: "CP1", Status: domain.StatusQueued, ThreadID: "thread_0"},
		{PluginID: "CP1", ThreadID: "thread_1"},
		{ActionID: "nope"},
		{From: mid},
		{To: mid},
		{From: mid, To: mid.Add(50 * time.Minute)},
		{From: mid.Add(30 * time.Second), To: mid.Add(90*time.Second + 1)}, // one run inside
		{ActionID: "CA1", Status: domain.StatusSucceeded, From: mid, To: mid.Add(2 * time.Hour)},
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
					got := ListAll(t, s, f, domain.Page{Limit: limit, Order: order})
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

// RunsRandomPages compares random filtered pages with the
// reference pagination.
func RunsRandomPages(t *testing.T, h Harness) {
	s := h.open(t)
	runs := filterFixture(t, s, 200, time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC))
	var sorted []string
	for id := range runs {
		sorted = append(sorted, id)
	}
	slices.Sort(sorted)
	rng := rand.New(rand.NewPCG(3, 4))
	pick := func(vals ...string) string { return vals[rng.IntN(len(vals))] }
	for i := range 300 {
		f := domain.RunFilter{
			ActionID: pick("", "", "CA0", "CA1"),
			Status:   pick("", "", domain.StatusSucceeded, domain.StatusFailed),
			ThreadID: pick("", "", "", "thread_1"),
		}
		p := domain.Page{Limit: 1 + rng.IntN(10), Order: pick("", "asc", "desc")}
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
		got, hasMore, err := s.Runs().ListRuns(bg, f, p)
		if err != nil {
			t.Fatal(err)
		}
		if !sameStrings(runIDs(got), want) || hasMore != wantMore {
			t.Fatalf("case %d %+v %+v: got %v %v, want %v %v", i, f, p, runIDs(got), hasMore, want, wantMore)
		}
	}
}

func RunsFollowStatusChanges(t *testing.T, h Harness) {
	s := h.open(t)
	r := newRun(domain.StatusQueued)
	r.ThreadID = "thread_a"
	mustPut(t, s, r)
	for _, st := range []string{domain.StatusRunning, domain.StatusRequiresAction, domain.StatusRunning, domain.StatusSucceeded} {
		r.Status = st
		mustPut(t, s, r)
		mustCheck(t, s)
		for _, other := range domain.Statuses() {
			got, _, err := s.Runs().ListRuns(bg, domain.RunFilter{Status: other}, domain.Page{})
			if err != nil {
				t.Fatal(err)
			}
			if want := other == st; (len(got) == 1) != want {
				t.Errorf("after → %s, status=%s lists %d runs", st, other, len(got))
			}
		}
	}
	// Moving a run to another action moves its index entry too.
	r2 := newRun(domain.StatusRunning)
	mustPut(t, s, r2)
	r2.ActionID, r2.ThreadID = "CA9", "thread_b"
	mustPut(t, s, r2)
	mustCheck(t, s)
	if got, _, _ := s.Runs().ListRuns(bg, domain.RunFilter{ActionID: "CA1"}, domain.Page{}); !sameStrings(runIDs(got), []string{r.ID}) {
		t.Errorf("action CA1 lists %v", runIDs(got))
	}
}

func RunsConcurrent(t *testing.T, h Harness) {
	s := h.open(t)
	const workers, perWorker = 64, 5
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				r := newRun(domain.StatusQueued)
				r.ActionID = fmt.Sprintf("CA%d", w%8)
				for seq, st := range []string{domain.StatusQueued, domain.StatusRunning, domain.StatusSucceeded} {
					r.Status = st
					r.Events = append(r.Events, domain.Event{Seq: seq + 1, Type: "run." + st, At: time.Now()})
					if err := s.Runs().PutRun(bg, r); err != nil {
						errs <- fmt.Errorf("worker %d run %d → %s: %w", w, i, st, err)
						return
					}
				}
				// A second final write must be refused, also under load.
				r.Status = domain.StatusFailed
				if err := s.Runs().PutRun(bg, r); !errors.Is(err, domain.ErrTerminal) {
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
	runs, _, err := s.Runs().ListRuns(bg, domain.RunFilter{Status: domain.StatusSucceeded}, domain.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 100 {
		t.Errorf("listed %d succeeded runs", len(runs))
	}
	st := counts(t, s)
	if st.Runs != workers*perWorker {
		t.Errorf("Counts.Runs = %d, want %d", st.Runs, workers*perWorker)
	}
	mustCheck(t, s)
}

func indexes(all, ids []string) []int {
	var out []int
	for _, id := range ids {
		out = append(out, slices.Index(all, id))
	}
	return out
}

func RunStateMachine(t *testing.T, h Harness) {
	allowed := map[string][]string{
		domain.StatusQueued:         {domain.StatusQueued, domain.StatusRunning, domain.StatusCancelled, domain.StatusFailed},
		domain.StatusRunning:        {domain.StatusRunning, domain.StatusSucceeded, domain.StatusFailed, domain.StatusCancelled, domain.StatusTimedOut, domain.StatusRequiresAction},
		domain.StatusRequiresAction: {domain.StatusRequiresAction, domain.StatusRunning, domain.StatusCancelled, domain.StatusExpired, domain.StatusFailed},
	}
	s := h.open(t)
	for _, from := range domain.Statuses() {
		for _, to := range domain.Statuses() {
			var want error // nil, ErrTerminal or ErrTransition
			switch {
			case domain.IsTerminal(from):
				want = domain.ErrTerminal
			case !slices.Contains(allowed[from], to):
				want = domain.ErrTransition
			}
			t.Run(from+"→"+to, func(t *testing.T) {
				r := newRun(from)
				mustPut(t, s, r)
				r.Status = to
				r.Events = append(r.Events, domain.Event{Seq: 1, Type: "run." + to})
				err := s.Runs().PutRun(bg, r)
				if want == nil && err != nil || want != nil && !errors.Is(err, want) {
					t.Fatalf("PutRun %s → %s = %v, want %v", from, to, err, want)
				}
				if err := domain.CheckTransition(from, to); want == nil && err != nil || want != nil && !errors.Is(err, want) {
					t.Errorf("CheckTransition(%s, %s) = %v, want %v", from, to, err, want)
				}
				got, err := s.Runs().GetRun(bg, r.ID)
				if err != nil {
					t.Fatal(err)
				}
				wantStatus := to
				if want != nil {
					wantStatus = from
				}
				if got.Status != wantStatus {
					t.Errorf("stored status %s, want %s", got.Status, wantStatus)
				}
			})
		}
	}
	mustCheck(t, s)
}

func RunsRejectBadRuns(t *testing.T, h Harness) {
	s := h.open(t)
	tests := []struct {
		name string
		run  domain.Run
	}{
		{"unknown status", domain.Run{Status: "done"}},
		{"empty status", domain.Run{}},
		{"id not a ULID", domain.Run{ID: "run_1", Status: domain.StatusQueued}},
		{"id without prefix", domain.Run{ID: domain.NewID("thread_"), Status: domain.StatusQueued}},
		{"NUL in action id", domain.Run{Status: domain.StatusQueued, ActionID: "a\x00b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.run
			if err := s.Runs().PutRun(bg, &r); !errors.Is(err, domain.ErrInvalid) {
				t.Errorf("PutRun = %v, want ErrInvalid", err)
			}
		})
	}
	if err := domain.CheckTransition(domain.StatusQueued, "nope"); !errors.Is(err, domain.ErrInvalid) {
		t.Errorf("CheckTransition to unknown = %v", err)
	}
}

func RunsFillIDAndTime(t *testing.T, h Harness) {
	s := h.open(t)
	r := &domain.Run{Status: domain.StatusQueued}
	mustPut(t, s, r)
	if r.ID == "" || r.CreatedAt.IsZero() {
		t.Fatalf("PutRun left id %q, created %v", r.ID, r.CreatedAt)
	}
	if _, err := s.Runs().GetRun(bg, r.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Runs().GetRun(bg, "run_missing"); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("GetRun(missing) = %v", err)
	}
}

func RunsAllOrNothing(t *testing.T, h Harness) {
	s := h.open(t)
	done := newRun(domain.StatusSucceeded)
	mustPut(t, s, done)
	fresh := newRun(domain.StatusQueued)
	done.Status = domain.StatusRunning
	if err := s.Runs().PutRuns(bg, []*domain.Run{fresh, done}); !errors.Is(err, domain.ErrTerminal) {
		t.Fatalf("PutRuns = %v, want ErrTerminal", err)
	}
	if _, err := s.Runs().GetRun(bg, fresh.ID); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("fresh run stored although the batch was refused: %v", err)
	}
	// The same run twice in one call goes through the state machine in order.
	r := newRun(domain.StatusQueued)
	r2 := *r
	r2.Status = domain.StatusRunning
	if err := s.Runs().PutRuns(bg, []*domain.Run{r, &r2}); err != nil {
		t.Fatal(err)
	}
	mustCheck(t, s)
}

// RunsEncodedAlike: a run with every field set, events included, reads
// back as it was stored, encoded byte for byte as host/store encodes it.
func RunsEncodedAlike(t *testing.T, h Harness) {
	s := h.open(t)
	now := time.Now().UTC().Truncate(time.Microsecond)
	started, finished := now.Add(-time.Second), now
	r := &domain.Run{ID: domain.NewID(domain.RunPrefix), Kind: "action", ActionID: "CA1", ActionKey: "web.fetch", PluginID: "CP1",
		PluginName: "web", ThreadID: domain.NewID(domain.ThreadPrefix), ParentRunID: domain.NewID(domain.RunPrefix), Status: domain.StatusRunning,
		KeyID: "key_1", Input: []byte(`{"url":"https://example.com/?a=<b>&c","n":1.5}`), CreatedAt: now, StartedAt: &started,
		Events:  []domain.Event{{Seq: 1, Type: "run.created", At: now}, {Seq: 2, Type: "log", Data: []byte(`{"msg":"ünïcode \u2028"}`), At: now}},
		KeyName: "ci", Source: "http", IdempotencyKey: "idem-1", Extra: []byte(`{"step":2}`)}
	mustPut(t, s, r)
	r.Status, r.FinishedAt, r.DurationMS = domain.StatusFailed, &finished, 1000.25
	r.Output = []byte(`{"ok":false}`)
	r.Error = &domain.RunError{Code: "plugin_error", Message: "it \"failed\""}
	r.Events = append(r.Events, domain.Event{Seq: 3, Type: "run.failed", Data: []byte(`{"error":{"code":"plugin_error"}}`), At: now})
	r.EventsDropped = 4
	mustPut(t, s, r)
	got, err := s.Runs().GetRun(bg, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	want, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	gotJSON, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if string(gotJSON) != string(want) {
		t.Errorf("read back\n%s\nwant\n%s", gotJSON, want)
	}
	page, _, err := s.Runs().ListRuns(bg, domain.RunFilter{ThreadID: r.ThreadID}, domain.Page{})
	if err != nil || len(page) != 1 || len(page[0].Events) != 3 || page[0].Events[1].Type != "log" {
		t.Fatalf("ListRuns = %v, %v", page, err)
	}
}

// RunsFinalRecordOutlivesItsRequest: a run's records are stored even when
// the context of the request that made it is already cancelled (a client
// that went away still gets its run recorded).
func RunsFinalRecordOutlivesItsRequest(t *testing.T, h Harness) {
	s := h.open(t)
	ctx, cancel := context.WithCancel(bg)
	cancel()
	r := newRun(domain.StatusRunning)
	if err := s.Runs().PutRun(ctx, r); err != nil {
		t.Fatalf("PutRun with a cancelled context: %v", err)
	}
	r.Status = domain.StatusCancelled
	if err := s.Runs().PutRun(ctx, r); err != nil {
		t.Fatalf("PutRun(cancelled) with a cancelled context: %v", err)
	}
	if err := s.Idempotency().FinishIdempotent(ctx, "absent", r.ID); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("FinishIdempotent with a cancelled context = %v, want ErrNotFound", err)
	}
	got, err := s.Runs().GetRun(bg, r.ID)
	if err != nil || got.Status != domain.StatusCancelled {
		t.Fatalf("GetRun = %+v, %v", got, err)
	}
}
