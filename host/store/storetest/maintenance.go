package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/toolhost/toolhost/host/backend"
	"github.com/toolhost/toolhost/host/domain"
)

func InterruptRuns(t *testing.T, h Harness) {
	s := h.open(t)
	started := time.Now().Add(-time.Second)
	byStatus := map[string][]*domain.Run{}
	for _, st := range domain.Statuses() {
		for range 3 {
			r := newRun(st)
			r.StartedAt = &started
			r.Events = []domain.Event{{Seq: 1, Type: "run.created"}}
			mustPut(t, s, r)
			byStatus[st] = append(byStatus[st], r)
		}
	}
	// Enough to need more than one transaction.
	var many []*domain.Run
	for range 1500 {
		many = append(many, newRun(domain.StatusRunning))
	}
	if err := s.Runs().PutRuns(bg, many); err != nil {
		t.Fatal(err)
	}
	byStatus[domain.StatusRunning] = append(byStatus[domain.StatusRunning], many...)

	n, err := s.Runs().InterruptRuns(bg)
	if err != nil {
		t.Fatal(err)
	}
	if want := 3 + 3 + 3 + 1500; n != want {
		t.Errorf("InterruptRuns = %d, want %d", n, want)
	}
	for st, runs := range byStatus {
		for _, r := range runs {
			got, err := s.Runs().GetRun(bg, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			if st != domain.StatusQueued && st != domain.StatusRunning && st != domain.StatusRequiresAction {
				if got.Status != st || got.Error != nil {
					t.Errorf("%s run became %s", st, got.Status)
				}
				continue
			}
			if got.Status != domain.StatusFailed || got.Error == nil || *got.Error != domain.InterruptedError || got.FinishedAt == nil {
				t.Fatalf("interrupted %s run = status %s error %+v finished %v", st, got.Status, got.Error, got.FinishedAt)
			}
			if len(r.Events) == 1 {
				if last := got.Events[len(got.Events)-1]; last.Type != "run.failed" || last.Seq != 2 {
					t.Errorf("last event %+v, want run.failed seq 2", last)
				}
				if got.DurationMS < 1000 {
					t.Errorf("duration %v ms, want ≥ 1000", got.DurationMS)
				}
			}
		}
	}
	if got := domain.InterruptedError.Message; got != "the host stopped while this run was in progress; it was not retried (it may or may not have taken effect)" {
		t.Errorf("message %q", got)
	}
	mustCheck(t, s)
	if n, err := s.Runs().InterruptRuns(bg); n != 0 || err != nil {
		t.Errorf("second InterruptRuns = %d, %v", n, err)
	}
}

// AgeFixture stores n runs an hour apart ending at now, every fifth one
// unfinished, and returns their ids oldest first.
func AgeFixture(t *testing.T, s backend.Store, n int, now time.Time) []*domain.Run {
	var runs []*domain.Run
	for i := range n {
		at := now.Add(-time.Duration(n-1-i) * time.Hour)
		st := domain.StatusSucceeded
		switch i % 5 {
		case 1:
			st = domain.StatusFailed
		case 2:
			st = domain.StatusRunning
		case 3:
			st = domain.StatusTimedOut
		}
		runs = append(runs, &domain.Run{ID: runID(at), Status: st, ActionID: "CA1", PluginID: "CP1", ThreadID: "thread_1", CreatedAt: at})
	}
	if err := s.Runs().PutRuns(bg, runs); err != nil {
		t.Fatal(err)
	}
	return runs
}

func Prune(t *testing.T, h Harness) {
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		n       int
		maxRuns int
		maxAge  time.Duration
		keep    func(i int, r *domain.Run) bool // by position, oldest first
	}{
		{"nothing to do", 20, 100, 0, func(int, *domain.Run) bool { return true }},
		{"by count", 20, 10, 0, nil}, // checked below: oldest finished go first
		{"by age", 48, 0, 24 * time.Hour, func(i int, r *domain.Run) bool {
			return !domain.IsTerminal(r.Status) || !r.CreatedAt.Before(now.Add(-24*time.Hour))
		}},
		{"count and age", 48, 40, 30 * time.Hour, nil},
		{"more than one transaction", 2600, 100, 0, nil},
		{"only unfinished left", 20, 1, 0, func(i int, r *domain.Run) bool { return !domain.IsTerminal(r.Status) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := h.open(t)
			runs := AgeFixture(t, s, tt.n, now)
			keep := tt.keep
			if keep == nil {
				keep = RefPrune(runs, tt.maxRuns, tt.maxAge, now)
			}
			deleted, err := s.Runs().Prune(bg, tt.maxRuns, tt.maxAge, now)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for i, r := range runs {
				if keep(i, r) {
					want = append(want, r.ID)
				}
			}
			got := ListAll(t, s, domain.RunFilter{}, domain.Page{Limit: 100, Order: "asc"})
			if !slices.Equal(got, want) {
				t.Errorf("kept %d runs, want %d", len(got), len(want))
			}
			if deleted != tt.n-len(want) {
				t.Errorf("Prune = %d, want %d", deleted, tt.n-len(want))
			}
			st := counts(t, s)
			if st.Runs != len(want) {
				t.Errorf("Counts.Runs = %d, want %d", st.Runs, len(want))
			}
			mustCheck(t, s)
		})
	}
}

// RefPrune is the retention rule: oldest finished runs go while there are
// more than maxRuns, and finished runs older than maxAge go.
func RefPrune(runs []*domain.Run, maxRuns int, maxAge time.Duration, now time.Time) func(int, *domain.Run) bool {
	gone := map[int]bool{}
	excess := len(runs) - maxRuns
	for i, r := range runs {
		if !domain.IsTerminal(r.Status) {
			continue
		}
		if excess > 0 || (maxAge > 0 && r.CreatedAt.Before(now.Add(-maxAge))) {
			gone[i] = true
			excess--
		}
	}
	return func(i int, _ *domain.Run) bool { return !gone[i] }
}
