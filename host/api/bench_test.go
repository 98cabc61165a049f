package api_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// BenchmarkRunNoopInProcess drives the run route over loopback with a real
// plugin process and history on, in one process so a CPU profile
// (-cpuprofile) shows the host's side.
func BenchmarkRunNoopInProcess(b *testing.B) {
	e := newEnv(b)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("POST", e.URL+"/v1/actions/testkit.noop/run", strings.NewReader(`{}`))
			req.Header.Set("x-api-key", testKey)
			res, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != 200 {
				b.Fatalf("status %d", res.StatusCode)
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "runs/s")
}
