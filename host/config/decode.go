package config

import (
	"fmt"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

type fileSchema struct {
	Listen        *string          `hcl:"listen"`
	DataDir       *string          `hcl:"data_dir"`
	PluginDir     *string          `hcl:"plugin_dir"`
	AutoMTLS      *bool            `hcl:"auto_mtls"`
	StartTimeout  hcl.Expression   `hcl:"start_timeout,optional"`
	KillGrace     hcl.Expression   `hcl:"kill_grace,optional"`
	ShutdownGrace hcl.Expression   `hcl:"shutdown_grace,optional"`
	BodyTimeout   hcl.Expression   `hcl:"body_timeout,optional"`
	WriteTimeout  hcl.Expression   `hcl:"write_timeout,optional"`
	MaxBodyBytes  hcl.Expression   `hcl:"max_body_bytes,optional"`
	CORSOrigins   []string         `hcl:"cors_origins,optional"`
	AccessLog     *bool            `hcl:"access_log"`
	Retention     *retentionBlock  `hcl:"retention,block"`
	Queue         *queueBlock      `hcl:"queue,block"`
	RateLimit     *rateLimitBlock  `hcl:"rate_limit,block"`
	Metrics       *metricsBlock    `hcl:"metrics,block"`
	Tracing       *tracingBlock    `hcl:"tracing,block"`
	Store         *storeBlock      `hcl:"store,block"`
	Plugins       []pluginBlock    `hcl:"plugin,block"`
	MCPServers    []mcpServerBlock `hcl:"mcp_server,block"`
	Models        []modelBlock     `hcl:"model,block"`
}

type retentionBlock struct {
	MaxRuns  hcl.Expression `hcl:"max_runs,optional"`
	MaxAge   hcl.Expression `hcl:"max_age,optional"`
	Interval hcl.Expression `hcl:"interval,optional"`
}

type rateLimitBlock struct {
	RunsPerSecond hcl.Expression `hcl:"runs_per_second"`
	Burst         hcl.Expression `hcl:"burst,optional"`
}

type metricsBlock struct {
	Enabled  *bool     `hcl:"enabled"`
	Public   *bool     `hcl:"public"`
	Listen   *string   `hcl:"listen"`
	DefRange hcl.Range `hcl:",def_range"`
}

type tracingBlock struct {
	Endpoint    *string   `hcl:"endpoint"`
	Insecure    *bool     `hcl:"insecure"`
	ServiceName *string   `hcl:"service_name"`
	SampleRatio *float64  `hcl:"sample_ratio"`
	DefRange    hcl.Range `hcl:",def_range"`
}

type queueBlock struct {
	Size    hcl.Expression `hcl:"size,optional"`
	Workers hcl.Expression `hcl:"workers,optional"`
}

type pluginBlock struct {
	Name        string         `hcl:"name,label"`
	Path        *string        `hcl:"path"`
	SHA256      *string        `hcl:"sha256"`
	Config      hcl.Expression `hcl:"config,optional"`
	Env         []string       `hcl:"env,optional"`
	Timeout     hcl.Expression `hcl:"timeout,optional"`
	Concurrency *int           `hcl:"concurrency"`
	Lazy        *bool          `hcl:"lazy"`
	AutoMTLS    *bool          `hcl:"auto_mtls"`
	Actions     []actionBlock  `hcl:"action,block"`
	DefRange    hcl.Range      `hcl:",def_range"`
}

type actionBlock struct {
	Key     string         `hcl:"key,label"`
	Timeout hcl.Expression `hcl:"timeout"`
}

type modelBlock struct {
	Name      string         `hcl:"name,label"`
	BaseURL   string         `hcl:"base_url"`
	Model     string         `hcl:"model"`
	APIKey    *string        `hcl:"api_key"`
	Timeout   hcl.Expression `hcl:"timeout,optional"`
	MaxTokens hcl.Expression `hcl:"max_tokens,optional"`
	DefRange  hcl.Range      `hcl:",def_range"`
}

var (
	pluginNameRe = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,49}$`)
	envNameRe    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	sha256Re     = regexp.MustCompile(`^[a-f0-9]{64}$`)
)

// Load reads and decodes the file at path. getenv resolves env("NAME").
func Load(path string, getenv func(string) string) (*Config, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(src, path, getenv)
}

// Parse decodes src, reporting problems as hcl.Diagnostics (which print as
// file:line,col: summary; detail). Relative paths are taken from the file's
// directory.
func Parse(src []byte, filename string, getenv func(string) string) (*Config, error) {
	file, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, withSource(diags, src)
	}
	ctx := evalContext(getenv)
	var fs fileSchema
	if diags := gohcl.DecodeBody(file.Body, ctx, &fs); diags.HasErrors() {
		return nil, withSource(diags, src)
	}
	d := &decoder{ctx: ctx, base: baseDir(filename)}
	cfg := d.build(&fs)
	cfg.File = filename
	if d.diags.HasErrors() {
		return nil, withSource(d.diags, src)
	}
	return cfg, nil
}

// withSource adds the offending line to each diagnostic, so a message such
// as "a bool is required" also shows which setting it is about.
func withSource(diags hcl.Diagnostics, src []byte) hcl.Diagnostics {
	lines := strings.Split(string(src), "\n")
	for _, d := range diags {
		if d.Subject == nil || d.Subject.Start.Line < 1 || d.Subject.Start.Line > len(lines) {
			continue
		}
		line := strings.TrimSpace(lines[d.Subject.Start.Line-1])
		if line != "" && len(line) <= 200 && !strings.Contains(d.Detail, line) {
			d.Detail = strings.TrimSuffix(d.Detail, ".") + " (at: " + line + ")"
		}
	}
	return diags
}

func evalContext(getenv func(string) string) *hcl.EvalContext {
	env := function.New(&function.Spec{
		Params: []function.Parameter{{Name: "name", Type: cty.String}},
		Type:   function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			name := args[0].AsString()
			if !envNameRe.MatchString(name) {
				return cty.NilVal, fmt.Errorf("%q is not a valid environment variable name", name)
			}
			return cty.StringVal(getenv(name)), nil
		},
	})
	return &hcl.EvalContext{Functions: map[string]function.Function{"env": env}}
}

type decoder struct {
	ctx   *hcl.EvalContext
	base  string
	diags hcl.Diagnostics
}

func (d *decoder) errorf(rng hcl.Range, summary, format string, args ...any) {
	r := rng
	d.diags = append(d.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf(format, args...), Subject: &r,
	})
}

func (d *decoder) build(fs *fileSchema) *Config {
	cfg := &Config{
		Listen: str(fs.Listen, DefaultListen), DataDir: d.path(str(fs.DataDir, DefaultDataDir)),
		AutoMTLS: boolean(fs.AutoMTLS, true), MaxBodyBytes: DefaultMaxBodyBytes,
		StartTimeout:  d.duration(fs.StartTimeout, "start_timeout", DefaultStartTimeout),
		KillGrace:     d.duration(fs.KillGrace, "kill_grace", DefaultKillGrace),
		ShutdownGrace: d.duration(fs.ShutdownGrace, "shutdown_grace", DefaultShutdownGrace),
		BodyTimeout:   d.duration(fs.BodyTimeout, "body_timeout", DefaultBodyTimeout),
		WriteTimeout:  d.duration(fs.WriteTimeout, "write_timeout", DefaultWriteTimeout),
		CORSOrigins:   fs.CORSOrigins,
		AccessLog:     boolean(fs.AccessLog, false),
		Retention:     Retention{MaxRuns: DefaultMaxRuns, MaxAge: DefaultMaxRunAge, Interval: DefaultPruneInterval},
		Queue:         Queue{Size: DefaultQueueSize, Workers: DefaultWorkers},
	}
	if fs.PluginDir != nil {
		cfg.PluginDir = d.path(*fs.PluginDir)
	}
	cfg.MaxBodyBytes = d.count(fs.MaxBodyBytes, "max_body_bytes", cfg.MaxBodyBytes, 1, MaxMaxBodyBytes)
	d.buildRetention(fs.Retention, &cfg.Retention)
	d.buildQueue(fs.Queue, &cfg.Queue)
	d.buildRateLimit(fs.RateLimit, &cfg.RateLimit)
	d.buildMetrics(fs.Metrics, &cfg.Metrics)
	d.buildTracing(fs.Tracing, &cfg.Tracing)
	d.buildStore(fs.Store, &cfg.Store)
	seen := map[string]bool{}
	for i := range fs.Plugins {
		b := &fs.Plugins[i]
		if seen[b.Name] {
			d.errorf(b.DefRange, "Duplicate plugin", "plugin %q is declared twice", b.Name)
			continue
		}
		seen[b.Name] = true
		cfg.Plugins = append(cfg.Plugins, d.plugin(b, cfg.AutoMTLS))
	}
	for i := range fs.MCPServers {
		b := &fs.MCPServers[i]
		if seen[b.Name] {
			d.errorf(b.DefRange, "Duplicate plugin", "mcp_server %q has the name of another plugin or mcp_server block", b.Name)
			continue
		}
		seen[b.Name] = true
		cfg.MCPServers = append(cfg.MCPServers, d.mcpServer(b))
	}
	for i := range fs.Models {
		cfg.Models = append(cfg.Models, d.model(&fs.Models[i]))
	}
	return cfg
}

func (d *decoder) buildRetention(b *retentionBlock, r *Retention) {
	if b == nil {
		return
	}
	r.MaxRuns = int(d.count(b.MaxRuns, "max_runs", int64(r.MaxRuns), 0, 1_000_000_000))
	r.MaxAge = d.duration(b.MaxAge, "max_age", r.MaxAge)
	r.Interval = d.duration(b.Interval, "interval", r.Interval)
}

func (d *decoder) buildMetrics(b *metricsBlock, m *Metrics) {
	if b == nil {
		return
	}
	m.Disabled = !boolean(b.Enabled, true)
	m.Public = boolean(b.Public, false)
	m.Listen = str(b.Listen, "")
	if m.Listen != "" && !strings.Contains(m.Listen, ":") {
		d.errorf(b.DefRange, "Invalid metrics listen address", "metrics listen %q must be host:port (such as 127.0.0.1:9464)", m.Listen)
	}
}

func (d *decoder) buildTracing(b *tracingBlock, t *Tracing) {
	if b == nil {
		return
	}
	t.Endpoint = str(b.Endpoint, "")
	t.Insecure = boolean(b.Insecure, false)
	t.ServiceName = str(b.ServiceName, "toolhost")
	t.SampleRatio = 1
	if b.SampleRatio != nil {
		t.SampleRatio = *b.SampleRatio
		if t.SampleRatio < 0 || t.SampleRatio > 1 {
			d.errorf(b.DefRange, "Invalid sample_ratio", "tracing sample_ratio must be between 0 and 1, not %v", t.SampleRatio)
		}
	}
	if t.Endpoint != "" && strings.Contains(t.Endpoint, " ") {
		d.errorf(b.DefRange, "Invalid tracing endpoint", "tracing endpoint %q is not a URL or host:port", t.Endpoint)
	}
	t.Enabled = true
}

func (d *decoder) buildQueue(b *queueBlock, q *Queue) {
	if b == nil {
		return
	}
	q.Size = int(d.count(b.Size, "size", int64(q.Size), 1, 1_000_000))
	q.Workers = int(d.count(b.Workers, "workers", int64(q.Workers), 1, 10_000))
}

func (d *decoder) buildRateLimit(b *rateLimitBlock, rl *RateLimit) {
	if b == nil {
		return
	}
	rl.RunsPerSecond = d.rate(b.RunsPerSecond, "runs_per_second", 1_000_000)
	burst := max(1, int64(math.Ceil(2*rl.RunsPerSecond)))
	rl.Burst = int(d.count(b.Burst, "burst", burst, 1, 1_000_000))
}

func (d *decoder) plugin(b *pluginBlock, autoMTLS bool) Plugin {
	p := Plugin{
		Name: b.Name, Env: b.Env, Concurrency: DefaultConcurrency,
		Lazy: boolean(b.Lazy, false), AutoMTLS: boolean(b.AutoMTLS, autoMTLS),
		Timeout:        d.duration(b.Timeout, "timeout", DefaultTimeout),
		ActionTimeouts: map[string]time.Duration{},
	}
	if !pluginNameRe.MatchString(b.Name) {
		d.errorf(b.DefRange, "Invalid plugin name", "plugin name %q must match %s", b.Name, pluginNameRe)
	}
	if b.Path != nil {
		p.Path = d.path(*b.Path)
	}
	if b.SHA256 != nil {
		p.SHA256 = strings.ToLower(*b.SHA256)
		if !sha256Re.MatchString(p.SHA256) {
			d.errorf(b.DefRange, "Invalid sha256", "plugin %q: sha256 must be 64 hex digits", b.Name)
		}
	}
	if b.Concurrency != nil {
		p.Concurrency = *b.Concurrency
		if p.Concurrency < 1 || p.Concurrency > 10000 {
			d.errorf(b.DefRange, "Invalid concurrency", "plugin %q: concurrency must be between 1 and 10000", b.Name)
		}
	}
	for _, e := range b.Env {
		name, _, _ := strings.Cut(e, "=")
		if !envNameRe.MatchString(name) {
			d.errorf(b.DefRange, "Invalid env entry", "plugin %q: env entry %q must be NAME or NAME=value", b.Name, e)
		}
	}
	for _, a := range b.Actions {
		p.ActionTimeouts[a.Key] = d.duration(a.Timeout, "timeout", p.Timeout)
	}
	p.Config, p.ConfigEnv = d.pluginConfig(b.Config)
	return p
}

func (d *decoder) model(b *modelBlock) Model {
	m := Model{Name: b.Name, BaseURL: b.BaseURL, Model: b.Model, APIKey: str(b.APIKey, ""),
		Timeout: d.duration(b.Timeout, "timeout", DefaultTimeout)}
	m.MaxTokens = int(d.count(b.MaxTokens, "max_tokens", 0, 1, 1_000_000))
	if !strings.HasPrefix(b.BaseURL, "http://") && !strings.HasPrefix(b.BaseURL, "https://") {
		d.errorf(b.DefRange, "Invalid base_url",
			"model %q: base_url %q must start with http:// or https://", b.Name, b.BaseURL)
	}
	return m
}

// pluginConfig evaluates config = {...} to strings, and notes which keys come
// from env("NAME") so a missing value can name its variable.
func (d *decoder) pluginConfig(expr hcl.Expression) (map[string]string, map[string]string) {
	values, envs := map[string]string{}, map[string]string{}
	if expr == nil {
		return values, envs
	}
	v, diags := expr.Value(d.ctx)
	d.diags = append(d.diags, diags...)
	if diags.HasErrors() || v.IsNull() {
		return values, envs
	}
	if !v.Type().IsObjectType() && !v.Type().IsMapType() {
		d.errorf(expr.Range(), "Invalid config", "config must be an object of strings")
		return values, envs
	}
	for it := v.ElementIterator(); it.Next(); {
		k, val := it.Element()
		s, err := toString(val)
		if err != nil {
			d.errorf(expr.Range(), "Invalid config value", "config.%s: %v", k.AsString(), err)
			continue
		}
		values[k.AsString()] = s
	}
	if obj, ok := expr.(*hclsyntax.ObjectConsExpr); ok {
		for _, item := range obj.Items {
			key, kd := item.KeyExpr.Value(d.ctx)
			call, isCall := item.ValueExpr.(*hclsyntax.FunctionCallExpr)
			if kd.HasErrors() || !isCall || call.Name != "env" || len(call.Args) != 1 {
				continue
			}
			if name, nd := call.Args[0].Value(nil); !nd.HasErrors() && name.Type() == cty.String {
				envs[key.AsString()] = name.AsString()
			}
		}
	}
	return values, envs
}

func toString(v cty.Value) (string, error) {
	if v.IsNull() {
		return "", nil
	}
	switch v.Type() {
	case cty.String:
		return v.AsString(), nil
	case cty.Number:
		return v.AsBigFloat().Text('f', -1), nil
	case cty.Bool:
		if v.True() {
			return "true", nil
		}
		return "false", nil
	}
	return "", fmt.Errorf("must be a string, number or bool, not %s", v.Type().FriendlyName())
}

// value evaluates a setting; set is false when it is absent or null, or
// when evaluating it failed (which is recorded).
func (d *decoder) value(expr hcl.Expression) (v cty.Value, set bool) {
	if expr == nil {
		return cty.NilVal, false
	}
	v, diags := expr.Value(d.ctx)
	if diags.HasErrors() {
		d.diags = append(d.diags, diags...)
		return cty.NilVal, false
	}
	return v, !v.IsNull()
}

// rate reads a number above 0 and at most max (a required setting).
func (d *decoder) rate(expr hcl.Expression, name string, max float64) float64 {
	if v, set := d.value(expr); set && v.Type() == cty.Number {
		if f, _ := v.AsBigFloat().Float64(); f > 0 && f <= max {
			return f
		}
	}
	d.errorf(expr.Range(), "Invalid number", "%s must be a number above 0 and at most %g", name, max)
	return 0
}

// count reads a whole number from min to max; def when it is not set.
func (d *decoder) count(expr hcl.Expression, name string, def, min, max int64) int64 {
	v, set := d.value(expr)
	if !set {
		return def
	}
	if v.Type() == cty.Number {
		if bf := v.AsBigFloat(); bf.IsInt() {
			if n, acc := bf.Int64(); acc == big.Exact && n >= min && n <= max {
				return n
			}
		}
	}
	d.errorf(expr.Range(), "Invalid number", "%s must be a whole number from %d to %d", name, min, max)
	return def
}

func (d *decoder) duration(expr hcl.Expression, name string, def time.Duration) time.Duration {
	v, set := d.value(expr)
	if !set {
		return def
	}
	if v.Type() != cty.String {
		d.errorf(expr.Range(), "Invalid duration", "%s must be a duration string such as \"30s\" or \"2m\"", name)
		return def
	}
	dur, err := time.ParseDuration(v.AsString())
	if err != nil || dur <= 0 {
		d.errorf(expr.Range(), "Invalid duration", "%s = %q is not a positive duration such as \"30s\" or \"2m\"", name, v.AsString())
		return def
	}
	return dur
}

// baseDir is the absolute directory of the config file, which relative
// paths in it start from. Absolute, so that a plugin at "./name" next to
// plugins.hcl is run from there, not looked up in $PATH as "name".
func baseDir(filename string) string {
	dir := filepath.Dir(filename)
	if abs, err := filepath.Abs(dir); err == nil {
		return abs
	}
	return dir
}

func (d *decoder) path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(d.base, p)
}

func str(p *string, def string) string {
	if p == nil {
		return def
	}
	return *p
}

func boolean(p *bool, def bool) bool {
	if p == nil {
		return def
	}
	return *p
}
