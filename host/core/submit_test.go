package core_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"

	"github.com/toolhost/toolhost/host/core"
	"github.com/toolhost/toolhost/host/domain"
)

// TestSideEffectRunStoredBeforePluginCall looks in the store when the
// plugin is called: an action that may change the world is recorded
// running before, a read action is not recorded yet.
func TestSideEffectRunStoredBeforePluginCall(t *testing.T) {
	for _, tc := range []struct {
		action      string
		storedFirst bool
	}{
		{actCreate, true},
		{actUpdate, true},
		{actDelete, true},
		{actRead, false},
	} {
		t.Run(tc.action, func(t *testing.T) {
			h := newHarness(t, 0, 0)
			var atCall *domain.Run
			h.plugin.setAll(func(ctx context.Context, inv domain.Invocation) ([]byte, error) {
				atCall = h.runs.stored(inv.RunID)
				return []byte(`{"ok":true}`), nil
			})
			res := h.submit(t, call(tc.action, `{"s":"x"}`))
			switch {
			case tc.storedFirst && (atCall == nil || atCall.Status != domain.StatusRunning || atCall.StartedAt == nil):
				t.Fatalf("at the plugin call the store had %+v, want the run running", atCall)
			case !tc.storedFirst && atCall != nil:
				t.Fatalf("at the plugin call the store had %s %s, want nothing", atCall.ID, atCall.Status)
			}
			if s := h.runs.stored(res.Run.ID); s == nil || s.Status != domain.StatusSucceeded {
				t.Fatalf("stored = %+v, want succeeded", s)
			}
		})
	}
}

// TestStoreFailureBeforeSideEffectSkipsPlugin makes the store refuse the
// record a create action needs before its call: the plugin is not called,
// and the run's error says so.
func TestStoreFailureBeforeSideEffectSkipsPlugin(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		code string
	}{
		{"store error", errors.New("database is locked"), domain.CodeInternal},
		{"disk full", fmt.Errorf("write: %w", syscall.ENOSPC), domain.CodeStorageFull},
		{"store unavailable", domain.Errorf(domain.CodeStorageUnavailable, "store is read-only"), domain.CodeStorageUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, 0, 0)
			h.runs.failPut = func(r *domain.Run) error {
				if r.Status == domain.StatusRunning {
					return tc.err
				}
				return nil
			}
			res, err := h.r.Submit(context.Background(), call(actCreate, `{"s":"x"}`))
			if err != nil {
				t.Fatalf("Submit: %v (the failed run's record could be stored)", err)
			}
			if n := h.plugin.callCount(); n != 0 {
				t.Fatalf("plugin called %d times, want 0", n)
			}
			e := res.Run.Error
			if res.Run.Status != domain.StatusFailed || e == nil || e.Code != tc.code {
				t.Fatalf("run = %s %+v, want failed with %s", res.Run.Status, e, tc.code)
			}
			if tc.code != domain.CodeStorageUnavailable && !strings.Contains(e.Message, "it was not called") {
				t.Fatalf("error %q does not say the plugin was not called", e.Message)
			}
			if s := h.runs.stored(res.Run.ID); s == nil || s.Status != domain.StatusFailed {
				t.Fatalf("stored = %+v, want failed", s)
			}
		})
	}
}

// TestStoreFailureAtTheEndIsNotRecorded makes the store refuse every
// write: the read action still runs (it needs no record first) and the
// caller is told its run is not recorded.
func TestStoreFailureAtTheEndIsNotRecorded(t *testing.T) {
	h := newHarness(t, 0, 0)
	h.runs.failPut = func(*domain.Run) error { return errors.New("database is closed") }
	res, err := h.r.Submit(context.Background(), call(actRead, `{"s":"x"}`))
	wantCode(t, err, domain.CodeNotRecorded, "could not be stored")
	if res.Run == nil || res.Run.Status != domain.StatusSucceeded {
		t.Fatalf("answer = %+v, want the succeeded run with the error", res.Run)
	}
	if n := h.plugin.callCount(); n != 1 {
		t.Fatalf("plugin called %d times, want 1", n)
	}
}

// TestPromptFillsMissingInput submits a prompt with one explicit key: the
// filler supplies the rest, explicit keys win, and a repeat with the same
// idempotency key does not ask the filler again.
func TestPromptFillsMissingInput(t *testing.T) {
	h := newHarness(t, 0, 0)
	f := &fakeFiller{values: map[string]json.RawMessage{"s": json.RawMessage(`"filled"`), "n": json.RawMessage(`7`)}}
	h.r.SetPromptFiller(f)

	for _, tc := range []struct {
		name, args, want string
	}{
		{"explicit key wins", `{"prompt":"make one","s":"explicit"}`, `{"n":7,"s":"explicit"}`},
		{"all filled", `{"prompt":"make one"}`, `{"n":7,"s":"filled"}`},
		{"input form", `{"input":{"n":1},"prompt":"make one"}`, `{"n":1,"s":"filled"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := f.callCount()
			res := h.submit(t, call(actRead, tc.args))
			pc := h.plugin.nextCall(t)
			if string(pc.inv.Input) != tc.want || string(res.Run.Input) != tc.want {
				t.Fatalf("plugin got %s, run records %s; want %s", pc.inv.Input, res.Run.Input, tc.want)
			}
			if f.callCount() != before+1 {
				t.Fatalf("filler called %d times, want once", f.callCount()-before)
			}
		})
	}

	t.Run("replay does not fill again", func(t *testing.T) {
		before := f.callCount()
		first := h.submit(t, withKey(call(actRead, `{"prompt":"again","s":"explicit"}`), "p"))
		again := h.submit(t, withKey(call(actRead, `{"prompt":"again","s":"explicit"}`), "p"))
		if !again.Replayed || again.Run.ID != first.Run.ID {
			t.Fatalf("repeat = replayed %v, run %s; want a replay of %s", again.Replayed, again.Run.ID, first.Run.ID)
		}
		if n := f.callCount() - before; n != 1 {
			t.Fatalf("filler called %d times for a call and its replay, want 1", n)
		}
	})
}

// TestPromptIsInputWhenTheActionTakesOne checks that an MCP call's
// "prompt" key is input, not a prompt: nothing asks the filler.
func TestPromptIsInputWhenTheActionTakesOne(t *testing.T) {
	h := newHarness(t, 0, 0)
	f := &fakeFiller{}
	h.r.SetPromptFiller(f)
	_, err := h.r.Submit(context.Background(), mcp(actRead, `{"prompt":"x"}`))
	wantCode(t, err, domain.CodeInvalidInput, "")
	if f.callCount() != 0 {
		t.Fatal("an MCP call's arguments were taken as a prompt")
	}
	var _ core.PromptFiller = f
}
