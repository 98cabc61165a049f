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
)

// Harness runs the actions of one plugin.
type Harness struct {
	local  *sdk.Local
	Config sdk.Config
}

// New checks the plugin's definition (failing t when it is bad) and returns a
// harness that runs its actions with config.
func New(t testing.TB, p sdk.Plugin, config sdk.Config) *Harness {
	t.Helper()
	l, err := sdk.NewLocal(&p)
	if err != nil {
		t.Fatalf("plugin definition: %v", err)
	}
	if config == nil {
		config = sdk.Config{}
	}
	return &Harness{local: l, Config: config}
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
// []byte or json.RawMessage.
func (h *Harness) Run(ctx context.Context, action string, input any) Result {
	raw, err := toJSON(input)
	if err != nil {
		return Result{Err: &sdk.Error{Code: sdk.CodeInvalidInput, Message: err.Error()}}
	}
	rec := &recorder{}
	out, rerr := h.local.Run(ctx, "", action, h.Config, raw, rec)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return Result{Output: out, Err: rerr, Logs: rec.logs, Progress: rec.progress}
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
