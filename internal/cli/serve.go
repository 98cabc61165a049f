package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/toolhost/toolhost/host/app"
	"github.com/toolhost/toolhost/host/config"
	"github.com/toolhost/toolhost/host/domain"
	"github.com/toolhost/toolhost/host/supervisor"
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

// host is a running toolhost: the app and its HTTP server.
type host struct {
	*app.App
	http    *http.Server
	ln      net.Listener
	cfgPath string
	// metrics serves GET /metrics on metrics_listen, when set.
	metrics   *http.Server
	metricsLn net.Listener
}

func newLogger(e *env) hclog.Logger {
	level := hclog.LevelFromString(envOr(e, "TOOLHOST_LOG_LEVEL", "info"))
	if level == hclog.NoLevel {
		level = hclog.Info
	}
	return hclog.New(&hclog.LoggerOptions{Name: "toolhost", Output: e.stderr, Level: level,
		JSONFormat: e.getenv("TOOLHOST_LOG_FORMAT") == "json"})
}

func startApp(e *env, cfg *config.Config, cfgPath string) (*host, error) {
	a, err := app.New(e.ctx, app.Options{Config: cfg, ConfigPath: cfgPath, Getenv: e.getenv, Logger: newLogger(e),
		Notices: e.stdout, Version: Version})
	var cerr *app.ConfigError
	switch {
	case errors.As(err, &cerr):
		return nil, fail(ExitUsage, "%v", err)
	case err != nil:
		return nil, fail(ExitFailed, "%v", err)
	}
	srv := &host{App: a, cfgPath: cfgPath}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		_ = a.Close(context.Background())
		return nil, fail(ExitFailed, "listen on %s: %v", cfg.Listen, err)
	}
	srv.ln = ln
	srv.http = &http.Server{Handler: a.Handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	if h := a.MetricsHandler(); h != nil && cfg.Metrics.Listen != "" {
		mln, err := net.Listen("tcp", cfg.Metrics.Listen)
		if err != nil {
			_ = ln.Close()
			_ = a.Close(context.Background())
			return nil, fail(ExitFailed, "metrics listen on %s: %v", cfg.Metrics.Listen, err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", h)
		srv.metricsLn, srv.metrics = mln, &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	}
	if err := srv.bootstrapKey(e); err != nil {
		a.Log.Error("could not create the first API key", "error", err)
	}
	srv.printStart(e)
	return srv, nil
}

// bootstrapKey creates and prints a first key when there is none and no
// TOOLHOST_API_KEY.
func (a *host) bootstrapKey(e *env) error {
	if e.getenv("TOOLHOST_API_KEY") != "" {
		fmt.Fprintln(e.stdout, "API key: the one in TOOLHOST_API_KEY")
		return nil
	}
	n, err := a.Store.Keys().CountKeys(context.Background())
	if err != nil || n > 0 {
		if n > 0 {
			fmt.Fprintf(e.stdout, "API keys: %d stored (toolhost key list; toolhost key create --name NAME for another)\n", n)
		}
		return err
	}
	plain, _, err := a.Store.Keys().CreateKey(context.Background(), "default")
	if errors.Is(err, domain.ErrConflict) { // another replica on the same database made it
		fmt.Fprintln(e.stdout, "API keys: the first one was made by another replica (toolhost key create --name NAME for another)")
		return nil
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Created the first API key (shown only this once; keep it safe):\n\n    %s\n\n", plain)
	fmt.Fprintln(e.stdout, "Send it as the x-api-key header. Make more with: toolhost key create --name NAME")
	return nil
}

func (a *host) printStart(e *env) {
	fmt.Fprintf(e.stdout, "toolhost %s listening on http://%s\n", Version, a.ln.Addr())
	if a.metricsLn != nil {
		fmt.Fprintf(e.stdout, "metrics on http://%s/metrics (no key needed there)\n", a.metricsLn.Addr())
	}
	fmt.Fprintf(e.stdout, "data directory: %s\n", a.Config.DataDir)
	if a.DB == nil {
		fmt.Fprintf(e.stdout, "store: %s at %s\n", a.Store.Kind(), a.Store.Where())
	}
	for _, p := range a.Supervisor.List() {
		in := p.Info()
		actions := 0
		if m := p.Manifest(); m != nil {
			actions = len(m.Actions)
		}
		switch in.Status {
		case supervisor.StatusFailed:
			fmt.Fprintf(e.stdout, "plugin %-12s FAILED: %s\n", in.Name, in.Reason)
		case supervisor.StatusMisconfigured:
			fmt.Fprintf(e.stdout, "plugin %-12s %d actions, MISCONFIGURED: %s\n", in.Name, actions, in.Reason)
		default:
			fmt.Fprintf(e.stdout, "plugin %-12s %d actions, %s\n", in.Name, actions, in.Status)
		}
	}
	for _, s := range a.MCPServers.List() {
		in := s.Info()
		tools := 0
		if m := s.Manifest(); m != nil {
			tools = len(m.Actions)
		}
		switch in.Status {
		case supervisor.StatusFailed:
			fmt.Fprintf(e.stdout, "mcp_server %-8s FAILED: %s\n", in.Name, in.Reason)
		default:
			fmt.Fprintf(e.stdout, "mcp_server %-8s %d tools (%s), %s\n", in.Name, tools, in.Transport, in.Status)
		}
	}
	if len(a.Supervisor.List()) == 0 && len(a.MCPServers.List()) == 0 {
		fmt.Fprintln(e.stdout, "no plugins configured: add plugin blocks to", a.cfgPath)
	}
	fmt.Fprintln(e.stdout, "ready")
}

// serveUntilDone serves until the context ends (SIGINT or SIGTERM), then
// stops gracefully: no new requests, in-flight runs finish (up to the
// shutdown grace), plugins stop, the store closes.
func (a *host) serveUntilDone(e *env) error {
	errc := make(chan error, 1)
	go func() { errc <- a.http.Serve(a.ln) }()
	if a.metrics != nil {
		go func() {
			if err := a.metrics.Serve(a.metricsLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				a.Log.Error("metrics listener stopped", "error", err)
			}
		}()
	}
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

// shutdown stops taking requests while runs in flight finish (up to the
// shutdown grace), then stops the app.
func (a *host) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), a.Config.ShutdownGrace)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = a.http.Shutdown(ctx) }()
	if a.metrics != nil {
		_ = a.metrics.Close()
	}
	if err := a.Runner.Shutdown(ctx); err != nil {
		a.Log.Warn(err.Error())
	}
	wg.Wait()
	_ = a.Close(ctx)
}
