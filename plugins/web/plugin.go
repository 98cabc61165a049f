package main

import "github.com/toolhost/toolhost/sdk"

// webPlugin is the plugin's definition: its configuration and its action.
var webPlugin = sdk.Plugin{
	Name:        "web",
	Title:       "Web",
	Description: "Read web pages: fetch a URL as markdown or plain text.",
	Version:     "1.0.0",
	Config:      configParams,
	CheckConfig: checkConfig,
	Actions: []sdk.Action{{
		Key:   "fetch",
		Title: "Fetch a web page",
		Description: "Fetch an http(s) URL and return its readable content as markdown (or plain text), " +
			"with the page title, the final URL after redirects and the content type.",
		Type:    sdk.Read,
		Handler: sdk.NewHandler(fetch),
	}},
}
