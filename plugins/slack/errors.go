package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/slack-go/slack"
)

// scopeFor is the bot token scope each Web API method needs, for when Slack's
// missing_scope answer does not say.
var scopeFor = map[string]string{
	"chat.postMessage":    "chat:write",
	"conversations.list":  "channels:read",
	"users.lookupByEmail": "users:read.email",
}

// slackErrorCode returns Slack's error code ("channel_not_found") when err is
// an error answer from the Web API, or "".
func slackErrorCode(err error) string {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	return ""
}

// explainAPIError turns an error from calling the Web API method into a
// message a person can act on. Errors it does not recognise pass through.
func explainAPIError(method string, err error) error {
	if err == nil {
		return nil
	}
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return errors.New(explainErrorCode(method, se))
	}
	var sc slack.StatusCodeError
	if errors.As(err, &sc) {
		return fmt.Errorf("Slack answered %s with HTTP %s; try again later", method, httpStatus(sc.Code))
	}
	return explainTransportError("Slack", err)
}

// explainErrorCode describes one of Slack's error codes, keeping the code in
// the message so it can be looked up.
func explainErrorCode(method string, se slack.SlackErrorResponse) string {
	code := se.Err
	switch code {
	case "channel_not_found":
		return "Slack cannot find that channel (channel_not_found): check the name or id; " +
			"a private channel is only visible to the bot once it is invited with /invite @botname"
	case "not_in_channel":
		return "the bot is not a member of that channel (not_in_channel): " +
			"invite it by typing /invite @botname in the channel, then try again"
	case "invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive":
		return fmt.Sprintf("Slack rejected the bot token (%s): check the %s configuration value; "+
			"it must be the current Bot User OAuth Token (xoxb-…) from the Slack app's OAuth & Permissions page, "+
			"and the app must still be installed in the workspace", code, keyBotToken)
	case "missing_scope":
		return fmt.Sprintf("the bot token lacks the Slack scope %s that %s needs (missing_scope): "+
			"add it under OAuth & Permissions → Bot Token Scopes, then reinstall the app to the workspace",
			neededScope(method, se), method)
	case "users_not_found":
		return "no user in this Slack workspace has that email address (users_not_found)"
	case "ratelimited":
		return "Slack rate limited us (ratelimited); try again in a minute"
	case "is_archived":
		return "that channel is archived (is_archived): unarchive it or choose another channel"
	case "msg_too_long":
		return "the message is too long for Slack (msg_too_long); keep it under 40,000 characters"
	case "no_text":
		return "Slack received no message text (no_text)"
	case "restricted_action":
		return "the workspace does not let the bot post in that channel (restricted_action)"
	case "invalid_cursor":
		return "Slack does not recognise that cursor (invalid_cursor): pass the nextCursor of the previous page, or none to start over"
	}
	return fmt.Sprintf("Slack answered %s with the error %q", method, code)
}

// neededScope returns the scope Slack said was needed, or the one the method
// is known to need.
func neededScope(method string, se slack.SlackErrorResponse) string {
	if se.Needed != "" {
		return se.Needed
	}
	if s := scopeFor[method]; s != "" {
		return s
	}
	return "(Slack did not say which)"
}

// explainWebhookError describes a failed incoming-webhook post. Slack
// answers those with a status code and a short text body.
func explainWebhookError(err error) error {
	var sc slack.StatusCodeError
	if !errors.As(err, &sc) {
		return explainTransportError("Slack's webhook endpoint", err)
	}
	switch sc.Code {
	case http.StatusBadRequest:
		return errors.New("Slack rejected the webhook message as malformed (HTTP 400, invalid_payload)")
	case http.StatusForbidden:
		return errors.New("Slack refused the webhook post (HTTP 403, action_prohibited): the workspace does not allow it")
	case http.StatusNotFound:
		return fmt.Errorf("Slack does not know this incoming webhook URL (HTTP 404, no_service): "+
			"it was revoked or mistyped; check %s or create a new webhook in the Slack app", keyWebhookURL)
	case http.StatusGone:
		return errors.New("the webhook's channel is archived (HTTP 410, channel_is_archived)")
	case http.StatusTooManyRequests:
		return errors.New("Slack rate limited us (HTTP 429) without saying for how long; try again in a minute")
	}
	return fmt.Errorf("Slack answered the webhook post with HTTP %s; try again later", httpStatus(sc.Code))
}

// explainTransportError describes a request that got no answer. It names
// only the host: a webhook URL's path is a secret.
func explainTransportError(service string, err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	switch {
	case errors.Is(ue.Err, context.DeadlineExceeded):
		return fmt.Errorf("the action's deadline passed before %s answered", service)
	case errors.Is(ue.Err, context.Canceled):
		return fmt.Errorf("the run was cancelled before %s answered", service)
	}
	return fmt.Errorf("could not reach %s at %s: %v", service, hostOf(ue.URL), ue.Err)
}

func hostOf(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return "the configured URL"
	}
	return u.Host
}

func httpStatus(code int) string {
	if text := http.StatusText(code); text != "" {
		return fmt.Sprintf("%d %s", code, text)
	}
	return fmt.Sprint(code)
}
