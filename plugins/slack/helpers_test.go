package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/toolhost/toolhost/sdk/sdktest"
)

// webhookSecret is the part of the test webhook URL that grants access.
const webhookSecret = "WeBhOoKsEcReT"

// assertNoSecrets fails t when the run's error or logs contain the bot token
// or the webhook URL's secret part.
func assertNoSecrets(t *testing.T, res sdktest.Result) {
	t.Helper()
	var texts []string
	if res.Err != nil {
		texts = append(texts, res.Err.Message)
	}
	for _, l := range res.Logs {
		texts = append(texts, l.Message, fmt.Sprint(l.Fields))
	}
	for _, s := range texts {
		for _, secret := range []string{testToken, strings.TrimPrefix(testToken, "xoxb-"), webhookSecret} {
			if strings.Contains(s, secret) {
				t.Errorf("a secret leaked into %q", s)
			}
		}
	}
}

// wantError fails t unless the run failed with code and a message holding
// every one of parts.
func wantError(t *testing.T, res sdktest.Result, code string, parts ...string) {
	t.Helper()
	if res.Err == nil {
		t.Fatalf("run succeeded with %s; want a %s error", res.Output, code)
	}
	if res.Err.Code != code {
		t.Errorf("error code = %q, want %q (message %q)", res.Err.Code, code, res.Err.Message)
	}
	for _, p := range parts {
		if !strings.Contains(res.Err.Message, p) {
			t.Errorf("error message %q does not mention %q", res.Err.Message, p)
		}
	}
	assertNoSecrets(t, res)
}

// wantInputError fails t unless the run failed as invalid input naming field.
func wantInputError(t *testing.T, res sdktest.Result, field string) {
	t.Helper()
	wantError(t, res, "invalid_input", field)
	if res.Err != nil && res.Err.Field != field {
		t.Errorf("error field = %q, want %q (message %q)", res.Err.Field, field, res.Err.Message)
	}
}

// hasLog reports whether the run logged at level a message containing part.
func hasLog(res sdktest.Result, level, part string) bool {
	for _, l := range res.Logs {
		if l.Level == level && strings.Contains(l.Message, part) {
			return true
		}
	}
	return false
}

func withTimeout(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
