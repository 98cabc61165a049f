package mcp

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"regexp"

	gomcp "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolhost/toolhost/host/core"
	"github.com/toolhost/toolhost/internal/manifest"
)

// maxToolName is the longest tool name OpenAI and Anthropic take as a
// function name; toolNameRe is what they accept.
const maxToolName = 64

var toolNameRe = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// toolSep joins plugin and action key in /mcp's tool names. Action keys
// have no underscore, so the last "__" in a name splits it unambiguously.
const toolSep = "__"

// ToolName is the action's tool name: plugin__actionKey on /mcp
// (withPlugin), the action key on /mcp/{plugin}. A name longer than 64
// characters is cut and ends with a digest of the whole, so it stays
// unique.
func ToolName(a *core.Action, withPlugin bool) string {
	name := a.Key
	if withPlugin {
		name = a.Plugin.Name + toolSep + a.Key
	}
	if len(name) <= maxToolName {
		return name
	}
	sum := sha256.Sum256([]byte(a.Plugin.Name + ":" + a.Key))
	suffix := "_" + hex.EncodeToString(sum[:4])
	return name[:maxToolName-len(suffix)] + suffix
}

// toolFor is the action as an MCP tool: name, title, description, its
// schemas as the plugin declared them (JSON Schema 2020-12, the dialect
// MCP assumes when $schema is absent) and annotations.
func toolFor(a *core.Action, withPlugin bool) *gomcp.Tool {
	t := &gomcp.Tool{
		Name: ToolName(a, withPlugin), Title: a.Title, Description: a.Description,
		InputSchema: json.RawMessage(a.Input.Raw), Annotations: annotationsFor(a),
	}
	if t.Description == "" {
		t.Description = a.Title
	}
	if len(a.Output) > 0 {
		t.OutputSchema = a.Output
	}
	return t
}

// annotationsFor maps the action's type and the author's hints: read →
// readOnlyHint; update and delete → destructiveHint; create → not
// destructive; idempotentHint and openWorldHint as the plugin declared.
func annotationsFor(a *core.Action) *gomcp.ToolAnnotations {
	ann := &gomcp.ToolAnnotations{Title: a.Title}
	switch a.Type {
	case manifest.TypeRead:
		ann.ReadOnlyHint = true
	case manifest.TypeUpdate, manifest.TypeDelete:
		ann.DestructiveHint = ptr(true)
	case manifest.TypeCreate:
		ann.DestructiveHint = ptr(false)
	}
	if ma := manifestAction(a); ma != nil {
		if ma.IdempotentHint != nil {
			ann.IdempotentHint = *ma.IdempotentHint
		}
		ann.OpenWorldHint = ma.OpenWorldHint
	}
	return ann
}

func manifestAction(a *core.Action) *manifest.Action {
	if a.Plugin == nil || a.Plugin.Manifest == nil {
		return nil
	}
	for i := range a.Plugin.Manifest.Actions {
		if a.Plugin.Manifest.Actions[i].Key == a.Key {
			return &a.Plugin.Manifest.Actions[i]
		}
	}
	return nil
}

func ptr[T any](v T) *T { return &v }
