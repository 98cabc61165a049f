package main

import (
	"errors"
	"net/mail"
	"slices"
	"strconv"
	"testing"

	"github.com/toolhost/toolhost/sdk"
)

func TestParseAddressList(t *testing.T) {
	tests := []struct {
		name    string
		value   string
		want    []string // "Name|address" for each parsed address
		wantBad string   // the item named in the error, when it fails
	}{
		{name: "one bare", value: "ada@example.com", want: []string{"|ada@example.com"}},
		{name: "empty", value: "", want: nil},
		{name: "blank", value: "  ", want: nil},
		{name: "several", value: "ada@example.com,bob@example.com , carol@example.com",
			want: []string{"|ada@example.com", "|bob@example.com", "|carol@example.com"}},
		{name: "trailing and doubled commas", value: "ada@example.com,, bob@example.com,",
			want: []string{"|ada@example.com", "|bob@example.com"}},
		{name: "display names", value: "Ada Lovelace <ada@example.com>, <bob@example.com>",
			want: []string{"Ada Lovelace|ada@example.com", "|bob@example.com"}},
		{name: "quoted name with comma", value: `"Lovelace, Ada" <ada@example.com>, bob@example.com`,
			want: []string{"Lovelace, Ada|ada@example.com", "|bob@example.com"}},
		{name: "escaped quote in name", value: `"Ada \"The Countess\", L" <ada@example.com>`,
			want: []string{`Ada "The Countess", L|ada@example.com`}},
		{name: "comment with comma", value: "ada@example.com (Ada, at work), bob@example.com",
			want: []string{"Ada, at work|ada@example.com", "|bob@example.com"}},
		{name: "encoded name", value: "=?utf-8?q?J=C3=BCrgen?= <j@example.com>",
			want: []string{"Jürgen|j@example.com"}},
		{name: "no at sign", value: "not-an-address", wantBad: "not-an-address"},
		{name: "bad second", value: "ada@example.com, bob@", wantBad: "bob@"},
		{name: "spaces for at", value: "carol at example.com", wantBad: "carol at example.com"},
		{name: "unclosed angle", value: "Ada <ada@example.com", wantBad: "Ada <ada@example.com"},
		{name: "no local part", value: "@example.com", wantBad: "@example.com"},
		{name: "semicolon list", value: "ada@example.com; bob@example.com", wantBad: "ada@example.com; bob@example.com"},
		{name: "unbalanced quote", value: `"Ada <ada@example.com>, bob@example.com`, wantBad: `"Ada <ada@example.com>, bob@example.com`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseAddressList("cc", tt.value)
			if tt.wantBad != "" {
				var se *sdk.Error
				if !errors.As(err, &se) {
					t.Fatalf("got %v, %v; want an input error naming %q", got, err, tt.wantBad)
				}
				want := "cc: " + strconv.Quote(tt.wantBad) + " is not a valid email address"
				if se.Code != sdk.CodeInvalidInput || se.Field != "cc" || se.Message != want {
					t.Errorf("error %+v, want invalid_input on cc: %s", se, want)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if s := render(got); !slices.Equal(s, tt.want) {
				t.Errorf("parsed %q, want %q", s, tt.want)
			}
		})
	}
}

func render(list []*mail.Address) []string {
	var out []string
	for _, a := range list {
		out = append(out, a.Name+"|"+a.Address)
	}
	return out
}

func TestEnvelopeAddressesDeduplicates(t *testing.T) {
	to := []*mail.Address{{Address: "ada@example.com"}, {Address: "bob@example.com"}}
	cc := []*mail.Address{{Address: "ADA@example.com"}, {Address: "carol@example.com"}}
	bcc := []*mail.Address{{Address: "bob@example.com"}, {Address: "dave@example.com"}}
	got := envelopeAddresses(to, cc, bcc)
	want := []string{"ada@example.com", "bob@example.com", "carol@example.com", "dave@example.com"}
	if !slices.Equal(got, want) {
		t.Errorf("envelope %v, want %v", got, want)
	}
}
