package pgstore_test

import (
	"context"
	"testing"

	"github.com/toolhost/toolhost/host/pgstore"
	"github.com/toolhost/toolhost/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// testKey is the secret key the tests seal with.
var testKey = []byte("0123456789abcdef0123456789abcdef")

// open opens a store on a fresh database; it is closed with the test.
func open(t testing.TB) (*pgstore.DB, string) {
	t.Helper()
	dsn := pgtest.DSN(t)
	db, err := pgstore.Open(context.Background(), pgstore.Options{DSN: dsn, SecretKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, dsn
}
