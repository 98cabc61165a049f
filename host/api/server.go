package api

import (
	"context"
	"go.opentelemetry.io/otel/trace"
	"net/http"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/toolhost/toolhost/host/assistant"
	"github.com/toolhost/toolhost/host/core"
)

// Config is what the HTTP edge needs besides its dependencies.
type Config struct {
	Version      string
	MaxBodyBytes int64
	CORSOrigins  []string
	BootstrapKey string // TOOLHOST_API_KEY; accepted besides stored keys
	// Refresh re-reads plugins.hcl and the plugin directory and reloads
	// changed plugins (GET /v1/admin/plugins/refresh).
	Refresh func(ctx context.Context) error
	// Assistant serves assistant runs on threads and action identification.
	Assistant *assistant.Service
	// RunsPerSecond caps each key's requests on routes needing the run
	// scope, with RunBurst of them allowed at once; 0: no limit.
	RunsPerSecond float64
	RunBurst      int
	// BodyTimeout is how long a request's body may take to arrive
	// (default 30s); past it the request fails and its connection closes.
	BodyTimeout time.Duration
	// WriteTimeout is how long an answer other than an event stream may
	// take to be written (default DefaultWriteTimeout).
	WriteTimeout time.Duration
	// Observer, when set, hears of every request once it is answered
	// (metrics).
	Observer Observer
	// AccessLog logs a line per request at info level (else at debug
	// level only).
	AccessLog bool
	// Tracer, when set, gives every request a span (the child of an
	// incoming traceparent), the parent of the runs it starts.
	Tracer trace.Tracer
}

// Observer hears of each request the API answers: its method, its route
// as registered ("/v1/runs/{runId}"; "unmatched" for no route, so that
// made-up paths do not make new series), the status and how long it took.
type Observer interface {
	HTTPRequest(method, route string, status int, took time.Duration)
}

// Deps are what the HTTP edge serves: the core's runner and the stores
// the core declares for keys and threads.
type Deps struct {
	Runner  *core.Runner
	Keys    core.KeyStore
	Threads core.ThreadStore
	Logger  hclog.Logger
}

type server struct {
	runner  *core.Runner
	keys    core.KeyStore
	auth    *core.Authenticator
	threads core.ThreadStore
	log     hclog.Logger
	cfg     Config
	limits  *keyLimits // nil: no rate limit
}

// DefaultBodyTimeout is Config.BodyTimeout's default.
const DefaultBodyTimeout = 30 * time.Second

// NewServer returns the API's handler.
func NewServer(deps Deps, cfg Config) http.Handler {
	logger := deps.Logger
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.BodyTimeout <= 0 {
		cfg.BodyTimeout = DefaultBodyTimeout
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	s := &server{runner: deps.Runner, keys: deps.Keys, threads: deps.Threads, log: logger.Named("api"), cfg: cfg,
		limits: newKeyLimits(cfg.RunsPerSecond, cfg.RunBurst), auth: &core.Authenticator{Keys: deps.Keys, Bootstrap: cfg.BootstrapKey}}
	return s.routes()
}
