package app

import (
	"github.com/toolhost/toolhost/host/core"
	"github.com/toolhost/toolhost/host/supervisor"
)

// executor is the supervisor as the core's Executor: its plugins, as the
// core's Plugin interface (which *supervisor.Plugin implements).
type executor struct{ sup *supervisor.Supervisor }

func (e executor) Plugins() []core.Plugin {
	ps := e.sup.List()
	out := make([]core.Plugin, len(ps))
	for i, p := range ps {
		out[i] = p
	}
	return out
}
