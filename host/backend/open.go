package backend

import (
	"context"
	"fmt"
	"time"

	"github.com/toolhost/toolhost/host/config"
	"github.com/toolhost/toolhost/host/pgstore"
	"github.com/toolhost/toolhost/host/store"
)

// Options say which store to open and how.
type Options struct {
	// Store is plugins.hcl's store block (zero: bbolt).
	Store config.Store
	// DataDir holds the bbolt file.
	DataDir string
	// SecretKey seals secret plugin config values; every replica sharing
	// a PostgreSQL database needs the same one.
	SecretKey []byte
	// Observer hears of bbolt's group commits and journal writes.
	Observer store.Observer
	// Timeout: how long bbolt waits for the file lock (store.Options),
	// and how long connecting to PostgreSQL may take. Zero: defaults.
	Timeout time.Duration
}

// Open opens the store the options name.
func Open(ctx context.Context, opts Options) (Store, error) {
	switch opts.Store.Backend {
	case "", config.BackendBolt:
		db, err := store.Open(opts.DataDir, store.Options{SecretKey: opts.SecretKey, Observer: opts.Observer, Timeout: opts.Timeout})
		if err != nil {
			return nil, err
		}
		return Bolt(db), nil
	case config.BackendPostgres:
		db, err := pgstore.Open(ctx, pgstore.Options{DSN: opts.Store.DSN, SecretKey: opts.SecretKey, ConnectTimeout: opts.Timeout})
		if err != nil {
			return nil, err
		}
		return Postgres(db), nil
	default:
		return nil, fmt.Errorf("store backend must be %q or %q, got %q", config.BackendBolt, config.BackendPostgres, opts.Store.Backend)
	}
}
