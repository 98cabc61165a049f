package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/toolhost/toolhost/sdk"
	"github.com/toolhost/toolhost/sdk/sdktest"
)

func TestManifestDeclaresSecretsAndRequiredInputs(t *testing.T) {
	h := newFakeSlack(t).harness(nil)
	var m struct {
		Name    string `json:"name"`
		Version string `json:"version"`
		Config  []struct {
			Key      string `json:"key"`
			Required bool   `json:"required"`
			Secret   bool   `json:"secret"`
		} `json:"configurationParameters"`
		Actions []struct {
			Key          string          `json:"key"`
			Type         string          `json:"type"`
			InputSchema  json.RawMessage `json:"inputSchema"`
			SecretInputs []string        `json:"secretInputs"`
		} `json:"actions"`
	}
	if err := json.Unmarshal(h.Manifest(), &m); err != nil {
		t.Fatal(err)
	}
	if m.Name != "slack" || m.Version != "1.0.0" {
		t.Errorf("name, version = %q, %q", m.Name, m.Version)
	}
	wantConfig := map[string]bool{keyBotToken: true, keyWebhookURL: true, keyAPIURL: false} // key → secret
	for _, c := range m.Config {
		secret, ok := wantConfig[c.Key]
		if !ok {
			t.Errorf("unexpected config key %q", c.Key)
		}
		if c.Secret != secret || c.Required {
			t.Errorf("config %q: secret=%v required=%v, want secret=%v required=false", c.Key, c.Secret, c.Required, secret)
		}
	}
	wantActions := map[string]struct {
		typ      string
		required []string
		secrets  []string
	}{
		"sendMessageToChannel": {"create", []string{"message"}, []string{"incomingWebhookUrl"}},
		"postMessage":          {"create", []string{"channel", "text"}, nil},
		"listChannels":         {"read", nil, nil},
		"lookupUserByEmail":    {"read", []string{"email"}, nil},
	}
	if len(m.Actions) != len(wantActions) {
		t.Errorf("%d actions, want %d", len(m.Actions), len(wantActions))
	}
	for _, a := range m.Actions {
		want := wantActions[a.Key]
		var schema struct {
			Required []string `json:"required"`
		}
		_ = json.Unmarshal(a.InputSchema, &schema)
		slices.Sort(schema.Required)
		if a.Type != want.typ || !slices.Equal(schema.Required, want.required) || !slices.Equal(a.SecretInputs, want.secrets) {
			t.Errorf("action %q: type %q required %v secrets %v; want %q %v %v",
				a.Key, a.Type, schema.Required, a.SecretInputs, want.typ, want.required, want.secrets)
		}
	}
}

func TestCheckConfig(t *testing.T) {
	tests := []struct {
		name    string
		config  sdk.Config
		problem string // "" when the config is fine
	}{
		{"empty", sdk.Config{}, ""},
		{"webhook only", sdk.Config{keyWebhookURL: "https://hooks.slack.com/services/T0/B0/x"}, ""},
		{"bot token", sdk.Config{keyBotToken: testToken, keyAPIURL: "http://127.0.0.1:8080/api/"}, ""},
		{"user token", sdk.Config{keyBotToken: "xoxp-123-456-abc"}, ""},
		{"app token", sdk.Config{keyBotToken: "xapp-1-A0-secretvalue"}, "botToken"},
		{"webhook not http", sdk.Config{keyWebhookURL: "ftp://hooks.slack.com/services/T0/B0/secretvalue"}, "incomingWebhookUrl"},
		{"webhook without host", sdk.Config{keyWebhookURL: "https:///services/secretvalue"}, "incomingWebhookUrl"},
		{"api url not a url", sdk.Config{keyAPIURL: "::not a url"}, "apiUrl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			probs := sdktest.New(t, slackPlugin, tt.config).ConfigProblems()
			if tt.problem == "" {
				if len(probs) > 0 {
					t.Fatalf("problems %+v, want none", probs)
				}
				return
			}
			if len(probs) != 1 || !strings.Contains(probs[0].Message, tt.problem) {
				t.Fatalf("problems %+v, want one naming %q", probs, tt.problem)
			}
			if strings.Contains(probs[0].Message, "secretvalue") {
				t.Errorf("problem %q echoes the secret value", probs[0].Message)
			}
		})
	}
}
