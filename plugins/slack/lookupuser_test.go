package main

import (
	"context"
	"testing"

	"github.com/toolhost/toolhost/sdk"
)

func TestLookupUserByEmail(t *testing.T) {
	f := newFakeSlack(t)
	res := f.harness(f.config()).Run(context.Background(), "lookupUserByEmail", map[string]any{"email": " ada@example.com "})
	var out LookupUserByEmailOutput
	res.Decode(t, &out)
	want := LookupUserByEmailOutput{
		ID: "U0ADA0001", Name: "ada", RealName: "Ada Lovelace", DisplayName: "ada.l", Timezone: "Europe/London",
	}
	if out != want {
		t.Errorf("output = %+v, want %+v", out, want)
	}
	reqs := f.requestsFor("users.lookupByEmail")
	if len(reqs) != 1 || reqs[0].Form.Get("email") != "ada@example.com" || reqs[0].Auth != "Bearer "+testToken {
		t.Errorf("requests = %+v", reqs)
	}
	assertNoSecrets(t, res)
}

func TestLookupUserByEmailNotFound(t *testing.T) {
	f := newFakeSlack(t)
	res := f.harness(f.config()).Run(context.Background(), "lookupUserByEmail", map[string]any{"email": "nobody@example.com"})
	wantError(t, res, sdk.CodeActionFailed, "nobody@example.com", "no user in this Slack workspace has that email address", "users_not_found")
}

func TestLookupUserByEmailMissingScopeFallsBackToKnownScope(t *testing.T) {
	f := newFakeSlack(t)
	f.queueError("users.lookupByEmail", "missing_scope")
	res := f.harness(f.config()).Run(context.Background(), "lookupUserByEmail", map[string]any{"email": "ada@example.com"})
	wantError(t, res, sdk.CodeActionFailed, "users:read.email")
}

func TestLookupUserByEmailRejectsBadEmail(t *testing.T) {
	f := newFakeSlack(t)
	h := f.harness(f.config())
	for _, email := range []string{"", "ada", "Ada <ada@example.com>", "ada@"} {
		wantInputError(t, h.Run(context.Background(), "lookupUserByEmail", map[string]any{"email": email}), "email")
	}
	if n := f.requestCount(); n != 0 {
		t.Errorf("%d requests sent for bad input", n)
	}
}

func TestLookupUserByEmailNeedsBotToken(t *testing.T) {
	f := newFakeSlack(t)
	res := f.harness(sdk.Config{}).Run(context.Background(), "lookupUserByEmail", map[string]any{"email": "ada@example.com"})
	wantError(t, res, sdk.CodeMisconfigured, "lookupUserByEmail needs the botToken")
}
