package e2e

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var soakRuns = flag.Int("e2e.soakruns", 100_000, "runs in TestRetentionSoak (skipped under -short)")

// TestRetentionSoak (issue 5): with retention { max_runs = 5000 } (kept as
// runs are stored) and a prune every second, 100,000 no-op runs from 32
// clients leave a bounded bbolt file: its size after all runs is at most
// 1.5 times its size after the first fifth. bbolt grows its file by
// doubling up to 16 MiB and by 16 MiB steps past it, so the bound fails
// when history overshoots max_runs enough to need the next step.
func TestRetentionSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("soak: skipped under -short")
	}
	const maxRuns = 5000
	total := *soakRuns
	first := total / 5
	dataDir := filepath.Join(t.TempDir(), "data")
	opts := serveOpts{DataDir: dataDir, LogLevel: "warn", Config: serveConfig{
		Top: "retention {\n  max_runs = " + strconv.Itoa(maxRuns) + "\n  interval = \"1s\"\n}",
	}}
	s := launch(t, opts)
	if err := s.waitReady(60 * time.Second); err != nil {
		out := s.stdout.String() + s.stderr.String()
		t.Fatalf("serve did not start: %v\n%s", err, out)
	}
	dbFile := filepath.Join(dataDir, "toolhost.db")

	var (
		next     atomic.Int64
		failures atomic.Int64
		firstErr atomic.Value
	)
	phase := func(n int) time.Duration {
		start := time.Now()
		end := next.Load() + int64(n)
		var wg sync.WaitGroup
		for range 32 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for next.Add(1) <= end {
					r, err := s.try("POST", "/v1/actions/testkit.noop/run", `{}`)
					if err != nil || r.Status != 200 {
						if failures.Add(1) == 1 {
							firstErr.Store(strings.TrimSpace(string(r.Body)) + errString(err))
						}
					}
				}
			}()
		}
		wg.Wait()
		next.Store(end)
		return time.Since(start)
	}
	size := func() int64 {
		st, err := os.Stat(dbFile)
		if err != nil {
			t.Fatal(err)
		}
		return st.Size()
	}

	d1 := phase(first)
	size1 := size()
	d2 := phase(total - first)
	size2 := size()
	time.Sleep(1500 * time.Millisecond) // a last prune pass before the count below
	if n := failures.Load(); n > 0 {
		t.Fatalf("%d of %d runs did not answer 200; first: %v", n, total, firstErr.Load())
	}
	rate := float64(total) / (d1 + d2).Seconds()
	t.Logf("%d runs from 32 clients in %s (%.0f runs/s); bbolt file %.1f MiB after %d runs, %.1f MiB after %d (x%.2f)",
		total, (d1 + d2).Round(time.Millisecond), rate, mib(size1), first, mib(size2), total, float64(size2)/float64(size1))
	if float64(size2) > 1.5*float64(size1) {
		t.Errorf("the file grew from %d to %d bytes between %d and %d runs with max_runs = %d", size1, size2, first, total, maxRuns)
	}
	if d := d1 + d2; d > 60*time.Second {
		// Not a failure: the throughput depends on the machine and its load
		// (the benchmarks measure it); -e2e.soakruns makes the soak shorter.
		t.Logf("note: the soak took %s, over a minute", d)
	}

	s.stop(t)
	out, code := toolhostCmd(t, 60*time.Second, "db", "check", "--data-dir", dataDir)
	if code != 0 {
		t.Fatalf("db check exited %d:\n%s", code, out)
	}
	m := regexp.MustCompile(`runs:\s+(\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("db check output has no run count:\n%s", out)
	}
	if n, _ := strconv.Atoi(m[1]); n > maxRuns {
		t.Errorf("%d runs stored after the soak and a prune, max_runs = %d", n, maxRuns)
	}
	t.Logf("db check: %s", strings.Join(strings.Fields(out), " "))
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

func errString(err error) string {
	if err == nil {
		return ""
	}
	return " " + err.Error()
}
