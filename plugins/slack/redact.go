package main

import (
	"context"
	"errors"
	"strings"

	"github.com/toolhost/toolhost/sdk"
)

// minSecretLen is the length below which a value is not scrubbed from
// messages: replacing very short strings would garble them, and no real
// token or webhook URL is that short.
const minSecretLen = 8

// redactSecrets wraps a handler so that its error never carries the bot
// token or the configured webhook URL, whatever produced it.
func redactSecrets[In, Out any](fn func(context.Context, In) (Out, error)) func(context.Context, In) (Out, error) {
	return func(ctx context.Context, in In) (Out, error) {
		out, err := fn(ctx, in)
		if err != nil {
			cfg := sdk.ConfigFrom(ctx)
			err = scrubSecrets(err, configValue(cfg, keyBotToken), configValue(cfg, keyWebhookURL))
		}
		return out, err
	}
}

// scrubSecrets returns err with every secret in its message replaced by
// [redacted]. An error whose message has none is returned as it is.
func scrubSecrets(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	clean := msg
	for _, s := range secrets {
		if len(s) >= minSecretLen {
			clean = strings.ReplaceAll(clean, s, "[redacted]")
		}
	}
	if clean == msg {
		return err
	}
	var se *sdk.Error
	if errors.As(err, &se) {
		return &sdk.Error{Code: se.Code, Field: se.Field, Message: clean}
	}
	return errors.New(clean)
}
