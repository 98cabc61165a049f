package store_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/toolhost/toolhost/host/store"
)

// finalRun is a typical final run record (about 600 bytes of JSON).
func finalRun() *store.Run {
	now := time.Now().UTC()
	return &store.Run{
		ID:         store.NewID(store.RunPrefix),
		Kind:       "action",
		ActionID:   "CABC80BB79C15067CA983495324AE709",
		ActionKey:  "gmail.sendEmail",
		PluginID:   "CP0123456789ABCDEF0123456789ABCD",
		PluginName: "gmail",
		Status:     store.StatusSucceeded,
		Input:      json.RawMessage(`{"recipient":"ann@example.com","subject":"Hello","body":"See you at 10."}`),
		Output:     json.RawMessage(`{"messageId":"<1234@example.com>"}`),
		Events: []store.Event{
			{Seq: 1, Type: "run.created", At: now},
			{Seq: 2, Type: "run.running", At: now},
			{Seq: 3, Type: "run.output", Data: json.RawMessage(`{"messageId":"<1234@example.com>"}`), At: now},
			{Seq: 4, Type: "run.succeeded", At: now},
		},
		CreatedAt:  now,
		StartedAt:  &now,
		FinishedAt: &now,
		DurationMS: 12.5,
		KeyName:    "default",
	}
}

// BenchmarkPutRunParallel stores final run records from 64 goroutines,
// every one durable (fsynced) before PutRun returns: group commit decides
// the throughput.
func BenchmarkPutRunParallel(b *testing.B) {
	db := openDB(b, "")
	b.SetParallelism(64 / max(1, runtimeProcs()))
	c0 := store.JournalWrites(db)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := db.Runs().PutRun(context.Background(), finalRun()); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	if writes := store.JournalWrites(db) - c0; writes > 0 {
		b.ReportMetric(float64(b.N)/float64(writes), "runs/write")
	}
}

// BenchmarkPutRunSequential is one caller storing runs one after another:
// the latency of one durable write on the run's critical path.
func BenchmarkPutRunSequential(b *testing.B) {
	db := openDB(b, "")
	b.ResetTimer()
	for range b.N {
		if err := db.Runs().PutRun(context.Background(), finalRun()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeRun encodes a typical final run record, by hand as
// stored and with encoding/json for comparison.
func BenchmarkEncodeRun(b *testing.B) {
	for name, encode := range map[string]func(*store.Run) ([]byte, error){"hand": store.EncodeRun, "encoding-json": store.EncodeRunReflect} {
		b.Run(name, func(b *testing.B) {
			r := finalRun()
			b.ReportAllocs()
			for range b.N {
				if _, err := encode(r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEncodeRun64k encodes a final record with a 64 KiB input and
// output, with the raw fields scanned (a caller that has not checked them)
// and trusted (RawValid, as the host's runner stores action runs).
func BenchmarkEncodeRun64k(b *testing.B) {
	text := strings.Repeat("abcdefghijklmnopqrstuvwxyz0123456789", 64<<10/36)
	for _, trusted := range []bool{false, true} {
		b.Run(fmt.Sprintf("raw-valid=%v", trusted), func(b *testing.B) {
			r := finalRun()
			r.Input = json.RawMessage(`{"text":"` + text + `"}`)
			r.Output = r.Input
			r.RawValid = trusted
			b.SetBytes(int64(2 * len(r.Input)))
			for range b.N {
				if _, err := store.EncodeRun(r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkJournalApply is the applier's work per run: copying final run
// records (new runs, as a read action's are) from the journal into bbolt,
// 100 per transaction, its commit included.
func BenchmarkJournalApply(b *testing.B) {
	db, err := store.Open(b.TempDir(), keepInJournal(store.Options{}))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	const perApply = 100
	b.ReportAllocs()
	for range b.N {
		b.StopTimer()
		for range perApply {
			if err := db.Runs().PutRun(context.Background(), finalRun()); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		if _, _, err := db.Runs().ListRuns(context.Background(), store.RunFilter{}, store.Page{Limit: 1}); err != nil { // applies the journal first
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perApply), "ns/run")
}

// BenchmarkAuthenticate is the per-request key check.
func BenchmarkAuthenticate(b *testing.B) {
	db := openDB(b, "")
	plain, _, err := db.Keys().CreateKey(context.Background(), "bench")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, err := db.Keys().Authenticate(context.Background(), plain); err != nil {
			b.Fatal(err)
		}
	}
}

// bench1M describes the cached million-run file. Change benchVersion when
// the data or the file format changes.
const (
	benchVersion = "v2"
	benchRuns    = 1_000_000
	benchActions = 200
	benchThreads = 20_000
)

func benchAction(i int) string { return fmt.Sprintf("CA%030X", i) }

// bench1MDir returns a data directory holding benchRuns runs, built once
// and kept under os.TempDir() for later benchmark runs.
func bench1MDir(b *testing.B) string {
	dir := filepath.Join(os.TempDir(), "toolhost-store-bench-1m-"+benchVersion)
	if _, err := os.Stat(filepath.Join(dir, "complete")); err == nil {
		return dir
	}
	b.Logf("building %d runs in %s (once; later runs reuse it)", benchRuns, dir)
	start := time.Now()
	tmp := fmt.Sprintf("%s.building-%d", dir, os.Getpid())
	os.RemoveAll(tmp)
	db, err := store.Open(tmp, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if err := loadBenchRuns(db); err != nil {
		b.Fatal(err)
	}
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "complete"), nil, 0o600); err != nil {
		b.Fatal(err)
	}
	os.RemoveAll(dir)
	if err := os.Rename(tmp, dir); err != nil {
		b.Fatal(err)
	}
	b.Logf("built in %v", time.Since(start).Round(time.Second))
	return dir
}

// loadBenchRuns bulk-loads the runs, 20,000 per transaction, one every
// 2.5 s of a month: 200 actions over 20 plugins, 85% succeeded, 9%
// failed, 3% cancelled, 2% timed out, 1% still running; 10% on a thread.
func loadBenchRuns(db *store.DB) error {
	rng := mrand.New(mrand.NewPCG(1, 1))
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	const chunk = 20_000
	for i := 0; i < benchRuns; i += chunk {
		runs := make([]*store.Run, 0, chunk)
		for j := i; j < min(i+chunk, benchRuns); j++ {
			at := start.Add(time.Duration(j) * 2500 * time.Millisecond)
			a := rng.IntN(benchActions)
			r := &store.Run{
				ID:        store.RunPrefix + ulid.MustNew(ulid.Timestamp(at), rand.Reader).String(),
				Kind:      "action",
				ActionID:  benchAction(a),
				PluginID:  fmt.Sprintf("CP%030X", a/10),
				Status:    benchStatus(rng.IntN(100)),
				Input:     json.RawMessage(`{"recipient":"ann@example.com","subject":"Hello"}`),
				Output:    json.RawMessage(`{"ok":true}`),
				Events:    []store.Event{{Seq: 1, Type: "run.created", At: at}, {Seq: 2, Type: "run.succeeded", At: at}},
				CreatedAt: at,
			}
			if rng.IntN(10) == 0 {
				r.ThreadID = fmt.Sprintf("thread_%05d", rng.IntN(benchThreads))
			}
			runs = append(runs, r)
		}
		if err := db.Runs().PutRuns(context.Background(), runs); err != nil {
			return err
		}
	}
	return nil
}

func benchStatus(p int) string {
	switch {
	case p < 85:
		return store.StatusSucceeded
	case p < 94:
		return store.StatusFailed
	case p < 97:
		return store.StatusCancelled
	case p < 99:
		return store.StatusTimedOut
	}
	return store.StatusRunning
}

// BenchmarkListRunsFiltered1M reads one filtered page (limit 20) from a
// file holding a million runs.
func BenchmarkListRunsFiltered1M(b *testing.B) {
	dir := bench1MDir(b)
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	st, _ := db.Stats()
	b.Logf("%d runs, file %d MiB", st.Runs, st.FileSize>>20)

	action := benchAction(42)
	// A cursor half-way down action 42's history.
	mid, _, err := db.Runs().ListRuns(context.Background(), store.RunFilter{ActionID: action, From: time.Date(2025, 1, 15, 0, 0, 0, 0, time.UTC)}, store.Page{Order: "asc", Limit: 1})
	if err != nil || len(mid) != 1 {
		b.Fatalf("finding a cursor: %v", err)
	}
	cases := []struct {
		name string
		f    store.RunFilter
		p    store.Page
	}{
		{"status=succeeded,action_id=X", store.RunFilter{Status: store.StatusSucceeded, ActionID: action}, store.Page{Limit: 20}},
		{"status=succeeded,action_id=X,after=mid", store.RunFilter{Status: store.StatusSucceeded, ActionID: action}, store.Page{Limit: 20, After: mid[0].ID}},
		{"status=succeeded,action_id=X,asc", store.RunFilter{Status: store.StatusSucceeded, ActionID: action}, store.Page{Limit: 20, Order: "asc"}},
		{"status=timed_out,action_id=X", store.RunFilter{Status: store.StatusTimedOut, ActionID: action}, store.Page{Limit: 20}},
		{"status=running,plugin_id=Y", store.RunFilter{Status: store.StatusRunning, PluginID: fmt.Sprintf("CP%030X", 4)}, store.Page{Limit: 20}},
		{"action_id=X", store.RunFilter{ActionID: action}, store.Page{Limit: 20}},
		{"thread_id=T", store.RunFilter{ThreadID: "thread_00042"}, store.Page{Limit: 20}},
		{"no filter", store.RunFilter{}, store.Page{Limit: 20}},
		{"status=succeeded,action_id=X,one day", store.RunFilter{Status: store.StatusSucceeded, ActionID: action,
			From: time.Date(2025, 1, 10, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 1, 11, 0, 0, 0, 0, time.UTC)}, store.Page{Limit: 20}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			runs, _, err := db.Runs().ListRuns(context.Background(), c.f, c.p)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(len(runs)), "runs/page")
			b.ResetTimer()
			for range b.N {
				if _, _, err := db.Runs().ListRuns(context.Background(), c.f, c.p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
