package mcp

import (
	"context"
	"errors"
	"go.opentelemetry.io/otel/trace"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	gomcp "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolhost/toolhost/host/core"
	"github.com/toolhost/toolhost/host/domain"
)

// Config is what the MCP door needs besides its dependencies.
type Config struct {
	// Version is the server version MCP clients are told.
	Version string
	// AllowedOrigins are the browser origins that may call (plugins.hcl's
	// cors_origins); "*" allows any. A request without Origin (every
	// non-browser client) is allowed.
	AllowedOrigins []string
	// MaxBodyBytes caps a request's body (default 1 MiB): over it is 413.
	MaxBodyBytes int64
	// BodyTimeout is how long a request's body may take to arrive
	// (default 30s).
	BodyTimeout time.Duration
	// PollInterval is how often the catalog is read to notice plugins
	// restarted with a new manifest (default 2s); refreshes are noticed at
	// once.
	PollInterval time.Duration
}

// Deps are what the door serves: the core's runner and the authenticator
// it shares with the HTTP API.
type Deps struct {
	Runner *core.Runner
	Auth   *core.Authenticator
	Logger hclog.Logger
	// Observer, when set, hears of each MCP request handled (metrics).
	Observer Observer
	// Tracer, when set, makes a traceparent in a request's _meta the
	// parent of the runs it starts.
	Tracer trace.Tracer
	// Hosted, when set, are the hosted MCP servers, which /mcp/{server}
	// passes through (see passthrough.go).
	Hosted Hosted
}

// Observer hears of each MCP request: its method (one of the protocol's,
// or "other") and whether it ended in an error.
type Observer interface {
	MCPCall(method string, failed bool)
}

// Handler serves /mcp and /mcp/{plugin}.
type Handler struct {
	runner   *core.Runner
	auth     *core.Authenticator
	observer Observer
	tracer   trace.Tracer
	hosted   Hosted
	log      hclog.Logger
	cfg      Config
	stream   *gomcp.StreamableHTTPHandler
	calls    *callRegistry
	servers  servers
	stop     chan struct{}
	once     sync.Once
}

// New returns the MCP door. Close stops its catalog watch.
func New(deps Deps, cfg Config) *Handler {
	if deps.Logger == nil {
		deps.Logger = hclog.NewNullLogger()
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.BodyTimeout <= 0 {
		cfg.BodyTimeout = 30 * time.Second
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 2 * time.Second
	}
	h := &Handler{runner: deps.Runner, auth: deps.Auth, log: deps.Logger.Named("mcp"), cfg: cfg, observer: deps.Observer, tracer: deps.Tracer,
		hosted: deps.Hosted, calls: newCallRegistry(), stop: make(chan struct{})}
	h.servers.init(h)
	h.stream = gomcp.NewStreamableHTTPHandler(h.serverFor, &gomcp.StreamableHTTPOptions{
		Stateless:           true,
		MaxRequestBodyBytes: cfg.MaxBodyBytes,
		Logger:              slog.New(slog.DiscardHandler),
		// The 2026-07-28 era cancels a request by closing its stream; for
		// the older ones a closed stream is watched in the tool handler.
		PropagateRequestCancellation: true,
	})
	h.servers.sync(h.runner.Catalog())
	h.runner.OnCatalogChange(h.servers.sync)
	go h.watch()
	return h
}

// Close stops watching the catalog.
func (h *Handler) Close() { h.once.Do(func() { close(h.stop) }) }

// watch reads the catalog now and then, so a plugin restarted with a new
// manifest is noticed (and list_changed sent) without a request.
func (h *Handler) watch() {
	t := time.NewTicker(h.cfg.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
			h.servers.sync(h.runner.Catalog())
		}
	}
}

// Mounted reports whether path is one the handler serves: /mcp or
// /mcp/{plugin}.
func Mounted(path string) bool {
	return path == "/mcp" || strings.HasPrefix(path, "/mcp/")
}

// ServeHTTP checks the origin and the key, then hands the request to the
// SDK's Streamable HTTP handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	plugin, ok := pluginOf(r.URL.Path)
	if !ok {
		httpError(w, http.StatusNotFound, "no MCP endpoint at %s: use /mcp or /mcp/{plugin}", r.URL.Path)
		return
	}
	origin := r.Header.Get("Origin")
	if origin != "" && !h.originAllowed(origin) && !sameLoopbackOrigin(origin, r.Host) {
		httpError(w, http.StatusForbidden, "origin %q is not allowed to call this server (add it to cors_origins)", origin)
		return
	}
	if origin != "" {
		setCORS(w.Header(), origin)
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	key, present := core.KeyFrom(r.Header.Get("X-Api-Key"), r.Header.Get("Authorization"))
	if !present {
		unauthorized(w, `Bearer realm="toolhost"`, "no API key: send Authorization: Bearer <key> (or x-api-key)")
		return
	}
	k, err := h.auth.Authenticate(r.Context(), key)
	if err != nil {
		if !errors.Is(err, domain.ErrUnauthorized) && !errors.Is(err, domain.ErrNotFound) {
			h.log.Error("authenticate", "error", err)
			httpError(w, http.StatusServiceUnavailable, "could not check the API key; try again shortly")
			return
		}
		unauthorized(w, `Bearer realm="toolhost", error="invalid_token"`, "the API key is not valid")
		return
	}
	if plugin != "" && h.servers.get(plugin) == nil {
		httpError(w, http.StatusNotFound, "no plugin %q is installed", plugin)
		return
	}
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes)
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(h.cfg.BodyTimeout))
	}
	req := &request{key: k, plugin: plugin, ctx: r.Context()}
	r, release, err := h.calls.track(r, req)
	if err != nil {
		httpError(w, statusOf(err), "%s", err.Error())
		return
	}
	defer release()
	h.stream.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestKey{}, req)))
}

// request is what ServeHTTP learned of an HTTP request, for the MCP
// handlers that serve it: the key, the endpoint's plugin ("" for /mcp),
// the HTTP request's context (done when the client closes the request's
// stream) and, for a tools/call, how it is cancelled.
type request struct {
	key    *domain.APIKey
	plugin string
	ctx    context.Context
	call   *callSlot
}

type requestKey struct{}

func requestOf(ctx context.Context) *request {
	r, _ := ctx.Value(requestKey{}).(*request)
	return r
}

// serverFor is the SDK's getServer: the MCP server of the request's
// endpoint.
func (h *Handler) serverFor(r *http.Request) *gomcp.Server {
	req := requestOf(r.Context())
	if req == nil {
		return nil
	}
	if req.plugin == "" {
		return h.servers.all
	}
	return h.servers.get(req.plugin)
}

// pluginOf is the plugin of /mcp/{plugin} ("" for /mcp).
func pluginOf(path string) (string, bool) {
	if path == "/mcp" || path == "/mcp/" {
		return "", true
	}
	name, ok := strings.CutPrefix(path, "/mcp/")
	if !ok || name == "" || strings.Contains(name, "/") {
		return "", false
	}
	return name, true
}

func (h *Handler) originAllowed(origin string) bool {
	for _, o := range h.cfg.AllowedOrigins {
		if o == "*" || strings.EqualFold(o, origin) {
			return true
		}
	}
	return false
}

// sameLoopbackOrigin reports whether origin is the request's own, on a
// loopback host (a page served from this very address). DNS rebinding
// cannot forge it: a rebound name is never a loopback Host.
func sameLoopbackOrigin(origin, host string) bool {
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || !strings.EqualFold(u.Host, host) {
		return false
	}
	name := u.Hostname()
	if strings.EqualFold(name, "localhost") {
		return true
	}
	ip := net.ParseIP(name)
	return ip != nil && ip.IsLoopback()
}

func setCORS(h http.Header, origin string) {
	h.Set("Access-Control-Allow-Origin", origin)
	h.Add("Vary", "Origin")
	h.Set("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Content-Type, Accept, Authorization, X-Api-Key, Mcp-Session-Id, Mcp-Protocol-Version, Last-Event-ID, Idempotency-Key")
	h.Set("Access-Control-Expose-Headers", "Mcp-Session-Id, WWW-Authenticate")
	h.Set("Access-Control-Max-Age", "600")
}
