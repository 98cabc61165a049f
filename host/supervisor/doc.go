// Package supervisor is the host's plugin supervisor. It launches each plugin
// binary as its own process over hashicorp/go-plugin gRPC, reads its
// manifest, checks its configuration, and runs actions on it with a
// concurrency limit and a timeout per action. It restarts a plugin that
// exits, with exponential backoff, and makes sure no plugin process outlives
// the host: each runs in its own process group with a parent-death signal,
// and the sdk side also exits when its parent changes.
//
// What a plugin says (its stderr, log events, error messages) is scrubbed
// of its secret configuration values before the host logs it, answers with
// it or stores it (scrub.go). What a serving plugin prints is logged a line
// at a time (output.go).
//
// A plugin process gets its configuration once, with Configure, after it
// starts; each run then carries only its input, which the core has checked
// against the action's schema, and the request says so, so that the plugin
// decodes it once. A plugin built with an sdk before protocol version 2
// gets the configuration with every run instead, and its string error
// codes are read as before (run.go).
//
// A Supervisor holds the current set of Plugins; Load swaps in a new set
// without dropping in-flight runs (a replaced plugin is stopped once its runs
// have finished; a plugin whose configuration alone changed keeps running
// and is reconfigured in place).
package supervisor
