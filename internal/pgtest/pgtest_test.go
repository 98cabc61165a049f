package pgtest_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/toolhost/toolhost/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestFreshDatabases(t *testing.T) {
	ctx := context.Background()
	a, b := pgtest.DSN(t), pgtest.DSN(t)
	if a == b {
		t.Fatalf("two calls gave the same database %s", a)
	}
	conn, err := pgx.Connect(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE TABLE t (x int)"); err != nil {
		t.Fatal(err)
	}
	var fsync string
	if err := conn.QueryRow(ctx, "SHOW fsync").Scan(&fsync); err != nil || fsync != "on" {
		t.Fatalf("fsync = %q (%v), want on", fsync, err)
	}
	conn2, err := pgx.Connect(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close(ctx)
	var n int
	if err := conn2.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE tablename = 't'").Scan(&n); err != nil || n != 0 {
		t.Fatalf("the second database sees the first one's table (n=%d, err=%v)", n, err)
	}
}

func TestStartAndClose(t *testing.T) {
	if _, err := pgtest.BinDir(); err != nil {
		t.Skip(err)
	}
	// A directory left by a killed test binary long ago, its server dead:
	// Start removes it.
	stale, err := os.MkdirTemp("", "toolhost-pgtest-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(stale, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stale, "data", "postmaster.pid"), []byte("999999999\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	c, err := pgtest.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the stale cluster directory %s is still there (%v)", stale, err)
		os.RemoveAll(stale)
	}
	dsn, err := c.NewDatabase(context.Background())
	if err != nil {
		c.Close()
		t.Fatal(err)
	}
	c.Close()
	if _, err := pgx.Connect(context.Background(), dsn); err == nil {
		t.Fatal("the server still answers after Close")
	}
	if _, err := os.Stat(c.Dir()); !os.IsNotExist(err) {
		t.Fatalf("the cluster directory %s is still there after Close (%v)", c.Dir(), err)
	}
}

func TestNoBinariesNamesThePackage(t *testing.T) {
	t.Setenv(pgtest.BinDirEnv, t.TempDir())
	_, err := pgtest.BinDir()
	if err != pgtest.ErrNoBinaries || !strings.Contains(err.Error(), "apt-get install postgresql") {
		t.Fatalf("BinDir = %v, want ErrNoBinaries naming the package", err)
	}
}
