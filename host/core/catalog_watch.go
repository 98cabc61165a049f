package core

import "sync"

// catalogWatchers are the functions told when the catalog is rebuilt
// because a plugin's manifest (or the set of plugins) changed.
type catalogWatchers struct {
	mu  sync.Mutex
	fns []func(*Catalog)
}

// OnCatalogChange registers fn to be called, on its own goroutine, with
// each new catalog: plugins loaded, refreshed, removed, or restarted with a
// new manifest. The catalog is rebuilt when it is next read after such a
// change (Catalog), so a door that must notice changes without being asked
// reads Catalog now and then.
func (r *Runner) OnCatalogChange(fn func(*Catalog)) {
	r.catalog.watchers.mu.Lock()
	r.catalog.watchers.fns = append(r.catalog.watchers.fns, fn)
	r.catalog.watchers.mu.Unlock()
}

func (w *catalogWatchers) notify(c *Catalog) {
	w.mu.Lock()
	fns := w.fns
	w.mu.Unlock()
	for _, fn := range fns {
		go fn(c)
	}
}
