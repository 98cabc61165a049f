package main

import (
	"net/mail"
	"strings"

	"github.com/toolhost/toolhost/sdk"
)

// parseAddressList parses a comma-separated list of email addresses given
// in the input field named field. Each address may carry a display name
// ("Ada Lovelace <ada@example.com>", quoted names may contain commas).
// Empty items, as in a trailing comma, are skipped. A bad address fails
// with an input error naming the field and the address.
func parseAddressList(field, value string) ([]*mail.Address, error) {
	var out []*mail.Address
	for _, item := range splitAddressList(value) {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		addr, err := mail.ParseAddress(item)
		if err != nil {
			return nil, sdk.InputError(field, "%q is not a valid email address", item)
		}
		out = append(out, addr)
	}
	return out, nil
}

// splitAddressList splits value at the commas that are outside quoted
// strings, comments and angle brackets.
func splitAddressList(value string) []string {
	var (
		items   []string
		start   int
		quoted  bool
		escaped bool
		angle   int
		comment int
	)
	for i := 0; i < len(value); i++ {
		c := value[i]
		switch {
		case escaped:
			escaped = false
		case c == '\\' && (quoted || comment > 0):
			escaped = true
		case c == '"' && comment == 0:
			quoted = !quoted
		case quoted:
		case c == '(':
			comment++
		case c == ')' && comment > 0:
			comment--
		case comment > 0:
		case c == '<':
			angle++
		case c == '>' && angle > 0:
			angle--
		case c == ',' && angle == 0:
			items = append(items, value[start:i])
			start = i + 1
		}
	}
	return append(items, value[start:])
}

// envelopeAddresses returns the bare addresses of lists, in order, each
// once (compared without regard to case).
func envelopeAddresses(lists ...[]*mail.Address) []string {
	seen := map[string]bool{}
	var out []string
	for _, list := range lists {
		for _, a := range list {
			key := strings.ToLower(a.Address)
			if !seen[key] {
				seen[key] = true
				out = append(out, a.Address)
			}
		}
	}
	return out
}
