package metrics_test

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/toolhost/toolhost/host/domain"
	"github.com/toolhost/toolhost/host/metrics"
)

func TestCountsAndLint(t *testing.T) {
	m := metrics.New(metrics.Sources{
		InFlight: func() int { return 2 },
		Queue:    func() (int, int) { return 1, 8 },
		Plugins: func() []domain.PluginInfo {
			return []domain.PluginInfo{{Name: "a", Status: domain.PluginReady, Restarts: 3}, {Name: "b", Status: domain.PluginFailed}}
		},
	})
	m.RunEnded("a.x", "succeeded", 30*time.Millisecond, true)
	m.RunEnded("a.x", "cancelled", 0, false)
	m.HTTPRequest("GET", "/v1/runs", 200, time.Millisecond)
	m.MCPCall("tools/call", true)
	m.Committed(time.Millisecond, 4)
	m.JournalWritten(time.Millisecond, 2)
	reg := m.Registry()
	for name, want := range map[string]int{
		"toolhost_runs_total": 2, "toolhost_run_duration_seconds": 1, "toolhost_plugin_up": 2,
		"toolhost_plugin_restarts_total": 2, "toolhost_mcp_requests_total": 1,
	} {
		if n, err := testutil.GatherAndCount(reg, name); err != nil || n != want {
			t.Errorf("%s: %d series (%v); want %d", name, n, err, want)
		}
	}
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

// BenchmarkPerRun is what metrics add to one HTTP run: the run's end, the
// request, and a share of a store write.
func BenchmarkPerRun(b *testing.B) {
	m := metrics.New(metrics.Sources{})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.RunEnded("testkit.noop", "succeeded", time.Millisecond, true)
			m.HTTPRequest("POST", "/v1/actions/{actionId}/run", 200, time.Millisecond)
			m.JournalWritten(time.Millisecond, 1)
		}
	})
}
