// Command gmail is the toolhost Gmail plugin. It sends email over SMTP
// (STARTTLS on smtp.gmail.com:587 by default) and searches a mailbox over
// IMAP (implicit TLS on imap.gmail.com:993), logging in with the account's
// address and a Gmail app password.
//
// The plugin is started by a toolhost host; started by hand it says what it
// is and exits 1. The definition is in plugin.go, the actions in send.go and
// search.go.
package main

import "github.com/toolhost/toolhost/sdk"

func main() { sdk.Serve(gmailPlugin) }
