package app_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/toolhost/toolhost/host/config"
)

// BenchmarkObservabilityOverhead runs testkit.noop through the HTTP run
// route of three in-process hosts with a real plugin process — as
// shipped (metrics on, tracing off), metrics off, and tracing on (spans
// exported over OTLP/HTTP to a sink that drops them) — at 1 and 32
// clients. Besides ns/op (wall time per run) it reports the test
// process's CPU time per run (cpu-µs/run: the host plus the HTTP client,
// not the plugin), which the machine's other load disturbs far less than
// wall time. Use -count to repeat: each repetition runs the three
// configurations in turn, interleaved.
func BenchmarkObservabilityOverhead(b *testing.B) {
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	b.Cleanup(sink.Close)
	configs := []struct {
		name  string
		tweak func(*config.Config)
	}{
		{"shipped", nil},
		{"metrics-off", func(c *config.Config) { c.Metrics.Disabled = true }},
		{"tracing-on", func(c *config.Config) {
			c.Tracing = config.Tracing{Enabled: true, Endpoint: sink.URL, Insecure: true, SampleRatio: 1}
		}},
	}
	hosts := make([]*host, len(configs))
	for i, c := range configs {
		hosts[i] = newHost(b, c.tweak)
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	for _, clients := range []int{1, 32} {
		for i, c := range configs {
			b.Run(fmt.Sprintf("clients=%d/%s", clients, c.name), func(b *testing.B) {
				runLoad(b, client, hosts[i].URL, clients)
			})
		}
	}
}

// runLoad sends b.N noop runs from clients goroutines and reports the
// process's CPU time per run.
func runLoad(b *testing.B, client *http.Client, url string, clients int) {
	var next sync.WaitGroup
	work := make(chan struct{}, b.N)
	for range b.N {
		work <- struct{}{}
	}
	close(work)
	cpu0 := cpuTime()
	b.ResetTimer()
	for range clients {
		next.Go(func() {
			for range work {
				if err := runNoop(client, url); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	next.Wait()
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/run")
}

func runNoop(client *http.Client, url string) error {
	req, err := http.NewRequest("POST", url+"/v1/actions/testkit.noop/run", strings.NewReader(`{}`))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("noop run: %s", res.Status)
	}
	return nil
}

// cpuTime is the user and system CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
