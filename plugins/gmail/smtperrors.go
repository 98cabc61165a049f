package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"strings"
	"time"
)

// connectError explains a failure to connect, secure the connection or
// log in. Nothing was sent in any of these cases.
func (d *smtpDelivery) connectError(ctx context.Context, err error) error {
	if timedOut(ctx, err) {
		return d.timeoutError(ctx, "while connecting and logging in", "nothing was sent")
	}
	if !d.dialer.reachedServer() {
		return fmt.Errorf("host unreachable: cannot connect to SMTP server %s: %s; nothing was sent", d.server, dialCause(err))
	}
	if msg, ok := tlsProblem(err); ok {
		return fmt.Errorf("TLS with SMTP server %s failed: %s; nothing was sent", d.server, msg)
	}
	if isSMTPAuthFailure(err) {
		return fmt.Errorf("authentication failed: SMTP server %s refused the login for %s (%s). %s",
			d.server, d.settings.address, serverReply(err), appPasswordHint)
	}
	return fmt.Errorf("talking to SMTP server %s failed before sending: %s; nothing was sent", d.server, serverReply(err))
}

// transactionError explains an error during MAIL, RCPT or DATA, before the
// message's end was sent: the server has not accepted anything.
func (d *smtpDelivery) transactionError(ctx context.Context, err error, what string) error {
	if timedOut(ctx, err) {
		return d.timeoutError(ctx, "while sending", "nothing was sent")
	}
	var reply *textproto.Error
	if errors.As(err, &reply) {
		return fmt.Errorf("SMTP server %s %s: %s; nothing was sent", d.server, what, replyText(reply))
	}
	return fmt.Errorf("connection to SMTP server %s lost while sending: %v; nothing was sent", d.server, err)
}

// afterDataError explains a lost connection after the whole message was
// sent but before the server answered: it may have been delivered.
func (d *smtpDelivery) afterDataError(ctx context.Context, err error) error {
	if timedOut(ctx, err) {
		return d.timeoutError(ctx, "waiting for the server to accept the message", "it may or may not have been sent")
	}
	return fmt.Errorf("connection to SMTP server %s lost waiting for it to accept the message: %v; it may or may not have been sent", d.server, err)
}

// timeoutError says the action's deadline (or the per-step timeout)
// passed when, with what that means for the message.
func (d *smtpDelivery) timeoutError(ctx context.Context, when, outcome string) error {
	elapsed := time.Since(d.started).Round(10 * time.Millisecond)
	if errors.Is(ctx.Err(), context.Canceled) {
		return fmt.Errorf("cancelled talking to SMTP server %s (%s, after %s); %s", d.server, when, elapsed, outcome)
	}
	return fmt.Errorf("timed out: SMTP server %s did not answer in time (%s, after %s); %s", d.server, when, elapsed, outcome)
}

// timedOut reports whether err comes from the action's context ending or a
// network timeout.
func timedOut(ctx context.Context, err error) bool {
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// dialCause is the reason a TCP connection failed, without the dialer's
// repetition of the address.
func dialCause(err error) string {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		if dns.IsNotFound {
			return fmt.Sprintf("no such host %q", dns.Name)
		}
		return "DNS lookup failed: " + dns.Err
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return unwrapSyscall(op.Err)
	}
	return err.Error()
}

// unwrapSyscall turns "connect: connection refused" into "connection
// refused".
func unwrapSyscall(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		return msg[i+2:]
	}
	return msg
}

// tlsProblem describes a failed TLS handshake or certificate check.
func tlsProblem(err error) (string, bool) {
	var verr *tls.CertificateVerificationError
	var unknown x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(err, &hostname):
		return "the server's certificate is not valid for this host: " + hostname.Error(), true
	case errors.As(err, &unknown):
		return "the server's certificate is signed by an unknown authority (set tlsRootCAFile for a private CA)", true
	case errors.As(err, &invalid):
		return "the server's certificate is invalid: " + invalid.Error(), true
	case errors.As(err, &verr):
		return "the server's certificate could not be verified: " + verr.Err.Error(), true
	}
	var alert tls.AlertError
	var rec tls.RecordHeaderError
	if errors.As(err, &alert) || errors.As(err, &rec) {
		return err.Error(), true
	}
	if strings.Contains(err.Error(), "does not support STARTTLS") {
		return "the server does not offer STARTTLS (for a port 465 server set smtpTLS to \"tls\")", true
	}
	return "", false
}

// isSMTPAuthFailure reports whether err is the server refusing the login.
func isSMTPAuthFailure(err error) bool {
	var reply *textproto.Error
	if errors.As(err, &reply) && (reply.Code == 535 || reply.Code == 534) {
		return true
	}
	return strings.Contains(err.Error(), "SMTP AUTH failed")
}

// serverReply is the server's reply in err when there is one, else err's
// message.
func serverReply(err error) string {
	var reply *textproto.Error
	if errors.As(err, &reply) {
		return replyText(reply)
	}
	return err.Error()
}

// replyText formats an SMTP reply on one line: "550 5.1.1 No such user".
func replyText(r *textproto.Error) string {
	return fmt.Sprintf("%d %s", r.Code, strings.Join(strings.Fields(r.Msg), " "))
}
