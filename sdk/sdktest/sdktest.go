// Package sdktest runs a plugin's actions in-process, without a host, so a
// plugin author can unit-test handlers with the same input checks, panic
// recovery and output checks that the real plugin server applies.
package sdktest

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/toolhost/toolhost/sdk"
	"github.com/toolhost/toolhost/sdk/internal/engine"
)

// Harness runs the actions of one plugin.
type Harness struct {
	local *engine.Local
	// Config is the configuration runs get; change it between runs as a
	// host would reconfigure the plugin.
	Config sdk.Config
}

// Check checks the plugin's definition as Serve does, returning an error
// that names every problem.
func Check(p sdk.Plugin) error {
	_, err := engine.FromSDK(&p)
	return err
}

// New checks the plugin's definition (failing t when it is bad) and returns a
// harness that runs its actions with config.
func New(t testing.TB, p sdk.Plugin, config sdk.Config) *Harness {
	t.Helper()
	l, err := engine.FromSDK(&p)
	if err != nil {
		t.Fatalf("plugin definition: %v", err)
	}
	if config == nil {
		config = sdk.Config{}
	}
	return &Harness{local: l, Config: config}
}

// ConfigProblem is one reason a configuration is not usable.
type ConfigProblem struct {
	Key     string // the parameter at fault, "" for the plugin's own check
	Message string
}

// ConfigProblems returns what a host would be told is wrong with the
// harness's Config: each required value that is missing, else what the
// plugin's CheckConfig says.
func (h *Harness) ConfigProblems() []ConfigProblem {
	var out []ConfigProblem
	for _, p := range h.local.CheckConfig(h.Config) {
		out = append(out, ConfigProblem{Key: p.Key, Message: p.Message})
	}
	return out
}

// Log is one line a handler logged.
type Log struct {
	Level   string
	Message string
	Fields  map[string]any
}

// Progress is one progress report.
type Progress struct {
	Fraction float64
	Message  string
}

// Result is what one run produced.
type Result struct {
	Output   json.RawMessage
	Err      *sdk.Error
	Logs     []Log
	Progress []Progress
}

// Decode unmarshals the output into v, failing t when the run failed.
func (r Result) Decode(t testing.TB, v any) {
	t.Helper()
	if r.Err != nil {
		t.Fatalf("run failed: %s: %s", r.Err.Code, r.Err.Message)
	}
	if err := json.Unmarshal(r.Output, v); err != nil {
		t.Fatalf("decode output %s: %v", r.Output, err)
	}
}

// Run runs an action. input is marshalled to JSON unless it is already
// []byte, json.RawMessage or a string. The input is checked against the
// action's input schema first, as when a host that does not check input
// calls the plugin.
func (h *Harness) Run(ctx context.Context, action string, input any) Result {
	raw, err := toJSON(input)
	if err != nil {
		return Result{Err: &sdk.Error{Code: sdk.CodeInvalidInput, Message: err.Error()}}
	}
	rec := &recorder{}
	out, rerr := h.local.Run(ctx, "", action, h.local.Configure(h.Config), raw, false, rec)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	res := Result{Output: out, Logs: rec.logs, Progress: rec.progress}
	if rerr != nil {
		res.Err = &sdk.Error{Code: rerr.Code, Message: rerr.Message, Field: rerr.Field}
	}
	return res
}

// Manifest returns the plugin's manifest as the host would see it.
func (h *Harness) Manifest() []byte {
	m, _ := json.Marshal(h.local.Manifest())
	return m
}

func toJSON(v any) ([]byte, error) {
	switch x := v.(type) {
	case []byte:
		return x, nil
	case json.RawMessage:
		return x, nil
	case string:
		return []byte(x), nil
	}
	return json.Marshal(v)
}

type recorder struct {
	mu       sync.Mutex
	logs     []Log
	progress []Progress
}

func (r *recorder) Log(level, msg string, fields map[string]any) {
	r.mu.Lock()
	r.logs = append(r.logs, Log{Level: level, Message: msg, Fields: fields})
	r.mu.Unlock()
}

func (r *recorder) Progress(f float64, msg string) {
	r.mu.Lock()
	r.progress = append(r.progress, Progress{Fraction: f, Message: msg})
	r.mu.Unlock()
}
