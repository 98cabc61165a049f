package main

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/toolhost/toolhost/sdk"
	"github.com/toolhost/toolhost/sdk/sdktest"
)

// Secrets the tests check never show up in errors or logs.
const (
	testToken       = "xoxb-1111111111-2222222222-tEsTtOkEnSeCrEt"
	testWebhookPath = "/services/T0000TEST/B0000TEST/WeBhOoKsEcReT0123456789"
)

// fakeSlack is a loopback HTTP server that speaks enough of Slack's Web API
// and incoming-webhook wire format for the plugin's actions. It checks each
// request the way Slack would, records it, and answers with queued replies
// or, when none are queued, with a Slack-shaped default.
type fakeSlack struct {
	t      *testing.T
	server *httptest.Server

	mu       sync.Mutex
	requests []fakeRequest
	replies  map[string][]fakeReply // by Slack method, or "webhook"
}

// fakeRequest is one request the fake received.
type fakeRequest struct {
	Method string // Slack method such as "chat.postMessage", or "webhook"
	Path   string
	Auth   string         // Authorization header
	Form   url.Values     // Web API parameters, from the query or the form body
	JSON   map[string]any // webhook body
	At     time.Time
}

// fakeReply is one queued answer.
type fakeReply struct {
	Status     int
	RetryAfter string // Retry-After header, when set
	Body       string
	Delay      time.Duration
}

func newFakeSlack(t *testing.T) *fakeSlack {
	t.Helper()
	f := &fakeSlack{t: t, replies: map[string][]fakeReply{}}
	f.server = httptest.NewServer(http.HandlerFunc(f.serve)) // listens on 127.0.0.1
	t.Cleanup(f.server.Close)
	return f
}

// config is a complete plugin configuration pointing at the fake.
func (f *fakeSlack) config() sdk.Config {
	return sdk.Config{
		keyBotToken:   testToken,
		keyWebhookURL: f.webhookURL(),
		keyAPIURL:     f.server.URL + "/api/",
	}
}

func (f *fakeSlack) webhookURL() string { return f.server.URL + testWebhookPath }

// harness returns an sdktest harness for the plugin with config.
func (f *fakeSlack) harness(config sdk.Config) *sdktest.Harness {
	return sdktest.New(f.t, slackPlugin, config)
}

// queue adds replies for method, used in order before the default.
func (f *fakeSlack) queue(method string, replies ...fakeReply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.replies[method] = append(f.replies[method], replies...)
}

// queueError queues a Slack error answer: HTTP 200 with ok false.
func (f *fakeSlack) queueError(method, code string, extra ...string) {
	body := fmt.Sprintf(`{"ok":false,"error":%q%s}`, code, strings.Join(extra, ""))
	f.queue(method, fakeReply{Status: http.StatusOK, Body: body})
}

// requestsFor returns the requests received for method.
func (f *fakeSlack) requestsFor(method string) []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []fakeRequest
	for _, r := range f.requests {
		if r.Method == method {
			out = append(out, r)
		}
	}
	return out
}

func (f *fakeSlack) requestCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

func (f *fakeSlack) serve(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasPrefix(r.URL.Path, "/api/"):
		f.serveAPI(w, r, strings.TrimPrefix(r.URL.Path, "/api/"))
	case strings.HasPrefix(r.URL.Path, "/services/"):
		f.serveWebhook(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeSlack) record(req fakeRequest) {
	req.At = time.Now()
	f.mu.Lock()
	f.requests = append(f.requests, req)
	f.mu.Unlock()
}

func (f *fakeSlack) nextReply(method string) (fakeReply, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := f.replies[method]
	if len(q) == 0 {
		return fakeReply{}, false
	}
	f.replies[method] = q[1:]
	return q[0], true
}

// serveAPI answers a Web API call such as /api/chat.postMessage.
func (f *fakeSlack) serveAPI(w http.ResponseWriter, r *http.Request, method string) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	req := fakeRequest{Method: method, Path: r.URL.Path, Auth: r.Header.Get("Authorization"), Form: r.Form}
	f.record(req)
	if code := authProblem(req); code != "" {
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": code})
		return
	}
	if reply, ok := f.nextReply(method); ok {
		f.write(w, r, reply, "application/json; charset=utf-8")
		return
	}
	status, body := defaultAPIReply(method, r.Form)
	writeJSON(w, status, body)
}

// authProblem returns Slack's error code for a request without the right
// bearer token, or "". A token in the form body, which Slack also accepts,
// must match too.
func authProblem(req fakeRequest) string {
	if req.Auth == "" {
		return "not_authed"
	}
	if req.Auth != "Bearer "+testToken {
		return "invalid_auth"
	}
	if tok := req.Form.Get("token"); tok != "" && tok != testToken {
		return "invalid_auth"
	}
	return ""
}

// serveWebhook answers an incoming-webhook post, which Slack answers in
// plain text: "ok", or an error word with a 4xx status.
func (f *fakeSlack) serveWebhook(w http.ResponseWriter, r *http.Request) {
	req := fakeRequest{Method: "webhook", Path: r.URL.Path, Auth: r.Header.Get("Authorization")}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	raw, _ := io.ReadAll(r.Body)
	if r.Method != http.MethodPost || ct != "application/json" || json.Unmarshal(raw, &req.JSON) != nil {
		f.record(req)
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	f.record(req)
	if reply, ok := f.nextReply("webhook"); ok {
		f.write(w, r, reply, "text/plain; charset=utf-8")
		return
	}
	if text, _ := req.JSON["text"].(string); text == "" {
		http.Error(w, "no_text", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "ok")
}

func (f *fakeSlack) write(w http.ResponseWriter, r *http.Request, reply fakeReply, contentType string) {
	if reply.Delay > 0 {
		select {
		case <-time.After(reply.Delay):
		case <-r.Context().Done():
			return
		}
	}
	if reply.RetryAfter != "" {
		w.Header().Set("Retry-After", reply.RetryAfter)
	}
	w.Header().Set("Content-Type", contentType)
	status := reply.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, reply.Body)
}

// rateLimited is Slack's 429 answer.
func rateLimited(retryAfter string) fakeReply {
	return fakeReply{Status: http.StatusTooManyRequests, RetryAfter: retryAfter, Body: `{"ok":false,"error":"ratelimited"}`}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Default answers, shaped like Slack's.
const (
	testTs         = "1700000000.000100"
	generalID      = "C0GENERAL1"
	testPermalink  = "https://example.slack.com/archives/C0GENERAL1/p1700000000000100"
	secondPageCurs = "dGVhbTpDMFJBTkRPTTE="
)

func defaultAPIReply(method string, form url.Values) (int, any) {
	switch method {
	case "chat.postMessage":
		return postMessageReply(form)
	case "chat.getPermalink":
		return permalinkReply(form)
	case "conversations.list":
		return conversationsListReply(form)
	case "users.lookupByEmail":
		return lookupByEmailReply(form)
	}
	return http.StatusOK, slackError("unknown_method")
}

func slackError(code string) map[string]any { return map[string]any{"ok": false, "error": code} }

func postMessageReply(form url.Values) (int, any) {
	channel := form.Get("channel")
	switch channel {
	case "#general", "general", generalID:
		channel = generalID
	case "":
		return http.StatusOK, slackError("channel_not_found")
	}
	if form.Get("text") == "" {
		return http.StatusOK, slackError("no_text")
	}
	msg := map[string]any{
		"type": "message", "subtype": "bot_message", "text": form.Get("text"),
		"ts": testTs, "bot_id": "B0BOT0001", "user": "U0BOT0001",
	}
	if ts := form.Get("thread_ts"); ts != "" {
		msg["thread_ts"] = ts
	}
	return http.StatusOK, map[string]any{"ok": true, "channel": channel, "ts": testTs, "message": msg}
}

func permalinkReply(form url.Values) (int, any) {
	if form.Get("channel") != generalID || form.Get("message_ts") != testTs {
		return http.StatusOK, slackError("message_not_found")
	}
	return http.StatusOK, map[string]any{"ok": true, "channel": generalID, "permalink": testPermalink}
}

func conversationsListReply(form url.Values) (int, any) {
	channel := func(id, name, topic string, members int) map[string]any {
		return map[string]any{
			"id": id, "name": name, "is_channel": true, "is_archived": false, "is_member": true,
			"topic":       map[string]any{"value": topic, "creator": "U0ADA0001", "last_set": 1700000000},
			"purpose":     map[string]any{"value": "", "creator": "", "last_set": 0},
			"num_members": members,
		}
	}
	switch form.Get("cursor") {
	case "":
		return http.StatusOK, map[string]any{"ok": true,
			"channels": []any{
				channel(generalID, "general", "Company-wide announcements", 42),
				channel("C0RANDOM01", "random", "", 17),
			},
			"response_metadata": map[string]any{"next_cursor": secondPageCurs},
		}
	case secondPageCurs:
		return http.StatusOK, map[string]any{"ok": true,
			"channels":          []any{channel("C0DEPLOYS1", "deploys", "Release train", 5)},
			"response_metadata": map[string]any{"next_cursor": ""},
		}
	}
	return http.StatusOK, slackError("invalid_cursor")
}

func lookupByEmailReply(form url.Values) (int, any) {
	if form.Get("email") != "ada@example.com" {
		return http.StatusOK, slackError("users_not_found")
	}
	return http.StatusOK, map[string]any{"ok": true, "user": map[string]any{
		"id": "U0ADA0001", "team_id": "T0000TEST", "name": "ada", "deleted": false,
		"real_name": "Ada Lovelace", "tz": "Europe/London", "tz_label": "Greenwich Mean Time", "tz_offset": 0,
		"profile": map[string]any{
			"real_name": "Ada Lovelace", "display_name": "ada.l", "email": "ada@example.com",
		},
		"is_bot": false,
	}}
}
