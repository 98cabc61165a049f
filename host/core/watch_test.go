package core_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/toolhost/toolhost/host/core"
	"github.com/toolhost/toolhost/host/domain"
)

// recorder is a Watcher that writes down what it hears.
type recorder struct {
	mu      sync.Mutex
	started []string
	events  []domain.Event
	// atStart is the run's record in the store when Started came.
	atStart func(id string)
}

func (w *recorder) Started(id string) {
	w.mu.Lock()
	w.started = append(w.started, id)
	w.mu.Unlock()
	if w.atStart != nil {
		w.atStart(id)
	}
}

func (w *recorder) Event(e domain.Event) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.events = append(w.events, e)
}

// TestWatchHearsABlockingRun: a blocking call's Watcher is told the run's
// id before the plugin is called, then every event in order (the plugin's
// log and progress among them) before Submit answers.
func TestWatchHearsABlockingRun(t *testing.T) {
	h := newHarness(t, 0, 0)
	var calledAfterStart bool
	w := &recorder{}
	h.plugin.setAll(func(ctx context.Context, inv domain.Invocation) ([]byte, error) {
		w.mu.Lock()
		calledAfterStart = len(w.started) == 1 && w.started[0] == inv.RunID
		w.mu.Unlock()
		half := 0.5
		inv.OnEvent(domain.PluginEvent{Kind: "log", Level: "info", Message: "hello"})
		inv.OnEvent(domain.PluginEvent{Kind: "progress", Message: "half", Fraction: &half})
		return []byte(`{"ok":true}`), nil
	})
	c := call(actRead, `{"s":"x"}`)
	c.Watch = w
	res := h.submit(t, c)
	if !calledAfterStart {
		t.Fatalf("Started = %v before the plugin call of %s, want just that run's id", w.started, res.Run.ID)
	}
	for i, e := range w.events {
		if e.Seq != i+1 {
			t.Fatalf("event %d has seq %d, want %d", i, e.Seq, i+1)
		}
	}
	if types := typesOf(w.events); !slices.Equal(types, eventsWithLogAndProgress) {
		t.Fatalf("the watcher heard %v, want %v", types, eventsWithLogAndProgress)
	}
	if len(res.Run.Events) != len(w.events) {
		t.Fatalf("the run has %d events, the watcher heard %d", len(res.Run.Events), len(w.events))
	}
}

// TestWatchCancelsByStartedID: cancelling the id Started gave ends the
// blocking run it names.
func TestWatchCancelsByStartedID(t *testing.T) {
	h := newHarness(t, 0, 0)
	release := make(chan struct{})
	defer close(release)
	h.plugin.setAll(block(release))
	w := &recorder{}
	w.atStart = func(id string) {
		go func() {
			h.plugin.nextCall(t)
			if _, err := h.r.Cancel(context.Background(), id); err != nil {
				t.Errorf("Cancel: %v", err)
			}
		}()
	}
	c := call(actRead, `{"s":"x"}`)
	c.Watch = w
	res := h.submit(t, c)
	if res.Run.Status != domain.StatusCancelled {
		t.Fatalf("run %s, want cancelled", res.Run.Status)
	}
}

// TestWatchOnlyForBlockingCalls: a streamed or background call is
// followed as before; its Watcher is not used.
func TestWatchOnlyForBlockingCalls(t *testing.T) {
	h := newHarness(t, 4, 1)
	h.plugin.setAll(succeed(`{}`))
	for _, c := range []core.Call{stream(actRead, `{"s":"x"}`), background(actRead, `{"s":"x"}`)} {
		w := &recorder{}
		c.Watch = w
		res := h.submit(t, c)
		if _, err := h.r.Wait(context.Background(), res.Run.ID); err != nil {
			t.Fatal(err)
		}
		if len(w.started)+len(w.events) != 0 {
			t.Fatalf("%v call: watcher heard %v %v", res.Mode, w.started, w.events)
		}
	}
}
