package core_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/toolhost/toolhost/host/core"
	"github.com/toolhost/toolhost/host/domain"
)

// mcp is a call of action as the MCP door (or a model's tool call) makes
// it: the arguments are the input itself.
func mcp(action, input string) core.Call {
	return core.Call{Action: action, Args: json.RawMessage(input), InputOnly: true, Caller: caller, Source: "mcp"}
}

// TestIdempotentReplayAcrossDoors makes a run over HTTP with a key, then
// repeats it the MCP way with the same key: the first run is replayed; a
// different input is a conflict; another caller with the same key gets a
// run of its own.
func TestIdempotentReplayAcrossDoors(t *testing.T) {
	h := newHarness(t, 0, 0)
	first := h.submit(t, withKey(call(actRead, `{"input":{"s":"x","n":3}}`), "k"))
	if first.Replayed || first.Run.Status != domain.StatusSucceeded {
		t.Fatalf("first = %+v", first)
	}

	for _, tc := range []struct {
		name string
		call core.Call
	}{
		{"mcp form", mcp(actRead, `{"n":3,"s":"x"}`)},
		{"flat http form", call(actRead, `{"s":"x","n":3}`)},
		{"by action id", mcp(core.ActionID("kit", "get"), `{"s":"x","n":3}`)},
		{"asked in background", background(actRead, `{"s":"x","n":3}`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			again := h.submit(t, withKey(tc.call, "k"))
			if !again.Replayed || again.Run.ID != first.Run.ID || again.Mode != core.ModeBlocking {
				t.Fatalf("repeat = replayed %v, run %s, mode %s; want a blocking replay of %s",
					again.Replayed, again.Run.ID, again.Mode, first.Run.ID)
			}
			if again.Run.Status != domain.StatusSucceeded || string(again.Run.Output) != `{"ok":true}` {
				t.Fatalf("replayed run = %s %s", again.Run.Status, again.Run.Output)
			}
		})
	}
	if n := h.plugin.callCount(); n != 1 {
		t.Fatalf("plugin called %d times, want 1", n)
	}

	for _, tc := range []struct {
		name string
		call core.Call
	}{
		{"other input", mcp(actRead, `{"s":"y","n":3}`)},
		{"more input", mcp(actRead, `{"s":"x","n":3,"extra":1}`)},
		{"other action", mcp(actCreate, `{"s":"x","n":3}`)},
		{"a prompt", call(actRead, `{"s":"x","n":3,"prompt":"fill it"}`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.r.Submit(context.Background(), withKey(tc.call, "k"))
			wantCode(t, err, domain.CodeConflict, "different request body")
		})
	}

	other := mcp(actRead, `{"s":"x","n":3}`)
	other.Caller = domain.Caller{KeyID: "key-2", KeyName: "tester"} // same name, another key
	mine := h.submit(t, withKey(other, "k"))
	if mine.Replayed || mine.Run.ID == first.Run.ID || mine.Run.KeyID != "key-2" {
		t.Fatalf("another caller's call = replayed %v, run %s (key %s); want a new run", mine.Replayed, mine.Run.ID, mine.Run.KeyID)
	}
	if n := h.plugin.callCount(); n != 2 {
		t.Fatalf("plugin called %d times, want 2", n)
	}
}

// TestIdempotentRepeatByFirstMode repeats a call whose first run is still
// in progress or ended, for each way the first call was answered.
func TestIdempotentRepeatByFirstMode(t *testing.T) {
	for _, tc := range []struct {
		name     string
		first    func(action, args string) core.Call
		finished bool
		wantMode core.Mode // of the replay; -1: conflict "still in progress"
	}{
		{"blocking in progress", call, false, -1},
		{"blocking finished", call, true, core.ModeBlocking},
		{"stream in progress", stream, false, -1},
		{"stream finished", stream, true, core.ModeBlocking},
		{"background in progress", background, false, core.ModeBackground},
		{"background finished", background, true, core.ModeBackground},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, 0, 0)
			release := make(chan struct{})
			h.plugin.set("get", block(release))
			firstDone := make(chan core.Result, 1)
			go func() {
				res, _ := h.r.Submit(context.Background(), withKey(tc.first(actRead, `{"s":"x"}`), "k"))
				firstDone <- res
			}()
			pc := h.plugin.nextCall(t)
			if tc.finished {
				close(release)
				h.wait(t, pc.inv.RunID)
			}

			again, err := h.r.Submit(context.Background(), withKey(mcp(actRead, `{"s":"x"}`), "k"))
			if tc.wantMode < 0 {
				wantCode(t, err, domain.CodeConflict, "still in progress")
			} else {
				if err != nil {
					t.Fatalf("repeat: %v", err)
				}
				if !again.Replayed || again.Run.ID != pc.inv.RunID || again.Mode != tc.wantMode {
					t.Fatalf("repeat = replayed %v, run %s, mode %s; want a %s replay of %s",
						again.Replayed, again.Run.ID, again.Mode, tc.wantMode, pc.inv.RunID)
				}
			}
			if !tc.finished {
				close(release)
			}
			if res := <-firstDone; res.Run == nil || res.Run.ID != pc.inv.RunID {
				t.Fatalf("first call answered run %s, plugin ran %s", res.Run.ID, pc.inv.RunID)
			}
			h.wait(t, pc.inv.RunID)
			if n := h.plugin.callCount(); n != 1 {
				t.Fatalf("plugin called %d times, want 1", n)
			}
		})
	}
}

// TestIdempotentRepeatBeforeTheRunIsLinked repeats a call whose first one
// has claimed the key but made no run yet (it is being admitted).
func TestIdempotentRepeatBeforeTheRunIsLinked(t *testing.T) {
	h := newHarness(t, 0, 0)
	scoped := caller.KeyID + "\x00k"
	if ex, err := h.idem.BeginIdempotent(context.Background(), &domain.IdempotencyRecord{Key: scoped, BodyDigest: []byte("d")}); ex != nil || err != nil {
		t.Fatalf("claim: %v %v", ex, err)
	}
	_, err := h.r.Submit(context.Background(), withKey(call(actRead, `{"s":"x"}`), "k"))
	wantCode(t, err, domain.CodeConflict, "")
	if n := h.plugin.callCount(); n != 0 {
		t.Fatalf("plugin called %d times, want 0", n)
	}
}

// TestIdempotentKeyFreedWhenNoRunIsMade sends calls that make no run (bad
// input, unknown fields): each frees its key, so that a good retry runs.
func TestIdempotentKeyFreedWhenNoRunIsMade(t *testing.T) {
	for _, tc := range []struct {
		name, args, code string
	}{
		{"schema refuses", `{"s":5}`, domain.CodeInvalidInput},
		{"unknown field", `{"zzz":1}`, domain.CodeInvalidInput},
		{"prompt without a model", `{"prompt":"fill"}`, domain.CodeInvalidRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, 0, 0)
			_, err := h.r.Submit(context.Background(), withKey(call(actRead, tc.args), "k"))
			wantCode(t, err, tc.code, "")
			if h.idem.held(caller.KeyID, "k") {
				t.Fatal("the key is still claimed after a call that made no run")
			}
			if len(h.runs.ids()) != 0 {
				t.Fatalf("runs stored: %v", h.runs.ids())
			}
			res := h.submit(t, withKey(call(actRead, `{"s":"ok"}`), "k"))
			if res.Replayed || res.Run.Status != domain.StatusSucceeded {
				t.Fatalf("retry = %+v", res)
			}
		})
	}
}
