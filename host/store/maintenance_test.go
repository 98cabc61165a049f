package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"go.etcd.io/bbolt"

	"github.com/toolhost/toolhost/host/store"
)

// tamper edits the closed database in dir with bbolt directly.
func tamper(t *testing.T, dir string, fn func(tx *bbolt.Tx) error) {
	t.Helper()
	b, err := bbolt.Open(filepath.Join(dir, store.FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Update(fn); err != nil {
		t.Fatal(err)
	}
}

func TestCheckFindsBrokenIndexes(t *testing.T) {
	tests := []struct {
		name string
		edit func(tx *bbolt.Tx, r *store.Run) error
		want string
	}{
		{"entry for a missing run", func(tx *bbolt.Tx, r *store.Run) error {
			return tx.Bucket([]byte("runs_by_action")).Put([]byte("CA1\x00run_gone"), nil)
		}, "missing run run_gone"},
		{"entry under the wrong value", func(tx *bbolt.Tx, r *store.Run) error {
			return tx.Bucket([]byte("runs_by_status")).Put([]byte("failed\x00"+r.ID), nil)
		}, `is under "failed" but has "succeeded"`},
		{"run missing from an index", func(tx *bbolt.Tx, r *store.Run) error {
			return tx.Bucket([]byte("runs_by_plugin")).Delete([]byte("CP1\x00" + r.ID))
		}, "missing from the plugin_id index"},
		{"run count off", func(tx *bbolt.Tx, r *store.Run) error {
			return tx.Bucket([]byte("runs")).Delete([]byte(r.ID))
		}, "run count is 1 but 0 runs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			db := openDB(t, dir)
			r := newRun(store.StatusSucceeded)
			mustPut(t, db, r)
			mustCheck(t, db)
			db.Close()
			tamper(t, dir, func(tx *bbolt.Tx) error { return tt.edit(tx, r) })
			db = openDB(t, dir)
			err := db.Check()
			if !errors.Is(err, store.ErrCorrupt) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Check = %v, want ErrCorrupt mentioning %q", err, tt.want)
			}
		})
	}
}

func TestPruneSweepsOrphanMessages(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir)
	kept, gone := &store.Thread{}, &store.Thread{}
	for _, th := range []*store.Thread{kept, gone} {
		if err := db.Threads().CreateThread(context.Background(), th, []*store.Message{{Role: "user", Content: "x"}, {Role: "user", Content: "y"}}); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	// As if DeleteThread stopped after its first transaction.
	tamper(t, dir, func(tx *bbolt.Tx) error { return tx.Bucket([]byte("threads")).Delete([]byte(gone.ID)) })
	db = openDB(t, dir)
	if _, err := db.Runs().Prune(context.Background(), 0, 0, timeNow()); err != nil {
		t.Fatal(err)
	}
	db.Close()
	tamper(t, dir, func(tx *bbolt.Tx) error {
		n := 0
		tx.Bucket([]byte("messages")).ForEach(func(k, _ []byte) error {
			n++
			if !strings.HasPrefix(string(k), kept.ID) {
				t.Errorf("orphan message %q left", k)
			}
			return nil
		})
		if n != 2 {
			t.Errorf("%d messages left, want 2", n)
		}
		return nil
	})
}

func TestCompact(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir)
	var runs []*store.Run
	for range 3000 {
		r := newRun(store.StatusSucceeded)
		r.Output = []byte(`{"text":"` + strings.Repeat("x", 500) + `"}`)
		runs = append(runs, r)
	}
	if err := db.Runs().PutRuns(context.Background(), runs); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Runs().Prune(context.Background(), 10, 0, timeNow()); err != nil {
		t.Fatal(err)
	}
	before, _ := db.Stats()
	db.Close()

	src := filepath.Join(dir, store.FileName)
	dstDir := t.TempDir()
	dst := filepath.Join(dstDir, store.FileName)
	if err := store.Compact(src, dst); err != nil {
		t.Fatal(err)
	}
	if err := store.Compact(src, dst); err == nil {
		t.Error("Compact over an existing file succeeded")
	}
	db = openDB(t, dstDir)
	after, _ := db.Stats()
	if after.Runs != 10 || after.FileSize >= before.FileSize {
		t.Errorf("compacted: %+v, before %+v", after, before)
	}
	mustCheck(t, db)
	if _, err := db.Runs().GetRun(context.Background(), runs[len(runs)-1].ID); err != nil {
		t.Errorf("newest run lost: %v", err)
	}
}
