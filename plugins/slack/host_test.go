package main

import (
	"strings"
	"testing"

	"github.com/toolhost/toolhost/internal/hosttest"
)

// TestThroughTheHost runs the real slack binary under a real host against
// the loopback Slack: a post, a webhook message and an error explained.
func TestThroughTheHost(t *testing.T) {
	f := newFakeSlack(t)
	cfg := map[string]string{}
	for k, v := range f.config() {
		cfg[k] = v
	}
	h := hosttest.Start(t, hosttest.Plugin{Name: "slack", Package: "plugins/slack", Config: cfg})

	r := h.Do("POST", "/v1/actions/slack.postMessage/run", `{"channel":"#general","text":"hello from the host"}`)
	if _, data, _, _ := r.Envelope(); r.Status != 200 || !strings.Contains(string(data), `"permalink"`) {
		t.Fatalf("postMessage: %d %s", r.Status, r.Body)
	}
	posts := f.requestsFor("chat.postMessage")
	if len(posts) != 1 || posts[0].Auth != "Bearer "+testToken || posts[0].Form.Get("text") != "hello from the host" {
		t.Fatalf("Slack saw %+v", posts)
	}

	r = h.Do("POST", "/v1/actions/slack.sendMessageToChannel/run", `{"input":{"message":"via webhook"}}`)
	if r.Status != 200 {
		t.Fatalf("webhook: %d %s", r.Status, r.Body)
	}
	if hooks := f.requestsFor("webhook"); len(hooks) != 1 || hooks[0].JSON["text"] != "via webhook" {
		t.Fatalf("webhook saw %+v", hooks)
	}

	f.queueError("chat.postMessage", "not_in_channel")
	r = h.Do("POST", "/v1/actions/slack.postMessage/run", `{"channel":"C0123","text":"x"}`)
	_, _, msg, code := r.Envelope()
	if r.Status != 500 || code != "action_failed" || !strings.Contains(msg, "/invite") || strings.Contains(string(r.Body), testToken) {
		t.Fatalf("not_in_channel: %d %s", r.Status, r.Body)
	}
	if strings.Contains(string(h.Do("GET", "/v1/runs?limit=100", "").Body), "WeBhOoKsEcReT") {
		t.Fatal("history holds the webhook secret")
	}
}
