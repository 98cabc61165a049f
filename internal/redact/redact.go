// Package redact replaces secret values in text. The sdk (on the plugin's
// side) and the host's plugin supervisor both scrub what a plugin says
// with it, so they agree on which values count and how they are replaced.
package redact

import (
	"cmp"
	"slices"
	"strings"
)

// MinLen is the shortest value scrubbed: replacing a one- to three-letter
// value would garble text and hide nothing.
const MinLen = 4

// Mark replaces a secret in text.
const Mark = "[redacted]"

// Values are secrets ready for Scrub: long enough, without repeats,
// longest first so that a secret containing another is replaced whole.
type Values []string

// With returns vs plus add, in Scrub's order. vs is not changed. Each
// value comes with its escaped forms (see encodings), so that a secret
// quoted in JSON or by Go's %q is replaced too.
func (vs Values) With(add ...string) Values {
	all := slices.Clone(add)
	for _, v := range add {
		all = append(all, encodings(v)...)
	}
	out := slices.Concat(vs, slices.DeleteFunc(all, func(v string) bool { return len(v) < MinLen }))
	slices.SortFunc(out, func(a, b string) int { return cmp.Or(cmp.Compare(len(b), len(a)), strings.Compare(a, b)) })
	return slices.Compact(out)
}

// Scrub replaces every value in text with Mark.
func (vs Values) Scrub(text string) string {
	for _, v := range vs {
		if strings.Contains(text, v) {
			text = strings.ReplaceAll(text, v, Mark)
		}
	}
	return text
}
