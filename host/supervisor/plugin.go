package supervisor

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/toolhost/toolhost/host/config"
	"github.com/toolhost/toolhost/host/domain"
	"github.com/toolhost/toolhost/internal/manifest"
	"github.com/toolhost/toolhost/internal/pluginrpc"
	"github.com/toolhost/toolhost/internal/pluginrpc/pb"
)

// Status is where a plugin is in its life (the domain's PluginStatus).
type Status = domain.PluginStatus

// Plugin statuses.
const (
	StatusStarting      = domain.PluginStarting
	StatusReady         = domain.PluginReady
	StatusIdle          = domain.PluginIdle
	StatusMisconfigured = domain.PluginMisconfigured
	StatusRestarting    = domain.PluginRestarting
	StatusFailed        = domain.PluginFailed
	StatusStopped       = domain.PluginStopped
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
	// conf is the configuration: the values spec.Config had, until a
	// reload changes them in place (see reconfigure).
	conf atomic.Pointer[pluginConfig]
	// configuring is held while an instance is given the configuration,
	// so that a new instance and a reconfiguration end with the latest.
	configuring sync.Mutex
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
type Info = domain.PluginInfo

// pluginConfig is a plugin's configuration values, the env variables
// they were read from, and the values as the JSON the protocol carries.
type pluginConfig struct {
	values map[string]string
	env    map[string]string
	json   []byte
}

func newPluginConfig(values, env map[string]string) *pluginConfig {
	raw, _ := json.Marshal(values)
	return &pluginConfig{values: values, env: env, json: raw}
}

func newPlugin(spec config.Plugin, opts *Options) *Plugin {
	sec := newSecrets(spec.Config).withEnv(spec.Env, opts.Getenv)
	log := scrubLogger{opts.Logger.Named("plugins").With("plugin", spec.Name), sec}
	p := &Plugin{
		spec: spec, opts: opts, secrets: sec, outLimit: newLineLimiter(log),
		log:    log,
		sem:    make(chan struct{}, max(spec.Concurrency, 1)),
		status: StatusStarting, ready: make(chan struct{}), backoff: minBackoff,
	}
	p.conf.Store(newPluginConfig(spec.Config, spec.ConfigEnv))
	return p
}

// Name is the plugin's name in plugins.hcl.
func (p *Plugin) Name() string { return p.spec.Name }

// Info returns a snapshot.
func (p *Plugin) Info() Info {
	p.mu.Lock()
	defer p.mu.Unlock()
	in := Info{Name: p.spec.Name, Path: p.spec.Path, SHA256: p.sha256, Status: p.status,
		Reason: p.reason, Restarts: p.restarts}
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
	raw, err := p.opts.Cache.GetManifest(context.Background(), sum)
	if err != nil || raw == nil {
		return false
	}
	m, err := manifest.Decode(raw)
	if err != nil {
		return false
	}
	p.secrets.useManifest(m, p.conf.Load().values)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sha256, p.manifest = sum, m
	p.setConfigStatus(StatusIdle)
	return true
}

// startInstance launches a process, reads its manifest and checks the
// configuration, then makes it current.
func (p *Plugin) startInstance(ctx context.Context) error {
	inst, err := launch(launchOptions{spec: p.spec, startTimeout: p.opts.StartTimeout, logger: p.log, getenv: p.opts.Getenv,
		extraEnv: p.opts.ExtraEnv, secrets: p.secrets, outputLimit: p.outLimit})
	if err != nil {
		return err
	}
	m, raw, err := p.describe(ctx, inst)
	if err != nil {
		inst.kill()
		return err
	}
	p.configuring.Lock()
	defer p.configuring.Unlock()
	problems, err := p.configure(ctx, inst, m)
	if err != nil {
		inst.kill()
		return err
	}
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
		_ = p.opts.Cache.PutManifest(context.Background(), sum, raw)
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
	p.secrets.useManifest(m, p.conf.Load().values)
	return m, raw, nil
}

// configure gives inst the current configuration (protocol v2; a v1
// plugin gets it with every run) and returns "" when the configuration is
// usable, otherwise a message naming the missing keys and the env
// variables behind them, or the plugin's problems with it. An error means
// the plugin could not be given its configuration.
func (p *Plugin) configure(ctx context.Context, inst *instance, m *manifest.Plugin) (string, error) {
	conf := p.conf.Load()
	var missing []string
	for _, c := range m.Config {
		if c.Required && conf.values[c.Key] == "" {
			if env := conf.env[c.Key]; env != "" {
				missing = append(missing, fmt.Sprintf("%s (from env %s, which is not set)", c.Key, env))
			} else {
				missing = append(missing, c.Key)
			}
		}
	}
	vctx, cancel := context.WithTimeout(ctx, p.opts.StartTimeout)
	defer cancel()
	var problems []*pb.ConfigProblem
	if inst.version >= pluginrpc.ProtocolVersion {
		resp, err := inst.rpc.Configure(vctx, &pb.ConfigureRequest{ConfigJson: conf.json})
		if err != nil {
			return "", fmt.Errorf("configure: %w", pluginrpc.Explain(err))
		}
		problems = resp.Problems
	}
	unknown := unknownConfigKeys(m, conf.values)
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Sprintf("plugin %q is misconfigured: missing required configuration %s; set it in the plugin's config block in plugins.hcl", p.spec.Name, strings.Join(missing, ", ")) +
			strings.Join(append([]string{""}, unknown...), "; "), nil
	}
	if len(unknown) > 0 {
		return fmt.Sprintf("plugin %q is misconfigured: %s", p.spec.Name, strings.Join(unknown, "; ")), nil
	}
	if inst.version < pluginrpc.ProtocolVersion {
		resp, err := inst.rpc.ValidateConfig(vctx, &pb.ValidateConfigRequest{ConfigJson: conf.json})
		if err != nil {
			return "", nil
		}
		problems = resp.Problems
	}
	return p.problemText(problems), nil
}

// problemText is "" for no problems, else a message naming each.
func (p *Plugin) problemText(problems []*pb.ConfigProblem) string {
	if len(problems) == 0 {
		return ""
	}
	var probs []string
	for _, pr := range problems {
		if pr.Key != "" {
			probs = append(probs, pr.Key+": "+pr.Message)
		} else {
			probs = append(probs, pr.Message)
		}
	}
	return p.secrets.scrub(fmt.Sprintf("plugin %q is misconfigured: %s", p.spec.Name, strings.Join(probs, "; ")))
}

// sameConfig reports whether values and env are the plugin's
// configuration.
func (p *Plugin) sameConfig(values, env map[string]string) bool {
	c := p.conf.Load()
	return maps.Equal(c.values, values) && maps.Equal(c.env, env)
}

// reconfigure makes values (read from env) the plugin's configuration
// without restarting it: a running v2 instance gets them with Configure,
// a v1 instance with its next runs, a plugin that is not running when it
// starts. Runs in flight keep the configuration they started with. The
// status becomes misconfigured, or stops being, as the new values say.
func (p *Plugin) reconfigure(ctx context.Context, values, env map[string]string) {
	p.configuring.Lock()
	defer p.configuring.Unlock()
	p.mu.Lock()
	m, inst := p.manifest, p.cur
	p.mu.Unlock()
	p.secrets.widen(m, values)
	p.conf.Store(newPluginConfig(values, env))
	if inst == nil || inst.isExited() {
		return // the next start configures it
	}
	reason, err := p.configure(ctx, inst, m)
	if err != nil {
		p.log.Warn("could not reconfigure the plugin; restarting it", "error", err)
		inst.kill() // supervise restarts it, with the new configuration
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur != inst || p.stopping {
		return
	}
	p.reason = reason
	p.setConfigStatus(StatusReady)
	p.log.Info("plugin reconfigured", "misconfigured", reason != "")
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
