package sdk

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime/debug"

	"github.com/toolhost/toolhost/internal/manifest"
	"github.com/toolhost/toolhost/internal/pluginrpc"
	"github.com/toolhost/toolhost/internal/schemacheck"
)

// Local runs a plugin's actions in this process, with the same checks the
// plugin server makes: input validation, panic recovery, output validation.
// The plugin server uses it; so does sdktest.
type Local struct {
	plugin   *Plugin
	manifest *manifest.Plugin
	actions  map[string]*preparedAction
}

type preparedAction struct {
	action  *Action
	input   *schemacheck.Validator
	output  *schemacheck.Validator
	secrets []string // secret input keys
}

// NewLocal checks the plugin's definition and prepares its actions.
func NewLocal(p *Plugin) (*Local, error) {
	m, err := p.Manifest()
	if err != nil {
		return nil, err
	}
	l := &Local{plugin: p, manifest: m, actions: map[string]*preparedAction{}}
	for i, ma := range m.Actions {
		in, err := schemacheck.Compile(ma.InputSchema)
		if err != nil {
			return nil, fmt.Errorf("action %q: input %w", ma.Key, err)
		}
		out, err := schemacheck.Compile(ma.OutputSchema)
		if err != nil {
			return nil, fmt.Errorf("action %q: output %w", ma.Key, err)
		}
		l.actions[ma.Key] = &preparedAction{action: &p.Actions[i], input: in, output: out, secrets: ma.SecretInputs}
	}
	return l, nil
}

// Manifest returns the checked manifest.
func (l *Local) Manifest() *manifest.Plugin { return l.manifest }

// CheckConfig returns the problems with a set of configuration values.
func (l *Local) CheckConfig(c Config) []ConfigProblem {
	var out []ConfigProblem
	for _, k := range c.Missing(l.plugin.Config) {
		out = append(out, ConfigProblem{Key: k, Message: "required value is missing"})
	}
	if l.plugin.CheckConfig != nil && len(out) == 0 {
		if err := l.plugin.CheckConfig(c); err != nil {
			out = append(out, ConfigProblem{Message: err.Error()})
		}
	}
	return out
}

// ConfigProblem is one reason a configuration is not usable.
type ConfigProblem struct {
	Key     string
	Message string
}

// Run runs one action. input is a JSON object. It never panics: a panic in
// the handler becomes an Error with code "panic".
func (l *Local) Run(ctx context.Context, runID, key string, config Config, input []byte, events Events) (json.RawMessage, *Error) {
	pa := l.actions[key]
	if pa == nil {
		return nil, &Error{Code: CodeUnknownAction, Message: fmt.Sprintf("plugin %q has no action %q", l.plugin.Name, key)}
	}
	doc, errs := pa.input.Check(input)
	if errs != nil {
		return nil, &Error{Code: CodeInvalidInput, Message: "invalid input: " + errs.Error()}
	}
	if missing := config.Missing(l.plugin.Config); len(missing) > 0 {
		return nil, &Error{Code: CodeMisconfigured, Message: fmt.Sprintf("plugin %q is missing required configuration: %v", l.plugin.Name, missing)}
	}
	if events == nil {
		events = discard{}
	}
	secrets := runSecrets(l.plugin.Config, config, pa.secrets, doc)
	events = scrubbingEvents{next: events, secrets: secrets}
	ctx = withCall(ctx, &call{runID: runID, config: config, events: events, secrets: secrets})
	out, rerr := l.call(ctx, pa, input)
	if rerr != nil {
		rerr.Message = secrets.scrub(rerr.Message)
		return nil, rerr
	}
	raw, err := json.Marshal(out)
	if err != nil {
		return nil, &Error{Code: CodeOutputInvalid, Message: "output cannot be encoded as JSON: " + err.Error()}
	}
	if len(raw) > pluginrpc.MaxMessageSize-1024 {
		return nil, &Error{Code: CodeOutputInvalid, Message: fmt.Sprintf("output is %d bytes, over the 16 MiB plugin protocol limit", len(raw))}
	}
	if errs := pa.output.ValidateJSON(raw); errs != nil {
		return nil, &Error{Code: CodeOutputInvalid, Message: "output does not match the action's output schema: " + errs.Error()}
	}
	return raw, nil
}

func (l *Local) call(ctx context.Context, pa *preparedAction, input []byte) (out any, rerr *Error) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(os.Stderr, "action %q panicked: %v\n%s", pa.action.Key, r, debug.Stack())
			rerr = &Error{Code: CodePanic, Message: fmt.Sprintf("action %q panicked: %v", pa.action.Key, r)}
		}
	}()
	out, err := pa.action.Handler.invoke(ctx, input)
	if err != nil {
		return nil, asRunError(err)
	}
	return out, nil
}
