package main

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime/quotedprintable"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-imap/v2"
	"golang.org/x/net/html"
	"golang.org/x/text/encoding/htmlindex"
)

const (
	// snippetMaxRunes is the longest snippet returned, in characters.
	snippetMaxRunes = 500
	// snippetFetchBytes is how much of the text part is fetched: enough
	// for 500 characters after decoding, and after an HTML part's markup.
	snippetFetchBytes = 32 << 10
)

// snippetPart chooses the body part to take a snippet from: the first
// text/plain part that is not an attachment, else the first such
// text/html part. ok is false when the message has neither.
func snippetPart(bs imap.BodyStructure) (path []int, part *imap.BodyStructureSinglePart, ok bool) {
	var htmlPath []int
	var htmlPart *imap.BodyStructureSinglePart
	bs.Walk(func(p []int, b imap.BodyStructure) bool {
		single, isSingle := b.(*imap.BodyStructureSinglePart)
		if !isSingle || part != nil || isAttachment(single) {
			return part == nil
		}
		switch single.MediaType() {
		case "text/plain":
			path, part = append([]int(nil), p...), single
		case "text/html":
			if htmlPart == nil {
				htmlPath, htmlPart = append([]int(nil), p...), single
			}
		}
		return part == nil
	})
	if part != nil {
		return path, part, true
	}
	if htmlPart != nil {
		return htmlPath, htmlPart, true
	}
	return nil, nil, false
}

func isAttachment(p *imap.BodyStructureSinglePart) bool {
	d := p.Disposition()
	return d != nil && strings.EqualFold(d.Value, "attachment")
}

// snippetFromPart turns the start of a body part, as fetched, into at most
// snippetMaxRunes characters of single-spaced text.
func snippetFromPart(raw []byte, part *imap.BodyStructureSinglePart) string {
	text := decodeCharset(decodeTransfer(raw, part.Encoding), part.Params["charset"])
	if part.MediaType() == "text/html" {
		text = htmlToText(text)
	}
	return truncateRunes(strings.Join(strings.Fields(text), " "), snippetMaxRunes)
}

// decodeTransfer undoes a Content-Transfer-Encoding on data that may be
// cut short: the decodable prefix is kept.
func decodeTransfer(raw []byte, encoding string) []byte {
	switch strings.ToLower(encoding) {
	case "base64":
		clean := bytes.Map(func(r rune) rune {
			if r == '\r' || r == '\n' || r == ' ' || r == '\t' {
				return -1
			}
			return r
		}, raw)
		clean = clean[:len(clean)/4*4]
		out := make([]byte, base64.StdEncoding.DecodedLen(len(clean)))
		n, _ := base64.StdEncoding.Decode(out, clean)
		return out[:n]
	case "quoted-printable":
		if i := bytes.LastIndexByte(raw, '='); i >= 0 && len(raw)-i < 3 {
			raw = raw[:i] // an escape cut short by the partial fetch
		}
		out, _ := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(raw)))
		return out
	}
	return raw
}

// decodeCharset converts text in charset to UTF-8. Unknown charsets and
// invalid bytes become U+FFFD rather than failing the search.
func decodeCharset(b []byte, charset string) string {
	charset = strings.ToLower(strings.TrimSpace(charset))
	switch charset {
	case "", "utf-8", "utf8", "us-ascii", "ascii":
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	enc, err := htmlindex.Get(charset)
	if err != nil {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	out, err := enc.NewDecoder().Bytes(b)
	if err != nil {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return string(out)
}

// htmlToText returns the text an HTML document shows, without the contents
// of head, script, style and template elements.
func htmlToText(doc string) string {
	z := html.NewTokenizer(strings.NewReader(doc))
	var sb strings.Builder
	hidden := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			return sb.String()
		case html.TextToken:
			if hidden == 0 {
				sb.Write(z.Text())
				sb.WriteByte(' ')
			}
		case html.StartTagToken:
			if isHiddenElement(z) {
				hidden++
			} else {
				sb.WriteByte(' ')
			}
		case html.EndTagToken:
			if isHiddenElement(z) && hidden > 0 {
				hidden--
			} else {
				sb.WriteByte(' ')
			}
		}
	}
}

func isHiddenElement(z *html.Tokenizer) bool {
	name, _ := z.TagName()
	switch string(name) {
	case "head", "script", "style", "template", "title":
		return true
	}
	return false
}

// truncateRunes cuts s to at most n characters.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}
