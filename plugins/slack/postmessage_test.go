package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/toolhost/toolhost/sdk"
)

func TestPostMessageToChannelByName(t *testing.T) {
	f := newFakeSlack(t)
	res := f.harness(f.config()).Run(context.Background(), "postMessage",
		map[string]any{"channel": " #general ", "text": "Deploy finished :rocket: <@U0ADA0001>"})
	var out PostMessageOutput
	res.Decode(t, &out)
	if out != (PostMessageOutput{Channel: generalID, Ts: testTs, Permalink: testPermalink}) {
		t.Errorf("output = %+v", out)
	}
	posts := f.requestsFor("chat.postMessage")
	if len(posts) != 1 {
		t.Fatalf("%d chat.postMessage requests, want 1", len(posts))
	}
	p := posts[0]
	if p.Auth != "Bearer "+testToken {
		t.Errorf("Authorization = %q", p.Auth)
	}
	if got := p.Form.Get("channel"); got != "#general" {
		t.Errorf("channel = %q, want #general", got)
	}
	if got := p.Form.Get("text"); got != "Deploy finished :rocket: <@U0ADA0001>" {
		t.Errorf("text = %q, want it unescaped", got)
	}
	if p.Form.Has("thread_ts") {
		t.Errorf("thread_ts = %q, want none", p.Form.Get("thread_ts"))
	}
	links := f.requestsFor("chat.getPermalink")
	if len(links) != 1 || links[0].Form.Get("channel") != generalID || links[0].Form.Get("message_ts") != testTs {
		t.Errorf("chat.getPermalink requests = %+v, want one for %s %s", links, generalID, testTs)
	}
	assertNoSecrets(t, res)
}

func TestPostMessageReplyInThread(t *testing.T) {
	f := newFakeSlack(t)
	res := f.harness(f.config()).Run(context.Background(), "postMessage",
		map[string]any{"channel": generalID, "text": "Done.", "threadTs": "1699999999.000200"})
	var out PostMessageOutput
	res.Decode(t, &out)
	posts := f.requestsFor("chat.postMessage")
	if len(posts) != 1 || posts[0].Form.Get("thread_ts") != "1699999999.000200" || posts[0].Form.Get("channel") != generalID {
		t.Fatalf("chat.postMessage requests = %+v", posts)
	}
}

func TestPostMessageWithoutPermalinkStillSucceeds(t *testing.T) {
	f := newFakeSlack(t)
	f.queueError("chat.getPermalink", "message_not_found")
	res := f.harness(f.config()).Run(context.Background(), "postMessage",
		map[string]any{"channel": "#general", "text": "hi"})
	var out PostMessageOutput
	res.Decode(t, &out)
	if out.Ts != testTs || out.Permalink != "" {
		t.Errorf("output = %+v, want the ts and no permalink", out)
	}
	if !hasLog(res, "warn", "permalink") {
		t.Errorf("no warning about the permalink in %+v", res.Logs)
	}
	assertNoSecrets(t, res)
}

func TestPostMessageSlackErrorsAreExplained(t *testing.T) {
	tests := []struct {
		code  string
		extra string
		want  []string
	}{
		{"channel_not_found", "", []string{"cannot find that channel", "channel_not_found", "/invite @botname"}},
		{"not_in_channel", "", []string{"not a member", "/invite @botname"}},
		{"invalid_auth", "", []string{"rejected the bot token", "botToken", "xoxb-"}},
		{"not_authed", "", []string{"rejected the bot token", "botToken"}},
		{"token_revoked", "", []string{"rejected the bot token", "botToken"}},
		{"missing_scope", `,"needed":"chat:write","provided":"channels:read,users:read.email"`, []string{"lacks the Slack scope chat:write", "Bot Token Scopes", "reinstall"}},
		{"missing_scope", "", []string{"lacks the Slack scope chat:write"}},
		{"ratelimited", "", []string{"rate limited", "try again"}},
		{"is_archived", "", []string{"archived"}},
		{"some_new_error", "", []string{`"some_new_error"`, "chat.postMessage"}},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			f := newFakeSlack(t)
			f.queueError("chat.postMessage", tt.code, tt.extra)
			res := f.harness(f.config()).Run(context.Background(), "postMessage",
				map[string]any{"channel": "#general", "text": "hi"})
			wantError(t, res, sdk.CodeActionFailed, append([]string{"posting the message to #general"}, tt.want...)...)
			if n := len(f.requestsFor("chat.getPermalink")); n != 0 {
				t.Errorf("%d permalink requests after a failed post", n)
			}
		})
	}
}

func TestPostMessageWithWrongTokenIsExplained(t *testing.T) {
	f := newFakeSlack(t)
	cfg := f.config()
	cfg[keyBotToken] = "xoxb-9999999999-8888888888-wRoNgToKeNvAlUe"
	res := f.harness(cfg).Run(context.Background(), "postMessage", map[string]any{"channel": "#general", "text": "hi"})
	wantError(t, res, sdk.CodeActionFailed, "invalid_auth", "botToken")
	if strings.Contains(res.Err.Message, "wRoNgToKeNvAlUe") {
		t.Errorf("message %q contains the token", res.Err.Message)
	}
}

func TestPostMessageNeedsBotToken(t *testing.T) {
	f := newFakeSlack(t)
	cfg := f.config()
	delete(cfg, keyBotToken)
	res := f.harness(cfg).Run(context.Background(), "postMessage", map[string]any{"channel": "#general", "text": "hi"})
	wantError(t, res, sdk.CodeMisconfigured, "postMessage needs the botToken configuration value")
	if n := f.requestCount(); n != 0 {
		t.Errorf("%d requests sent without a token", n)
	}
}

func TestPostMessageRejectsBadInput(t *testing.T) {
	tests := []struct {
		name  string
		input map[string]any
		field string
	}{
		{"empty channel", map[string]any{"channel": "", "text": "hi"}, "channel"},
		{"blank channel", map[string]any{"channel": "   ", "text": "hi"}, "channel"},
		{"bare hash", map[string]any{"channel": "#", "text": "hi"}, "channel"},
		{"channel with spaces", map[string]any{"channel": "#dev ops", "text": "hi"}, "channel"},
		{"empty text", map[string]any{"channel": "#general", "text": " \n"}, "text"},
		{"bad thread ts", map[string]any{"channel": "#general", "text": "hi", "threadTs": "yesterday"}, "threadTs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeSlack(t)
			res := f.harness(f.config()).Run(context.Background(), "postMessage", tt.input)
			wantInputError(t, res, tt.field)
			if n := f.requestCount(); n != 0 {
				t.Errorf("%d requests sent for bad input", n)
			}
		})
	}
}

func TestPostMessageWaitsOutRateLimitWithinDeadline(t *testing.T) {
	f := newFakeSlack(t)
	f.queue("chat.postMessage", rateLimited("1"))
	start := time.Now()
	res := f.harness(f.config()).Run(withTimeout(t, 10*time.Second), "postMessage",
		map[string]any{"channel": "#general", "text": "hi"})
	var out PostMessageOutput
	res.Decode(t, &out)
	posts := f.requestsFor("chat.postMessage")
	if len(posts) != 2 {
		t.Fatalf("%d chat.postMessage requests, want 2", len(posts))
	}
	if gap := posts[1].At.Sub(posts[0].At); gap < time.Second {
		t.Errorf("retried after %s, before Retry-After's 1s", gap)
	}
	if elapsed := time.Since(start); elapsed < time.Second {
		t.Errorf("run took %s, less than Retry-After", elapsed)
	}
	if out.Ts != testTs {
		t.Errorf("output = %+v", out)
	}
	if !hasLog(res, "warn", "rate limited") {
		t.Errorf("no rate-limit warning in %+v", res.Logs)
	}
	assertNoSecrets(t, res)
}

func TestPostMessageRefusesRateLimitPastDeadline(t *testing.T) {
	f := newFakeSlack(t)
	f.queue("chat.postMessage", rateLimited("30"))
	start := time.Now()
	res := f.harness(f.config()).Run(withTimeout(t, 2*time.Second), "postMessage",
		map[string]any{"channel": "#general", "text": "hi"})
	elapsed := time.Since(start)
	wantError(t, res, sdk.CodeActionFailed, "Slack rate limited us; retry after 30s, which is past the action's deadline")
	if elapsed > time.Second {
		t.Errorf("run took %s; it should fail at once", elapsed)
	}
	if n := len(f.requestsFor("chat.postMessage")); n != 1 {
		t.Errorf("%d chat.postMessage requests, want 1", n)
	}
}

func TestPostMessageGivesUpAfterRepeatedRateLimits(t *testing.T) {
	f := newFakeSlack(t)
	for range 10 {
		f.queue("chat.postMessage", rateLimited("0"))
	}
	res := f.harness(f.config()).Run(withTimeout(t, 10*time.Second), "postMessage",
		map[string]any{"channel": "#general", "text": "hi"})
	wantError(t, res, sdk.CodeActionFailed, "rate limited us 4 times in a row")
	if n := len(f.requestsFor("chat.postMessage")); n != maxRateLimitRetries+1 {
		t.Errorf("%d chat.postMessage requests, want %d", n, maxRateLimitRetries+1)
	}
}

func TestPostMessageDeadlinePassesWhileSlackIsSlow(t *testing.T) {
	f := newFakeSlack(t)
	f.queue("chat.postMessage", fakeReply{Delay: 5 * time.Second, Body: `{"ok":true}`})
	start := time.Now()
	res := f.harness(f.config()).Run(withTimeout(t, 300*time.Millisecond), "postMessage",
		map[string]any{"channel": "#general", "text": "hi"})
	wantError(t, res, sdk.CodeActionFailed, "deadline passed before Slack answered")
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("run took %s, well past its deadline", elapsed)
	}
}

func TestPostMessageServerErrorIsExplained(t *testing.T) {
	f := newFakeSlack(t)
	f.queue("chat.postMessage", fakeReply{Status: http.StatusServiceUnavailable, Body: "<html>down</html>"})
	res := f.harness(f.config()).Run(context.Background(), "postMessage", map[string]any{"channel": "#general", "text": "hi"})
	wantError(t, res, sdk.CodeActionFailed, "HTTP 503 Service Unavailable", "try again later")
}
