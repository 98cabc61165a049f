package assistant

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/shared"

	"github.com/toolhost/toolhost/host/core"
	"github.com/toolhost/toolhost/host/domain"
)

// toolNameRe is what OpenAI-compatible APIs accept as a function name.
var toolNameRe = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

var notToolChar = regexp.MustCompile(`[^a-zA-Z0-9_-]+`)

// ToolName is the function name an action gets: plugin_actionKey with
// anything outside [a-zA-Z0-9_-] replaced by "_", at most 64 characters.
func ToolName(a *core.Action) string {
	name := notToolChar.ReplaceAllString(a.Plugin.Name+"_"+a.Key, "_")
	if len(name) > 64 {
		name = name[:64]
	}
	if name == "" {
		name = a.ID
	}
	return name
}

// toolset is the actions a run offers as tools, and the way back from a
// tool name to its action.
type toolset struct {
	allowed []*core.Action
	byName  map[string]*core.Action // allowed actions by tool name
	names   map[string]string       // action id -> tool name
	all     *core.Catalog           // to tell "not allowed" from "unknown"
}

// newToolset offers the actions named in allow (ids or plugin.actionKey
// aliases), or every action when allow is nil. Unknown names are a 400
// naming each one.
func newToolset(cat *core.Catalog, allow []string) (*toolset, error) {
	ts := &toolset{byName: map[string]*core.Action{}, names: map[string]string{}, all: cat}
	if allow == nil {
		ts.allowed = cat.Actions()
	} else {
		var bad []domain.FieldError
		seen := map[string]bool{}
		for i, ref := range allow {
			a := cat.Action(ref)
			if a == nil {
				bad = append(bad, domain.FieldError{Field: "actions[" + strconv.Itoa(i) + "]",
					Message: fmt.Sprintf("no action %q (use an action id or plugin.actionKey)", ref)})
				continue
			}
			if !seen[a.ID] {
				seen[a.ID] = true
				ts.allowed = append(ts.allowed, a)
			}
		}
		if len(bad) > 0 {
			msg := bad[0].Field + ": " + bad[0].Message
			if len(bad) > 1 {
				msg += fmt.Sprintf(" (and %d more)", len(bad)-1)
			}
			return nil, &domain.Error{Code: domain.CodeInvalidRequest, Message: msg, Fields: bad}
		}
	}
	for _, a := range ts.allowed {
		name := ToolName(a)
		for n := 2; ts.byName[name] != nil; n++ { // two names that sanitize alike
			suffix := "_" + strconv.Itoa(n)
			base := ToolName(a)
			if len(base)+len(suffix) > 64 {
				base = base[:64-len(suffix)]
			}
			name = base + suffix
		}
		ts.byName[name] = a
		ts.names[a.ID] = name
	}
	return ts, nil
}

// params returns the tools for a model request.
func (ts *toolset) params() []openai.ChatCompletionToolUnionParam {
	var out []openai.ChatCompletionToolUnionParam
	for _, a := range ts.allowed {
		out = append(out, toolParam(ts.names[a.ID], a))
	}
	return out
}

func toolParam(name string, a *core.Action) openai.ChatCompletionToolUnionParam {
	def := shared.FunctionDefinitionParam{Name: name, Parameters: schemaParams(a)}
	if d := toolDescription(a); d != "" {
		def.Description = openai.String(d)
	}
	return openai.ChatCompletionFunctionTool(def)
}

// toolDescription is "title: description", as the openai-functions spec
// has it.
func toolDescription(a *core.Action) string {
	switch {
	case a.Title != "" && a.Description != "":
		return a.Title + ": " + a.Description
	case a.Title != "":
		return a.Title
	}
	return a.Description
}

// schemaParams is the action's input schema as function parameters.
func schemaParams(a *core.Action) shared.FunctionParameters {
	params := shared.FunctionParameters{}
	if a.Input != nil && len(a.Input.Raw) > 0 {
		_ = json.Unmarshal(a.Input.Raw, &params)
	}
	delete(params, "$schema")
	delete(params, "$id")
	if params["type"] == nil {
		params["type"] = "object"
	}
	if params["properties"] == nil {
		params["properties"] = map[string]any{}
	}
	return params
}

// lookup finds the action a tool call names. The model may also use an
// action id or alias. A known action outside the allow-list and an unknown
// name are both explained, for the model to read.
func (ts *toolset) lookup(name string) (*core.Action, string) {
	if a := ts.byName[name]; a != nil {
		return a, ""
	}
	a := ts.all.Action(name)
	if a == nil {
		for _, c := range ts.all.Actions() {
			if ToolName(c) == name {
				a = c
				break
			}
		}
	}
	if a != nil {
		if _, ok := ts.names[a.ID]; ok {
			return a, ""
		}
		return nil, fmt.Sprintf("error: tool %q (action %s) is not allowed in this run; the tools you may call are: %s",
			name, a.Alias, ts.list())
	}
	return nil, fmt.Sprintf("error: there is no tool named %q; the tools you may call are: %s", name, ts.list())
}

func (ts *toolset) list() string {
	names := make([]string, 0, len(ts.byName))
	for n := range ts.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
