package mcp

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// codeRefused is the JSON-RPC error code of a request the key may not make
// or the host cannot take (in the range JSON-RPC leaves to servers).
const codeRefused = -32001

// httpError answers a request refused before it reached MCP: the status,
// and a JSON-RPC error (id null) whose message says why.
func httpError(w http.ResponseWriter, status int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	body, err := jsonrpc.EncodeMessage(&jsonrpc.Response{Error: &jsonrpc.Error{Code: codeRefused, Message: msg}})
	if err != nil {
		http.Error(w, msg, status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// unauthorized is a 401 with the WWW-Authenticate challenge.
func unauthorized(w http.ResponseWriter, challenge, msg string) {
	w.Header().Set("WWW-Authenticate", challenge)
	httpError(w, http.StatusUnauthorized, "%s", msg)
}

// statusOf is the HTTP status of an error reading a request's body.
func statusOf(err error) int {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}
