package main

import "github.com/toolhost/toolhost/sdk"

// slackPlugin is the plugin's definition: its configuration and actions.
var slackPlugin = sdk.Plugin{
	Name:        "slack",
	Title:       "Slack",
	Description: "Post messages to Slack channels, list channels and look up users by email.",
	Version:     "1.0.0",
	Config:      configParams,
	CheckConfig: checkConfig,
	Actions: []sdk.Action{
		{
			Key:         "sendMessageToChannel",
			Title:       "Send message to channel",
			Description: "Post a message to the Slack channel of an incoming webhook.",
			Type:        sdk.Create,
			Handler:     sdk.NewHandler(sendMessageToChannel),
		},
		{
			Key:         "postMessage",
			Title:       "Post message",
			Description: "Post a message, or a thread reply, to a Slack channel as the bot and return its permalink.",
			Type:        sdk.Create,
			Handler:     sdk.NewHandler(postMessage),
		},
		{
			Key:         "listChannels",
			Title:       "List channels",
			Description: "List the workspace's public channels, one page at a time.",
			Type:        sdk.Read,
			Idempotent:  true,
			Handler:     sdk.NewHandler(listChannels),
		},
		{
			Key:         "lookupUserByEmail",
			Title:       "Look up user by email",
			Description: "Find the Slack user who has an email address.",
			Type:        sdk.Read,
			Idempotent:  true,
			Handler:     sdk.NewHandler(lookupUserByEmail),
		},
	},
}
