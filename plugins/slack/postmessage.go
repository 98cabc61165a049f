package main

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/slack-go/slack"
	"github.com/toolhost/toolhost/sdk"
)

// PostMessageInput is the postMessage action's input.
type PostMessageInput struct {
	Channel  string `json:"channel" title:"Channel" description:"Where to post: a channel name such as #general, or a conversation id such as C0123ABCD. The bot must be a member of the channel."`
	Text     string `json:"text" title:"Text" description:"The message. Slack mrkdwn works: *bold*, _italic_, <https://example.com|links>, <@U0123ABCD> mentions."`
	ThreadTs string `json:"threadTs,omitempty" title:"Thread timestamp" description:"To reply in a thread, the ts of the thread's parent message, such as 1700000000.000100."`
}

// PostMessageOutput is the postMessage action's output.
type PostMessageOutput struct {
	Channel   string `json:"channel" title:"Channel" description:"The id of the conversation the message was posted in."`
	Ts        string `json:"ts" title:"Timestamp" description:"The message's ts, its id within the channel; pass it as threadTs to reply in its thread."`
	Permalink string `json:"permalink,omitempty" title:"Permalink" description:"A link to the message; absent if Slack could not make one."`
}

var messageTsRe = regexp.MustCompile(`^[0-9]+\.[0-9]+$`)

// postMessage posts a message as the bot with chat.postMessage, then asks
// chat.getPermalink for a link to it.
func postMessage(ctx context.Context, in PostMessageInput) (PostMessageOutput, error) {
	var out PostMessageOutput
	channel, err := checkPostMessageInput(&in)
	if err != nil {
		return out, err
	}
	api, err := newAPIClient(ctx, "postMessage")
	if err != nil {
		return out, err
	}
	opts := []slack.MsgOption{slack.MsgOptionText(in.Text, false)}
	if in.ThreadTs != "" {
		opts = append(opts, slack.MsgOptionTS(in.ThreadTs))
	}
	sdk.LoggerFrom(ctx).Info("posting a message", "channel", channel, "threadTs", in.ThreadTs)
	err = withRateLimitRetries(ctx, func() (err error) {
		out.Channel, out.Ts, err = api.PostMessageContext(ctx, channel, opts...)
		return err
	})
	if err != nil {
		return out, fmt.Errorf("posting the message to %s: %w", channel, explainAPIError("chat.postMessage", err))
	}
	sdk.Progress(ctx, 0.7, "posted; getting the permalink")
	out.Permalink = permalink(ctx, api, out.Channel, out.Ts)
	return out, nil
}

// checkPostMessageInput checks the input and returns the channel to post to.
func checkPostMessageInput(in *PostMessageInput) (string, error) {
	channel := strings.TrimSpace(in.Channel)
	switch {
	case channel == "" || channel == "#":
		return "", sdk.InputError("channel", "is empty; give a channel name such as #general or an id such as C0123ABCD")
	case strings.ContainsAny(channel, " \t\r\n"):
		return "", sdk.InputError("channel", "%q has spaces; Slack channel names and ids have none", channel)
	case strings.TrimSpace(in.Text) == "":
		return "", sdk.InputError("text", "is empty; give the message to post")
	}
	in.ThreadTs = strings.TrimSpace(in.ThreadTs)
	if in.ThreadTs != "" && !messageTsRe.MatchString(in.ThreadTs) {
		return "", sdk.InputError("threadTs", "%q is not a Slack message ts such as 1700000000.000100", in.ThreadTs)
	}
	return channel, nil
}

// permalink returns a link to a posted message, or "" with a warning when
// Slack cannot give one: the message is posted, so failing the run would
// invite a duplicate post on retry.
func permalink(ctx context.Context, api *slack.Client, channel, ts string) string {
	var link string
	err := withRateLimitRetries(ctx, func() (err error) {
		link, err = api.GetPermalinkContext(ctx, &slack.PermalinkParameters{Channel: channel, Ts: ts})
		return err
	})
	if err != nil {
		sdk.LoggerFrom(ctx).Warn("the message was posted, but getting its permalink failed",
			"error", explainAPIError("chat.getPermalink", err).Error())
		return ""
	}
	return link
}
