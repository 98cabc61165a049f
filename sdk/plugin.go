package sdk

import (
	"errors"
	"fmt"

	"github.com/toolhost/toolhost/internal/manifest"
)

// ActionType says what kind of effect an action has.
type ActionType string

// The four action types. The host records side-effecting runs (create,
// update, delete) durably before calling the plugin.
const (
	Create ActionType = manifest.TypeCreate
	Read   ActionType = manifest.TypeRead
	Update ActionType = manifest.TypeUpdate
	Delete ActionType = manifest.TypeDelete
)

// Plugin is a plugin's definition. Name is its key: lower case, as used in
// plugins.hcl and in action aliases such as "gmail.sendEmail".
type Plugin struct {
	Name        string
	Title       string
	Description string
	Version     string
	Config      []ConfigParam
	Actions     []Action
	// CheckConfig, when set, adds the plugin's own checks to the required-key
	// check the host and Serve already make.
	CheckConfig func(Config) error
}

// ConfigParam defines one configuration value (always a string).
type ConfigParam struct {
	Key         string
	Title       string
	Description string
	Required    bool
	// Secret values are encrypted at rest and never shown by the host.
	Secret bool
}

// Action is one thing the plugin can do.
type Action struct {
	Key         string // ^[a-z][a-zA-Z0-9]*$, at most 50 characters
	Title       string
	Description string
	Type        ActionType
	// Idempotent says a second call with the same input changes nothing
	// more than the first did (MCP clients read it as idempotentHint).
	Idempotent bool
	// ClosedWorld says the action reaches nothing outside the host (no
	// mail server, no web API); MCP clients read openWorldHint: false.
	ClosedWorld bool
	Handler     Handler
}

// Manifest builds the plugin's manifest and checks it, returning an error
// that names every problem.
func (p *Plugin) Manifest() (*manifest.Plugin, error) {
	m := &manifest.Plugin{
		Name: p.Name, Title: p.Title, Description: p.Description, Version: p.Version,
		Config: []manifest.ConfigParam{}, Actions: []manifest.Action{},
	}
	for _, c := range p.Config {
		m.Config = append(m.Config, manifest.ConfigParam{
			Key: c.Key, Title: c.Title, Description: c.Description, Type: "string",
			Required: c.Required, Secret: c.Secret,
		})
	}
	var errs []error
	for i, a := range p.Actions {
		ma := manifest.Action{Key: a.Key, Title: a.Title, Description: a.Description, Type: string(a.Type),
			IdempotentHint: ptr(a.Idempotent), OpenWorldHint: ptr(!a.ClosedWorld)}
		if a.Handler == nil {
			errs = append(errs, fmt.Errorf("actions[%d] (%q): no Handler", i, a.Key))
		} else {
			s, err := a.Handler.schemas()
			if err != nil {
				errs = append(errs, fmt.Errorf("actions[%d] (%q): %w", i, a.Key, err))
			}
			ma.InputSchema, ma.OutputSchema, ma.SecretInputs = s.input, s.output, s.secrets
		}
		m.Actions = append(m.Actions, ma)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", manifest.ErrInvalid, errors.Join(errs...))
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

func (p *Plugin) action(key string) *Action {
	for i := range p.Actions {
		if p.Actions[i].Key == key {
			return &p.Actions[i]
		}
	}
	return nil
}

func ptr[T any](v T) *T { return &v }
