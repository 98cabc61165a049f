// Package domain holds what every layer of toolhost speaks of: runs and
// their events, the run state machine, threads and messages, API keys and
// their scopes, installed-plugin records, plugin status, and the error
// codes that travel from a plugin or a store up to a door (HTTP, MCP),
// where one table maps each code to a status.
//
// It sits at the top of the import graph and imports nothing of toolhost:
// the core, the doors, the executors and the stores all import it.
package domain
