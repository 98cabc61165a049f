package assistant

import (
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/toolhost/toolhost/host/config"
	"github.com/toolhost/toolhost/host/core"
	"github.com/toolhost/toolhost/host/domain"
)

// Defaults for runs that do not say otherwise.
const (
	DefaultMaxSteps     = config.DefaultMaxSteps
	MaxMaxSteps         = 100
	DefaultExpiresAfter = 10 * time.Minute
)

// Options build a Service.
type Options struct {
	// Models are the model blocks of plugins.hcl; a run picks one by name
	// and defaults to the first.
	Models []config.Model
	Runner *core.Runner
	// Threads is where threads and messages live.
	Threads core.ThreadStore
	Logger  hclog.Logger
	// HTTPClient talks to the models; a plain client when nil. Each call is
	// bounded by its model's timeout.
	HTTPClient *http.Client
	// ExpiresAfter is how long a run with tool_execution "client" waits
	// for tool outputs before it expires (default 10 minutes).
	ExpiresAfter time.Duration
	// MaxSteps is the default limit of model calls per run (default 8).
	MaxSteps int
}

// Service runs assistants on threads. A nil *Service answers every
// model-backed call with the "no model configured" error.
type Service struct {
	runner       *core.Runner
	threads      core.ThreadStore
	log          hclog.Logger
	httpClient   *http.Client
	modelsMu     sync.RWMutex
	models       []*modelClient
	expiresAfter time.Duration
	maxSteps     int

	mu      sync.Mutex
	busy    map[string]string  // thread id -> run id of its active run
	waiters map[string]*waiter // run id -> run waiting for tool outputs
}

// New returns a Service over the runner and the models.
func New(opts Options) *Service {
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{}
	}
	if opts.ExpiresAfter <= 0 {
		opts.ExpiresAfter = DefaultExpiresAfter
	}
	if opts.MaxSteps <= 0 {
		opts.MaxSteps = DefaultMaxSteps
	}
	s := &Service{
		runner: opts.Runner, threads: opts.Threads, log: opts.Logger.Named("assistant"), httpClient: opts.HTTPClient,
		expiresAfter: opts.ExpiresAfter, maxSteps: opts.MaxSteps,
		busy: map[string]string{}, waiters: map[string]*waiter{},
	}
	s.SetModels(opts.Models)
	return s
}

// SetModels replaces the configured models (plugins.hcl was read again).
// Runs under way keep the model they started with.
func (s *Service) SetModels(models []config.Model) {
	clients := make([]*modelClient, 0, len(models))
	for _, m := range models {
		clients = append(clients, newModelClient(m, s.httpClient))
	}
	s.modelsMu.Lock()
	s.models = clients
	s.modelsMu.Unlock()
}

func (s *Service) modelClients() []*modelClient {
	s.modelsMu.RLock()
	defer s.modelsMu.RUnlock()
	return s.models
}

// noModelMessage says what to add to plugins.hcl. The block is on lines of
// its own so that it can be pasted as it is (HCL wants one attribute a line).
const noModelMessage = "no model is configured for assistant runs: add a block like this to plugins.hcl\n\n" +
	"model \"local\" {\n  base_url = \"http://127.0.0.1:11434/v1\"\n  model    = \"llama3.1\"\n}\n\n" +
	`(any OpenAI-compatible chat completions endpoint: OpenAI, Ollama, vLLM, llama.cpp's server; ` +
	`add api_key = env("NAME") on a line of its own when it needs a key), then call GET /v1/admin/plugins/refresh or restart toolhost`

// Models lists the configured model names, the default first.
func (s *Service) Models() []string {
	if s == nil {
		return nil
	}
	models := s.modelClients()
	out := make([]string, len(models))
	for i, m := range models {
		out[i] = m.cfg.Name
	}
	return out
}

// model returns the named model, or the first when name is empty.
func (s *Service) model(name string) (*modelClient, error) {
	var models []*modelClient
	if s != nil {
		models = s.modelClients()
	}
	if len(models) == 0 {
		return nil, &domain.Error{Code: domain.CodeInvalidRequest, Message: noModelMessage,
			Fields: []domain.FieldError{{Field: "model", Message: "no model is configured in plugins.hcl"}}}
	}
	if name == "" {
		return models[0], nil
	}
	for _, m := range models {
		if m.cfg.Name == name {
			return m, nil
		}
	}
	msg := "is not a model in plugins.hcl; configured: " + strings.Join(s.Models(), ", ")
	return nil, &domain.Error{Code: domain.CodeInvalidRequest, Message: "model " + quote(name) + " " + msg,
		Fields: []domain.FieldError{{Field: "model", Message: msg}}}
}

func quote(s string) string { return `"` + s + `"` }

// usable reports whether the service can serve runs at all.
func (s *Service) usable() error {
	if s == nil || s.runner == nil {
		_, err := s.model("")
		if err != nil {
			return err
		}
		return domain.Errorf(domain.CodeInternal, "assistant service has no runner")
	}
	return nil
}
