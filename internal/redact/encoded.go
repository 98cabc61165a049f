package redact

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// encodings returns the forms v takes inside quoted text when it holds
// characters that get escaped: inside a JSON string as Go writes it (with
// and without HTML escaping: \u0026, \u003c, \u003e), with every
// non-ASCII character escaped (as Python's json does), and inside a Go
// quoted string (%q, strconv.Quote, strconv.QuoteToASCII). Each differs
// from v only when v has a quote, a backslash, a control character, one of
// <>&, or non-ASCII text.
func encodings(v string) []string {
	var out []string
	add := func(quoted string) {
		if inner := quoted[1 : len(quoted)-1]; inner != v {
			out = append(out, inner)
		}
	}
	add(jsonQuote(v, true))
	add(jsonQuote(v, false))
	add(asciiJSONQuote(v))
	add(strconv.Quote(v))
	add(strconv.QuoteToASCII(v))
	return out
}

func jsonQuote(v string, escapeHTML bool) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(escapeHTML)
	_ = enc.Encode(v) // a string always encodes
	return strings.TrimSuffix(buf.String(), "\n")
}

// asciiJSONQuote is JSON with every non-ASCII character written \uXXXX.
func asciiJSONQuote(v string) string {
	q := jsonQuote(v, false)
	var b strings.Builder
	for _, r := range q {
		switch {
		case r < utf8.RuneSelf:
			b.WriteRune(r)
		case r > 0xffff:
			r -= 0x10000
			fmt.Fprintf(&b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	return b.String()
}

// ScrubJSON replaces every secret inside the strings (keys included) of
// the JSON value raw, as decoded: a secret escaped in any way JSON allows
// is found. raw is returned as it was when no secret is in it; otherwise
// the value is written again, compact, in the same order, with the
// secrets replaced by Mark. Text that is not JSON is scrubbed as text
// (Scrub, which knows the usual escaped forms).
func (vs Values) ScrubJSON(raw []byte) []byte {
	if len(vs) == 0 || len(raw) == 0 {
		return raw
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		// Nothing escaped: each string's bytes are its text.
		if clean := vs.Scrub(string(raw)); clean != string(raw) {
			return []byte(clean)
		}
		return raw
	}
	out, changed, err := vs.rewriteJSON(raw)
	if err != nil {
		return []byte(vs.Scrub(string(raw)))
	}
	if !changed {
		return raw
	}
	return out
}

// rewriteJSON writes raw again token by token, scrubbing every string.
func (vs Values) rewriteJSON(raw []byte) (out []byte, changed bool, err error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	type level struct {
		object bool
		n      int // tokens written at this level
	}
	var stack []level
	for {
		if len(stack) == 0 && len(out) > 0 {
			// One value read whole: anything after it is not JSON.
			if _, err := dec.Token(); err != io.EOF {
				return nil, false, errors.New("more than one JSON value")
			}
			return out, changed, nil
		}
		tok, err := dec.Token()
		if err != nil {
			return nil, false, err
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			out = append(out, byte(d))
			continue
		}
		if n := len(stack); n > 0 {
			top := &stack[n-1]
			switch {
			case top.object && top.n%2 == 1:
				out = append(out, ':')
			case top.n > 0:
				out = append(out, ',')
			}
			top.n++
		}
		switch t := tok.(type) {
		case json.Delim:
			stack = append(stack, level{object: t == '{'})
			out = append(out, byte(t))
		case string:
			clean := vs.Scrub(t)
			changed = changed || clean != t
			out = append(out, jsonQuote(clean, false)...)
		case json.Number:
			out = append(out, t...)
		case bool:
			out = strconv.AppendBool(out, t)
		case nil:
			out = append(out, "null"...)
		}
	}
}
