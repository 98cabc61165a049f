// Package manifest defines what a plugin says about itself: the plugin, its
// configuration parameters and its actions with their JSON Schemas. The sdk
// builds a Manifest from Go types; the host decodes and checks the one a
// plugin process returns from Describe. Both sides use the same rules.
package manifest

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Action types, as Connery named them.
const (
	TypeCreate = "create"
	TypeRead   = "read"
	TypeUpdate = "update"
	TypeDelete = "delete"
)

// ErrInvalid is wrapped by every error that Validate and Decode return.
var ErrInvalid = errors.New("invalid plugin manifest")

// Plugin is a plugin's manifest.
type Plugin struct {
	Name        string        `json:"name"`
	Title       string        `json:"title"`
	Description string        `json:"description"`
	Version     string        `json:"version"`
	Config      []ConfigParam `json:"configurationParameters"`
	Actions     []Action      `json:"actions"`
}

// ConfigParam defines one configuration value. Values are strings.
type ConfigParam struct {
	Key         string `json:"key"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Type        string `json:"type"`
	Required    bool   `json:"required"`
	Secret      bool   `json:"secret"`
}

// Action defines one action. Its input and output are JSON Schemas of type
// object; SecretInputs names input properties that must never be stored.
type Action struct {
	Key          string          `json:"key"`
	Title        string          `json:"title"`
	Description  string          `json:"description"`
	Type         string          `json:"type"`
	InputSchema  json.RawMessage `json:"inputSchema"`
	OutputSchema json.RawMessage `json:"outputSchema"`
	SecretInputs []string        `json:"secretInputs,omitempty"`
	// IdempotentHint and OpenWorldHint are the author's word to MCP
	// clients: a repeat call with the same input has no further effect;
	// the action reaches systems outside the host. nil: not said.
	IdempotentHint *bool `json:"idempotentHint,omitempty"`
	OpenWorldHint  *bool `json:"openWorldHint,omitempty"`
}

var (
	pluginNameRe = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,49}$`)
	actionKeyRe  = regexp.MustCompile(`^[a-z][a-zA-Z0-9]{0,49}$`)
	configKeyRe  = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]{0,63}$`)
)

// Decode parses a manifest and validates it.
func Decode(data []byte) (*Plugin, error) {
	var p Plugin
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// Validate reports every problem with the manifest, each naming the field.
func (p *Plugin) Validate() error {
	var probs []string
	add := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }
	if !pluginNameRe.MatchString(p.Name) {
		add("name %q must match %s", p.Name, pluginNameRe)
	}
	if strings.TrimSpace(p.Title) == "" {
		add("title is empty")
	}
	seen := map[string]bool{}
	for i, c := range p.Config {
		where := fmt.Sprintf("configurationParameters[%d] (%q)", i, c.Key)
		if !configKeyRe.MatchString(c.Key) {
			add("%s: key must match %s", where, configKeyRe)
		}
		if seen["config:"+c.Key] {
			add("%s: duplicate key", where)
		}
		seen["config:"+c.Key] = true
		if strings.TrimSpace(c.Title) == "" {
			add("%s: title is empty", where)
		}
		if c.Type != "" && c.Type != "string" {
			add("%s: type %q is not supported (configuration values are strings)", where, c.Type)
		}
	}
	if len(p.Actions) == 0 {
		add("actions: a plugin needs at least one action")
	}
	for i, a := range p.Actions {
		where := fmt.Sprintf("actions[%d] (%q)", i, a.Key)
		if seen["action:"+a.Key] {
			add("%s: duplicate key", where)
		}
		seen["action:"+a.Key] = true
		for _, msg := range a.problems() {
			add("%s: %s", where, msg)
		}
	}
	if len(probs) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(probs, "; "))
	}
	return nil
}

func (a *Action) problems() []string {
	var probs []string
	if !actionKeyRe.MatchString(a.Key) {
		probs = append(probs, fmt.Sprintf("key must match %s (at most 50 characters)", actionKeyRe))
	}
	if strings.TrimSpace(a.Title) == "" {
		probs = append(probs, "title is empty")
	}
	switch a.Type {
	case TypeCreate, TypeRead, TypeUpdate, TypeDelete:
	default:
		probs = append(probs, fmt.Sprintf("type %q must be create, read, update or delete", a.Type))
	}
	in, err := ParseSchema(a.InputSchema)
	if err != nil {
		probs = append(probs, "inputSchema: "+err.Error())
	}
	if _, err := ParseSchema(a.OutputSchema); err != nil {
		probs = append(probs, "outputSchema: "+err.Error())
	}
	for _, s := range a.SecretInputs {
		if in != nil && in.Property(s) == nil {
			probs = append(probs, fmt.Sprintf("secretInputs: %q is not an input property", s))
		}
	}
	return probs
}
