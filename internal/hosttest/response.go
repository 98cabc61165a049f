package hosttest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/toolhost/toolhost/client"
)

// Response is an answer, with the checks tests make on it.
type Response struct{ client.Response }

// Do sends a request through c and fails the test when the server cannot
// be reached. headers are name, value pairs; a value of "" removes the
// header (say, the API key).
func Do(tb testing.TB, c *client.Client, method, path, body string, headers ...string) Response {
	tb.Helper()
	var b any
	if body != "" {
		b = body
	}
	r, err := c.Do(context.Background(), method, path, b, client.Header(headers))
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	return Response{*r}
}

// Envelope decodes the body into the API's envelope.
func (r Response) Envelope() (status string, data json.RawMessage, errMsg, errCode string) {
	env, err := r.Response.Envelope()
	if err != nil {
		return "", nil, "", ""
	}
	if env.Error != nil {
		errMsg, errCode = env.Error.Message, env.Error.Code
	}
	return env.Status, env.Data, errMsg, errCode
}

// JSON is the body as a JSON object.
func (r Response) JSON(tb testing.TB) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		tb.Fatalf("body is not a JSON object (%v): %s", err, r.Body)
	}
	return m
}

// Data is the success envelope's data object.
func (r Response) Data(tb testing.TB) map[string]any {
	tb.Helper()
	m := r.JSON(tb)
	d, ok := m["data"].(map[string]any)
	if m["status"] != "success" || !ok {
		tb.Fatalf("not a success envelope with an object: %s", r.Body)
	}
	return d
}

// ErrorOf checks the error envelope (JSON, with a code and a message) and
// returns its code and message.
func (r Response) ErrorOf(tb testing.TB) (code, message string) {
	tb.Helper()
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		tb.Fatalf("error answer %d has Content-Type %q: %s", r.Status, ct, r.Body)
	}
	m := r.JSON(tb)
	e, ok := m["error"].(map[string]any)
	if m["status"] != "error" || !ok {
		tb.Fatalf("not an error envelope: %s", r.Body)
	}
	code, _ = e["code"].(string)
	message, _ = e["message"].(string)
	if code == "" || message == "" {
		tb.Fatalf("error envelope without code or message: %s", r.Body)
	}
	return code, message
}

// ErrorMessage is the error envelope's message.
func (r Response) ErrorMessage(tb testing.TB) string {
	tb.Helper()
	_, msg := r.ErrorOf(tb)
	return msg
}

// ErrorCode is the error envelope's code.
func (r Response) ErrorCode(tb testing.TB) string {
	tb.Helper()
	code, _ := r.ErrorOf(tb)
	return code
}

// WantStatus fails the test unless the answer has status.
func (r Response) WantStatus(tb testing.TB, status int) {
	tb.Helper()
	if r.Status != status {
		tb.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
}
