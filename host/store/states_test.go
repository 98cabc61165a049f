package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/toolhost/toolhost/host/store"
)

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
