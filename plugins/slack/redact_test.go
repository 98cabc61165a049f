package main

import (
	"errors"
	"testing"

	"github.com/toolhost/toolhost/sdk"
)

func TestScrubSecrets(t *testing.T) {
	plain := errors.New("posting failed")
	if got := scrubSecrets(plain, testToken); got != plain {
		t.Errorf("an error without secrets was replaced: %v", got)
	}
	got := scrubSecrets(errors.New("bad token "+testToken+" used"), testToken)
	if got.Error() != "bad token [redacted] used" {
		t.Errorf("scrubbed = %q", got)
	}
	in := &sdk.Error{Code: sdk.CodeInvalidInput, Field: "incomingWebhookUrl", Message: "bad " + testWebhookPath}
	var se *sdk.Error
	if !errors.As(scrubSecrets(in, testWebhookPath), &se) || se.Code != in.Code || se.Field != in.Field || se.Message != "bad [redacted]" {
		t.Errorf("scrubbed sdk error = %+v", se)
	}
	if got := scrubSecrets(errors.New("a b c"), "b"); got.Error() != "a b c" {
		t.Errorf("a short value was scrubbed: %q", got)
	}
	if scrubSecrets(nil, testToken) != nil {
		t.Error("nil error became non-nil")
	}
}
