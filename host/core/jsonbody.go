package core

import (
	"bytes"
	"encoding/json"
)

// NotAnObject says why a request body that does not start with '{' is
// refused: not valid JSON at all (a form or XML, say so), or JSON of
// another kind. what, when not empty, says what the object is for.
func NotAnObject(body []byte, what string) string {
	if what != "" {
		what = " " + what
	}
	body = bytes.TrimSpace(body)
	if len(body) > 0 && json.Valid(body) {
		return "request body must be a JSON object" + what + ", not " + JSONKind(body)
	}
	msg := "request body is not valid JSON"
	switch {
	case len(body) > 0 && body[0] == '<':
		msg += " (it looks like XML or HTML)"
	case looksLikeForm(body):
		msg += " (it looks like a form, name=value)"
	}
	return msg + "; send a JSON object" + what + " with Content-Type: application/json"
}

// looksLikeForm reports whether body reads as application/x-www-form-urlencoded.
func looksLikeForm(body []byte) bool {
	if len(body) == 0 || bytes.ContainsAny(body, " \t\r\n{}[]\"") {
		return false
	}
	for _, pair := range bytes.Split(body, []byte("&")) {
		if i := bytes.IndexByte(pair, '='); i <= 0 {
			return false
		}
	}
	return true
}
