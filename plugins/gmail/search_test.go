package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/toolhost/toolhost/sdk"
	"github.com/toolhost/toolhost/sdk/sdktest"
)

var baseDate = time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)

// longText is a text body of 1,200 characters with line breaks; its first
// 500 characters, single-spaced, are the expected snippet.
var longText = func() string {
	var sb strings.Builder
	sb.WriteString("invoice\n")
	for i := 0; sb.Len() < 1200; i++ {
		fmt.Fprintf(&sb, "line %03d of the long invoice text.\n", i)
	}
	return sb.String()
}()

// seedMessage is one message of the test mailbox.
type seedMessage struct {
	id, subject, from, snippet string
	raw                        string
}

func seedMessages() []seedMessage {
	header := func(n int, from, subject, contentType string) string {
		return fmt.Sprintf("From: %s\nTo: Me <me@example.com>, other@example.com\nSubject: %s\nDate: %s\nMessage-Id: <m%d@example.com>\nMIME-Version: 1.0\n%s\n",
			from, subject, baseDate.Add(time.Duration(n)*time.Hour).Format(time.RFC1123Z), n, contentType)
	}
	long := base64.StdEncoding.EncodeToString([]byte(longText))
	var wrapped strings.Builder
	for i := 0; i < len(long); i += 76 {
		wrapped.WriteString(long[i:min(i+76, len(long))] + "\n")
	}
	return []seedMessage{
		{id: "<m1@example.com>", subject: "Invoice 1", from: "Alice <alice@example.com>",
			snippet: "Please find invoice number one attached.",
			raw: header(1, "Alice <alice@example.com>", "Invoice 1", "Content-Type: text/plain; charset=utf-8") +
				"\nPlease find invoice number one\nattached.\n"},
		{id: "<m2@example.com>", subject: "Lunch", from: "bob@example.com",
			raw: header(2, "bob@example.com", "Lunch", "Content-Type: text/plain") + "\nShall we get lunch on Friday?\n"},
		{id: "<m3@example.com>", subject: "Invoice 2", from: "Alice <alice@example.com>",
			snippet: "Invoice two is due € 40.",
			raw: header(3, "Alice <alice@example.com>", "Invoice 2", `Content-Type: multipart/alternative; boundary="b1"`) +
				"\n--b1\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n" +
				"Invoice two is d=\nue =E2=82=AC 40.\n--b1\nContent-Type: text/html; charset=utf-8\n\n<p>Invoice <b>two</b></p>\n--b1--\n"},
		{id: "<m4@example.com>", subject: "Invoice 3", from: "carol@example.com",
			snippet: "Invoice three & more: café",
			raw: header(4, "carol@example.com", "Invoice 3", "Content-Type: text/html; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable") +
				"\n<html><head><title>Ignored title</title><style>.x{color:red}</style></head><body><p>Invoice&nbsp;three &amp; more:</p> caf=E9</body></html>\n"},
		{id: "<m5@example.com>", subject: "Invoice 4", from: "dave@example.com",
			snippet: truncateRunes(strings.Join(strings.Fields(longText), " "), 500),
			raw: header(5, "dave@example.com", "Invoice 4", "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64") +
				"\n" + wrapped.String()},
		{id: "<m6@example.com>", subject: "Invoice with attachment", from: "erin@example.com",
			snippet: "See the attached PDF.",
			raw: header(6, "erin@example.com", "Invoice with attachment", `Content-Type: multipart/mixed; boundary="b2"`) +
				"\n--b2\nContent-Type: text/plain\n\nSee the attached PDF.\n" +
				"--b2\nContent-Type: application/pdf\nContent-Disposition: attachment; filename=\"invoice.pdf\"\nContent-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n--b2--\n"},
		{id: "<m7@example.com>", subject: "Grüße", from: "frank@example.com",
			snippet: "Grüße aus Köln.",
			raw: header(7, "frank@example.com", "=?utf-8?q?Gr=C3=BC=C3=9Fe?=", "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit") +
				"\nGrüße aus Köln.\n"},
	}
}

// seed adds the messages to mailbox, arriving in date order.
func seed(t *testing.T, f *fakeIMAP, mailbox string) []seedMessage {
	t.Helper()
	msgs := seedMessages()
	for i, m := range msgs {
		f.add(t, mailbox, m.raw, baseDate.Add(time.Duration(i+1)*time.Hour))
	}
	return msgs
}

func imapConfig(f *fakeIMAP, pki *testPKI) sdk.Config {
	return sdk.Config{
		keyEmailAddress: testUser,
		keyAppPassword:  testPassword,
		keyIMAPHost:     f.host,
		keyIMAPPort:     f.port,
		keyRootCAFile:   pki.caFile,
	}
}

func search(t *testing.T, h *sdktest.Harness, input map[string]any) []FoundEmail {
	t.Helper()
	var out SearchEmailsOutput
	h.Run(context.Background(), "searchEmails", input).Decode(t, &out)
	return out.Messages
}

func ids(found []FoundEmail) []string {
	var out []string
	for _, f := range found {
		out = append(out, f.MessageID)
	}
	return out
}

func assertIDs(t *testing.T, found []FoundEmail, want ...string) {
	t.Helper()
	if got := ids(found); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("found %v, want %v", got, want)
	}
}

func TestSearchEmailsFindsNewestFirstWithSnippets(t *testing.T) {
	pki := newTestPKI(t)
	f := startFakeIMAP(t, pki, fakeIMAPOptions{})
	msgs := seed(t, f, "INBOX")
	h := sdktest.New(t, gmailPlugin, imapConfig(f, pki))

	found := search(t, h, map[string]any{"query": "invoice"})
	assertIDs(t, found, "<m6@example.com>", "<m5@example.com>", "<m4@example.com>", "<m3@example.com>", "<m1@example.com>")

	byID := map[string]seedMessage{}
	for _, m := range msgs {
		byID[m.id] = m
	}
	for i, got := range found {
		want := byID[got.MessageID]
		if got.Subject != want.subject || got.From != want.from {
			t.Errorf("%s: subject %q from %q, want %q from %q", got.MessageID, got.Subject, got.From, want.subject, want.from)
		}
		if got.To != "Me <me@example.com>, other@example.com" {
			t.Errorf("%s: to %q", got.MessageID, got.To)
		}
		wantDate := baseDate.Add(time.Duration(6-i) * time.Hour).Format(time.RFC3339)
		if i == 4 {
			wantDate = baseDate.Add(time.Hour).Format(time.RFC3339)
		}
		if got.Date != wantDate {
			t.Errorf("%s: date %q, want %q", got.MessageID, got.Date, wantDate)
		}
		if got.Snippet != want.snippet {
			t.Errorf("%s: snippet\n%q\nwant\n%q", got.MessageID, got.Snippet, want.snippet)
		}
		if n := utf8.RuneCountInString(got.Snippet); n > 500 {
			t.Errorf("%s: snippet of %d characters, want at most 500", got.MessageID, n)
		}
	}
	if n := utf8.RuneCountInString(found[1].Snippet); n != 500 {
		t.Errorf("the long message's snippet has %d characters, want exactly 500", n)
	}
	lines := f.searches.all()
	if len(lines) != 1 || !strings.Contains(lines[0], `TEXT "invoice"`) || strings.Contains(lines[0], "X-GM-RAW") {
		t.Errorf("SEARCH commands %q, want one with TEXT \"invoice\"", lines)
	}
}

func TestSearchEmailsLimit(t *testing.T) {
	pki := newTestPKI(t)
	f := startFakeIMAP(t, pki, fakeIMAPOptions{})
	seed(t, f, "INBOX")
	h := sdktest.New(t, gmailPlugin, imapConfig(f, pki))

	assertIDs(t, search(t, h, map[string]any{"query": "invoice", "limit": 2}), "<m6@example.com>", "<m5@example.com>")
	assertIDs(t, search(t, h, map[string]any{"query": "invoice", "limit": 1}), "<m6@example.com>")

	for _, bad := range []int{0, 51} {
		res := h.Run(context.Background(), "searchEmails", map[string]any{"query": "invoice", "limit": bad})
		if res.Err == nil || res.Err.Code != sdk.CodeInvalidInput {
			t.Errorf("limit %d: got %+v, want invalid_input", bad, res.Err)
		}
	}
}

func TestSearchEmailsDefaultLimitIsTen(t *testing.T) {
	pki := newTestPKI(t)
	f := startFakeIMAP(t, pki, fakeIMAPOptions{})
	for i := 1; i <= 12; i++ {
		f.add(t, "INBOX", fmt.Sprintf("From: a@example.com\nSubject: Report %d\nDate: %s\nMessage-Id: <r%d@example.com>\n\nweekly report\n",
			i, baseDate.Add(time.Duration(i)*time.Hour).Format(time.RFC1123Z), i), baseDate.Add(time.Duration(i)*time.Hour))
	}
	h := sdktest.New(t, gmailPlugin, imapConfig(f, pki))

	found := search(t, h, map[string]any{"query": "weekly"})
	if len(found) != 10 || found[0].MessageID != "<r12@example.com>" || found[9].MessageID != "<r3@example.com>" {
		t.Errorf("found %v, want r12 down to r3", ids(found))
	}
}

func TestSearchEmailsWordsAndPhrases(t *testing.T) {
	pki := newTestPKI(t)
	f := startFakeIMAP(t, pki, fakeIMAPOptions{})
	seed(t, f, "INBOX")
	h := sdktest.New(t, gmailPlugin, imapConfig(f, pki))

	assertIDs(t, search(t, h, map[string]any{"query": `invoice "number one"`}), "<m1@example.com>")
	assertIDs(t, search(t, h, map[string]any{"query": "alice invoice"}), "<m3@example.com>", "<m1@example.com>")
	assertIDs(t, search(t, h, map[string]any{"query": "Köln"}), "<m7@example.com>")
	assertIDs(t, search(t, h, map[string]any{"query": "nothing-matches-this"}))
}

func TestSearchEmailsPrefersAllMail(t *testing.T) {
	pki := newTestPKI(t)
	f := startFakeIMAP(t, pki, fakeIMAPOptions{})
	if err := f.user.Create(gmailAllMail, nil); err != nil {
		t.Fatal(err)
	}
	seed(t, f, gmailAllMail)
	f.add(t, "INBOX", "From: x@example.com\nSubject: Invoice in INBOX only\nMessage-Id: <inbox@example.com>\n\ninvoice\n", baseDate.Add(100*time.Hour))
	h := sdktest.New(t, gmailPlugin, imapConfig(f, pki))

	found := search(t, h, map[string]any{"query": "invoice", "limit": 50})
	if len(found) != 5 || strings.Contains(strings.Join(ids(found), " "), "inbox@") {
		t.Errorf("found %v, want the 5 matches of %s and not the INBOX-only message", ids(found), gmailAllMail)
	}
}

func TestSearchEmailsUsesXGMRawOnGmail(t *testing.T) {
	pki := newTestPKI(t)
	f := startFakeIMAP(t, pki, fakeIMAPOptions{gmail: true})
	seed(t, f, "INBOX")
	h := sdktest.New(t, gmailPlugin, imapConfig(f, pki))

	assertIDs(t, search(t, h, map[string]any{"query": "invoice", "limit": 3}),
		"<m6@example.com>", "<m5@example.com>", "<m4@example.com>")
	assertIDs(t, search(t, h, map[string]any{"query": "Köln"}), "<m7@example.com>")

	lines := f.searches.all()
	if len(lines) != 2 {
		t.Fatalf("SEARCH commands %q, want 2", lines)
	}
	if !strings.HasSuffix(lines[0], `UID SEARCH X-GM-RAW "invoice"`) {
		t.Errorf("first search %q, want UID SEARCH X-GM-RAW \"invoice\"", lines[0])
	}
	if !strings.Contains(lines[1], "X-GM-RAW {") {
		t.Errorf("second search %q, want X-GM-RAW with a literal", lines[1])
	}
	for _, l := range lines {
		if strings.Contains(l, "HEADER") || strings.Contains(l, "X-Toolhost") {
			t.Errorf("the stand-in search key reached the server: %q", l)
		}
	}
}

func TestSearchEmailsEmptyQuery(t *testing.T) {
	h := sdktest.New(t, gmailPlugin, sdk.Config{keyEmailAddress: testUser, keyAppPassword: testPassword})
	for _, q := range []string{"", "   ", `""`} {
		res := h.Run(context.Background(), "searchEmails", map[string]any{"query": q})
		if res.Err == nil || res.Err.Code != sdk.CodeInvalidInput || res.Err.Field != "query" {
			t.Errorf("query %q: got %+v, want invalid_input on query", q, res.Err)
		}
	}
}
