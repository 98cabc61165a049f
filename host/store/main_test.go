package store_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/toolhost/toolhost/host/store"
)

// childOpenEnv, when set, makes the test binary a child process that opens
// the store in that directory, prints what happened as JSON and exits.
const childOpenEnv = "STORE_TEST_CHILD_OPEN"

func TestMain(m *testing.M) {
	if dir := os.Getenv(childOpenEnv); dir != "" {
		childOpen(dir)
		return
	}
	if dir := os.Getenv(childJournalEnv); dir != "" {
		childJournal(dir)
		return
	}
	os.Exit(m.Run())
}

type childResult struct {
	Err      string
	IsInUse  bool
	Duration time.Duration
}

func childOpen(dir string) {
	start := time.Now()
	db, err := store.Open(dir, store.Options{})
	res := childResult{Duration: time.Since(start)}
	if err != nil {
		res.Err, res.IsInUse = err.Error(), errors.Is(err, store.ErrInUse)
	} else {
		db.Close()
	}
	json.NewEncoder(os.Stdout).Encode(res)
	os.Exit(0)
}

// testKey is a fixed secret key for tests.
var testKey = []byte("0123456789abcdef0123456789abcdef")

func openDB(t testing.TB, dir string) *store.DB {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	db, err := store.Open(dir, store.Options{SecretKey: testKey})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// runID makes a run id whose time is at.
func runID(at time.Time) string {
	return store.RunPrefix + ulid.MustNew(ulid.Timestamp(at), rand.Reader).String()
}

func newRun(status string) *store.Run {
	return &store.Run{ID: store.NewID(store.RunPrefix), Kind: "action", Status: status,
		ActionID: "CA1", PluginID: "CP1"}
}

func mustPut(t testing.TB, db *store.DB, runs ...*store.Run) {
	t.Helper()
	for _, r := range runs {
		if err := db.Runs().PutRun(context.Background(), r); err != nil {
			t.Fatalf("PutRun(%s %s): %v", r.ID, r.Status, err)
		}
	}
}

func mustCheck(t testing.TB, db *store.DB) {
	t.Helper()
	if err := db.Check(); err != nil {
		t.Fatalf("Check: %v", err)
	}
}

func timeNow() time.Time { return time.Now().UTC() }

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }
