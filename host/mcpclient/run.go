package mcpclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolhost/toolhost/host/domain"
	"github.com/toolhost/toolhost/host/supervisor"
)

// notesSettle is how long an answered call waits for the notifications
// read before its answer to be handled.
const notesSettle = time.Second

type atomicCounter struct{ n atomic.Uint64 }

func (c *atomicCounter) next() uint64 { return c.n.Add(1) }

// Run calls the action's tool and returns its output. Failures are
// *domain.Error: plugin_unavailable, action_timeout, cancelled,
// invalid_input (the server rejected the arguments) or action_failed.
func (s *Server) Run(ctx context.Context, inv domain.Invocation) ([]byte, error) {
	timeout := s.spec.Timeout
	deadline := time.Now().Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := s.acquire(ctx, deadline, timeout); err != nil {
		return nil, err
	}
	release := func() { <-s.sem }
	l, tool, err := s.connection(ctx, deadline, inv.Action)
	if err != nil {
		release()
		return nil, err
	}
	done := func() { l.calls.Done(); release() }
	out, err, after := s.call(ctx, l, tool, inv, deadline, timeout)
	if after == nil {
		done()
	} else {
		go func() { after(); done() }()
	}
	return out, err
}

func (s *Server) acquire(ctx context.Context, deadline time.Time, timeout time.Duration) error {
	return supervisor.AcquireSlot(ctx, s.sem, deadline, timeout, "MCP server "+strconv.Quote(s.spec.Name))
}

// connection returns a live connection with a call registered on it and
// the action's tool name (none for action ""), starting an idle server or
// waiting for a restart until the deadline.
func (s *Server) connection(ctx context.Context, deadline time.Time, action string) (*live, string, error) {
	for {
		s.mu.Lock()
		if s.stopping {
			s.mu.Unlock()
			return nil, "", domain.Errorf(domain.CodePluginUnavailable, "MCP server %q is stopping", s.spec.Name)
		}
		if l := s.cur; l != nil && !l.isEnded() && action == "" {
			l.calls.Add(1)
			s.mu.Unlock()
			return l, "", nil
		}
		if l := s.cur; l != nil && !l.isEnded() {
			tool, ok := s.cat.tools[action]
			if !ok {
				s.mu.Unlock()
				return nil, "", domain.Errorf(domain.CodeActionFailed, "MCP server %q has no tool for action %q (its tools changed)", s.spec.Name, action)
			}
			l.calls.Add(1)
			s.mu.Unlock()
			return l, tool, nil
		}
		switch s.status {
		case domain.PluginFailed:
			msg := s.reason
			s.mu.Unlock()
			return nil, "", domain.Errorf(domain.CodePluginUnavailable, "%s", msg)
		case domain.PluginIdle:
			s.status = domain.PluginStarting
			go s.startLazy()
		}
		ready := s.ready
		s.mu.Unlock()
		if err := s.waitReady(ctx, ready, deadline); err != nil {
			return nil, "", err
		}
	}
}

func (s *Server) waitReady(ctx context.Context, ready chan struct{}, deadline time.Time) error {
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-ready:
		return nil
	case <-ctx.Done():
		return domain.WrapError(ctx.Err(), domain.CodeCancelled, "run cancelled while MCP server %q was starting", s.spec.Name)
	case <-t.C:
		return domain.Errorf(domain.CodePluginUnavailable, "MCP server %q is not running (restarting); try again shortly", s.spec.Name)
	}
}

// call calls the tool. When the call was cancelled (timeout or cancel),
// after is what remains to do with the slot held: wait up to the kill
// grace for the server to answer, and kill it when it does not.
func (s *Server) call(ctx context.Context, l *live, tool string, inv domain.Invocation, deadline time.Time, timeout time.Duration) (out []byte, err error, after func()) {
	token := fmt.Sprintf("%s#%d", inv.RunID, s.tokens.next())
	p := l.begin(token, inv.OnEvent)
	cctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	params := &mcp.CallToolParams{Name: tool, Arguments: json.RawMessage(inv.Input)}
	if len(inv.Input) == 0 {
		params.Arguments = map[string]any{}
	}
	// Logs at every level: the run keeps them (per request since protocol
	// 2026-07-28; older servers took logging/setLevel at start).
	params.SetMeta(map[string]any{mcp.MetaKeyLogLevel: "debug"})
	params.SetProgressToken(token)
	res, cerr := l.session.CallTool(cctx, params)
	if cctx.Err() == nil {
		// The notifications the server sent before its answer are the
		// run's events: let them be handled first.
		l.notes.settle(notesSettle)
	}
	if cerr == nil {
		l.end(p)
		s.keepRaw(inv.RunID, res)
		out, err = output(res, s.scrub)
		return out, err, nil
	}
	if cctx.Err() == nil {
		l.end(p)
		return nil, s.callError(l, cerr), nil
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		err = domain.WrapError(ctx.Err(), domain.CodeCancelled, "run cancelled")
	} else {
		err = domain.Errorf(domain.CodeActionTimeout, "action timed out after %s", timeout)
	}
	return nil, err, func() { s.awaitCancelled(l, p) }
}

// awaitCancelled gives a cancelled call the kill grace to end. A stdio
// server that has not answered it by then is killed (and restarted); for
// a remote server, the session is dropped and a new one connected.
func (s *Server) awaitCancelled(l *live, p *pending) {
	defer l.end(p)
	t := time.NewTimer(s.opts.KillGrace)
	defer t.Stop()
	select {
	case <-p.answer:
	case <-l.exited:
	case <-t.C:
		if s.spec.URL != "" {
			s.log.Warn("remote MCP server did not end a cancelled call within the grace period; dropping the session and reconnecting", "grace", s.opts.KillGrace)
		} else {
			s.log.Warn("MCP server did not end a cancelled call within the grace period; killing it", "grace", s.opts.KillGrace)
		}
		l.killed.Store(true)
		l.kill()
	}
}

// callError explains a failed call: the server rejected it (a JSON-RPC
// error), or the connection ended (the server exited or was killed).
func (s *Server) callError(l *live, err error) error {
	var werr *jsonrpc.Error
	if errors.As(err, &werr) {
		code := domain.CodeActionFailed
		if werr.Code == jsonrpc.CodeInvalidParams {
			code = domain.CodeInvalidInput
		}
		return domain.Errorf(code, "%s", s.scrub(werr.Message))
	}
	if s.spec.URL != "" && (errors.Is(err, mcp.ErrSessionMissing) || errors.Is(err, mcp.ErrConnectionClosed)) {
		// The remote server lost the session (it restarted): close it, so
		// the watcher connects again.
		s.log.Warn("remote MCP server lost the session; reconnecting", "error", s.scrub(err.Error()))
		l.kill()
	}
	// Give the watcher the moment it needs to see the session end, so the
	// next call waits for the restart instead of using this connection.
	select {
	case <-l.ended:
	case <-time.After(200 * time.Millisecond):
	}
	if errors.Is(err, mcp.ErrConnectionClosed) || l.isEnded() || isClosedErr(err) {
		return domain.WrapError(err, domain.CodePluginUnavailable, "MCP server %q exited during the run; it is being restarted", s.spec.Name)
	}
	return domain.WrapError(err, domain.CodePluginUnavailable, "MCP server %q is unreachable: %s", s.spec.Name, s.scrub(err.Error()))
}

func isClosedErr(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "closed") || strings.Contains(msg, "EOF")
}

// progress is a progress notification for a call: the run's progress
// event (a fraction when the server gave a total).
func (s *Server) progress(l *live, p *mcp.ProgressNotificationParams) {
	if p == nil {
		return
	}
	emit := l.eventsFor(fmt.Sprint(p.ProgressToken))
	if emit == nil {
		return
	}
	ev := domain.PluginEvent{Kind: "progress", Message: s.scrub(p.Message), Time: time.Now().UTC()}
	ev.Fields = s.progressFields(p)
	if p.Total > 0 {
		f := min(max(p.Progress/p.Total, 0), 1)
		ev.Fraction = &f
	}
	if ev.Message == "" {
		ev.Message = fmt.Sprintf("%g", p.Progress)
		if p.Total > 0 {
			ev.Message += fmt.Sprintf(" of %g", p.Total)
		}
	}
	emit(ev)
}

// logLevels maps MCP's syslog levels to the run's.
var logLevels = map[mcp.LoggingLevel]string{
	"debug": "debug", "info": "info", "notice": "info", "warning": "warn",
	"error": "error", "critical": "error", "alert": "error", "emergency": "error",
}

// logMessage is a log notification: logged under the server's name, and
// an event of the run when one call is in flight.
func (s *Server) logMessage(l *live, p *mcp.LoggingMessageParams) {
	if p == nil {
		return
	}
	ev := domain.PluginEvent{Kind: "log", Level: logLevels[p.Level], Time: time.Now().UTC()}
	if ev.Level == "" {
		ev.Level = "info"
	}
	if text, ok := p.Data.(string); ok {
		ev.Message = s.scrub(text)
	} else {
		ev.Message = p.Logger
	}
	ev.Fields = s.logFields(p)
	if p.Logger != "" && ev.Message != p.Logger {
		ev.Message = p.Logger + ": " + ev.Message
	}
	s.log.Debug("MCP server log", "level", ev.Level, "message", ev.Message)
	if emit := l.soleCall(); emit != nil {
		emit(ev)
	}
}
