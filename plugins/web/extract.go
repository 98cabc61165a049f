package main

import (
	"bytes"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/JohannesKaufmann/html-to-markdown/v2/converter"
	"github.com/JohannesKaufmann/html-to-markdown/v2/plugin/base"
	"github.com/JohannesKaufmann/html-to-markdown/v2/plugin/commonmark"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// page is what fetch makes of an HTML document.
type page struct {
	title   string
	content string
}

// Elements whose content is never part of the readable page.
var skipped = map[atom.Atom]bool{
	atom.Head: true, atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Template: true,
	atom.Iframe: true, atom.Svg: true, atom.Math: true, atom.Nav: true, atom.Button: true,
	atom.Select: true, atom.Textarea: true, atom.Input: true, atom.Object: true, atom.Embed: true,
}

// Elements that start a new line in plain text.
var blocks = map[atom.Atom]bool{
	atom.Address: true, atom.Article: true, atom.Aside: true, atom.Blockquote: true, atom.Body: true,
	atom.Dd: true, atom.Details: true, atom.Dialog: true, atom.Div: true, atom.Dl: true, atom.Dt: true,
	atom.Fieldset: true, atom.Figcaption: true, atom.Figure: true, atom.Footer: true, atom.Form: true,
	atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true,
	atom.Header: true, atom.Hr: true, atom.Li: true, atom.Main: true, atom.Ol: true, atom.P: true,
	atom.Pre: true, atom.Section: true, atom.Summary: true, atom.Table: true, atom.Tr: true, atom.Ul: true,
	atom.Caption: true, atom.Html: true,
}

// parsePage reads an HTML document (UTF-8) and renders its readable content
// as markdown, or as plain text when asText. Relative links in markdown are
// made absolute against baseURL.
func parsePage(doc []byte, baseURL string, asText bool) (page, error) {
	root, err := html.Parse(bytes.NewReader(doc))
	if err != nil {
		return page{}, err
	}
	p := page{title: titleOf(root)}
	if asText {
		p.content = plainText(root)
		return p, nil
	}
	md, err := newMarkdownConverter().ConvertNode(root, converter.WithDomain(baseURL))
	if err != nil {
		return page{}, err
	}
	p.content = strings.ToValidUTF8(strings.TrimSpace(string(md)), "\uFFFD")
	return p, nil
}

// newMarkdownConverter makes a converter that also drops what skipped lists
// (the base plugin drops scripts, styles and the head already).
func newMarkdownConverter() *converter.Converter {
	conv := converter.NewConverter(converter.WithPlugins(base.NewBasePlugin(), commonmark.NewCommonmarkPlugin()))
	for a := range skipped {
		conv.Register.TagType(a.String(), converter.TagTypeRemove, converter.PriorityStandard)
	}
	return conv
}

// titleOf returns the text of the document's <title>, or of its first <h1>
// when it has no title, with white space collapsed.
func titleOf(root *html.Node) string {
	var h1 *html.Node
	stack := []*html.Node{root}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if n.Type == html.ElementNode {
			switch n.DataAtom {
			case atom.Title:
				if t := collapse(textOf(n)); t != "" {
					return t
				}
			case atom.H1:
				if h1 == nil {
					h1 = n
				}
			case atom.Svg, atom.Math:
				continue // their <title> elements name a drawing, not the page
			}
		}
		for c := n.LastChild; c != nil; c = c.PrevSibling {
			stack = append(stack, c)
		}
	}
	if h1 != nil {
		return collapse(textOf(h1))
	}
	return ""
}

// textOf concatenates the text below n.
func textOf(n *html.Node) string {
	var b strings.Builder
	stack := []*html.Node{n}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.LastChild; c != nil; c = c.PrevSibling {
			stack = append(stack, c)
		}
	}
	return b.String()
}

var spaces = regexp.MustCompile(`[ \t\r\n\f\v\x{00a0}]+`)

// collapse turns runs of white space into one space and trims the ends.
func collapse(s string) string {
	return strings.TrimSpace(spaces.ReplaceAllString(strings.ToValidUTF8(s, "\uFFFD"), " "))
}

// plainText renders the readable text of a document: block elements on
// lines of their own, white space collapsed except inside <pre>, at most one
// blank line in a row.
func plainText(root *html.Node) string {
	type item struct {
		n     *html.Node
		leave bool
	}
	var b strings.Builder
	lineStart := true
	write := func(s string) {
		if lineStart {
			s = strings.TrimLeft(s, " ")
		}
		if s != "" {
			b.WriteString(s)
			lineStart = strings.HasSuffix(s, "\n")
		}
	}
	pre := 0
	stack := []item{{n: root}}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n := it.n
		if it.leave {
			if n.DataAtom == atom.Pre {
				pre--
			}
			if blocks[n.DataAtom] {
				write("\n")
			}
			continue
		}
		switch n.Type {
		case html.TextNode:
			if pre > 0 {
				b.WriteString(n.Data)
				lineStart = strings.HasSuffix(n.Data, "\n")
			} else {
				write(spaces.ReplaceAllString(n.Data, " "))
			}
			continue
		case html.ElementNode:
			if skipped[n.DataAtom] {
				continue
			}
			switch {
			case n.DataAtom == atom.Br:
				write("\n")
			case n.DataAtom == atom.Pre:
				pre++
				write("\n")
			case n.DataAtom == atom.Td || n.DataAtom == atom.Th:
				write("\t")
			case blocks[n.DataAtom]:
				write("\n")
			}
			if n.DataAtom == atom.Li {
				write("- ")
			}
			stack = append(stack, item{n: n, leave: true})
		case html.CommentNode, html.DoctypeNode:
			continue
		}
		for c := n.LastChild; c != nil; c = c.PrevSibling {
			stack = append(stack, item{n: c})
		}
	}
	return tidyLines(b.String())
}

// tidyLines trims the end of each line and keeps at most one blank line in a row.
func tidyLines(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var out []string
	blank := true // drops blank lines at the start
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimRight(line, " \t")
		if line == "" {
			if !blank {
				out = append(out, "")
			}
			blank = true
			continue
		}
		out = append(out, line)
		blank = false
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

// trimPartialRune drops an incomplete UTF-8 sequence from the end of b,
// which cutting a body at max_bytes can leave.
func trimPartialRune(b []byte) []byte {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return b[:i]
			}
			return b
		}
	}
	return b
}
