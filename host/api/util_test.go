package api_test

import (
	"testing"
	"time"

	"github.com/toolhost/toolhost/host/domain"
)

func storeFilter() domain.RunFilter { return domain.RunFilter{} }

func storePage() domain.Page { return domain.Page{Limit: 100} }

// waitFor polls cond every 10 ms for up to 10 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
