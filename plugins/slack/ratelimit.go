package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/slack-go/slack"
	"github.com/toolhost/toolhost/sdk"
)

const (
	// maxRateLimitRetries is how many times one call is retried after Slack
	// answers 429.
	maxRateLimitRetries = 3
	// maxWaitWithoutDeadline bounds one wait when the run has no deadline.
	maxWaitWithoutDeadline = 2 * time.Minute
)

// withRateLimitRetries runs call, and runs it again when Slack answers 429
// with Retry-After, after waiting that long, as long as the wait ends before
// ctx's deadline. It gives up after maxRateLimitRetries retries.
func withRateLimitRetries(ctx context.Context, call func() error) error {
	for retries := 0; ; retries++ {
		err := call()
		var limited *slack.RateLimitedError
		if !errors.As(err, &limited) {
			return err
		}
		if err := waitOutRateLimit(ctx, limited.RetryAfter, retries); err != nil {
			return err
		}
	}
}

// waitOutRateLimit waits before retry number retries+1, or says why it will
// not.
func waitOutRateLimit(ctx context.Context, wait time.Duration, retries int) error {
	if retries >= maxRateLimitRetries {
		return fmt.Errorf("Slack rate limited us %d times in a row; retry after %s", retries+1, seconds(wait))
	}
	if deadline, ok := ctx.Deadline(); ok {
		if left := time.Until(deadline); wait >= left {
			return fmt.Errorf("Slack rate limited us; retry after %s, which is past the action's deadline (%s left)",
				seconds(wait), seconds(left))
		}
	} else if wait > maxWaitWithoutDeadline {
		return fmt.Errorf("Slack rate limited us; retry after %s, longer than the %s this plugin waits",
			seconds(wait), seconds(maxWaitWithoutDeadline))
	}
	sdk.LoggerFrom(ctx).Warn("Slack rate limited the request; waiting before retrying",
		"retryAfter", seconds(wait), "retry", retries+1)
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("waiting %s for Slack's rate limit to pass: %w", seconds(wait), ctx.Err())
	case <-timer.C:
		return nil
	}
}

// seconds formats d in whole seconds, rounding down, as Retry-After counts.
func seconds(d time.Duration) string {
	return fmt.Sprintf("%ds", int64(d/time.Second))
}
