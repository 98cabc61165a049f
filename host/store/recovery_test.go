package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/toolhost/toolhost/host/store"
)

func TestInterruptRuns(t *testing.T) {
	db := openDB(t, "")
	started := time.Now().Add(-time.Second)
	byStatus := map[string][]*store.Run{}
	for _, s := range store.Statuses() {
		for range 3 {
			r := newRun(s)
			r.StartedAt = &started
			r.Events = []store.Event{{Seq: 1, Type: "run.created"}}
			mustPut(t, db, r)
			byStatus[s] = append(byStatus[s], r)
		}
	}
	// Enough to need more than one transaction.
	var many []*store.Run
	for range 1500 {
		many = append(many, newRun(store.StatusRunning))
	}
	if err := db.Runs().PutRuns(context.Background(), many); err != nil {
		t.Fatal(err)
	}
	byStatus[store.StatusRunning] = append(byStatus[store.StatusRunning], many...)

	n, err := db.Runs().InterruptRuns(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := 3 + 3 + 3 + 1500; n != want {
		t.Errorf("InterruptRuns = %d, want %d", n, want)
	}
	for s, runs := range byStatus {
		for _, r := range runs {
			got, err := db.Runs().GetRun(context.Background(), r.ID)
			if err != nil {
				t.Fatal(err)
			}
			if s != store.StatusQueued && s != store.StatusRunning && s != store.StatusRequiresAction {
				if got.Status != s || got.Error != nil {
					t.Errorf("%s run became %s", s, got.Status)
				}
				continue
			}
			if got.Status != store.StatusFailed || got.Error == nil || *got.Error != store.InterruptedError || got.FinishedAt == nil {
				t.Fatalf("interrupted %s run = status %s error %+v finished %v", s, got.Status, got.Error, got.FinishedAt)
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
	if got := store.InterruptedError.Message; got != "the host stopped while this run was in progress; it was not retried (it may or may not have taken effect)" {
		t.Errorf("message %q", got)
	}
	mustCheck(t, db)
	if n, err := db.Runs().InterruptRuns(context.Background()); n != 0 || err != nil {
		t.Errorf("second InterruptRuns = %d, %v", n, err)
	}
}
