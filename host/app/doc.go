// Package app is toolhost's composition root: it opens the store, starts
// the plugin supervisor, builds the core's runner and the assistant over
// them, and the HTTP handler in front. serve, the test harnesses, e2e and
// the benchmark all start a host through New, so there is one way to wire
// one.
//
//	doors (host/api)  →  core (host/core, host/assistant)  →  executors (host/supervisor)
//	                                                      →  stores    (host/store)
//
// Only this package knows every layer; each layer knows only the one
// below it, through the interfaces the core declares.
package app
