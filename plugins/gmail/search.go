package main

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/toolhost/toolhost/sdk"
)

const defaultSearchLimit = 10

// SearchEmailsInput is the searchEmails action's input.
type SearchEmailsInput struct {
	Query string `json:"query" title:"Search query" description:"What to search for, in Gmail search syntax as typed in Gmail's search box, e.g. from:alice@example.com subject:invoice newer_than:7d. On a server without Gmail's extensions each word (or \"quoted phrase\") must appear in the message's headers or text."`
	Limit int    `json:"limit,omitempty" title:"Limit" description:"The most messages to return, newest first." jsonschema:"minimum=1,maximum=50,default=10"`
}

// SearchEmailsOutput is the searchEmails action's output.
type SearchEmailsOutput struct {
	Messages []FoundEmail `json:"messages" title:"Messages" description:"The matching messages, newest first."`
}

// FoundEmail is one message found.
type FoundEmail struct {
	From      string `json:"from" title:"From" description:"The sender, as Name <address> or address."`
	To        string `json:"to" title:"To" description:"The To recipients, separated by commas."`
	Subject   string `json:"subject" title:"Subject" description:"The subject."`
	Date      string `json:"date" title:"Date" description:"When the message was sent (its Date header, else when it arrived), RFC 3339."`
	MessageID string `json:"messageId" title:"Message ID" description:"The Message-Id header, with angle brackets."`
	Snippet   string `json:"snippet" title:"Snippet" description:"The start of the message's text, single-spaced, at most 500 characters."`
}

// searchEmails runs the query on the mailbox and summarizes the newest
// matches.
func searchEmails(ctx context.Context, in SearchEmailsInput) (SearchEmailsOutput, error) {
	s, err := settingsFrom(ctx)
	if err != nil {
		return SearchEmailsOutput{}, err
	}
	query := strings.TrimSpace(in.Query)
	if len(searchTerms(query)) == 0 {
		return SearchEmailsOutput{}, sdk.InputError("query", "has nothing to search for")
	}
	limit := in.Limit
	if limit == 0 {
		limit = defaultSearchLimit
	}

	sess, err := openIMAP(ctx, s)
	if err != nil {
		return SearchEmailsOutput{}, err
	}
	defer sess.close()
	sdk.Progress(ctx, 0.3, "logged in to the IMAP server")

	mailbox, err := sess.selectSearchMailbox()
	if err != nil {
		return SearchEmailsOutput{}, err
	}
	uids, gmail, err := sess.search(query)
	if err != nil {
		return SearchEmailsOutput{}, err
	}
	sdk.LoggerFrom(ctx).Info("searched", "mailbox", mailbox, "gmailSyntax", gmail, "matches", len(uids))
	sdk.Progress(ctx, 0.6, fmt.Sprintf("%d messages match", len(uids)))

	found, err := sess.summarize(newestUIDs(uids, limit))
	if err != nil {
		return SearchEmailsOutput{}, err
	}
	return SearchEmailsOutput{Messages: found}, nil
}

// newestUIDs returns the last n of ascending uids: the latest arrivals,
// since a mailbox numbers messages in the order they arrive.
func newestUIDs(uids []imap.UID, n int) []imap.UID {
	if len(uids) > n {
		return uids[len(uids)-n:]
	}
	return uids
}

// summarize fetches uids' headers and snippets, newest first.
func (sess *imapSession) summarize(uids []imap.UID) ([]FoundEmail, error) {
	msgs, err := sess.fetchSummaries(uids)
	if err != nil {
		return nil, err
	}
	snippets, err := sess.fetchSnippets(msgs)
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(msgs, func(a, b *imapclient.FetchMessageBuffer) int {
		if c := sentAt(b).Compare(sentAt(a)); c != 0 {
			return c
		}
		return cmp.Compare(b.UID, a.UID)
	})
	out := make([]FoundEmail, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, foundEmail(m, snippets[m.UID]))
	}
	return out, nil
}

// sentAt is the message's Date header, else its arrival time.
func sentAt(m *imapclient.FetchMessageBuffer) time.Time {
	if m.Envelope != nil && !m.Envelope.Date.IsZero() {
		return m.Envelope.Date
	}
	return m.InternalDate
}

func foundEmail(m *imapclient.FetchMessageBuffer, snippet string) FoundEmail {
	f := FoundEmail{Snippet: snippet}
	if t := sentAt(m); !t.IsZero() {
		f.Date = t.Format(time.RFC3339)
	}
	if env := m.Envelope; env != nil {
		f.From = formatAddresses(env.From)
		f.To = formatAddresses(env.To)
		f.Subject = env.Subject
		if env.MessageID != "" {
			f.MessageID = "<" + env.MessageID + ">"
		}
	}
	return f
}

// formatAddresses writes addresses for people: "Name <a@b>, c@d".
func formatAddresses(list []imap.Address) string {
	var parts []string
	for _, a := range list {
		addr := a.Addr()
		if addr == "" {
			continue // group syntax markers
		}
		if a.Name != "" {
			addr = a.Name + " <" + addr + ">"
		}
		parts = append(parts, addr)
	}
	return strings.Join(parts, ", ")
}

// searchTerms splits a query into words and "quoted phrases", each to be
// searched for as TEXT.
func searchTerms(query string) []string {
	var terms []string
	for rest := strings.TrimSpace(query); rest != ""; rest = strings.TrimSpace(rest) {
		if rest[0] == '"' {
			if end := strings.IndexByte(rest[1:], '"'); end >= 0 {
				if phrase := strings.TrimSpace(rest[1 : end+1]); phrase != "" {
					terms = append(terms, phrase)
				}
				rest = rest[end+2:]
				continue
			}
			rest = rest[1:] // an unpaired quote is dropped
			continue
		}
		end := strings.IndexAny(rest, " \t\r\n")
		if end < 0 {
			end = len(rest)
		}
		terms = append(terms, rest[:end])
		rest = rest[end:]
	}
	return terms
}
