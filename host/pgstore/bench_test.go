package pgstore_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/toolhost/toolhost/host/domain"
)

// BenchmarkPutRun records a side-effecting run's two durable writes
// (running, then succeeded with its events), from one client and from 64
// at once: with many, PostgreSQL flushes concurrent commits together.
func BenchmarkPutRun(b *testing.B) {
	db, _ := open(b)
	ctx := context.Background()
	write := func() {
		r := &domain.Run{Kind: "action", ActionID: "CA1", PluginID: "CP1", Status: domain.StatusRunning, Input: []byte(`{"to":"a@example.com"}`)}
		if err := db.Runs().PutRun(ctx, r); err != nil {
			b.Error(err)
			return
		}
		now := time.Now().UTC()
		r.Status, r.FinishedAt, r.Output = domain.StatusSucceeded, &now, []byte(`{"id":"m1"}`)
		r.Events = []domain.Event{{Seq: 1, Type: "run.created", At: now}, {Seq: 2, Type: "run.succeeded", At: now}}
		if err := db.Runs().PutRun(ctx, r); err != nil {
			b.Error(err)
		}
	}
	b.Run("clients=1", func(b *testing.B) {
		for b.Loop() {
			write()
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "runs/s")
	})
	b.Run("clients=64", func(b *testing.B) {
		b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				write()
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "runs/s")
	})
}
