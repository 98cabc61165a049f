package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/toolhost/toolhost/host/store"
)

func TestRunStateMachine(t *testing.T) {
	allowed := map[string][]string{
		store.StatusQueued:         {store.StatusQueued, store.StatusRunning, store.StatusCancelled, store.StatusFailed},
		store.StatusRunning:        {store.StatusRunning, store.StatusSucceeded, store.StatusFailed, store.StatusCancelled, store.StatusTimedOut, store.StatusRequiresAction},
		store.StatusRequiresAction: {store.StatusRequiresAction, store.StatusRunning, store.StatusCancelled, store.StatusExpired, store.StatusFailed},
	}
	db := openDB(t, "")
	for _, from := range store.Statuses() {
		for _, to := range store.Statuses() {
			var want error // nil, ErrTerminal or ErrTransition
			switch {
			case store.IsTerminal(from):
				want = store.ErrTerminal
			case !contains(allowed[from], to):
				want = store.ErrTransition
			}
			t.Run(from+"→"+to, func(t *testing.T) {
				r := newRun(from)
				mustPut(t, db, r)
				r.Status = to
				r.Events = append(r.Events, store.Event{Seq: 1, Type: "run." + to})
				err := db.Runs().PutRun(context.Background(), r)
				if want == nil && err != nil || want != nil && !errors.Is(err, want) {
					t.Fatalf("PutRun %s → %s = %v, want %v", from, to, err, want)
				}
				if err := store.CheckTransition(from, to); want == nil && err != nil || want != nil && !errors.Is(err, want) {
					t.Errorf("CheckTransition(%s, %s) = %v, want %v", from, to, err, want)
				}
				got, err := db.Runs().GetRun(context.Background(), r.ID)
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
	mustCheck(t, db)
}

func TestPutRunRejectsBadRuns(t *testing.T) {
	db := openDB(t, "")
	tests := []struct {
		name string
		run  store.Run
	}{
		{"unknown status", store.Run{Status: "done"}},
		{"empty status", store.Run{}},
		{"id not a ULID", store.Run{ID: "run_1", Status: store.StatusQueued}},
		{"id without prefix", store.Run{ID: store.NewID("thread_"), Status: store.StatusQueued}},
		{"NUL in action id", store.Run{Status: store.StatusQueued, ActionID: "a\x00b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.run
			if err := db.Runs().PutRun(context.Background(), &r); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("PutRun = %v, want ErrInvalid", err)
			}
		})
	}
	if err := store.CheckTransition(store.StatusQueued, "nope"); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("CheckTransition to unknown = %v", err)
	}
}

func TestPutRunFillsIDAndTime(t *testing.T) {
	db := openDB(t, "")
	r := &store.Run{Status: store.StatusQueued}
	mustPut(t, db, r)
	if r.ID == "" || r.CreatedAt.IsZero() {
		t.Fatalf("PutRun left id %q, created %v", r.ID, r.CreatedAt)
	}
	if _, err := db.Runs().GetRun(context.Background(), r.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Runs().GetRun(context.Background(), "run_missing"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetRun(missing) = %v", err)
	}
}

func TestPutRunsAllOrNothing(t *testing.T) {
	db := openDB(t, "")
	done := newRun(store.StatusSucceeded)
	mustPut(t, db, done)
	fresh := newRun(store.StatusQueued)
	done.Status = store.StatusRunning
	if err := db.Runs().PutRuns(context.Background(), []*store.Run{fresh, done}); !errors.Is(err, store.ErrTerminal) {
		t.Fatalf("PutRuns = %v, want ErrTerminal", err)
	}
	if _, err := db.Runs().GetRun(context.Background(), fresh.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("fresh run stored although the batch was refused: %v", err)
	}
	// The same run twice in one call goes through the state machine in order.
	r := newRun(store.StatusQueued)
	r2 := *r
	r2.Status = store.StatusRunning
	if err := db.Runs().PutRuns(context.Background(), []*store.Run{r, &r2}); err != nil {
		t.Fatal(err)
	}
	mustCheck(t, db)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestTransitionsCheckedAfterApplyAndReopen: once a run is in bbolt (the
// journal applied it, or the file was reopened), an update that breaks the
// state machine is still refused; a stored run's id, old or new, is looked
// up, not assumed new.
func TestTransitionsCheckedAfterApplyAndReopen(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir)
	later := &store.Run{ID: runID(time.Now().Add(time.Hour)), Status: store.StatusSucceeded, ActionID: "CA1", PluginID: "CP1", CreatedAt: time.Now().UTC()}
	earlier := &store.Run{ID: runID(time.Now().Add(-time.Hour)), Status: store.StatusFailed, ActionID: "CA1", PluginID: "CP1", CreatedAt: time.Now().UTC()}
	mustPut(t, db, later, earlier)
	refused := func(db *store.DB, r *store.Run, when string) {
		t.Helper()
		back := *r
		back.Status = store.StatusRunning
		if err := db.Runs().PutRun(context.Background(), &back); !errors.Is(err, store.ErrTerminal) {
			t.Errorf("%s: %s → running = %v, want ErrTerminal", when, r.Status, err)
		}
	}
	if _, err := db.Stats(); err != nil { // applies the journal
		t.Fatal(err)
	}
	refused(db, later, "after apply")
	refused(db, earlier, "after apply")
	db.Close()
	db = openDB(t, dir)
	refused(db, later, "after reopen")
	refused(db, earlier, "after reopen")
	// An unstored id below the newest stored one is new.
	mustPut(t, db, &store.Run{ID: runID(time.Now()), Status: store.StatusRunning, ActionID: "CA1", PluginID: "CP1", CreatedAt: time.Now().UTC()})
}
