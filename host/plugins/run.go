package plugins

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/toolhost/toolhost/host/fault"
	"github.com/toolhost/toolhost/internal/pluginrpc"
	"github.com/toolhost/toolhost/internal/pluginrpc/pb"
)

// Event is a log line or a progress report from a running action.
type Event struct {
	Kind     string          `json:"-"` // "log" or "progress"
	Level    string          `json:"level,omitempty"`
	Message  string          `json:"message"`
	Fields   json.RawMessage `json:"fields,omitempty"`
	Fraction *float64        `json:"fraction,omitempty"`
	Time     time.Time       `json:"time"`
}

// Call is one action to run.
type Call struct {
	RunID   string
	Action  string
	Input   []byte
	OnEvent func(Event) // may be nil; called from the caller's goroutine
}

// Run runs an action and returns its JSON output. Failures are *fault.Error
// with codes plugin_unavailable, plugin_misconfigured, action_timeout,
// cancelled, invalid_input, output_invalid or action_failed.
func (p *Plugin) Run(ctx context.Context, c Call) ([]byte, error) {
	timeout := p.Timeout(c.Action)
	deadline := time.Now().Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := p.acquire(ctx, deadline, timeout); err != nil {
		return nil, err
	}
	defer func() { <-p.sem }()
	inst, err := p.instance(ctx, deadline)
	if err != nil {
		return nil, err
	}
	defer inst.calls.Done()
	return p.call(ctx, inst, c, deadline, timeout)
}

func (p *Plugin) acquire(ctx context.Context, deadline time.Time, timeout time.Duration) error {
	select {
	case p.sem <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case p.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fault.Wrap(ctx.Err(), fault.Cancelled, "run cancelled while waiting for a free slot on plugin %q", p.spec.Name)
	case <-t.C:
		return fault.New(fault.ActionTimeout, "action timed out after %s waiting for a free slot on plugin %q (concurrency %d)", timeout, p.spec.Name, cap(p.sem))
	}
}

// instance returns a live instance with a call registered on it, starting a
// lazy plugin or waiting for a restart as needed, until the deadline.
func (p *Plugin) instance(ctx context.Context, deadline time.Time) (*instance, error) {
	for {
		p.mu.Lock()
		if p.status == StatusMisconfigured {
			msg := p.reason
			p.mu.Unlock()
			return nil, fault.New(fault.Misconfigured, "%s", msg)
		}
		if p.stopping {
			p.mu.Unlock()
			return nil, fault.New(fault.PluginUnavailable, "plugin %q is stopping", p.spec.Name)
		}
		if inst := p.cur; inst != nil {
			if !inst.isExited() {
				inst.calls.Add(1)
				p.mu.Unlock()
				return inst, nil
			}
			// The supervisor is about to notice the exit and restart.
			p.mu.Unlock()
			if err := sleepCtx(ctx, 10*time.Millisecond); err != nil {
				return nil, fault.Wrap(err, fault.Cancelled, "run cancelled while plugin %q was restarting", p.spec.Name)
			}
			continue
		}
		if p.status == StatusFailed {
			msg := p.reason
			p.mu.Unlock()
			return nil, fault.New(fault.PluginUnavailable, "%s", msg)
		}
		if p.status == StatusIdle {
			p.status = StatusStarting
			go p.startLazy()
		}
		ready := p.ready
		p.mu.Unlock()
		if err := waitReady(ctx, ready, deadline, p.spec.Name); err != nil {
			return nil, err
		}
	}
}

func waitReady(ctx context.Context, ready chan struct{}, deadline time.Time, name string) error {
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-ready:
		return nil
	case <-ctx.Done():
		return fault.Wrap(ctx.Err(), fault.Cancelled, "run cancelled while plugin %q was starting", name)
	case <-t.C:
		return fault.New(fault.PluginUnavailable, "plugin %q is not running (restarting); try again shortly", name)
	}
}

func (p *Plugin) call(ctx context.Context, inst *instance, c Call, deadline time.Time, timeout time.Duration) ([]byte, error) {
	sctx, cancel := context.WithDeadline(ctx, deadline.Add(p.opts.KillGrace))
	defer cancel()
	stream, err := inst.rpc.Run(sctx, &pb.RunRequest{
		RunId: c.RunID, Action: c.Action, InputJson: c.Input, ConfigJson: p.config,
		DeadlineUnixNano: deadline.UnixNano(),
	})
	if err != nil {
		return nil, p.streamError(ctx, inst, err, timeout)
	}
	for {
		ev, err := stream.Recv()
		if err != nil {
			return nil, p.streamError(ctx, inst, err, timeout)
		}
		switch e := ev.Event.(type) {
		case *pb.RunEvent_Log:
			emit(c.OnEvent, Event{Kind: "log", Level: e.Log.Level, Message: p.secrets.scrub(e.Log.Message),
				Fields: p.secrets.scrubBytes(e.Log.FieldsJson, json.Valid), Time: time.Unix(0, e.Log.TimeUnixNano).UTC()})
		case *pb.RunEvent_Progress:
			f := e.Progress.Fraction
			emit(c.OnEvent, Event{Kind: "progress", Message: p.secrets.scrub(e.Progress.Message), Fraction: &f, Time: time.Now().UTC()})
		case *pb.RunEvent_Result:
			// The result is the last event: read the stream's end (its
			// status, sent right behind the result) so the call finishes
			// cleanly. Leaving it unread would make the deferred cancel
			// reset the stream: one more frame, and a wake-up of the
			// plugin and of gRPC's goroutines on both sides, per run.
			_, _ = stream.Recv()
			return p.result(e.Result, deadline, timeout)
		}
	}
}

func emit(fn func(Event), e Event) {
	if fn != nil {
		fn(e)
	}
}

// result maps the plugin's result to output or a fault.
func (p *Plugin) result(r *pb.RunResult, deadline time.Time, timeout time.Duration) ([]byte, error) {
	if r.Error == nil {
		return p.secrets.scrubJSON(r.OutputJson), nil
	}
	if !time.Now().Before(deadline) {
		return nil, fault.New(fault.ActionTimeout, "action timed out after %s", timeout)
	}
	code := fault.ActionFailed
	switch r.Error.Code {
	case "invalid_input":
		code = fault.InvalidInput
	case "output_invalid":
		code = fault.OutputInvalid
	case "misconfigured":
		code = fault.Misconfigured
	}
	return nil, fault.New(code, "%s", p.secrets.scrub(r.Error.Message))
}

// streamError explains a transport failure: the caller cancelled, the plugin
// ignored its deadline (it is then killed and restarted), the process died,
// or a message was too large.
func (p *Plugin) streamError(ctx context.Context, inst *instance, err error, timeout time.Duration) error {
	if ctx.Err() != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fault.Wrap(err, fault.ActionTimeout, "action timed out after %s", timeout)
		}
		return fault.Wrap(err, fault.Cancelled, "run cancelled")
	}
	code := status.Code(err)
	if code == codes.DeadlineExceeded {
		p.log.Warn("plugin ignored cancellation past the grace period; killing it", "grace", p.opts.KillGrace)
		inst.kill()
		return fault.Wrap(err, fault.ActionTimeout, "action timed out after %s; plugin %q did not stop within %s of the deadline and was restarted", timeout, p.spec.Name, p.opts.KillGrace)
	}
	if code == codes.ResourceExhausted {
		return fault.Wrap(err, fault.ActionFailed, "%v", pluginrpc.Explain(err))
	}
	select {
	case <-inst.exited:
	case <-time.After(200 * time.Millisecond):
	}
	if inst.isExited() {
		return fault.Wrap(err, fault.PluginUnavailable, "plugin %q exited during the run; it is being restarted", p.spec.Name)
	}
	return fault.Wrap(err, fault.PluginUnavailable, "plugin %q is unreachable: %v", p.spec.Name, fmt.Sprint(pluginrpc.Explain(err)))
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
