package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/slack-go/slack"
	"github.com/toolhost/toolhost/sdk"
)

// defaultChannelLimit is how many channels one page holds when the input
// does not say.
const defaultChannelLimit = 100

// ListChannelsInput is the listChannels action's input.
type ListChannelsInput struct {
	Limit  int    `json:"limit,omitempty" title:"Limit" description:"The most channels to return in this page." jsonschema:"minimum=1,maximum=1000,default=100"`
	Cursor string `json:"cursor,omitempty" title:"Cursor" description:"The nextCursor of the previous page, to get the page after it. Leave empty for the first page."`
}

// ChannelSummary is one channel in listChannels' output.
type ChannelSummary struct {
	ID          string `json:"id" title:"Id" description:"The channel's id, such as C0123ABCD."`
	Name        string `json:"name" title:"Name" description:"The channel's name, without the #."`
	Topic       string `json:"topic" title:"Topic" description:"The channel's topic; empty when none is set."`
	MemberCount int    `json:"memberCount" title:"Member count" description:"How many members the channel has."`
}

// ListChannelsOutput is the listChannels action's output.
type ListChannelsOutput struct {
	Channels   []ChannelSummary `json:"channels" title:"Channels" description:"The channels in this page."`
	NextCursor string           `json:"nextCursor" title:"Next cursor" description:"Pass as cursor to get the next page; empty on the last page."`
}

// listChannels lists one page of the workspace's public, unarchived
// channels with conversations.list.
func listChannels(ctx context.Context, in ListChannelsInput) (ListChannelsOutput, error) {
	out := ListChannelsOutput{Channels: []ChannelSummary{}}
	api, err := newAPIClient(ctx, "listChannels")
	if err != nil {
		return out, err
	}
	params := &slack.GetConversationsParameters{
		Limit:           in.Limit,
		Cursor:          strings.TrimSpace(in.Cursor),
		ExcludeArchived: true,
	}
	if params.Limit == 0 {
		params.Limit = defaultChannelLimit
	}
	var channels []slack.Channel
	err = withRateLimitRetries(ctx, func() (err error) {
		channels, out.NextCursor, err = api.GetConversationsContext(ctx, params)
		return err
	})
	if slackErrorCode(err) == "invalid_cursor" {
		return out, sdk.InputError("cursor", "%v", explainAPIError("conversations.list", err))
	}
	if err != nil {
		return out, fmt.Errorf("listing channels: %w", explainAPIError("conversations.list", err))
	}
	for _, c := range channels {
		out.Channels = append(out.Channels, ChannelSummary{
			ID: c.ID, Name: c.Name, Topic: c.Topic.Value, MemberCount: c.NumMembers,
		})
	}
	sdk.LoggerFrom(ctx).Info("listed channels", "count", len(out.Channels), "more", out.NextCursor != "")
	return out, nil
}
