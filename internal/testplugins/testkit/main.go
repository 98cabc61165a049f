// Command testkit is a plugin for tests: each action exercises one path of
// the protocol (logs and progress, sleep and cancellation, panics, crashes,
// counting calls, large payloads, bad output).
package main

import "github.com/toolhost/toolhost/sdk"

func main() { sdk.Serve(testkit) }
