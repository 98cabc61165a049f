package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gomcp "github.com/modelcontextprotocol/go-sdk/mcp"
)

// BenchmarkHostedMCP measures a hosted MCP server's tool call (the test
// server's echo) through toolhost, on the HTTP run route, on /mcp and on
// /mcp/{server} (the server passed through), against calling the same
// server directly with the go-sdk client over stdio, at 1 and 32 clients. It reports p50 latency and calls per second.
func BenchmarkHostedMCP(b *testing.B) {
	sp := stdioServer(b, "test")
	sp.Concurrency = 64
	base := newServersHost(b, sp)
	direct := directSession(b, sp.Command[0])
	viaMCP := mcpSession(b, base+"/mcp")
	viaServer := mcpSession(b, base+"/mcp/test")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	doors := []struct {
		name string
		call func() error
	}{
		{"direct", func() error { return callEcho(direct, "echo") }},
		{"http-run", func() error { return runEcho(client, base) }},
		{"mcp", func() error { return callEcho(viaMCP, "test__echo") }},
		{"mcp-server", func() error { return callEcho(viaServer, "echo") }},
	}
	for _, clients := range []int{1, 32} {
		for _, d := range doors {
			b.Run(fmt.Sprintf("%s/clients=%d", d.name, clients), func(b *testing.B) { measure(b, clients, d.call) })
		}
	}
}

func directSession(b testing.TB, bin string) *gomcp.ClientSession {
	c := gomcp.NewClient(&gomcp.Implementation{Name: "bench", Version: "1"}, nil)
	s, err := c.Connect(context.Background(), &gomcp.CommandTransport{Command: exec.Command(bin)}, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	return s
}

func callEcho(s *gomcp.ClientSession, tool string) error {
	res, err := s.CallTool(context.Background(), &gomcp.CallToolParams{Name: tool, Arguments: map[string]any{"text": "hi"}})
	if err == nil && res.IsError {
		err = fmt.Errorf("tool error")
	}
	return err
}

func runEcho(c *http.Client, base string) error {
	req, _ := http.NewRequest("POST", base+"/v1/actions/test.echo/run", strings.NewReader(`{"text":"hi"}`))
	req.Header.Set("x-api-key", serversKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != 200 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// measure makes b.N calls from clients goroutines and reports p50 and
// calls per second.
func measure(b *testing.B, clients int, call func() error) {
	var next atomic.Int64
	lat := make([]time.Duration, b.N)
	var wg sync.WaitGroup
	var failed atomic.Value
	b.ResetTimer()
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				t0 := time.Now()
				if err := call(); err != nil {
					failed.Store(err)
					return
				}
				lat[i] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "calls/s")
}
