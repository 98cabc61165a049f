package main

import (
	"context"
	"testing"
	"time"

	"github.com/toolhost/toolhost/sdk"
	"github.com/toolhost/toolhost/sdk/sdktest"
)

var simpleSearch = map[string]any{"query": "invoice"}

func TestSearchEmailsWrongPassword(t *testing.T) {
	pki := newTestPKI(t)
	f := startFakeIMAP(t, pki, fakeIMAPOptions{})
	cfg := imapConfig(f, pki)
	const wrong = "wrongpassword123"
	cfg[keyAppPassword] = wrong
	h := sdktest.New(t, gmailPlugin, cfg)

	res := runFails(t, h, context.Background(), "searchEmails", simpleSearch, sdk.CodeActionFailed,
		"authentication failed", "IMAP server", testUser, "app password", "https://myaccount.google.com/apppasswords")
	assertNoSecret(t, res, wrong)
}

func TestSearchEmailsHostUnreachable(t *testing.T) {
	addr := closedPort(t)
	host, port := splitHostPort(t, addr)
	h := sdktest.New(t, gmailPlugin, sdk.Config{
		keyEmailAddress: testUser, keyAppPassword: testPassword, keyIMAPHost: host, keyIMAPPort: port,
	})
	runFails(t, h, context.Background(), "searchEmails", simpleSearch, sdk.CodeActionFailed,
		"host unreachable", addr, "connection refused")
}

func TestSearchEmailsTimesOutWithinDeadline(t *testing.T) {
	addr := silentServer(t)
	host, port := splitHostPort(t, addr)
	h := sdktest.New(t, gmailPlugin, sdk.Config{
		keyEmailAddress: testUser, keyAppPassword: testPassword, keyIMAPHost: host, keyIMAPPort: port,
	})
	const deadline = 800 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()

	start := time.Now()
	runFails(t, h, ctx, "searchEmails", simpleSearch, sdk.CodeActionFailed, "timed out", addr)
	if took := time.Since(start); took > deadline+time.Second {
		t.Errorf("returned after %s, want within the %s deadline + 1s", took, deadline)
	}
}

func TestSearchEmailsVerifiesCertificates(t *testing.T) {
	pki := newTestPKI(t)
	f := startFakeIMAP(t, pki, fakeIMAPOptions{})
	cfg := imapConfig(f, pki)
	delete(cfg, keyRootCAFile)
	h := sdktest.New(t, gmailPlugin, cfg)

	runFails(t, h, context.Background(), "searchEmails", simpleSearch, sdk.CodeActionFailed,
		"TLS with IMAP server", "unknown authority")
}
