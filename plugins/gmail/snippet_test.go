package main

import (
	"encoding/base64"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/emersion/go-imap/v2"
)

func TestDecodeTransfer(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString([]byte("Hello, world! This is base64."))
	tests := []struct {
		name, raw, encoding, want string
	}{
		{"7bit", "plain text", "7bit", "plain text"},
		{"base64 wrapped", b64[:20] + "\r\n" + b64[20:], "BASE64", "Hello, world! This is base64."},
		{"base64 cut mid-quantum", b64[:22], "base64", "Hello, world! T"},
		{"quoted-printable", "caf=C3=A9 soft=\r\nbreak", "quoted-printable", "café softbreak"},
		{"quoted-printable cut mid-escape", "abc =C3=A", "quoted-printable", "abc \xc3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(decodeTransfer([]byte(tt.raw), tt.encoding)); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDecodeCharset(t *testing.T) {
	tests := []struct{ in, charset, want string }{
		{"caf\xe9", "ISO-8859-1", "café"},
		{"\x80 5", "windows-1252", "€ 5"},
		{"caf\xc3\xa9", "", "café"},
		{"bad \xff byte", "utf-8", "bad \uFFFD byte"},
		{"text", "x-unknown-charset", "text"},
	}
	for _, tt := range tests {
		if got := decodeCharset([]byte(tt.in), tt.charset); got != tt.want {
			t.Errorf("decodeCharset(%q, %q) = %q, want %q", tt.in, tt.charset, got, tt.want)
		}
	}
}

func TestHTMLToText(t *testing.T) {
	doc := `<html><head><title>T</title><style>p{color:red}</style></head>
<body><script>var x = "<p>no</p>";</script><p>Hello&nbsp;<b>big</b>&amp;bold</p><div>world</div><template>hidden</template></body></html>`
	got := strings.Join(strings.Fields(htmlToText(doc)), " ")
	if got != "Hello big &bold world" {
		t.Errorf("got %q", got)
	}
}

func TestTruncateRunes(t *testing.T) {
	if got := truncateRunes("héllo wörld", 5); got != "héllo" {
		t.Errorf("got %q", got)
	}
	if got := truncateRunes("short", 500); got != "short" {
		t.Errorf("got %q", got)
	}
	long := strings.Repeat("é", 600)
	if got := truncateRunes(long, 500); utf8.RuneCountInString(got) != 500 || !utf8.ValidString(got) {
		t.Errorf("cut to %d runes (valid %v), want 500", utf8.RuneCountInString(got), utf8.ValidString(got))
	}
}

func TestSnippetPart(t *testing.T) {
	text := &imap.BodyStructureSinglePart{Type: "text", Subtype: "plain"}
	html := &imap.BodyStructureSinglePart{Type: "TEXT", Subtype: "HTML"}
	attached := &imap.BodyStructureSinglePart{Type: "text", Subtype: "plain",
		Extended: &imap.BodyStructureSinglePartExt{Disposition: &imap.BodyStructureDisposition{Value: "attachment"}}}
	pdf := &imap.BodyStructureSinglePart{Type: "application", Subtype: "pdf"}
	mp := func(sub string, children ...imap.BodyStructure) *imap.BodyStructureMultiPart {
		return &imap.BodyStructureMultiPart{Subtype: sub, Children: children}
	}
	tests := []struct {
		name     string
		bs       imap.BodyStructure
		wantPath []int
		wantPart *imap.BodyStructureSinglePart
	}{
		{"single text", text, []int{1}, text},
		{"alternative prefers plain", mp("alternative", html, text), []int{2}, text},
		{"html only", mp("related", html, pdf), []int{1}, html},
		{"nested", mp("mixed", mp("alternative", text, html), pdf), []int{1, 1}, text},
		{"attached text skipped", mp("mixed", attached, html), []int{2}, html},
		{"no text", mp("mixed", pdf), nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, part, ok := snippetPart(tt.bs)
			if ok != (tt.wantPart != nil) || part != tt.wantPart || !slices.Equal(path, tt.wantPath) {
				t.Errorf("got %v %p %v, want %v %p", path, part, ok, tt.wantPath, tt.wantPart)
			}
		})
	}
}

func TestSearchTerms(t *testing.T) {
	tests := map[string][]string{
		"invoice":                    {"invoice"},
		"  alice   invoice ":         {"alice", "invoice"},
		`invoice "number one" march`: {"invoice", "number one", "march"},
		`"unclosed phrase`:           {"unclosed", "phrase"},
		`"" empty`:                   {"empty"},
		"from:alice@example.com\tQ3": {"from:alice@example.com", "Q3"},
	}
	for in, want := range tests {
		if got := searchTerms(in); !slices.Equal(got, want) {
			t.Errorf("searchTerms(%q) = %q, want %q", in, got, want)
		}
	}
}
