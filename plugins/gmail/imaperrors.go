package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/emersion/go-imap/v2"
)

// connectError explains a failure to connect to the IMAP server or to get
// its greeting.
func (sess *imapSession) connectError(err error) error {
	if timedOut(sess.ctx, err) {
		return sess.timeoutError("while connecting")
	}
	if !sess.dialer.reachedServer() {
		return fmt.Errorf("host unreachable: cannot connect to IMAP server %s: %s", sess.server, dialCause(err))
	}
	if msg, ok := tlsProblem(err); ok {
		return fmt.Errorf("TLS with IMAP server %s failed: %s", sess.server, msg)
	}
	return fmt.Errorf("connecting to IMAP server %s failed: %v", sess.server, err)
}

// loginError explains a refused LOGIN.
func (sess *imapSession) loginError(err error) error {
	var ierr *imap.Error
	if errors.As(err, &ierr) {
		return fmt.Errorf("authentication failed: IMAP server %s refused the login for %s (%s). %s",
			sess.server, sess.address, imapReply(ierr), appPasswordHint)
	}
	return sess.commandError("logging in", err)
}

// commandError explains a failed IMAP command.
func (sess *imapSession) commandError(doing string, err error) error {
	if timedOut(sess.ctx, err) {
		return sess.timeoutError(doing)
	}
	var ierr *imap.Error
	if errors.As(err, &ierr) {
		return fmt.Errorf("%s on IMAP server %s failed: %s", doing, sess.server, imapReply(ierr))
	}
	return fmt.Errorf("%s on IMAP server %s failed: %v", doing, sess.server, err)
}

// timeoutError says the action's deadline (or the session timeout) passed.
func (sess *imapSession) timeoutError(when string) error {
	elapsed := time.Since(sess.started).Round(10 * time.Millisecond)
	if errors.Is(sess.ctx.Err(), context.Canceled) {
		return fmt.Errorf("cancelled after %s talking to IMAP server %s (%s)", elapsed, sess.server, when)
	}
	return fmt.Errorf("timed out: IMAP server %s did not answer in time (%s, after %s)", sess.server, when, elapsed)
}

// imapReply formats a status response: "NO [AUTHENTICATIONFAILED] Invalid
// credentials".
func imapReply(e *imap.Error) string {
	s := string(e.Type)
	if e.Code != "" {
		s += " [" + string(e.Code) + "]"
	}
	if e.Text != "" {
		s += " " + e.Text
	}
	return s
}
