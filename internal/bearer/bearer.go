// Package bearer is an http.RoundTripper that sends an API key as a Bearer
// token, for clients that take an *http.Client but no headers (the MCP
// go-sdk's Streamable HTTP transport): `toolhost mcp` and the bench.
package bearer

import "net/http"

// Transport adds "Authorization: Bearer Key" to every request and sends it
// with Next.
type Transport struct {
	Key  string
	Next http.RoundTripper
}

// RoundTrip sends a copy of r with the Authorization header set.
func (t Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+t.Key)
	return t.Next.RoundTrip(r)
}
