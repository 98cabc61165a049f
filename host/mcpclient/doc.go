// Package mcpclient hosts MCP servers as plugins. Each mcp_server block of
// plugins.hcl becomes a Server: a core.Plugin whose actions are the
// server's tools (tool read_file of server "fs" is action fs.readFile), run
// through the same pipeline as Go plugins.
//
// A command is run with the go-sdk's CommandTransport over stdio, in its
// own process group with a parent-death signal (started on the
// supervisor's launcher threads), so nothing it spawns (npx → node,
// uvx → python) outlives the host, even one killed with SIGKILL. A url is
// reached with the go-sdk's Streamable HTTP client, with the configured
// headers on every request. The client negotiates the newest protocol
// version the server accepts.
//
// Supervision matches Go plugins: a server that exits is restarted with
// backoff; each call has the block's timeout, and on timeout or cancel the
// call is cancelled (notifications/cancelled); a stdio server that has not
// answered the call within the kill grace after that is killed and
// restarted, and a remote server's session is dropped and a new one
// connected. The concurrency limit queues calls. The server's stderr is
// logged under its name, and every declared secret (and header value) is
// scrubbed from stderr, errors, events and output.
//
// Results: structuredContent is the output; otherwise the content, with
// text kept and images, audio and embedded resources summarised by type,
// MIME type and size, as {"content":[...]}. isError is a failed run with
// the server's text. Progress notifications for the call and log
// notifications while it is the only call in flight are the run's events.
// notifications/tools/list_changed refreshes the tools.
//
// For /mcp/{server}, which answers as the server itself: each call's
// result is kept as the server sent it, by run id, for a short while
// (TakeResult, secrets scrubbed when taken); progress and log events keep
// the notification as sent in their fields ({"mcp":{...}}); the tools are
// available as listed (ServerTools), and resources, prompts and completion
// requests are relayed (Forward).
//
// Server-to-client requests are not relayed: the client advertises no
// roots, sampling or elicitation capability.
package mcpclient
