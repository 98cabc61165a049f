package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/toolhost/toolhost/sdk"
)

// capGmail is the capability of Gmail's IMAP extensions, X-GM-RAW among
// them.
const capGmail imap.Cap = "X-GM-EXT-1"

// gmailAllMail is the usual name of Gmail's "All Mail" folder, which also
// carries the \All special-use attribute (under a localized name in some
// accounts).
const gmailAllMail = "[Gmail]/All Mail"

// imapSession is one logged-in IMAP connection.
type imapSession struct {
	ctx     context.Context
	server  string
	address string
	started time.Time
	dialer  *contextDialer
	conn    *gmRawConn
	client  *imapclient.Client
}

// openIMAP connects over implicit TLS and logs in. The connection lives no
// longer than ctx, and at most defaultSessionTimeout without a deadline.
func openIMAP(ctx context.Context, s *settings) (*imapSession, error) {
	sess := &imapSession{
		ctx:     ctx,
		server:  net.JoinHostPort(s.imapHost, strconv.Itoa(s.imapPort)),
		address: s.address,
		started: time.Now(),
	}
	timeout := sessionTimeout(ctx)
	if timeout <= 0 || ctx.Err() != nil {
		return nil, sess.timeoutError("before connecting")
	}
	tlsCfg, err := s.tlsConfig(s.imapHost)
	if err != nil {
		return nil, err
	}
	tlsCfg.NextProtos = []string{"imap"}
	sess.dialer = &contextDialer{action: ctx, tlsConfig: tlsCfg}

	sdk.LoggerFrom(ctx).Info("connecting to the IMAP server", "server", sess.server)
	dialCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := sess.dialer.DialContext(dialCtx, "tcp", sess.server)
	if err != nil {
		sess.dialer.release()
		return nil, sess.connectError(err)
	}
	_ = conn.SetDeadline(time.Now().Add(timeout))
	if sess.conn, err = newGMRawConn(conn); err != nil {
		conn.Close()
		sess.dialer.release()
		return nil, fmt.Errorf("preparing the IMAP connection: %w", err)
	}
	sess.client = imapclient.New(sess.conn, nil)
	if err := sess.client.WaitGreeting(); err != nil {
		sess.close()
		return nil, sess.connectError(err)
	}
	if err := sess.client.Login(s.address, s.password).Wait(); err != nil {
		sess.close()
		return nil, sess.loginError(err)
	}
	sdk.LoggerFrom(ctx).Info("logged in to the IMAP server", "server", sess.server, "user", s.address)
	return sess, nil
}

// close logs out and closes the connection.
func (sess *imapSession) close() {
	if sess.client != nil {
		done := make(chan struct{})
		go func() {
			_ = sess.client.Logout().Wait()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(time.Second):
		}
		_ = sess.client.Close()
	}
	sess.dialer.release()
}

// selectSearchMailbox opens Gmail's All Mail folder when there is one, else
// INBOX, read-only.
func (sess *imapSession) selectSearchMailbox() (string, error) {
	boxes, err := sess.client.List("", "*", nil).Collect()
	if err != nil {
		return "", sess.commandError("listing mailboxes", err)
	}
	name := "INBOX"
	for _, b := range boxes {
		if slices.Contains(b.Attrs, imap.MailboxAttrAll) || b.Mailbox == gmailAllMail {
			name = b.Mailbox
			break
		}
	}
	if _, err := sess.client.Select(name, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		return "", sess.commandError("opening mailbox "+strconv.Quote(name), err)
	}
	return name, nil
}

// search returns the UIDs of the messages matching query, in ascending
// order: with X-GM-RAW on a server that has Gmail's extensions, else with
// a TEXT key for each word or quoted phrase.
func (sess *imapSession) search(query string) ([]imap.UID, bool, error) {
	gmail := sess.client.Caps().Has(capGmail)
	criteria := &imap.SearchCriteria{Text: searchTerms(query)}
	if gmail {
		criteria = sess.conn.criteria(query)
		sess.conn.arm()
	}
	data, err := sess.client.UIDSearch(criteria, nil).Wait()
	if gmail && !sess.conn.didRewrite() && err == nil {
		return nil, gmail, errors.New("searching: the X-GM-RAW search key could not be sent")
	}
	if err != nil {
		return nil, gmail, sess.commandError("searching", err)
	}
	uids := data.AllUIDs()
	slices.Sort(uids)
	return uids, gmail, nil
}

// fetchOptions asks for what a result needs, and the structure to find
// the text part in.
var fetchOptions = &imap.FetchOptions{
	UID:           true,
	Envelope:      true,
	InternalDate:  true,
	BodyStructure: &imap.FetchItemBodyStructure{Extended: true},
}

// fetchSummaries fetches the envelopes and body structures of uids.
func (sess *imapSession) fetchSummaries(uids []imap.UID) ([]*imapclient.FetchMessageBuffer, error) {
	if len(uids) == 0 {
		return nil, nil
	}
	msgs, err := sess.client.Fetch(imap.UIDSetNum(uids...), fetchOptions).Collect()
	if err != nil {
		return nil, sess.commandError("fetching messages", err)
	}
	return msgs, nil
}

// fetchSnippets fetches the start of each message's text part and returns
// the snippets by UID. Messages whose text is in the same part are fetched
// in one command.
func (sess *imapSession) fetchSnippets(msgs []*imapclient.FetchMessageBuffer) (map[imap.UID]string, error) {
	type group struct {
		section *imap.FetchItemBodySection
		uids    []imap.UID
		parts   map[imap.UID]*imap.BodyStructureSinglePart
	}
	groups := map[string]*group{}
	var order []string
	for _, m := range msgs {
		if m.BodyStructure == nil {
			continue
		}
		path, part, ok := snippetPart(m.BodyStructure)
		if !ok {
			continue
		}
		key := fmt.Sprint(path)
		g := groups[key]
		if g == nil {
			g = &group{
				section: &imap.FetchItemBodySection{Part: path, Peek: true, Partial: &imap.SectionPartial{Size: snippetFetchBytes}},
				parts:   map[imap.UID]*imap.BodyStructureSinglePart{},
			}
			groups[key] = g
			order = append(order, key)
		}
		g.uids = append(g.uids, m.UID)
		g.parts[m.UID] = part
	}
	out := map[imap.UID]string{}
	for _, key := range order {
		g := groups[key]
		opts := &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{g.section}}
		bufs, err := sess.client.Fetch(imap.UIDSetNum(g.uids...), opts).Collect()
		if err != nil {
			return nil, sess.commandError("fetching message text", err)
		}
		for _, b := range bufs {
			if part := g.parts[b.UID]; part != nil {
				out[b.UID] = snippetFromPart(b.FindBodySection(g.section), part)
			}
		}
	}
	return out, nil
}
