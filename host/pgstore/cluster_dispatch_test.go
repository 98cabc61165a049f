package pgstore

import (
	"testing"

	"github.com/toolhost/toolhost/host/domain"
)

// listening is a Cluster with no database, to hand notifications to.
func listening() *Cluster {
	return &Cluster{watchers: map[string]map[chan domain.RunNote]bool{},
		requests: make(chan domain.RunRequest, 8), wake: make(chan struct{}, 1)}
}

// TestDispatchIgnoresBadPayloads hands on well-formed notifications and
// drops the rest (another program may NOTIFY on the same channels).
func TestDispatchIgnoresBadPayloads(t *testing.T) {
	c := listening()
	notes, stop := c.Watch("run_1")
	defer stop()
	for _, bad := range []struct{ channel, payload string }{
		{chanRuns, ""}, {chanRuns, "{"}, {chanRuns, `{"e":{"seq":1}}`}, {chanRuns, `[1,2]`}, {chanRuns, `{"r":"run_2","end":true}`},
		{chanAsks, ""}, {chanAsks, `{"k":"cancel"}`}, {chanAsks, `"x"`}, {"other", `{"r":"run_1","end":true}`},
	} {
		c.dispatch(bad.channel, bad.payload)
	}
	select {
	case n := <-notes:
		t.Fatalf("a bad payload reached the watcher: %+v", n)
	case r := <-c.requests:
		t.Fatalf("a bad payload made a request: %+v", r)
	default:
	}
	c.dispatch(chanRuns, `{"r":"run_1","e":{"seq":3,"type":"run.log","data":{"m":1},"at":"2026-01-02T03:04:05Z"}}`)
	c.dispatch(chanRuns, `{"r":"run_1","end":true}`)
	c.dispatch(chanAsks, `{"k":"events","r":"run_1","a":2}`)
	c.dispatch(chanQueue, ``)
	if n := <-notes; n.Event == nil || n.Event.Seq != 3 || n.Event.Type != "run.log" {
		t.Fatalf("event note = %+v", n)
	}
	if n := <-notes; !n.Ended {
		t.Fatalf("end note = %+v", n)
	}
	if r := <-c.requests; r != (domain.RunRequest{Kind: domain.AskEvents, RunID: "run_1", After: 2}) {
		t.Fatalf("request = %+v", r)
	}
	select {
	case <-c.wake:
	default:
		t.Fatal("a queue notification woke no worker")
	}
}

// FuzzDispatch: no payload on any channel panics or blocks.
func FuzzDispatch(f *testing.F) {
	for _, s := range []string{`{"r":"run_1","e":{"seq":1,"type":"run.created"}}`, `{"r":"run_1","end":true}`,
		`{"k":"cancel","r":"run_1"}`, `{"k":"events","r":"run_1","a":-5}`, ``, `null`} {
		f.Add(uint8(0), s)
		f.Add(uint8(1), s)
	}
	channels := []string{chanRuns, chanAsks, chanQueue, "other"}
	f.Fuzz(func(t *testing.T, ch uint8, payload string) {
		c := listening()
		_, stop := c.Watch("run_1")
		defer stop()
		for i := 0; i < 20; i++ { // more than the buffers hold: dispatch must not block
			c.dispatch(channels[int(ch)%len(channels)], payload)
		}
	})
}
