package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/slack-go/slack"
	"github.com/toolhost/toolhost/sdk"
)

// SendMessageToChannelInput is the sendMessageToChannel action's input.
type SendMessageToChannelInput struct {
	Message string `json:"message" title:"Message" description:"The text to post. Slack mrkdwn works: *bold*, _italic_, <https://example.com|links>."`
	// IncomingWebhookURL carries a secret: whoever has it can post.
	IncomingWebhookURL string `json:"incomingWebhookUrl,omitempty" title:"Incoming webhook URL" description:"The incoming webhook to post through (https://hooks.slack.com/services/…); it decides the channel. Overrides the plugin's incomingWebhookUrl configuration value." toolhost:"secret"`
}

// SendMessageToChannelOutput is the sendMessageToChannel action's output.
type SendMessageToChannelOutput struct {
	Sent bool `json:"sent" title:"Sent" description:"True once Slack accepted the message."`
}

// sendMessageToChannel posts a message through an incoming webhook.
func sendMessageToChannel(ctx context.Context, in SendMessageToChannelInput) (SendMessageToChannelOutput, error) {
	var out SendMessageToChannelOutput
	if strings.TrimSpace(in.Message) == "" {
		return out, sdk.InputError("message", "is empty; give the text to post")
	}
	hook, err := webhookURL(ctx, in.IncomingWebhookURL)
	if err != nil {
		return out, err
	}
	sdk.LoggerFrom(ctx).Info("posting a message through the incoming webhook", "characters", len(in.Message))
	msg := &slack.WebhookMessage{Text: in.Message}
	err = withRateLimitRetries(ctx, func() error { return slack.PostWebhookContext(ctx, hook, msg) })
	if err != nil {
		err = fmt.Errorf("posting the message through the incoming webhook: %w", explainWebhookError(err))
		return out, err // the sdk scrubs the webhook URL (a secret) from the message
	}
	out.Sent = true
	return out, nil
}

// webhookURL picks the webhook URL from the input, else the configuration.
func webhookURL(ctx context.Context, fromInput string) (string, error) {
	if u := strings.TrimSpace(fromInput); u != "" {
		if err := checkHTTPURL(u); err != nil {
			return "", sdk.InputError("incomingWebhookUrl", "%v", err)
		}
		return u, nil
	}
	u := configValue(sdk.ConfigFrom(ctx), keyWebhookURL)
	if u == "" {
		return "", &sdk.Error{Code: sdk.CodeMisconfigured, Message: "no incoming webhook URL to post through: " +
			"pass the incomingWebhookUrl input or set the incomingWebhookUrl configuration value"}
	}
	if err := checkHTTPURL(u); err != nil {
		return "", &sdk.Error{Code: sdk.CodeMisconfigured, Message: "configuration value incomingWebhookUrl " + err.Error()}
	}
	return u, nil
}
