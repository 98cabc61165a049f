// Package engine is the plugin side's plumbing behind package sdk: it runs
// a plugin's actions with their checks (input, configuration, panics,
// output, secrets), serves them over the plugin protocol, and lets sdktest
// run them in-process. Package sdk builds a Definition from an author's
// sdk.Plugin; nothing here is part of the sdk's API.
package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"sort"

	"github.com/toolhost/toolhost/internal/manifest"
	"github.com/toolhost/toolhost/internal/pluginrpc"
	"github.com/toolhost/toolhost/internal/schemacheck"
)

// Error codes a run can fail with inside a plugin (package sdk exports
// them).
const (
	CodeInvalidInput  = "invalid_input"
	CodeActionFailed  = "action_failed"
	CodePanic         = "panic"
	CodeOutputInvalid = "output_invalid"
	CodeUnknownAction = "unknown_action"
	CodeMisconfigured = "misconfigured"
)

// Error is a failed run.
type Error struct {
	Code    string
	Message string
	Field   string // set for invalid_input when one field is at fault
}

func (e *Error) Error() string { return e.Message }

// Handler runs one action: it decodes the input into the handler's typed
// input (registering its secret fields with AddSecret) and calls it. An
// error that is not an *Error fails the run as action_failed.
type Handler interface {
	Invoke(ctx context.Context, input []byte) (any, error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, input []byte) (any, error)

// Invoke calls f.
func (f HandlerFunc) Invoke(ctx context.Context, input []byte) (any, error) { return f(ctx, input) }

// Definition is a plugin as the engine runs it: its checked manifest, one
// handler per action in the manifest's order, and the author's own
// configuration check.
type Definition struct {
	Manifest    *manifest.Plugin
	Handlers    []Handler
	CheckConfig func(map[string]string) error
}

// FromSDK turns an sdk.Plugin, passed as *sdk.Plugin, into a Local.
// Package sdk sets it when it is initialised, so that sdktest (which
// imports sdk) reaches the engine without sdk exporting it.
var FromSDK func(p any) (*Local, error)

// Local runs a plugin's actions in this process, with the same checks the
// plugin server makes: input validation (unless the host checked the
// input), configuration, panic recovery, output validation, secrets.
type Local struct {
	def     Definition
	actions map[string]*preparedAction
}

type preparedAction struct {
	key     string
	handler Handler
	input   *schemacheck.Validator
	output  *schemacheck.Validator
}

// NewLocal prepares a definition's actions.
func NewLocal(def Definition) (*Local, error) {
	m := def.Manifest
	if len(def.Handlers) != len(m.Actions) {
		return nil, fmt.Errorf("%d handlers for %d actions", len(def.Handlers), len(m.Actions))
	}
	l := &Local{def: def, actions: map[string]*preparedAction{}}
	for i, ma := range m.Actions {
		in, err := schemacheck.Compile(ma.InputSchema)
		if err != nil {
			return nil, fmt.Errorf("action %q: input %w", ma.Key, err)
		}
		out, err := schemacheck.Compile(ma.OutputSchema)
		if err != nil {
			return nil, fmt.Errorf("action %q: output %w", ma.Key, err)
		}
		l.actions[ma.Key] = &preparedAction{key: ma.Key, handler: def.Handlers[i], input: in, output: out}
	}
	return l, nil
}

// Manifest returns the checked manifest.
func (l *Local) Manifest() *manifest.Plugin { return l.def.Manifest }

// ConfigProblem is one reason a configuration is not usable.
type ConfigProblem struct {
	Key     string
	Message string
}

// CheckConfig returns the problems with a set of configuration values:
// each required key without a value, else what the plugin's own check
// says.
func (l *Local) CheckConfig(c map[string]string) []ConfigProblem {
	var out []ConfigProblem
	for _, k := range l.missing(c) {
		out = append(out, ConfigProblem{Key: k, Message: "required value is missing"})
	}
	if l.def.CheckConfig != nil && len(out) == 0 {
		if err := l.def.CheckConfig(c); err != nil {
			out = append(out, ConfigProblem{Message: err.Error()})
		}
	}
	return out
}

// missing returns the required keys without a value, sorted.
func (l *Local) missing(c map[string]string) []string {
	var out []string
	for _, p := range l.def.Manifest.Config {
		if p.Required && c[p.Key] == "" {
			out = append(out, p.Key)
		}
	}
	sort.Strings(out)
	return out
}

// Config is a configuration ready for runs: its values, and what makes
// runs fail as misconfigured. Build one with Configure; it is never
// changed, so runs in flight keep the one they started with.
type Config struct {
	values  map[string]string
	secrets []string // the values of secret parameters
	problem string   // when set, every run fails as misconfigured with it
}

// Configure prepares values for runs.
func (l *Local) Configure(values map[string]string) *Config {
	if values == nil {
		values = map[string]string{}
	}
	c := &Config{values: values}
	for _, p := range l.def.Manifest.Config {
		if p.Secret {
			c.secrets = append(c.secrets, values[p.Key])
		}
	}
	if missing := l.missing(values); len(missing) > 0 {
		c.problem = fmt.Sprintf("plugin %q is missing required configuration: %v", l.def.Manifest.Name, missing)
	}
	return c
}

// invalidConfig is a configuration that could not be read: runs fail with
// why.
func invalidConfig(err error) *Config {
	return &Config{values: map[string]string{}, problem: "configuration is not a JSON object of strings: " + err.Error()}
}

// DecodeConfig reads a JSON object of string values; empty means none.
func DecodeConfig(raw []byte) (map[string]string, error) {
	cfg := map[string]string{}
	if len(raw) == 0 {
		return cfg, nil
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, err
	}
	if cfg == nil { // the JSON was null
		cfg = map[string]string{}
	}
	return cfg, nil
}

// Run runs one action with input, a JSON object. When checked is true the
// caller (the host) has checked input against the action's input schema,
// and Run decodes it straight into the handler's input; otherwise Run
// checks it first. Run never panics: a panic in the handler becomes an
// Error with code "panic".
func (l *Local) Run(ctx context.Context, runID, key string, cfg *Config, input []byte, checked bool, events Events) (json.RawMessage, *Error) {
	pa := l.actions[key]
	if pa == nil {
		return nil, &Error{Code: CodeUnknownAction, Message: fmt.Sprintf("plugin %q has no action %q", l.def.Manifest.Name, key)}
	}
	if !checked {
		if errs := pa.input.ValidateJSON(input); errs != nil {
			return nil, &Error{Code: CodeInvalidInput, Message: "invalid input: " + errs.Error()}
		}
	}
	if cfg.problem != "" {
		return nil, &Error{Code: CodeMisconfigured, Message: cfg.problem}
	}
	if events == nil {
		events = discard{}
	}
	secrets := &secretSet{}
	secrets.add(cfg.secrets...)
	events = scrubbingEvents{next: events, secrets: secrets}
	ctx = withCall(ctx, &call{runID: runID, config: cfg.values, events: events, secrets: secrets})
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
			fmt.Fprintf(os.Stderr, "action %q panicked: %v\n%s", pa.key, r, debug.Stack())
			rerr = &Error{Code: CodePanic, Message: fmt.Sprintf("action %q panicked: %v", pa.key, r)}
		}
	}()
	out, err := pa.handler.Invoke(ctx, input)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			c := *e
			return nil, &c
		}
		return nil, &Error{Code: CodeActionFailed, Message: err.Error()}
	}
	return out, nil
}
