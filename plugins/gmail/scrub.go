package main

import (
	"context"
	"errors"
	"strings"

	"github.com/toolhost/toolhost/sdk"
)

// minScrubLen is the shortest secret scrubbed from messages: replacing a
// one- or two-letter secret would garble the message and hide nothing.
const minScrubLen = 4

// scrubbed wraps a handler so that no error it returns contains the app
// password, whatever a server or library put into the message.
func scrubbed[In, Out any](fn func(context.Context, In) (Out, error)) func(context.Context, In) (Out, error) {
	return func(ctx context.Context, in In) (Out, error) {
		out, err := fn(ctx, in)
		if err != nil {
			pw := sdk.ConfigFrom(ctx).Get(keyAppPassword)
			err = scrubError(err, pw, normalizeAppPassword(pw))
		}
		return out, err
	}
}

// scrubError replaces every secret in err's message with "[redacted]",
// keeping an *sdk.Error's code and field.
func scrubError(err error, secrets ...string) error {
	msg := err.Error()
	clean := msg
	for _, s := range secrets {
		if len(s) >= minScrubLen {
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
