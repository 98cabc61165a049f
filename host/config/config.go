// Package config reads plugins.hcl: where the runner listens, where it keeps
// its data, which plugins it runs with which configuration, and which models
// assistant runs may use. A bad file yields HCL diagnostics with file, line
// and column, and the host does not start.
package config

import (
	"time"
)

// Defaults for settings a file leaves out.
const (
	DefaultListen        = "127.0.0.1:4201"
	DefaultDataDir       = "./data"
	DefaultTimeout       = 60 * time.Second
	DefaultConcurrency   = 32
	DefaultStartTimeout  = 10 * time.Second
	DefaultKillGrace     = 5 * time.Second
	DefaultShutdownGrace = 30 * time.Second
	DefaultBodyTimeout   = 30 * time.Second // how long a request body may take to arrive
	DefaultWriteTimeout  = 60 * time.Second // how long an answer (not a stream) may take to be written
	DefaultMaxBodyBytes  = 1 << 20
	DefaultMaxRuns       = 1_000_000
	DefaultMaxRunAge     = 30 * 24 * time.Hour
	DefaultPruneInterval = time.Minute
	DefaultQueueSize     = 1024
	DefaultWorkers       = 16
	MaxMaxBodyBytes      = 1 << 30 // the largest max_body_bytes allowed
	DefaultMaxSteps      = 8
)

// Config is a decoded plugins.hcl.
type Config struct {
	File          string // the file it came from, for messages
	Listen        string
	DataDir       string
	PluginDir     string
	AutoMTLS      bool
	StartTimeout  time.Duration
	KillGrace     time.Duration
	ShutdownGrace time.Duration
	BodyTimeout   time.Duration // a request body must arrive within it
	WriteTimeout  time.Duration // an answer other than a stream must be written within it
	MaxBodyBytes  int64
	CORSOrigins   []string
	AccessLog     bool // a line per HTTP request at info level
	Retention     Retention
	Queue         Queue
	RateLimit     RateLimit
	Metrics       Metrics
	Tracing       Tracing
	Store         Store
	Plugins       []Plugin
	MCPServers    []MCPServer
	Models        []Model
}

// Retention bounds run history.
type Retention struct {
	MaxRuns  int
	MaxAge   time.Duration
	Interval time.Duration // how often to prune
}

// RateLimit caps the requests each API key makes on routes that need the
// run scope (runs, cancels, identify, thread writes). Zero: no limit.
type RateLimit struct {
	RunsPerSecond float64
	Burst         int // requests allowed at once before the rate applies
}

// Metrics says how GET /metrics is served: on unless Disabled (enabled =
// false), needing a key with the read scope unless Public; Listen, when
// set, serves it (without a key) on a separate address for a scraper on a
// private network instead.
type Metrics struct {
	Disabled bool
	Public   bool
	Listen   string
}

// Tracing turns on OpenTelemetry traces exported over OTLP/HTTP. Without a
// tracing block (and without OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT in the environment) tracing is off.
// Endpoint empty: the standard OTEL_EXPORTER_OTLP_* variables apply.
// Plugins export their spans to the same place (tracing.PluginEnv).
type Tracing struct {
	Enabled     bool
	Endpoint    string // host:port or URL of an OTLP/HTTP receiver
	Insecure    bool   // plain HTTP to the receiver
	ServiceName string
	SampleRatio float64
}

// Queue sizes the non-blocking run queue.
type Queue struct {
	Size    int
	Workers int
}

// Plugin is one plugin block, or an executable found in PluginDir.
type Plugin struct {
	Name           string
	Path           string
	SHA256         string
	Config         map[string]string
	ConfigEnv      map[string]string // config key -> env variable it was read from
	Env            []string          // NAME (copied from the host) or NAME=value
	Timeout        time.Duration
	ActionTimeouts map[string]time.Duration
	Concurrency    int
	Lazy           bool
	AutoMTLS       bool
	FromDir        bool // found in plugin_dir, not declared in the file
}

// Model is an OpenAI-compatible chat completions endpoint.
type Model struct {
	Name      string
	BaseURL   string
	Model     string
	APIKey    string
	Timeout   time.Duration
	MaxTokens int
}

// Model returns the named model, the first one when name is empty, or nil.
func (c *Config) Model(name string) *Model {
	for i := range c.Models {
		if name == "" || c.Models[i].Name == name {
			return &c.Models[i]
		}
	}
	return nil
}
