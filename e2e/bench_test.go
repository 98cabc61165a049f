package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// benchServer returns the shared server for benchmarks: the real toolhost
// with history on (default retention) and the testkit plugin at
// concurrency 64, started once and stopped at the end of TestMain.
func benchServer(b *testing.B) *proc {
	b.Helper()
	benchMu.Lock()
	defer benchMu.Unlock()
	if p := benchServers["bench"]; p != nil {
		return p
	}
	dir, err := os.MkdirTemp("", "toolhost-e2e-bench-")
	if err != nil {
		b.Fatal(err)
	}
	p := launch(b, serveOpts{Shared: true, DataDir: filepath.Join(dir, "data"), LogLevel: "warn",
		Config: serveConfig{TestkitExtra: "  concurrency = 64", Top: "queue {\n  workers = 64\n}"}})
	p.tmp = dir
	if err := p.waitReady(60 * time.Second); err != nil {
		p.stopErr()
		os.RemoveAll(dir)
		b.Fatalf("bench server: %v\n%s%s", err, p.stdout.String(), p.stderr.String())
	}
	// Warm up connections and the plugin.
	for range 200 {
		if _, err := p.try("POST", "/v1/actions/testkit.noop/run", `{}`); err != nil {
			b.Fatal(err)
		}
	}
	benchServers["bench"] = p
	return p
}

// runOnce posts one run and fails the benchmark unless it answers 200.
func runOnce(b *testing.B, p *proc, action, body string) {
	r, err := p.try("POST", "/v1/actions/"+action+"/run", body)
	if err != nil {
		b.Fatal(err)
	}
	if r.Status != 200 {
		b.Fatalf("%s: %d %s", action, r.Status, r.Body)
	}
}

// BenchmarkHTTPRunNoop: sequential blocking runs of testkit.noop through
// the real server and plugin process, history on; p50 and p99 latency.
func BenchmarkHTTPRunNoop(b *testing.B) {
	p := benchServer(b)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		runOnce(b, p, "testkit.noop", `{}`)
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(percentile(lat, 0.50).Microseconds()), "p50-µs")
	b.ReportMetric(float64(percentile(lat, 0.99).Microseconds()), "p99-µs")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "runs/s")
}

// BenchmarkHTTPRunNoopParallel32: blocking testkit.noop runs from 32
// concurrent clients; runs/s.
func BenchmarkHTTPRunNoopParallel32(b *testing.B) {
	p := benchServer(b)
	b.ResetTimer()
	parallelRuns(b, p, 32, "testkit.noop", func(int64) string { return `{}` })
}

// BenchmarkDurableRuns: blocking testkit.echo runs (a create action: the
// run is recorded, fsynced, before the plugin is called and again at its
// end) at 1, 16 and 64 concurrent clients; runs/s.
func BenchmarkDurableRuns(b *testing.B) {
	for _, c := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("c=%d", c), func(b *testing.B) {
			p := benchServer(b)
			b.ResetTimer()
			parallelRuns(b, p, c, "testkit.echo", func(i int64) string { return fmt.Sprintf(`{"text":"bench %d"}`, i) })
		})
	}
}

// parallelRuns does b.N runs from clients goroutines and reports runs/s.
func parallelRuns(b *testing.B, p *proc, clients int, action string, body func(int64) string) {
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				r, err := p.try("POST", "/v1/actions/"+action+"/run", body(i))
				if err != nil || r.Status != 200 {
					failed.CompareAndSwap(nil, fmt.Sprintf("%d %s%s", r.Status, r.Body, errString(err)))
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	if f := failed.Load(); f != nil {
		b.Fatalf("a run failed: %v", f)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "runs/s")
}
