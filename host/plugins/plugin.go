package plugins

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/toolhost/toolhost/host/config"
	"github.com/toolhost/toolhost/internal/manifest"
	"github.com/toolhost/toolhost/internal/pluginrpc/pb"
)

// Status is where a plugin is in its life.
type Status string

// Plugin statuses.
const (
	StatusStarting      Status = "starting"
	StatusReady         Status = "ready"
	StatusIdle          Status = "idle" // lazy: manifest known, process not started yet
	StatusMisconfigured Status = "misconfigured"
	StatusRestarting    Status = "restarting"
	StatusFailed        Status = "failed"
	StatusStopped       Status = "stopped"
)

const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 30 * time.Second
	// An instance that lived this long resets the restart backoff.
	stableAfter = 30 * time.Second
)

// Plugin is one supervised plugin.
type Plugin struct {
	spec   config.Plugin
	opts   *Options
	log    hclog.Logger
	sem    chan struct{}
	sha256 string
	config []byte // spec.Config as JSON, sent with every call
	// secrets are scrubbed from what the plugin says before the host logs
	// it, answers with it or stores it (see scrub.go).
	secrets *secrets
	// outLimit rate-limits the lines the plugin prints (see output_limit.go).
	outLimit *lineLimiter

	mu       sync.Mutex
	status   Status
	reason   string // why failed or misconfigured
	manifest *manifest.Plugin
	cur      *instance
	ready    chan struct{} // closed when cur is set or the plugin gives up
	backoff  time.Duration
	restarts int
	stopping bool
}

// Info is a snapshot of a plugin for listings and health.
type Info struct {
	Name     string           `json:"name"`
	Path     string           `json:"path"`
	SHA256   string           `json:"sha256,omitempty"`
	Status   Status           `json:"status"`
	Reason   string           `json:"reason,omitempty"`
	PID      int              `json:"pid,omitempty"`
	Restarts int              `json:"restarts"`
	Manifest *manifest.Plugin `json:"-"`
	Spec     config.Plugin    `json:"-"`
}

func newPlugin(spec config.Plugin, opts *Options) *Plugin {
	cfg, _ := json.Marshal(spec.Config)
	sec := newSecrets(spec.Config).withEnv(spec.Env, opts.Getenv)
	log := scrubLogger{opts.Logger.Named("plugins").With("plugin", spec.Name), sec}
	return &Plugin{
		spec: spec, opts: opts, config: cfg, secrets: sec, outLimit: newLineLimiter(log),
		log:    log,
		sem:    make(chan struct{}, max(spec.Concurrency, 1)),
		status: StatusStarting, ready: make(chan struct{}), backoff: minBackoff,
	}
}

// Name is the plugin's name in plugins.hcl.
func (p *Plugin) Name() string { return p.spec.Name }

// Info returns a snapshot.
func (p *Plugin) Info() Info {
	p.mu.Lock()
	defer p.mu.Unlock()
	in := Info{Name: p.spec.Name, Path: p.spec.Path, SHA256: p.sha256, Status: p.status,
		Reason: p.reason, Restarts: p.restarts, Manifest: p.manifest, Spec: p.spec}
	if p.cur != nil {
		in.PID = p.cur.pid
	}
	return in
}

// Manifest returns the plugin's manifest, or nil when it never described
// itself.
func (p *Plugin) Manifest() *manifest.Plugin {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.manifest
}

// Timeout returns the timeout for an action.
func (p *Plugin) Timeout(action string) time.Duration {
	if t, ok := p.spec.ActionTimeouts[action]; ok {
		return t
	}
	return p.spec.Timeout
}

// load brings the plugin up for the first time: from the manifest cache when
// it is lazy and its binary is known, otherwise by starting it.
func (p *Plugin) load(ctx context.Context) {
	if p.spec.Lazy && p.loadCached() {
		return
	}
	if err := p.startInstance(ctx); err != nil {
		p.fail(err)
	}
}

// startLazy starts a lazy plugin's process on its first run.
func (p *Plugin) startLazy() {
	if err := p.startInstance(context.Background()); err != nil {
		p.fail(err)
	}
}

func (p *Plugin) loadCached() bool {
	if p.opts.Cache == nil {
		return false
	}
	sum, err := fileSHA256(p.spec.Path)
	if err != nil {
		return false
	}
	raw, err := p.opts.Cache.GetManifest(sum)
	if err != nil || raw == nil {
		return false
	}
	m, err := manifest.Decode(raw)
	if err != nil {
		return false
	}
	p.secrets.useManifest(m, p.spec.Config)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sha256, p.manifest = sum, m
	p.setConfigStatus(StatusIdle)
	return true
}

// startInstance launches a process, reads its manifest and checks the
// configuration, then makes it current.
func (p *Plugin) startInstance(ctx context.Context) error {
	inst, err := launch(launchOptions{spec: p.spec, startTimeout: p.opts.StartTimeout, logger: p.log, getenv: p.opts.Getenv, secrets: p.secrets, outputLimit: p.outLimit})
	if err != nil {
		return err
	}
	m, raw, err := p.describe(ctx, inst)
	if err != nil {
		inst.kill()
		return err
	}
	problems := p.checkConfig(ctx, inst, m)
	sum := p.binarySHA256(inst)
	p.mu.Lock()
	if p.stopping {
		p.mu.Unlock()
		inst.kill()
		return fmt.Errorf("plugin %q is stopping", p.spec.Name)
	}
	p.manifest, p.cur = m, inst
	cacheIt := sum != "" && p.sha256 != sum && p.opts.Cache != nil
	if sum != "" {
		p.sha256 = sum
	}
	p.reason = problems
	p.setConfigStatus(StatusReady)
	close(p.ready)
	p.mu.Unlock()
	if cacheIt {
		_ = p.opts.Cache.PutManifest(sum, raw)
	}
	go p.supervise(inst)
	return nil
}

// binarySHA256 is the digest of the binary inst runs: the one launch
// checked against a pin, else computed once for the manifest cache.
func (p *Plugin) binarySHA256(inst *instance) string {
	if inst.sha256 != "" {
		return inst.sha256
	}
	p.mu.Lock()
	known := p.sha256
	p.mu.Unlock()
	if known != "" || p.opts.Cache == nil {
		return known
	}
	sum, err := fileSHA256(p.spec.Path)
	if err != nil {
		return ""
	}
	return sum
}

func (p *Plugin) describe(ctx context.Context, inst *instance) (*manifest.Plugin, []byte, error) {
	dctx, cancel := context.WithTimeout(ctx, p.opts.StartTimeout)
	defer cancel()
	raw, err := inst.describe(dctx)
	if err != nil {
		return nil, nil, err
	}
	m, err := manifest.Decode(raw)
	if err != nil {
		return nil, nil, err
	}
	if m.Name != p.spec.Name {
		p.log.Debug("plugin calls itself by another name", "manifest_name", m.Name)
	}
	p.secrets.useManifest(m, p.spec.Config)
	return m, raw, nil
}

// checkConfig returns "" when the configuration is usable, otherwise a
// message naming the missing keys and the env variables behind them.
func (p *Plugin) checkConfig(ctx context.Context, inst *instance, m *manifest.Plugin) string {
	var missing []string
	for _, c := range m.Config {
		if c.Required && p.spec.Config[c.Key] == "" {
			if env := p.spec.ConfigEnv[c.Key]; env != "" {
				missing = append(missing, fmt.Sprintf("%s (from env %s, which is not set)", c.Key, env))
			} else {
				missing = append(missing, c.Key)
			}
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Sprintf("plugin %q is misconfigured: missing required configuration %s; set it in the plugin's config block in plugins.hcl", p.spec.Name, strings.Join(missing, ", "))
	}
	vctx, cancel := context.WithTimeout(ctx, p.opts.StartTimeout)
	defer cancel()
	resp, err := inst.rpc.ValidateConfig(vctx, &pb.ValidateConfigRequest{ConfigJson: p.config})
	if err != nil || len(resp.Problems) == 0 {
		return ""
	}
	var probs []string
	for _, pr := range resp.Problems {
		if pr.Key != "" {
			probs = append(probs, pr.Key+": "+pr.Message)
		} else {
			probs = append(probs, pr.Message)
		}
	}
	return p.secrets.scrub(fmt.Sprintf("plugin %q is misconfigured: %s", p.spec.Name, strings.Join(probs, "; ")))
}

// setConfigStatus sets status, or misconfigured when reason says so. p.mu held.
func (p *Plugin) setConfigStatus(s Status) {
	if p.reason != "" {
		p.status = StatusMisconfigured
		return
	}
	p.status = s
}

func (p *Plugin) fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.status, p.reason = StatusFailed, p.secrets.scrub(fmt.Sprintf("plugin %q failed to start: %v", p.spec.Name, err))
	p.log.Error("plugin failed to start", "error", err)
	select {
	case <-p.ready:
	default:
		close(p.ready)
	}
}

// supervise waits for the instance to exit and, unless the host stopped it,
// restarts the plugin with exponential backoff.
func (p *Plugin) supervise(inst *instance) {
	<-inst.exited
	p.mu.Lock()
	if inst.stopped || p.stopping || p.cur != inst {
		p.mu.Unlock()
		return
	}
	p.cur = nil
	p.status = StatusRestarting
	p.ready = make(chan struct{})
	if time.Since(inst.started) > stableAfter {
		p.backoff = minBackoff
	}
	wait := p.backoff
	p.backoff = min(p.backoff*2, maxBackoff)
	p.restarts++
	p.mu.Unlock()
	p.log.Warn("plugin process exited; restarting", "pid", inst.pid, "backoff", wait, "said", lastLines(inst.stderr.String(), 3))
	p.restartAfter(wait)
}

func (p *Plugin) restartAfter(wait time.Duration) {
	for {
		time.Sleep(wait)
		p.mu.Lock()
		stopping := p.stopping
		p.mu.Unlock()
		if stopping {
			return
		}
		err := p.startInstance(context.Background())
		if err == nil {
			p.log.Info("plugin restarted")
			return
		}
		p.mu.Lock()
		wait = p.backoff
		p.backoff = min(p.backoff*2, maxBackoff)
		p.reason = fmt.Sprintf("plugin %q is restarting: %v", p.spec.Name, err)
		p.mu.Unlock()
		p.log.Error("plugin restart failed", "error", err, "next_attempt_in", wait)
	}
}

// stop drains the plugin's calls (until ctx ends) and kills its process.
func (p *Plugin) stop(ctx context.Context) {
	p.mu.Lock()
	p.stopping = true
	inst := p.cur
	p.status = StatusStopped
	if inst != nil {
		inst.stopped = true
	}
	p.mu.Unlock()
	if inst == nil {
		return
	}
	drained := make(chan struct{})
	go func() { inst.calls.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-ctx.Done():
		p.log.Warn("stopping plugin with runs still in flight")
	}
	inst.kill()
}
