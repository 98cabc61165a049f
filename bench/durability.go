package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/bbolt"

	"github.com/toolhost/toolhost/host/domain"
	"github.com/toolhost/toolhost/host/store"
	"github.com/toolhost/toolhost/internal/fsync"
)

// FsyncResult is what durability costs on the disk the data directories
// are on, measured directly: DESIGN.md's latency budget is "a read run ≤
// floor + 1 fsync, a side-effecting run ≤ floor + 2 fsyncs at p50".
type FsyncResult struct {
	// Fdatasync is a 4 KiB pwrite followed by fdatasync, as bbolt does.
	Fdatasync Latency `json:"pwrite_4k_fdatasync"`
	// BoltCommit is one bbolt transaction from a single caller writing
	// what a run record writes (the record, five index entries, a
	// counter, each in its own bucket): page writes, then fdatasync twice
	// (data pages, then the meta page). It is DESIGN.md's "fsync".
	BoltCommit Latency `json:"bbolt_commit_sequential"`
	// PutRun is one store.PutRun of a finished noop run record from a
	// single caller, as toolhost makes it durable: one write and one
	// fdatasync of the run journal.
	PutRun Latency `json:"store_putrun_sequential"`
}

// measureFsync times n of each in a fresh directory under work.
func measureFsync(ctx context.Context, work string, n int) (*FsyncResult, error) {
	dir := filepath.Join(work, "fsync")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, "probe"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	page := make([]byte, 4096)
	var raw []time.Duration
	for i := 0; i < n && ctx.Err() == nil; i++ {
		t0 := time.Now()
		if _, err := f.WriteAt(page, int64(i%64)*4096); err != nil {
			return nil, err
		}
		if err := fsync.Data(f); err != nil {
			return nil, err
		}
		raw = append(raw, time.Since(t0))
	}

	db, err := store.Open(filepath.Join(dir, "store"), store.Options{})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	var puts []time.Duration
	for i := 0; i < n && ctx.Err() == nil; i++ {
		now := time.Now().UTC()
		r := &domain.Run{
			Kind: "action", ActionID: actionID("testkit", "noop"), ActionKey: "testkit.noop",
			PluginID: pluginID("testkit"), PluginName: "testkit", Status: domain.StatusSucceeded,
			Input: json.RawMessage(`{}`), Output: json.RawMessage(`{}`),
			Events: []domain.Event{
				{Seq: 1, Type: "run.created", At: now}, {Seq: 2, Type: "run.running", At: now},
				{Seq: 3, Type: "run.output", Data: json.RawMessage(`{}`), At: now}, {Seq: 4, Type: "run.succeeded", At: now},
			},
			StartedAt: &now, FinishedAt: &now, KeyName: "bench",
		}
		t0 := time.Now()
		if err := db.Runs().PutRun(context.Background(), r); err != nil {
			return nil, err
		}
		puts = append(puts, time.Since(t0))
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	commits, err := measureBoltCommit(ctx, filepath.Join(dir, "bolt.db"), n)
	if err != nil {
		return nil, err
	}
	return &FsyncResult{Fdatasync: summarize(raw), BoltCommit: summarize(commits), PutRun: summarize(puts)}, nil
}

// measureBoltCommit times n sequential bbolt transactions shaped like a
// run record's.
func measureBoltCommit(ctx context.Context, path string, n int) ([]time.Duration, error) {
	bdb, err := bbolt.Open(path, 0o600, &bbolt.Options{FreelistType: bbolt.FreelistMapType})
	if err != nil {
		return nil, err
	}
	defer bdb.Close()
	buckets := []string{"runs", "by_thread", "by_action", "by_action_status", "by_plugin", "by_status", "meta"}
	record := make([]byte, 600)
	var took []time.Duration
	for i := 0; i < n && ctx.Err() == nil; i++ {
		key := []byte(domain.NewID(domain.RunPrefix))
		t0 := time.Now()
		err := bdb.Update(func(tx *bbolt.Tx) error {
			for _, name := range buckets {
				b, err := tx.CreateBucketIfNotExists([]byte(name))
				if err != nil {
					return err
				}
				if err := b.Put(key, record); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		took = append(took, time.Since(t0))
	}
	return took, ctx.Err()
}
