package mcpclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolhost/toolhost/host/config"
	"github.com/toolhost/toolhost/host/domain"
	"github.com/toolhost/toolhost/internal/manifest"
	"github.com/toolhost/toolhost/internal/redact"
)

const (
	minBackoff  = 100 * time.Millisecond
	maxBackoff  = 30 * time.Second
	stableAfter = 30 * time.Second // a connection that lived this long resets the backoff
)

// Options say how servers are hosted.
type Options struct {
	Logger       hclog.Logger
	StartTimeout time.Duration // to start and list tools
	KillGrace    time.Duration // after a cancelled call, before the server is killed
	Getenv       func(string) string
	Version      string // toolhost's, in the client info
	// OnChange is called when a server's tools change (list_changed, a
	// restart that found other tools), so the catalog is rebuilt.
	OnChange func()
}

// Server is one hosted MCP server, as the core's Plugin.
type Server struct {
	spec      config.MCPServer
	opts      *Options
	log       hclog.Logger
	secrets   redact.Values
	sem       chan struct{}
	tokens    atomicCounter
	raw       rawResults
	rawWanted atomic.Int32 // /mcp/{server} calls in flight

	mu       sync.Mutex
	status   domain.PluginStatus
	reason   string
	cat      *catalog
	cur      *live
	ready    chan struct{} // closed when cur is set or the server gives up
	backoff  time.Duration
	restarts int
	stopping bool
}

func newServer(spec config.MCPServer, opts *Options) *Server {
	return &Server{
		spec: spec, opts: opts, secrets: secretValues(&spec, opts.Getenv),
		log: opts.Logger.Named("mcp_servers").With("plugin", spec.Name),
		sem: make(chan struct{}, max(spec.Concurrency, 1)), status: domain.PluginStarting,
		ready: make(chan struct{}), backoff: minBackoff,
	}
}

// Name is the server's name in plugins.hcl.
func (s *Server) Name() string { return s.spec.Name }

// Spec is the server's block.
func (s *Server) Spec() config.MCPServer { return s.spec }

// Manifest is the server's tools as a manifest; nil before they were listed.
func (s *Server) Manifest() *manifest.Plugin {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cat == nil {
		return nil
	}
	return s.cat.manifest
}

// Info is the server's state now. Path is its command or URL.
func (s *Server) Info() domain.PluginInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := domain.PluginInfo{Name: s.spec.Name, Path: s.scrub(s.where()), Status: s.status, Reason: s.reason, Restarts: s.restarts,
		Transport: s.spec.Transport()}
	if s.cur != nil {
		in.PID = s.cur.getPID()
	}
	return in
}

// where is the command line or the URL.
func (s *Server) where() string {
	if s.spec.URL != "" {
		return s.spec.URL
	}
	return strings.Join(s.spec.Command, " ")
}

func (s *Server) scrub(text string) string { return s.secrets.Scrub(text) }

// load brings the server up for the first time. A lazy command is started
// to list its tools, then stopped until its first call.
func (s *Server) load(ctx context.Context) {
	l, err := s.start(ctx)
	if err != nil {
		s.fail(err)
		return
	}
	if s.spec.Lazy && s.spec.URL == "" {
		s.mu.Lock()
		s.status = domain.PluginIdle
		s.mu.Unlock()
		l.stopped.Store(true)
		s.close(l)
		return
	}
	s.use(l)
}

// start connects (running the command) and lists the tools.
func (s *Server) start(ctx context.Context) (*live, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.StartTimeout)
	defer cancel()
	stderr := &lineLog{log: s.log.Named("stderr"), scrub: s.scrub}
	l := newLive(min(s.opts.KillGrace, 2*time.Second), stderr)
	client := s.client(l)
	var t mcp.Transport
	if s.spec.URL != "" {
		t = &httpTransport{l: l, inner: &mcp.StreamableClientTransport{Endpoint: s.spec.URL, MaxRetries: 1,
			HTTPClient: &http.Client{Transport: headerTransport{base: http.DefaultTransport, headers: s.spec.Headers}}}}
	} else {
		argv := append([]string(nil), s.spec.Command...)
		// The program is looked up in the host's PATH; its own PATH (for
		// what it runs) is whatever env gives it.
		prog, err := exec.LookPath(argv[0])
		if err != nil {
			return nil, fmt.Errorf("command %q not found: %v", argv[0], err)
		}
		argv[0] = prog
		cmd, err := command(argv, environ(&s.spec, s.opts.Getenv))
		if err != nil {
			return nil, err
		}
		cmd.Stderr = stderr
		cmd.WaitDelay = time.Second
		t = &stdioTransport{cmd: cmd, l: l}
	}
	cs, err := client.Connect(ctx, t, nil)
	if err != nil {
		l.kill()
		return nil, s.startError(ctx, l, err)
	}
	l.session = cs
	cat, err := s.listTools(ctx, cs)
	if err != nil {
		l.stopped.Store(true)
		l.kill()
		s.close(l)
		return nil, s.startError(ctx, l, fmt.Errorf("tools/list: %w", err))
	}
	if caps := cs.InitializeResult().Capabilities; caps != nil && caps.Logging != nil {
		//lint:ignore SA1019 logging is how servers report progress in words
		if err := cs.SetLoggingLevel(ctx, &mcp.SetLoggingLevelParams{Level: "debug"}); err != nil {
			s.log.Debug("logging/setLevel failed", "error", s.scrub(err.Error()))
		}
	}
	for _, sk := range cat.skipped {
		s.log.Warn("tool left out of the catalog", "tool", s.scrub(sk))
	}
	s.mu.Lock()
	changed := s.cat != nil && !sameTools(s.cat, cat)
	s.cat = cat
	s.mu.Unlock()
	if changed && s.opts.OnChange != nil {
		s.opts.OnChange()
	}
	go s.watch(l)
	return l, nil
}

// startError explains why the server did not start: the time ran out
// (it never answered initialize), it wrote something that is not JSON-RPC
// to stdout, or it exited, with the last lines of its stderr.
func (s *Server) startError(ctx context.Context, l *live, err error) error {
	msg := err.Error()
	switch {
	case ctx.Err() != nil:
		msg = fmt.Sprintf("it did not answer initialize within %s", s.opts.StartTimeout)
	case strings.Contains(msg, "invalid character") || strings.Contains(msg, "invalid trailing data") || strings.Contains(msg, "cannot unmarshal"):
		msg = "it wrote something that is not JSON-RPC to stdout (stdout is the protocol; logs belong on stderr): " + msg
	}
	if l != nil && s.spec.URL == "" {
		// Let the last stderr lines arrive.
		select {
		case <-l.exited:
		case <-time.After(100 * time.Millisecond):
		}
		if tail := l.stderr.tail(); tail != "" {
			msg += "; stderr: " + tail
		}
	}
	return errors.New(s.scrub(msg))
}

func (s *Server) client(l *live) *mcp.Client {
	return mcp.NewClient(&mcp.Implementation{Name: "toolhost", Version: s.opts.Version}, &mcp.ClientOptions{
		Capabilities: &mcp.ClientCapabilities{},
		ProgressNotificationHandler: func(_ context.Context, r *mcp.ProgressNotificationClientRequest) {
			defer l.notes.handled()
			s.progress(l, r.Params)
		},
		LoggingMessageHandler: func(_ context.Context, r *mcp.LoggingMessageRequest) {
			defer l.notes.handled()
			s.logMessage(l, r.Params)
		},
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) {
			go s.refresh(l)
		},
	})
}

func (s *Server) listTools(ctx context.Context, cs *mcp.ClientSession) (*catalog, error) {
	var tools []*mcp.Tool
	for t, err := range cs.Tools(ctx, nil) {
		if err != nil {
			return nil, err
		}
		tools = append(tools, t)
	}
	init := cs.InitializeResult()
	cat := buildCatalog(s.spec.Name, init.ServerInfo, tools)
	cat.init = init
	return cat, nil
}

// refresh lists the tools again after list_changed.
func (s *Server) refresh(l *live) {
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.StartTimeout)
	defer cancel()
	cat, err := s.listTools(ctx, l.session)
	if err != nil {
		s.log.Warn("could not list tools after tools/list_changed", "error", s.scrub(err.Error()))
		return
	}
	s.mu.Lock()
	s.cat = cat
	s.mu.Unlock()
	s.log.Info("tools changed", "tools", len(cat.tools))
	if s.opts.OnChange != nil {
		s.opts.OnChange()
	}
}

func sameTools(a, b *catalog) bool {
	if len(a.manifest.Actions) != len(b.manifest.Actions) {
		return false
	}
	for i := range a.manifest.Actions {
		x, y := a.manifest.Actions[i], b.manifest.Actions[i]
		if x.Key != y.Key || x.Type != y.Type || x.Title != y.Title || x.Description != y.Description ||
			string(x.InputSchema) != string(y.InputSchema) || string(x.OutputSchema) != string(y.OutputSchema) {
			return false
		}
	}
	return true
}

// use makes l the current connection.
func (s *Server) use(l *live) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		l.stopped.Store(true)
		go s.close(l)
		return
	}
	s.cur, s.status, s.reason = l, domain.PluginReady, ""
	select {
	case <-s.ready:
	default:
		close(s.ready)
	}
}

func (s *Server) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.reason = domain.PluginFailed, s.scrub(fmt.Sprintf("MCP server %q failed to start: %v", s.spec.Name, err))
	s.log.Error("MCP server failed to start", "error", s.scrub(err.Error()))
	select {
	case <-s.ready:
	default:
		close(s.ready)
	}
}

// watch waits for the session to end, makes sure nothing of the process
// group is left, and restarts the server unless the host ended it.
func (s *Server) watch(l *live) {
	s.waitEnded(l)
	close(l.ended)
	l.kill() // for a remote server, this closes the session in the background
	if s.spec.URL == "" {
		_ = l.session.Close()
	}
	close(l.exited)
	if l.stopped.Load() {
		return
	}
	s.mu.Lock()
	if s.stopping || s.cur != l {
		s.mu.Unlock()
		return
	}
	s.cur, s.status = nil, domain.PluginRestarting
	s.ready = make(chan struct{})
	if time.Since(l.started) > stableAfter {
		s.backoff = minBackoff
	}
	wait := s.backoff
	s.backoff = min(s.backoff*2, maxBackoff)
	s.restarts++
	s.mu.Unlock()
	s.log.Warn("MCP server exited; restarting", "pid", l.getPID(), "backoff", wait, "said", l.stderr.tail())
	s.restartAfter(wait)
}

// waitEnded waits for the session to end. A remote session the host
// dropped counts as ended at once: closing it may wait for the server to
// finish the very call it ignored the cancellation of.
func (s *Server) waitEnded(l *live) {
	if s.spec.URL == "" {
		_ = l.session.Wait()
		return
	}
	done := make(chan struct{})
	go func() { _ = l.session.Wait(); close(done) }()
	select {
	case <-done:
	case <-l.life.Done():
	}
}

func (s *Server) restartAfter(wait time.Duration) {
	for {
		time.Sleep(wait)
		s.mu.Lock()
		stopping := s.stopping
		s.mu.Unlock()
		if stopping {
			return
		}
		l, err := s.start(context.Background())
		if err == nil {
			s.use(l)
			s.log.Info("MCP server restarted")
			return
		}
		s.mu.Lock()
		wait = s.backoff
		s.backoff = min(s.backoff*2, maxBackoff)
		s.reason = fmt.Sprintf("MCP server %q is restarting: %v", s.spec.Name, err)
		s.mu.Unlock()
		s.log.Error("MCP server restart failed", "error", err.Error(), "next_attempt_in", wait)
	}
}

// startLazy starts an idle server on its first call.
func (s *Server) startLazy() {
	l, err := s.start(context.Background())
	if err != nil {
		s.fail(err)
		return
	}
	s.use(l)
}

// close ends a connection: stdin is closed (the server may exit on its
// own), then the process group is killed.
func (s *Server) close(l *live) {
	if l.session != nil {
		_ = l.session.Close()
	}
	l.kill()
}

// stop lets calls in flight finish (until ctx ends) and ends the server.
func (s *Server) stop(ctx context.Context) {
	s.mu.Lock()
	s.stopping = true
	s.status = domain.PluginStopped
	l := s.cur
	s.mu.Unlock()
	if l == nil {
		return
	}
	l.stopped.Store(true)
	drained := make(chan struct{})
	go func() { l.calls.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-ctx.Done():
		s.log.Warn("stopping MCP server with calls still in flight")
	}
	s.close(l)
	select {
	case <-l.exited:
	case <-time.After(s.opts.KillGrace + time.Second):
	}
}

// Tools maps each action key to the name of the tool behind it.
func (s *Server) Tools() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	if s.cat != nil {
		for k, v := range s.cat.tools {
			out[k] = v
		}
	}
	return out
}
