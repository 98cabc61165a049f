package core_test

import (
	"context"
	"testing"

	"github.com/toolhost/toolhost/host/domain"
)

// TestQueueFullRefusesWithoutARun fills a queue of one behind one busy
// worker: every further background call is rate_limited, makes no run,
// and leaves its idempotency key free, so that a retry runs.
func TestQueueFullRefusesWithoutARun(t *testing.T) {
	h := newHarness(t, 1, 1)
	release := make(chan struct{})
	h.plugin.set("get", block(release))

	first := h.submit(t, background(actRead, `{"s":"first"}`))
	h.plugin.nextCall(t) // the worker is busy
	queued := h.submit(t, background(actRead, `{"s":"queued"}`))
	if queued.Run.Status != domain.StatusQueued {
		t.Fatalf("second run = %s, want queued", queued.Run.Status)
	}

	refused := []struct {
		name string
		call func() error
	}{
		{"plain", func() error {
			_, err := h.r.Submit(context.Background(), background(actRead, `{"s":"third"}`))
			return err
		}},
		{"another action", func() error {
			_, err := h.r.Submit(context.Background(), background(actCreate, `{"s":"fourth"}`))
			return err
		}},
		{"with a key", func() error {
			_, err := h.r.Submit(context.Background(), withKey(background(actRead, `{"s":"keyed"}`), "retry-me"))
			return err
		}},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, tc.call(), domain.CodeRateLimited, "queue is full")
		})
	}

	ids := h.runs.ids()
	if len(ids) != 2 || !ids[first.Run.ID] || !ids[queued.Run.ID] {
		t.Fatalf("stored runs %v, want only %s and %s", ids, first.Run.ID, queued.Run.ID)
	}
	if h.idem.held(caller.KeyID, "retry-me") {
		t.Fatal("the refused call's idempotency key is still claimed")
	}

	close(release)
	h.wait(t, first.Run.ID)
	h.wait(t, queued.Run.ID)
	retry := h.submit(t, withKey(background(actRead, `{"s":"keyed"}`), "retry-me"))
	if retry.Replayed {
		t.Fatal("the retry replayed a run the refused call never made")
	}
	if run := h.wait(t, retry.Run.ID); run.Status != domain.StatusSucceeded {
		t.Fatalf("retry = %s %+v, want succeeded", run.Status, run.Error)
	}
	if n := h.plugin.callCount(); n != 3 {
		t.Fatalf("plugin called %d times, want 3 (first, queued, retry)", n)
	}
}
