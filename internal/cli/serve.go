package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/toolhost/toolhost/host"
	"github.com/toolhost/toolhost/host/api"
	"github.com/toolhost/toolhost/host/assistant"
	"github.com/toolhost/toolhost/host/config"
	"github.com/toolhost/toolhost/host/plugins"
	"github.com/toolhost/toolhost/host/store"
)

type serveFlags struct {
	config, listen, dataDir string
}

func serve(e *env, args []string) error {
	fs := newFlags(e, "serve", "[--config plugins.hcl] [--listen addr] [--data-dir dir]")
	var f serveFlags
	fs.StringVar(&f.config, "config", envOr(e, "TOOLHOST_CONFIG", "plugins.hcl"), "config file (env TOOLHOST_CONFIG)")
	fs.StringVar(&f.listen, "listen", e.getenv("TOOLHOST_LISTEN"), "listen address, overrides the file (env TOOLHOST_LISTEN)")
	fs.StringVar(&f.dataDir, "data-dir", e.getenv("TOOLHOST_DATA_DIR"), "data directory, overrides the file (env TOOLHOST_DATA_DIR)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(e, f)
	if err != nil {
		return err
	}
	tuneGC(e.getenv)
	app, err := startApp(e, cfg, f.config)
	if err != nil {
		return err
	}
	return app.serveUntilDone(e)
}

func envOr(e *env, name, def string) string {
	if v := e.getenv(name); v != "" {
		return v
	}
	return def
}

// loadConfig reads plugins.hcl and applies flag and env overrides.
func loadConfig(e *env, f serveFlags) (*config.Config, error) {
	cfg, err := config.Load(f.config, e.getenv)
	if err != nil {
		return nil, fail(ExitUsage, "%v", err)
	}
	if f.listen != "" {
		cfg.Listen = f.listen
	}
	if f.dataDir != "" {
		cfg.DataDir = f.dataDir
	}
	if cfg.PluginDir == "" {
		cfg.PluginDir = filepath.Join(cfg.DataDir, "plugins")
	}
	return cfg, nil
}

// app is a running toolhost: store, supervisor, runner and HTTP server.
type app struct {
	cfg      *config.Config
	log      hclog.Logger
	db       *store.DB
	sup      *plugins.Supervisor
	runner   *host.Runner
	http     *http.Server
	ln       net.Listener
	refresh  sync.Mutex
	cfgPath  string
	getenv   func(string) string
	bgCancel context.CancelFunc
	asst     *assistant.Service
}

func newLogger(e *env) hclog.Logger {
	level := hclog.LevelFromString(envOr(e, "TOOLHOST_LOG_LEVEL", "info"))
	if level == hclog.NoLevel {
		level = hclog.Info
	}
	return hclog.New(&hclog.LoggerOptions{Name: "toolhost", Output: e.stderr, Level: level,
		JSONFormat: e.getenv("TOOLHOST_LOG_FORMAT") == "json"})
}

func openStore(e *env, dataDir string) (*store.DB, error) {
	key, err := store.LoadSecretKey(dataDir, e.getenv)
	if err != nil {
		return nil, fail(ExitFailed, "%v", err)
	}
	db, err := store.Open(dataDir, store.Options{SecretKey: key})
	if err != nil {
		return nil, fail(ExitFailed, "%v", err)
	}
	return db, nil
}

func startApp(e *env, cfg *config.Config, cfgPath string) (*app, error) {
	a := &app{cfg: cfg, log: newLogger(e), cfgPath: cfgPath, getenv: e.getenv}
	db, err := openStore(e, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	a.db = db
	if n := db.Recovered(); n > 0 {
		fmt.Fprintf(e.stdout, "recovered %d run record(s) from the run journal (the host last stopped without closing it).\n", n)
	}
	a.warnJournalDamage(e)
	if n, err := db.InterruptRuns(); err != nil {
		a.log.Error("could not mark interrupted runs", "error", err)
	} else if n > 0 {
		fmt.Fprintf(e.stdout, "%d run(s) were in progress when the host last stopped; they are marked failed (interrupted) and were not retried.\n", n)
	}
	a.sup = plugins.New(plugins.Options{Logger: a.log, StartTimeout: cfg.StartTimeout, KillGrace: cfg.KillGrace, Cache: db, Getenv: e.getenv})
	specs, err := a.pluginSpecs()
	if err != nil {
		db.Close()
		return nil, fail(ExitUsage, "%v", err)
	}
	a.sup.Load(e.ctx, specs, cfg.ShutdownGrace)
	a.runner = host.NewRunner(a.sup, db, host.Options{Logger: a.log, QueueSize: cfg.Queue.Size, Workers: cfg.Queue.Workers})
	if err := a.listen(e); err != nil {
		a.sup.Shutdown(context.Background())
		db.Close()
		return nil, err
	}
	if err := a.bootstrapKey(e); err != nil {
		a.log.Error("could not create the first API key", "error", err)
	}
	a.printStart(e)
	return a, nil
}

// pluginSpecs merges plugins.hcl, the plugin directory and the installed
// plugin records (whose recorded sha256 pins the binary).
func (a *app) pluginSpecs() ([]config.Plugin, error) {
	specs, err := a.cfg.AllPlugins()
	if err != nil {
		return nil, err
	}
	recs, err := a.db.ListPlugins()
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

func (a *app) listen(e *env) error {
	ln, err := net.Listen("tcp", a.cfg.Listen)
	if err != nil {
		return fail(ExitFailed, "listen on %s: %v", a.cfg.Listen, err)
	}
	a.ln = ln
	a.asst = newAssistant(a)
	handler := api.NewServer(a.runner, a.log, api.Config{
		Version: Version, MaxBodyBytes: a.cfg.MaxBodyBytes, CORSOrigins: a.cfg.CORSOrigins,
		BootstrapKey: e.getenv("TOOLHOST_API_KEY"), Refresh: a.reload,
		Assistant: a.asst, RunsPerSecond: a.cfg.RateLimit.RunsPerSecond, RunBurst: a.cfg.RateLimit.Burst,
		BodyTimeout: a.cfg.BodyTimeout, WriteTimeout: a.cfg.WriteTimeout,
	})
	a.http = &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	return nil
}

// reload re-reads plugins.hcl and the plugin directory, reloads changed
// plugins (runs in flight finish on the old ones) and takes the model blocks
// as they now are.
func (a *app) reload(ctx context.Context) error {
	a.refresh.Lock()
	defer a.refresh.Unlock()
	cfg, err := config.Load(a.cfgPath, a.getenv)
	if err != nil {
		return err
	}
	old := a.cfg.Plugins
	a.cfg.Plugins = cfg.Plugins
	specs, err := a.pluginSpecs()
	if err != nil {
		a.cfg.Plugins = old // keep serving what was loaded
		return err
	}
	a.sup.Load(ctx, specs, a.cfg.ShutdownGrace)
	a.cfg.Models = cfg.Models
	a.asst.SetModels(cfg.Models)
	return nil
}

// bootstrapKey creates and prints a first key when there is none and no
// TOOLHOST_API_KEY.
func (a *app) bootstrapKey(e *env) error {
	if e.getenv("TOOLHOST_API_KEY") != "" {
		fmt.Fprintln(e.stdout, "API key: the one in TOOLHOST_API_KEY")
		return nil
	}
	n, err := a.db.CountKeys()
	if err != nil || n > 0 {
		if n > 0 {
			fmt.Fprintf(e.stdout, "API keys: %d stored (toolhost key list; toolhost key create --name NAME for another)\n", n)
		}
		return err
	}
	plain, _, err := a.db.CreateKey("default")
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Created the first API key (shown only this once; keep it safe):\n\n    %s\n\n", plain)
	fmt.Fprintln(e.stdout, "Send it as the x-api-key header. Make more with: toolhost key create --name NAME")
	return nil
}

func (a *app) printStart(e *env) {
	fmt.Fprintf(e.stdout, "toolhost %s listening on http://%s\n", Version, a.ln.Addr())
	fmt.Fprintf(e.stdout, "data directory: %s\n", a.cfg.DataDir)
	for _, p := range a.sup.List() {
		in := p.Info()
		actions := 0
		if in.Manifest != nil {
			actions = len(in.Manifest.Actions)
		}
		switch in.Status {
		case plugins.StatusFailed:
			fmt.Fprintf(e.stdout, "plugin %-12s FAILED: %s\n", in.Name, in.Reason)
		case plugins.StatusMisconfigured:
			fmt.Fprintf(e.stdout, "plugin %-12s %d actions, MISCONFIGURED: %s\n", in.Name, actions, in.Reason)
		default:
			fmt.Fprintf(e.stdout, "plugin %-12s %d actions, %s\n", in.Name, actions, in.Status)
		}
	}
	if len(a.sup.List()) == 0 {
		fmt.Fprintln(e.stdout, "no plugins configured: add plugin blocks to", a.cfgPath)
	}
	fmt.Fprintln(e.stdout, "ready")
}

// serveUntilDone serves until the context ends (SIGINT or SIGTERM), then
// stops gracefully: no new requests, in-flight runs finish (up to the
// shutdown grace), plugins stop, the store closes.
func (a *app) serveUntilDone(e *env) error {
	bg, cancel := context.WithCancel(context.Background())
	a.bgCancel = cancel
	a.db.LimitRuns(a.cfg.Retention.MaxRuns)
	go a.pruneLoop(bg)
	go a.scanDamagedRuns()
	errc := make(chan error, 1)
	go func() { errc <- a.http.Serve(a.ln) }()
	var serveErr error
	select {
	case <-e.ctx.Done():
	case serveErr = <-errc:
	}
	fmt.Fprintln(e.stdout, "shutting down: finishing runs in flight")
	a.shutdown()
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fail(ExitFailed, "serve: %v", serveErr)
	}
	fmt.Fprintln(e.stdout, "stopped")
	return nil
}

func (a *app) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownGrace)
	defer cancel()
	if a.bgCancel != nil {
		a.bgCancel()
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = a.http.Shutdown(ctx) }()
	if err := a.runner.Shutdown(ctx); err != nil {
		a.log.Warn(err.Error())
	}
	wg.Wait()
	a.sup.Shutdown(ctx)
	if err := a.db.Close(); err != nil {
		a.log.Error("close store", "error", err)
	}
}

// pruneLoop applies retention (by default every minute) in small
// transactions. The run count limit is also kept as runs are stored
// (store.DB.LimitRuns); this loop applies the age limit and catches up
// after a limit was lowered.
func (a *app) pruneLoop(ctx context.Context) {
	t := time.NewTicker(a.cfg.Retention.Interval)
	defer t.Stop()
	for {
		n, err := a.db.Prune(a.cfg.Retention.MaxRuns, a.cfg.Retention.MaxAge, time.Now())
		if err != nil && !strings.Contains(err.Error(), "closed") {
			a.log.Error("prune runs", "error", err)
		} else if n > 0 {
			a.log.Info("pruned old runs", "deleted", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// absPath cleans p and makes it absolute, so paths written from different
// working directories compare equal.
func absPath(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return filepath.Clean(p)
}
