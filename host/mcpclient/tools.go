package mcpclient

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolhost/toolhost/internal/manifest"
)

// contentSchema is the output schema of a tool without one: its content.
var contentSchema = json.RawMessage(`{"type":"object","properties":{"content":{"type":"array","items":{"type":"object"}}}}`)

// maxKey is the longest action key the manifest allows.
const maxKey = 50

// catalog is what a server offers: its manifest, the tool behind each
// action key (by name and as the server listed it), and what it said
// when it was initialized.
type catalog struct {
	manifest *manifest.Plugin
	tools    map[string]string    // action key → tool name
	raw      map[string]*mcp.Tool // action key → the tool as listed
	init     *mcp.InitializeResult
	skipped  []string // tools left out, each with why
}

// buildCatalog maps tools to a manifest named name. A tool whose schemas
// the catalog cannot take is left out and named in skipped.
func buildCatalog(name string, info *mcp.Implementation, tools []*mcp.Tool) *catalog {
	c := &catalog{tools: map[string]string{}, raw: map[string]*mcp.Tool{}}
	m := &manifest.Plugin{Name: name, Title: name}
	if info != nil {
		m.Title = firstNonEmpty(info.Title, info.Name, name)
		m.Version = info.Version
	}
	m.Description = fmt.Sprintf("MCP server %s", m.Title)
	for _, t := range tools {
		a, err := toolAction(t)
		if err != nil {
			c.skipped = append(c.skipped, fmt.Sprintf("%s: %v", t.Name, err))
			continue
		}
		a.Key = uniqueKey(actionKey(t.Name), c.tools)
		c.tools[a.Key], c.raw[a.Key] = t.Name, t
		m.Actions = append(m.Actions, a)
	}
	c.manifest = m
	return c
}

// toolAction is a tool as an action (without its key).
func toolAction(t *mcp.Tool) (manifest.Action, error) {
	a := manifest.Action{
		Title: firstNonEmpty(t.Title, annotationTitle(t), t.Name), Description: t.Description,
		Type: actionType(t),
	}
	in, err := json.Marshal(t.InputSchema)
	if err != nil || string(in) == "null" {
		in = []byte(`{"type":"object"}`)
	}
	if _, err := manifest.ParseSchema(in); err != nil {
		return a, fmt.Errorf("inputSchema: %v", err)
	}
	a.InputSchema = in
	a.OutputSchema = contentSchema
	if t.OutputSchema != nil {
		out, err := json.Marshal(t.OutputSchema)
		if err != nil {
			return a, fmt.Errorf("outputSchema: %v", err)
		}
		if _, err := manifest.ParseSchema(out); err != nil {
			return a, fmt.Errorf("outputSchema: %v", err)
		}
		a.OutputSchema = out
	}
	if an := t.Annotations; an != nil {
		a.IdempotentHint = &an.IdempotentHint
		a.OpenWorldHint = an.OpenWorldHint
	}
	return a, nil
}

// actionType maps the tool's annotations to an action type, so durability
// rules apply: read-only → read; destructive → delete when the name says
// so, else update; otherwise create.
func actionType(t *mcp.Tool) string {
	an := t.Annotations
	switch {
	case an == nil:
		return manifest.TypeCreate
	case an.ReadOnlyHint:
		return manifest.TypeRead
	case an.DestructiveHint != nil && *an.DestructiveHint:
		lower := strings.ToLower(t.Name)
		if strings.Contains(lower, "delete") || strings.Contains(lower, "remove") {
			return manifest.TypeDelete
		}
		return manifest.TypeUpdate
	}
	return manifest.TypeCreate
}

func annotationTitle(t *mcp.Tool) string {
	if t.Annotations != nil {
		return t.Annotations.Title
	}
	return ""
}

// actionKey turns a tool name into an action key (^[a-z][a-zA-Z0-9]*$):
// read_file and read-file → readFile; a name starting with a digit gets
// a "t" in front.
func actionKey(tool string) string {
	var b strings.Builder
	upper := false
	for _, r := range tool {
		if r > unicode.MaxASCII || !(unicode.IsLetter(r) || unicode.IsDigit(r)) {
			upper = b.Len() > 0
			continue
		}
		switch {
		case b.Len() == 0:
			r = unicode.ToLower(r)
		case upper:
			r = unicode.ToUpper(r)
		}
		upper = false
		b.WriteRune(r)
	}
	key := b.String()
	if key == "" || !unicode.IsLetter(rune(key[0])) {
		key = "t" + key
	}
	if len(key) > maxKey {
		key = key[:maxKey]
	}
	return key
}

// uniqueKey is key, or key with a number at the end when taken.
func uniqueKey(key string, taken map[string]string) string {
	if _, ok := taken[key]; !ok {
		return key
	}
	for n := 2; ; n++ {
		suffix := fmt.Sprint(n)
		k := key
		if len(k)+len(suffix) > maxKey {
			k = k[:maxKey-len(suffix)]
		}
		if _, ok := taken[k+suffix]; !ok {
			return k + suffix
		}
	}
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}
