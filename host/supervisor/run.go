package supervisor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/toolhost/toolhost/host/domain"
	"github.com/toolhost/toolhost/internal/pluginrpc"
	"github.com/toolhost/toolhost/internal/pluginrpc/pb"
)

// Event is a log line or a progress report from a running action.
type Event = domain.PluginEvent

// Call is one action to run.
type Call = domain.Invocation

// Run runs an action and returns its JSON output. Failures are *domain.Error
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
	return AcquireSlot(ctx, p.sem, deadline, timeout, "plugin "+strconv.Quote(p.spec.Name))
}

// AcquireSlot takes a slot of sem (a concurrency limit) for a call that
// must start by deadline: cancelled when ctx ends first, action_timeout
// (naming what, such as `plugin "gmail"`) when the deadline passes.
func AcquireSlot(ctx context.Context, sem chan struct{}, deadline time.Time, timeout time.Duration, what string) error {
	select {
	case sem <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		// A caller's deadline that passed is a timeout too, whichever of
		// the two fired first.
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return slotTimeout(timeout, what, sem)
		}
		return domain.WrapError(ctx.Err(), domain.CodeCancelled, "run cancelled while waiting for a free slot on %s", what)
	case <-t.C:
		return slotTimeout(timeout, what, sem)
	}
}

func slotTimeout(timeout time.Duration, what string, sem chan struct{}) error {
	return domain.Errorf(domain.CodeActionTimeout, "action timed out after %s waiting for a free slot on %s (concurrency %d)", timeout, what, cap(sem))
}

// instance returns a live instance with a call registered on it, starting a
// lazy plugin or waiting for a restart as needed, until the deadline.
func (p *Plugin) instance(ctx context.Context, deadline time.Time) (*instance, error) {
	for {
		p.mu.Lock()
		if p.status == StatusMisconfigured {
			msg := p.reason
			p.mu.Unlock()
			return nil, domain.Errorf(domain.CodeMisconfigured, "%s", msg)
		}
		if p.stopping {
			p.mu.Unlock()
			return nil, domain.Errorf(domain.CodePluginUnavailable, "plugin %q is stopping", p.spec.Name)
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
				return nil, domain.WrapError(err, domain.CodeCancelled, "run cancelled while plugin %q was restarting", p.spec.Name)
			}
			continue
		}
		if p.status == StatusFailed {
			msg := p.reason
			p.mu.Unlock()
			return nil, domain.Errorf(domain.CodePluginUnavailable, "%s", msg)
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
		return domain.WrapError(ctx.Err(), domain.CodeCancelled, "run cancelled while plugin %q was starting", name)
	case <-t.C:
		return domain.Errorf(domain.CodePluginUnavailable, "plugin %q is not running (restarting); try again shortly", name)
	}
}

func (p *Plugin) call(ctx context.Context, inst *instance, c Call, deadline time.Time, timeout time.Duration) ([]byte, error) {
	sctx, cancel := context.WithDeadline(ctx, deadline.Add(p.opts.KillGrace))
	defer cancel()
	sctx = withTraceContext(sctx)
	req := &pb.RunRequest{RunId: c.RunID, Action: c.Action, InputJson: c.Input, DeadlineUnixNano: deadline.UnixNano()}
	if inst.version >= pluginrpc.ProtocolVersion {
		// c.Input is checked input (the core checked it against the
		// action's schema); the plugin has its configuration.
		req.InputChecked = true
	} else {
		req.ConfigJson = p.conf.Load().json
	}
	stream, err := inst.rpc.Run(sctx, req)
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
			return p.result(e.Result, inst.version, deadline, timeout)
		}
	}
}

func emit(fn func(Event), e Event) {
	if fn != nil {
		fn(e)
	}
}

// result maps the plugin's result to output or a fault.
func (p *Plugin) result(r *pb.RunResult, version int, deadline time.Time, timeout time.Duration) ([]byte, error) {
	if r.Error == nil {
		if !json.Valid(r.OutputJson) {
			return nil, domain.Errorf(domain.CodeOutputInvalid, "plugin %q returned output that is not JSON", p.spec.Name)
		}
		return p.secrets.scrubJSON(r.OutputJson), nil
	}
	if !time.Now().Before(deadline) {
		return nil, domain.Errorf(domain.CodeActionTimeout, "action timed out after %s", timeout)
	}
	return nil, runError(r.Error, version, p.secrets.scrub)
}

// wireCodes maps the protocol's error codes to the domain's. Codes missing
// here (ERROR_CODE_UNSPECIFIED, a code from a newer plugin) are
// action_failed.
var wireCodes = map[pb.ErrorCode]string{
	pb.ErrorCode_ERROR_CODE_INVALID_INPUT:  domain.CodeInvalidInput,
	pb.ErrorCode_ERROR_CODE_ACTION_FAILED:  domain.CodeActionFailed,
	pb.ErrorCode_ERROR_CODE_PANIC:          domain.CodeActionFailed,
	pb.ErrorCode_ERROR_CODE_OUTPUT_INVALID: domain.CodeOutputInvalid,
	pb.ErrorCode_ERROR_CODE_UNKNOWN_ACTION: domain.CodeActionFailed,
	pb.ErrorCode_ERROR_CODE_MISCONFIGURED:  domain.CodeMisconfigured,
}

// v1Codes maps the string codes of protocol v1 plugins (built with an
// sdk before protocol v2) to the domain's; other strings are
// action_failed.
var v1Codes = map[string]string{
	"invalid_input":  domain.CodeInvalidInput,
	"output_invalid": domain.CodeOutputInvalid,
	"misconfigured":  domain.CodeMisconfigured,
}

// runError is the fault for a plugin's run error, its message scrubbed.
// For invalid input that names a field, the fault names it too.
func runError(e *pb.RunError, version int, scrub func(string) string) *domain.Error {
	code, ok := wireCodes[e.Kind]
	if version < pluginrpc.ProtocolVersion {
		code, ok = v1Codes[e.Code]
	}
	if !ok {
		code = domain.CodeActionFailed
	}
	msg := scrub(e.Message)
	if strings.TrimSpace(msg) == "" {
		msg = "the plugin reported a failure without a message"
	}
	f := domain.Errorf(code, "%s", msg)
	if code == domain.CodeInvalidInput && e.Field != "" {
		f.Fields = []domain.FieldError{{Field: e.Field, Message: strings.TrimPrefix(msg, e.Field+": ")}}
	}
	return f
}

// streamError explains a transport failure: the caller cancelled, the plugin
// ignored its deadline (it is then killed and restarted), the process died,
// or a message was too large.
func (p *Plugin) streamError(ctx context.Context, inst *instance, err error, timeout time.Duration) error {
	if ctx.Err() != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return domain.WrapError(err, domain.CodeActionTimeout, "action timed out after %s", timeout)
		}
		return domain.WrapError(err, domain.CodeCancelled, "run cancelled")
	}
	code := status.Code(err)
	if code == codes.DeadlineExceeded {
		p.log.Warn("plugin ignored cancellation past the grace period; killing it", "grace", p.opts.KillGrace)
		inst.kill()
		return domain.WrapError(err, domain.CodeActionTimeout, "action timed out after %s; plugin %q did not stop within %s of the deadline and was restarted", timeout, p.spec.Name, p.opts.KillGrace)
	}
	if code == codes.ResourceExhausted {
		return domain.WrapError(err, domain.CodeActionFailed, "%v", pluginrpc.Explain(err))
	}
	select {
	case <-inst.exited:
	case <-time.After(200 * time.Millisecond):
	}
	if inst.isExited() {
		return domain.WrapError(err, domain.CodePluginUnavailable, "plugin %q exited during the run; it is being restarted", p.spec.Name)
	}
	return domain.WrapError(err, domain.CodePluginUnavailable, "plugin %q is unreachable: %v", p.spec.Name, fmt.Sprint(pluginrpc.Explain(err)))
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
