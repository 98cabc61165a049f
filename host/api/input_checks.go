package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/oklog/ulid/v2"

	"github.com/toolhost/toolhost/host/domain"
)

// checkUTF8 refuses a body that is not valid UTF-8: JSON decoding would
// replace the bad bytes with U+FFFD and send the plugin something other
// than what the client sent. The error names the byte offset and, when
// the body is JSON, the field it is in (never the bytes themselves).
func checkUTF8(body []byte) error {
	if utf8.Valid(body) {
		return nil
	}
	off := invalidUTF8At(body)
	where := fmt.Sprintf("byte %d", off)
	field := jsonPathAt(body, off)
	if field != "" {
		where += ", in " + field
	}
	e := &domain.Error{Code: domain.CodeInvalidRequest, Message: "request body is not valid UTF-8 (" + where + ")"}
	e.Fields = []domain.FieldError{{Field: field, Message: "is not valid UTF-8 (" + where + ")"}}
	return e
}

// invalidUTF8At is the offset of the first byte of body that does not
// start a valid UTF-8 sequence.
func invalidUTF8At(body []byte) int {
	for off := 0; off < len(body); {
		r, n := utf8.DecodeRune(body[off:])
		if r == utf8.RuneError && n <= 1 {
			return off
		}
		off += n
	}
	return len(body)
}

// jsonPathAt returns the dotted path of the JSON value that holds the
// byte at off ("input.text", "messages.0.content"), "" when it cannot be
// told.
func jsonPathAt(body []byte, off int) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	type level struct {
		object bool
		key    string
		index  int
	}
	var stack []level
	wantKey := false
	path := func() string {
		parts := make([]string, 0, len(stack))
		for _, l := range stack {
			if l.object {
				parts = append(parts, l.key)
			} else {
				parts = append(parts, strconv.Itoa(l.index))
			}
		}
		return strings.Join(parts, ".")
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		end := int(dec.InputOffset())
		top := len(stack) - 1
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				if top >= 0 && !stack[top].object {
					stack[top].index++ // the container is the array's next item
				}
				stack = append(stack, level{object: t == '{', index: -1})
				wantKey = t == '{'
				continue
			default:
				stack = stack[:top]
				wantKey = len(stack) > 0 && stack[len(stack)-1].object
				continue
			}
		case string:
			if top >= 0 && stack[top].object && wantKey {
				stack[top].key = t
				wantKey = false
				if end > off {
					return path()
				}
				continue
			}
		}
		// A value: in an array it is the next item.
		if top >= 0 && !stack[top].object {
			stack[top].index++
		}
		if end > off {
			return path()
		}
		if top >= 0 && stack[top].object {
			wantKey = true
		}
	}
}

// checkCursor refuses an after or before cursor that is not an object id:
// a list would otherwise answer an empty page, as if nothing followed.
func checkCursor(name, v string) error {
	if v == "" {
		return nil
	}
	for _, prefix := range []string{domain.RunPrefix, domain.ThreadPrefix, domain.MessagePrefix} {
		if rest, ok := strings.CutPrefix(v, prefix); ok {
			if _, err := ulid.ParseStrict(rest); err == nil {
				return nil
			}
		}
	}
	return fieldErr(name, "must be an id from a list (run_…, thread_… or msg_… followed by 26 characters)")
}
