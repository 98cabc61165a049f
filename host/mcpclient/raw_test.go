package mcpclient

import (
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func TestRawResultsTakenOnceExpireAndStayBounded(t *testing.T) {
	now := time.Unix(1000, 0)
	r := &rawResults{}
	r.put("a", &mcp.CallToolResult{}, 10)
	r.now = func() time.Time { return now }
	if r.take("a") == nil || r.take("a") != nil {
		t.Fatal("a result is taken exactly once")
	}
	r.put("b", &mcp.CallToolResult{}, 10)
	now = now.Add(rawTTL + time.Second)
	if r.take("b") != nil || r.bytes != 0 {
		t.Fatalf("an expired result was kept (%d bytes)", r.bytes)
	}
	// Over the byte cap, the oldest go first; one result over the cap is
	// not kept at all.
	r.put("c", &mcp.CallToolResult{}, rawMaxBytes/2+1)
	r.put("d", &mcp.CallToolResult{}, rawMaxBytes/2+1)
	if r.take("c") != nil || r.take("d") == nil {
		t.Fatal("the oldest result should have made room")
	}
	r.put("e", &mcp.CallToolResult{}, rawMaxBytes+1)
	if r.take("e") != nil || r.bytes != 0 || r.order.Len() != 0 {
		t.Fatalf("kept %d bytes, %d results", r.bytes, r.order.Len())
	}
	r.put("", &mcp.CallToolResult{}, 1)
	if r.order.Len() != 0 {
		t.Fatal("a result without a run was kept")
	}
}

func TestResultsKeptOnlyWhenExpected(t *testing.T) {
	s := newServer(spec("test"), &Options{Logger: hclog.NewNullLogger(), Getenv: func(string) string { return "" }})
	s.keepRaw("r0", &mcp.CallToolResult{})
	done := s.ExpectResults()
	s.keepRaw("r1", &mcp.CallToolResult{})
	done()
	done() // once only
	s.keepRaw("r2", &mcp.CallToolResult{})
	if s.TakeResult("r0") != nil || s.TakeResult("r1") == nil || s.TakeResult("r2") != nil || s.rawWanted.Load() != 0 {
		t.Fatal("results are kept only while a caller expects them")
	}
}

func TestTakeResultScrubsSecrets(t *testing.T) {
	sp := spec("test", "SECRET_TOKEN=sk-raw-result-secret-1")
	sp.Secrets = []string{"SECRET_TOKEN"}
	s := newServer(sp, &Options{Logger: hclog.NewNullLogger(), Getenv: func(string) string { return "" }})
	done := s.ExpectResults()
	defer done()
	s.keepRaw("r1", &mcp.CallToolResult{IsError: true, StructuredContent: map[string]any{"k": "x sk-raw-result-secret-1"},
		Content: []mcp.Content{&mcp.TextContent{Text: "token sk-raw-result-secret-1"},
			&mcp.EmbeddedResource{Resource: &mcp.ResourceContents{URI: "file:///a", Text: "sk-raw-result-secret-1"}}}})
	res := s.TakeResult("r1")
	if res == nil {
		t.Fatal("no result")
	}
	text := res.Content[0].(*mcp.TextContent).Text
	emb := res.Content[1].(*mcp.EmbeddedResource).Resource.Text
	sc := res.StructuredContent.(map[string]any)["k"]
	if text != "token [redacted]" || emb != "[redacted]" || sc != "x [redacted]" || !res.IsError {
		t.Fatalf("scrubbed: %q %q %q", text, emb, sc)
	}
}
