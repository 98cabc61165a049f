package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/toolhost/toolhost/sdk"
	"github.com/toolhost/toolhost/sdk/sdktest"
)

var simpleEmail = map[string]any{"recipient": "ada@example.com", "subject": "Hi", "body": "Hello."}

// runFails runs action and fails t unless it failed with code and a
// message holding every one of wants.
func runFails(t *testing.T, h *sdktest.Harness, ctx context.Context, action string, input map[string]any, code string, wants ...string) sdktest.Result {
	t.Helper()
	res := h.Run(ctx, action, input)
	if res.Err == nil {
		t.Fatalf("run succeeded with %s, want failure %s", res.Output, code)
	}
	if res.Err.Code != code {
		t.Errorf("error code %q (%s), want %q", res.Err.Code, res.Err.Message, code)
	}
	for _, w := range wants {
		if !strings.Contains(res.Err.Message, w) {
			t.Errorf("error %q does not mention %q", res.Err.Message, w)
		}
	}
	return res
}

func TestSendEmailWrongPassword(t *testing.T) {
	pki := newTestPKI(t)
	f := startFakeSMTP(t, fakeSMTPOptions{startTLS: pki.serverTLS})
	cfg := smtpConfig(f, pki)
	const wrong = "wrongpassword123"
	cfg[keyAppPassword] = wrong
	h := sdktest.New(t, gmailPlugin, cfg)

	res := runFails(t, h, context.Background(), "sendEmail", simpleEmail, sdk.CodeActionFailed,
		"authentication failed", "app password", "https://myaccount.google.com/apppasswords",
		"2-Step Verification", "535", testUser)
	assertNoSecret(t, res, wrong)
	if _, _, _, d := f.stats(); len(d) != 0 || f.authFails != 1 {
		t.Errorf("deliveries %d, refused logins %d; want 0 and 1", len(d), f.authFails)
	}
}

func TestSendEmailHostUnreachable(t *testing.T) {
	addr := closedPort(t)
	host, port := splitHostPort(t, addr)
	h := sdktest.New(t, gmailPlugin, sdk.Config{
		keyEmailAddress: testUser, keyAppPassword: testPassword, keySMTPHost: host, keySMTPPort: port,
	})
	runFails(t, h, context.Background(), "sendEmail", simpleEmail, sdk.CodeActionFailed,
		"host unreachable", addr, "connection refused", "nothing was sent")
}

func TestSendEmailTimesOutWithinDeadline(t *testing.T) {
	addr := silentServer(t)
	host, port := splitHostPort(t, addr)
	h := sdktest.New(t, gmailPlugin, sdk.Config{
		keyEmailAddress: testUser, keyAppPassword: testPassword, keySMTPHost: host, keySMTPPort: port,
	})
	const deadline = 800 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()

	start := time.Now()
	runFails(t, h, ctx, "sendEmail", simpleEmail, sdk.CodeActionFailed, "timed out", addr, "did not answer", "nothing was sent")
	if took := time.Since(start); took > deadline+time.Second {
		t.Errorf("returned after %s, want within the %s deadline + 1s", took, deadline)
	}
}

func TestSendEmailRecipientRejected(t *testing.T) {
	pki := newTestPKI(t)
	f := startFakeSMTP(t, fakeSMTPOptions{startTLS: pki.serverTLS, rejectRcpt: []string{"ghost@example.com"}})
	h := sdktest.New(t, gmailPlugin, smtpConfig(f, pki))

	res := runFails(t, h, context.Background(), "sendEmail", map[string]any{
		"recipient": "ada@example.com, ghost@example.com", "cc": "bob@example.com", "subject": "Hi", "body": "Hello.",
	}, sdk.CodeActionFailed, "recipient rejected", "ghost@example.com", "550", "No such user here", "nothing was sent")
	if strings.Contains(res.Err.Message, "ada@example.com") || strings.Contains(res.Err.Message, "bob@example.com") {
		t.Errorf("error %q names accepted recipients", res.Err.Message)
	}
	if _, mails, dataCalls, d := f.stats(); mails != 1 || dataCalls != 0 || len(d) != 0 {
		t.Errorf("MAIL %d, DATA %d, deliveries %d; want 1, 0, 0 (no half-sent message)", mails, dataCalls, len(d))
	}
}

func TestSendEmailTooLargeForAdvertisedSize(t *testing.T) {
	pki := newTestPKI(t)
	f := startFakeSMTP(t, fakeSMTPOptions{startTLS: pki.serverTLS, maxBytes: 2000})
	h := sdktest.New(t, gmailPlugin, smtpConfig(f, pki))

	runFails(t, h, context.Background(), "sendEmail", map[string]any{
		"recipient": "ada@example.com", "subject": "Big", "body": strings.Repeat("All work and no play. ", 400),
	}, sdk.CodeActionFailed, "message too large", "SIZE 2000", "nothing was sent")
	if _, mails, dataCalls, d := f.stats(); mails != 0 || dataCalls != 0 || len(d) != 0 {
		t.Errorf("MAIL %d, DATA %d, deliveries %d; want none", mails, dataCalls, len(d))
	}
}

func TestSendEmailTooLargeAtData(t *testing.T) {
	pki := newTestPKI(t)
	f := startFakeSMTP(t, fakeSMTPOptions{startTLS: pki.serverTLS, dataErr: smtp.ErrDataTooLarge})
	h := sdktest.New(t, gmailPlugin, smtpConfig(f, pki))

	runFails(t, h, context.Background(), "sendEmail", simpleEmail, sdk.CodeActionFailed,
		"message too large", "552", "Maximum message size exceeded")
	if _, _, _, d := f.stats(); len(d) != 0 {
		t.Errorf("deliveries %d, want 0", len(d))
	}
}

func TestSendEmailRefusedAtData(t *testing.T) {
	pki := newTestPKI(t)
	spam := &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Message rejected as spam"}
	f := startFakeSMTP(t, fakeSMTPOptions{startTLS: pki.serverTLS, dataErr: spam})
	h := sdktest.New(t, gmailPlugin, smtpConfig(f, pki))

	runFails(t, h, context.Background(), "sendEmail", simpleEmail, sdk.CodeActionFailed,
		"refused the message", "554", "rejected as spam")
}

func TestSendEmailInvalidAddresses(t *testing.T) {
	pki := newTestPKI(t)
	f := startFakeSMTP(t, fakeSMTPOptions{startTLS: pki.serverTLS})
	h := sdktest.New(t, gmailPlugin, smtpConfig(f, pki))

	tests := []struct {
		name, field, bad string
		input            map[string]any
	}{
		{"recipient", "recipient", "not-an-address",
			map[string]any{"recipient": "not-an-address", "subject": "s", "body": "b"}},
		{"second recipient", "recipient", "bob@",
			map[string]any{"recipient": "ada@example.com, bob@", "subject": "s", "body": "b"}},
		{"cc", "cc", "carol at example.com",
			map[string]any{"recipient": "ada@example.com", "cc": "carol at example.com", "subject": "s", "body": "b"}},
		{"bcc", "bcc", "<dave@",
			map[string]any{"recipient": "ada@example.com", "bcc": "<dave@", "subject": "s", "body": "b"}},
		{"replyTo", "replyTo", "@example.com",
			map[string]any{"recipient": "ada@example.com", "replyTo": "@example.com", "subject": "s", "body": "b"}},
		{"no recipient", "recipient", "",
			map[string]any{"recipient": " , ", "subject": "s", "body": "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runFails(t, h, context.Background(), "sendEmail", tt.input, sdk.CodeInvalidInput, tt.field+": ")
			if res.Err.Field != tt.field {
				t.Errorf("error field %q, want %q", res.Err.Field, tt.field)
			}
			if tt.bad != "" && !strings.Contains(res.Err.Message, `"`+tt.bad+`" is not a valid email address`) {
				t.Errorf("error %q does not name %q", res.Err.Message, tt.bad)
			}
		})
	}
	if sessions, _, _, _ := f.stats(); sessions != 0 {
		t.Errorf("the server saw %d sessions; bad input must fail before connecting", sessions)
	}
}

func TestSendEmailVerifiesCertificates(t *testing.T) {
	pki := newTestPKI(t)
	f := startFakeSMTP(t, fakeSMTPOptions{startTLS: pki.serverTLS})
	cfg := smtpConfig(f, pki)
	delete(cfg, keyRootCAFile) // the system roots do not know the test CA
	h := sdktest.New(t, gmailPlugin, cfg)

	runFails(t, h, context.Background(), "sendEmail", simpleEmail, sdk.CodeActionFailed,
		"TLS with SMTP server", "unknown authority", "nothing was sent")
	if f.authFails != 0 || f.tlsLogins != 0 {
		t.Errorf("the password was sent to an unverified server")
	}
}

func TestSendEmailNoTLSRefusedForRemoteHost(t *testing.T) {
	cfg := sdk.Config{
		keyEmailAddress: testUser, keyAppPassword: testPassword,
		keySMTPHost: "smtp.gmail.com", keySMTPTLS: "none",
	}
	h := sdktest.New(t, gmailPlugin, cfg)
	problems := h.ConfigProblems()
	if len(problems) != 1 || !strings.Contains(problems[0].Message, "smtpTLS") || !strings.Contains(problems[0].Message, "loopback") {
		t.Errorf("ConfigProblems = %+v, want one smtpTLS problem about loopback hosts", problems)
	}

	runFails(t, h, context.Background(), "sendEmail", simpleEmail, sdk.CodeMisconfigured,
		"smtpTLS", "unencrypted", "smtp.gmail.com")
}
