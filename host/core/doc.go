// Package core is toolhost's run pipeline. Every door (the HTTP API, MCP,
// the console, the assistant loop's tool calls) hands a run to
// Runner.Submit, which resolves the action, decodes the arguments once,
// fills them from a prompt when asked, checks them once, redacts secret
// parameters, applies the caller's idempotency key, records the run,
// executes it through an Executor, checks the output and records the end.
//
// The core depends only on the domain (host/domain) and on the small
// interfaces it declares in ports.go: an Executor that calls plugins and one
// store per aggregate. The plugin supervisor (host/supervisor) and the
// bbolt store (host/store) implement them; the composition root (host/app)
// wires them together. Nothing below the core imports it.
//
// With several replicas on one database, the Runner also takes a Cluster
// (cluster.go; host/pgstore implements it): non-blocking runs then go to
// the deployment's queue, which every replica's workers take from, and
// runs are followed, waited for and cancelled across replicas
// (cluster_*.go). Without one, all of that stays in the process.
package core
