package pgstore_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/toolhost/toolhost/host/pgstore"
	"github.com/toolhost/toolhost/internal/pgtest"
)

func TestOpenMigratesOnce(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	// Replicas starting together: every Open succeeds, the migrations are
	// applied by exactly one of them.
	const n = 4
	var wg sync.WaitGroup
	dbs := make([]*pgstore.DB, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dbs[i], errs[i] = pgstore.Open(ctx, pgstore.Options{DSN: dsn, SecretKey: testKey})
		}()
	}
	wg.Wait()
	ms, err := pgstore.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	applied := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("open %d: %v", i, errs[i])
		}
		defer dbs[i].Close()
		applied += dbs[i].Migrated()
	}
	if applied != len(ms) {
		t.Fatalf("%d migrations applied in all, want %d (each once)", applied, len(ms))
	}
	v, count, err := dbs[0].Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v != pgstore.SchemaVersion() || count != len(ms) {
		t.Fatalf("version %d with %d applied, want %d with %d", v, count, pgstore.SchemaVersion(), len(ms))
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	db, dsn := open(t)
	ctx := context.Background()
	if _, err := db.Pool().Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES (9999, 'future')"); err != nil {
		t.Fatal(err)
	}
	_, err := pgstore.Open(ctx, pgstore.Options{DSN: dsn})
	if !errors.Is(err, pgstore.ErrSchemaVersion) || !strings.Contains(err.Error(), "9999") {
		t.Fatalf("err = %v, want ErrSchemaVersion naming 9999", err)
	}
}

// closedPort returns a 127.0.0.1 port nothing listens on.
func closedPort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

func TestOpenUnreachableNamesHostNotPassword(t *testing.T) {
	port := closedPort(t)
	dsn := "postgres://toolhost:s3cretPassw0rd@127.0.0.1:" + strconv.Itoa(port) + "/toolhost?sslmode=disable"
	_, err := pgstore.Open(context.Background(), pgstore.Options{DSN: dsn, ConnectTimeout: 2 * time.Second})
	if !errors.Is(err, pgstore.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "127.0.0.1:"+strconv.Itoa(port)) {
		t.Errorf("error does not name the host and port: %s", msg)
	}
	if strings.Contains(msg, "s3cretPassw0rd") {
		t.Errorf("error shows the password: %s", msg)
	}
}

func TestOpenBadDSN(t *testing.T) {
	for _, tc := range []struct{ dsn, want string }{
		{"", "dsn is empty"},
		{"postgres://u:pw@host:notaport/db", "dsn cannot be parsed"},
		{"mysql://u:hunter2@host/db", "dsn cannot be parsed"},
		{"host=h port=99999999 password=hunter2", "dsn cannot be parsed"},
	} {
		_, err := pgstore.Open(context.Background(), pgstore.Options{DSN: tc.dsn})
		if !errors.Is(err, pgstore.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%q) = %v, want ErrInvalid containing %q", tc.dsn, err, tc.want)
		}
		if err != nil && (strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), ":pw@")) {
			t.Errorf("Open(%q): error shows the password: %v", tc.dsn, err)
		}
	}
}

func TestOpenBadSecretKey(t *testing.T) {
	_, err := pgstore.Open(context.Background(), pgstore.Options{DSN: "postgres://127.0.0.1/x", SecretKey: []byte("short")})
	if err == nil || !strings.Contains(err.Error(), "secret key must be 32 bytes") {
		t.Fatalf("err = %v, want the key size named", err)
	}
}

func TestHealthDegradesWhileTheDatabaseIsGone(t *testing.T) {
	db, dsn := open(t)
	if err := db.Health(); err != nil {
		t.Fatalf("Health = %v on a fresh store", err)
	}
	// Forbid new connections and end the pool's ones: the database is
	// gone for this store.
	admin, err := pgstore.Open(context.Background(), pgstore.Options{DSN: strings.Replace(dsn, dbName(dsn), "postgres", 1), SkipMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	ctx := context.Background()
	name := dbName(dsn)
	exec := func(sql string) {
		t.Helper()
		if _, err := admin.Pool().Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	exec("ALTER DATABASE " + name + " WITH ALLOW_CONNECTIONS false")
	exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + name + "'")
	waitFor(t, 10*time.Second, func() bool { return db.Health() != nil })
	if err := db.Health(); !errors.Is(err, pgstore.ErrUnavailable) || !strings.Contains(err.Error(), db.Where()) {
		t.Fatalf("Health = %v, want ErrUnavailable naming %s", err, db.Where())
	}
	exec("ALTER DATABASE " + name + " WITH ALLOW_CONNECTIONS true")
	waitFor(t, 10*time.Second, func() bool { return db.Health() == nil })
}

func dbName(dsn string) string {
	s := dsn[strings.LastIndex(dsn, "/")+1:]
	s, _, _ = strings.Cut(s, "?")
	return s
}

func waitFor(t *testing.T, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s", d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
