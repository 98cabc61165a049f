package core_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/toolhost/toolhost/host/core"
	"github.com/toolhost/toolhost/host/domain"
	"github.com/toolhost/toolhost/internal/manifest"
)

// In-memory fakes of the ports the core depends on (ports.go): no process,
// no file, no network.

// waitFor bounds every wait in these tests; a test that reaches it failed.
const waitFor = 2 * time.Second

// ---- Executor and Plugin ----

// fakeExec is an Executor serving one fixed set of plugins.
type fakeExec struct{ plugins []core.Plugin }

func (e *fakeExec) Plugins() []core.Plugin { return e.plugins }

// behaviour is what a fake plugin does for one call.
type behaviour func(ctx context.Context, inv domain.Invocation) ([]byte, error)

// pluginCall is one call a fake plugin received.
type pluginCall struct {
	ctx context.Context
	inv domain.Invocation
}

// fakePlugin is a Plugin whose actions do what the test sets (by action
// key; succeed with {"ok":true} by default) and which reports every call
// as it begins.
type fakePlugin struct {
	name    string
	man     *manifest.Plugin
	started chan pluginCall // the calls as they begin (the first 256 unread)

	mu    sync.Mutex
	do    map[string]behaviour
	calls []pluginCall
}

// The fake plugin's actions, one of each type, all with the same schemas.
const (
	actRead   = "kit.get"
	actCreate = "kit.make"
	actUpdate = "kit.change"
	actDelete = "kit.remove"
)

var kitActions = []struct{ key, typ string }{
	{"get", manifest.TypeRead}, {"make", manifest.TypeCreate},
	{"change", manifest.TypeUpdate}, {"remove", manifest.TypeDelete},
}

func newFakePlugin() *fakePlugin {
	m := &manifest.Plugin{Name: "kit", Title: "Kit", Version: "1.0.0"}
	for _, a := range kitActions {
		m.Actions = append(m.Actions, manifest.Action{
			Key: a.key, Title: a.key, Type: a.typ,
			InputSchema: json.RawMessage(`{"type":"object","additionalProperties":false,"properties":{
				"s":{"type":"string"},"n":{"type":"integer"}}}`),
			OutputSchema: json.RawMessage(`{"type":"object"}`),
		})
	}
	return &fakePlugin{name: "kit", man: m, started: make(chan pluginCall, 256), do: map[string]behaviour{}}
}

func (p *fakePlugin) Name() string               { return p.name }
func (p *fakePlugin) Manifest() *manifest.Plugin { return p.man }
func (p *fakePlugin) Info() domain.PluginInfo {
	return domain.PluginInfo{Name: p.name, Status: "running"}
}
func (p *fakePlugin) set(key string, b behaviour) { p.mu.Lock(); p.do[key] = b; p.mu.Unlock() }

// setAll gives every action the same behaviour.
func (p *fakePlugin) setAll(b behaviour) {
	for _, a := range kitActions {
		p.set(a.key, b)
	}
}

func (p *fakePlugin) Run(ctx context.Context, inv domain.Invocation) ([]byte, error) {
	c := pluginCall{ctx: ctx, inv: inv}
	p.mu.Lock()
	p.calls = append(p.calls, c)
	b := p.do[inv.Action]
	p.mu.Unlock()
	select {
	case p.started <- c:
	default: // more calls than a test reads: they are counted in calls
	}
	if b == nil {
		return []byte(`{"ok":true}`), nil
	}
	return b(ctx, inv)
}

// callCount is how many calls the plugin received.
func (p *fakePlugin) callCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.calls)
}

// nextCall waits for the next call to begin.
func (p *fakePlugin) nextCall(t *testing.T) pluginCall {
	t.Helper()
	select {
	case c := <-p.started:
		return c
	case <-time.After(waitFor):
		t.Fatal("the plugin was not called")
		return pluginCall{}
	}
}

// succeed answers out.
func succeed(out string) behaviour {
	return func(context.Context, domain.Invocation) ([]byte, error) { return []byte(out), nil }
}

// fail answers err.
func fail(err error) behaviour {
	return func(context.Context, domain.Invocation) ([]byte, error) { return nil, err }
}

// block waits for release (then succeeds) or for the run's ctx to end
// (then answers cancelled, as the supervisor does).
func block(release <-chan struct{}) behaviour {
	return func(ctx context.Context, _ domain.Invocation) ([]byte, error) {
		select {
		case <-release:
			return []byte(`{"ok":true}`), nil
		case <-ctx.Done():
			return nil, domain.WrapError(ctx.Err(), domain.CodeCancelled, "run cancelled")
		}
	}
}

// ---- RunStore ----

// fakeRuns is a RunStore in memory. Like the real store it refuses to
// rewrite a finished run (domain.CheckTransition), and it keeps every
// PutRun it was given, refused or not, so a test can see what the core
// tried to write.
type fakeRuns struct {
	mu   sync.Mutex
	runs map[string]*domain.Run
	puts []*domain.Run
	// failPut, when set, may refuse a PutRun (before anything is kept).
	failPut func(r *domain.Run) error
}

func newFakeRuns() *fakeRuns { return &fakeRuns{runs: map[string]*domain.Run{}} }

func cloneRun(r *domain.Run) *domain.Run {
	c := *r
	c.Events = slices.Clone(r.Events)
	c.Input, c.Output, c.Extra = slices.Clone(r.Input), slices.Clone(r.Output), slices.Clone(r.Extra)
	if r.Error != nil {
		e := *r.Error
		c.Error = &e
	}
	return &c
}

func (s *fakeRuns) PutRun(ctx context.Context, r *domain.Run) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.puts = append(s.puts, cloneRun(r))
	if s.failPut != nil {
		if err := s.failPut(r); err != nil {
			return err
		}
	}
	if old := s.runs[r.ID]; old != nil {
		if err := domain.CheckTransition(old.Status, r.Status); err != nil {
			return fmt.Errorf("putting run %s: %w", r.ID, err)
		}
	}
	s.runs[r.ID] = cloneRun(r)
	return nil
}

func (s *fakeRuns) GetRun(ctx context.Context, id string) (*domain.Run, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.runs[id]
	if r == nil {
		return nil, fmt.Errorf("run %s: %w", id, domain.ErrNotFound)
	}
	return cloneRun(r), nil
}

func (s *fakeRuns) ListRuns(ctx context.Context, f domain.RunFilter, p domain.Page) ([]*domain.Run, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*domain.Run
	for _, r := range s.runs {
		if (f.Status == "" || r.Status == f.Status) && (f.ActionID == "" || r.ActionID == f.ActionID) {
			out = append(out, cloneRun(r))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, false, nil
}

// stored is the kept record of id, or nil.
func (s *fakeRuns) stored(id string) *domain.Run {
	r, err := s.GetRun(context.Background(), id)
	if err != nil {
		return nil
	}
	return r
}

// putsOf is every PutRun the store was given for id, in order.
func (s *fakeRuns) putsOf(id string) []*domain.Run {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*domain.Run
	for _, r := range s.puts {
		if r.ID == id {
			out = append(out, r)
		}
	}
	return out
}

// ids is the set of run ids the store was ever given.
func (s *fakeRuns) ids() map[string]bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := map[string]bool{}
	for _, r := range s.puts {
		ids[r.ID] = true
	}
	return ids
}

// ---- IdempotencyStore ----

// fakeIdem is an IdempotencyStore in memory with the real store's
// semantics (host/store/idempotency.go), without expiry.
type fakeIdem struct {
	mu   sync.Mutex
	recs map[string]domain.IdempotencyRecord
}

func newFakeIdem() *fakeIdem { return &fakeIdem{recs: map[string]domain.IdempotencyRecord{}} }

func (s *fakeIdem) BeginIdempotent(ctx context.Context, rec *domain.IdempotencyRecord) (*domain.IdempotencyRecord, error) {
	if rec.Key == "" {
		return nil, domain.Invalidf("idempotency key must not be empty")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.recs[rec.Key]; ok {
		return &old, nil
	}
	c := *rec
	c.RunID, c.Status, c.Response = "", 0, nil
	c.BodyDigest = slices.Clone(rec.BodyDigest)
	s.recs[rec.Key] = c
	return nil, nil
}

func (s *fakeIdem) FinishIdempotent(ctx context.Context, key, runID string) error {
	if runID == "" {
		return domain.Invalidf("run id must not be empty")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.recs[key]
	if !ok {
		return fmt.Errorf("finishing idempotent request: %w", domain.ErrNotFound)
	}
	rec.RunID = runID
	s.recs[key] = rec
	return nil
}

func (s *fakeIdem) AbandonIdempotent(ctx context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.recs[key]
	if !ok {
		return nil
	}
	if rec.RunID != "" || rec.Status != 0 {
		return fmt.Errorf("request already made a run: %w", domain.ErrConflict)
	}
	delete(s.recs, key)
	return nil
}

// held reports whether the scoped key (caller key id + "\x00" + key) is
// claimed.
func (s *fakeIdem) held(keyID, key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.recs[keyID+"\x00"+key]
	return ok
}

// ---- PromptFiller ----

// fakeFiller fills every prompt with the same values and counts its calls.
type fakeFiller struct {
	mu      sync.Mutex
	values  map[string]json.RawMessage
	calls   int
	prompts []string
}

func (f *fakeFiller) FillInput(ctx context.Context, a *core.Action, prompt string) (map[string]json.RawMessage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.prompts = append(f.prompts, prompt)
	return f.values, nil
}

func (f *fakeFiller) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// ---- the runner over the fakes ----

type harness struct {
	r      *core.Runner
	plugin *fakePlugin
	runs   *fakeRuns
	idem   *fakeIdem
}

// newHarness makes a Runner over fresh fakes; queue and workers as
// Options take them (0: the Runner's minimum). When the test ends the
// runner is shut down, cancelling whatever still runs.
func newHarness(t *testing.T, queueSize, workers int) *harness {
	t.Helper()
	h := &harness{plugin: newFakePlugin(), runs: newFakeRuns(), idem: newFakeIdem()}
	h.r = core.NewRunner(core.Options{
		Executor: &fakeExec{plugins: []core.Plugin{h.plugin}}, Runs: h.runs, Idempotency: h.idem,
		QueueSize: queueSize, Workers: workers,
	})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		defer cancel()
		_ = h.r.Shutdown(ctx)
	})
	return h
}

// caller is the key the tests call as unless they say otherwise.
var caller = domain.Caller{KeyID: "key-1", KeyName: "tester"}

// call is a blocking call of action with args, as the HTTP door makes it.
func call(action, args string) core.Call {
	return core.Call{Action: action, Args: json.RawMessage(args), Caller: caller, Source: "http"}
}

// background is call answered at once, a worker running it.
func background(action, args string) core.Call {
	c := call(action, args)
	f := false
	c.Mode.Blocking = &f
	return c
}

// stream is call answered as soon as the run starts.
func stream(action, args string) core.Call {
	c := call(action, args)
	tr := true
	c.Mode.Stream = &tr
	return c
}

// withKey is c with an idempotency key.
func withKey(c core.Call, key string) core.Call {
	c.IdempotencyKey = key
	return c
}

// submit submits c and fails the test on an error.
func (h *harness) submit(t *testing.T, c core.Call) core.Result {
	t.Helper()
	res, err := h.r.Submit(context.Background(), c)
	if err != nil {
		t.Fatalf("Submit(%s %s): %v", c.Action, c.Args, err)
	}
	return res
}

// runningAndQueued makes two background runs of the kit action key (its
// plugin blocked until release or the run's end): the first runs on the
// one worker, the second waits in the queue behind it.
func (h *harness) runningAndQueued(t *testing.T, key string, release <-chan struct{}) (running, queued core.Result) {
	t.Helper()
	h.plugin.set(key, block(release))
	running = h.submit(t, background("kit."+key, `{"s":"running"}`))
	h.plugin.nextCall(t)
	queued = h.submit(t, background("kit."+key, `{"s":"queued"}`))
	if queued.Run.Status != domain.StatusQueued {
		t.Fatalf("second run = %s, want queued", queued.Run.Status)
	}
	return running, queued
}

// wait waits for run id to end and returns its record.
func (h *harness) wait(t *testing.T, id string) *domain.Run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	run, err := h.r.Wait(ctx, id)
	if err != nil {
		t.Fatalf("Wait(%s): %v", id, err)
	}
	return run
}

// waitGone waits until run id is no longer live on the runner.
func (h *harness) waitGone(t *testing.T, id string) {
	t.Helper()
	for deadline := time.Now().Add(waitFor); h.r.Live(id); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("run %s is still live", id)
		}
	}
}

// wantCode fails the test unless err is a *domain.Error with code (and,
// when given, a message containing msg).
func wantCode(t *testing.T, err error, code, msg string) {
	t.Helper()
	var e *domain.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want code %s", err, err, code)
	}
	if e.Code != code || !strings.Contains(e.Message, msg) {
		t.Fatalf("error = %s %q, want %s %q", e.Code, e.Message, code, msg)
	}
}

// wantUnchangedAfterEnd fails the test if any PutRun of id after its first
// terminal one has another status or another error or output.
func wantUnchangedAfterEnd(t *testing.T, runs *fakeRuns, id string) {
	t.Helper()
	var end *domain.Run
	for i, r := range runs.putsOf(id) {
		switch {
		case end == nil && domain.IsTerminal(r.Status):
			end = r
		case end != nil && (r.Status != end.Status || !equalRunError(r.Error, end.Error) || string(r.Output) != string(end.Output)):
			t.Errorf("PutRun #%d of %s after it ended %s: %s %+v, output %s", i+1, id, end.Status, r.Status, r.Error, r.Output)
		}
	}
	if end == nil {
		t.Fatalf("run %s was never stored finished", id)
	}
	if s := runs.stored(id); s == nil || s.Status != end.Status {
		t.Errorf("stored %s = %+v, want status %s", id, s, end.Status)
	}
}

func equalRunError(a, b *domain.RunError) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}
