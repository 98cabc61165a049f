package core

import (
	"encoding/json"
	"slices"
	"sort"
	"sync"

	"github.com/toolhost/toolhost/host/domain"
	"github.com/toolhost/toolhost/internal/manifest"
	"github.com/toolhost/toolhost/internal/schemacheck"
)

// PluginEntry is an installed plugin as the API shows it.
type PluginEntry struct {
	ID       string
	Name     string
	Manifest *manifest.Plugin
	Actions  []*Action
	plugin   Plugin
}

// Info is the plugin's state now (status, restarts, pid); the catalog is
// rebuilt only when manifests change, so it is read live.
func (p *PluginEntry) Info() domain.PluginInfo { return p.plugin.Info() }

// Action is an action as the API shows it and the Runner runs it.
type Action struct {
	ID          string
	Key         string
	Alias       string // plugin.actionKey
	Title       string
	Description string
	Type        string
	Plugin      *PluginEntry
	Input       *manifest.Schema
	Output      json.RawMessage
	secret      map[string]bool
	inputCheck  *schemacheck.Validator
	outputCheck *schemacheck.Validator
}

// SideEffects reports whether running the action may change the world.
func (a *Action) SideEffects() bool { return a.Type != manifest.TypeRead }

// Catalog is the set of plugins and actions at one moment.
type Catalog struct {
	Plugins []*PluginEntry
	actions map[string]*Action // by id and by alias
	plugins map[string]*PluginEntry
	list    []*Action
}

// Action finds an action by id or by plugin.actionKey alias.
func (c *Catalog) Action(ref string) *Action { return c.actions[ref] }

// Plugin finds a plugin by id or name.
func (c *Catalog) Plugin(ref string) *PluginEntry { return c.plugins[ref] }

// Actions lists every action, plugin by plugin, in declaration order.
func (c *Catalog) Actions() []*Action { return c.list }

// catalogCache rebuilds the catalog only when a plugin's manifest changed.
type catalogCache struct {
	mu   sync.Mutex
	seen []*manifest.Plugin
	ps   []Plugin
	cur  *Catalog

	watchers catalogWatchers
}

func (cc *catalogCache) get(exec Executor) *Catalog {
	var ps []Plugin
	if exec != nil {
		ps = exec.Plugins()
	}
	ms := make([]*manifest.Plugin, len(ps))
	for i, p := range ps {
		ms[i] = p.Manifest()
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.cur != nil && slices.Equal(cc.seen, ms) && slices.Equal(cc.ps, ps) {
		return cc.cur
	}
	first := cc.cur == nil
	cc.cur, cc.seen, cc.ps = buildCatalog(ps, ms), ms, ps
	if !first {
		cc.watchers.notify(cc.cur)
	}
	return cc.cur
}

func buildCatalog(ps []Plugin, ms []*manifest.Plugin) *Catalog {
	c := &Catalog{actions: map[string]*Action{}, plugins: map[string]*PluginEntry{}}
	for i, p := range ps {
		pe := &PluginEntry{ID: PluginID(p.Name()), Name: p.Name(), Manifest: ms[i], plugin: p}
		c.Plugins = append(c.Plugins, pe)
		c.plugins[pe.ID], c.plugins[pe.Name] = pe, pe
		if ms[i] == nil {
			continue
		}
		for _, ma := range ms[i].Actions {
			a := newAction(pe, ma)
			if a == nil {
				continue
			}
			pe.Actions = append(pe.Actions, a)
			c.list = append(c.list, a)
			c.actions[a.ID], c.actions[a.Alias] = a, a
		}
	}
	sort.SliceStable(c.Plugins, func(i, j int) bool { return c.Plugins[i].Name < c.Plugins[j].Name })
	return c
}

func newAction(pe *PluginEntry, ma manifest.Action) *Action {
	in, err := manifest.ParseSchema(ma.InputSchema)
	if err != nil {
		return nil
	}
	inCheck, err := schemacheck.Compile(ma.InputSchema)
	if err != nil {
		return nil
	}
	outCheck, err := schemacheck.Compile(ma.OutputSchema)
	if err != nil {
		return nil
	}
	a := &Action{
		ID: ActionID(pe.Name, ma.Key), Key: ma.Key, Alias: pe.Name + "." + ma.Key,
		Title: ma.Title, Description: ma.Description, Type: ma.Type, Plugin: pe,
		Input: in, Output: ma.OutputSchema, secret: map[string]bool{},
		inputCheck: inCheck, outputCheck: outCheck,
	}
	for _, s := range ma.SecretInputs {
		a.secret[s] = true
	}
	return a
}
