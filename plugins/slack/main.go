// Command slack is the toolhost plugin for Slack. It posts messages through
// an incoming webhook or the Web API, lists public channels and looks up
// users by email address.
//
// The host starts it; started by hand it says what it is and exits 1.
// README.md describes the actions, the configuration and the tests.
package main

import "github.com/toolhost/toolhost/sdk"

func main() { sdk.Serve(slackPlugin) }
