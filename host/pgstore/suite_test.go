package pgstore_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/toolhost/toolhost/host/backend"
	"github.com/toolhost/toolhost/host/pgstore"
	"github.com/toolhost/toolhost/host/store/storetest"
	"github.com/toolhost/toolhost/internal/pgtest"
)

// pgHarness makes PostgreSQL stores, each on a fresh database of the test
// binary's throwaway cluster, for the shared suite.
var pgHarness = storetest.Harness{
	New: func(t testing.TB) string { return pgtest.DSN(t) },
	Open: func(t testing.TB, dsn string, key []byte) backend.Store {
		t.Helper()
		db, err := pgstore.Open(context.Background(), pgstore.Options{DSN: dsn, SecretKey: key})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { db.Close() })
		return backend.Postgres(db)
	},
	// The plugin and key rows as the database holds them.
	AtRest: func(t testing.TB, dsn string) []byte {
		t.Helper()
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var all []byte
		err = conn.QueryRow(ctx, `SELECT coalesce(string_agg(b, ''::bytea), ''::bytea) FROM (
SELECT record AS b FROM plugins UNION ALL SELECT record FROM api_keys UNION ALL SELECT digest FROM api_keys) AS stored`).Scan(&all)
		if err != nil {
			t.Fatal(err)
		}
		return all
	},
}

// TestSuite runs the tests every store backend passes on PostgreSQL.
func TestSuite(t *testing.T) { storetest.Run(t, pgHarness) }
