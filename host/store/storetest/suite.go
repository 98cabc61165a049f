// Package storetest is the test suite every store backend passes: the
// same exported test functions run against bbolt (host/store's tests) and
// PostgreSQL (host/pgstore's tests), through the backend.Store interfaces
// the host uses. A Harness says how to make, open and inspect a store of
// one backend.
package storetest

import (
	"context"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/toolhost/toolhost/host/backend"
	"github.com/toolhost/toolhost/host/domain"
)

// Harness makes stores of one backend for the suite.
type Harness struct {
	// New makes an empty place for a store (a directory, a database) and
	// returns where it is.
	New func(t testing.TB) string
	// Open opens the store at where with the secret key (nil: none); it is
	// closed when the test ends, or before by the test.
	Open func(t testing.TB, where string, key []byte) backend.Store
	// AtRest returns the bytes the backend keeps for the store's plugins
	// and keys, as they are stored (the bbolt file; the table rows). The
	// store at where may be open.
	AtRest func(t testing.TB, where string) []byte
}

// Key is the secret key the suite's stores seal with.
var Key = []byte("0123456789abcdef0123456789abcdef")

// open makes and opens a fresh store.
func (h Harness) open(t testing.TB) backend.Store {
	t.Helper()
	return h.Open(t, h.New(t), Key)
}

// Tests are the suite's test functions by name.
var Tests = []struct {
	Name string
	F    func(*testing.T, Harness)
}{
	{"RunsPagination", RunsPagination},
	{"RunsPageErrors", RunsPageErrors},
	{"RunsFilters", RunsFilters},
	{"RunsRandomPages", RunsRandomPages},
	{"RunsFollowStatusChanges", RunsFollowStatusChanges},
	{"RunsConcurrent", RunsConcurrent},
	{"RunStateMachine", RunStateMachine},
	{"RunsRejectBadRuns", RunsRejectBadRuns},
	{"RunsFillIDAndTime", RunsFillIDAndTime},
	{"RunsAllOrNothing", RunsAllOrNothing},
	{"RunsEncodedAlike", RunsEncodedAlike},
	{"RunsFinalRecordOutlivesItsRequest", RunsFinalRecordOutlivesItsRequest},
	{"InterruptRuns", InterruptRuns},
	{"Prune", Prune},
	{"ThreadsAndMessages", ThreadsAndMessages},
	{"MessageValidation", MessageValidation},
	{"Keys", Keys},
	{"KeyScopes", KeyScopes},
	{"Idempotency", Idempotency},
	{"IdempotencyConcurrentClaims", IdempotencyConcurrentClaims},
	{"PruneIdempotency", PruneIdempotency},
	{"PluginSecretsSealedAtRest", PluginSecretsSealedAtRest},
	{"PluginsAndManifests", PluginsAndManifests},
}

// Run runs every test of the suite as a subtest.
func Run(t *testing.T, h Harness) {
	for _, tt := range Tests {
		t.Run(tt.Name, func(t *testing.T) { tt.F(t, h) })
	}
}

var bg = context.Background()

// runID makes a run id whose time is at.
func runID(at time.Time) string {
	return domain.RunPrefix + ulid.MustNew(ulid.Timestamp(at), rand.Reader).String()
}

func newRun(status string) *domain.Run {
	return &domain.Run{ID: domain.NewID(domain.RunPrefix), Kind: "action", Status: status, ActionID: "CA1", PluginID: "CP1"}
}

func mustPut(t testing.TB, s backend.Store, runs ...*domain.Run) {
	t.Helper()
	for _, r := range runs {
		if err := s.Runs().PutRun(bg, r); err != nil {
			t.Fatalf("PutRun(%s %s): %v", r.ID, r.Status, err)
		}
	}
}

func mustCheck(t testing.TB, s backend.Store) {
	t.Helper()
	if err := s.Check(bg); err != nil {
		t.Fatalf("Check: %v", err)
	}
}

func counts(t testing.TB, s backend.Store) backend.Counts {
	t.Helper()
	c, err := s.Counts(bg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ids[T any](items []T, id func(T) string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = id(it)
	}
	return out
}

func runIDs(runs []*domain.Run) []string {
	return ids(runs, func(r *domain.Run) string { return r.ID })
}

func sameStrings(a, b []string) bool { return fmt.Sprint(a) == fmt.Sprint(b) }
