// Package backend is the seam between the host and its store: the
// interfaces both store backends satisfy (bbolt, host/store; PostgreSQL,
// host/pgstore), and Open, which opens the one plugins.hcl's store block
// names. The host, the CLI and the shared store tests
// (host/store/storetest) use a Store without knowing which it is; what
// only bbolt has (the run journal, damage reports, repair) stays on
// *store.DB.
package backend

import (
	"context"
	"time"

	"github.com/toolhost/toolhost/host/core"
	"github.com/toolhost/toolhost/host/domain"
)

// Store is an open store of either backend.
type Store interface {
	Runs() RunStore
	Threads() core.ThreadStore
	Keys() core.KeyStore
	Plugins() PluginStore
	Idempotency() core.IdempotencyStore
	// Health is nil while runs can be recorded (core.HealthReporter).
	Health() error
	// Check verifies the store's own invariants; nil or an error wrapping
	// store.ErrCorrupt naming each problem.
	Check(ctx context.Context) error
	// Counts counts the records.
	Counts(ctx context.Context) (Counts, error)
	// Kind is config.BackendBolt or config.BackendPostgres.
	Kind() string
	// Where names the data for people: the file, or the database's host
	// and port (never a password).
	Where() string
	Close() error
}

// RunStore keeps runs (core.RunStore) and the host's maintenance of them.
type RunStore interface {
	core.RunStore
	// PutRuns stores several runs: all of them or none.
	PutRuns(ctx context.Context, runs []*domain.Run) error
	// InterruptRuns fails the runs left unfinished by a host that stopped.
	InterruptRuns(ctx context.Context) (int, error)
	// Prune deletes finished runs beyond maxRuns or older than maxAge,
	// and expired idempotency records.
	Prune(ctx context.Context, maxRuns int, maxAge time.Duration, now time.Time) (int, error)
}

// PluginStore keeps installed plugins (secret config values sealed) and
// the manifest cache.
type PluginStore interface {
	PutPlugin(ctx context.Context, p *domain.PluginRecord) error
	GetPlugin(ctx context.Context, name string) (*domain.PluginRecord, error)
	ListPlugins(ctx context.Context) ([]*domain.PluginRecord, error)
	DeletePlugin(ctx context.Context, name string) error
	PutManifest(ctx context.Context, sha string, raw []byte) error
	GetManifest(ctx context.Context, sha string) ([]byte, error)
}

// Counts are a store's record counts and size.
type Counts struct {
	Bytes   int64 // the file's or the database's size
	Runs    int
	Threads int
	Plugins int
	Keys    int
}
