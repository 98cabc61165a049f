package mcp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	gomcp "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/toolhost/toolhost/internal/bearer"
)

// benchClients is how many clients call at once (BENCH_CLIENTS, default 64).
var benchClients = func() int {
	n, err := strconv.Atoi(os.Getenv("BENCH_CLIENTS"))
	if err != nil || n < 1 {
		return 64
	}
	return n
}()

// BenchmarkDoors runs the testkit noop action through the HTTP run route
// and as an MCP tools/call on the same host, one after the other, so
// their costs can be compared under the same load (go test -bench Doors
// -count N interleaves them). "mcp" is the go-sdk client; "mcp-post" is
// the same tools/call as one fixed POST (no client library), to tell the
// server's cost from the client's. The sdk-floor ones come first (see
// sdkFloor).
func BenchmarkDoors(b *testing.B) {
	sdkFloor(b)
	h := newHost(b)
	hc := benchClient()
	defer hc.CloseIdleConnections()
	b.Run("http", func(b *testing.B) {
		body := []byte(`{"input":{}}`)
		parallel(b, func() error {
			return postOnce(hc, h.URL+"/v1/actions/testkit.noop/run", body, nil, `"status":"success"`)
		})
	})
	for _, v := range []string{"2025-11-25", "2026-07-28"} {
		b.Run("mcp-"+v, func(b *testing.B) {
			c := gomcp.NewClient(&gomcp.Implementation{Name: "bench", Version: "1"}, nil)
			s, err := c.Connect(context.Background(), &gomcp.StreamableClientTransport{Endpoint: h.URL + "/mcp",
				HTTPClient: &http.Client{Transport: bearer.Transport{Key: testKey, Next: hc.Transport}}, DisableStandaloneSSE: true},
				&gomcp.ClientSessionOptions{ProtocolVersion: v})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			parallel(b, func() error {
				res, err := s.CallTool(context.Background(), &gomcp.CallToolParams{Name: "testkit__noop", Arguments: map[string]any{}})
				if err == nil && res.IsError {
					err = fmt.Errorf("isError: %v", res.Content)
				}
				return err
			})
		})
		b.Run("mcp-post-"+v, func(b *testing.B) {
			body := []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"testkit__noop","arguments":{}}}`)
			hdr := http.Header{"Accept": {"application/json, text/event-stream"}, "Mcp-Protocol-Version": {v},
				"Mcp-Method": {"tools/call"}, "Mcp-Name": {"testkit__noop"}}
			if v >= "2026-07-28" {
				body = []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"testkit__noop","arguments":{},` +
					`"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"bench","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}}}`)
			}
			parallel(b, func() error { return postOnce(hc, h.URL+"/mcp", body, hdr, `"structuredContent"`) })
		})
	}
}

// sdkFloor is the go-sdk alone, served as the door serves it (stateless
// Streamable HTTP) with one tool that answers {} at once: what any tools/call
// costs before toolhost does anything, with the answer as an SSE stream
// (the door's choice) and as plain JSON (StreamableHTTPOptions.JSONResponse).
func sdkFloor(b *testing.B) {
	for _, jsonResponse := range []bool{false, true} {
		srv := gomcp.NewServer(&gomcp.Implementation{Name: "floor", Version: "1"}, nil)
		srv.AddTool(&gomcp.Tool{Name: "noop", InputSchema: json.RawMessage(`{"type":"object"}`)},
			func(context.Context, *gomcp.CallToolRequest) (*gomcp.CallToolResult, error) {
				return &gomcp.CallToolResult{StructuredContent: json.RawMessage(`{}`), Content: []gomcp.Content{&gomcp.TextContent{Text: "{}"}}}, nil
			})
		h := gomcp.NewStreamableHTTPHandler(func(*http.Request) *gomcp.Server { return srv },
			&gomcp.StreamableHTTPOptions{Stateless: true, JSONResponse: jsonResponse, PropagateRequestCancellation: true})
		ts := httptest.NewServer(h)
		hc := benchClient()
		body := []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"noop","arguments":{}}}`)
		hdr := http.Header{"Accept": {"application/json, text/event-stream"}, "Mcp-Protocol-Version": {"2025-11-25"}}
		name := map[bool]string{false: "sdk-floor-sse", true: "sdk-floor-json"}[jsonResponse]
		b.Run(name, func(b *testing.B) {
			parallel(b, func() error { return postOnce(hc, ts.URL, body, hdr, `"structuredContent"`) })
		})
		hc.CloseIdleConnections()
		ts.Close()
	}
}

// benchClient keeps a connection per client and gives up on a call after
// a minute.
func benchClient() *http.Client {
	return &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
}

// parallel calls f b.N times from benchClients goroutines (rounded to a
// multiple of GOMAXPROCS).
func parallel(b *testing.B, f func() error) {
	b.SetParallelism(max(1, benchClients/runtime.GOMAXPROCS(0)))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := f(); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func postOnce(hc *http.Client, url string, body []byte, hdr http.Header, want string) error {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+testKey)
	res, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	got, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK || !strings.Contains(string(got), want) {
		return fmt.Errorf("HTTP %d: %.300s", res.StatusCode, got)
	}
	return nil
}
