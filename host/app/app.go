package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/toolhost/toolhost/host/api"
	"github.com/toolhost/toolhost/host/assistant"
	"github.com/toolhost/toolhost/host/backend"
	"github.com/toolhost/toolhost/host/config"
	"github.com/toolhost/toolhost/host/console"
	"github.com/toolhost/toolhost/host/core"
	"github.com/toolhost/toolhost/host/mcp"
	"github.com/toolhost/toolhost/host/mcpclient"
	"github.com/toolhost/toolhost/host/metrics"
	"github.com/toolhost/toolhost/host/pgstore"
	"github.com/toolhost/toolhost/host/store"
	"github.com/toolhost/toolhost/host/supervisor"
	"github.com/toolhost/toolhost/host/tracing"
)

// Options say how to build a host.
type Options struct {
	// Config is plugins.hcl as loaded (with overrides applied).
	Config *config.Config
	// ConfigPath is where Config came from; Reload reads it again. Empty:
	// the refresh route reloads the plugins of Config as they are.
	ConfigPath string
	// Getenv reads the environment (env() in plugins.hcl, the secret
	// key, TOOLHOST_API_KEY); os.Getenv when nil.
	Getenv func(string) string
	// Logger gets the host's log; a null logger when nil.
	Logger hclog.Logger
	// Notices gets start-up notices for people (recovered runs); io.Discard
	// when nil.
	Notices io.Writer
	// SecretKey seals plugin secrets at rest; when nil it is loaded (or
	// made) as store.LoadSecretKey does.
	SecretKey []byte
	// Version is what the API reports.
	Version string
	// KillGrace, when set, overrides Config.KillGrace (tests shorten it).
	KillGrace time.Duration
	// TracerProvider, when set, is where spans go (tests record them);
	// else plugins.hcl's tracing block or the OTEL_EXPORTER_OTLP_*
	// variables set up an OTLP exporter, and without them there are no
	// spans.
	TracerProvider trace.TracerProvider
}

// App is a built host: its store, supervisor, runner, assistant and HTTP
// handler. Serve Handler however you like; Close stops it all.
type App struct {
	Config     *config.Config
	Log        hclog.Logger
	Store      backend.Store // the store plugins.hcl names (bbolt by default)
	DB         *store.DB     // the bbolt store, for what only it has (run journal, damage); nil on PostgreSQL
	Supervisor *supervisor.Supervisor
	MCPServers *mcpclient.Set
	Runner     *core.Runner
	Assistant  *assistant.Service
	Handler    http.Handler
	MCP        *mcp.Handler
	// Metrics is the host's Prometheus metrics; nil when turned off.
	Metrics *metrics.Metrics

	opts     Options
	tracer   trace.Tracer             // nil: tracing is off
	otlp     *sdktrace.TracerProvider // ours to flush and shut down
	otlpURL  string                   // where otlp posts spans, plugins' too (pluginTraceEnv); "" without otlp
	reloadMu sync.Mutex
	stopBg   context.CancelFunc
	cluster  *pgstore.Cluster // nil: a host alone (bbolt)
	bg       sync.WaitGroup
}

// New builds a host: it opens the store (replaying the run journal and
// failing runs a stopped host left in progress), loads the plugins, and
// wires the runner, the assistant and the API over them.
func New(ctx context.Context, opts Options) (*App, error) {
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	if opts.Notices == nil {
		opts.Notices = io.Discard
	}
	cfg := opts.Config
	if cfg.PluginDir == "" {
		cfg.PluginDir = filepath.Join(cfg.DataDir, "plugins")
	}
	a := &App{Config: cfg, Log: opts.Logger, opts: opts}
	a.Metrics = a.newMetrics()
	if err := a.setupTracing(ctx); err != nil {
		return nil, &ConfigError{Err: err}
	}
	var storeObs store.Observer
	if a.Metrics != nil {
		storeObs = a.Metrics
	}
	db, err := openStore(ctx, cfg, opts, storeObs)
	if err != nil {
		return nil, err
	}
	a.Store, a.DB = db, backend.BoltDB(db)
	if err := a.joinCluster(ctx); err != nil {
		db.Close()
		return nil, err
	}
	a.recover()
	grace := cfg.KillGrace
	if opts.KillGrace > 0 {
		grace = opts.KillGrace
	}
	a.Supervisor = supervisor.New(supervisor.Options{Logger: a.Log, StartTimeout: cfg.StartTimeout, KillGrace: grace,
		Cache: db.Plugins(), Getenv: opts.Getenv, ExtraEnv: a.pluginTraceEnv()})
	a.MCPServers = mcpclient.New(mcpclient.Options{Logger: a.Log, StartTimeout: cfg.StartTimeout, KillGrace: grace,
		Getenv: opts.Getenv, Version: opts.Version})
	if err := a.loadPlugins(ctx); err != nil {
		db.Close()
		return nil, &ConfigError{Err: err}
	}
	a.Runner = core.NewRunner(core.Options{
		Executor: executor{a.Supervisor, a.MCPServers}, Runs: db.Runs(), Idempotency: db.Idempotency(),
		Logger: a.Log, QueueSize: cfg.Queue.Size, Workers: cfg.Queue.Workers, Cluster: a.coreCluster(),
	})
	a.Assistant = a.newAssistant()
	a.Runner.SetPromptFiller(a.Assistant)
	var (
		apiObs  api.Observer
		mcpObs  mcp.Observer
		httpObs httpObserver
	)
	if a.Metrics != nil {
		a.Runner.SetObserver(a.Metrics)
		apiObs, mcpObs, httpObs = a.Metrics, a.Metrics, a.Metrics
	}
	a.Runner.SetTracer(a.tracer)
	auth := &core.Authenticator{Keys: db.Keys(), Bootstrap: opts.Getenv("TOOLHOST_API_KEY")}
	apiHandler := api.NewServer(api.Deps{Runner: a.Runner, Keys: db.Keys(), Threads: db.Threads(), Logger: a.Log}, api.Config{
		Version: opts.Version, MaxBodyBytes: cfg.MaxBodyBytes, CORSOrigins: cfg.CORSOrigins,
		BootstrapKey: opts.Getenv("TOOLHOST_API_KEY"), Refresh: a.Reload, Assistant: a.Assistant,
		RunsPerSecond: cfg.RateLimit.RunsPerSecond, RunBurst: cfg.RateLimit.Burst, BodyTimeout: cfg.BodyTimeout,
		WriteTimeout: cfg.WriteTimeout,
		Observer:     apiObs, Tracer: a.tracer, AccessLog: cfg.AccessLog,
	})
	a.MCP = mcp.New(mcp.Deps{Runner: a.Runner, Logger: a.Log, Auth: auth, Observer: mcpObs, Tracer: a.tracer, Hosted: hostedServers{a.MCPServers}}, mcp.Config{
		Version: opts.Version, AllowedOrigins: cfg.CORSOrigins, MaxBodyBytes: cfg.MaxBodyBytes, BodyTimeout: cfg.BodyTimeout,
	})
	a.Handler = doors(apiHandler, a.MCP, httpObs, a.tracer,
		door{prefix: "/metrics", route: "/metrics", h: a.metricsDoor(auth)},
		door{prefix: console.Prefix, route: console.Prefix, h: console.New(console.Options{Auth: auth, API: apiHandler})})
	// A server's tools changed: rebuild the catalog now, so its watchers
	// (MCP's list_changed) hear of it.
	a.MCPServers.SetOnChange(func() { a.Runner.Catalog() })
	a.startRetention()
	a.startReaper()
	return a, nil
}

func openStore(ctx context.Context, cfg *config.Config, opts Options, obs store.Observer) (backend.Store, error) {
	key := opts.SecretKey
	if key == nil {
		var err error
		if key, err = backend.LoadSecretKey(cfg.Store, cfg.DataDir, opts.Getenv); err != nil {
			return nil, err
		}
	}
	return backend.Open(ctx, backend.Options{Store: cfg.Store, DataDir: cfg.DataDir, SecretKey: key, Observer: obs})
}

// recover reports what the run journal gave back and fails the runs a
// stopped host left in progress (they are never run again).
func (a *App) recover() {
	if a.DB != nil {
		if n := a.DB.Recovered(); n > 0 {
			fmt.Fprintf(a.opts.Notices, "recovered %d run record(s) from the run journal (the host last stopped without closing it).\n", n)
		}
		a.warnDamage()
	}
	if a.cluster != nil {
		// On PostgreSQL other replicas' runs are in progress: only the runs
		// of replicas whose lease expired are failed (startReaper).
		return
	}
	n, err := a.Store.Runs().InterruptRuns(context.Background())
	if err != nil {
		a.Log.Error("could not mark interrupted runs", "error", err)
	} else if n > 0 {
		fmt.Fprintf(a.opts.Notices, "%d run(s) were in progress when the host last stopped; they are marked failed (interrupted) and were not retried.\n", n)
	}
}

func (a *App) newAssistant() *assistant.Service {
	var expires time.Duration
	if v := a.opts.Getenv("TOOLHOST_REQUIRES_ACTION_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			a.Log.Warn("TOOLHOST_REQUIRES_ACTION_TIMEOUT is not a positive duration such as 10m; using the default", "value", v)
		} else {
			expires = d
		}
	}
	if len(a.Config.Models) == 0 {
		a.Log.Info("no model blocks in plugins.hcl: thread runs and identify are off until one is added")
	}
	return assistant.New(assistant.Options{
		Models: a.Config.Models, Runner: a.Runner, Threads: a.Store.Threads(), Logger: a.Log, ExpiresAfter: expires,
	})
}

// pluginSpecs merges plugins.hcl, the plugin directory and the installed
// plugin records (whose recorded sha256 pins the binary).
func (a *App) pluginSpecs(ctx context.Context) ([]config.Plugin, error) {
	specs, err := a.Config.AllPlugins()
	if err != nil {
		return nil, err
	}
	recs, err := a.Store.Plugins().ListPlugins(ctx)
	if err != nil {
		return nil, err
	}
	pins := map[string]string{}
	for _, r := range recs {
		if r.SHA256 != "" {
			pins[absPath(r.Path)] = r.SHA256
		}
	}
	for i := range specs {
		if specs[i].SHA256 == "" {
			specs[i].SHA256 = pins[absPath(specs[i].Path)]
		}
	}
	return specs, nil
}

// Reload re-reads plugins.hcl and the plugin directory, reloads changed
// plugins (runs in flight finish on the old ones) and takes the model
// blocks as they now are.
func (a *App) Reload(ctx context.Context) error {
	a.reloadMu.Lock()
	defer a.reloadMu.Unlock()
	if a.opts.ConfigPath == "" {
		return a.loadPlugins(ctx)
	}
	cfg, err := config.Load(a.opts.ConfigPath, a.opts.Getenv)
	if err != nil {
		return err
	}
	old, oldMCP := a.Config.Plugins, a.Config.MCPServers
	a.Config.Plugins, a.Config.MCPServers = cfg.Plugins, cfg.MCPServers
	if err := a.loadPlugins(ctx); err != nil {
		a.Config.Plugins, a.Config.MCPServers = old, oldMCP // keep serving what was loaded
		return err
	}
	a.Config.Models = cfg.Models
	a.Assistant.SetModels(cfg.Models)
	a.Runner.Catalog() // rebuilt now, so its watchers (MCP's list_changed) hear of it
	return nil
}

func (a *App) loadPlugins(ctx context.Context) error {
	specs, err := a.pluginSpecs(ctx)
	if err != nil {
		return err
	}
	taken := map[string]bool{}
	for _, m := range a.Config.MCPServers {
		taken[m.Name] = true
	}
	kept := specs[:0]
	for _, sp := range specs {
		if taken[sp.Name] {
			if !sp.FromDir {
				return fmt.Errorf("%s: plugin %q has the name of an mcp_server block", a.Config.File, sp.Name)
			}
			a.Log.Warn("a file in plugin_dir has the name of an mcp_server block; the file is not loaded", "plugin", sp.Name, "path", sp.Path)
			continue
		}
		kept = append(kept, sp)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); a.MCPServers.Load(ctx, a.Config.MCPServers, a.Config.ShutdownGrace) }()
	a.Supervisor.Load(ctx, kept, a.Config.ShutdownGrace)
	wg.Wait()
	return nil
}

// startRetention keeps the run count limit as runs are stored and applies
// the age limit (by default every minute) in small transactions.
func (a *App) startRetention() {
	if a.DB != nil {
		a.DB.Runs().LimitRuns(a.Config.Retention.MaxRuns)
		// Not waited for by Close: a long scan ends when the store closes.
		go a.scanDamagedRuns()
	}
	ctx, cancel := context.WithCancel(context.Background())
	a.stopBg = cancel
	a.bg.Add(1)
	go func() {
		defer a.bg.Done()
		a.pruneLoop(ctx)
	}()
}

func (a *App) pruneLoop(ctx context.Context) {
	interval := a.Config.Retention.Interval
	if interval <= 0 {
		interval = time.Minute
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if !a.retentionTurn(ctx, interval) {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			continue
		}
		n, err := a.Store.Runs().Prune(ctx, a.Config.Retention.MaxRuns, a.Config.Retention.MaxAge, time.Now())
		if err != nil && !strings.Contains(err.Error(), "closed") {
			a.Log.Error("prune runs", "error", err)
		} else if n > 0 {
			a.Log.Info("pruned old runs", "deleted", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Close stops the host: no new runs, runs in flight finish until ctx ends
// (then they are cancelled), plugins stop, the store closes. Stop serving
// Handler first.
func (a *App) Close(ctx context.Context) error {
	if a.stopBg != nil {
		a.stopBg()
		a.bg.Wait()
	}
	if a.MCP != nil {
		a.MCP.Close()
	}
	err := a.Runner.Shutdown(ctx)
	if err != nil {
		a.Log.Warn(err.Error())
	}
	a.leaveCluster()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); a.MCPServers.Shutdown(ctx) }()
	a.Supervisor.Shutdown(ctx)
	wg.Wait()
	if cerr := a.Store.Close(); cerr != nil {
		a.Log.Error("close store", "error", cerr)
	}
	if a.otlp != nil {
		if terr := a.otlp.Shutdown(ctx); terr != nil {
			a.Log.Warn("could not flush the last spans", "error", terr)
		}
	}
	return err
}

// ConfigError is New's error when the plugins it was given cannot be
// loaded as configured (the configuration is at fault, not the machine).
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// absPath cleans p and makes it absolute, so paths written from different
// working directories compare equal.
func absPath(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return filepath.Clean(p)
}

// setupTracing picks the tracer: Options.TracerProvider's, else an OTLP
// exporter's when plugins.hcl or the environment asks for one, else none.
func (a *App) setupTracing(ctx context.Context) error {
	tp := a.opts.TracerProvider
	if tp == nil {
		otlp, err := tracing.Setup(ctx, a.Config.Tracing, a.opts.Getenv, a.opts.Version)
		if err != nil {
			return fmt.Errorf("tracing: %w", err)
		}
		if otlp == nil {
			return nil
		}
		a.otlp, tp = otlp, otlp
		a.otlpURL = tracing.ExportURL(a.Config.Tracing, a.opts.Getenv)
		a.Log.Info("tracing on: spans are exported over OTLP/HTTP", "endpoint", a.otlpURL)
	}
	a.tracer = tp.Tracer(tracing.Name)
	return nil
}

// pluginTraceEnv is the supervisor's ExtraEnv: plugins' processes get the
// host's traces destination and a service name of their own (see
// tracing.PluginEnv), so that their spans join the host's without an env
// entry in every plugin block. nil when the host exports no spans.
func (a *App) pluginTraceEnv() func(plugin string, env []string) []string {
	if a.otlpURL == "" {
		return nil
	}
	url := a.otlpURL
	return func(plugin string, env []string) []string { return tracing.PluginEnv(url, plugin, env) }
}
