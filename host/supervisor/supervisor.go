package supervisor

import (
	"context"
	"os"
	"reflect"
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/toolhost/toolhost/host/config"
)

// ManifestCache keeps manifests by binary sha256 so lazy plugins need not
// start to be listed. The store implements it.
type ManifestCache interface {
	GetManifest(ctx context.Context, sha256 string) ([]byte, error)
	PutManifest(ctx context.Context, sha256 string, raw []byte) error
}

// Options are the supervisor's settings.
type Options struct {
	Logger       hclog.Logger
	StartTimeout time.Duration
	KillGrace    time.Duration
	Cache        ManifestCache       // optional
	Getenv       func(string) string // for env entries; os.Getenv when nil
	// ExtraEnv, when set, gives the entries added to a plugin's
	// environment after its block's own (the host's traces destination;
	// see tracing.PluginEnv). It is called at each start of the plugin's
	// process with the plugin's name and the entries its block gave it.
	// nil: a plugin gets its block's entries alone.
	ExtraEnv func(plugin string, env []string) []string
}

// Supervisor runs a set of plugins.
type Supervisor struct {
	opts    *Options
	mu      sync.RWMutex
	plugins map[string]*Plugin
	stamps  map[string]stamp
}

// stamp identifies a binary version cheaply, to tell whether it changed.
type stamp struct {
	size  int64
	mtime time.Time
}

// New returns a supervisor with no plugins.
func New(opts Options) *Supervisor {
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = config.DefaultStartTimeout
	}
	if opts.KillGrace <= 0 {
		opts.KillGrace = config.DefaultKillGrace
	}
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	return &Supervisor{opts: &opts, plugins: map[string]*Plugin{}, stamps: map[string]stamp{}}
}

// Load starts every plugin in specs, in parallel, and replaces the current
// set. Plugins whose spec and binary are unchanged keep running; so do
// those whose configuration alone changed, which get the new values in
// place (runs in flight finish with the old ones). Replaced and removed
// plugins are stopped once their in-flight runs finish (bounded by drain).
// A plugin that fails to start is kept with status failed, and its reason
// says why.
func (s *Supervisor) Load(ctx context.Context, specs []config.Plugin, drain time.Duration) {
	s.mu.RLock()
	old, oldStamps := s.plugins, s.stamps
	s.mu.RUnlock()
	next, stamps := map[string]*Plugin{}, map[string]stamp{}
	var started, reconfigured []*Plugin
	var reconfigs []config.Plugin
	for _, spec := range specs {
		st := stampOf(spec.Path)
		stamps[spec.Name] = st
		if p, ok := old[spec.Name]; ok && sameBinary(p.spec, spec) && oldStamps[spec.Name] == st && p.Info().Status != StatusFailed {
			next[spec.Name] = p
			if !p.sameConfig(spec.Config, spec.ConfigEnv) {
				reconfigured, reconfigs = append(reconfigured, p), append(reconfigs, spec)
			}
			continue
		}
		p := newPlugin(spec, s.opts)
		next[spec.Name] = p
		started = append(started, p)
	}
	var wg sync.WaitGroup
	for _, p := range started {
		wg.Add(1)
		go func() { defer wg.Done(); p.load(ctx) }()
	}
	for i, p := range reconfigured {
		wg.Add(1)
		go func() { defer wg.Done(); p.reconfigure(ctx, reconfigs[i].Config, reconfigs[i].ConfigEnv) }()
	}
	wg.Wait()
	s.mu.Lock()
	s.plugins, s.stamps = next, stamps
	s.mu.Unlock()
	for name, p := range old {
		if next[name] != p {
			go func() {
				dctx, cancel := context.WithTimeout(context.Background(), drain)
				defer cancel()
				p.stop(dctx)
			}()
		}
	}
}

// sameBinary reports whether a and b differ at most in their
// configuration values, which a running plugin can take in place.
func sameBinary(a, b config.Plugin) bool {
	a.Config, a.ConfigEnv, b.Config, b.ConfigEnv = nil, nil, nil, nil
	return reflect.DeepEqual(a, b)
}

func stampOf(path string) stamp {
	fi, err := os.Stat(path)
	if err != nil {
		return stamp{}
	}
	return stamp{size: fi.Size(), mtime: fi.ModTime()}
}

// Get returns the named plugin, or nil.
func (s *Supervisor) Get(name string) *Plugin {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.plugins[name]
}

// List returns the plugins sorted by name.
func (s *Supervisor) List() []*Plugin {
	s.mu.RLock()
	out := make([]*Plugin, 0, len(s.plugins))
	for _, p := range s.plugins {
		out = append(out, p)
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].spec.Name < out[j].spec.Name })
	return out
}

// Shutdown drains in-flight runs until ctx ends, then stops every plugin.
func (s *Supervisor) Shutdown(ctx context.Context) {
	s.mu.Lock()
	ps := s.plugins
	s.plugins = map[string]*Plugin{}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range ps {
		wg.Add(1)
		go func() { defer wg.Done(); p.stop(ctx) }()
	}
	wg.Wait()
}
