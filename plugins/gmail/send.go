package main

import (
	"context"

	"github.com/toolhost/toolhost/sdk"
)

// SendEmailInput is the sendEmail action's input. recipient, subject and
// body match Connery's Gmail plugin.
type SendEmailInput struct {
	Recipient string `json:"recipient" title:"Email recipient" description:"Email address of the email recipient. Several addresses may be separated by commas."`
	Subject   string `json:"subject" title:"Email subject" description:"Subject of the email. Line breaks are replaced by spaces."`
	Body      string `json:"body" title:"Email body" description:"Plain-text body of the email."`
	Cc        string `json:"cc,omitempty" title:"Cc" description:"Email addresses to send a copy to, separated by commas."`
	Bcc       string `json:"bcc,omitempty" title:"Bcc" description:"Email addresses to send a blind copy to, separated by commas. They receive the email but appear in no header."`
	ReplyTo   string `json:"replyTo,omitempty" title:"Reply to" description:"Email addresses replies should go to, separated by commas. Default: the sender."`
	HTMLBody  string `json:"htmlBody,omitempty" title:"HTML body" description:"HTML version of the body, sent alongside the plain-text body (multipart/alternative); mail clients show one of the two."`
}

// SendEmailOutput is the sendEmail action's output.
type SendEmailOutput struct {
	MessageID string `json:"messageId" title:"Message ID" description:"The Message-Id header of the sent email, e.g. <...@gmail.com>."`
}

// sendEmail composes the whole message first, then delivers it over SMTP.
func sendEmail(ctx context.Context, in SendEmailInput) (SendEmailOutput, error) {
	s, err := settingsFrom(ctx)
	if err != nil {
		return SendEmailOutput{}, err
	}
	email, err := composeEmail(s, in)
	if err != nil {
		return SendEmailOutput{}, err
	}
	sdk.Progress(ctx, 0.1, "message composed")
	if err := deliver(ctx, s, email); err != nil {
		return SendEmailOutput{}, err
	}
	sdk.Progress(ctx, 1, "email sent")
	return SendEmailOutput{MessageID: email.messageID}, nil
}
