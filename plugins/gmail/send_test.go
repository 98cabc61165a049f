package main

import (
	"context"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"slices"
	"strings"
	"testing"

	"github.com/toolhost/toolhost/sdk"
	"github.com/toolhost/toolhost/sdk/sdktest"
)

// smtpConfig is a configuration for the fake server f, verified with pki.
func smtpConfig(f *fakeSMTP, pki *testPKI) sdk.Config {
	return sdk.Config{
		keyEmailAddress: testUser,
		keyAppPassword:  "abcd efgh ijkl mnop", // as Google shows it
		keySenderName:   "Assistant",
		keySMTPHost:     f.host,
		keySMTPPort:     f.port,
		keyRootCAFile:   pki.caFile,
	}
}

func TestSendEmailDeliversWholeMessage(t *testing.T) {
	pki := newTestPKI(t)
	f := startFakeSMTP(t, fakeSMTPOptions{startTLS: pki.serverTLS})
	h := sdktest.New(t, gmailPlugin, smtpConfig(f, pki))

	res := h.Run(context.Background(), "sendEmail", map[string]any{
		"recipient": "Ada Lovelace <ada@example.com>, bob@example.com",
		"cc":        "carol@example.com",
		"bcc":       "dave@example.com",
		"replyTo":   "team@example.com",
		"subject":   "Quarterly report ✓",
		"body":      "Hello Ada,\nthe report is attached.",
		"htmlBody":  "<p>Hello Ada,<br>the <b>report</b> is attached.</p>",
	})
	var out SendEmailOutput
	res.Decode(t, &out)

	sessions, _, _, deliveries := f.stats()
	if len(deliveries) != 1 {
		t.Fatalf("server got %d messages, want 1 (sessions %d)", len(deliveries), sessions)
	}
	if f.tlsLogins != 1 {
		t.Errorf("logins over TLS = %d, want 1 (STARTTLS before AUTH)", f.tlsLogins)
	}
	d := deliveries[0]
	if d.from != testUser {
		t.Errorf("MAIL FROM = %q, want %q", d.from, testUser)
	}
	wantRcpts := []string{"ada@example.com", "bob@example.com", "carol@example.com", "dave@example.com"}
	if !slices.Equal(d.rcpts, wantRcpts) {
		t.Errorf("RCPT TO = %v, want %v (Bcc included)", d.rcpts, wantRcpts)
	}

	msg, err := mail.ReadMessage(strings.NewReader(string(d.data)))
	if err != nil {
		t.Fatalf("delivered message does not parse: %v\n%s", err, d.data)
	}
	from, err := mail.ParseAddress(msg.Header.Get("From"))
	if err != nil || from.Name != "Assistant" || from.Address != testUser {
		t.Errorf("From = %q (%v), want Assistant <%s>", msg.Header.Get("From"), err, testUser)
	}
	assertAddresses(t, msg.Header, "To", "ada@example.com", "bob@example.com")
	assertAddresses(t, msg.Header, "Cc", "carol@example.com")
	assertAddresses(t, msg.Header, "Reply-To", "team@example.com")
	if to, _ := msg.Header.AddressList("To"); len(to) > 0 && to[0].Name != "Ada Lovelace" {
		t.Errorf("first To name = %q, want Ada Lovelace", to[0].Name)
	}
	if subj, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil || subj != "Quarterly report ✓" {
		t.Errorf("Subject = %q (%v), want %q", subj, err, "Quarterly report ✓")
	}
	if got := msg.Header.Get("Message-Id"); got == "" || got != out.MessageID {
		t.Errorf("Message-Id header %q, output messageId %q: want equal and set", got, out.MessageID)
	}
	if !strings.HasPrefix(out.MessageID, "<") || !strings.HasSuffix(out.MessageID, "@example.com>") {
		t.Errorf("messageId %q, want <...@example.com>", out.MessageID)
	}
	if msg.Header.Get("Bcc") != "" || strings.Contains(string(d.data), "dave@example.com") {
		t.Errorf("the Bcc address appears in the message:\n%s", d.data)
	}

	parts := readAlternativeParts(t, msg)
	if got := parts["text/plain"]; got != "Hello Ada,\nthe report is attached." {
		t.Errorf("text/plain part = %q", got)
	}
	if got := parts["text/html"]; got != "<p>Hello Ada,<br>the <b>report</b> is attached.</p>" {
		t.Errorf("text/html part = %q", got)
	}
	assertNoSecret(t, res, "abcdefghijklmnop")
}

func TestSendEmailPlainTextOnly(t *testing.T) {
	pki := newTestPKI(t)
	f := startFakeSMTP(t, fakeSMTPOptions{startTLS: pki.serverTLS})
	cfg := smtpConfig(f, pki)
	delete(cfg, keySenderName)
	h := sdktest.New(t, gmailPlugin, cfg)

	res := h.Run(context.Background(), "sendEmail", map[string]any{
		"recipient": "ada@example.com", "subject": "Hi\r\nBcc: evil@example.com", "body": "Just text.",
	})
	var out SendEmailOutput
	res.Decode(t, &out)
	_, _, _, deliveries := f.stats()
	if len(deliveries) != 1 {
		t.Fatalf("server got %d messages, want 1", len(deliveries))
	}
	msg, err := mail.ReadMessage(strings.NewReader(string(deliveries[0].data)))
	if err != nil {
		t.Fatal(err)
	}
	if got := msg.Header.Get("From"); got != "<"+testUser+">" && got != testUser {
		t.Errorf("From = %q, want the bare address", got)
	}
	if got := msg.Header.Get("Subject"); got != "Hi Bcc: evil@example.com" {
		t.Errorf("Subject = %q: a line break must not start a new header", got)
	}
	if msg.Header.Get("Bcc") != "" || !slices.Equal(deliveries[0].rcpts, []string{"ada@example.com"}) {
		t.Errorf("subject injected a recipient: rcpts %v", deliveries[0].rcpts)
	}
	mediaType, _, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if mediaType != "text/plain" {
		t.Errorf("Content-Type %q, want text/plain", mediaType)
	}
}

func TestSendEmailImplicitTLS(t *testing.T) {
	pki := newTestPKI(t)
	f := startFakeSMTP(t, fakeSMTPOptions{implicitTLS: pki.serverTLS})
	cfg := smtpConfig(f, pki)
	cfg[keySMTPTLS] = "tls"
	h := sdktest.New(t, gmailPlugin, cfg)

	res := h.Run(context.Background(), "sendEmail", map[string]any{
		"recipient": "ada@example.com", "subject": "Hi", "body": "Over implicit TLS.",
	})
	var out SendEmailOutput
	res.Decode(t, &out)
	if _, _, _, d := f.stats(); len(d) != 1 || f.tlsLogins != 1 {
		t.Errorf("deliveries %d, TLS logins %d; want 1 and 1", len(d), f.tlsLogins)
	}
}

func TestSendEmailWithoutTLSOnLoopback(t *testing.T) {
	f := startFakeSMTP(t, fakeSMTPOptions{insecure: true})
	h := sdktest.New(t, gmailPlugin, sdk.Config{
		keyEmailAddress: testUser, keyAppPassword: testPassword,
		keySMTPHost: f.host, keySMTPPort: f.port, keySMTPTLS: "none",
	})
	res := h.Run(context.Background(), "sendEmail", map[string]any{
		"recipient": "ada@example.com", "subject": "Hi", "body": "Plain SMTP to a local relay.",
	})
	var out SendEmailOutput
	res.Decode(t, &out)
	if _, _, _, d := f.stats(); len(d) != 1 {
		t.Errorf("deliveries %d, want 1", len(d))
	}
}

func TestSendEmailManifest(t *testing.T) {
	h := sdktest.New(t, gmailPlugin, nil)
	m := string(h.Manifest())
	for _, want := range []string{`"title":"Email recipient"`, `"required":["recipient","subject","body"]`, `"messageId"`, `"maximum":50`} {
		if !strings.Contains(m, want) {
			t.Errorf("manifest lacks %s:\n%s", want, m)
		}
	}
}

// readAlternativeParts returns the decoded parts of a multipart/alternative
// message by media type.
func readAlternativeParts(t *testing.T, msg *mail.Message) map[string]string {
	t.Helper()
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" {
		t.Fatalf("Content-Type = %q (%v), want multipart/alternative", msg.Header.Get("Content-Type"), err)
	}
	parts := map[string]string{}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("reading the parts: %v", err)
		}
		b, err := io.ReadAll(p) // quoted-printable is decoded by NextPart
		if err != nil {
			t.Fatal(err)
		}
		pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		parts[pt] = strings.ReplaceAll(string(b), "\r\n", "\n")
	}
	return parts
}

func assertAddresses(t *testing.T, h mail.Header, key string, want ...string) {
	t.Helper()
	list, err := h.AddressList(key)
	if err != nil {
		t.Errorf("%s header %q: %v", key, h.Get(key), err)
		return
	}
	var got []string
	for _, a := range list {
		got = append(got, a.Address)
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s = %v, want %v", key, got, want)
	}
}

// assertNoSecret checks that a run's error, logs and progress never show
// secret.
func assertNoSecret(t *testing.T, res sdktest.Result, secret string) {
	t.Helper()
	var texts []string
	if res.Err != nil {
		texts = append(texts, res.Err.Message)
	}
	for _, l := range res.Logs {
		texts = append(texts, l.Message)
		for k, v := range l.Fields {
			texts = append(texts, k+"="+toString(v))
		}
	}
	for _, p := range res.Progress {
		texts = append(texts, p.Message)
	}
	for _, s := range texts {
		if strings.Contains(s, secret) {
			t.Errorf("the password shows in %q", s)
		}
	}
}

func toString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return ""
}
