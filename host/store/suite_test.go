package store_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/toolhost/toolhost/host/backend"
	"github.com/toolhost/toolhost/host/store"
	"github.com/toolhost/toolhost/host/store/storetest"
)

// boltHarness makes bbolt stores in temporary directories for the shared
// suite.
var boltHarness = storetest.Harness{
	New: func(t testing.TB) string { return t.TempDir() },
	Open: func(t testing.TB, dir string, key []byte) backend.Store {
		t.Helper()
		db, err := store.Open(dir, store.Options{SecretKey: key})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { db.Close() })
		return backend.Bolt(db)
	},
	// The file and the run journal, as on disk.
	AtRest: func(t testing.TB, dir string) []byte {
		t.Helper()
		var all []byte
		for _, name := range []string{store.FileName, store.JournalFileName} {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			all = append(all, b...)
		}
		return bytes.Clone(all)
	},
}

// TestSuite runs the tests every store backend passes on bbolt.
func TestSuite(t *testing.T) { storetest.Run(t, boltHarness) }
