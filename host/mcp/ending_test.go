package mcp

import (
	"encoding/json"
	"testing"

	"github.com/toolhost/toolhost/host/domain"
)

// TestEnding: the answer is made from the run's events when they reach
// its end, and left to the record (nil) when they do not.
func TestEnding(t *testing.T) {
	ev := func(typ, data string) domain.Event { return domain.Event{Type: typ, Data: json.RawMessage(data)} }
	cases := []struct {
		name   string
		events []domain.Event
		status string
		output string
		msg    string
	}{
		{"succeeded", []domain.Event{ev("run.created", `{"id":"r","status":"queued"}`), ev("run.running", `{}`),
			ev("run.output", `{"n":1}`), ev("run.succeeded", `{"id":"r","status":"succeeded"}`)}, "succeeded", `{"n":1}`, ""},
		{"failed", []domain.Event{ev("run.running", `{}`),
			ev("run.failed", `{"id":"r","status":"failed","error":{"code":"action_failed","message":"no such mailbox"}}`)}, "failed", "", "no such mailbox"},
		{"failed, summary unreadable", []domain.Event{ev("run.failed", `not json`)}, "failed", "", ""},
		{"cut off before the end", []domain.Event{ev("run.running", `{}`), ev("run.log", `{"message":"x"}`)}, "", "", ""},
		{"not a state", []domain.Event{ev("run.progress", `{}`), ev("run.output", `{}`)}, "", "", ""},
	}
	for _, c := range cases {
		var f ending
		for _, e := range c.events {
			f.see(e)
		}
		run := f.result("r")
		if c.status == "" {
			if run != nil {
				t.Errorf("%s: %+v, want nil (read the record)", c.name, run)
			}
			continue
		}
		if run == nil || run.ID != "r" || run.Status != c.status || string(run.Output) != c.output {
			t.Errorf("%s: %+v", c.name, run)
			continue
		}
		msg := ""
		if run.Error != nil {
			msg = run.Error.Message
		}
		if msg != c.msg {
			t.Errorf("%s: message %q, want %q", c.name, msg, c.msg)
		}
	}
}
