package core

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/toolhost/toolhost/host/domain"
)

var eventStrings = []string{"", "run_01J9Z3", "succeeded", "CA0123", "a<b>&c", `say "hi"`, `back\slash`,
	"tab\tnl\n", "\x00\x1f", "é 日本", "\u2028", "\xff bad", "🎉"}

// TestRunSummaryMatchesEncodingJSON compares the hand-written state event
// data with encoding/json's encoding of the same fields.
func TestRunSummaryMatchesEncodingJSON(t *testing.T) {
	type stateData struct {
		ID       string           `json:"id"`
		Status   string           `json:"status"`
		ActionID string           `json:"action_id,omitempty"`
		Error    *domain.RunError `json:"error,omitempty"`
	}
	n := len(eventStrings)
	for i, id := range eventStrings {
		for j, status := range eventStrings {
			for k, action := range eventStrings {
				r := &domain.Run{ID: id, Status: status, ActionID: action}
				if (i+j+k)%2 == 0 {
					r.Error = &domain.RunError{Code: eventStrings[(i+k)%n], Message: eventStrings[(j+k+1)%n]}
				}
				want, _ := json.Marshal(stateData{ID: r.ID, Status: r.Status, ActionID: r.ActionID, Error: r.Error})
				if got := runSummary(r); !bytes.Equal(got, want) {
					t.Fatalf("runSummary(%+v) = %s, encoding/json gives %s", r, got, want)
				}
			}
		}
	}
}

func TestStartedDataMatchesEncodingJSON(t *testing.T) {
	for _, at := range []time.Time{
		time.Now(), time.Now().UTC(), time.Date(2026, 11, 26, 15, 0, 0, 0, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 600, time.FixedZone("", 5*3600+1800)),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), {},
	} {
		want, _ := json.Marshal(struct {
			StartedAt time.Time `json:"started_at"`
		}{at})
		if got := startedData(at); !bytes.Equal(got, want) {
			t.Errorf("startedData(%v) = %s, encoding/json gives %s", at, got, want)
		}
	}
}
