package core_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/toolhost/toolhost/host/core"
	"github.com/toolhost/toolhost/host/domain"
)

// logThenBlock emits a log event, then blocks as block does.
func logThenBlock(release <-chan struct{}) behaviour {
	return func(ctx context.Context, inv domain.Invocation) ([]byte, error) {
		inv.OnEvent(domain.PluginEvent{Kind: "log", Message: "half way"})
		return block(release)(ctx, inv)
	}
}

// TestClusterFollowFromAnotherReplica follows a stream run that replica a
// runs from replica b: b hands on every event, in order and once each,
// including the log the plugin wrote before b asked, and ends with the
// run; a Last-Event-ID in the middle resumes after it.
func TestClusterFollowFromAnotherReplica(t *testing.T) {
	s := newReplicaSet(t, 2, 8, 1)
	a, b := s.runners[0], s.runners[1]
	release := make(chan struct{})
	s.plugins[0].set("get", logThenBlock(release))
	res, err := a.Submit(context.Background(), stream(actRead, `{"s":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	s.plugins[0].nextCall(t)
	if b.Live(res.Run.ID) {
		t.Fatal("the run is live on b, which does not run it")
	}

	past, live, stop, err := b.Follow(context.Background(), res.Run.ID, 0)
	if err != nil {
		t.Fatalf("Follow on b: %v", err)
	}
	defer stop()
	_, live2, stop2, err := b.Follow(context.Background(), res.Run.ID, 2)
	if err != nil {
		t.Fatalf("Follow on b after seq 2: %v", err)
	}
	defer stop2()
	// The log event is in no stored record yet: it must come from a.
	var early []domain.Event
	for len(early) == 0 || early[len(early)-1].Type != "run.log" {
		select {
		case e := <-live:
			early = append(early, e)
		case <-time.After(waitFor):
			t.Fatalf("b did not hear the log event while the run ran; heard %v", early)
		}
	}
	close(release)

	got := eventTypes(t, append(past, early...), live)
	want := "1 run.created,2 run.running,3 run.log,4 run.output,5 run.succeeded"
	if got != want {
		t.Fatalf("events followed on b:\n got %s\nwant %s", got, want)
	}
	if got := eventTypes(t, nil, live2); got != "3 run.log,4 run.output,5 run.succeeded" {
		t.Fatalf("events after seq 2 on b: %s", got)
	}
	run, err := b.Wait(context.Background(), res.Run.ID)
	if err != nil || run.Status != domain.StatusSucceeded {
		t.Fatalf("Wait on b = %+v, %v", run, err)
	}
}

// eventTypes reads past and then live until it closes: "seq type,...".
func eventTypes(t *testing.T, past []domain.Event, live <-chan domain.Event) string {
	t.Helper()
	out := ""
	add := func(e domain.Event) {
		if out != "" {
			out += ","
		}
		out += fmt.Sprintf("%d %s", e.Seq, e.Type)
	}
	for _, e := range past {
		add(e)
	}
	timeout := time.After(waitFor)
	for {
		select {
		case e, open := <-live:
			if !open {
				return out
			}
			add(e)
		case <-timeout:
			t.Fatalf("the followed run did not end; so far %s", out)
		}
	}
}

// TestClusterQueueRunsOnceAcrossReplicas queues runs on both replicas:
// each runs exactly once, on one replica or the other, and nothing is
// left owned or queued.
func TestClusterQueueRunsOnceAcrossReplicas(t *testing.T) {
	s := newReplicaSet(t, 2, 100, 2)
	var ids []string
	for i := 0; i < 40; i++ {
		res, err := s.runners[i%2].Submit(context.Background(), background(actCreate, fmt.Sprintf(`{"n":%d}`, i)))
		if err != nil {
			t.Fatal(err)
		}
		if res.Run.Status != domain.StatusQueued {
			t.Fatalf("run %d answered %s, want queued", i, res.Run.Status)
		}
		ids = append(ids, res.Run.ID)
	}
	for _, id := range ids {
		if run := s.waitStored(t, id); run.Status != domain.StatusSucceeded {
			t.Fatalf("run %s = %s %+v", id, run.Status, run.Error)
		}
	}
	if n := s.calls(); n != len(ids) {
		t.Fatalf("plugins called %d times for %d runs", n, len(ids))
	}
	for _, p := range s.plugins {
		for _, c := range p.calls {
			if string(c.inv.Input) == "" {
				t.Fatalf("a claimed run reached the plugin without its input")
			}
		}
	}
	time.Sleep(10 * time.Millisecond)
	if left := append(s.hub.ownedBy("a"), s.hub.ownedBy("b")...); len(left) != 0 {
		t.Fatalf("runs still owned after they ended: %v", left)
	}
}

// TestClusterCancelAcrossReplicas cancels from replica b a queued run no
// worker claimed (it never starts) and a run that replica a runs (its
// plugin call is cancelled there).
func TestClusterCancelAcrossReplicas(t *testing.T) {
	s := newReplicaSet(t, 2, 8, 1)
	a, b := s.runners[0], s.runners[1]
	release := make(chan struct{})
	defer close(release)
	for _, p := range s.plugins {
		p.set("make", block(release))
	}
	var busy []string
	for i := 0; i < 2; i++ { // one for each replica's one worker
		res, err := a.Submit(context.Background(), background(actCreate, `{"s":"busy"}`))
		if err != nil {
			t.Fatal(err)
		}
		busy = append(busy, res.Run.ID)
	}
	s.plugins[0].nextCall(t)
	s.plugins[1].nextCall(t)
	queued, err := a.Submit(context.Background(), background(actCreate, `{"s":"never"}`))
	if err != nil {
		t.Fatal(err)
	}

	run, err := b.Cancel(context.Background(), queued.Run.ID)
	if err != nil || run.Status != domain.StatusCancelled {
		t.Fatalf("cancel of the queued run from b = %+v, %v", run, err)
	}
	for _, id := range busy {
		run, err := b.Cancel(context.Background(), id)
		if err != nil || run.Status != domain.StatusCancelled {
			t.Fatalf("cancel of the running run %s from b = %+v, %v", id, run, err)
		}
	}
	time.Sleep(20 * time.Millisecond) // a worker is free: the cancelled run must not start
	if n := s.calls(); n != 2 {
		t.Fatalf("plugins called %d times, want 2 (the cancelled queued run never starts)", n)
	}
	if st := s.runs.stored(queued.Run.ID); st.StartedAt != nil || st.Error.Code != domain.CodeCancelled {
		t.Fatalf("stored cancelled run = %+v", st)
	}
	if _, err := b.Cancel(context.Background(), queued.Run.ID); err == nil {
		t.Fatal("cancelling a cancelled run again succeeded")
	}
}

// TestClusterInterruptRun fails a run left owned by a replica that died,
// as a restart does: failed, interrupted; a finished run is left as it is.
func TestClusterInterruptRun(t *testing.T) {
	s := newReplicaSet(t, 2, 8, 1)
	a, b := s.runners[0], s.runners[1]
	release := make(chan struct{})
	defer close(release)
	s.plugins[0].set("make", block(release))
	res, err := a.Submit(context.Background(), stream(actCreate, `{"s":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	s.plugins[0].nextCall(t)
	owned := s.hub.ownedBy("a")
	if len(owned) != 1 || owned[0] != res.Run.ID {
		t.Fatalf("a owns %v, want [%s]", owned, res.Run.ID)
	}
	if err := a.InterruptRun(context.Background(), res.Run.ID); err != nil {
		t.Fatal(err)
	}
	if st := s.runs.stored(res.Run.ID); st.Status != domain.StatusRunning {
		t.Fatalf("a interrupted its own live run: %s", st.Status)
	}
	if err := b.InterruptRun(context.Background(), res.Run.ID); err != nil {
		t.Fatal(err)
	}
	st := s.runs.stored(res.Run.ID)
	if st.Status != domain.StatusFailed || st.Error.Code != domain.CodeInterrupted || st.Events[len(st.Events)-1].Type != "run.failed" {
		t.Fatalf("interrupted run = %s %+v", st.Status, st.Error)
	}
	if err := b.InterruptRun(context.Background(), res.Run.ID); err != nil {
		t.Fatalf("interrupting a finished run again: %v", err)
	}
	if err := b.InterruptRun(context.Background(), "run_nosuch"); err != nil {
		t.Fatalf("interrupting an unknown run: %v", err)
	}
	if n := len(s.runs.putsOf(res.Run.ID)); n != 3 {
		t.Fatalf("%d puts of the run, want 3 (queued, running, interrupted)", n)
	}
}

// TestClusterEnqueueFails answers a full shared queue with rate_limited
// and a queue that cannot be written with an internal error; either way
// the recorded run ends failed (nothing is left queued), the key is free,
// and the plugin is never called.
func TestClusterEnqueueFails(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		code string
	}{
		{"full", core.ErrQueueFull, domain.CodeRateLimited},
		{"down", errors.New("connection refused"), domain.CodeInternal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newReplicaSet(t, 1, 8, 1)
			s.hub.mu.Lock()
			s.hub.failEnqueue = tc.err
			s.hub.mu.Unlock()
			_, err := s.runners[0].Submit(context.Background(), withKey(background(actRead, `{}`), "k"))
			wantCode(t, err, tc.code, "")
			ids := s.runs.ids()
			for id := range ids {
				if st := s.runs.stored(id); st.Status != domain.StatusFailed || st.Error.Code != tc.code {
					t.Fatalf("stored run = %s %+v", st.Status, st.Error)
				}
			}
			if len(ids) != 1 || s.idem.held(caller.KeyID, "k") || s.calls() != 0 || len(s.hub.ownedBy("a")) != 0 {
				t.Fatalf("runs %v, key held %v, calls %d, owned %v", ids, s.idem.held(caller.KeyID, "k"), s.calls(), s.hub.ownedBy("a"))
			}
		})
	}
}

// TestClusterWaitForARunClaimedElsewhere queues a run on replica a that
// only replica b's workers take: a follows it to its end, its Wait
// returns the final record, and a's cancel of the finished run is a
// conflict.
func TestClusterWaitForARunClaimedElsewhere(t *testing.T) {
	s := newReplicaSet(t, 2, 8, 1)
	s.hub.mu.Lock()
	s.hub.claimer = "b" // a never takes a run
	s.hub.mu.Unlock()
	a := s.runners[0]
	release := make(chan struct{})
	s.plugins[1].set("make", logThenBlock(release))
	res, err := a.Submit(context.Background(), background(actCreate, `{"s":"elsewhere"}`))
	if err != nil {
		t.Fatal(err)
	}
	s.plugins[1].nextCall(t)
	_, live, stop, err := a.Follow(context.Background(), res.Run.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	done := make(chan *domain.Run, 1)
	go func() {
		run, _ := a.Wait(context.Background(), res.Run.ID)
		done <- run
	}()
	close(release)
	if got := eventTypes(t, nil, live); got != "3 run.log,4 run.output,5 run.succeeded" {
		t.Fatalf("followed on a: %s", got)
	}
	select {
	case run := <-done:
		if run == nil || run.Status != domain.StatusSucceeded {
			t.Fatalf("Wait on a = %+v", run)
		}
	case <-time.After(waitFor):
		t.Fatal("Wait on a did not return")
	}
	_, err = a.Cancel(context.Background(), res.Run.ID)
	wantCode(t, err, domain.CodeConflict, "already finished")
	if s.plugins[0].callCount() != 0 || s.plugins[1].callCount() != 1 {
		t.Fatalf("calls: a %d, b %d", s.plugins[0].callCount(), s.plugins[1].callCount())
	}
}
