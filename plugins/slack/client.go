package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/slack-go/slack"
	"github.com/toolhost/toolhost/sdk"
)

// newAPIClient returns a Slack Web API client for the current run, built from
// the configuration. action names the caller in the error that a missing
// botToken produces.
func newAPIClient(ctx context.Context, action string) (*slack.Client, error) {
	cfg := sdk.ConfigFrom(ctx)
	token := configValue(cfg, keyBotToken)
	if token == "" {
		return nil, &sdk.Error{Code: sdk.CodeMisconfigured, Message: fmt.Sprintf(
			"%s needs the %s configuration value (the Slack app's Bot User OAuth Token, xoxb-…), and it is not set; "+
				"see the plugin's README for how to get one", action, keyBotToken)}
	}
	apiURL, err := apiURLFrom(cfg)
	if err != nil {
		return nil, &sdk.Error{Code: sdk.CodeMisconfigured, Message: fmt.Sprintf("configuration value %s %v", keyAPIURL, err)}
	}
	return slack.New(token,
		slack.OptionAPIURL(apiURL),
		slack.OptionHTTPClient(bearerClient{token: token, next: &http.Client{}}),
	), nil
}

// apiURLFrom returns the configured Web API base URL, ending in a slash as
// the Slack client expects.
func apiURLFrom(cfg sdk.Config) (string, error) {
	u := configValue(cfg, keyAPIURL)
	if u == "" {
		return defaultAPIURL, nil
	}
	if err := checkHTTPURL(u); err != nil {
		return "", err
	}
	if !strings.HasSuffix(u, "/") {
		u += "/"
	}
	return u, nil
}

// bearerClient sends the token in an Authorization header on every request,
// as Slack recommends. The Slack client puts it there for some methods and
// only in the form body for others.
type bearerClient struct {
	token string
	next  *http.Client
}

func (c bearerClient) Do(req *http.Request) (*http.Response, error) {
	if req.Header.Get("Authorization") == "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	return c.next.Do(req)
}
