package api_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/toolhost/toolhost/host/api"
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
			postRun(b, client, e.URL, "testkit.noop", `{}`)
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "runs/s")
}

// BenchmarkRunNoopSequential drives the run route one request at a time,
// as the harness's 1-client point does, and reports the p50 and p99.
func BenchmarkRunNoopSequential(b *testing.B) {
	benchSequential(b, "testkit.noop", `{}`)
}

// BenchmarkRunEcho64kSequential is the harness's echo64k point one request
// at a time: a create action (recorded running before the call) with a
// 64 KiB string in, out, and echoed back under used.input.
func BenchmarkRunEcho64kSequential(b *testing.B) {
	text := make([]byte, 64<<10)
	for i := range text {
		text[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[i%36]
	}
	benchSequential(b, "testkit.echo", `{"input":{"text":"`+string(text)+`"}}`)
}

func benchSequential(b *testing.B, action, body string) {
	e := newEnv(b)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		postRun(b, client, e.URL, action, body)
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// postRun runs action with body and fails b unless it answers 200.
func postRun(b *testing.B, client *http.Client, url, action, body string) {
	req, _ := http.NewRequest("POST", url+"/v1/actions/"+action+"/run", strings.NewReader(body))
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

// BenchmarkRunRouteUnknownAction is the run route's way in, without the
// network or a plugin: middleware, authentication, routing and the action
// lookup, answered 404.
func BenchmarkRunRouteUnknownAction(b *testing.B) {
	e := newEnv(b)
	h := api.NewServer(api.Deps{Runner: e.runner, Keys: e.db.Keys(), Threads: e.db.Threads()}, api.Config{BootstrapKey: testKey})
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		req := httptest.NewRequest("POST", "/v1/actions/nope/run", strings.NewReader(`{}`))
		req.Header.Set("x-api-key", testKey)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusNotFound {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}
