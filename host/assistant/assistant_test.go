package assistant

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"

	"github.com/toolhost/toolhost/host/config"
	"github.com/toolhost/toolhost/host/core"
	"github.com/toolhost/toolhost/host/domain"
)

func action(plugin, key string) *core.Action {
	return &core.Action{ID: core.ActionID(plugin, key), Key: key, Alias: plugin + "." + key, Plugin: &core.PluginEntry{Name: plugin}}
}

func TestToolNames(t *testing.T) {
	cases := map[[2]string]string{
		{"gmail", "sendEmail"}:                 "gmail_sendEmail",
		{"my.plugin", "do it!"}:                "my_plugin_do_it_",
		{"slack", "post-message"}:              "slack_post-message",
		{strings.Repeat("p", 60), "actionKey"}: strings.Repeat("p", 60) + "_act",
	}
	for in, want := range cases {
		got := ToolName(action(in[0], in[1]))
		if got != want || !toolNameRe.MatchString(got) {
			t.Errorf("ToolName(%s, %s) = %q, want %q", in[0], in[1], got, want)
		}
	}
}

func TestToolDescriptionAndParams(t *testing.T) {
	a := action("gmail", "sendEmail")
	a.Title, a.Description = "Send email", "Sends an email."
	if got := toolDescription(a); got != "Send email: Sends an email." {
		t.Errorf("description %q", got)
	}
	a.Description = ""
	if got := toolDescription(a); got != "Send email" {
		t.Errorf("description without one %q", got)
	}
	p := schemaParams(a) // no schema at all
	if p["type"] != "object" || p["properties"] == nil {
		t.Errorf("params %v", p)
	}
}

func chunkCalls(t *testing.T, raws ...string) []ToolCall {
	t.Helper()
	var acc toolCallAccumulator
	for _, raw := range raws {
		var tc openai.ChatCompletionChunkChoiceDeltaToolCall
		if err := json.Unmarshal([]byte(raw), &tc); err != nil {
			t.Fatal(err)
		}
		acc.add(tc)
	}
	return acc.calls()
}

func TestToolCallAccumulator(t *testing.T) {
	// OpenAI: indexed pieces, the id only on the first.
	got := chunkCalls(t,
		`{"index":0,"id":"a","type":"function","function":{"name":"x","arguments":"{\"q\""}}`,
		`{"index":1,"id":"b","type":"function","function":{"name":"y","arguments":""}}`,
		`{"index":0,"function":{"arguments":":1}"}}`,
		`{"index":1,"function":{"arguments":"{}"}}`,
	)
	if len(got) != 2 || got[0].ID != "a" || got[0].Function.Arguments != `{"q":1}` || got[1].Function.Name != "y" || got[1].Function.Arguments != "{}" {
		t.Errorf("indexed: %+v", got)
	}
	// A server that leaves the index out but sends whole calls with ids.
	got = chunkCalls(t,
		`{"id":"a","function":{"name":"x","arguments":"{}"}}`,
		`{"id":"b","function":{"name":"y","arguments":"{\"k\":"}}`,
		`{"function":{"arguments":"2}"}}`,
	)
	if len(got) != 2 || got[0].ID != "a" || got[1].ID != "b" || got[1].Function.Arguments != `{"k":2}` {
		t.Errorf("unindexed: %+v", got)
	}
}

func TestMessagesForAnswersDanglingToolCalls(t *testing.T) {
	calls, _ := json.Marshal([]ToolCall{{ID: "c1", Type: "function", Function: FunctionCall{Name: "x", Arguments: "{}"}},
		{ID: "c2", Type: "function", Function: FunctionCall{Name: "y", Arguments: "{}"}}})
	msgs := []*domain.Message{
		{Role: "user", Content: "hi"},
		{Role: "assistant", ToolCalls: calls},
		{Role: "tool", ToolCallID: "c1", Content: "one"},
		{Role: "user", Content: "again"},
	}
	out := messagesFor("be nice", msgs)
	raw, _ := json.Marshal(out)
	var got []struct {
		Role       string `json:"role"`
		Content    any    `json:"content"`
		ToolCallID string `json:"tool_call_id"`
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	var roles []string
	for _, m := range got {
		roles = append(roles, m.Role+":"+m.ToolCallID)
	}
	want := "system:,user:,assistant:,tool:c1,tool:c2,user:"
	if strings.Join(roles, ",") != want {
		t.Errorf("roles %v, want %s", roles, want)
	}
}

func TestErrorBodyMessage(t *testing.T) {
	for body, want := range map[string]string{
		`{"error":{"message":"bad model"}}`: "bad model",
		`{"error":"not found"}`:             "not found",
		`{"detail":"Not Found"}`:            "Not Found",
		"plain text\n":                      "plain text",
	} {
		res := &http.Response{Body: io.NopCloser(strings.NewReader(body))}
		if got := errorBodyMessage(res); got != want {
			t.Errorf("%s: got %q, want %q", body, got, want)
		}
	}
}

func TestNoModelIsAClear400(t *testing.T) {
	for _, s := range []*Service{nil, New(Options{})} {
		_, err := s.Start(context.Background(), RunRequest{ThreadID: "thread_x"})
		f := domain.AsError(err)
		if f.Code != domain.CodeInvalidRequest || !strings.Contains(f.Message, "model \"local\" {\n  base_url = ") || !strings.Contains(f.Message, "plugins.hcl") {
			t.Errorf("no model: %v", err)
		}
	}
	s := New(Options{Models: []config.Model{{Name: "a"}, {Name: "b"}}})
	if m, err := s.model(""); err != nil || m.cfg.Name != "a" {
		t.Errorf("default model: %v %v", m, err)
	}
	if _, err := s.model("c"); err == nil || !strings.Contains(err.Error(), "configured: a, b") {
		t.Errorf("unknown model: %v", err)
	}
}

func TestUnescapeHTML(t *testing.T) {
	for in, want := range map[string]string{
		`{"messageId":"\u003cabc@gmail.com\u003e"}`: `{"messageId":"<abc@gmail.com>"}`,
		`{"a":"x \u0026 y","b":"\\u003c"}`:          `{"a":"x & y","b":"\\u003c"}`,
		`{"q":"\"quoted\" \u00e9"}`:                 `{"q":"\"quoted\" \u00e9"}`,
		`{}`:                                        `{}`,
	} {
		got := unescapeHTML([]byte(in))
		if got != want || !json.Valid([]byte(got)) {
			t.Errorf("unescapeHTML(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestSetModelsReplacesTheModels(t *testing.T) {
	s := New(Options{})
	if _, err := s.model(""); err == nil || !strings.Contains(err.Error(), "refresh") {
		t.Fatalf("no models: %v", err)
	}
	s.SetModels([]config.Model{{Name: "a", BaseURL: "http://127.0.0.1:1/v1", Model: "m"}, {Name: "b", BaseURL: "http://127.0.0.1:1/v1", Model: "m"}})
	if m, err := s.model(""); err != nil || m.cfg.Name != "a" {
		t.Fatalf("default: %v %v", m, err)
	}
	if m, err := s.model("b"); err != nil || m.cfg.Name != "b" {
		t.Fatalf("by name: %v %v", m, err)
	}
	if _, err := s.model("c"); err == nil || !strings.Contains(err.Error(), "a, b") {
		t.Fatalf("unknown: %v", err)
	}
}
