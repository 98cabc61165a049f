package supervisor_test

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/toolhost/toolhost/host/config"
	"github.com/toolhost/toolhost/host/supervisor"
)

// BenchmarkStartToDescribe measures launching a plugin process through its
// first Describe, with and without AutoMTLS.
func BenchmarkStartToDescribe(b *testing.B) {
	for _, mtls := range []bool{false, true} {
		name := "mtls=off"
		if mtls {
			name = "mtls=on"
		}
		b.Run(name, func(b *testing.B) {
			sp := spec("testkit")
			sp.AutoMTLS = mtls
			for i := 0; i < b.N; i++ {
				s := supervisor.New(supervisor.Options{})
				s.Load(context.Background(), []config.Plugin{sp}, time.Second)
				if st := s.Get("testkit").Info().Status; st != supervisor.StatusReady {
					b.Fatal(st)
				}
				b.StopTimer()
				s.Shutdown(context.Background())
				b.StartTimer()
			}
		})
	}
}

// BenchmarkNoopRun measures the round trip of a no-op Run on a live plugin
// and reports the p50.
func BenchmarkNoopRun(b *testing.B) {
	for _, mtls := range []bool{false, true} {
		name := "mtls=off"
		if mtls {
			name = "mtls=on"
		}
		b.Run(name, func(b *testing.B) {
			sp := spec("testkit")
			sp.AutoMTLS = mtls
			s := newSupervisor(b, sp)
			benchRuns(b, ready(b, s, "testkit"), supervisor.Call{Action: "noop", Input: []byte(`{}`)})
		})
	}
}

// BenchmarkEchoRun measures the round trip of the echo action, whose input
// the plugin decodes (and, unless the host says it checked it, checks
// against the schema), with a small and a 64 KiB input.
func BenchmarkEchoRun(b *testing.B) {
	s := newSupervisor(b, spec("testkit"))
	p := ready(b, s, "testkit")
	for _, c := range []struct{ name, text string }{
		{"small", "hello there"},
		{"64k", strings.Repeat("abcdefghijklmnopqrstuvwxyz0123456789", 64<<10/36)},
	} {
		b.Run(c.name, func(b *testing.B) {
			input := []byte(`{"text":"` + c.text + `"}`)
			b.SetBytes(int64(len(input)))
			benchRuns(b, p, supervisor.Call{Action: "echo", Input: input})
		})
	}
}

// benchRuns runs call b.N times and reports the p50 and p99.
func benchRuns(b *testing.B, p *supervisor.Plugin, call supervisor.Call) {
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if _, err := p.Run(context.Background(), call); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}
