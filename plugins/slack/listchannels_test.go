package main

import (
	"context"
	"testing"

	"github.com/toolhost/toolhost/sdk"
)

func TestListChannelsFirstPage(t *testing.T) {
	f := newFakeSlack(t)
	res := f.harness(f.config()).Run(context.Background(), "listChannels", map[string]any{})
	var out ListChannelsOutput
	res.Decode(t, &out)
	want := []ChannelSummary{
		{ID: generalID, Name: "general", Topic: "Company-wide announcements", MemberCount: 42},
		{ID: "C0RANDOM01", Name: "random", Topic: "", MemberCount: 17},
	}
	if len(out.Channels) != len(want) || out.Channels[0] != want[0] || out.Channels[1] != want[1] {
		t.Errorf("channels = %+v, want %+v", out.Channels, want)
	}
	if out.NextCursor != secondPageCurs {
		t.Errorf("nextCursor = %q, want %q", out.NextCursor, secondPageCurs)
	}
	reqs := f.requestsFor("conversations.list")
	if len(reqs) != 1 {
		t.Fatalf("%d conversations.list requests", len(reqs))
	}
	r := reqs[0]
	if r.Auth != "Bearer "+testToken {
		t.Errorf("Authorization = %q", r.Auth)
	}
	if r.Form.Get("limit") != "100" || r.Form.Has("cursor") || r.Form.Get("exclude_archived") != "true" {
		t.Errorf("parameters = %v, want limit 100, no cursor, exclude_archived", r.Form)
	}
	assertNoSecrets(t, res)
}

func TestListChannelsNextPage(t *testing.T) {
	f := newFakeSlack(t)
	res := f.harness(f.config()).Run(context.Background(), "listChannels",
		map[string]any{"limit": 2, "cursor": secondPageCurs})
	var out ListChannelsOutput
	res.Decode(t, &out)
	if len(out.Channels) != 1 || out.Channels[0].Name != "deploys" || out.NextCursor != "" {
		t.Errorf("output = %+v, want the last page", out)
	}
	r := f.requestsFor("conversations.list")[0]
	if r.Form.Get("limit") != "2" || r.Form.Get("cursor") != secondPageCurs {
		t.Errorf("parameters = %v", r.Form)
	}
}

func TestListChannelsEmptyWorkspaceGivesEmptyList(t *testing.T) {
	f := newFakeSlack(t)
	f.queue("conversations.list", fakeReply{Body: `{"ok":true,"channels":[],"response_metadata":{"next_cursor":""}}`})
	res := f.harness(f.config()).Run(context.Background(), "listChannels", map[string]any{})
	if res.Err != nil {
		t.Fatalf("run failed: %+v", res.Err)
	}
	if string(res.Output) != `{"channels":[],"nextCursor":""}` {
		t.Errorf("output = %s", res.Output)
	}
}

func TestListChannelsBadCursorIsAnInputError(t *testing.T) {
	f := newFakeSlack(t)
	res := f.harness(f.config()).Run(context.Background(), "listChannels", map[string]any{"cursor": "bogus"})
	wantInputError(t, res, "cursor")
}

func TestListChannelsLimitOutOfRange(t *testing.T) {
	f := newFakeSlack(t)
	h := f.harness(f.config())
	for _, limit := range []int{0, 1001} {
		res := h.Run(context.Background(), "listChannels", map[string]any{"limit": limit})
		wantError(t, res, sdk.CodeInvalidInput, "limit")
	}
	if n := f.requestCount(); n != 0 {
		t.Errorf("%d requests sent for bad input", n)
	}
}

func TestListChannelsMissingScopeNamesChannelsRead(t *testing.T) {
	f := newFakeSlack(t)
	f.queueError("conversations.list", "missing_scope", `,"needed":"channels:read","provided":"chat:write"`)
	res := f.harness(f.config()).Run(context.Background(), "listChannels", map[string]any{})
	wantError(t, res, sdk.CodeActionFailed, "listing channels", "channels:read", "reinstall")
}

func TestListChannelsNeedsBotToken(t *testing.T) {
	f := newFakeSlack(t)
	res := f.harness(sdk.Config{keyAPIURL: f.server.URL + "/api/"}).Run(context.Background(), "listChannels", map[string]any{})
	wantError(t, res, sdk.CodeMisconfigured, "botToken")
	if n := f.requestCount(); n != 0 {
		t.Errorf("%d requests sent without a token", n)
	}
}
