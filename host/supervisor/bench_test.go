package supervisor_test

import (
	"context"
	"sort"
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
			p := ready(b, s, "testkit")
			call := supervisor.Call{Action: "noop", Input: []byte(`{}`)}
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
		})
	}
}
