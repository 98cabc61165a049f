package mcpclient

import (
	"context"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/toolhost/toolhost/host/config"
)

// Set is the hosted MCP servers.
type Set struct {
	opts     Options
	onChange atomic.Pointer[func()]

	mu      sync.Mutex
	servers []*Server
}

// New returns an empty set.
func New(opts Options) *Set {
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	if opts.Getenv == nil {
		opts.Getenv = func(string) string { return "" }
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = config.DefaultStartTimeout
	}
	if opts.KillGrace <= 0 {
		opts.KillGrace = config.DefaultKillGrace
	}
	st := &Set{opts: opts}
	if opts.OnChange != nil {
		st.onChange.Store(&opts.OnChange)
	}
	st.opts.OnChange = func() {
		if fn := st.onChange.Load(); fn != nil {
			(*fn)()
		}
	}
	return st
}

// SetOnChange sets the hook called when a server's tools change; servers
// may already be running.
func (st *Set) SetOnChange(fn func()) { st.onChange.Store(&fn) }

// Load makes specs the hosted servers: new ones start (all at once, each
// within the start timeout), removed ones stop (their calls in flight
// finish until the grace ends), changed ones are replaced, unchanged ones
// are kept.
func (st *Set) Load(ctx context.Context, specs []config.MCPServer, grace time.Duration) {
	st.mu.Lock()
	old := map[string]*Server{}
	for _, s := range st.servers {
		old[s.spec.Name] = s
	}
	var next, started []*Server
	for _, spec := range specs {
		if s := old[spec.Name]; s != nil && reflect.DeepEqual(s.spec, spec) {
			next = append(next, s)
			delete(old, spec.Name)
			continue
		}
		s := newServer(spec, &st.opts)
		next = append(next, s)
		started = append(started, s)
	}
	st.servers = next
	st.mu.Unlock()
	var wg sync.WaitGroup
	for _, s := range started {
		wg.Add(1)
		go func() { defer wg.Done(); s.load(ctx) }()
	}
	for _, s := range old {
		wg.Add(1)
		go func() {
			defer wg.Done()
			gctx, cancel := context.WithTimeout(context.Background(), grace)
			defer cancel()
			s.stop(gctx)
		}()
	}
	wg.Wait()
}

// List returns the servers in plugins.hcl order.
func (st *Set) List() []*Server {
	st.mu.Lock()
	defer st.mu.Unlock()
	return append([]*Server(nil), st.servers...)
}

// Get is the server named name, nil when there is none.
func (st *Set) Get(name string) *Server {
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, s := range st.servers {
		if s.spec.Name == name {
			return s
		}
	}
	return nil
}

// Shutdown stops every server: calls in flight finish until ctx ends,
// then the servers' process groups are killed.
func (st *Set) Shutdown(ctx context.Context) {
	var wg sync.WaitGroup
	for _, s := range st.List() {
		wg.Add(1)
		go func() { defer wg.Done(); s.stop(ctx) }()
	}
	wg.Wait()
}
