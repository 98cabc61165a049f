package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/mail"
	"strings"

	gomail "github.com/wneessen/go-mail"

	"github.com/toolhost/toolhost/sdk"
)

// composedEmail is a message built, checked and rendered before any
// connection is made, so that a bad input never leaves a half-sent mail.
type composedEmail struct {
	messageID  string   // the Message-Id header value, with angle brackets
	from       string   // envelope sender
	recipients []string // envelope recipients: To, Cc and Bcc, each once
	data       []byte   // the whole message, CRLF line endings
}

// composeEmail checks the input's addresses and renders the message. The
// Bcc addresses are envelope recipients only, never a header.
func composeEmail(s *settings, in SendEmailInput) (*composedEmail, error) {
	to, err := parseAddressList("recipient", in.Recipient)
	if err != nil {
		return nil, err
	}
	if len(to) == 0 {
		return nil, sdk.InputError("recipient", "at least one email address is needed")
	}
	cc, err := parseAddressList("cc", in.Cc)
	if err != nil {
		return nil, err
	}
	bcc, err := parseAddressList("bcc", in.Bcc)
	if err != nil {
		return nil, err
	}
	replyTo, err := parseAddressList("replyTo", in.ReplyTo)
	if err != nil {
		return nil, err
	}

	id, err := newMessageID(s.address)
	if err != nil {
		return nil, err
	}
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(&mail.Address{Name: s.senderName, Address: s.address})
	msg.ToMailAddress(to...)
	if len(cc) > 0 {
		msg.CcMailAddress(cc...)
	}
	if len(replyTo) > 0 {
		msg.ReplyToMailAddress(replyTo...)
	}
	msg.Subject(singleLine(in.Subject))
	msg.SetMessageIDWithValue(id)
	msg.SetDate()
	msg.SetBodyString(gomail.TypeTextPlain, in.Body)
	if in.HTMLBody != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, in.HTMLBody)
	}

	var buf bytes.Buffer
	if _, err := msg.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("rendering the message: %w", err)
	}
	return &composedEmail{
		messageID:  msg.GetMessageID(),
		from:       s.address,
		recipients: envelopeAddresses(to, cc, bcc),
		data:       buf.Bytes(),
	}, nil
}

// newMessageID returns a random Message-Id (without angle brackets) in the
// sender's domain.
func newMessageID(sender string) (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generating a Message-Id: %w", err)
	}
	domain := sender[strings.LastIndexByte(sender, '@')+1:]
	return hex.EncodeToString(b[:]) + "@" + domain, nil
}

// singleLine joins a header value's lines with spaces: a line break in a
// subject would end the header.
func singleLine(s string) string {
	return strings.TrimSpace(lineBreaks.Replace(s))
}

var lineBreaks = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ")
