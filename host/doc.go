// Package host is toolhost's core: the Runner resolves an action, checks
// and coerces its input, records the run, calls the plugin through the
// supervisor (host/plugins), records the result in the store (host/store)
// and streams the run's events to whoever follows it. The HTTP API
// (host/api) and the assistant loop sit above it; nothing below imports it.
package host
