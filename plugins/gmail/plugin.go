package main

import "github.com/toolhost/toolhost/sdk"

// gmailPlugin is the plugin's definition: its configuration and actions.
var gmailPlugin = sdk.Plugin{
	Name:        "gmail",
	Title:       "Gmail",
	Description: "Send email from a Gmail account and search its mailbox, using an app password.",
	Version:     "1.0.0",
	Config:      configParams,
	CheckConfig: checkConfig,
	Actions: []sdk.Action{
		{
			Key:         "sendEmail",
			Title:       "Send email",
			Description: "Send an email from the configured Gmail account to one or more recipients.",
			Type:        sdk.Create,
			Handler:     sdk.NewHandler(sendEmail),
		},
		{
			Key:         "searchEmails",
			Title:       "Search emails",
			Description: "Search the configured Gmail mailbox with Gmail search syntax and return the newest matching messages.",
			Type:        sdk.Read,
			Idempotent:  true,
			Handler:     sdk.NewHandler(searchEmails),
		},
	},
}
