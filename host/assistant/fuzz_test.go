package assistant

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"unicode/utf8"
)

// FuzzDecodeArgs: a model's tool-call arguments decode to an object or an
// error, never a nil map without one, and never panic.
func FuzzDecodeArgs(f *testing.F) {
	for _, s := range []string{``, `  `, `{}`, `{"to":"a@b.c","n":2}`, `null`, `[]`, `"x"`, `{"a":`, `{"a":1}{"b":2}`, "{\"a\":\"\xff\"}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		args, err := decodeArgs(s)
		if err != nil {
			return
		}
		if args == nil {
			t.Fatalf("decodeArgs(%q) = nil map, nil error", s)
		}
		if _, err := json.Marshal(args); err != nil {
			t.Fatalf("decodeArgs(%q) gave values that do not encode: %v", s, err)
		}
	})
}

// FuzzErrorBodyMessage: whatever a model provider answers with an error
// status, the message read from it is valid UTF-8 text (or empty) no
// longer than what was read, and reading never panics.
func FuzzErrorBodyMessage(f *testing.F) {
	for _, s := range []string{
		`{"error":{"message":"Incorrect API key provided","type":"invalid_request_error"}}`,
		`{"error":"model \"llama\" not found"}`, `{"message":"overloaded"}`, `{"detail":"Not Found"}`,
		`{"error":null}`, `{"error":{}}`, `<html>bad gateway</html>`, ``, "\xff\xfe", `{"error":{"message":1}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		msg := errorBodyMessage(&http.Response{Body: io.NopCloser(bytes.NewReader(body))})
		if len(msg) > 4096*3 { // at most 4096 bytes read; invalid bytes may widen to U+FFFD
			t.Fatalf("message of %d bytes from a %d-byte body", len(msg), len(body))
		}
		if !utf8.ValidString(msg) && utf8.Valid(body) {
			t.Fatalf("invalid UTF-8 message %q from a valid body", msg)
		}
	})
}
