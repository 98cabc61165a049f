package pgtest

import (
	"context"
	"os"
	"sync"
	"testing"
)

var shared struct {
	once    sync.Once
	cluster *Cluster
	err     error
}

// DSN returns the DSN of a new, empty database on the test binary's
// cluster, starting the cluster on first use. Without the binaries it
// skips the test, naming the package to install; a cluster that fails to
// start fails the test.
func DSN(t testing.TB) string {
	t.Helper()
	shared.once.Do(func() { shared.cluster, shared.err = Start(context.Background()) })
	if shared.err == ErrNoBinaries {
		t.Skip(shared.err.Error())
	}
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	dsn, err := shared.cluster.NewDatabase(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("pgtest: database at %s", hostOf(dsn))
	return dsn
}

// Main runs the package's tests and then stops and removes the cluster, if
// one was started: call it from TestMain.
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}

// Stop stops and removes the shared cluster, if one was started. For a
// TestMain that does more than Main.
func Stop() {
	if shared.cluster != nil {
		shared.cluster.Close()
	}
}
