package main

import (
	"context"
	"fmt"
	"net/mail"
	"strings"

	"github.com/slack-go/slack"
	"github.com/toolhost/toolhost/sdk"
)

// LookupUserByEmailInput is the lookupUserByEmail action's input.
type LookupUserByEmailInput struct {
	Email string `json:"email" title:"Email" description:"The email address of the person to find, such as ada@example.com."`
}

// LookupUserByEmailOutput is the lookupUserByEmail action's output.
type LookupUserByEmailOutput struct {
	ID          string `json:"id" title:"Id" description:"The user's id, such as U0123ABCD; mention them in a message with <@id>."`
	Name        string `json:"name" title:"Name" description:"The user's handle."`
	RealName    string `json:"realName" title:"Real name" description:"The user's full name."`
	DisplayName string `json:"displayName" title:"Display name" description:"The name Slack shows for the user; may be empty."`
	Timezone    string `json:"timezone" title:"Time zone" description:"The user's IANA time zone, such as Europe/Berlin."`
}

// lookupUserByEmail finds a user with users.lookupByEmail.
func lookupUserByEmail(ctx context.Context, in LookupUserByEmailInput) (LookupUserByEmailOutput, error) {
	var out LookupUserByEmailOutput
	email, err := checkEmail(in.Email)
	if err != nil {
		return out, err
	}
	api, err := newAPIClient(ctx, "lookupUserByEmail")
	if err != nil {
		return out, err
	}
	var user *slack.User
	err = withRateLimitRetries(ctx, func() (err error) {
		user, err = api.GetUserByEmailContext(ctx, email)
		return err
	})
	if err != nil {
		return out, fmt.Errorf("looking up the Slack user with email %s: %w", email, explainAPIError("users.lookupByEmail", err))
	}
	out = LookupUserByEmailOutput{
		ID:          user.ID,
		Name:        user.Name,
		RealName:    firstNonEmpty(user.RealName, user.Profile.RealName),
		DisplayName: user.Profile.DisplayName,
		Timezone:    user.TZ,
	}
	return out, nil
}

// checkEmail returns the bare address, or an input error.
func checkEmail(s string) (string, error) {
	email := strings.TrimSpace(s)
	if email == "" {
		return "", sdk.InputError("email", "is empty; give an email address such as ada@example.com")
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email {
		return "", sdk.InputError("email", "%q is not a plain email address such as ada@example.com", email)
	}
	return email, nil
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
