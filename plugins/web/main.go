// Command web is the toolhost plugin for reading web pages. Its fetch action
// turns a URL into readable markdown (or plain text) with the page's title,
// final URL and content type. It needs no credentials.
//
// It refuses private, loopback, link-local, unspecified and multicast
// addresses, checked on the address actually dialed (after DNS resolution,
// on every redirect), unless its configuration allows them.
//
// The host starts it; started by hand it says what it is and exits 1.
// README.md describes the action, the configuration and the tests.
package main

import "github.com/toolhost/toolhost/sdk"

func main() { sdk.Serve(webPlugin) }
