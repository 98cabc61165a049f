package backend

import (
	"context"

	"github.com/toolhost/toolhost/host/config"
	"github.com/toolhost/toolhost/host/core"
	"github.com/toolhost/toolhost/host/pgstore"
	"github.com/toolhost/toolhost/host/store"
)

// Bolt is a *store.DB as a Store.
func Bolt(db *store.DB) Store { return bolt{db} }

// Postgres is a *pgstore.DB as a Store.
func Postgres(db *pgstore.DB) Store { return postgres{db} }

// BoltDB returns the *store.DB under s, or nil when s is not bbolt.
func BoltDB(s Store) *store.DB {
	if b, ok := s.(bolt); ok {
		return b.DB
	}
	return nil
}

// PostgresDB returns the *pgstore.DB under s, or nil when s is not
// PostgreSQL.
func PostgresDB(s Store) *pgstore.DB {
	if p, ok := s.(postgres); ok {
		return p.DB
	}
	return nil
}

// The aggregates are returned as they are (store.Runs, pgstore.Runs...),
// so what the core asks of them by type assertion (HealthReporter,
// PageLister) still finds their methods.

type bolt struct{ *store.DB }

func (b bolt) Runs() RunStore                     { return b.DB.Runs() }
func (b bolt) Threads() core.ThreadStore          { return b.DB.Threads() }
func (b bolt) Keys() core.KeyStore                { return b.DB.Keys() }
func (b bolt) Plugins() PluginStore               { return b.DB.Plugins() }
func (b bolt) Idempotency() core.IdempotencyStore { return b.DB.Idempotency() }
func (b bolt) Check(context.Context) error        { return b.DB.Check() }
func (b bolt) Kind() string                       { return config.BackendBolt }
func (b bolt) Where() string                      { return b.DB.Path() }

func (b bolt) Counts(context.Context) (Counts, error) {
	st, err := b.DB.Stats()
	return Counts{Bytes: st.FileSize, Runs: st.Runs, Threads: st.Threads, Plugins: st.Plugins, Keys: st.Keys}, err
}

type postgres struct{ *pgstore.DB }

func (p postgres) Runs() RunStore                     { return p.DB.Runs() }
func (p postgres) Threads() core.ThreadStore          { return p.DB.Threads() }
func (p postgres) Keys() core.KeyStore                { return p.DB.Keys() }
func (p postgres) Plugins() PluginStore               { return p.DB.Plugins() }
func (p postgres) Idempotency() core.IdempotencyStore { return p.DB.Idempotency() }
func (p postgres) Kind() string                       { return config.BackendPostgres }

func (p postgres) Counts(ctx context.Context) (Counts, error) {
	st, err := p.DB.Stats(ctx)
	return Counts{Bytes: st.Size, Runs: st.Runs, Threads: st.Threads, Plugins: st.Plugins, Keys: st.Keys}, err
}
