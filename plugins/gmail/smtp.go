package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"

	"github.com/toolhost/toolhost/sdk"
)

// smtpDelivery sends one composed email over one SMTP connection.
type smtpDelivery struct {
	settings *settings
	server   string // host:port, for messages
	started  time.Time
	dialer   *contextDialer
	log      *sdk.Logger
}

// deliver connects, logs in and sends e. The envelope is checked in full
// (every RCPT accepted, the size within the server's limit) before DATA,
// so a refusal leaves nothing sent.
func deliver(ctx context.Context, s *settings, e *composedEmail) error {
	d := &smtpDelivery{
		settings: s,
		server:   net.JoinHostPort(s.smtpHost, strconv.Itoa(s.smtpPort)),
		started:  time.Now(),
		dialer:   &contextDialer{action: ctx},
		log:      sdk.LoggerFrom(ctx),
	}
	defer d.dialer.release()

	sc, err := d.connect(ctx)
	if err != nil {
		return err
	}
	defer sc.Close()
	sdk.Progress(ctx, 0.4, "logged in to the SMTP server")

	if err := d.checkSize(sc, e); err != nil {
		quit(sc)
		return err
	}
	if err := d.sendEnvelope(ctx, sc, e); err != nil {
		return err
	}
	sdk.Progress(ctx, 0.7, "recipients accepted")
	if err := d.sendData(ctx, sc, e); err != nil {
		return err
	}
	quit(sc) // the message is accepted; a failed QUIT changes nothing
	return nil
}

// quitTimeout bounds the wait for the server's answer to RSET and QUIT,
// whose outcome changes nothing.
const quitTimeout = 2 * time.Second

// quit ends the session politely without waiting long for the server.
func quit(sc *smtp.Client) {
	_ = sc.UpdateDeadline(quitTimeout)
	_ = sc.Quit()
}

// connect dials, secures the connection as configured and logs in.
func (d *smtpDelivery) connect(ctx context.Context) (*smtp.Client, error) {
	timeout := sessionTimeout(ctx)
	if timeout <= 0 || ctx.Err() != nil {
		return nil, d.timeoutError(ctx, "before connecting", "nothing was sent")
	}
	tlsCfg, err := d.settings.tlsConfig(d.settings.smtpHost)
	if err != nil {
		return nil, err
	}
	if d.settings.smtpTLS == tlsImplicit {
		d.dialer.tlsConfig = tlsCfg
	}
	client, err := gomail.NewClient(d.settings.smtpHost, d.clientOptions(tlsCfg, timeout)...)
	if err != nil {
		return nil, fmt.Errorf("setting up the SMTP client: %w", err)
	}
	d.log.Info("connecting to the SMTP server", "server", d.server, "tls", string(d.settings.smtpTLS))
	sc, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return nil, d.connectError(ctx, err)
	}
	d.log.Info("logged in to the SMTP server", "server", d.server, "user", d.settings.address)
	return sc, nil
}

func (d *smtpDelivery) clientOptions(tlsCfg *tls.Config, timeout time.Duration) []gomail.Option {
	opts := []gomail.Option{
		gomail.WithTLSConfig(tlsCfg),
		gomail.WithSMTPAuth(gomail.SMTPAuthPlain),
		gomail.WithUsername(d.settings.address),
		gomail.WithPassword(d.settings.password),
		gomail.WithTimeout(timeout),
		gomail.WithDialContextFunc(d.dialer.DialContext),
	}
	switch d.settings.smtpTLS {
	case tlsImplicit:
		// The dialer does the TLS handshake; WithSSL only tells go-mail not
		// to attempt STARTTLS on top of it.
		opts = append(opts, gomail.WithSSL())
	case tlsNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	// After WithSSL, which sets port 465.
	return append(opts, gomail.WithPort(d.settings.smtpPort))
}

// checkSize refuses a message over the limit the server advertises with
// the SIZE extension, before anything is sent.
func (d *smtpDelivery) checkSize(sc *smtp.Client, e *composedEmail) error {
	ok, param := sc.Extension("SIZE")
	if !ok {
		return nil
	}
	limit, err := strconv.ParseInt(strings.TrimSpace(param), 10, 64)
	if err != nil || limit <= 0 || int64(len(e.data)) <= limit {
		return nil
	}
	return fmt.Errorf("message too large: it is %s, over the %s limit of SMTP server %s (SIZE %d); nothing was sent",
		byteSize(int64(len(e.data))), byteSize(limit), d.server, limit)
}

// sendEnvelope gives MAIL FROM and every RCPT TO. When the server refuses
// any recipient it resets the transaction and names each refused address.
func (d *smtpDelivery) sendEnvelope(ctx context.Context, sc *smtp.Client, e *composedEmail) error {
	if err := sc.Mail("<" + e.from + ">"); err != nil {
		return d.transactionError(ctx, err, "refused the sender "+e.from)
	}
	var refused []string
	for _, rcpt := range e.recipients {
		err := sc.Rcpt("<" + rcpt + ">")
		if err == nil {
			continue
		}
		var reply *textproto.Error
		if !errors.As(err, &reply) {
			return d.transactionError(ctx, err, "failed while giving the recipients")
		}
		refused = append(refused, fmt.Sprintf("%s (%s)", rcpt, replyText(reply)))
	}
	if len(refused) == 0 {
		d.log.Info("recipients accepted", "count", len(e.recipients))
		return nil
	}
	_ = sc.UpdateDeadline(quitTimeout)
	_ = sc.Reset()
	quit(sc)
	word := "recipient"
	if len(refused) > 1 {
		word = "recipients"
	}
	return fmt.Errorf("recipient rejected: SMTP server %s refused %s %s; nothing was sent",
		d.server, word, strings.Join(refused, ", "))
}

// sendData sends the message and waits for the server's verdict.
func (d *smtpDelivery) sendData(ctx context.Context, sc *smtp.Client, e *composedEmail) error {
	w, err := sc.Data()
	if err != nil {
		return d.transactionError(ctx, err, "refused the message")
	}
	if _, err := w.Write(e.data); err != nil {
		_ = w.Close()
		return d.transactionError(ctx, err, "failed while receiving the message")
	}
	if err := w.Close(); err != nil {
		var reply *textproto.Error
		if errors.As(err, &reply) && reply.Code == 552 {
			return fmt.Errorf("message too large: SMTP server %s refused the message of %s (%s); nothing was sent",
				d.server, byteSize(int64(len(e.data))), replyText(reply))
		}
		if !errors.As(err, &reply) {
			return d.afterDataError(ctx, err)
		}
		return d.transactionError(ctx, err, "refused the message")
	}
	d.log.Info("message accepted", "server", d.server, "messageId", e.messageID)
	return nil
}

// byteSize formats n bytes for people.
func byteSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
