package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/toolhost/toolhost/sdk"
)

func TestSendMessageToChannelThroughConfiguredWebhook(t *testing.T) {
	f := newFakeSlack(t)
	res := f.harness(f.config()).Run(context.Background(), "sendMessageToChannel",
		map[string]any{"message": "Build *green* on main"})
	var out SendMessageToChannelOutput
	res.Decode(t, &out)
	if !out.Sent {
		t.Errorf("output = %+v, want sent", out)
	}
	hooks := f.requestsFor("webhook")
	if len(hooks) != 1 {
		t.Fatalf("%d webhook requests, want 1", len(hooks))
	}
	h := hooks[0]
	if h.Path != testWebhookPath {
		t.Errorf("posted to %q, want the configured webhook", h.Path)
	}
	if h.JSON["text"] != "Build *green* on main" {
		t.Errorf("webhook body = %v", h.JSON)
	}
	if h.Auth != "" {
		t.Errorf("the webhook post carried an Authorization header")
	}
	assertNoSecrets(t, res)
}

func TestSendMessageToChannelInputWebhookOverridesConfig(t *testing.T) {
	f := newFakeSlack(t)
	other := f.server.URL + "/services/T0000TEST/B0000OTHR/OtherWeBhOoKsEcReT"
	res := f.harness(f.config()).Run(context.Background(), "sendMessageToChannel",
		map[string]any{"message": "hi", "incomingWebhookUrl": other})
	var out SendMessageToChannelOutput
	res.Decode(t, &out)
	hooks := f.requestsFor("webhook")
	if len(hooks) != 1 || !strings.HasSuffix(other, hooks[0].Path) {
		t.Fatalf("webhook requests = %+v, want one to the input's URL", hooks)
	}
}

func TestSendMessageToChannelWorksWithoutBotToken(t *testing.T) {
	f := newFakeSlack(t)
	res := f.harness(sdk.Config{}).Run(context.Background(), "sendMessageToChannel",
		map[string]any{"message": "hi", "incomingWebhookUrl": f.webhookURL()})
	var out SendMessageToChannelOutput
	res.Decode(t, &out)
	if !out.Sent {
		t.Errorf("output = %+v", out)
	}
}

func TestSendMessageToChannelNeedsAWebhookURL(t *testing.T) {
	f := newFakeSlack(t)
	res := f.harness(sdk.Config{keyBotToken: testToken}).Run(context.Background(), "sendMessageToChannel",
		map[string]any{"message": "hi"})
	wantError(t, res, sdk.CodeMisconfigured, "incomingWebhookUrl input", "incomingWebhookUrl configuration value")
}

func TestSendMessageToChannelRejectsBadInput(t *testing.T) {
	f := newFakeSlack(t)
	h := f.harness(f.config())
	wantInputError(t, h.Run(context.Background(), "sendMessageToChannel", map[string]any{"message": "  "}), "message")
	res := h.Run(context.Background(), "sendMessageToChannel",
		map[string]any{"message": "hi", "incomingWebhookUrl": "hooks.slack.com/services/T0/B0/" + webhookSecret})
	wantInputError(t, res, "incomingWebhookUrl")
	if n := f.requestCount(); n != 0 {
		t.Errorf("%d requests sent for bad input", n)
	}
}

func TestSendMessageToChannelWebhookErrorsAreExplained(t *testing.T) {
	tests := []struct {
		status int
		body   string
		want   []string
	}{
		{http.StatusNotFound, "no_service", []string{"does not know this incoming webhook URL", "revoked"}},
		{http.StatusBadRequest, "invalid_payload", []string{"malformed"}},
		{http.StatusForbidden, "action_prohibited", []string{"refused"}},
		{http.StatusGone, "channel_is_archived", []string{"archived"}},
		{http.StatusInternalServerError, "rollup_error", []string{"HTTP 500", "try again later"}},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			f := newFakeSlack(t)
			f.queue("webhook", fakeReply{Status: tt.status, Body: tt.body})
			res := f.harness(f.config()).Run(context.Background(), "sendMessageToChannel", map[string]any{"message": "hi"})
			wantError(t, res, sdk.CodeActionFailed, append([]string{"incoming webhook"}, tt.want...)...)
		})
	}
}

func TestSendMessageToChannelUnreachableWebhookHidesURL(t *testing.T) {
	f := newFakeSlack(t)
	dead := newFakeSlack(t)
	deadURL := dead.webhookURL()
	dead.server.Close()
	res := f.harness(f.config()).Run(withTimeout(t, 5*time.Second), "sendMessageToChannel",
		map[string]any{"message": "hi", "incomingWebhookUrl": deadURL})
	wantError(t, res, sdk.CodeActionFailed, "could not reach Slack's webhook endpoint at 127.0.0.1:")
	if strings.Contains(res.Err.Message, "/services/") {
		t.Errorf("message %q shows the webhook path", res.Err.Message)
	}
}

func TestSendMessageToChannelRetriesAfterRateLimit(t *testing.T) {
	f := newFakeSlack(t)
	f.queue("webhook", fakeReply{Status: http.StatusTooManyRequests, RetryAfter: "0", Body: "rate_limited"})
	res := f.harness(f.config()).Run(withTimeout(t, 5*time.Second), "sendMessageToChannel", map[string]any{"message": "hi"})
	var out SendMessageToChannelOutput
	res.Decode(t, &out)
	if n := len(f.requestsFor("webhook")); n != 2 || !out.Sent {
		t.Errorf("%d webhook requests, output %+v; want 2 and sent", n, out)
	}
}
