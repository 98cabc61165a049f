// Package mcp is toolhost's Model Context Protocol door: every installed
// action as an MCP tool, served over Streamable HTTP with the official Go
// SDK (github.com/modelcontextprotocol/go-sdk), stateless, so no session
// store is needed and every era the SDK speaks (2024-11-05 through
// 2025-11-25, and 2026-07-28) is served on the same endpoint.
//
// POST /mcp lists every action as a tool named plugin__actionKey;
// /mcp/{plugin} lists one plugin's actions under their own keys. A
// tools/call is one more door into core.Runner.Submit (source "mcp"), so
// decoding, checking, idempotency, history and timeouts are the core's:
// this package only translates. The run's progress becomes
// notifications/progress (when the client sent a progressToken), its log
// lines notifications/message (at the client's logging level), its output
// structuredContent plus the same JSON as text, and a failed run a result
// with isError and the run's message. A client that cancels (the
// notifications/cancelled notification, or closing the request's stream)
// cancels the run.
//
// Every request needs an API key (Authorization: Bearer, or x-api-key); a
// missing or bad one is a 401 with WWW-Authenticate: Bearer. tools/list
// needs the read scope, tools/call the run scope. A request whose Origin is
// not among the allowed origins is refused with 403 (DNS-rebinding
// protection). Tools follow the catalog: when plugins change, the servers'
// tools change and 2026-07-28 sessions listening on subscriptions/listen
// get notifications/tools/list_changed; older sessions, which a stateless
// server cannot reach outside a request, see the change in their next
// tools/list.
package mcp
