package sdk

import (
	"errors"
	"fmt"

	"github.com/toolhost/toolhost/internal/manifest"
	"github.com/toolhost/toolhost/sdk/internal/engine"
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

// local checks the plugin's definition, returning an error that names
// every problem, and prepares it to run.
func (p *Plugin) local() (*engine.Local, error) {
	def, err := p.definition()
	if err != nil {
		return nil, err
	}
	return engine.NewLocal(def)
}

// definition builds the plugin's manifest and checks it.
func (p *Plugin) definition() (engine.Definition, error) {
	def := engine.Definition{}
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
			def.Handlers = append(def.Handlers, engine.HandlerFunc(a.Handler.invoke))
		}
		m.Actions = append(m.Actions, ma)
	}
	if len(errs) > 0 {
		return def, fmt.Errorf("%w: %w", manifest.ErrInvalid, errors.Join(errs...))
	}
	if err := m.Validate(); err != nil {
		return def, err
	}
	def.Manifest = m
	if check := p.CheckConfig; check != nil {
		def.CheckConfig = func(c map[string]string) error { return check(Config(c)) }
	}
	return def, nil
}

func ptr[T any](v T) *T { return &v }
