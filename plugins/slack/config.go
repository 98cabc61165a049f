package main

import (
	"errors"
	"net/url"
	"strings"

	"github.com/slack-go/slack"
	"github.com/toolhost/toolhost/sdk"
)

// Configuration keys.
const (
	keyBotToken   = "botToken"
	keyWebhookURL = "incomingWebhookUrl"
	keyAPIURL     = "apiUrl"
)

// defaultAPIURL is Slack's Web API base URL.
const defaultAPIURL = slack.APIURL

var configParams = []sdk.ConfigParam{
	{
		Key:   keyBotToken,
		Title: "Bot token",
		Description: "The Slack app's Bot User OAuth Token (xoxb-…), from OAuth & Permissions. " +
			"Needed by postMessage, listChannels and lookupUserByEmail; not by sendMessageToChannel.",
		Secret: true,
	},
	{
		Key:   keyWebhookURL,
		Title: "Incoming webhook URL",
		Description: "Default incoming webhook URL (https://hooks.slack.com/services/…) for sendMessageToChannel. " +
			"The action's incomingWebhookUrl input overrides it.",
		Secret: true,
	},
	{
		Key:         keyAPIURL,
		Title:       "API URL",
		Description: "Base URL of the Slack Web API. Leave empty for " + defaultAPIURL + "; set only for testing.",
	},
}

// checkConfig reports every problem with a configuration, naming the key but
// never echoing a value.
func checkConfig(c sdk.Config) error {
	var probs []string
	if t := configValue(c, keyBotToken); t != "" && !hasTokenPrefix(t) {
		probs = append(probs, keyBotToken+": must be a Slack token starting with xoxb- (bot) or xoxp- (user)")
	}
	for _, key := range []string{keyWebhookURL, keyAPIURL} {
		if v := configValue(c, key); v != "" {
			if err := checkHTTPURL(v); err != nil {
				probs = append(probs, key+": "+err.Error())
			}
		}
	}
	if len(probs) > 0 {
		return errors.New(strings.Join(probs, "; "))
	}
	return nil
}

// configValue returns a configuration value without surrounding spaces, which
// copying a token out of a web page often adds.
func configValue(c sdk.Config, key string) string {
	return strings.TrimSpace(c.Get(key))
}

func hasTokenPrefix(token string) bool {
	return strings.HasPrefix(token, "xoxb-") || strings.HasPrefix(token, "xoxp-")
}

// checkHTTPURL checks that s is an absolute http or https URL. Its messages
// never contain s, which may be secret.
func checkHTTPURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("is not a valid URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return errors.New("must start with https:// (or http://)")
	}
	if u.Host == "" {
		return errors.New("has no host name")
	}
	return nil
}
